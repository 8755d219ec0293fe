//! Reading letters: one letter, its steps, revisions and statements, the inbox, the
//! comparison of two revisions, and the check of a letter's statement chain.

use serde::Serialize;
use serde_json::Value;
use sqlx::Any;

use super::{Error, Letter, Revision, Step, StepKind, state, statement, step_state};
use crate::{accounts::User, db::Db, keys};

const LETTER_COLUMNS: &str = "id, department_id, template_id, document_kind, subject, state, round, stage, revision, version, chain, \
     created_by, created_at, updated_at, classification_code, number, letter_date, verification_id, final_sha256, signed_at, \
     revoked_at, revoked_reason, superseded_by, corrects, qr_token, batch_id, recipient_id";
pub(super) const STEP_COLUMNS: &str = "id, letter_id, round, stage, kind, label, assignee_user_id, assignee_role, position_id, position_title, atas_nama, \
     standard_minutes, state, started_at, completed_at, acted_by_user, acted_by_official, acting_as, decision, note";
const REVISION_COLUMNS: &str = "id, letter_id, number, data, data_sha256, pdf, pdf_sha256, author_id, note, created_at";

/// A letter of the department; another department's letter is "not found".
pub async fn get(db: &Db, department_id: i64, letter_id: i64) -> Result<Letter, Error> {
    sqlx::query_as::<Any, Letter>(sqlx::AssertSqlSafe(format!(
        "SELECT {LETTER_COLUMNS} FROM letters WHERE id = $1 AND department_id = $2"
    )))
    .bind(letter_id)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// The department's letters with these ids, by id (ids are integers: they stand in the
/// text).
pub async fn letters_by_id(
    db: &Db,
    department_id: i64,
    ids: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, Letter>, Error> {
    let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let letters = sqlx::query_as::<Any, Letter>(sqlx::AssertSqlSafe(format!(
        "SELECT {LETTER_COLUMNS} FROM letters WHERE department_id = $1 AND id IN ({})",
        ids.join(", ")
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(letters.into_iter().map(|l| (l.id, l)).collect())
}

/// A letter by the verification id of its QR code (any department).
pub async fn get_by_verification_id(db: &Db, verification_id: &str) -> Result<Option<Letter>, Error> {
    Ok(sqlx::query_as::<Any, Letter>(sqlx::AssertSqlSafe(format!(
        "SELECT {LETTER_COLUMNS} FROM letters WHERE verification_id = $1"
    )))
    .bind(verification_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// See [`signed_stamp`].
pub type SignedStamp = (i64, Option<i64>, Option<i64>, Option<String>);

/// What a public record depends on of a signed letter, by its verification id: version,
/// revocation, successor and the official file's hash (long-term validation data change
/// it); `None` when no signed, numbered letter has the id. One look-up on the unique
/// verification index, the same whatever the id.
pub async fn signed_stamp(db: &Db, verification_id: &str) -> Result<Option<SignedStamp>, Error> {
    Ok(sqlx::query_as::<Any, SignedStamp>(
        "SELECT version, revoked_at, superseded_by, final_sha256 FROM letters \
         WHERE verification_id = $1 AND state = $2 AND number IS NOT NULL",
    )
    .bind(verification_id)
    .bind(super::state::DITANDATANGANI)
    .fetch_optional(&db.pool)
    .await?)
}

/// One page of the department's letters, the last changed first (`limit` from
/// `offset`), and how many there are in all.
pub async fn page(db: &Db, department_id: i64, limit: i64, offset: i64) -> Result<(Vec<Letter>, i64), Error> {
    let letters = sqlx::query_as::<Any, Letter>(sqlx::AssertSqlSafe(format!(
        "SELECT {LETTER_COLUMNS} FROM letters WHERE department_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3"
    )))
    .bind(department_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM letters WHERE department_id = $1")
        .bind(department_id)
        .fetch_one(&db.pool)
        .await?;
    Ok((letters, total))
}

/// The letters of one batch, in the order they were made (by region code).
pub async fn batch_letters(db: &Db, department_id: i64, batch_id: i64) -> Result<Vec<Letter>, Error> {
    Ok(sqlx::query_as::<Any, Letter>(sqlx::AssertSqlSafe(format!(
        "SELECT {LETTER_COLUMNS} FROM letters WHERE department_id = $1 AND batch_id = $2 ORDER BY id"
    )))
    .bind(department_id)
    .bind(batch_id)
    .fetch_all(&db.pool)
    .await?)
}

/// How many rows each letter of a batch carries in its table `rows_field` (current revision).
pub async fn batch_row_counts(db: &Db, batch_id: i64, rows_field: &str) -> Result<std::collections::HashMap<i64, usize>, Error> {
    let data: Vec<(i64, String)> = sqlx::query_as::<Any, (i64, String)>(
        "SELECT l.id, r.data FROM letters l JOIN letter_revisions r ON r.letter_id = l.id AND r.number = l.revision WHERE l.batch_id = $1",
    )
    .bind(batch_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(data
        .into_iter()
        .map(|(id, data)| {
            let rows = serde_json::from_str::<Value>(&data)
                .ok()
                .and_then(|v| v.get(rows_field).and_then(Value::as_array).map(Vec::len))
                .unwrap_or_default();
            (id, rows)
        })
        .collect())
}

/// Every step of every round, in order.
pub async fn steps(db: &Db, letter_id: i64) -> Result<Vec<Step>, Error> {
    Ok(sqlx::query_as::<Any, Step>(sqlx::AssertSqlSafe(format!(
        "SELECT {STEP_COLUMNS} FROM letter_steps WHERE letter_id = $1 ORDER BY round, stage, id"
    )))
    .bind(letter_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The step rows of the letter's current stage.
pub async fn current_steps(db: &Db, letter: &Letter) -> Result<Vec<Step>, Error> {
    Ok(sqlx::query_as::<Any, Step>(sqlx::AssertSqlSafe(format!(
        "SELECT {STEP_COLUMNS} FROM letter_steps WHERE letter_id = $1 AND round = $2 AND stage = $3 ORDER BY id"
    )))
    .bind(letter.id)
    .bind(letter.round)
    .bind(letter.stage)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn revision(db: &Db, letter_id: i64, number: i64) -> Result<Revision, Error> {
    sqlx::query_as::<Any, Revision>(sqlx::AssertSqlSafe(format!(
        "SELECT {REVISION_COLUMNS} FROM letter_revisions WHERE letter_id = $1 AND number = $2"
    )))
    .bind(letter_id)
    .bind(number)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// The fields of one revision, without reading its PDF.
pub async fn revision_data(db: &Db, letter_id: i64, number: i64) -> Result<Value, Error> {
    let data: String = sqlx::query_scalar("SELECT data FROM letter_revisions WHERE letter_id = $1 AND number = $2")
        .bind(letter_id)
        .bind(number)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)?;
    serde_json::from_str(&data).map_err(|e| Error::Internal(format!("isian revisi {number} surat {letter_id} rusak: {e}")))
}

/// A revision without its PDF, for lists.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RevisionSummary {
    pub number: i64,
    pub data_sha256: String,
    pub pdf_sha256: String,
    pub author_id: i64,
    pub author: String,
    pub note: String,
    pub created_at: i64,
}

pub async fn revisions(db: &Db, letter_id: i64) -> Result<Vec<RevisionSummary>, Error> {
    Ok(sqlx::query_as::<Any, RevisionSummary>(
        "SELECT r.number, r.data_sha256, r.pdf_sha256, r.author_id, u.display_name AS author, r.note, r.created_at \
         FROM letter_revisions r JOIN users u ON u.id = r.author_id WHERE r.letter_id = $1 ORDER BY r.number",
    )
    .bind(letter_id)
    .fetch_all(&db.pool)
    .await?)
}

/// One field that differs between two revisions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The top-level fields that differ between revisions `a` and `b`, in field order of
/// the template (then any others alphabetically).
pub async fn compare(db: &Db, letter_id: i64, a: i64, b: i64, field_order: &[String]) -> Result<Vec<FieldChange>, Error> {
    let before = revision(db, letter_id, a).await?.fields();
    let after = revision(db, letter_id, b).await?.fields();
    Ok(diff_fields(&before, &after, field_order))
}

pub fn diff_fields(before: &Value, after: &Value, field_order: &[String]) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let (old, new) = (before.as_object().unwrap_or(&empty), after.as_object().unwrap_or(&empty));
    let mut names: Vec<&String> = field_order.iter().collect();
    let mut others: Vec<&String> = old.keys().chain(new.keys()).filter(|k| !field_order.contains(k)).collect();
    others.sort();
    others.dedup();
    names.extend(others);
    names
        .into_iter()
        .filter(|name| old.get(*name) != new.get(*name))
        .map(|name| FieldChange {
            field: name.clone(),
            before: old.get(name).cloned(),
            after: new.get(name).cloned(),
        })
        .collect()
}

/// A signed statement as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredStatement {
    pub id: i64,
    pub letter_id: i64,
    pub seq: i64,
    pub step_id: i64,
    pub revision: i64,
    pub decision: String,
    pub official_id: i64,
    pub key_id: String,
    pub statement: String,
    pub hash: String,
    pub prev_hash: String,
    pub signature: String,
    pub at: i64,
}

pub async fn statements(db: &Db, letter_id: i64) -> Result<Vec<StoredStatement>, Error> {
    Ok(sqlx::query_as::<Any, StoredStatement>(
        "SELECT id, letter_id, seq, step_id, revision, decision, official_id, key_id, statement, hash, prev_hash, signature, at \
         FROM letter_statements WHERE letter_id = $1 ORDER BY seq",
    )
    .bind(letter_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The outcome of checking one statement.
#[derive(Debug, Clone, Serialize)]
pub struct StatementCheck {
    pub seq: i64,
    pub decision: String,
    pub official: String,
    pub key_id: String,
    pub at: i64,
    /// Empty when the statement holds; otherwise every reason it does not.
    pub problems: Vec<String>,
}

/// Recomputes every statement of a letter: canonical form, hash, link to the one before,
/// signature under the key valid at its time, agreement with its row, its step and the
/// revision it names (data and draft PDF hashes).
pub async fn verify_chain(db: &Db, letter_id: i64) -> Result<Vec<StatementCheck>, Error> {
    let letter_department: Option<(i64,)> = sqlx::query_as::<Any, (i64,)>("SELECT department_id FROM letters WHERE id = $1")
        .bind(letter_id)
        .fetch_optional(&db.pool)
        .await?;
    let Some((department_id,)) = letter_department else {
        return Err(Error::NotFound);
    };
    let steps = steps(db, letter_id).await?;
    let mut checks = Vec::new();
    let mut prev = statement::GENESIS.to_string();
    let mut expected_seq = 1;
    let rows = statements(db, letter_id).await?;
    let signed_steps: Vec<i64> = rows.iter().map(|r| r.step_id).collect();
    for row in rows {
        let mut problems = Vec::new();
        if row.seq != expected_seq {
            problems.push(format!("urutan {} hilang atau tertukar (tercatat {})", expected_seq, row.seq));
        }
        expected_seq = row.seq + 1;
        if statement::sha256_hex(row.statement.as_bytes()) != row.hash {
            problems.push("hash pernyataan tidak cocok dengan isinya".into());
        }
        if row.prev_hash != prev {
            problems.push("tidak tersambung dengan pernyataan sebelumnya".into());
        }
        let mut official = format!("pejabat {}", row.official_id);
        match statement::Statement::parse(&row.statement) {
            Err(e) => problems.push(e),
            Ok(s) => {
                official = s.nama_pejabat.clone();
                if s.sebelumnya != row.prev_hash {
                    problems.push("rujukan pernyataan sebelumnya diubah".into());
                }
                if s.surat != letter_id || s.dinas != department_id {
                    problems.push("pernyataan menyebut surat atau dinas lain".into());
                }
                if s.revisi != row.revision
                    || s.keputusan != row.decision
                    || s.pejabat != row.official_id
                    || s.kunci != row.key_id
                    || s.waktu != row.at
                    || s.langkah != row.step_id
                {
                    problems.push("kolom catatan tidak sesuai dengan pernyataan yang ditandatangani".into());
                }
                match steps.iter().find(|st| st.id == s.langkah) {
                    Some(step)
                        if step.round == s.putaran
                            && step.stage == s.tahap
                            && step.kind == s.jenis_tahap
                            && step.decision.as_deref() == Some(s.keputusan.as_str())
                            && step.acted_by_official == Some(s.pejabat) => {}
                    _ => problems.push("tahap yang disebut tidak sesuai dengan catatan tahap surat".into()),
                }
                match revision(db, letter_id, s.revisi).await {
                    Ok(rev) => {
                        if rev.data_sha256 != s.sha256_data || statement::sha256_hex(rev.data.as_bytes()) != s.sha256_data {
                            problems.push(format!("data revisi {} tidak sama dengan yang diparaf", s.revisi));
                        }
                        if rev.pdf_sha256 != s.sha256_pdf || statement::sha256_hex(&rev.pdf) != s.sha256_pdf {
                            problems.push(format!("PDF konsep revisi {} tidak sama dengan yang diparaf", s.revisi));
                        }
                    }
                    Err(Error::NotFound) => problems.push(format!("revisi {} tidak ada", s.revisi)),
                    Err(e) => return Err(e),
                }
                match keys::get(db, &row.key_id).await {
                    Ok(key) => {
                        if key.official_id != s.pejabat {
                            problems.push("kunci bukan milik pejabat yang disebut".into());
                        }
                        if !key.valid_at(s.waktu) {
                            problems.push("kunci tidak berlaku pada waktu pernyataan".into());
                        }
                        match key.verifying_key() {
                            Ok(public) if statement::verify(&public, &row.statement, &row.signature) => {}
                            Ok(_) => problems.push("tanda tangan Ed25519 tidak sah".into()),
                            Err(e) => problems.push(e.to_string()),
                        }
                    }
                    Err(keys::Error::UnknownKey(_)) => problems.push(format!("kunci {} tidak dikenal", row.key_id)),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        prev = row.hash.clone();
        checks.push(StatementCheck {
            seq: row.seq,
            decision: row.decision,
            official,
            key_id: row.key_id,
            at: row.at,
            problems,
        });
    }
    // Every decided approval step must have its statement: deleting a statement row
    // (and relinking the rest) must not make a paraf vanish unnoticed.
    for step in steps.iter().filter(|s| s.step_kind().is_signed() && s.state == step_state::SELESAI) {
        if !signed_steps.contains(&step.id) {
            checks.push(StatementCheck {
                seq: 0,
                decision: step.decision.clone().unwrap_or_default(),
                official: format!("pejabat {}", step.acted_by_official.unwrap_or_default()),
                key_id: String::new(),
                at: step.completed_at.unwrap_or_default(),
                problems: vec![format!(
                    "tahap \"{}\" tercatat selesai tanpa pernyataan bertanda tangan",
                    step.label
                )],
            });
        }
    }
    Ok(checks)
}

/// A step waiting on someone, for the inbox.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub letter: Letter,
    pub step: Step,
    /// "" for the holder, "Plh."/"Plt." when the user acts for the position.
    pub acting_as: String,
    /// Minutes over the standard time now, if over.
    pub overdue_minutes: Option<i64>,
}

/// What waits on the user, oldest first: drafting and typing stages they hold, and
/// approval stages of positions they hold or act for.
pub async fn inbox(flow: &super::Workflow, user: &User, today: chrono::NaiveDate) -> Result<Vec<Task>, Error> {
    let rows = sqlx::query_as::<Any, Step>(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM letter_steps s JOIN letters l ON l.id = s.letter_id \
         WHERE l.department_id = $1 AND s.state = $2 AND s.round = l.round AND s.stage = l.stage AND l.state IN ($3, $4) \
         ORDER BY s.started_at, s.id",
        STEP_COLUMNS
            .split(", ")
            .map(|c| format!("s.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(user.department_id)
    .bind(step_state::AKTIF)
    .bind(state::KONSEP)
    .bind(state::PROSES)
    .fetch_all(&flow.db.pool)
    .await?;
    // The open letters in one read rather than one per step: a Kepala Dinas with
    // thousands of letters to sign opens this page as quickly as with ten.
    let letters = sqlx::query_as::<Any, Letter>(sqlx::AssertSqlSafe(format!(
        "SELECT {LETTER_COLUMNS} FROM letters WHERE department_id = $1 AND state IN ($2, $3)"
    )))
    .bind(user.department_id)
    .bind(state::KONSEP)
    .bind(state::PROSES)
    .fetch_all(&flow.db.pool)
    .await?;
    let letters: std::collections::HashMap<i64, Letter> = letters.into_iter().map(|l| (l.id, l)).collect();
    // Whether the user holds an approval step depends only on its position and on
    // whether it is the signature: asked once per such pair.
    let mut held: std::collections::HashMap<(Option<i64>, bool), Option<String>> = std::collections::HashMap::new();
    let at = crate::db::now();
    let mut tasks = Vec::new();
    for step in rows {
        let kind = step.step_kind();
        let acting_as = match kind {
            StepKind::Konsep | StepKind::Ketik if super::may_hold_drafting_step(user, &step) => Some(String::new()),
            StepKind::Konsep | StepKind::Ketik => None,
            _ => {
                let key = (step.position_id, kind == StepKind::TandaTangan);
                match held.get(&key) {
                    Some(known) => known.clone(),
                    None => {
                        let found = flow.capacity(user, &step, today).await?.map(|c| c.acting_as);
                        held.insert(key, found.clone());
                        found
                    }
                }
            }
        };
        if let Some(acting_as) = acting_as
            && let Some(letter) = letters.get(&step.letter_id)
        {
            tasks.push(Task {
                overdue_minutes: step.overdue_minutes(at),
                letter: letter.clone(),
                step,
                acting_as,
            });
        }
    }
    Ok(tasks)
}

/// Why a letter came back to its drafter: the note of the return that started its
/// current round, with who returned it and when.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReturnNote {
    pub letter_id: i64,
    pub note: String,
    /// The position that returned it ("Kepala Bidang ...").
    pub position_title: String,
    /// The person who returned it.
    pub returned_by: String,
    pub returned_at: i64,
}

/// The return notes of the department's open letters that are in a round started by a
/// return (a letter returned twice shows the latest note).
pub async fn return_notes(db: &Db, department_id: i64) -> Result<Vec<ReturnNote>, Error> {
    Ok(sqlx::query_as::<Any, ReturnNote>(
        "SELECT s.letter_id, s.note, s.position_title, COALESCE(u.display_name, '') AS returned_by, \
         COALESCE(s.completed_at, 0) AS returned_at \
         FROM letter_steps s JOIN letters l ON l.id = s.letter_id LEFT JOIN users u ON u.id = s.acted_by_user \
         WHERE l.department_id = $1 AND l.state IN ($2, $3) AND s.decision = $4 AND s.round = l.round - 1 \
         ORDER BY s.letter_id, s.id",
    )
    .bind(department_id)
    .bind(state::KONSEP)
    .bind(state::PROSES)
    .bind(super::Decision::Kembalikan.key())
    .fetch_all(&db.pool)
    .await?)
}

/// The signature block of a signed letter, from its signature step: the signer's name
/// and rank, the position signed for with "Plh."/"Plt." when a delegate signed, and the
/// "a.n." line when the chain signs on behalf of another position. `None` before the
/// signature.
pub async fn signer_block(db: &Db, letter: &Letter) -> Result<Option<crate::letters::Signer>, Error> {
    let steps = steps(db, letter.id).await?;
    if signature_step(&steps, letter).is_none() {
        return Ok(None);
    }
    let department = crate::departments::get(db, letter.department_id).await?;
    signer_of(db, &department, letter, &steps).await
}

/// The step at which the letter was signed in its current round, if it was.
pub fn signature_step<'a>(steps: &'a [Step], letter: &Letter) -> Option<&'a Step> {
    steps
        .iter()
        .rev()
        .find(|s| s.round == letter.round && s.decision.as_deref() == Some(super::Decision::TandaTangan.key()))
}

/// The signature block from a letter's steps, already read.
pub async fn signer_of(
    db: &Db,
    department: &crate::departments::Department,
    letter: &Letter,
    steps: &[Step],
) -> Result<Option<crate::letters::Signer>, Error> {
    let Some((step, official_id)) = signature_step(steps, letter).and_then(|s| s.acted_by_official.map(|o| (s, o))) else {
        return Ok(None);
    };
    let official = crate::departments::get_official(db, letter.department_id, official_id).await?;
    Ok(Some(signer_for(
        department,
        &step.position_title,
        &step.atas_nama,
        &step.acting_as,
        &official,
    )))
}

/// The signature block for an official signing at a position: the regency is added to
/// the position titles, "Plh."/"Plt." and "a.n." where they apply, the NIP spaced.
pub fn signer_for(
    department: &crate::departments::Department,
    position_title: &str,
    atas_nama: &str,
    acting_as: &str,
    official: &crate::departments::Official,
) -> crate::letters::Signer {
    let with_regency = |title: &str| {
        if title.is_empty() || title.contains(&department.regency_name) {
            title.to_string()
        } else {
            format!("{title} {}", department.regency_name)
        }
    };
    crate::letters::Signer {
        jabatan: with_regency(position_title),
        atas_nama: (!atas_nama.is_empty()).then(|| with_regency(atas_nama)),
        sebutan: (!acting_as.is_empty()).then(|| acting_as.to_string()),
        nama: official.full_name(),
        nama_tanpa_gelar: official.name.clone(),
        pangkat: official.rank_line(),
        nip: crate::departments::Nip::parse(&official.nip)
            .map(|n| n.spaced())
            .unwrap_or_else(|_| official.nip.clone()),
    }
}

/// The stored final PDF of a signed letter.
pub async fn final_pdf(db: &Db, letter_id: i64) -> Result<Option<Vec<u8>>, Error> {
    Ok(
        sqlx::query_scalar::<Any, Vec<u8>>("SELECT pdf FROM letter_files WHERE letter_id = $1")
            .bind(letter_id)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// Stores (or replaces) a letter's final PDF inside the caller's transaction; its hash
/// goes to `letters.final_sha256` with it.
pub(crate) async fn store_final_pdf(conn: &mut sqlx::AnyConnection, letter_id: i64, pdf: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO letter_files (letter_id, pdf) VALUES ($1, $2) ON CONFLICT (letter_id) DO UPDATE SET pdf = excluded.pdf")
        .bind(letter_id)
        .bind(pdf)
        .execute(conn)
        .await?;
    Ok(())
}
