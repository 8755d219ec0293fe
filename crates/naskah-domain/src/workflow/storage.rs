//! The rows a change of a letter writes: its version claim, state, revisions, steps
//! and rounds.

use super::*;

/// Takes the letter for this change: bumps its version if it is still `expected`.
pub(super) async fn claim(conn: &mut AnyConnection, letter: &Letter, expected: i64, at: i64) -> Result<(), Error> {
    let done = sqlx::query("UPDATE letters SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3")
        .bind(at)
        .bind(letter.id)
        .bind(expected)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        return Err(Error::Conflict(
            "Surat ini baru saja diubah atau diputuskan oleh orang lain; muat ulang halaman untuk melihat keadaannya.".into(),
        ));
    }
    Ok(())
}

pub(super) async fn set_state(conn: &mut AnyConnection, letter_id: i64, state: &str) -> Result<(), Error> {
    sqlx::query("UPDATE letters SET state = $1 WHERE id = $2")
        .bind(state)
        .bind(letter_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A checked and rendered draft about to become a letter.
pub(super) struct NewLetter<'a> {
    pub(super) manifest: &'a Manifest,
    pub(super) fields: &'a Value,
    pub(super) pdf: &'a [u8],
    pub(super) note: &'a str,
    pub(super) classification_code: &'a str,
    pub(super) corrects: Option<i64>,
    pub(super) batch_id: Option<i64>,
    pub(super) recipient_id: Option<i64>,
}

/// Inserts the letter, its first revision, the first round of its chain and the audit
/// record, inside the caller's transaction.
pub(super) async fn insert_new_letter(
    conn: &mut AnyConnection,
    department_id: i64,
    chain: &ChainSpec,
    user: &User,
    drafter_id: i64,
    draft: &NewLetter<'_>,
    at: i64,
) -> Result<i64, Error> {
    let chain_json = serde_json::to_string(chain).map_err(|e| Error::Internal(e.to_string()))?;
    let subject = subject_of(draft.manifest, draft.fields);
    let (letter_id,): (i64,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO letters (department_id, template_id, document_kind, subject, state, round, stage, revision, version, chain, created_by, created_at, updated_at, classification_code, corrects, batch_id, recipient_id) \
         VALUES ($1, $2, $3, $4, $5, 1, 0, 1, 1, $6, $7, $8, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(department_id)
    .bind(&draft.manifest.id)
    .bind(draft.manifest.kind.key())
    .bind(&subject)
    .bind(state::KONSEP)
    .bind(&chain_json)
    .bind(drafter_id)
    .bind(at)
    .bind(draft.classification_code)
    .bind(draft.corrects)
    .bind(draft.batch_id)
    .bind(draft.recipient_id)
    .fetch_one(&mut *conn)
    .await?;
    insert_revision(conn, letter_id, 1, draft.fields, draft.pdf, user.id, draft.note, at).await?;
    start_round(conn, department_id, letter_id, 1, chain, drafter_id, at).await?;
    audit::record(
        conn,
        audit_event(
            department_id,
            &user.actor(),
            if draft.corrects.is_some() {
                "letter.correction_started"
            } else {
                "letter.created"
            },
            letter_id,
            serde_json::json!({
                "template": draft.manifest.id,
                "subject": subject,
                "corrects": draft.corrects,
                "batch": draft.batch_id,
                "recipient": draft.recipient_id,
            }),
        ),
    )
    .await?;
    Ok(letter_id)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_revision(
    conn: &mut AnyConnection,
    letter_id: i64,
    number: i64,
    fields: &Value,
    pdf: &[u8],
    author_id: i64,
    note: &str,
    at: i64,
) -> Result<(), Error> {
    let data = canonical_data(fields);
    sqlx::query(
        "INSERT INTO letter_revisions (letter_id, number, data, data_sha256, pdf, pdf_sha256, author_id, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(letter_id)
    .bind(number)
    .bind(&data)
    .bind(sha256_hex(data.as_bytes()))
    .bind(pdf)
    .bind(sha256_hex(pdf))
    .bind(author_id)
    .bind(note.trim())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn complete_step(
    conn: &mut AnyConnection,
    step_id: i64,
    user_id: i64,
    official_id: Option<i64>,
    acting_as: &str,
    decision: &str,
    note: &str,
    at: i64,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE letter_steps SET state = $1, completed_at = $2, acted_by_user = $3, acted_by_official = $4, acting_as = $5, decision = $6, note = $7 WHERE id = $8",
    )
    .bind(step_state::SELESAI)
    .bind(at)
    .bind(user_id)
    .bind(official_id)
    .bind(acting_as)
    .bind(decision)
    .bind(note)
    .bind(step_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends what is left of the current round without a decision.
pub(super) async fn close_round(conn: &mut AnyConnection, letter: &Letter, at: i64) -> Result<(), Error> {
    sqlx::query("UPDATE letter_steps SET state = $1, completed_at = $2 WHERE letter_id = $3 AND round = $4 AND state IN ($5, $6)")
        .bind(step_state::BATAL)
        .bind(at)
        .bind(letter.id)
        .bind(letter.round)
        .bind(step_state::MENUNGGU)
        .bind(step_state::AKTIF)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// After a step is done: if its stage is complete, activates the next stage that has
/// anyone to act. Returns the label of what the letter now waits for.
pub(super) async fn advance(conn: &mut AnyConnection, letter: &Letter, at: i64) -> Result<String, Error> {
    let open: (i64,) = sqlx::query_as::<Any, (i64,)>(
        "SELECT COUNT(*) FROM letter_steps WHERE letter_id = $1 AND round = $2 AND stage = $3 AND state = $4",
    )
    .bind(letter.id)
    .bind(letter.round)
    .bind(letter.stage)
    .bind(step_state::AKTIF)
    .fetch_one(&mut *conn)
    .await?;
    if open.0 > 0 {
        return Ok("menunggu paraf lain pada tahap yang sama".into());
    }
    let (next,): (Option<i64>,) = sqlx::query_as::<Any, (Option<i64>,)>(
        "SELECT MIN(stage) FROM letter_steps WHERE letter_id = $1 AND round = $2 AND stage > $3 AND state = $4",
    )
    .bind(letter.id)
    .bind(letter.round)
    .bind(letter.stage)
    .bind(step_state::MENUNGGU)
    .fetch_one(&mut *conn)
    .await?;
    let Some(next) = next else {
        return Err(Error::Internal(format!("surat {}: tidak ada tahap berikutnya", letter.id)));
    };
    sqlx::query("UPDATE letter_steps SET state = $1, started_at = $2 WHERE letter_id = $3 AND round = $4 AND stage = $5")
        .bind(step_state::AKTIF)
        .bind(at)
        .bind(letter.id)
        .bind(letter.round)
        .bind(next)
        .execute(&mut *conn)
        .await?;
    let (kind, label): (String, String) = sqlx::query_as::<Any, (String, String)>(
        "SELECT kind, label FROM letter_steps WHERE letter_id = $1 AND round = $2 AND stage = $3 ORDER BY id LIMIT 1",
    )
    .bind(letter.id)
    .bind(letter.round)
    .bind(next)
    .fetch_one(&mut *conn)
    .await?;
    let new_state = if StepKind::parse(&kind).is_some_and(StepKind::is_signed) {
        state::PROSES
    } else {
        state::KONSEP
    };
    sqlx::query("UPDATE letters SET stage = $1, state = $2 WHERE id = $3")
        .bind(next)
        .bind(new_state)
        .bind(letter.id)
        .execute(&mut *conn)
        .await?;
    Ok(label)
}

/// A resolved actor of a stage.
pub(super) struct Assignee {
    pub(super) user_id: Option<i64>,
    pub(super) role: Option<&'static str>,
    pub(super) position_id: Option<i64>,
    pub(super) position_title: String,
}

/// Creates the step rows of a round: the drafting stage is the drafter's and active; the
/// others wait. Positions are looked up now, so a change of holder between rounds is
/// followed; an optional stage nobody holds is skipped.
pub(super) async fn start_round(
    conn: &mut AnyConnection,
    department_id: i64,
    letter_id: i64,
    round: i64,
    chain: &ChainSpec,
    drafter_id: i64,
    at: i64,
) -> Result<(), Error> {
    let positions =
        sqlx::query_as::<Any, (i64, String, String)>("SELECT id, title, kind FROM positions WHERE department_id = $1 ORDER BY id")
            .bind(department_id)
            .fetch_all(&mut *conn)
            .await?;
    let held: Vec<(i64,)> =
        sqlx::query_as::<Any, (i64,)>("SELECT DISTINCT position_id FROM officials WHERE department_id = $1 AND position_id IS NOT NULL")
            .bind(department_id)
            .fetch_all(&mut *conn)
            .await?;
    let is_held = |id: i64| held.iter().any(|(h,)| *h == id);
    let lookup = |reference: &str| -> Vec<&(i64, String, String)> {
        match reference.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
            Some(id) => positions.iter().filter(|p| p.0 == id).collect(),
            None => positions.iter().filter(|p| p.2 == reference).collect(),
        }
    };
    for (index, spec) in chain.stages.iter().enumerate() {
        let assignees: Vec<Assignee> = match spec.kind {
            StepKind::Konsep => vec![Assignee {
                user_id: Some(drafter_id),
                role: None,
                position_id: None,
                position_title: String::new(),
            }],
            StepKind::Ketik => vec![Assignee {
                user_id: None,
                role: Some(Role::Typist.key()),
                position_id: None,
                position_title: String::new(),
            }],
            _ => {
                let mut found = Vec::new();
                for reference in &spec.positions {
                    let matches = lookup(reference);
                    let label = crate::departments::kind_label(departments::POSITION_KINDS, reference);
                    let shown = if label.is_empty() { reference.as_str() } else { label };
                    match matches.as_slice() {
                        [] if spec.optional => {}
                        [] => {
                            return Err(Error::Unresolved(format!(
                                "Tahap \"{}\": jabatan {shown} belum ada di susunan organisasi.",
                                spec.label
                            )));
                        }
                        [one] => {
                            if !is_held(one.0) && !spec.optional {
                                // A vacant post can still be filled by a Plt.; the step waits.
                                tracing::info!(position = one.0, "jabatan kosong dalam rantai; menunggu Plt.");
                            }
                            if is_held(one.0) || !spec.optional {
                                found.push(Assignee {
                                    user_id: None,
                                    role: None,
                                    position_id: Some(one.0),
                                    position_title: one.1.clone(),
                                });
                            }
                        }
                        _ => {
                            return Err(Error::Unresolved(format!(
                                "Tahap \"{}\": ada {} jabatan {shown}; tentukan jabatannya di pengaturan rantai persetujuan.",
                                spec.label,
                                matches.len()
                            )));
                        }
                    }
                }
                found
            }
        };
        let atas_nama = match &spec.atas_nama {
            Some(reference) => lookup(reference).first().map(|p| p.1.clone()).unwrap_or_default(),
            None => String::new(),
        };
        let (state, started) = if index == 0 {
            (step_state::AKTIF, Some(at))
        } else {
            (step_state::MENUNGGU, None)
        };
        if assignees.is_empty() {
            sqlx::query(
                "INSERT INTO letter_steps (letter_id, round, stage, kind, label, standard_minutes, state) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(letter_id)
            .bind(round)
            .bind(index as i64)
            .bind(spec.kind.key())
            .bind(&spec.label)
            .bind(spec.standard_minutes)
            .bind(step_state::DILEWATI)
            .execute(&mut *conn)
            .await?;
            continue;
        }
        for a in assignees {
            sqlx::query(
                "INSERT INTO letter_steps (letter_id, round, stage, kind, label, assignee_user_id, assignee_role, position_id, position_title, atas_nama, standard_minutes, state, started_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(letter_id)
            .bind(round)
            .bind(index as i64)
            .bind(spec.kind.key())
            .bind(&spec.label)
            .bind(a.user_id)
            .bind(a.role)
            .bind(a.position_id)
            .bind(&a.position_title)
            .bind(&atas_nama)
            .bind(spec.standard_minutes)
            .bind(state)
            .bind(started)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
