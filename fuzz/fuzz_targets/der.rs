//! The DER reader and everything built on it that reads bytes from outside: X.509
//! certificates, CMS SignedData (the /Contents of an uploaded PDF), CRLs and RFC 3161
//! timestamp tokens and responses.

#![no_main]

use libfuzzer_sys::fuzz_target;
use naskah_signing::{cms, crl, der, timestamp, x509};

/// Elements nested deeper than this are not followed (the input bounds the depth
/// anyway: every level takes at least two bytes).
const MAX_DEPTH: usize = 64;

/// Reads every element of `input`, descending into constructed ones.
fn walk(input: &[u8], depth: usize) {
    let mut reader = der::Reader::new(input);
    while !reader.is_empty() {
        let _ = reader.peek_tag();
        let Ok(element) = reader.any() else { return };
        assert!(element.raw.len() >= element.content.len() + 2);
        assert_eq!(element.raw[0], element.tag);
        if element.tag == der::OID {
            let _ = der::oid_text(element.content);
        }
        if element.tag & 0x20 != 0 && depth < MAX_DEPTH {
            walk(element.content, depth + 1);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    walk(data, 0);

    let mut reader = der::Reader::new(data);
    let _ = reader.optional(der::SEQUENCE);
    let _ = reader.nested(der::SEQUENCE).map(|mut r| r.expect(der::INTEGER));

    if let Ok(certificate) = x509::Certificate::parse(data) {
        let _ = certificate.common_name();
        let _ = certificate.organization();
        let _ = certificate.fingerprint();
        let _ = certificate.has_usage(1);
        // Self-signed check: the key and signature read from the same input.
        let _ = certificate.signed_by(&certificate);
        if let Ok(list) = crl::Crl::parse(data) {
            let _ = list.signed_by(&certificate);
            let _ = list.revocation_of(&certificate);
        }
    }
    let _ = x509::crl_distribution_points(data);
    if let Ok(list) = crl::Crl::parse(data) {
        let _ = list.revoked.len();
    }

    // A detached SignedData checked against some content (the input itself).
    if let Ok(checked) = cms::check(data, &[data]) {
        let _ = x509::Certificate::parse(&checked.signer_certificate);
    }
    let _ = cms::signature_value(data);
    if let Ok(Some(token)) = cms::signature_timestamp(data) {
        let _ = timestamp::read_token(&token);
    }
    let _ = cms::with_unsigned_attribute(data, cms::OID_SIGNATURE_TIME_STAMP, &der::octet_string(b"token"));

    let _ = timestamp::read_token(data);
    let _ = timestamp::read_response(data, &[0; 32], &[1; 8]);
});
