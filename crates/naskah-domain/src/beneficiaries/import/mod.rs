//! Importing candidate files. A file is first *checked*: read, its columns mapped (a
//! preset for the P3KE and DTKS layouts, a mapping the department saved, or one the
//! user makes), every row validated; the report (line, column, message) is kept with
//! the file. The user then imports the valid rows, in one transaction that merges
//! them by NIK with what is already there, or cancels; nothing changes before that.

mod apply;
mod mapping;
mod rules;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyConnection, FromRow};

use super::{Error, Settings, nik, reader::Table};
use crate::text::normalise_header;

use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    regions,
};
pub use apply::*;
pub use mapping::*;
pub use rules::*;

/// A stored import and its outcome.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Import {
    pub id: i64,
    pub department_id: i64,
    pub source: String,
    pub file_name: String,
    pub file_sha256: String,
    pub file_size: i64,
    pub layout: String,
    pub mapping_name: String,
    pub mapping: String,
    pub rows_total: i64,
    pub rows_valid: i64,
    pub rows_refused: i64,
    pub rows_new: i64,
    pub rows_merged: i64,
    pub status: String,
    pub checked_by: String,
    pub checked_at: i64,
    pub finished_by: String,
    pub finished_at: Option<i64>,
}

impl Import {
    pub fn mapping(&self) -> Mapping {
        serde_json::from_str(&self.mapping).unwrap_or_default()
    }
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "unmapped" => "menunggu pemetaan kolom",
            "checked" => "diperiksa, belum diimpor",
            "imported" => "diimpor",
            "cancelled" => "dibatalkan",
            _ => "?",
        }
    }
}

const IMPORT_COLUMNS: &str = "id, department_id, source, file_name, file_sha256, file_size, layout, mapping_name, mapping, \
     rows_total, rows_valid, rows_refused, rows_new, rows_merged, status, checked_by, checked_at, finished_by, finished_at";

pub async fn get(db: &Db, department_id: i64, id: i64) -> Result<Import, Error> {
    sqlx::query_as::<Any, Import>(sqlx::AssertSqlSafe(format!(
        "SELECT {IMPORT_COLUMNS} FROM candidate_imports WHERE id = $1 AND department_id = $2"
    )))
    .bind(id)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn list(db: &Db, department_id: i64, limit: i64) -> Result<Vec<Import>, Error> {
    Ok(sqlx::query_as::<Any, Import>(sqlx::AssertSqlSafe(format!(
        "SELECT {IMPORT_COLUMNS} FROM candidate_imports WHERE department_id = $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(department_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}

/// Imports checked but neither imported nor cancelled (columns to map, or a report to
/// read and confirm), oldest first.
pub async fn unfinished(db: &Db, department_id: i64) -> Result<Vec<Import>, Error> {
    Ok(sqlx::query_as::<Any, Import>(sqlx::AssertSqlSafe(format!(
        "SELECT {IMPORT_COLUMNS} FROM candidate_imports WHERE department_id = $1 AND status IN ('unmapped', 'checked') \
         ORDER BY checked_at, id"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

/// How many lines of an import's report refuse a row and how many are notes, counted
/// by the database: a page never holds a million-line report to count it.
pub async fn report_counts(db: &Db, import_id: i64) -> Result<(i64, i64), Error> {
    let (refused, notes): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN refused <> 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN refused = 0 THEN 1 ELSE 0 END), 0) \
         FROM candidate_import_problems WHERE import_id = $1",
    )
    .bind(import_id)
    .fetch_one(&db.pool)
    .await?;
    Ok((refused, notes))
}

/// The first `limit` lines of the report a page shows: refused rows first, in file order.
pub async fn report_first(db: &Db, import_id: i64, limit: i64) -> Result<Vec<Problem>, Error> {
    let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
        "SELECT line, column_name, code, refused, message FROM candidate_import_problems WHERE import_id = $1 \
         ORDER BY CASE WHEN refused <> 0 THEN 0 ELSE 1 END, line, id LIMIT $2",
    )
    .bind(import_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Problem::from_row).collect())
}

/// The report of an import, problems first, in file order.
pub async fn report(db: &Db, import_id: i64) -> Result<Vec<Problem>, Error> {
    let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
        "SELECT line, column_name, code, refused, message FROM candidate_import_problems WHERE import_id = $1 ORDER BY line, id",
    )
    .bind(import_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Problem::from_row).collect())
}

/// A file to check.
pub struct Upload<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    /// `P3KE`, `DTKS`, `DTSEN` or `LAIN`; empty: as the layout says.
    pub source: &'a str,
    /// An explicit mapping; `None`: a preset, a saved mapping or a guess.
    pub mapping: Option<(String, Mapping)>,
}

/// What checking a table gave.
pub struct Scan {
    pub rows_total: usize,
    pub rows_valid: usize,
    pub report: Vec<Problem>,
}

impl Scan {
    fn rows_refused(&self) -> usize {
        self.report
            .iter()
            .filter(|p| p.refused)
            .map(|p| p.line)
            .collect::<HashSet<_>>()
            .len()
    }
}

/// Checks every row of a table with a usable mapping.
pub fn scan(table: &Table, mapping: &Mapping, rules: &Rules) -> Result<Scan, Error> {
    let mut report = Vec::new();
    let mut scanner = Scanner::new(table, mapping, rules);
    while scanner.next_valid(&mut report).is_some() {}
    if scanner.rows_total == 0 {
        return Err(Error::Unreadable("berkas tidak memuat satu baris data pun".into()));
    }
    Ok(Scan {
        rows_total: scanner.rows_total,
        rows_valid: scanner.rows_valid,
        report,
    })
}

/// Keeps a file with its report, to be imported or cancelled. A file whose columns
/// cannot be mapped by a preset, a saved mapping or a guess is kept as `unmapped`, for
/// the user to map (`remap`). A file that cannot be read at all leaves no trace.
pub async fn check(db: &Db, actor: &Actor, department: &crate::departments::Department, upload: Upload<'_>) -> Result<Import, Error> {
    let table = Table::open(upload.bytes)?;
    let saved = saved_mappings(db, department.id).await?;
    let mut chosen = match &upload.mapping {
        Some((name, mapping)) => Chosen {
            name: name.clone(),
            source: String::new(),
            mapping: mapping.clone(),
        },
        None => choose(&table.headers, &saved),
    };
    if !upload.source.is_empty() {
        chosen.source = upload.source.to_string();
    } else if chosen.source.is_empty() {
        chosen.source = "LAIN".into();
    }
    let scanned = if mapping_problems(&chosen.mapping, &table.headers).is_empty() {
        let rules = rules(db, department).await?;
        Some(scan(&table, &chosen.mapping, &rules)?)
    } else if table.records().next_record().is_none() {
        return Err(Error::Unreadable("berkas tidak memuat satu baris data pun".into()));
    } else {
        None
    };
    // The decoded text and its parse are done with: the file is stored as it came, and
    // a 30 MB upload must not be held three times while the database copies it.
    let layout = table.layout.describe();
    drop(table);
    let kept = packed(upload.bytes);
    let mut tx = db.begin_write().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO candidate_imports (department_id, source, file_name, file_sha256, file_size, content, layout, mapping_name, mapping, \
         rows_total, rows_valid, rows_refused, status, checked_by, checked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(department.id)
    .bind(&chosen.source)
    .bind(upload.file_name)
    .bind(hex::encode(Sha256::digest(upload.bytes)))
    .bind(upload.bytes.len() as i64)
    .bind(kept)
    .bind(layout)
    .bind(&chosen.name)
    .bind(serde_json::to_string(&chosen.mapping).unwrap_or_default())
    .bind(scanned.as_ref().map_or(0, |s| s.rows_total as i64))
    .bind(scanned.as_ref().map_or(0, |s| s.rows_valid as i64))
    .bind(scanned.as_ref().map_or(0, |s| s.rows_refused() as i64))
    .bind(if scanned.is_some() { "checked" } else { "unmapped" })
    .bind(actor.label())
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    if let Some(scanned) = &scanned {
        store_report(&mut tx, id, &scanned.report).await?;
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.checked",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({
                "file": upload.file_name, "source": chosen.source, "mapping": chosen.name,
                "rows": scanned.as_ref().map(|s| s.rows_total), "valid": scanned.as_ref().map(|s| s.rows_valid),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department.id, id).await
}

/// The stored file of an import not yet imported.
async fn content(db: &Db, id: i64) -> Result<Vec<u8>, Error> {
    let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as("SELECT content FROM candidate_imports WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    let stored = row
        .and_then(|(c,)| c)
        .ok_or_else(|| Error::Conflict("Berkas impor ini sudah tidak tersimpan.".into()))?;
    unpacked(stored)
}

/// The file as it is kept between the check and the import: gzip, so that a 30 MB
/// export costs the database (and the process copying it there) a few megabytes.
fn packed(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 6), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    encoder.write_all(bytes).and_then(|()| encoder.finish()).unwrap_or_default()
}

/// The kept file again; one kept before it was packed is returned as it is.
fn unpacked(stored: Vec<u8>) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    if !stored.starts_with(&[0x1f, 0x8b]) {
        return Ok(stored);
    }
    let mut bytes = Vec::new();
    // Never more than the largest upload (with room): the blob is ours, but bounded anyway.
    let limit = 64 * 1024 * 1024;
    flate2::read::GzDecoder::new(stored.as_slice())
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Conflict(format!("Berkas impor yang tersimpan rusak: {e}.")))?;
    Ok(bytes)
}

/// The headers of an import's file, for the mapping form.
pub async fn headers(db: &Db, department_id: i64, id: i64) -> Result<Vec<String>, Error> {
    get(db, department_id, id).await?;
    Ok(Table::open(&content(db, id).await?)?.headers)
}

/// Checks a kept file again with the mapping the user chose (saving it under its name
/// when asked); the report is replaced.
#[allow(clippy::too_many_arguments)]
pub async fn remap(
    db: &Db,
    actor: &Actor,
    department: &crate::departments::Department,
    id: i64,
    source: &str,
    mapping: &Mapping,
    save_as: Option<&str>,
) -> Result<Import, Error> {
    let import = get(db, department.id, id).await?;
    if !matches!(import.status.as_str(), "checked" | "unmapped") {
        return Err(Error::Conflict(format!("impor ini sudah {}", import.status_label())));
    }
    let table = Table::open(&content(db, id).await?)?;
    let problems = mapping_problems(mapping, &table.headers);
    if !problems.is_empty() {
        return Err(Error::Mapping(problems));
    }
    let source = if source.is_empty() {
        import.source.clone()
    } else {
        source.to_string()
    };
    if let Some(name) = save_as {
        save_mapping(db, actor, department.id, name, &source, mapping).await?;
    }
    let rules = rules(db, department).await?;
    let scanned = scan(&table, mapping, &rules)?;
    let mapping_name = save_as.map_or_else(
        || "Pemetaan sendiri".to_string(),
        |n| n.split_whitespace().collect::<Vec<_>>().join(" "),
    );
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE candidate_imports SET source = $1, mapping_name = $2, mapping = $3, rows_total = $4, rows_valid = $5, \
         rows_refused = $6, status = 'checked', checked_by = $7, checked_at = $8 \
         WHERE id = $9 AND status IN ('checked', 'unmapped')",
    )
    .bind(&source)
    .bind(&mapping_name)
    .bind(serde_json::to_string(mapping).unwrap_or_default())
    .bind(scanned.rows_total as i64)
    .bind(scanned.rows_valid as i64)
    .bind(scanned.rows_refused() as i64)
    .bind(actor.label())
    .bind(now())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::Conflict("Impor ini baru saja diproses.".into()));
    }
    sqlx::query("DELETE FROM candidate_import_problems WHERE import_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    store_report(&mut tx, id, &scanned.report).await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.checked",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({
                "file": import.file_name, "source": source, "mapping": mapping,
                "rows": scanned.rows_total, "valid": scanned.rows_valid,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department.id, id).await
}

async fn store_report(conn: &mut AnyConnection, id: i64, report: &[Problem]) -> Result<(), Error> {
    for chunk in report.chunks(CHUNK) {
        let mut sql = String::from("INSERT INTO candidate_import_problems (import_id, line, column_name, code, refused, message) VALUES ");
        push_rows(&mut sql, chunk.len(), 6, 1, "(", ")");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            query = query
                .bind(id)
                .bind(p.line)
                .bind(&p.column_name)
                .bind(&p.code)
                .bind(i64::from(p.refused))
                .bind(&p.message);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Cancels a checked import: its file is dropped, its report stays.
pub async fn cancel(db: &Db, actor: &Actor, department_id: i64, id: i64) -> Result<Import, Error> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE candidate_imports SET status = 'cancelled', content = NULL, finished_by = $1, finished_at = $2 \
         WHERE id = $3 AND department_id = $4 AND status IN ('checked', 'unmapped')",
    )
    .bind(actor.label())
    .bind(now())
    .bind(id)
    .bind(department_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict("Impor ini sudah diimpor atau dibatalkan.".into()));
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "candidates.import_cancelled",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department_id, id).await
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_kept_file_is_packed_and_comes_back_whole() {
        let csv: Vec<u8> = "NIK,Nama\n"
            .bytes()
            .chain((0..50_000).flat_map(|i| format!("640901{i:010},ORANG {i}\n").into_bytes()))
            .collect();
        let kept = packed(&csv);
        assert!(kept.len() * 3 < csv.len(), "{} of {}", kept.len(), csv.len());
        assert_eq!(unpacked(kept).unwrap(), csv);
        // A file kept before packing is read as it is.
        assert_eq!(unpacked(csv.clone()).unwrap(), csv);
        assert!(unpacked(vec![0x1f, 0x8b, 0, 1, 2]).is_err());
    }
    use super::*;

    #[test]
    fn placeholders_number_on_across_rows() {
        let mut sql = String::new();
        push_rows(&mut sql, 2, 2, 4, "($1, ", ", 'x')");
        assert_eq!(sql, "($1, $4, $5, 'x'),($1, $6, $7, 'x')");
    }

    #[test]
    fn a_person_typed_into_a_form_is_checked_like_a_row() {
        let regions = crate::regions::parse_csv(crate::regions::DEMO_REGENCY_CSV).unwrap();
        let rules = Rules {
            today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            settings: Settings::default(),
            villages: Villages::new("Kabupaten Penajam Paser Utara", &regions),
        };
        let ok = check_one(
            &rules,
            &[
                ("nik", "6409015507880003"),
                ("nama", " siti  aminah"),
                ("jenis_kelamin", "P"),
                ("tanggal_lahir", "1988-07-15"),
                ("kode_wilayah", "64.09.01.1005"),
            ],
        )
        .unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.sex, ok.region_code.as_str()),
            ("SITI AMINAH", "P", "64.09.01.1005")
        );
        let refused = check_one(
            &rules,
            &[
                ("nik", "6409015507880003"),
                ("nama", "Siti"),
                ("jenis_kelamin", "L"),
                ("tanggal_lahir", "1988-07-15"),
                ("kode_wilayah", "64.09.01.1005"),
            ],
        )
        .unwrap_err();
        assert_eq!(refused[0].code, "nik_sex_mismatch");
        assert_eq!(refused[0].column_name, "jenis_kelamin");
    }
}
