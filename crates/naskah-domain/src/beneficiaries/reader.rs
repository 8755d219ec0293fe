//! Reading the exports as they come: CSV in UTF-8 (with or without a byte-order mark),
//! UTF-16 or Windows-1252, with `,` `;` tab or `|` between cells, any line ends and
//! quoted line breaks; or an XLSX workbook (first sheet), read cell by cell. Both end up
//! as one UTF-8 CSV text, read record by record, so the checks see one kind of table.

use std::io::Cursor;

use std::sync::Arc;

use calamine::{DataRef, Reader, Xlsx};

use super::Error;

/// What the file turned out to be, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `csv` or `xlsx`.
    pub format: &'static str,
    pub encoding: &'static str,
    pub byte_order_mark: bool,
    pub delimiter: u8,
    /// `CRLF`, `LF`, `CR` or empty for a workbook.
    pub line_ends: &'static str,
    /// The sheet read, for a workbook.
    pub sheet: String,
}

impl Layout {
    /// "CSV, UTF-8 dengan BOM, pemisah ';', akhir baris CRLF".
    pub fn describe(&self) -> String {
        if self.format == "xlsx" {
            return format!("XLSX, lembar \"{}\"", self.sheet);
        }
        let delimiter = match self.delimiter {
            b'\t' => "tab".to_string(),
            d => format!("'{}'", d as char),
        };
        format!(
            "CSV, {}{}, pemisah {delimiter}, akhir baris {}",
            self.encoding,
            if self.byte_order_mark { " dengan BOM" } else { "" },
            self.line_ends
        )
    }
}

/// A file made readable: its headers and its records.
pub struct Table {
    pub layout: Layout,
    pub headers: Vec<String>,
    text: Arc<[u8]>,
}

/// The data records of a table, each with the row number a spreadsheet shows (the
/// header is row 1).
pub struct Records {
    reader: csv::Reader<Cursor<Arc<[u8]>>>,
    record: csv::StringRecord,
    index: usize,
}

impl Records {
    /// The next record that is not empty, or a message for a record that cannot be read.
    pub fn next_record(&mut self) -> Option<(usize, Result<&csv::StringRecord, String>)> {
        loop {
            self.index += 1;
            let line = self.index + 1;
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) if self.record.iter().all(|c| c.trim().is_empty()) => continue,
                Ok(true) => return Some((line, Ok(&self.record))),
                Err(e) => return Some((line, Err(e.to_string()))),
            }
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

impl Table {
    pub fn open(bytes: &[u8]) -> Result<Table, Error> {
        if bytes.starts_with(ZIP_MAGIC) {
            return open_workbook(bytes);
        }
        if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
            return Err(Error::Unreadable(
                "berkas .xls (Excel 97–2003) tidak didukung; simpan ulang sebagai .xlsx atau .csv".into(),
            ));
        }
        let (text, encoding, byte_order_mark) = decode(bytes);
        if text.trim().is_empty() {
            return Err(Error::Unreadable("berkas kosong".into()));
        }
        let line_ends = if text.contains("\r\n") {
            "CRLF"
        } else if text.contains('\n') {
            "LF"
        } else if text.contains('\r') {
            "CR"
        } else {
            "LF"
        };
        let delimiter = sniff_delimiter(&text);
        let mut table = Table {
            layout: Layout {
                format: "csv",
                encoding,
                byte_order_mark,
                delimiter,
                line_ends,
                sheet: String::new(),
            },
            headers: Vec::new(),
            text: Arc::from(text.as_bytes()),
        };
        table.headers = table.read_headers()?;
        Ok(table)
    }

    fn reader(&self) -> csv::Reader<Cursor<Arc<[u8]>>> {
        csv::ReaderBuilder::new()
            .delimiter(self.layout.delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(Cursor::new(self.text.clone()))
    }

    fn read_headers(&self) -> Result<Vec<String>, Error> {
        let mut reader = self.reader();
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| Error::Unreadable(format!("baris judul tidak dapat dibaca: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(Error::Unreadable("baris pertama (judul kolom) kosong".into()));
        }
        Ok(headers)
    }

    /// The first column whose header is one of `names` (compared normalised: lower case,
    /// punctuation as spaces).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| names.contains(&crate::text::normalise_header(h).as_str()))
    }

    /// The records after the header.
    pub fn records(&self) -> Records {
        let mut reader = self.reader();
        // The header was read once already; reading it again only skips it.
        let _ = reader.headers();
        Records {
            reader,
            record: csv::StringRecord::new(),
            index: 0,
        }
    }
}

/// The text of a CSV file and the name of its encoding.
/// A file in UTF-8 is borrowed, not copied: a large export is held once.
fn decode(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, &'static str, bool) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest), "UTF-8", true);
    }
    for (bom, encoding, name) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, "UTF-16LE"),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, "UTF-16BE"),
    ] {
        if bytes.starts_with(bom) {
            let (text, _) = encoding.decode_with_bom_removal(bytes);
            return (text, name, true);
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (std::borrow::Cow::Borrowed(text), "UTF-8", false),
        // Spreadsheets on Windows save "CSV" in the ANSI code page.
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text, "Windows-1252", false)
        }
    }
}

/// The delimiter used most in the first line, outside quotes.
fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for c in text.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(slot) = counts.iter_mut().find(|(d, _)| *d == c) {
                    slot.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| *d)
}

/// A workbook's first sheet, read cell by cell (a whole sheet is never held as cells)
/// and written out as CSV. Rows the sheet skips are kept as empty records, so the row
/// numbers of the report are those of the sheet.
fn open_workbook(bytes: &[u8]) -> Result<Table, Error> {
    let unreadable = |e: calamine::XlsxError| Error::Unreadable(format!("berkas XLSX tidak dapat dibaca: {e}"));
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| Error::Unreadable("buku kerja tidak memuat lembar".into()))?;
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
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
    let text = out.into_inner().map_err(|e| Error::Unreadable(e.to_string()))?;
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
        text: text.into(),
    };
    table.headers = table.read_headers()?;
    Ok(table)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(table: &Table) -> Vec<(usize, Vec<String>)> {
        let mut records = table.records();
        let mut out = Vec::new();
        while let Some((line, record)) = records.next_record() {
            out.push((line, record.unwrap().iter().map(str::to_string).collect()));
        }
        out
    }

    #[test]
    fn semicolons_bom_crlf_and_quoted_line_breaks() {
        let bytes = "\u{feff}NIK;Nama;Alamat\r\n6409014205668780;NUR;\"RT 012\r\nPejala\"\r\n\r\n6409011305657105;DARMAWAN;RT 3\r\n";
        let table = Table::open(bytes.as_bytes()).unwrap();
        assert_eq!(table.headers, ["NIK", "Nama", "Alamat"]);
        assert_eq!(table.layout.describe(), "CSV, UTF-8 dengan BOM, pemisah ';', akhir baris CRLF");
        let rows = rows(&table);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1[2], "RT 012\r\nPejala");
        assert_eq!(rows[0].0, 2);
    }

    #[test]
    fn windows_1252_and_utf16_are_decoded() {
        let latin = b"NIK,Nama\n6409014205668780,Andr\xe9\n";
        let table = Table::open(latin).unwrap();
        assert_eq!(table.layout.encoding, "Windows-1252");
        assert_eq!(rows(&table)[0].1[1], "André");

        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "NIK\tNama\r\n1\tÉ\r\n".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        let table = Table::open(&utf16).unwrap();
        assert_eq!(table.layout.encoding, "UTF-16LE");
        assert_eq!(table.layout.delimiter, b'\t');
        assert_eq!(rows(&table)[0].1, ["1", "É"]);
    }

    #[test]
    fn old_mac_line_ends_and_pipes() {
        let table = Table::open(b"NIK|Nama\r1|A\r2|B\r").unwrap();
        assert_eq!(table.layout.line_ends, "CR");
        assert_eq!(rows(&table).len(), 2);
    }

    #[test]
    fn an_xls_file_is_named_as_such() {
        let err = Table::open(b"\xD0\xCF\x11\xE0rest").err().unwrap();
        assert!(err.to_string().contains(".xls"));
        assert!(Table::open(b"  \n").is_err());
    }

    #[test]
    fn a_workbook_is_read_with_dates_and_long_numbers() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "NIK").unwrap();
        sheet.write_string(0, 1, "Nama").unwrap();
        sheet.write_string(0, 2, "Tanggal Lahir").unwrap();
        sheet.write_string(1, 0, "6409014205668780").unwrap();
        sheet.write_string(1, 1, "NUR").unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1966, 5, 2).unwrap();
        let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
        sheet.write_datetime_with_format(1, 2, &date, &format).unwrap();
        // Row 3 left empty; row 4 has a NIK typed as a number.
        sheet.write_number(3, 0, 6409011305657105.0).unwrap();
        sheet.write_string(3, 1, "DARMAWAN").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let table = Table::open(&bytes).unwrap();
        assert_eq!(table.layout.format, "xlsx");
        assert_eq!(table.headers, ["NIK", "Nama", "Tanggal Lahir"]);
        let rows = rows(&table);
        assert_eq!(rows[0], (2, vec!["6409014205668780".into(), "NUR".into(), "1966-05-02".into()]));
        assert_eq!(rows[1].0, 4);
        assert!(rows[1].1[0].contains("E+15"), "{:?}", rows[1]);
    }
}
