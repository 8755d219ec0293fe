//! CMS SignedData (RFC 5652) in the CAdES baseline form PAdES B-B asks for: detached
//! content, the signed attributes content-type, message-digest and ESS
//! signing-certificate-v2 (RFC 5035), no signing-time (PAdES puts the time in the
//! signature dictionary's /M). Ed25519 follows RFC 8419: SHA-512 digest, PureEdDSA
//! over the signed attributes.

use sha2::{Digest, Sha256, Sha512};

use super::{
    DocumentSigner, SignError,
    der::{self, Malformed, Reader},
    x509::{Algorithm, Certificate},
};

const OID_DATA: &str = "1.2.840.113549.1.7.1";
const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const OID_SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
const OID_SIGNING_CERTIFICATE_V2: &str = "1.2.840.113549.1.9.16.2.47";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA512: &str = "2.16.840.1.101.3.4.2.3";

/// The digest each signature algorithm signs with.
fn digest_oid(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::P256 => OID_SHA256,
        Algorithm::Ed25519 => OID_SHA512,
    }
}

/// The digest of the signed byte ranges under `algorithm`'s digest.
pub fn content_digest(algorithm: Algorithm, parts: &[&[u8]]) -> Vec<u8> {
    match algorithm {
        Algorithm::P256 => {
            let mut hasher = Sha256::new();
            parts.iter().for_each(|p| hasher.update(p));
            hasher.finalize().to_vec()
        }
        Algorithm::Ed25519 => {
            let mut hasher = Sha512::new();
            parts.iter().for_each(|p| hasher.update(p));
            hasher.finalize().to_vec()
        }
    }
}

fn attribute(oid: &str, value: &[u8]) -> Vec<u8> {
    der::sequence(&[&der::oid(oid), &der::set_of(&[value])])
}

/// IssuerAndSerialNumber / the GeneralNames form of the issuer, from a certificate.
fn issuer_serial(certificate: &Certificate<'_>) -> (Vec<u8>, Vec<u8>) {
    let serial = der::tlv(der::INTEGER, certificate.serial);
    let issuer_and_serial = der::sequence(&[certificate.issuer, &serial]);
    let general_names = der::sequence(&[&der::explicit(4, certificate.issuer)]);
    (issuer_and_serial, der::sequence(&[&general_names, &serial]))
}

/// The signed attributes as the SET OF that is signed.
fn signed_attributes(digest: &[u8], certificate: &Certificate<'_>) -> Vec<u8> {
    let (_, issuer_serial) = issuer_serial(certificate);
    // hashAlgorithm left at its default, SHA-256.
    let ess_cert_id = der::sequence(&[&der::octet_string(&Sha256::digest(certificate.raw)), &issuer_serial]);
    let signing_certificate = der::sequence(&[&der::sequence(&[&ess_cert_id])]);
    der::set_of(&[
        &attribute(OID_CONTENT_TYPE, &der::oid(OID_DATA)),
        &attribute(OID_MESSAGE_DIGEST, &der::octet_string(digest)),
        &attribute(OID_SIGNING_CERTIFICATE_V2, &signing_certificate),
    ])
}

/// A detached SignedData over content whose digest is `digest`.
pub fn signed_data(signer: &dyn DocumentSigner, digest: &[u8]) -> Result<Vec<u8>, SignError> {
    let algorithm = signer.algorithm();
    let certificate = Certificate::parse(signer.certificate()).map_err(|e| SignError::Certificate(e.to_string()))?;
    let attributes = signed_attributes(digest, &certificate);
    let signature = signer.sign(&attributes)?;
    let (issuer_and_serial, _) = issuer_serial(&certificate);
    let digest_algorithm = der::sequence(&[&der::oid(digest_oid(algorithm))]);
    let signer_info = der::sequence(&[
        &der::small_integer(1),
        &issuer_and_serial,
        &digest_algorithm,
        &der::implicit_constructed(0, &attributes),
        &algorithm.signature_identifier(),
        &der::octet_string(&signature),
    ]);
    let mut certificates: Vec<&[u8]> = vec![signer.certificate()];
    certificates.extend(signer.chain().iter().map(Vec::as_slice));
    let signed = der::sequence(&[
        &der::small_integer(1),
        &der::set_of(&[&digest_algorithm]),
        &der::sequence(&[&der::oid(OID_DATA)]),
        &der::implicit_constructed(0, &der::set_of(&certificates)),
        &der::set_of(&[&signer_info]),
    ]);
    Ok(der::sequence(&[&der::oid(OID_SIGNED_DATA), &der::explicit(0, &signed)]))
}

/// What a SignedData says about the content it was checked against.
#[derive(Debug, Clone)]
pub struct Checked {
    pub algorithm: Algorithm,
    /// The signer's certificate (DER).
    pub signer_certificate: Vec<u8>,
    /// Every certificate the SignedData carries, the signer's included.
    pub certificates: Vec<Vec<u8>>,
    /// The content's digest equals the signed message-digest attribute.
    pub digest_matches: bool,
    /// The signature over the signed attributes verifies under the certificate's key.
    pub signature_valid: bool,
    /// The signing-certificate-v2 attribute names this very certificate.
    pub certificate_bound: bool,
}

/// Certificates one SignedData may carry: a signer, its chain and a few more, far fewer
/// than this.
const MAX_CERTIFICATES: usize = 16;

/// Reads a detached SignedData and checks it against the signed content.
pub fn check(encoded: &[u8], content: &[&[u8]]) -> Result<Checked, Malformed> {
    let mut info = Reader::new(encoded).nested(der::SEQUENCE)?;
    if der::oid_text(info.expect(der::OID)?.content) != OID_SIGNED_DATA {
        return Err(Malformed("bukan SignedData"));
    }
    let mut signed = Reader::new(info.expect(0xa0)?.content).nested(der::SEQUENCE)?;
    signed.expect(der::INTEGER)?;
    signed.expect(der::SET)?;
    signed.expect(der::SEQUENCE)?;
    let mut certificates = Vec::new();
    if let Some(list) = signed.optional(0xa0)? {
        let mut reader = Reader::new(list.content);
        while !reader.is_empty() {
            // An uploaded file is anyone's: its certificates are read up to a bound.
            if certificates.len() == MAX_CERTIFICATES {
                return Err(Malformed("tanda tangan membawa terlalu banyak sertifikat"));
            }
            certificates.push(reader.expect(der::SEQUENCE)?.raw.to_vec());
        }
    }
    signed.optional(0xa1)?;
    let mut signer_infos = signed.nested(der::SET)?;
    let mut signer_info = signer_infos.nested(der::SEQUENCE)?;
    signer_info.expect(der::INTEGER)?;
    let sid = signer_info.expect(der::SEQUENCE)?.raw;
    let mut digest_identifier = signer_info.nested(der::SEQUENCE)?;
    let digest_id = der::oid_text(digest_identifier.expect(der::OID)?.content);
    let attributes = signer_info
        .expect(0xa0)
        .map_err(|_| Malformed("atribut bertanda tangan tidak ada"))?;
    let algorithm =
        super::x509::signature_algorithm(signer_info.expect(der::SEQUENCE)?).ok_or(Malformed("algoritme tanda tangan tidak didukung"))?;
    let signature = signer_info.expect(der::OCTET_STRING)?.content;
    if digest_id != digest_oid(algorithm) {
        return Err(Malformed("algoritme ringkasan tidak cocok dengan algoritme tanda tangan"));
    }

    let signer_certificate = certificates
        .iter()
        .find(|raw| Certificate::parse(raw).is_ok_and(|c| issuer_serial(&c).0 == sid))
        .ok_or(Malformed("sertifikat penanda tangan tidak ada di dalam tanda tangan"))?
        .clone();
    let certificate = Certificate::parse(&signer_certificate)?;

    let mut message_digest = None;
    let mut content_type_is_data = false;
    let mut signed_cert_hash = None;
    let mut has_signing_time = false;
    let mut reader = Reader::new(attributes.content);
    while !reader.is_empty() {
        let mut attribute = reader.nested(der::SEQUENCE)?;
        let id = der::oid_text(attribute.expect(der::OID)?.content);
        let mut values = attribute.nested(der::SET)?;
        let value = values.any()?;
        match id.as_str() {
            OID_MESSAGE_DIGEST => message_digest = Some(value.content.to_vec()),
            OID_CONTENT_TYPE => content_type_is_data = der::oid_text(value.content) == OID_DATA,
            OID_SIGNING_TIME => has_signing_time = true,
            OID_SIGNING_CERTIFICATE_V2 => {
                let mut certs = Reader::new(value.content).nested(der::SEQUENCE)?;
                let mut first = certs.nested(der::SEQUENCE)?;
                if first.peek_tag() == Some(der::SEQUENCE) {
                    // A hash algorithm other than the default SHA-256: not ours.
                    first.any()?;
                    signed_cert_hash = Some(Vec::new());
                } else {
                    signed_cert_hash = Some(first.expect(der::OCTET_STRING)?.content.to_vec());
                }
            }
            _ => {}
        }
    }
    if !content_type_is_data || has_signing_time {
        return Err(Malformed("atribut bertanda tangan tidak sesuai PAdES"));
    }
    // The signature covers the attributes encoded as a SET OF, not under the [0] tag.
    let mut to_verify = attributes.raw.to_vec();
    to_verify[0] = der::SET;
    let digest = content_digest(algorithm, content);
    Ok(Checked {
        algorithm,
        digest_matches: message_digest.as_deref() == Some(digest.as_slice()),
        signature_valid: certificate.public_key.verify(algorithm, &to_verify, signature),
        certificate_bound: signed_cert_hash.as_deref() == Some(Sha256::digest(&signer_certificate).as_slice()),
        signer_certificate,
        certificates,
    })
}

/// id-aa-signatureTimeStampToken (RFC 3161 appendix A): the unsigned attribute that
/// carries a timestamp over the signature value.
pub const OID_SIGNATURE_TIME_STAMP: &str = "1.2.840.113549.1.9.16.2.14";

/// The pieces of a SignedData with one SignerInfo, as encoded, for rewriting its
/// unsigned attributes.
struct Parts<'a> {
    /// Everything of the SignedData before signerInfos.
    head: Vec<&'a [u8]>,
    /// The SignerInfo's fields up to and including the signature value.
    signer_fields: Vec<&'a [u8]>,
    signature: &'a [u8],
    /// The unsigned attributes already there (each an Attribute).
    unsigned: Vec<&'a [u8]>,
}

fn parts(encoded: &[u8]) -> Result<Parts<'_>, Malformed> {
    let mut info = Reader::new(encoded).nested(der::SEQUENCE)?;
    if der::oid_text(info.expect(der::OID)?.content) != OID_SIGNED_DATA {
        return Err(Malformed("bukan SignedData"));
    }
    let mut signed = Reader::new(info.expect(0xa0)?.content).nested(der::SEQUENCE)?;
    let mut head = Vec::new();
    while signed.peek_tag().is_some_and(|tag| tag != der::SET || head.len() < 2) {
        head.push(signed.any()?.raw);
    }
    let mut signer_infos = signed.nested(der::SET)?;
    let mut signer_info = signer_infos.nested(der::SEQUENCE)?;
    if !signer_infos.is_empty() {
        return Err(Malformed("lebih dari satu SignerInfo"));
    }
    let mut signer_fields = Vec::new();
    let signature = loop {
        let element = signer_info.any()?;
        signer_fields.push(element.raw);
        if element.tag == der::OCTET_STRING {
            break element.content;
        }
    };
    let mut unsigned = Vec::new();
    if let Some(list) = signer_info.optional(0xa1)? {
        let mut reader = Reader::new(list.content);
        while !reader.is_empty() {
            unsigned.push(reader.expect(der::SEQUENCE)?.raw);
        }
    }
    Ok(Parts {
        head,
        signer_fields,
        signature,
        unsigned,
    })
}

/// The signature value of a SignedData's only SignerInfo (what a signature timestamp
/// is taken over).
pub fn signature_value(encoded: &[u8]) -> Result<Vec<u8>, Malformed> {
    Ok(parts(encoded)?.signature.to_vec())
}

/// The same SignedData with `value` as the unsigned attribute `oid` of its SignerInfo
/// (replacing an earlier one of that type). The signed parts stay byte for byte.
pub fn with_unsigned_attribute(encoded: &[u8], oid: &str, value: &[u8]) -> Result<Vec<u8>, Malformed> {
    let parts = parts(encoded)?;
    let wanted = der::oid(oid);
    let mut unsigned: Vec<Vec<u8>> = parts
        .unsigned
        .iter()
        .filter(|attribute| {
            !Reader::new(attribute)
                .nested(der::SEQUENCE)
                .and_then(|mut a| a.any())
                .is_ok_and(|id| id.raw == wanted.as_slice())
        })
        .map(|attribute| attribute.to_vec())
        .collect();
    unsigned.push(attribute(oid, value));
    let unsigned_refs: Vec<&[u8]> = unsigned.iter().map(Vec::as_slice).collect();
    let mut signer_fields = parts.signer_fields.clone();
    let unsigned_set = der::implicit_constructed(1, &der::set_of(&unsigned_refs));
    signer_fields.push(&unsigned_set);
    let signer_info = der::sequence(&signer_fields);
    let mut signed_fields = parts.head.clone();
    let signer_infos = der::set_of(&[&signer_info]);
    signed_fields.push(&signer_infos);
    let signed = der::sequence(&signed_fields);
    Ok(der::sequence(&[&der::oid(OID_SIGNED_DATA), &der::explicit(0, &signed)]))
}

/// The timestamp token in a SignedData's signature timestamp attribute, if it has one.
pub fn signature_timestamp(encoded: &[u8]) -> Result<Option<Vec<u8>>, Malformed> {
    let wanted = der::oid(OID_SIGNATURE_TIME_STAMP);
    for attribute in parts(encoded)?.unsigned {
        let mut reader = Reader::new(attribute).nested(der::SEQUENCE)?;
        if reader.any()?.raw == wanted {
            return Ok(Some(reader.nested(der::SET)?.any()?.raw.to_vec()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod bounds {
    use super::*;

    #[test]
    fn a_signed_data_with_too_many_certificates_is_refused_unread() {
        let empty = der::sequence(&[]);
        let many: Vec<&[u8]> = (0..=MAX_CERTIFICATES).map(|_| empty.as_slice()).collect();
        let signed = der::sequence(&[
            &der::small_integer(1),
            &der::set_of(&[]),
            &der::sequence(&[]),
            &der::implicit_constructed(0, &der::set_of(&many)),
        ]);
        let info = der::sequence(&[&der::oid(OID_SIGNED_DATA), &der::explicit(0, &signed)]);
        let refused = check(&info, &[]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("terlalu banyak sertifikat"), "{refused}");
    }
}
