//! The BPJS check (SOP steps 12'–14'): the candidates the villages confirmed, exported
//! as the workbook BPJS Ketenagakerjaan checks membership with; its answer read back
//! (already registered or not) and applied — registered ones leave the list (replaced),
//! the others become final. All or nothing, each change naming the answer's file, line
//! and, when registered as an incoming letter, the letter.

use std::collections::HashMap;

use super::{
    Error,
    candidates::{self, Candidate, Change, Status},
    import::Villages,
    reader::Table,
};
use crate::{
    audit::{self, Actor, Event},
    db::Db,
    departments::Department,
    spreadsheet,
    validation::FieldErrors,
};

pub const EXPORT_COLUMNS: [&str; 11] = [
    "NO",
    "NIK",
    "NAMA",
    "TGL_LAHIR",
    "JENIS_KELAMIN",
    "PEKERJAAN",
    "DESA_KELURAHAN",
    "KECAMATAN",
    "KODE_WILAYAH",
    "STATUS_KEPESERTAAN",
    "KETERANGAN",
];

/// The candidates waiting for the check: confirmed by their village.
pub async fn awaiting_check(db: &Db, department_id: i64) -> Result<Vec<Candidate>, Error> {
    candidates::with_status(db, department_id, Status::Confirmed).await
}

/// The candidates an answer may name: those waiting, and the final ones (BPJS may find
/// one insured after the SK; it then leaves by an amending decree).
pub async fn answerable(db: &Db, department_id: i64) -> Result<Vec<Candidate>, Error> {
    let mut list = awaiting_check(db, department_id).await?;
    list.extend(candidates::with_status(db, department_id, Status::Final).await?);
    Ok(list)
}

/// Writes the workbook for BPJS Ketenagakerjaan to `path`: one text row per confirmed
/// candidate (NIKs as text, never numbers), read in batches so that memory stays flat
/// at any length, the last two columns for BPJS to fill; a second sheet says who
/// exported it, when, and what it may be used for. Returns how many rows it holds.
pub async fn write_export(db: &Db, department_id: i64, villages: &Villages, stamp: &str, path: &std::path::Path) -> Result<u32, Error> {
    let filter = candidates::Filter {
        status: Some(Status::Confirmed),
        ..candidates::Filter::default()
    };
    let people = candidates::count(db, department_id, &filter).await?;
    let first = candidates::after(db, department_id, &filter, None, spreadsheet::BATCH).await?;
    let next = {
        let db = db.clone();
        move |last: Candidate| {
            let (db, filter) = (db.clone(), filter.clone());
            async move {
                candidates::after(&db, department_id, &filter, Some(&last), spreadsheet::BATCH)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    };
    let villages = villages.clone();
    let numbered = std::sync::atomic::AtomicUsize::new(0);
    let cells = move |c: &Candidate| {
        let (village, district) = villages
            .get(&c.region_code)
            .map_or((String::new(), String::new()), |v| (v.name.clone(), v.district.clone()));
        let birth = chrono::NaiveDate::parse_from_str(&c.birth_date, "%Y-%m-%d")
            .map(|d| d.format("%d-%m-%Y").to_string())
            .unwrap_or_default();
        // Rows are written in order, so the count so far numbers them.
        let number = numbered.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        vec![
            number.to_string(),
            c.nik.clone(),
            c.name.clone(),
            birth,
            c.sex.clone(),
            c.occupation.clone(),
            village,
            district,
            c.region_code.clone(),
        ]
    };
    let about = vec![
        "Daftar calon penerima bantuan iuran untuk pengecekan kepesertaan BPJS Ketenagakerjaan.".to_string(),
        stamp.to_string(),
        format!("{} orang.", crate::text::thousands(people)),
        "Isi STATUS_KEPESERTAAN dengan TERDAFTAR (sudah menjadi peserta aktif) atau TIDAK TERDAFTAR.".into(),
        "Berisi data pribadi (UU 27/2022): hanya untuk pengecekan kepesertaan, jangan disebarkan.".into(),
    ];
    let sheet = spreadsheet::Sheet {
        name: "Data",
        header: &EXPORT_COLUMNS,
        widths: &[7.0, 19.0, 30.0, 12.0, 14.0, 24.0, 22.0, 20.0, 15.0, 22.0, 30.0],
    };
    spreadsheet::write_xlsx(path, sheet, spreadsheet::batches(first, next), cells, Some(("Keterangan", about)))
        .await
        .map_err(|e| Error::Conflict(format!("lembar kerja tidak dapat dibuat: {e}")))
}

/// Records in the audit log that the list (with full NIKs) left the system.
pub async fn record_export(db: &Db, actor: &Actor, department_id: i64, rows: usize) -> Result<(), Error> {
    candidates::record_export(db, actor, department_id, "bpjs", rows).await
}

/// One line of BPJS's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub candidate_id: i64,
    pub line: usize,
    pub insured: bool,
    pub note: String,
}

/// Whether a status cell says "already a member" (`Some(true)`), "not a member"
/// (`Some(false)`), or nothing known.
fn insured(status: &str) -> Option<bool> {
    let s = crate::text::normalise_header(status);
    if s.is_empty() {
        return None;
    }
    if s.starts_with("tidak") || s.starts_with("belum") || s.starts_with("non") || s == "n" || s == "bukan peserta" {
        return Some(false);
    }
    if s.starts_with("terdaftar") || s.starts_with("aktif") || s.starts_with("sudah") || s.starts_with("peserta") || s == "ya" || s == "y" {
        return Some(true);
    }
    None
}

/// Reads BPJS's answer (CSV or XLSX with NIK and STATUS_KEPESERTAAN, or "Status"):
/// every NIK must be one of the candidates waiting for the check. Every faulty line is
/// named; nothing is returned unless all are sound.
pub fn read_answer(bytes: &[u8], waiting: &[Candidate]) -> Result<Vec<Answer>, Error> {
    let table = Table::open(bytes)?;
    let find = |names: &[&str]| table.column(names);
    let (Some(nik_at), Some(status_at)) = (
        find(&["nik", "no nik", "nomor induk kependudukan"]),
        find(&["status kepesertaan", "status", "kepesertaan", "hasil"]),
    ) else {
        return Err(Error::Unreadable(
            "jawaban BPJS harus memuat kolom NIK dan STATUS_KEPESERTAAN".into(),
        ));
    };
    let note_at = find(&["keterangan", "catatan"]);
    let by_nik: HashMap<&str, &Candidate> = waiting.iter().map(|c| (c.nik.as_str(), c)).collect();
    let mut answers = Vec::new();
    let mut errors = FieldErrors::default();
    let mut seen = HashMap::new();
    let mut records = table.records();
    while let Some((line, record)) = records.next_record() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.add("_", format!("Baris {line}: tidak dapat dibaca ({e})."));
                continue;
            }
        };
        let cell = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or_default().trim().to_string();
        let (nik, _) = super::nik::clean(&cell(Some(nik_at)));
        let status = cell(Some(status_at));
        let Some(candidate) = by_nik.get(nik.as_str()) else {
            errors.add(
                "_",
                format!(
                    "baris {line}: NIK {} bukan calon yang menunggu pengecekan",
                    super::nik::masked(&nik)
                ),
            );
            continue;
        };
        if let Some(first) = seen.insert(candidate.id, line) {
            errors.add("_", format!("Baris {line}: NIK yang sama sudah ada di baris {first}."));
            continue;
        }
        match insured(&status) {
            Some(insured) => answers.push(Answer {
                candidate_id: candidate.id,
                line,
                insured,
                note: cell(note_at),
            }),
            None => errors.add(
                "_",
                format!("baris {line}: STATUS_KEPESERTAAN \"{status}\" tidak dikenal (TERDAFTAR atau TIDAK TERDAFTAR)"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    if answers.is_empty() {
        return Err(Error::Unreadable("jawaban BPJS tidak memuat satu baris pun".into()));
    }
    Ok(answers)
}

/// What applying an answer changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub insured: usize,
    pub final_: usize,
}

/// Applies BPJS's answer in one transaction.
pub async fn apply_answer(
    db: &Db,
    actor: &Actor,
    department: &Department,
    file_name: &str,
    answers: &[Answer],
    incoming_id: Option<i64>,
) -> Result<Applied, Error> {
    let mut tx = db.begin_write().await?;
    let mut applied = Applied::default();
    for a in answers {
        let (to, reason) = if a.insured {
            (
                Status::Insured,
                format!(
                    "sudah peserta BPJS Ketenagakerjaan{}",
                    if a.note.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", a.note)
                    }
                ),
            )
        } else {
            (Status::Final, "belum peserta BPJS Ketenagakerjaan".to_string())
        };
        let reason = format!("{reason} — jawaban BPJS {file_name} baris {}", a.line);
        // A final beneficiary confirmed as not insured stays as it is.
        let moved = candidates::transition(
            &mut tx,
            department.id,
            actor,
            &[a.candidate_id],
            to,
            &Change {
                reason: &reason,
                incoming_id,
                ..Change::default()
            },
        )
        .await?;
        if moved == 0 {
            continue;
        }
        if a.insured {
            applied.insured += 1;
        } else {
            applied.final_ += 1;
        }
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.bpjs_checked",
            subject: format!("department:{}", department.id),
            details: serde_json::json!({
                "file": file_name, "insured": applied.insured, "final": applied.final_, "incoming": incoming_id,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words() {
        for yes in ["TERDAFTAR", "Aktif", "sudah terdaftar", "Peserta aktif", "Y"] {
            assert_eq!(insured(yes), Some(true), "{yes}");
        }
        for no in ["TIDAK TERDAFTAR", "belum terdaftar", "Non Aktif", "tidak aktif", "N"] {
            assert_eq!(insured(no), Some(false), "{no}");
        }
        assert_eq!(insured(""), None);
        assert_eq!(insured("mungkin"), None);
    }
}
