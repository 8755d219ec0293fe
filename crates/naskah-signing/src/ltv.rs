//! Long-term signatures (PAdES baseline B-T, B-LT, B-LTA) over a PDF that already has
//! its B-B signature: the signature timestamp written into the signature's own CMS
//! (outside its byte range, so the signed bytes stay as they are), the validation data
//! in a DSS dictionary (an incremental update) and a document timestamp over all of it
//! (another incremental update). And the reverse check: whether what follows a
//! signature is only such data, so that readers need not call the file changed.

use std::fmt::Write as _;

use super::{
    SignError, cms,
    pades::{self, Structure, find, parse_dictionary, read_byte_range, text_string},
    timestamp::{self, Authority, TimestampError, Token},
};

#[derive(Debug, thiserror::Error)]
pub enum LtvError {
    #[error(transparent)]
    Pdf(#[from] SignError),
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
}

/// The PAdES baseline level of a final PDF, each including the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The signature only.
    B,
    /// With a signature timestamp.
    T,
    /// With the validation data (certificates, CRLs) in a DSS.
    Lt,
    /// With a document timestamp over all of it.
    Lta,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::B, Level::T, Level::Lt, Level::Lta];

    pub fn code(self) -> &'static str {
        match self {
            Level::B => "b-b",
            Level::T => "b-t",
            Level::Lt => "b-lt",
            Level::Lta => "b-lta",
        }
    }

    pub fn parse(code: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::B => "PAdES B-B",
            Level::T => "PAdES B-T",
            Level::Lt => "PAdES B-LT",
            Level::Lta => "PAdES B-LTA",
        }
    }

    /// The level after this one.
    pub fn next(self) -> Option<Level> {
        match self {
            Level::B => Some(Level::T),
            Level::T => Some(Level::Lt),
            Level::Lt => Some(Level::Lta),
            Level::Lta => None,
        }
    }
}

/// Where the first signature's /Contents hex string sits and the SignedData in it.
struct Located {
    contents_at: usize,
    contents_end: usize,
    signed_data: Vec<u8>,
}

/// The first embedded signature that is not a document timestamp.
fn locate_signature(pdf: &[u8]) -> Result<Located, SignError> {
    let mut from = 0;
    while let Some(at) = find(pdf, b"/ByteRange", from) {
        from = at + 1;
        let Some([_, contents_at, contents_end, _]) = read_byte_range(&pdf[at + b"/ByteRange".len()..]) else {
            continue;
        };
        if super::pades::is_document_timestamp(pdf, contents_at) {
            continue;
        }
        let hex_text = pdf
            .get(contents_at..contents_end)
            .and_then(|g| g.strip_prefix(b"<"))
            .and_then(|g| g.strip_suffix(b">"))
            .ok_or(SignError::Pdf("isi tanda tangan tidak ditemukan"))?;
        let contents = hex::decode(hex_text).map_err(|_| SignError::Pdf("isi tanda tangan bukan heksadesimal"))?;
        let signed_data = super::der::Reader::new(&contents)
            .any()
            .map_err(|_| SignError::Pdf("isi tanda tangan bukan DER"))?
            .raw
            .to_vec();
        return Ok(Located {
            contents_at,
            contents_end,
            signed_data,
        });
    }
    Err(SignError::Pdf("PDF belum bertanda tangan"))
}

/// Whether the first signature already carries a signature timestamp.
pub fn has_signature_timestamp(pdf: &[u8]) -> bool {
    locate_signature(pdf).is_ok_and(|l| cms::signature_timestamp(&l.signed_data).is_ok_and(|t| t.is_some()))
}

/// The time of the first signature's signature timestamp (Unix seconds), if it has one.
pub fn signature_timestamp_time(pdf: &[u8]) -> Option<i64> {
    let located = locate_signature(pdf).ok()?;
    let token = cms::signature_timestamp(&located.signed_data).ok()??;
    timestamp::read_token(&token).ok().map(|t| t.time)
}

/// B-T: a timestamp from `tsa` over the first signature's value, stored as its
/// unsigned attribute. The file keeps its length and every signed byte.
pub fn add_signature_timestamp(pdf: &[u8], tsa: &dyn Authority) -> Result<(Vec<u8>, Token), LtvError> {
    let located = locate_signature(pdf)?;
    let value = cms::signature_value(&located.signed_data).map_err(|_| SignError::Pdf("SignedData tidak terbaca"))?;
    let token = tsa.stamp(&timestamp::sha256(&[&value]))?;
    let updated = cms::with_unsigned_attribute(&located.signed_data, cms::OID_SIGNATURE_TIME_STAMP, &token.der)
        .map_err(|_| SignError::Pdf("SignedData tidak terbaca"))?;
    let mut out = pdf.to_vec();
    pades::write_contents(&mut out, located.contents_at, located.contents_end, &updated)?;
    Ok((out, token))
}

/// The certificates of the first signature's CMS and of its signature timestamp.
pub fn embedded_certificates(pdf: &[u8]) -> Result<Vec<Vec<u8>>, SignError> {
    let located = locate_signature(pdf)?;
    let mut certificates = certificates_of(&located.signed_data);
    if let Ok(Some(token)) = cms::signature_timestamp(&located.signed_data) {
        certificates.extend(certificates_of(&token));
    }
    certificates.dedup();
    Ok(certificates)
}

fn certificates_of(signed_data: &[u8]) -> Vec<Vec<u8>> {
    use super::der::{self, Reader};
    let read = || -> Result<Vec<Vec<u8>>, super::der::Malformed> {
        let mut info = Reader::new(signed_data).nested(der::SEQUENCE)?;
        info.expect(der::OID)?;
        let mut signed = Reader::new(info.expect(0xa0)?.content).nested(der::SEQUENCE)?;
        signed.expect(der::INTEGER)?;
        signed.expect(der::SET)?;
        signed.expect(der::SEQUENCE)?;
        let mut certificates = Vec::new();
        if let Some(list) = signed.optional(0xa0)? {
            let mut reader = Reader::new(list.content);
            while !reader.is_empty() {
                let element = reader.any()?;
                if element.tag == der::SEQUENCE {
                    certificates.push(element.raw.to_vec());
                }
            }
        }
        Ok(certificates)
    };
    read().unwrap_or_default()
}

/// Certificates and CRLs for the DSS.
#[derive(Debug, Default, Clone)]
pub struct ValidationData {
    pub certificates: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

fn stream(bytes: &[u8]) -> Vec<u8> {
    let mut body = format!("<</Length {}>>\nstream\n", bytes.len()).into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\nendstream");
    body
}

/// B-LT: the validation data in the catalog's /DSS, as an incremental update.
pub fn add_validation_data(pdf: &[u8], data: &ValidationData) -> Result<Vec<u8>, SignError> {
    let structure = Structure::read(pdf).map_err(SignError::Pdf)?;
    let mut next = structure.size;
    let mut objects = Vec::new();
    let mut references = |items: &[Vec<u8>], objects: &mut Vec<(u32, Vec<u8>)>| {
        let mut list = String::new();
        for item in items {
            objects.push((next, stream(item)));
            write!(list, "{next} 0 R ").ok();
            next += 1;
        }
        list.trim_end().to_string()
    };
    let certificates = references(&data.certificates, &mut objects);
    let crls = references(&data.crls, &mut objects);
    let dss_id = next;
    let size = dss_id + 1;
    let mut dss = String::from("<<");
    if !certificates.is_empty() {
        write!(dss, "/Certs [{certificates}] ").ok();
    }
    if !crls.is_empty() {
        write!(dss, "/CRLs [{crls}] ").ok();
    }
    dss.push_str(">>");
    objects.push((dss_id, dss.into_bytes()));
    let mut catalog = structure.catalog.without(&["/DSS"]);
    write!(catalog, "/DSS {dss_id} 0 R").ok();
    objects.push((structure.root_id, format!("<<{catalog}>>").into_bytes()));
    Ok(pades::append_update(pdf, &structure, objects, size))
}

/// B-LTA: a document timestamp (/Type /DocTimeStamp, SubFilter ETSI.RFC3161) from
/// `tsa` over the whole file, as an incremental update with an invisible field.
pub fn add_document_timestamp(pdf: &[u8], tsa: &dyn Authority) -> Result<(Vec<u8>, Token), LtvError> {
    let structure = Structure::read(pdf).map_err(SignError::Pdf)?;
    let (signature_id, widget_id) = (structure.size, structure.size + 1);
    let size = structure.size + 2;
    let fields = match structure.catalog.get("/AcroForm") {
        Some(form) => {
            let form = parse_dictionary(form.as_bytes()).ok_or(SignError::Pdf("/AcroForm tidak langsung tidak didukung"))?;
            form.get("/Fields")
                .map(|f| f.trim_start_matches('[').trim_end_matches(']').trim().to_string())
                .unwrap_or_default()
        }
        None => String::new(),
    };
    let mut catalog = structure.catalog.without(&["/AcroForm"]);
    write!(catalog, "/AcroForm <</Fields [{fields} {widget_id} 0 R] /SigFlags 3>>").ok();
    let mut page = structure.first_page.without(&["/Annots"]);
    match &structure.first_page_annots {
        Some(existing) => write!(page, "/Annots [{existing} {widget_id} 0 R]").ok(),
        None => write!(page, "/Annots [{widget_id} 0 R]").ok(),
    };
    let widget = format!(
        "<</Type /Annot /Subtype /Widget /FT /Sig /F 132 /Rect [0 0 0 0] /P {} 0 R /T {} /V {signature_id} 0 R>>",
        structure.first_page_id,
        text_string("Stempel waktu dokumen"),
    );
    let dictionary = pades::signature_placeholder("/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161", "");
    let mut out = pades::append_update(
        pdf,
        &structure,
        vec![
            (structure.root_id, format!("<<{catalog}>>").into_bytes()),
            (structure.first_page_id, format!("<<{page}>>").into_bytes()),
            (widget_id, widget.into_bytes()),
            (signature_id, dictionary.into_bytes()),
        ],
        size,
    );
    let (contents_at, contents_end) = pades::fill_byte_range(&mut out, pdf.len())?;
    let token = tsa.stamp(&timestamp::sha256(&[&out[..contents_at], &out[contents_end..]]))?;
    pades::write_contents(&mut out, contents_at, contents_end, &token.der)?;
    Ok((out, token))
}

/// Whether everything in `pdf` after byte `from` (the end of a signature's byte range)
/// is long-term validation data as [`add_validation_data`] and
/// [`add_document_timestamp`] write it: new DSS streams and dictionaries, invisible
/// signature widgets, document timestamp dictionaries, and the catalog and first page
/// changed only in /DSS, /AcroForm and /Annots. Anything else (a changed page, a new
/// font, a visible annotation) is a change to the document.
pub fn only_validation_data_after(pdf: &[u8], from: usize) -> bool {
    let mut end = from;
    let mut revisions = 0;
    while end < pdf.len() {
        revisions += 1;
        let Some(eof) = find(pdf, b"%%EOF", end) else {
            return false;
        };
        let mut next = eof + 5;
        while pdf.get(next).is_some_and(|b| b.is_ascii_whitespace()) {
            next += 1;
        }
        if revisions > 8 || !revision_is_validation_data(&pdf[..end], &pdf[..next]) {
            return false;
        }
        end = next;
    }
    true
}

/// Checks the revision that turns `before` into `after`.
fn revision_is_validation_data(before: &[u8], after: &[u8]) -> bool {
    let (Ok(old), Ok(new)) = (Structure::read(before), Structure::read(after)) else {
        return false;
    };
    if new.root_id != old.root_id || new.first_page_id != old.first_page_id || new.startxref < before.len() {
        return false;
    }
    let Some(section) = after.get(new.startxref..) else {
        return false;
    };
    let Ok(offsets) = pades::read_xref_table(section) else {
        return false;
    };
    let same_except = |a: &pades::Dictionary, b: &pades::Dictionary, keys: &[&str]| a.without(keys) == b.without(keys);
    offsets.iter().all(|(&id, &offset)| {
        if offset < before.len() {
            return false;
        }
        if id == new.root_id {
            // The form may only list fields (an /XFA or /NeedAppearances could change
            // what readers show).
            let form_is_plain = new
                .catalog
                .get("/AcroForm")
                .is_none_or(|form| parse_dictionary(form.as_bytes()).is_some_and(|f| f.keys().all(|k| k == "/Fields" || k == "/SigFlags")));
            return form_is_plain && same_except(&old.catalog, &new.catalog, &["/DSS", "/AcroForm"]);
        }
        if id == new.first_page_id {
            return same_except(&old.first_page, &new.first_page, &["/Annots"]);
        }
        if id < old.size {
            return false;
        }
        let header = format!("{id} 0 obj");
        let Some(body) = after.get(offset..).and_then(|b| b.strip_prefix(header.as_bytes())) else {
            return false;
        };
        let Some(dictionary) = parse_dictionary(body) else {
            return false;
        };
        let keys: Vec<&str> = dictionary.keys().collect();
        let only = |allowed: &[&str]| keys.iter().all(|k| allowed.contains(k));
        let is_stream = find(body, b"stream", 0).is_some_and(|at| find(&body[..at], b"endobj", 0).is_none());
        if is_stream {
            return only(&["/Length"]);
        }
        if dictionary.get("/Type") == Some("/DocTimeStamp") {
            return dictionary.get("/SubFilter") == Some("/ETSI.RFC3161")
                && only(&["/Type", "/Filter", "/SubFilter", "/ByteRange", "/Contents"]);
        }
        if dictionary.get("/Subtype") == Some("/Widget") {
            return dictionary.get("/FT") == Some("/Sig")
                && dictionary.get("/Rect").is_some_and(|r| {
                    r.split(|c: char| !c.is_ascii_digit() && c != '.')
                        .all(|n| n.is_empty() || n.parse::<f64>() == Ok(0.0))
                })
                && only(&["/Type", "/Subtype", "/FT", "/F", "/Rect", "/P", "/T", "/V"]);
        }
        only(&["/Certs", "/CRLs", "/OCSPs"])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TSA that answers every request with a fixed-size fake token (enough for the
    /// PDF plumbing; real tokens are checked against a real TSA in tests/it/ltv.rs).
    struct FakeTsa;

    impl Authority for FakeTsa {
        fn stamp(&self, digest: &[u8; 32]) -> Result<Token, TimestampError> {
            Ok(Token {
                der: timestamp::unsigned_token(digest, &[1; 8]),
                time: 1_800_000_000,
                certificates: Vec::new(),
            })
        }
    }

    struct DownTsa;

    impl Authority for DownTsa {
        fn stamp(&self, _: &[u8; 32]) -> Result<Token, TimestampError> {
            Err(TimestampError::Unreachable("koneksi ditolak".into()))
        }
    }

    #[test]
    fn augmentation_keeps_the_signed_bytes_and_is_recognised_as_validation_data() {
        let signed = super::super::tests::signed_minimal_pdf();
        let found = pades::inspect(&signed.pdf, std::slice::from_ref(&signed.root));
        let signed_end = signed.pdf.len();
        assert!(found[0].valid() && !has_signature_timestamp(&signed.pdf));

        assert!(matches!(
            add_signature_timestamp(&signed.pdf, &DownTsa),
            Err(LtvError::Timestamp(_))
        ));
        let (stamped, _) = add_signature_timestamp(&signed.pdf, &FakeTsa).unwrap();
        assert_eq!(stamped.len(), signed.pdf.len());
        assert!(has_signature_timestamp(&stamped));
        let found = pades::inspect(&stamped, std::slice::from_ref(&signed.root));
        assert!(found[0].valid() && found[0].covers_whole_file, "{:?}", found[0]);

        let with_dss = add_validation_data(
            &stamped,
            &ValidationData {
                certificates: vec![signed.root.clone()],
                crls: vec![b"crl".to_vec()],
            },
        )
        .unwrap();
        assert!(with_dss.starts_with(&stamped));
        assert!(only_validation_data_after(&with_dss, signed_end));
        let (archived, _) = add_document_timestamp(&with_dss, &FakeTsa).unwrap();
        assert!(only_validation_data_after(&archived, signed_end));
        let found = pades::inspect(&archived, std::slice::from_ref(&signed.root));
        assert_eq!(found.len(), 2);
        assert!(found[0].valid() && found[0].covers_whole_file, "{:?}", found[0]);
        assert!(found[1].document_timestamp && found[1].intact, "{:?}", found[1]);
        assert!(matches!(pades::verdict(&found), pades::Verdict::Valid(_, _)));

        // Anything else appended is a change.
        let mut changed = archived.clone();
        changed.extend_from_slice(b"99 0 obj\n<</Type /Font>>\nendobj\n");
        assert!(!only_validation_data_after(&changed, signed_end));
        let mut visible = archived.clone();
        let rect = find(&visible, b"/Rect [0 0 0 0]", signed_end).unwrap();
        visible[rect..rect + 15].copy_from_slice(b"/Rect [9 9 9 9]");
        assert!(!only_validation_data_after(&visible, signed_end));
        let mut xfa = archived.clone();
        let flags = find(&xfa, b"/SigFlags 3", with_dss.len()).unwrap();
        xfa[flags..flags + 11].copy_from_slice(b"/XFA 1 0 R ");
        assert!(!only_validation_data_after(&xfa, signed_end), "an XFA form is a change");
        let mut restyled = with_dss.clone();
        restyled.extend_from_slice(&archived[with_dss.len()..]);
        let font = find(&restyled, b"/SigFlags 3", with_dss.len()).unwrap();
        restyled[font..font + 11].copy_from_slice(b"/SigFlags 1");
        assert!(only_validation_data_after(&restyled, signed_end), "the form's flags may change");
    }
}
