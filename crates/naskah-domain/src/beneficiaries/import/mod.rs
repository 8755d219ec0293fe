//! Importing candidate files. A file is first *checked*: read, its columns mapped (a
//! preset for the P3KE and DTKS layouts, a mapping the department saved, or one the
//! user makes), every row validated; the report (line, column, message) is kept with
//! the file. The user then imports the valid rows, in one transaction that merges
//! them by NIK with what is already there, or cancels; nothing changes before that.

mod apply;
mod kept;
mod mapping;
mod rules;
mod stage;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, FromRow};

use super::{Error, Settings, nik, reader::Table};
use crate::text::normalise_header;

use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    regions,
};
pub use apply::*;
pub use kept::Content;
pub use mapping::*;
pub use rules::*;
use stage::stage;

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
    pub content: Content<'a>,
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

/// Keeps a file with its report and its valid rows, to be imported or cancelled. A
/// file whose columns cannot be mapped by a preset, a saved mapping or a guess is kept
/// as `unmapped`, for the user to map (`remap`). A file that cannot be read at all
/// leaves no trace.
pub async fn check(db: &Db, actor: &Actor, department: &crate::departments::Department, upload: Upload<'_>) -> Result<Import, Error> {
    let table = upload.content.table()?;
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
    let rules = if mapping_problems(&chosen.mapping, &table.headers).is_empty() {
        Some(rules(db, department).await?)
    } else if table.records().next_record().is_none() {
        return Err(Error::Unreadable("berkas tidak memuat satu baris data pun".into()));
    } else {
        None
    };
    let mut tx = db.begin_bulk().await?;
    let layout = table.layout.describe();
    let mapping_json = serde_json::to_string(&chosen.mapping).unwrap_or_default();
    let status = if rules.is_some() { "checked" } else { "unmapped" };
    let actor_label = actor.label();
    let (id,): (i64,) = naskah_base::on_bulk!(&mut tx, conn => sqlx::query_as(
        "INSERT INTO candidate_imports (department_id, source, file_name, file_sha256, file_size, layout, mapping_name, mapping, \
         rows_total, rows_valid, rows_refused, status, checked_by, checked_at) \
         VALUES ($1, $2, $3, '', 0, $4, $5, $6, 0, 0, 0, $7, $8, $9) RETURNING id",
    )
    .bind(department.id)
    .bind(&chosen.source)
    .bind(upload.file_name)
    .bind(&layout)
    .bind(&chosen.name)
    .bind(&mapping_json)
    .bind(status)
    .bind(&actor_label)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?);
    let (counts, kept) = match rules {
        Some(rules) => {
            let (counts, kept) = store_check(&mut tx, id, table, chosen.mapping.clone(), rules, Some(&upload.content)).await?;
            (Some(counts), kept)
        }
        None => (None, Some(kept::keep(&mut tx, id, &upload.content).await?)),
    };
    let (file_sha256, file_size) = kept.unwrap_or_default();
    naskah_base::on_bulk!(&mut tx, conn => sqlx::query("UPDATE candidate_imports SET file_sha256 = $1, file_size = $2 WHERE id = $3")
        .bind(&file_sha256)
        .bind(file_size)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ()))?;
    audit::record_bulk(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.checked",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({
                "file": upload.file_name, "source": chosen.source, "mapping": chosen.name,
                "rows": counts.as_ref().map(|c| c.rows_total), "valid": counts.as_ref().map(|c| c.rows_valid),
            }),
        },
    )
    .await?;
    db.commit_bulk(tx).await?;
    get(db, department.id, id).await
}

/// Checks the file into import `id` (`stage`, keeping the file in `keep` meanwhile) and
/// writes the counts on it; a file with no data row is refused.
async fn store_check(
    tx: &mut crate::db::BulkTx,
    id: i64,
    table: Table,
    mapping: Mapping,
    rules: Rules,
    keep: Option<&Content<'_>>,
) -> Result<(stage::Counts, Option<(String, i64)>), Error> {
    let (counts, kept) = stage(tx, id, table, mapping, rules, keep).await?;
    if counts.rows_total == 0 {
        return Err(Error::Unreadable("berkas tidak memuat satu baris data pun".into()));
    }
    naskah_base::on_bulk!(tx, conn => sqlx::query("UPDATE candidate_imports SET rows_total = $1, rows_valid = $2, rows_refused = $3 WHERE id = $4")
        .bind(counts.rows_total as i64)
        .bind(counts.rows_valid as i64)
        .bind(counts.rows_refused as i64)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ()))?;
    Ok((counts, kept))
}

/// The headers of an import's file, for the mapping form.
pub async fn headers(db: &Db, department_id: i64, id: i64) -> Result<Vec<String>, Error> {
    get(db, department_id, id).await?;
    Ok(Table::open_file(kept::file(db, id).await?.path())?.headers)
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
    let file = kept::file(db, id).await?;
    let table = Table::open_file(file.path())?;
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
    let mapping_name = save_as.map_or_else(
        || "Pemetaan sendiri".to_string(),
        |n| n.split_whitespace().collect::<Vec<_>>().join(" "),
    );
    let mut tx = db.begin_bulk().await?;
    let mapping_json = serde_json::to_string(mapping).unwrap_or_default();
    let actor_label = actor.label();
    let updated = naskah_base::on_bulk!(&mut tx, conn => {
        let updated = sqlx::query(
            "UPDATE candidate_imports SET source = $1, mapping_name = $2, mapping = $3, status = 'checked', checked_by = $4, \
             checked_at = $5 WHERE id = $6 AND status IN ('checked', 'unmapped')",
        )
        .bind(&source)
        .bind(&mapping_name)
        .bind(&mapping_json)
        .bind(&actor_label)
        .bind(now())
        .bind(id)
        .execute(&mut *conn)
        .await?;
        for table in ["candidate_import_problems", "candidate_import_rows"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE import_id = $1")))
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        updated.rows_affected()
    });
    if updated == 0 {
        return Err(Error::Conflict("Impor ini baru saja diproses.".into()));
    }
    let (counts, _) = store_check(&mut tx, id, table, mapping.clone(), rules, None).await?;
    audit::record_bulk(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.checked",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({
                "file": import.file_name, "source": source, "mapping": mapping,
                "rows": counts.rows_total, "valid": counts.rows_valid,
            }),
        },
    )
    .await?;
    db.commit_bulk(tx).await?;
    get(db, department.id, id).await
}

/// Cancels a checked import: its file and its checked rows are dropped, its report stays.
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
    kept::drop_kept(&mut tx, id).await?;
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

    use super::*;

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
