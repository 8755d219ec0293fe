//! Official region codes (Kepmendagri): province, regency, district (kecamatan) and
//! village (desa/kelurahan), imported from CSV with columns `kode,nama,tingkat[,jenis]`.

use serde::Serialize;
use sqlx::{Any, FromRow};

use crate::db::{Db, DbError};

#[derive(Debug, Clone, Serialize, FromRow, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: i64,
    pub kind: String,
    pub parent_code: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("baris {line}: {message}")]
    Row { line: u64, message: String },
    #[error("berkas wilayah tidak dapat dibaca: {0}")]
    Csv(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(DbError::Sqlx(e))
    }
}

/// The demo regency, shipped with the binary.
pub const DEMO_REGENCY_CSV: &str = include_str!("wilayah_6409_penajam_paser_utara.csv");

fn kind_for(code: &str, level: i64, explicit: Option<&str>) -> String {
    if let Some(kind) = explicit.filter(|k| !k.is_empty()) {
        return kind.to_string();
    }
    match level {
        1 => "provinsi".into(),
        2 => "kabupaten".into(),
        3 => "kecamatan".into(),
        // The last code part starts with 1 for a kelurahan, with 2 for a desa.
        _ if code.rsplit('.').next().is_some_and(|p| p.starts_with('1')) => "kelurahan".into(),
        _ => "desa".into(),
    }
}

/// Parses and checks a region CSV completely before anything is stored.
pub fn parse_csv(text: &str) -> Result<Vec<Region>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().map_err(|e| Error::Csv(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(code_col), Some(name_col), Some(level_col)) = (col("kode"), col("nama"), col("tingkat")) else {
        return Err(Error::Csv("kolom kode, nama dan tingkat wajib ada di baris judul".into()));
    };
    let kind_col = col("jenis");
    let mut regions = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::Csv(e.to_string()))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let bad = |message: String| Error::Row { line, message };
        let code = record.get(code_col).unwrap_or_default().to_string();
        let name = record.get(name_col).unwrap_or_default().to_string();
        let level: i64 = record
            .get(level_col)
            .unwrap_or_default()
            .parse()
            .map_err(|_| bad("tingkat harus 1, 2, 3 atau 4".into()))?;
        let parts: Vec<&str> = code.split('.').collect();
        let expected_len = [2usize, 2, 2, 4];
        let shape_ok = (1..=4).contains(&level)
            && parts.len() == level as usize
            && parts
                .iter()
                .zip(expected_len)
                .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_digit()));
        if !shape_ok {
            return Err(bad(format!("kode '{code}' tidak sesuai dengan tingkat {level}")));
        }
        if name.is_empty() {
            return Err(bad("nama wilayah kosong".into()));
        }
        let parent_code = (level > 1).then(|| parts[..parts.len() - 1].join("."));
        let kind = kind_for(&code, level, kind_col.and_then(|c| record.get(c)));
        regions.push(Region {
            code,
            name,
            level,
            kind,
            parent_code,
        });
    }
    Ok(regions)
}

/// Inserts or updates the given regions in one transaction; returns how many rows.
pub async fn import(db: &Db, regions: &[Region]) -> Result<usize, Error> {
    let mut tx = db.begin_write().await?;
    for r in regions {
        sqlx::query(
            "INSERT INTO regions (code, name, level, kind, parent_code) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, kind = excluded.kind, parent_code = excluded.parent_code",
        )
        .bind(&r.code)
        .bind(&r.name)
        .bind(r.level)
        .bind(&r.kind)
        .bind(&r.parent_code)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(regions.len())
}

pub async fn children(db: &Db, parent_code: &str) -> Result<Vec<Region>, Error> {
    Ok(
        sqlx::query_as::<Any, Region>("SELECT code, name, level, kind, parent_code FROM regions WHERE parent_code = $1 ORDER BY code")
            .bind(parent_code)
            .fetch_all(&db.pool)
            .await?,
    )
}

pub async fn get(db: &Db, code: &str) -> Result<Option<Region>, Error> {
    Ok(
        sqlx::query_as::<Any, Region>("SELECT code, name, level, kind, parent_code FROM regions WHERE code = $1")
            .bind(code)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// Every district and village under a regency, districts first.
pub async fn within_regency(db: &Db, regency_code: &str) -> Result<Vec<Region>, Error> {
    Ok(sqlx::query_as::<Any, Region>(
        "SELECT code, name, level, kind, parent_code FROM regions WHERE code LIKE $1 AND level >= 3 ORDER BY code",
    )
    .bind(format!("{regency_code}.%"))
    .fetch_all(&db.pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_regency_parses_with_kinds() {
        let regions = parse_csv(DEMO_REGENCY_CSV).unwrap();
        assert_eq!(regions.iter().filter(|r| r.level == 3).count(), 4);
        assert_eq!(regions.iter().filter(|r| r.level == 4).count(), 54);
        let tanjung = regions.iter().find(|r| r.code == "64.09.01.1001").unwrap();
        assert_eq!(tanjung.kind, "kelurahan");
        assert_eq!(tanjung.parent_code.as_deref(), Some("64.09.01"));
    }

    #[test]
    fn bad_rows_name_their_line() {
        let err = parse_csv("kode,nama,tingkat\n64,Kalimantan Timur,1\n64.9,X,2\n").unwrap_err();
        assert_eq!(err.to_string(), "baris 3: kode '64.9' tidak sesuai dengan tingkat 2");
        assert!(parse_csv("code,name\n").is_err());
    }

    #[test]
    fn kind_follows_code_without_column() {
        let regions = parse_csv("kode,nama,tingkat\n64.09.02.2001,Babulu Darat,4\n").unwrap();
        assert_eq!(regions[0].kind, "desa");
    }
}
