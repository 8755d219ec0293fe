//! The PAdES baseline B-B signature embedded in a final PDF, appended as an
//! incremental update (ISO 32000 §7.5.6) so that the bytes Typst wrote stay as they
//! are: a signature dictionary (/SubFilter /ETSI.CAdES.detached) whose /Contents holds
//! the CMS SignedData over every byte of the file except /Contents itself, an invisible
//! signature field on the first page, and the catalog's /AcroForm.

use std::fmt::Write as _;

use super::{
    DocumentSigner, SignError, cms,
    x509::{Algorithm, Certificate},
};

/// Bytes reserved for the CMS SignedData: two certificates and a signature take about
/// 1.3 KiB; the rest is room for the signature timestamp added later (a token with the
/// TSA's chain takes 2-6 KiB) and a longer chain (a state CA). A document timestamp
/// reserves as much.
const CONTENTS_RESERVED: usize = 16384;
const BYTE_RANGE_PLACEHOLDER: &str = "/ByteRange [0 ********** ********** **********]";

/// What the signature dictionary says besides the signature itself.
pub struct Details<'a> {
    /// /Name: the signer.
    pub name: &'a str,
    /// /Reason.
    pub reason: &'a str,
    /// /Location: the department's city.
    pub location: &'a str,
    /// /M: the claimed signing time (PAdES keeps it here, not in the CMS).
    pub signed_at: chrono::DateTime<chrono::FixedOffset>,
}

/// Appends a signature by `signer` to `pdf` (as written by Typst: a classic
/// cross-reference table).
pub fn sign(pdf: &[u8], signer: &dyn DocumentSigner, details: &Details<'_>) -> Result<Vec<u8>, SignError> {
    let structure = Structure::read(pdf).map_err(SignError::Pdf)?;
    let mut next = structure.size;
    let mut take = || {
        next += 1;
        next - 1
    };
    let (signature_id, widget_id) = (take(), take());
    let size = next;

    let mut catalog = structure.catalog.without(&["/AcroForm", "/Extensions", "/Version"]);
    write!(catalog, "/AcroForm <</Fields [{widget_id} 0 R] /SigFlags 3>>").ok();
    write!(catalog, "/Extensions <</ESIC <</BaseVersion /1.7 /ExtensionLevel 1>>").ok();
    if signer.algorithm() == Algorithm::Ed25519 {
        // ISO/TS 32002 brings EdDSA to PDF 2.0.
        catalog.push_str(
            " /ISO_ [<</Type /DeveloperExtensions /BaseVersion /2.0 /ExtensionLevel 32002 \
             /ExtensionRevision (:2022) /URL (https://www.iso.org/standard/45875.html)>>]",
        );
    }
    catalog.push_str(">>");
    if signer.algorithm() == Algorithm::Ed25519 {
        catalog.push_str(" /Version /2.0");
    }
    let mut page = structure.first_page.without(&["/Annots"]);
    let annots = match &structure.first_page_annots {
        Some(existing) => format!("/Annots [{existing} {widget_id} 0 R]"),
        None => format!("/Annots [{widget_id} 0 R]"),
    };
    page.push_str(&annots);

    let signature_dictionary = signature_placeholder(
        "/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached",
        &format!(
            "/M {} /Name {} /Reason {} /Location {}",
            text_string(&pdf_date(&details.signed_at)),
            text_string(details.name),
            text_string(details.reason),
            text_string(details.location),
        ),
    );
    let widget = format!(
        "<</Type /Annot /Subtype /Widget /FT /Sig /F 132 /Rect [0 0 0 0] /P {} 0 R /T {} /V {signature_id} 0 R>>",
        structure.first_page_id,
        text_string("Tanda tangan elektronik"),
    );
    let mut out = append_update(
        pdf,
        &structure,
        vec![
            (structure.root_id, format!("<<{catalog}>>").into_bytes()),
            (structure.first_page_id, format!("<<{page}>>").into_bytes()),
            (widget_id, widget.into_bytes()),
            (signature_id, signature_dictionary.into_bytes()),
        ],
        size,
    );
    let (contents_at, contents_end) = fill_byte_range(&mut out, structure.startxref)?;
    let digest = cms::content_digest(signer.algorithm(), &[&out[..contents_at], &out[contents_end..]]);
    let signed_data = cms::signed_data(signer, &digest)?;
    write_contents(&mut out, contents_at, contents_end, &signed_data)?;
    Ok(out)
}

/// Appends an incremental update to `pdf`: the given objects (new or replacing), a
/// cross-reference section for them and a trailer pointing back to the previous one.
pub(super) fn append_update(pdf: &[u8], structure: &Structure, objects: Vec<(u32, Vec<u8>)>, size: u32) -> Vec<u8> {
    let body_len: usize = objects.iter().map(|(_, body)| body.len() + 32).sum();
    let mut out = Vec::with_capacity(pdf.len() + body_len + 1024);
    out.extend_from_slice(pdf);
    if !pdf.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut offsets: Vec<(u32, usize)> = Vec::new();
    for (id, body) in &objects {
        offsets.push((*id, out.len()));
        out.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    offsets.sort();
    let mut xref = String::from("xref\n");
    let mut index = 0;
    while index < offsets.len() {
        let mut end = index + 1;
        while end < offsets.len() && offsets[end].0 == offsets[end - 1].0 + 1 {
            end += 1;
        }
        writeln!(xref, "{} {}", offsets[index].0, end - index).ok();
        for (_, offset) in &offsets[index..end] {
            write!(xref, "{offset:010} 00000 n\r\n").ok();
        }
        index = end;
    }
    write!(
        xref,
        "trailer\n<</Size {size} /Root {} 0 R /Prev {}",
        structure.root_id, structure.startxref
    )
    .ok();
    if let Some(info) = &structure.info {
        write!(xref, " /Info {info}").ok();
    }
    if let Some(id) = &structure.id {
        write!(xref, " /ID {id}").ok();
    }
    write!(xref, ">>\nstartxref\n{xref_at}\n%%EOF\n").ok();
    out.extend_from_slice(xref.as_bytes());
    out
}

/// Fills in the byte range of the signature dictionary written after `from` (every
/// byte but the hex string of /Contents); returns where that string starts and ends.
pub(super) fn fill_byte_range(out: &mut [u8], from: usize) -> Result<(usize, usize), SignError> {
    let placeholder_at = find(out, BYTE_RANGE_PLACEHOLDER.as_bytes(), from).ok_or(SignError::Pdf("tempat /ByteRange hilang"))?;
    let contents_at = placeholder_at + BYTE_RANGE_PLACEHOLDER.len() + " /Contents ".len();
    let contents_end = contents_at + CONTENTS_RESERVED * 2 + 2;
    if out.get(contents_at) != Some(&b'<') || out.get(contents_end - 1) != Some(&b'>') {
        return Err(SignError::Pdf("tempat /Contents tidak sesuai"));
    }
    let ranges = [0, contents_at, contents_end, out.len() - contents_end];
    let filled = format!("/ByteRange [{} {} {} {}]", ranges[0], ranges[1], ranges[2], ranges[3]);
    let padded = format!("{filled:<width$}", width = BYTE_RANGE_PLACEHOLDER.len());
    out[placeholder_at..placeholder_at + padded.len()].copy_from_slice(padded.as_bytes());
    Ok((contents_at, contents_end))
}

/// Writes `der` as hex into the /Contents string between `contents_at` and
/// `contents_end` (the angle brackets included), padding with zeros.
pub(super) fn write_contents(out: &mut [u8], contents_at: usize, contents_end: usize, der: &[u8]) -> Result<(), SignError> {
    let room = (contents_end - contents_at - 2) / 2;
    if der.len() > room {
        return Err(SignError::Pdf("isi tanda tangan melebihi ruang yang disediakan"));
    }
    let mut hex = hex::encode(der).into_bytes();
    hex.resize(room * 2, b'0');
    out[contents_at + 1..contents_end - 1].copy_from_slice(&hex);
    Ok(())
}

/// A signature dictionary with a /Contents placeholder of the reserved size and the
/// byte range placeholder, for [`fill_byte_range`].
pub(super) fn signature_placeholder(before: &str, after: &str) -> String {
    format!(
        "<<{before} {BYTE_RANGE_PLACEHOLDER} /Contents <{}> {after}>>",
        "0".repeat(CONTENTS_RESERVED * 2)
    )
}

/// One embedded signature as found in a PDF, checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Found {
    pub algorithm: Option<&'static str>,
    /// The common name in the signer's certificate.
    pub signer: Option<String>,
    pub certificate_fingerprint: Option<String>,
    /// The signed bytes' digest matches and the signature verifies.
    pub intact: bool,
    /// The signature covers the file up to its last byte, or what was appended since is
    /// only long-term validation data (DSS, document timestamps).
    pub covers_whole_file: bool,
    /// A document timestamp (PAdES B-LTA) rather than a signature: `intact` says its
    /// token is over these bytes; the TSA's own signature is not checked here.
    pub document_timestamp: bool,
    /// The signer's certificate was issued by one of the trusted authorities, is valid
    /// at the signing time and carries nonRepudiation.
    pub trusted: bool,
    /// Why the signature is not valid, in Indonesian; empty when it is.
    pub problem: Option<String>,
    /// Where the signed revision ends: the signature covers the bytes before it (less
    /// its own /Contents).
    #[serde(skip)]
    pub signed_end: usize,
    /// SHA-256 of the bytes the signature covers: equal for two files exactly when
    /// they carry the same signed revision (whatever was added to /Contents later).
    #[serde(skip)]
    pub covered_sha256: String,
    /// The signature dictionary's /Reason ("Penandatanganan naskah dinas nomor …").
    pub reason: Option<String>,
    /// What revisions.rs made of the bytes after the signed revision (what was added,
    /// or why it is not allowed), judged once when the signature is read: a 10-page
    /// PDF costs two full parses per judgement.
    #[serde(skip)]
    pub after_signing: Result<Vec<super::revisions::Addition>, String>,
}

impl Found {
    pub fn valid(&self) -> bool {
        self.intact && self.trusted && self.problem.is_none()
    }
}

/// What a file's signature comes to.
pub enum Verdict<'a> {
    /// Valid, and whatever was added after it only adds signatures, timestamps or
    /// validation data (nothing at all when the list is empty).
    Valid(&'a Found, Vec<super::revisions::Addition>),
    /// Valid, but the file was changed after it was signed.
    Modified(&'a Found, String),
    Invalid(&'a Found),
    Missing,
}

/// Judges a file by its first signature (the document's own; later ones may be
/// document timestamps) and by what was added after the revision it signs, as PAdES
/// validators do.
pub fn verdict(found: &[Found]) -> Verdict<'_> {
    match found.iter().find(|f| !f.document_timestamp) {
        None => Verdict::Missing,
        Some(f) if !f.valid() => Verdict::Invalid(f),
        Some(f) => match f.after_signing.clone() {
            Ok(additions) => Verdict::Valid(f, additions),
            Err(modification) => Verdict::Modified(f, modification),
        },
    }
}

/// At most this many signatures of one file are checked: each check hashes the file,
/// and an upload must not be able to make the public page hash it a thousand times.
const MAX_SIGNATURES: usize = 8;

/// Finds and checks the signatures in `pdf` (the first [`MAX_SIGNATURES`]) against the
/// trusted root certificates.
pub fn inspect(pdf: &[u8], trusted_roots: &[Vec<u8>]) -> Vec<Found> {
    let mut found = Vec::new();
    let mut from = 0;
    while found.len() < MAX_SIGNATURES
        && let Some(at) = find(pdf, b"/ByteRange", from)
    {
        from = at + 1;
        let Some(ranges) = read_byte_range(&pdf[at + b"/ByteRange".len()..]) else {
            continue;
        };
        found.push(check_one(pdf, ranges, trusted_roots));
    }
    found
}

fn check_one(pdf: &[u8], [start, first_len, second_at, second_len]: [usize; 4], trusted_roots: &[Vec<u8>]) -> Found {
    let mut result = Found {
        algorithm: None,
        signer: None,
        certificate_fingerprint: None,
        intact: false,
        covers_whole_file: false,
        document_timestamp: false,
        trusted: false,
        problem: None,
        signed_end: 0,
        covered_sha256: String::new(),
        reason: None,
        after_signing: Err("rentang bita tanda tangan tidak sah".into()),
    };
    let Some(second_end) = second_at.checked_add(second_len) else {
        result.problem = Some("rentang bita tanda tangan tidak sah".into());
        return result;
    };
    if start != 0 || first_len >= second_at || second_end > pdf.len() {
        result.problem = Some("rentang bita tanda tangan tidak sah".into());
        return result;
    }
    // Appended validation data or document timestamps leave the signature covering
    // what counts (revisions.rs judges the updates).
    result.after_signing = super::revisions::judge(pdf, second_end).map_err(|m| m.0);
    result.covers_whole_file = result.after_signing.is_ok();
    result.signed_end = second_end;
    result.covered_sha256 = {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(&pdf[..first_len]);
        hasher.update(&pdf[second_at..second_end]);
        hex::encode(hasher.finalize())
    };
    result.reason = signature_dictionary(pdf, first_len).and_then(|d| {
        let value = &d[find(d, b"/Reason <", 0)? + b"/Reason <".len()..];
        decode_text_hex(&value[..find(value, b">", 0)?])
    });
    let gap = &pdf[first_len..second_at];
    let Some(hex_text) = gap.strip_prefix(b"<").and_then(|g| g.strip_suffix(b">")) else {
        result.problem = Some("isi tanda tangan tidak ditemukan di antara rentang bita".into());
        return result;
    };
    let Ok(contents) = hex::decode(hex_text) else {
        result.problem = Some("isi tanda tangan bukan heksadesimal".into());
        return result;
    };
    let signed = match super::der::Reader::new(&contents).any() {
        Ok(element) => element.raw,
        Err(e) => {
            result.problem = Some(e.to_string());
            return result;
        }
    };
    if is_document_timestamp(pdf, first_len) {
        result.document_timestamp = true;
        let digest = super::timestamp::sha256(&[&pdf[..first_len], &pdf[second_at..second_end]]);
        match super::timestamp::read_token(signed) {
            Ok(token) => {
                result.intact = token.imprint == digest;
                result.signer = Some("stempel waktu dokumen".into());
                if !result.intact {
                    result.problem = Some("stempel waktu dokumen tidak cocok dengan isi PDF".into());
                }
            }
            Err(e) => result.problem = Some(e.to_string()),
        }
        return result;
    }
    let checked = match cms::check(signed, &[&pdf[..first_len], &pdf[second_at..second_end]]) {
        Ok(checked) => checked,
        Err(e) => {
            result.problem = Some(e.to_string());
            return result;
        }
    };
    result.algorithm = Some(checked.algorithm.label());
    let Ok(certificate) = Certificate::parse(&checked.signer_certificate) else {
        result.problem = Some("sertifikat penanda tangan tidak terbaca".into());
        return result;
    };
    result.signer = certificate.common_name();
    result.certificate_fingerprint = Some(certificate.fingerprint());
    result.intact = checked.digest_matches && checked.signature_valid && checked.certificate_bound;
    let signed_at = signing_time(pdf, first_len);
    let issuer = trusted_roots
        .iter()
        .filter_map(|raw| Certificate::parse(raw).ok())
        .find(|root| certificate.signed_by(root));
    result.trusted = match &issuer {
        Some(root) => {
            let at = signed_at.unwrap_or(0);
            certificate.has_usage(super::x509::NON_REPUDIATION)
                && signed_at.is_some()
                && (certificate.not_before..=certificate.not_after).contains(&at)
                && (root.not_before..=root.not_after).contains(&at)
        }
        None => false,
    };
    result.problem = if !checked.digest_matches {
        Some("isi PDF berubah setelah ditandatangani".into())
    } else if !checked.signature_valid || !checked.certificate_bound {
        Some("tanda tangan tidak cocok dengan sertifikatnya".into())
    } else if issuer.is_none() {
        Some("sertifikat penanda tangan tidak diterbitkan oleh otoritas sertifikat dinas".into())
    } else if !result.trusted {
        Some("sertifikat penanda tangan tidak berlaku pada waktu penandatanganan atau tanpa nonRepudiation".into())
    } else {
        None
    };
    result
}

/// Whether the signature dictionary whose /Contents starts at `contents_at` is a
/// document timestamp (SubFilter ETSI.RFC3161).
pub(super) fn is_document_timestamp(pdf: &[u8], contents_at: usize) -> bool {
    let window_end = contents_at.min(pdf.len()); // a /ByteRange may point past the end
    let window = &pdf[window_end.saturating_sub(512)..window_end];
    let dictionary_start = window.windows(2).rposition(|w| w == b"<<").unwrap_or(0);
    find(&window[dictionary_start..], b"/ETSI.RFC3161", 0).is_some()
}

/// The signature dictionary around a /Contents that starts at `contents_at`, as
/// written (from its `<<` to the first `>>` after the contents).
fn signature_dictionary(pdf: &[u8], contents_at: usize) -> Option<&[u8]> {
    let dictionary_start = rfind(&pdf[..contents_at], b"<<")?;
    let tail = &pdf[contents_at..];
    let end = contents_at + find(tail, b">>", 0).unwrap_or(tail.len()).min(tail.len());
    Some(&pdf[dictionary_start..end])
}

/// The /M of the signature dictionary whose /Contents starts at `contents_at`.
fn signing_time(pdf: &[u8], contents_at: usize) -> Option<i64> {
    let dictionary_start = rfind(&pdf[..contents_at], b"<<")?;
    let tail = &pdf[contents_at..];
    let end = contents_at + find(tail, b">>", 0).unwrap_or(tail.len()).min(tail.len());
    let window = [&pdf[dictionary_start..contents_at], &pdf[contents_at..end]];
    for part in window {
        if let Some(at) = find(part, b"/M ", 0) {
            let value = &part[at + 3..];
            let text = if value.starts_with(b"<") {
                let end = find(value, b">", 0)?;
                decode_text_hex(&value[1..end])?
            } else if value.starts_with(b"(") {
                let end = find(value, b")", 0)?;
                String::from_utf8(value[1..end].to_vec()).ok()?
            } else {
                return None;
            };
            return parse_pdf_date(&text);
        }
    }
    None
}

pub(super) fn read_byte_range(after_key: &[u8]) -> Option<[usize; 4]> {
    let text = std::str::from_utf8(&after_key[..after_key.len().min(80)]).ok().or_else(|| {
        let cut = after_key.iter().take(80).position(|b| *b == b']')?;
        std::str::from_utf8(&after_key[..=cut]).ok()
    })?;
    let inner = text.trim_start().strip_prefix('[')?;
    let inner = &inner[..inner.find(']')?];
    let numbers: Vec<usize> = inner.split_ascii_whitespace().map(|n| n.parse().ok()).collect::<Option<_>>()?;
    numbers.try_into().ok()
}

/// A PDF text string: UTF-16BE with a byte order mark, as hex, so that any name or
/// city needs no escaping.
pub(super) fn text_string(text: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in text.encode_utf16() {
        write!(out, "{unit:04X}").ok();
    }
    out.push('>');
    out
}

fn decode_text_hex(hex_text: &[u8]) -> Option<String> {
    let bytes = hex::decode(hex_text).ok()?;
    let units = bytes.strip_prefix(&[0xfe, 0xff])?;
    let units: Vec<u16> = units.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    String::from_utf16(&units).ok()
}

/// `D:YYYYMMDDHHmmSS+hh'mm'`.
fn pdf_date(at: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let offset = at.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    format!(
        "D:{}{sign}{:02}'{:02}'",
        at.format("%Y%m%d%H%M%S"),
        offset / 3600,
        offset % 3600 / 60
    )
}

fn parse_pdf_date(text: &str) -> Option<i64> {
    let body = text.strip_prefix("D:")?;
    let local = chrono::NaiveDateTime::parse_from_str(body.get(..14)?, "%Y%m%d%H%M%S").ok()?;
    let zone = body.get(14..).unwrap_or("");
    let offset = match zone.chars().next() {
        None | Some('Z') => 0,
        Some(sign @ ('+' | '-')) => {
            let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
            let hours: i64 = digits.get(..2)?.parse().ok()?;
            let minutes: i64 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let seconds = hours * 3600 + minutes * 60;
            if sign == '-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    Some(local.and_utc().timestamp() - offset)
}

pub(super) fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// A dictionary's entries as written, without the outer `<<` `>>`.
pub(super) struct Dictionary {
    entries: Vec<(String, String)>,
}

impl Dictionary {
    /// The entries except `keys`, re-joined, ready for more to be appended.
    pub fn without(&self, keys: &[&str]) -> String {
        let mut out = String::new();
        for (key, value) in &self.entries {
            if !keys.contains(&key.as_str()) {
                write!(out, "{key} {value} ").ok();
            }
        }
        out
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Revisions followed back from the last one.
const MAX_REVISIONS: usize = 16;

/// What an incremental update needs from the file it extends.
pub(super) struct Structure {
    pub startxref: usize,
    pub size: u32,
    pub root_id: u32,
    info: Option<String>,
    id: Option<String>,
    pub catalog: Dictionary,
    pub first_page_id: u32,
    pub first_page: Dictionary,
    /// The references inside the first page's /Annots array, when it has one.
    pub first_page_annots: Option<String>,
}

impl Structure {
    pub fn read(pdf: &[u8]) -> Result<Self, &'static str> {
        let tail_from = pdf.len().saturating_sub(1024);
        let at = rfind(&pdf[tail_from..], b"startxref").ok_or("startxref tidak ditemukan")? + tail_from;
        let number = std::str::from_utf8(&pdf[at + 9..]).map_err(|_| "startxref rusak")?;
        let startxref: usize = number
            .split_ascii_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or("startxref rusak")?;
        let section = pdf.get(startxref..).ok_or("startxref di luar berkas")?;
        if !section.starts_with(b"xref") {
            return Err("PDF dengan aliran referensi silang tidak didukung");
        }
        let mut offsets = read_xref_table(section)?;
        let trailer_at = find(section, b"trailer", 0).ok_or("trailer tidak ditemukan")?;
        let trailer = parse_dictionary(&section[trailer_at + 7..]).ok_or("trailer rusak")?;
        // Earlier revisions (our own incremental updates): an object keeps the offset of
        // its newest revision. Bounded, so that a /Prev loop ends.
        let mut previous = trailer.get("/Prev").and_then(|p| p.parse::<usize>().ok());
        for _ in 0..MAX_REVISIONS {
            let Some(at) = previous.take() else { break };
            let earlier = pdf
                .get(at..)
                .filter(|s| s.starts_with(b"xref"))
                .ok_or("/Prev tidak menunjuk tabel referensi silang")?;
            for (id, offset) in read_xref_table(earlier)? {
                offsets.entry(id).or_insert(offset);
            }
            let trailer_at = find(earlier, b"trailer", 0).ok_or("trailer tidak ditemukan")?;
            let earlier_trailer = parse_dictionary(&earlier[trailer_at + 7..]).ok_or("trailer rusak")?;
            previous = earlier_trailer.get("/Prev").and_then(|p| p.parse::<usize>().ok());
        }
        let size: u32 = trailer.get("/Size").and_then(|s| s.parse().ok()).ok_or("/Size tidak ada")?;
        let root_id = reference(trailer.get("/Root").ok_or("/Root tidak ada")?).ok_or("/Root rusak")?;
        let object = |id: u32| -> Result<Dictionary, &'static str> {
            let offset = *offsets.get(&id).ok_or("objek tidak ada di tabel referensi silang")?;
            let body = pdf.get(offset..).ok_or("letak objek di luar berkas")?;
            let header = format!("{id} 0 obj");
            if !body.starts_with(header.as_bytes()) {
                return Err("letak objek tidak cocok");
            }
            parse_dictionary(&body[header.len()..]).ok_or("kamus objek rusak")
        };
        let catalog = object(root_id)?;
        let mut node_id = reference(catalog.get("/Pages").ok_or("/Pages tidak ada")?).ok_or("/Pages rusak")?;
        // Down the page tree to the first leaf; a tree deeper than any real one, or one
        // whose /Kids lead back up, is not a page tree.
        let mut visited = std::collections::HashSet::new();
        let (first_page_id, first_page) = loop {
            if !visited.insert(node_id) || visited.len() > MAX_NESTING {
                return Err("pohon halaman berputar atau terlalu dalam");
            }
            let node = object(node_id)?;
            match node.get("/Kids") {
                Some(kids) => {
                    let first = kids.trim_start_matches('[').split(" R").next().ok_or("/Kids kosong")?;
                    node_id = reference(&format!("{first} R")).ok_or("/Kids rusak")?;
                }
                None => break (node_id, node),
            }
        };
        let first_page_annots = match first_page.get("/Annots") {
            None => None,
            Some(value) if value.starts_with('[') => Some(value.trim_start_matches('[').trim_end_matches(']').trim().to_string()),
            Some(_) => return Err("/Annots tidak langsung tidak didukung"),
        };
        Ok(Structure {
            startxref,
            size,
            root_id,
            info: trailer.get("/Info").map(str::to_string),
            id: trailer.get("/ID").map(str::to_string),
            catalog,
            first_page_id,
            first_page,
            first_page_annots,
        })
    }
}

fn reference(value: &str) -> Option<u32> {
    let mut parts = value.split_ascii_whitespace();
    let id = parts.next()?.parse().ok()?;
    (parts.next()? == "0" && parts.next()? == "R").then_some(id)
}

pub(super) fn read_xref_table(section: &[u8]) -> Result<std::collections::HashMap<u32, usize>, &'static str> {
    let text_end = find(section, b"trailer", 0).ok_or("trailer tidak ditemukan")?;
    let text = std::str::from_utf8(&section[4..text_end]).map_err(|_| "tabel referensi silang rusak")?;
    let mut offsets = std::collections::HashMap::new();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    while let Some(header) = lines.next() {
        let mut parts = header.split_ascii_whitespace();
        let first: u32 = parts.next().and_then(|n| n.parse().ok()).ok_or("subbagian rusak")?;
        let count: u32 = parts.next().and_then(|n| n.parse().ok()).ok_or("subbagian rusak")?;
        for index in 0..count {
            let entry = lines.next().ok_or("entri referensi silang kurang")?;
            let mut fields = entry.split_ascii_whitespace();
            let offset: usize = fields.next().and_then(|n| n.parse().ok()).ok_or("entri rusak")?;
            let kind = fields.nth(1).ok_or("entri rusak")?;
            if kind == "n" {
                offsets.insert(first.checked_add(index).ok_or("subbagian rusak")?, offset);
            }
        }
    }
    Ok(offsets)
}

/// Reads the dictionary that starts (after whitespace) at the beginning of `input`:
/// its keys and their values as written.
pub(super) fn parse_dictionary(input: &[u8]) -> Option<Dictionary> {
    let start = input.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = input[start..].strip_prefix(b"<<")?;
    let mut entries = Vec::new();
    let mut at = 0;
    loop {
        at += body.get(at..)?.iter().position(|b| !b.is_ascii_whitespace())?;
        if body[at..].starts_with(b">>") {
            return Some(Dictionary { entries });
        }
        if body[at] != b'/' {
            return None;
        }
        let key_end = at + 1 + body[at + 1..].iter().position(|b| is_delimiter(*b) || b.is_ascii_whitespace())?;
        let key = std::str::from_utf8(&body[at..key_end]).ok()?.to_string();
        at = key_end;
        at += body.get(at..)?.iter().position(|b| !b.is_ascii_whitespace())?;
        let mut end = value_end(body, at, 0)?;
        // `12 0 R`: an indirect reference is three tokens.
        if body[at].is_ascii_digit()
            && let Some(rest) = std::str::from_utf8(&body[end..(end + 16).min(body.len())]).ok()
        {
            let mut words = rest.split_ascii_whitespace();
            if words.next().is_some_and(|g| g.chars().all(|c| c.is_ascii_digit())) && words.next().is_some_and(|r| r.starts_with('R')) {
                let r_at = end + rest.find('R')?;
                end = r_at + 1;
            }
        }
        let value = String::from_utf8_lossy(&body[at..end]).trim().to_string();
        entries.push((key, value));
        at = end;
    }
}

fn is_delimiter(byte: u8) -> bool {
    matches!(byte, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

/// Arrays and dictionaries nested deeper than this are not read (a file is anyone's, and
/// each level is a frame on the stack).
const MAX_NESTING: usize = 64;

/// Where the value starting at `at` ends; `depth` is how deep in arrays and dictionaries.
fn value_end(body: &[u8], at: usize, depth: usize) -> Option<usize> {
    if depth > MAX_NESTING {
        return None;
    }
    match body.get(at)? {
        b'(' => {
            let mut depth = 0;
            let mut index = at;
            while index < body.len() {
                match body[index] {
                    b'\\' => index += 1,
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(index + 1);
                        }
                    }
                    _ => {}
                }
                index += 1;
            }
            None
        }
        b'<' if body.get(at + 1) == Some(&b'<') => {
            let mut index = at + 2;
            loop {
                index += body.get(index..)?.iter().position(|b| !b.is_ascii_whitespace())?;
                if body[index..].starts_with(b">>") {
                    return Some(index + 2);
                }
                index = value_end(body, index, depth + 1)?;
            }
        }
        b'<' => Some(at + body[at..].iter().position(|b| *b == b'>')? + 1),
        b'[' => {
            let mut index = at + 1;
            loop {
                index += body.get(index..)?.iter().position(|b| !b.is_ascii_whitespace())?;
                if body[index] == b']' {
                    return Some(index + 1);
                }
                index = value_end(body, index, depth + 1)?;
            }
        }
        b'/' => Some(
            at + 1
                + body[at + 1..]
                    .iter()
                    .position(|b| is_delimiter(*b) || b.is_ascii_whitespace())
                    .unwrap_or(body.len() - at - 1),
        ),
        _ => {
            let end = at
                + body[at..]
                    .iter()
                    .position(|b| is_delimiter(*b) || b.is_ascii_whitespace())
                    .unwrap_or(body.len() - at);
            // A stray `)`, `>`, `]`, `{`, `}` or `%` is no value (else the loops spin; cargo fuzz).
            (end > at).then_some(end)
        }
    }
}

#[cfg(test)]
mod bounds;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_read_back_nested_values_and_references() {
        let dictionary =
            parse_dictionary(b" <</Type/Catalog/Pages 2 0 R /Names<</Dests [1 0 R (a\\)b) <41>]>> /Lang(id)/Version /1.7>>").unwrap();
        assert_eq!(dictionary.get("/Type"), Some("/Catalog"));
        assert_eq!(dictionary.get("/Pages"), Some("2 0 R"));
        assert_eq!(dictionary.get("/Names"), Some("<</Dests [1 0 R (a\\)b) <41>]>>"));
        assert_eq!(dictionary.get("/Lang"), Some("(id)"));
        assert_eq!(
            dictionary.without(&["/Version", "/Names"]),
            "/Type /Catalog /Pages 2 0 R /Lang (id) "
        );
        assert!(parse_dictionary(b"<</Type /Catalog").is_none());
        assert_eq!(reference("12 0 R"), Some(12));
    }

    /// A text string's hex digits, without the angle brackets.
    fn hex_body(text: &str) -> String {
        text_string(text).trim_start_matches('<').trim_end_matches('>').to_string()
    }

    #[test]
    fn dates_and_byte_ranges_read_back() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:15:00+08:00").unwrap();
        assert_eq!(pdf_date(&at), "D:20261122101500+08'00'");
        assert_eq!(parse_pdf_date(&pdf_date(&at)), Some(at.timestamp()));
        assert_eq!(decode_text_hex(hex_body("Siti Ä").as_bytes()).as_deref(), Some("Siti Ä"));
        assert_eq!(read_byte_range(b" [0 10 20 30]    /Contents"), Some([0, 10, 20, 30]));
        assert_eq!(read_byte_range(b" [0 ** 20 30]"), None);
    }
}
