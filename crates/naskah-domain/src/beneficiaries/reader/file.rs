//! Tables read from a file on disk, so that an upload of any size is never held in
//! memory: a UTF-8 file is read where it lies; UTF-16 and Windows-1252 are decoded into
//! a temporary UTF-8 file as they stream; a workbook is written out as CSV.

use std::{
    fs::File,
    io::{BufWriter, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::*;

/// Where a table's text lies: the caller's file (left as it is) or a temporary one
/// (removed with the table).
pub(super) enum TextPath {
    Caller(PathBuf),
    Temporary(tempfile::TempPath),
}

impl TextFile {
    pub(super) fn open(&self) -> Result<File, Error> {
        let path: &Path = match &self.path {
            TextPath::Caller(path) => path,
            TextPath::Temporary(path) => path,
        };
        let mut file = File::open(path).map_err(io_unreadable)?;
        file.seek(SeekFrom::Start(self.skip)).map_err(io_unreadable)?;
        Ok(file)
    }
}

impl TextFile {
    pub(super) fn len(&self) -> Result<u64, Error> {
        text_len(self)
    }
}

pub(super) fn io_unreadable(e: std::io::Error) -> Error {
    Error::Unreadable(format!("berkas tidak dapat dibaca ({e})"))
}

/// Bytes read at a time.
const BLOCK: usize = 64 * 1024;

impl Table {
    /// A table from a file on disk (an upload, a kept import), read as it streams.
    pub fn open_file(path: &Path) -> Result<Table, Error> {
        let mut file = File::open(path).map_err(io_unreadable)?;
        let mut head = [0u8; 4];
        let head_len = read_up_to(&mut file, &mut head)?;
        let head = &head[..head_len];
        if head.starts_with(ZIP_MAGIC) {
            return workbook::open_workbook(std::io::BufReader::new(File::open(path).map_err(io_unreadable)?));
        }
        refuse_xls(head)?;
        let (text, encoding, byte_order_mark) = utf8_text(path, head)?;
        let sample = read_sample(&text)?;
        let sample = String::from_utf8_lossy(&sample);
        let length = text_len(&text)?;
        if sample.trim().is_empty() && length <= BLOCK as u64 {
            return Err(Error::Unreadable("berkas kosong".into()));
        }
        if length > limits::TEXT_BYTES as u64 {
            return Err(text_too_large());
        }
        let delimiter = sniff_delimiter(&sample);
        check_csv(std::io::BufReader::with_capacity(BLOCK, text.open()?), delimiter)?;
        Table::csv(Text::File(Arc::new(text)), encoding, byte_order_mark, delimiter, line_ends(&sample))
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> Result<usize, Error> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]).map_err(io_unreadable)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The first block of the text: enough to see its delimiter and line ends.
fn read_sample(text: &TextFile) -> Result<Vec<u8>, Error> {
    let mut sample = vec![0; BLOCK];
    let n = read_up_to(&mut text.open()?, &mut sample)?;
    sample.truncate(n);
    Ok(sample)
}

fn text_len(text: &TextFile) -> Result<u64, Error> {
    let mut file = text.open()?;
    let end = file.seek(SeekFrom::End(0)).map_err(io_unreadable)?;
    Ok(end.saturating_sub(text.skip))
}

/// The file as UTF-8 text, with the name of its encoding and whether it began with a
/// byte-order mark (the same choices as `decode` makes for a file in memory).
fn utf8_text(path: &Path, head: &[u8]) -> Result<(TextFile, &'static str, bool), Error> {
    let caller = |skip| TextFile {
        path: TextPath::Caller(path.to_path_buf()),
        skip,
    };
    if head.starts_with(b"\xEF\xBB\xBF") {
        if is_utf8(path, 3)? {
            return Ok((caller(3), "UTF-8", true));
        }
        return Ok((decoded(path, 3, UTF_8)?, "UTF-8", true));
    }
    if head.starts_with(b"\xFF\xFE") {
        return Ok((decoded(path, 2, UTF_16LE)?, "UTF-16LE", true));
    }
    if head.starts_with(b"\xFE\xFF") {
        return Ok((decoded(path, 2, UTF_16BE)?, "UTF-16BE", true));
    }
    if is_utf8(path, 0)? {
        return Ok((caller(0), "UTF-8", false));
    }
    // Spreadsheets on Windows save "CSV" in the ANSI code page.
    Ok((decoded(path, 0, WINDOWS_1252)?, "Windows-1252", false))
}

/// Whether the file from `skip` on is valid UTF-8, read block by block (a character cut
/// by a block's end is carried into the next).
fn is_utf8(path: &Path, skip: u64) -> Result<bool, Error> {
    let mut file = File::open(path).map_err(io_unreadable)?;
    file.seek(SeekFrom::Start(skip)).map_err(io_unreadable)?;
    let mut buf = vec![0u8; BLOCK];
    let mut carried = 0;
    loop {
        let n = file.read(&mut buf[carried..]).map_err(io_unreadable)?;
        if n == 0 {
            return Ok(carried == 0);
        }
        let filled = carried + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carried = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carried = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// The file from `skip` on decoded from `encoding` into a temporary UTF-8 file, block
/// by block, stopping past the text limit.
fn decoded(path: &Path, skip: u64, encoding: &'static Encoding) -> Result<TextFile, Error> {
    let mut file = File::open(path).map_err(io_unreadable)?;
    file.seek(SeekFrom::Start(skip)).map_err(io_unreadable)?;
    let temp = tempfile::NamedTempFile::new().map_err(io_unreadable)?;
    let mut out = BufWriter::new(temp.reopen().map_err(io_unreadable)?);
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut buf = vec![0u8; BLOCK];
    let mut text = String::new();
    let mut written = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io_unreadable)?;
        let last = n == 0;
        text.clear();
        text.reserve(decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16));
        let _ = decoder.decode_to_string(&buf[..n], &mut text, last);
        written += text.len() as u64;
        if written > limits::TEXT_BYTES as u64 {
            return Err(text_too_large());
        }
        out.write_all(text.as_bytes()).map_err(io_unreadable)?;
        if last {
            break;
        }
    }
    out.flush().map_err(io_unreadable)?;
    Ok(TextFile {
        path: TextPath::Temporary(temp.into_temp_path()),
        skip: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_disk(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    fn rows(table: &Table) -> Vec<Vec<String>> {
        let mut records = table.records();
        let mut out = Vec::new();
        while let Some((_, record)) = records.next_record() {
            out.push(record.unwrap().iter().map(str::to_string).collect());
        }
        out
    }

    #[test]
    fn a_file_reads_as_the_same_bytes_in_memory_do() {
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "NIK\tNama\r\n1\tÉ\r\n".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        let cases: Vec<Vec<u8>> = vec![
            "\u{feff}NIK;Nama;Alamat\r\n64;NUR;\"RT 012\r\nPejala\"\r\n".into(),
            b"NIK,Nama\n6409014205668780,Andr\xe9\n".to_vec(),
            utf16,
            b"NIK|Nama\r1|A\r2|B\r".to_vec(),
        ];
        for bytes in cases {
            let file = on_disk(&bytes);
            let (from_file, in_memory) = (Table::open_file(file.path()).unwrap(), Table::open(&bytes).unwrap());
            assert_eq!(from_file.layout, in_memory.layout);
            assert_eq!(from_file.headers, in_memory.headers);
            assert_eq!(rows(&from_file), rows(&in_memory));
        }
        assert!(Table::open_file(on_disk(b"  \n").path()).is_err());
        assert!(Table::open_file(on_disk(b"\xD0\xCF\x11\xE0rest").path()).is_err());
    }

    #[test]
    fn a_character_cut_by_a_block_end_is_still_utf8() {
        // "é" (two bytes) straddles the first block's end.
        let mut text = String::from("NIK,Nama\n");
        while text.len() < BLOCK - 64 {
            text.push_str("1,abcdefghij\n");
        }
        text.push_str("1,");
        while text.len() < BLOCK - 1 {
            text.push('a');
        }
        text.push_str("é\n");
        let file = on_disk(text.as_bytes());
        assert!(is_utf8(file.path(), 0).unwrap());
        assert_eq!(Table::open_file(file.path()).unwrap().layout.encoding, "UTF-8");
    }
}
