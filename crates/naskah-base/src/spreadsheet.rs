//! Exports of long lists with memory flat at any length. Rows are read in batches by a
//! keyset cursor (each batch starts after the last row of the one before, one range of
//! an index), so a list of a million rows costs what one batch costs; a workbook is
//! written row by row to a file in rust_xlsxwriter's constant-memory mode. Every cell
//! is text, defused for spreadsheets ([`crate::text::spreadsheet_safe`]).

use std::{future::Future, path::Path, sync::Arc};

use futures_util::{Stream, StreamExt};

use crate::text::spreadsheet_safe;

/// Rows an export reads at a time.
pub const BATCH: i64 = 2_000;

/// One row of an export: its cells as text.
pub type Cells = Vec<String>;

/// `first`, then each batch `next` reads after the last row of the one before, until a
/// batch is shorter than [`BATCH`]; a failed read is the stream's last item.
pub fn batches<T, Next, Fut>(first: Vec<T>, next: Next) -> impl Stream<Item = Result<Vec<T>, String>> + Send
where
    T: Clone + Send + 'static,
    Next: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<T>, String>> + Send + 'static,
{
    let next = Arc::new(next);
    futures_util::stream::unfold(Some(Ok(first)), move |state: Option<Result<Vec<T>, String>>| {
        let next = next.clone();
        async move {
            match state? {
                Err(e) => {
                    tracing::error!(error = %e, "ekspor terputus");
                    Some((Err(e), None))
                }
                Ok(batch) if batch.is_empty() => None,
                Ok(batch) if (batch.len() as i64) < BATCH => Some((Ok(batch), Some(Ok(Vec::new())))),
                Ok(batch) => {
                    let last = batch.last().cloned().expect("a full batch");
                    let following = next(last).await;
                    Some((Ok(batch), Some(following)))
                }
            }
        }
    })
}

/// A sheet of a workbook: its name, the header (in bold) and the columns' widths in
/// characters.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub header: &'a [&'a str],
    pub widths: &'a [f64],
}

/// Writes a workbook to `path`: `sheet` with the rows of every batch as text cells
/// (`cells` is called on the rows in order), then, when `about` has lines, a second sheet
/// of that name with one line per row. Returns how many rows were written.
pub async fn write_xlsx<T, C>(
    path: &Path,
    sheet: Sheet<'_>,
    rows: impl Stream<Item = Result<Vec<T>, String>>,
    cells: C,
    about: Option<(&str, Vec<String>)>,
) -> Result<u32, String>
where
    T: Send + 'static,
    C: Fn(&T) -> Cells + Send + Sync + 'static,
{
    let failed = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let cells = Arc::new(cells);
    let mut book = rust_xlsxwriter::Workbook::new();
    {
        let data = book.add_worksheet_with_constant_memory();
        data.set_name(sheet.name).map_err(failed)?;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (col, title) in sheet.header.iter().enumerate() {
            data.write_string_with_format(0, col as u16, *title, &bold).map_err(failed)?;
        }
        for (col, width) in sheet.widths.iter().enumerate() {
            data.set_column_width(col as u16, *width).map_err(failed)?;
        }
    }
    let mut row = 1u32;
    let mut rows = Box::pin(rows);
    while let Some(batch) = rows.next().await {
        let batch = batch?;
        let cells = cells.clone();
        // Writing is CPU work (and file writes): off the async threads, a batch at a time.
        let (returned, written) = tokio::task::spawn_blocking(move || {
            let written = write_rows(&mut book, row, &batch, &*cells);
            (book, written)
        })
        .await
        .map_err(|e| e.to_string())?;
        book = returned;
        row = written?;
    }
    if let Some((name, lines)) = about.filter(|(_, lines)| !lines.is_empty()) {
        let notes = book.add_worksheet();
        notes.set_name(name).map_err(failed)?;
        for (i, line) in lines.iter().enumerate() {
            notes.write_string(i as u32, 0, spreadsheet_safe(line)).map_err(failed)?;
        }
    }
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || book.save(&path).map_err(failed))
        .await
        .map_err(|e| e.to_string())??;
    Ok(row - 1)
}

/// Writes `batch` from row `row` of the first sheet; returns the next free row.
fn write_rows<T>(book: &mut rust_xlsxwriter::Workbook, mut row: u32, batch: &[T], cells: &dyn Fn(&T) -> Cells) -> Result<u32, String> {
    let sheet = book.worksheet_from_index(0).map_err(|e| e.to_string())?;
    for item in batch {
        for (col, cell) in cells(item).iter().enumerate() {
            sheet
                .write_string(row, col as u16, spreadsheet_safe(cell))
                .map_err(|e| e.to_string())?;
        }
        row += 1;
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_follow_the_cursor_and_the_workbook_holds_every_row() {
        // 4,500 numbers in batches of 2,000 read after the last one sent.
        let first: Vec<u32> = (1..=2_000).collect();
        let next = |last: u32| async move { Ok::<_, String>((last + 1..=(last + BATCH as u32).min(4_500)).collect()) };
        let all: Vec<Vec<u32>> = batches(first.clone(), next).map(|b| b.unwrap()).collect().await;
        assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), vec![2_000, 2_000, 500]);
        assert_eq!(all.concat(), (1..=4_500).collect::<Vec<_>>());
        // A failed read ends the stream with the error.
        let broken = |_: u32| async { Err::<Vec<u32>, _>("putus".to_string()) };
        let parts: Vec<_> = batches(first.clone(), broken).collect().await;
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], Err("putus".to_string()));

        let dir = std::env::temp_dir().join(format!("naskah-spreadsheet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("uji.xlsx");
        let sheet = Sheet {
            name: "Data",
            header: &["angka", "rumus"],
            widths: &[10.0, 10.0],
        };
        let written = write_xlsx(
            &path,
            sheet,
            batches(first, next),
            |n: &u32| vec![n.to_string(), "=1+1".to_string()],
            Some(("Keterangan", vec!["uji".to_string()])),
        )
        .await
        .unwrap();
        assert_eq!(written, 4_500);
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        let data = book.worksheet_range("Data").unwrap();
        assert_eq!(data.height(), 4_501);
        assert_eq!(data.get((4_500, 0)).unwrap().to_string(), "4500");
        // Text, never a formula.
        assert_eq!(data.get((1, 1)).unwrap().to_string(), "'=1+1");
        assert_eq!(book.worksheet_range("Keterangan").unwrap().get((0, 0)).unwrap().to_string(), "uji");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
