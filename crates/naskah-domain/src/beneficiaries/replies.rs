//! A village's reply to its confirmation letter (SOP step 19): each candidate on the
//! letter's temporary list confirmed or rejected with a reason, and replacements the
//! village proposes, checked like imported rows. Applied in one transaction, each
//! change recorded with the incoming letter it came from. The answers come ticked row
//! by row on the page, or from the filled list (CSV/XLSX) the village sent back.

use std::collections::HashMap;

use super::{
    Error,
    candidates::{self, Candidate, Change, Status},
    import,
    reader::Table,
};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    departments::Department,
    incoming::{self, Incoming},
    validation::FieldErrors,
};

/// The village's answer for one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Confirmed,
    Rejected(String),
}

/// A person the village proposes instead of a rejected candidate.
#[derive(Debug, Clone, Default)]
pub struct Replacement {
    /// The rejected candidate's id.
    pub replaces: i64,
    pub nik: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub address: String,
    pub occupation: String,
}

/// What applying a reply changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub confirmed: usize,
    pub rejected: usize,
    pub replacements: usize,
}

/// The candidates on a letter's list.
pub async fn list_of_letter(db: &Db, department_id: i64, letter_id: i64) -> Result<Vec<Candidate>, Error> {
    let filter = candidates::Filter {
        letter_id: Some(letter_id),
        ..candidates::Filter::default()
    };
    candidates::select(db, department_id, &filter, i64::MAX, 0).await
}

/// The list a village filled in and returned (`bytes`, the CSV it was given), read
/// against the candidates of the confirmation letter and applied like answers typed in.
pub async fn apply_filled_list(db: &Db, actor: &Actor, department: &Department, reply: &Incoming, bytes: &[u8]) -> Result<Applied, Error> {
    let letter_id = reply.reply_to_letter_id.ok_or(Error::NotFound)?;
    let on_list = list_of_letter(db, department.id, letter_id).await?;
    let filled = read_filled_list(bytes, &on_list)?;
    apply(db, actor, department, reply, &filled.answers, &filled.replacements).await
}

/// Applies a reply: every answer must be for a candidate of the answered letter, every
/// rejection needs its reason, every replacement a rejected candidate and a sound row.
/// All or nothing.
pub async fn apply(
    db: &Db,
    actor: &Actor,
    department: &Department,
    reply: &Incoming,
    answers: &[(i64, Answer)],
    replacements: &[Replacement],
) -> Result<Applied, Error> {
    let letter_id = reply
        .reply_to_letter_id
        .ok_or_else(|| Error::Conflict("Surat masuk ini bukan balasan atas surat konfirmasi.".into()))?;
    let on_list: HashMap<i64, Candidate> = list_of_letter(db, department.id, letter_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let rules = import::rules(db, department).await?;
    let mut errors = FieldErrors::default();
    let mut rejected_now: Vec<i64> = Vec::new();
    for (id, answer) in answers {
        let Some(candidate) = on_list.get(id) else {
            errors.add("_", format!("Calon #{id} tidak ada dalam daftar surat yang dibalas."));
            continue;
        };
        match answer {
            Answer::Rejected(reason) if reason.trim().is_empty() => {
                errors.add(&format!("alasan_{id}"), format!("{}: isi alasan penolakan.", candidate.name));
            }
            Answer::Rejected(_) => rejected_now.push(*id),
            Answer::Confirmed => {}
        }
    }
    let mut new_people = Vec::new();
    for (i, r) in replacements.iter().enumerate() {
        let Some(replaced) = on_list.get(&r.replaces) else {
            errors.add(
                "_",
                format!("Pengganti {}: calon yang diganti tidak ada dalam daftar surat ini.", i + 1),
            );
            continue;
        };
        // A rejected candidate, or one BPJS found already insured, is replaced.
        if !rejected_now.contains(&r.replaces) && !matches!(replaced.status(), Status::Rejected | Status::Insured) {
            errors.add(
                "_",
                format!(
                    "Pengganti untuk {}: calon itu belum ditolak desa atau dinyatakan sudah peserta BPJS.",
                    replaced.name
                ),
            );
            continue;
        }
        let village = rules
            .villages
            .get(&replaced.region_code)
            .map(|v| v.code.clone())
            .unwrap_or_default();
        match import::check_one(
            &rules,
            &[
                ("nik", &r.nik),
                ("nama", &r.name),
                ("jenis_kelamin", &r.sex),
                ("tanggal_lahir", &r.birth_date),
                ("kode_wilayah", &village),
                ("alamat", &r.address),
                ("pekerjaan", &r.occupation),
            ],
        ) {
            Ok(checked) => {
                if new_people
                    .iter()
                    .any(|(_, _, p): &(i64, String, import::Checked)| p.nik == checked.nik)
                {
                    errors.add("_", format!("Pengganti {}: NIK yang sama diusulkan dua kali.", i + 1));
                } else if let Some(known) = candidates::by_nik(db, department.id, &checked.nik).await? {
                    errors.add(
                        "_",
                        format!(
                            "Pengganti {}: NIK {} sudah tercatat sebagai calon ({}, {}).",
                            i + 1,
                            nik_hint(&checked.nik),
                            known.name,
                            known.status().label()
                        ),
                    );
                } else {
                    new_people.push((r.replaces, replaced.name.clone(), checked));
                }
            }
            Err(problems) => {
                for p in problems {
                    errors.add("_", format!("Pengganti untuk {}: {}", replaced.name, p.message));
                }
            }
        }
    }
    if answers.is_empty() && replacements.is_empty() {
        errors.add("_", "Tidak ada jawaban untuk dicatat.");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }

    let source = format!("{} ({}, {})", reply.sender, reply.letter_number, reply.agenda_number());
    let mut tx = db.begin_write().await?;
    let mut applied = Applied::default();
    for (id, answer) in answers {
        let (to, reason) = match answer {
            Answer::Confirmed => (Status::Confirmed, format!("dikonfirmasi {source}")),
            Answer::Rejected(reason) => (Status::Rejected, format!("{} — {source}", reason.trim())),
        };
        let moved = candidates::transition(
            &mut tx,
            department.id,
            actor,
            &[*id],
            to,
            &Change {
                reason: &reason,
                letter_id: Some(letter_id),
                import_id: None,
                incoming_id: Some(reply.id),
            },
        )
        .await?;
        match to {
            Status::Confirmed => applied.confirmed += moved,
            _ => applied.rejected += moved,
        }
    }
    let at = now();
    for (replaces, replaced_name, person) in &new_people {
        let (new_id,): (i64,) = sqlx::query_as(
            "INSERT INTO candidates (department_id, nik, name, sex, birth_date, address, region_code, occupation, status, \
             status_reason, replaces_id, letter_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'dikonfirmasi', $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(department.id)
        .bind(&person.nik)
        .bind(&person.name)
        .bind(person.sex)
        .bind(person.birth_date.format("%Y-%m-%d").to_string())
        .bind(&person.address)
        .bind(&person.region_code)
        .bind(&person.occupation)
        .bind(format!("pengganti {replaced_name}, diusulkan {source}"))
        .bind(replaces)
        .bind(letter_id)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        candidates::count_moved(&mut tx, department.id, Status::Confirmed.key(), 1).await?;
        sqlx::query(
            "INSERT INTO candidate_sources (candidate_id, import_id, source, line, source_ref, name, region_code, occupation) \
             VALUES ($1, NULL, 'USULAN DESA', 0, $2, $3, $4, $5)",
        )
        .bind(new_id)
        .bind(reply.agenda_number())
        .bind(&person.name)
        .bind(&person.region_code)
        .bind(&person.occupation)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO candidate_events (department_id, candidate_id, at, actor, kind, status_to, reason, letter_id, incoming_id) \
             VALUES ($1, $2, $3, $4, 'diusulkan', 'dikonfirmasi', $5, $6, $7)",
        )
        .bind(department.id)
        .bind(new_id)
        .bind(at)
        .bind(actor.label())
        .bind(format!("menggantikan {replaced_name}, {source}"))
        .bind(letter_id)
        .bind(reply.id)
        .execute(&mut *tx)
        .await?;
        applied.replacements += 1;
    }
    incoming::mark_applied(&mut tx, reply.id).await.map_err(|e| match e {
        incoming::Error::Db(e) => Error::Db(e),
        other => Error::Conflict(other.to_string()),
    })?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.reply_applied",
            subject: format!("incoming:{}", reply.id),
            details: serde_json::json!({
                "letter": letter_id, "confirmed": applied.confirmed, "rejected": applied.rejected,
                "replacements": applied.replacements,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(applied)
}

/// The first and last digits of a NIK, for messages seen by staff.
fn nik_hint(nik: &str) -> String {
    super::nik::masked(nik)
}

/// The answers read from a filled list.
#[derive(Debug, Clone, Default)]
pub struct FilledList {
    pub answers: Vec<(i64, Answer)>,
    pub replacements: Vec<Replacement>,
}

/// Reads a filled list sent back by a village: a row per candidate with its NIK and
/// `Hasil` (sesuai / tidak sesuai) and `Alasan`; rows with `Hasil` = pengganti and
/// `Menggantikan NIK` propose a replacement with its own NIK, name, sex, date of
/// birth, occupation and address. Every faulty line is named.
pub fn read_filled_list(bytes: &[u8], on_list: &[Candidate]) -> Result<FilledList, Error> {
    let table = Table::open(bytes)?;
    let find = |names: &[&str]| table.column(names);
    let nik_at = find(&["nik"]);
    let result_at = find(&["hasil", "hasil verifikasi", "keterangan hasil", "status"]);
    let (Some(nik_at), Some(result_at)) = (nik_at, result_at) else {
        return Err(Error::Unreadable("daftar isian harus memuat kolom NIK dan Hasil".into()));
    };
    let reason_at = find(&["alasan", "keterangan"]);
    let replaces_at = find(&["menggantikan nik", "pengganti untuk nik", "menggantikan"]);
    let column = |names: &[&str]| find(names);
    let (name_at, sex_at, birth_at, job_at, address_at) = (
        column(&["nama"]),
        column(&["jenis kelamin", "jk", "l p"]),
        column(&["tanggal lahir", "tgl lahir"]),
        column(&["pekerjaan"]),
        column(&["alamat"]),
    );
    let by_nik: HashMap<&str, &Candidate> = on_list.iter().map(|c| (c.nik.as_str(), c)).collect();
    let mut answers = Vec::new();
    let mut replacements = Vec::new();
    let mut problems = FieldErrors::default();
    let mut records = table.records();
    while let Some((line, record)) = records.next_record() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.add("_", format!("baris {line}: tidak dapat dibaca ({e})"));
                continue;
            }
        };
        let cell = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or_default().trim().to_string();
        let (nik, _) = super::nik::clean(&cell(Some(nik_at)));
        let result = cell(Some(result_at)).to_lowercase();
        if result.is_empty() {
            problems.add(
                "_",
                format!("baris {line}: kolom Hasil kosong (isi sesuai, tidak sesuai, atau pengganti)"),
            );
            continue;
        }
        if result.starts_with("pengganti") || result.starts_with("usul") {
            let (replaced, _) = super::nik::clean(&cell(replaces_at));
            let Some(old) = by_nik.get(replaced.as_str()) else {
                problems.add("_", format!("baris {line}: Menggantikan NIK tidak ada dalam daftar surat ini"));
                continue;
            };
            replacements.push(Replacement {
                replaces: old.id,
                nik,
                name: cell(name_at),
                sex: cell(sex_at),
                birth_date: cell(birth_at),
                address: cell(address_at),
                occupation: cell(job_at),
            });
            continue;
        }
        let Some(candidate) = by_nik.get(nik.as_str()) else {
            problems.add(
                "_",
                format!("baris {line}: NIK {} tidak ada dalam daftar surat ini", super::nik::masked(&nik)),
            );
            continue;
        };
        let answer = if result.starts_with("tidak") || result == "x" || result.starts_with("tolak") {
            Answer::Rejected(cell(reason_at))
        } else if result.starts_with("sesuai") || result.starts_with("ya") || result == "v" || result == "✓" {
            Answer::Confirmed
        } else {
            problems.add(
                "_",
                format!("baris {line}: Hasil \"{result}\" tidak dikenal (sesuai, tidak sesuai, pengganti)"),
            );
            continue;
        };
        answers.push((candidate.id, answer));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    Ok(FilledList { answers, replacements })
}
