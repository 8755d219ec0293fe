//! Reading the exports as they come: CSV in UTF-8 (with or without a byte-order mark),
//! UTF-16 or Windows-1252, with `,` `;` tab or `|` between cells, any line ends and
//! quoted line breaks; or an XLSX workbook (first sheet), read cell by cell. Both end up
//! as one UTF-8 CSV text, read record by record, so the checks see one kind of table.
//!
//! A file is hostile until read: the limits below are decided before reading and
//! enforced while reading, so no file up to the upload limit can make the process hold
//! more than a bounded amount (an XLSX is a ZIP whose parts can inflate a thousandfold;
//! one cell far away must not make rows or columns appear in between).

mod file;
mod workbook;

use std::io::{Cursor, Read};
use std::sync::Arc;

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
    text: Text,
}

/// The table's CSV text (UTF-8), shared by its readers without copies: in memory for a
/// small text, else a file (the upload itself when it is UTF-8 already, or a temporary
/// file the text was decoded into, removed with the table).
#[derive(Clone)]
enum Text {
    Memory(Arc<Vec<u8>>),
    File(Arc<TextFile>),
}

struct TextFile {
    path: file::TextPath,
    /// Bytes before the text (a byte-order mark).
    skip: u64,
}

/// Bytes of memory text, for `Cursor`.
#[derive(Clone)]
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Text {
    /// The text's length in bytes.
    fn len(&self) -> Result<u64, Error> {
        Ok(match self {
            Text::Memory(bytes) => bytes.len() as u64,
            Text::File(file) => file.len()?,
        })
    }

    /// A reader from the text's first byte.
    fn open(&self) -> Result<Box<dyn Read + Send>, Error> {
        Ok(match self {
            Text::Memory(bytes) => Box::new(Cursor::new(Shared(bytes.clone()))),
            Text::File(file) => Box::new(file.open()?),
        })
    }
}

/// The data records of a table, each with the row number a spreadsheet shows (the
/// header is row 1).
pub struct Records {
    reader: csv::Reader<Box<dyn Read + Send>>,
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

/// What a table may hold; past any of these the file is refused with the reason.
pub mod limits {
    /// Rows, the header included: a spreadsheet's own maximum.
    pub const ROWS: usize = 1_048_576;
    /// Columns: far more than any register export has.
    pub const COLUMNS: usize = 256;
    /// Characters in one cell: a spreadsheet's own maximum.
    pub const CELL_CHARS: usize = 32_767;
    /// The table as CSV text, after decoding (the same as the largest upload; a text
    /// this large is read from a file, never held).
    pub const TEXT_BYTES: usize = 256 * 1024 * 1024;
    /// A workbook's parts once inflated: the shared strings (held whole while reading),
    /// any one part, all parts together, and how many parts.
    pub const SHARED_STRINGS_BYTES: u64 = 32 * 1024 * 1024;
    pub const PART_BYTES: u64 = 256 * 1024 * 1024;
    pub const WORKBOOK_BYTES: u64 = 512 * 1024 * 1024;
    pub const PARTS: usize = 10_000;
}

/// "A", "Z", "AA", …, "XFD": the column's name as a spreadsheet shows it.
pub fn column_name(index: usize) -> String {
    let mut n = index + 1;
    let mut name = Vec::new();
    while n > 0 {
        name.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// A text past `limits::TEXT_BYTES`, however it was read.
fn text_too_large() -> Error {
    too_large(format!(
        "berkas lebih dari {} MB setelah dibaca sebagai teks",
        limits::TEXT_BYTES / 1024 / 1024
    ))
}

fn too_large(what: String) -> Error {
    Error::Unreadable(format!("{what}; simpan ulang hanya kolom dan baris yang diperlukan"))
}

fn thousands(n: usize) -> String {
    crate::text::thousands(n as i64)
}

/// A row number past a worksheet's own maximum.
fn check_line(line: usize) -> Result<(), Error> {
    if line > limits::ROWS {
        return Err(too_large(format!(
            "berkas memuat lebih dari {} baris, batas sebuah lembar kerja",
            thousands(limits::ROWS)
        )));
    }
    Ok(())
}

/// A cell past the column limit or too long (`line` and `column` as a spreadsheet shows them).
fn check_cell(line: usize, column: usize, cell: &str) -> Result<(), Error> {
    if column >= limits::COLUMNS {
        return Err(too_large(format!(
            "sel {}{line} ada di luar {} kolom pertama",
            column_name(column),
            limits::COLUMNS
        )));
    }
    // Bytes bound characters from above: count only when it could matter.
    if cell.len() > limits::CELL_CHARS && cell.chars().count() > limits::CELL_CHARS {
        return Err(too_large(format!(
            "sel {}{line} memuat lebih dari {} karakter",
            column_name(column),
            thousands(limits::CELL_CHARS)
        )));
    }
    Ok(())
}

/// Checks one record of a CSV text against the limits.
fn check_record(line: usize, record: &csv::StringRecord) -> Result<(), Error> {
    check_line(line)?;
    if record.len() > limits::COLUMNS {
        return Err(too_large(format!(
            "baris {line} memuat {} kolom; paling banyak {} kolom",
            thousands(record.len()),
            limits::COLUMNS
        )));
    }
    record
        .iter()
        .enumerate()
        .try_for_each(|(column, cell)| check_cell(line, column, cell))
}

impl Table {
    /// A table from a file in memory (a form's few rows, tests).
    pub fn open(bytes: &[u8]) -> Result<Table, Error> {
        if bytes.starts_with(ZIP_MAGIC) {
            return workbook::open_workbook(Cursor::new(bytes));
        }
        refuse_xls(bytes)?;
        let (text, encoding, byte_order_mark) = decode(bytes);
        if text.trim().is_empty() {
            return Err(Error::Unreadable("berkas kosong".into()));
        }
        let line_ends = line_ends(&text);
        let delimiter = sniff_delimiter(&text);
        if text.len() > limits::TEXT_BYTES {
            return Err(text_too_large());
        }
        check_csv(text.as_bytes(), delimiter)?;
        let text = Text::Memory(Arc::new(text.into_owned().into_bytes()));
        Table::csv(text, encoding, byte_order_mark, delimiter, line_ends)
    }

    /// A CSV table over a text already checked against the limits: its layout and headers.
    fn csv(text: Text, encoding: &'static str, byte_order_mark: bool, delimiter: u8, line_ends: &'static str) -> Result<Table, Error> {
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
            text,
        };
        table.headers = table.read_headers()?;
        Ok(table)
    }

    fn reader(&self) -> Result<csv::Reader<Box<dyn Read + Send>>, Error> {
        Ok(csv::ReaderBuilder::new()
            .delimiter(self.layout.delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(self.text.open()?))
    }

    fn read_headers(&self) -> Result<Vec<String>, Error> {
        let mut reader = self.reader()?;
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

    /// About how many records the table holds, from its size and its first lines (the
    /// rows are not counted: that would be a read of the whole file).
    pub fn estimated_rows(&self) -> usize {
        let (Ok(mut text), Ok(size)) = (self.text.open(), self.text.len()) else {
            return 0;
        };
        let mut sample = Vec::with_capacity(64 * 1024);
        let _ = (&mut text).take(64 * 1024).read_to_end(&mut sample);
        let lines = sample.iter().filter(|&&b| b == b'\n' || b == b'\r').count().max(1);
        let estimate = (size as usize).saturating_mul(lines) / sample.len().max(1);
        estimate.min(limits::ROWS)
    }

    /// The records after the header. A text file that went away since the table was
    /// opened reads as no records.
    pub fn records(&self) -> Records {
        let reader = self
            .reader()
            .unwrap_or_else(|_| csv::ReaderBuilder::new().from_reader(Box::new(std::io::empty()) as Box<dyn Read + Send>));
        let mut records = Records {
            reader,
            record: csv::StringRecord::new(),
            index: 0,
        };
        // The header was read once already; reading it again only skips it.
        let _ = records.reader.headers();
        records
    }
}

/// How the lines of a text end, as the report names it.
fn line_ends(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "CRLF"
    } else if text.contains('\n') {
        "LF"
    } else if text.contains('\r') {
        "CR"
    } else {
        "LF"
    }
}

/// An Excel 97–2003 file, named as such.
fn refuse_xls(head: &[u8]) -> Result<(), Error> {
    if head.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(Error::Unreadable(
            "berkas .xls (Excel 97–2003) tidak didukung; simpan ulang sebagai .xlsx atau .csv".into(),
        ));
    }
    Ok(())
}

/// Every record of a CSV text against the limits, before anything else reads it.
fn check_csv(text: impl Read, delimiter: u8) -> Result<(), Error> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text);
    let mut record = csv::StringRecord::new();
    let mut line = 0;
    // A record that cannot be read is reported row by row later, with its line.
    while let Ok(true) = reader.read_record(&mut record) {
        line += 1;
        check_record(line, &record)?;
    }
    Ok(())
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

    /// A workbook written by hand, so a test can hold what no spreadsheet writes: a cell
    /// far away, a part that inflates past its limit.
    fn workbook(sheet_rows: &str, shared_strings: Option<&[u8]>, padding: u64) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(padding > u32::MAX as u64 / 2);
        let parts: [(&str, &str); 4] = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
            ),
        ];
        for (name, text) in parts {
            zip.start_file(name, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#)
            .unwrap();
        zip.write_all(sheet_rows.as_bytes()).unwrap();
        // Whitespace between rows: what a bomb inflates to.
        let block = vec![b' '; 1 << 20];
        for _ in 0..padding / (1 << 20) {
            zip.write_all(&block).unwrap();
        }
        zip.write_all(b"</sheetData></worksheet>").unwrap();
        if let Some(strings) = shared_strings {
            zip.start_file("xl/sharedStrings.xml", options).unwrap();
            zip.write_all(strings).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn inline(cell: &str, text: &str) -> String {
        format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    fn refusal(bytes: &[u8]) -> String {
        match Table::open(bytes) {
            Ok(_) => panic!("a hostile file was read"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_hand_written_workbook_is_read() {
        let sheet = format!(
            r#"<row r="1">{}</row><row r="3">{}</row>"#,
            inline("A1", "NIK"),
            inline("A3", "6409014205668780")
        );
        let table = Table::open(&workbook(&sheet, None, 0)).unwrap();
        assert_eq!(table.headers, ["NIK"]);
        assert_eq!(rows(&table), [(3, vec!["6409014205668780".to_string()])]);
    }

    #[test]
    fn a_cell_far_down_or_far_right_is_refused_not_filled_in() {
        let far_down = format!(
            r#"<row r="1">{}</row><row r="200000000">{}</row>"#,
            inline("A1", "NIK"),
            inline("A200000000", "x")
        );
        assert!(refusal(&workbook(&far_down, None, 0)).contains("1.048.576 baris"));
        let far_right = format!(
            r#"<row r="1">{}</row><row r="2">{}</row>"#,
            inline("A1", "NIK"),
            inline("XFD2", "x")
        );
        let message = refusal(&workbook(&far_right, None, 0));
        assert!(message.contains("sel XFD2") && message.contains("256 kolom"), "{message}");
    }

    #[test]
    fn parts_that_inflate_past_their_limit_are_refused() {
        let header = format!(r#"<row r="1">{}</row>"#, inline("A1", "NIK"));
        let sheet_bomb = workbook(&header, None, limits::PART_BYTES + (1 << 20));
        // A few MB on the wire, a hundred times that inflated.
        assert!(sheet_bomb.len() < 4 * 1024 * 1024, "{}", sheet_bomb.len());
        assert!(refusal(&sheet_bomb).contains("mengembang"));
        let mut strings = br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#.to_vec();
        strings.resize(strings.len() + limits::SHARED_STRINGS_BYTES as usize, b'x');
        strings.extend_from_slice(b"</t></si></sst>");
        let message = refusal(&workbook(&header, Some(&strings), 0));
        assert!(message.contains("sharedStrings.xml"), "{message}");
    }

    #[test]
    fn csv_past_the_columns_rows_or_cell_length_is_refused() {
        let wide = "a,".repeat(1_000_000);
        assert!(refusal(wide.as_bytes()).contains("paling banyak 256 kolom"));
        let long = format!("NIK\n1\n{}", "1\n".repeat(limits::ROWS));
        assert!(refusal(long.as_bytes()).contains("1.048.576 baris"));
        let cell = format!("NIK,Nama\n1,{}\n", "x".repeat(limits::CELL_CHARS + 1));
        assert!(refusal(cell.as_bytes()).contains("sel B2"));
        // Up to the limits is fine.
        let wide_enough = format!("{}\n", vec!["k"; limits::COLUMNS].join(","));
        assert_eq!(Table::open(wide_enough.as_bytes()).unwrap().headers.len(), limits::COLUMNS);
    }

    #[test]
    fn columns_are_named_as_a_spreadsheet_names_them() {
        assert_eq!([0, 25, 26, 255, 16_383].map(column_name), ["A", "Z", "AA", "IV", "XFD"]);
    }
}
