//! Sending long exports with memory flat at any length (the batches and the workbook
//! are [`crate::spreadsheet`]'s): a CSV goes out batch by batch as it is read; an XLSX
//! workbook is written to a temporary file first and that file is sent in pieces.

use std::future::Future;

use axum::{
    body::{Body, Bytes},
    http::header,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;

pub use crate::spreadsheet::{BATCH, Cells, Sheet};
use crate::{
    error::{Failure, PageError},
    spreadsheet,
    text::spreadsheet_safe,
};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// CSV lines for `rows`, each cell defused.
fn csv_lines(rows: impl Iterator<Item = Cells>) -> Result<Bytes, String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in rows {
        out.write_record(row.iter().map(|c| spreadsheet_safe(c)))
            .map_err(|e| e.to_string())?;
    }
    out.into_inner().map(Bytes::from).map_err(|e| e.to_string())
}

/// A CSV download: the header, then `first` and every batch `next` reads after the last
/// row of the one before, each sent as soon as it is read. A failure after the first
/// bytes ends the download short (the status line is already sent) and is logged.
pub fn csv<T, Next, Fut, C>(file_name: &str, header: &[&str], first: Vec<T>, next: Next, cells: C) -> Response
where
    T: Clone + Send + 'static,
    Next: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<T>, String>> + Send + 'static,
    C: Fn(&T) -> Cells + Send + Sync + 'static,
{
    let header = csv_lines(std::iter::once(header.iter().map(|h| h.to_string()).collect()));
    let lines = spreadsheet::batches(first, next).map(move |batch| batch.and_then(|rows| csv_lines(rows.iter().map(&cells))));
    let body = futures_util::stream::once(std::future::ready(header))
        .chain(lines)
        .map(|part| part.map_err(std::io::Error::other));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// An XLSX download of `first` and every batch `next` reads, one row each.
pub async fn xlsx<T, Next, Fut, C>(file_name: &str, sheet: Sheet<'_>, first: Vec<T>, next: Next, cells: C) -> Result<Response, PageError>
where
    T: Clone + Send + 'static,
    Next: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<T>, String>> + Send + 'static,
    C: Fn(&T) -> Cells + Send + Sync + 'static,
{
    let file = temporary()?;
    spreadsheet::write_xlsx(file.path(), sheet, spreadsheet::batches(first, next), cells, None)
        .await
        .map_err(failed)?;
    send_file(file, file_name, XLSX).await
}

fn failed(e: String) -> PageError {
    PageError(Failure::Internal(format!("berkas ekspor tidak dapat dibuat: {e}")))
}

/// A temporary file for an export, removed when dropped.
pub fn temporary() -> Result<tempfile::NamedTempFile, PageError> {
    tempfile::NamedTempFile::new().map_err(|e| failed(e.to_string()))
}

/// Sends a finished export file in pieces of 64 KiB.
pub async fn send_file(file: tempfile::NamedTempFile, file_name: &str, content_type: &str) -> Result<Response, PageError> {
    // Opened before the temporary file is removed (when `file` is dropped): the open
    // file stays readable until it is sent.
    let sent = tokio::fs::File::open(file.path()).await.map_err(|e| failed(e.to_string()))?;
    let length = sent.metadata().await.map_err(|e| failed(e.to_string()))?.len();
    drop(file);
    let body = futures_util::stream::unfold(sent, |mut sent| async move {
        use tokio::io::AsyncReadExt;
        let mut chunk = vec![0u8; 64 * 1024];
        match sent.read(&mut chunk).await {
            Ok(0) => None,
            Ok(n) => {
                chunk.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), sent))
            }
            Err(e) => Some((Err(e), sent)),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
