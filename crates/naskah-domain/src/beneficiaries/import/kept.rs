//! The uploaded file, kept between the check and the import in pieces of 1 MiB
//! (`candidate_import_files`), so that neither keeping it nor reading it back holds it
//! whole: a new mapping, or an import checked by an earlier version, reads it again.

use std::io::{Read, Write};

use super::*;
use crate::db::BulkTx;

/// The largest piece of a kept file.
const PIECE: usize = 1024 * 1024;

/// A file to check: in memory (a test, a small form) or on disk (an upload of any size).
pub enum Content<'a> {
    Bytes(&'a [u8]),
    File(&'a std::path::Path),
}

impl Content<'_> {
    pub(super) fn table(&self) -> Result<Table, Error> {
        match self {
            Content::Bytes(bytes) => Table::open(bytes),
            Content::File(path) => Table::open_file(path),
        }
    }

    fn reader(&self) -> Result<Box<dyn Read + Send + '_>, Error> {
        Ok(match self {
            Content::Bytes(bytes) => Box::new(*bytes),
            Content::File(path) => Box::new(std::fs::File::open(path).map_err(unreadable)?),
        })
    }
}

fn unreadable(e: std::io::Error) -> Error {
    Error::Unreadable(format!("berkas tidak dapat dibaca ({e})"))
}

/// Keeps the file under import `id`, piece by piece; its SHA-256 (hex) and size.
pub(super) async fn keep(tx: &mut BulkTx, id: i64, content: &Content<'_>) -> Result<(String, i64), Error> {
    let mut reader = content.reader()?;
    let (mut hasher, mut size) = (Sha256::new(), 0i64);
    for seq in 0i64.. {
        let mut piece = Vec::with_capacity(PIECE);
        (&mut reader).take(PIECE as u64).read_to_end(&mut piece).map_err(unreadable)?;
        if piece.is_empty() {
            break;
        }
        hasher.update(&piece);
        size += piece.len() as i64;
        naskah_base::on_bulk!(tx, conn => sqlx::query("INSERT INTO candidate_import_files (import_id, seq, bytes) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(seq)
            .bind(piece)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// The kept file of an import not yet imported, in a temporary file.
pub(super) async fn file(db: &Db, id: i64) -> Result<tempfile::NamedTempFile, Error> {
    let mut out = tempfile::NamedTempFile::new().map_err(unreadable)?;
    let mut seq = 0i64;
    while let Some((piece,)) = sqlx::query_as::<_, (Vec<u8>,)>("SELECT bytes FROM candidate_import_files WHERE import_id = $1 AND seq = $2")
        .bind(id)
        .bind(seq)
        .fetch_optional(&db.pool)
        .await?
    {
        out.write_all(&piece).map_err(unreadable)?;
        seq += 1;
    }
    if seq == 0 {
        // Kept whole, gzipped, by a version before the pieces.
        out.write_all(&legacy_content(db, id).await?).map_err(unreadable)?;
    }
    out.flush().map_err(unreadable)?;
    Ok(out)
}

/// Removes the kept file of an import (imported or cancelled).
pub(super) async fn drop_kept(conn: &mut sqlx::AnyConnection, id: i64) -> Result<(), Error> {
    for table in ["candidate_import_files", "candidate_import_rows"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE import_id = $1")))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn legacy_content(db: &Db, id: i64) -> Result<Vec<u8>, Error> {
    let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as("SELECT content FROM candidate_imports WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    let stored = row
        .and_then(|(c,)| c)
        .ok_or_else(|| Error::Conflict("Berkas impor ini sudah tidak tersimpan.".into()))?;
    unpacked(stored)
}

/// A file kept whole: gzip, or as it came before that.
fn unpacked(stored: Vec<u8>) -> Result<Vec<u8>, Error> {
    if !stored.starts_with(&[0x1f, 0x8b]) {
        return Ok(stored);
    }
    let mut bytes = Vec::new();
    // Never more than the largest upload it could have been: bounded anyway.
    let limit = 64 * 1024 * 1024;
    flate2::read::GzDecoder::new(stored.as_slice())
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Conflict(format!("Berkas impor yang tersimpan rusak: {e}.")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_kept_whole_by_an_earlier_version_comes_back() {
        let csv: Vec<u8> = "NIK,Nama\n"
            .bytes()
            .chain((0..5_000).flat_map(|i| format!("640901{i:010},ORANG {i}\n").into_bytes()))
            .collect();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&csv).unwrap();
        assert_eq!(unpacked(encoder.finish().unwrap()).unwrap(), csv);
        assert_eq!(unpacked(csv.clone()).unwrap(), csv);
        assert!(unpacked(vec![0x1f, 0x8b, 0, 1, 2]).is_err());
    }
}
