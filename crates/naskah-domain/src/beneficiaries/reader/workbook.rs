//! Reading an XLSX workbook's first sheet, cell by cell, into a CSV file.

use std::io::{Read, Seek, Write};

use calamine::{DataRef, Reader, Xlsx};

use super::{file::io_unreadable, *};

/// A workbook's first sheet, read cell by cell (a whole sheet is never held as cells)
/// and written out as CSV to a temporary file. Rows the sheet skips are kept as empty
/// records, so the row numbers of the report are those of the sheet.
pub(super) fn open_workbook<R: Read + Seek>(mut source: R) -> Result<Table, Error> {
    check_inflated_sizes(&mut source)?;
    source.rewind().map_err(io_unreadable)?;
    let unreadable = |e: calamine::XlsxError| Error::Unreadable(format!("berkas XLSX tidak dapat dibaca: {e}"));
    let mut workbook: Xlsx<_> = Xlsx::new(source).map_err(unreadable)?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| Error::Unreadable("buku kerja tidak memuat lembar".into()))?;
    let temp = tempfile::NamedTempFile::new().map_err(io_unreadable)?;
    let file = temp.reopen().map_err(io_unreadable)?;
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Counting::new(std::io::BufWriter::new(file)));
    let mut row: Vec<String> = Vec::new();
    let mut row_index: Option<u32> = None;
    let mut first_row: Option<u32> = None;
    let write_error = |e: csv::Error| Error::Unreadable(e.to_string());
    {
        let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(unreadable)?;
        while let Some(cell) = cells.next_cell().map_err(unreadable)? {
            let (r, c) = cell.get_position();
            let text = cell_text(cell.get_value());
            if text.is_empty() {
                continue;
            }
            // Refused before any row or column in between is made.
            let (line, column) = (r as usize + 1, c as usize);
            check_line(line)?;
            check_cell(line, column, &text)?;
            if out.get_ref().written > limits::TEXT_BYTES as u64 {
                return Err(too_large(format!(
                    "lembar \"{sheet}\" lebih dari {} MB sebagai teks",
                    limits::TEXT_BYTES / 1024 / 1024
                )));
            }
            if row_index != Some(r) {
                if let Some(previous) = row_index {
                    out.write_record(&row).map_err(write_error)?;
                    // Rows without content in between stay as empty records.
                    for _ in previous + 1..r {
                        out.write_record([""]).map_err(write_error)?;
                    }
                }
                first_row.get_or_insert(r);
                row_index = Some(r);
                row.clear();
            }
            let column = c as usize;
            if row.len() <= column {
                row.resize(column + 1, String::new());
            }
            row[column] = text;
        }
    }
    if row_index.is_some() {
        out.write_record(&row).map_err(write_error)?;
    }
    out.into_inner()
        .map_err(|e| Error::Unreadable(e.to_string()))?
        .inner
        .flush()
        .map_err(io_unreadable)?;
    if first_row.is_none() {
        return Err(Error::Unreadable(format!("lembar \"{sheet}\" kosong")));
    }
    if first_row != Some(0) {
        return Err(Error::Unreadable(format!(
            "judul kolom harus ada di baris 1 lembar \"{sheet}\" (ditemukan di baris {})",
            first_row.unwrap_or_default() + 1
        )));
    }
    let mut table = Table {
        layout: Layout {
            format: "xlsx",
            encoding: "UTF-8",
            byte_order_mark: false,
            delimiter: b',',
            line_ends: "",
            sheet,
        },
        headers: Vec::new(),
        text: Text::File(Arc::new(TextFile {
            path: super::file::TextPath::Temporary(temp.into_temp_path()),
            skip: 0,
        })),
    };
    table.headers = table.read_headers()?;
    Ok(table)
}

/// Inflates every part of the workbook into nothing, counting, and stops at the first
/// part past its limit: the sizes a ZIP declares can lie, the inflated bytes cannot.
fn check_inflated_sizes<R: Read + Seek>(source: &mut R) -> Result<(), Error> {
    let unreadable = |e: zip::result::ZipError| Error::Unreadable(format!("berkas XLSX tidak dapat dibaca: {e}"));
    let mut archive = zip::ZipArchive::new(source).map_err(unreadable)?;
    if archive.len() > limits::PARTS {
        return Err(too_large(format!("berkas XLSX memuat {} bagian", thousands(archive.len()))));
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let part = archive.by_index(index).map_err(unreadable)?;
        let name = part.name().to_string();
        let limit = if name.ends_with("sharedStrings.xml") {
            limits::SHARED_STRINGS_BYTES
        } else {
            limits::PART_BYTES
        };
        let inflated = std::io::copy(&mut std::io::Read::take(part, limit + 1), &mut std::io::sink())
            .map_err(|e| Error::Unreadable(format!("berkas XLSX tidak dapat dibaca: {e}")))?;
        total += inflated;
        if inflated > limit || total > limits::WORKBOOK_BYTES {
            return Err(too_large(format!(
                "berkas XLSX mengembang menjadi lebih dari {} MB ({name})",
                limit.min(limits::WORKBOOK_BYTES) / 1024 / 1024
            )));
        }
    }
    Ok(())
}

/// A cell as text. Dates become YYYY-MM-DD. A number too long to be held exactly by a
/// spreadsheet (a NIK typed into a number cell) is shown in the scientific notation
/// the spreadsheet shows, so the NIK check names what happened.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.trim().to_string(),
        DataRef::SharedString(s) => s.trim().to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) if f.fract() == 0.0 => format!("{f:E}").replace('E', "E+"),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => dt
            .as_datetime()
            .map(|d| d.date().format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| dt.to_string()),
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    }
}

/// A writer that counts what went through it: the sheet's CSV is refused past its limit
/// while it is written, not after.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W> Counting<W> {
    fn new(inner: W) -> Self {
        Counting { inner, written: 0 }
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
