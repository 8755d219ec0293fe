//! X.509 certificates of the department's own certification authority: the root it
//! issues to itself and the officials' signing certificates (RFC 5280 profile, with
//! the `nonRepudiation` key usage a document signature needs).

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use sha2::{Digest, Sha256};

use super::der::{self, Element, Malformed, Reader};

pub const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
pub const OID_P256: &str = "1.2.840.10045.3.1.7";
pub const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
pub const OID_ED25519: &str = "1.3.101.112";
const OID_COMMON_NAME: &str = "2.5.4.3";
const OID_SERIAL_NUMBER: &str = "2.5.4.5";
const OID_COUNTRY: &str = "2.5.4.6";
const OID_ORGANIZATION: &str = "2.5.4.10";
const OID_TITLE: &str = "2.5.4.12";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_SUBJECT_KEY_ID: &str = "2.5.29.14";
const OID_AUTHORITY_KEY_ID: &str = "2.5.29.35";
const OID_CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
const OID_AUTHORITY_INFO_ACCESS: &str = "1.3.6.1.5.5.7.1.1";
const OID_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

/// Key usage bits (RFC 5280 §4.2.1.3).
pub const DIGITAL_SIGNATURE: u8 = 0;
pub const NON_REPUDIATION: u8 = 1;
pub const KEY_CERT_SIGN: u8 = 5;
pub const CRL_SIGN: u8 = 6;

/// The signature algorithms a department may choose for the signature embedded in its
/// PDFs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256: accepted by Acrobat, poppler and pyHanko.
    P256,
    /// Ed25519 (RFC 8419, ISO/TS 32002): pyHanko accepts it; Acrobat and poppler do not.
    Ed25519,
}

impl Algorithm {
    pub fn code(self) -> &'static str {
        match self {
            Algorithm::P256 => "p256",
            Algorithm::Ed25519 => "ed25519",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "p256" => Some(Algorithm::P256),
            "ed25519" => Some(Algorithm::Ed25519),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Algorithm::P256 => "ECDSA P-256 (SHA-256)",
            Algorithm::Ed25519 => "Ed25519 (SHA-512)",
        }
    }

    /// The AlgorithmIdentifier of a signature made with this key type.
    pub fn signature_identifier(self) -> Vec<u8> {
        match self {
            Algorithm::P256 => der::sequence(&[&der::oid(OID_ECDSA_SHA256)]),
            Algorithm::Ed25519 => der::sequence(&[&der::oid(OID_ED25519)]),
        }
    }
}

/// A private key that signs certificates or documents.
pub enum PrivateKey {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// A public key read from or written into a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PrivateKey {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PrivateKey::P256(_) => Algorithm::P256,
            PrivateKey::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    pub fn public(&self) -> PublicKey {
        match self {
            PrivateKey::P256(key) => PublicKey::P256(*key.verifying_key()),
            PrivateKey::Ed25519(key) => PublicKey::Ed25519(key.verifying_key()),
        }
    }

    /// Signs `message` as X.509 and CMS expect: ECDSA hashes with SHA-256 and encodes
    /// (r, s) in DER; Ed25519 signs the message itself (PureEdDSA).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            PrivateKey::Ed25519(key) => ed25519_dalek::Signer::sign(key, message).to_bytes().to_vec(),
        }
    }
}

impl PublicKey {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::P256(_) => Algorithm::P256,
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// SubjectPublicKeyInfo.
    pub fn spki(&self) -> Vec<u8> {
        match self {
            PublicKey::P256(key) => der::sequence(&[
                &der::sequence(&[&der::oid(OID_EC_PUBLIC_KEY), &der::oid(OID_P256)]),
                &der::bit_string(key.to_encoded_point(false).as_bytes()),
            ]),
            PublicKey::Ed25519(key) => der::sequence(&[&der::sequence(&[&der::oid(OID_ED25519)]), &der::bit_string(key.as_bytes())]),
        }
    }

    fn key_bits(&self) -> Vec<u8> {
        match self {
            PublicKey::P256(key) => key.to_encoded_point(false).as_bytes().to_vec(),
            PublicKey::Ed25519(key) => key.as_bytes().to_vec(),
        }
    }

    /// The key identifier written in SubjectKeyIdentifier / AuthorityKeyIdentifier:
    /// the first 20 bytes of the SHA-256 of the key bits.
    pub fn key_identifier(&self) -> Vec<u8> {
        Sha256::digest(self.key_bits())[..20].to_vec()
    }

    /// Checks a signature made by [`PrivateKey::sign`]. `algorithm` is the one the
    /// signature claims; it must match the key's type.
    pub fn verify(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match (self, algorithm) {
            (PublicKey::P256(key), Algorithm::P256) => {
                p256::ecdsa::Signature::from_der(signature).is_ok_and(|s| key.verify(message, &s).is_ok())
            }
            (PublicKey::Ed25519(key), Algorithm::Ed25519) => {
                ed25519_dalek::Signature::from_slice(signature).is_ok_and(|s| ed25519_dalek::Verifier::verify(key, message, &s).is_ok())
            }
            _ => false,
        }
    }

    fn from_spki(spki: &[u8]) -> Result<Self, Malformed> {
        let mut outer = Reader::new(spki).nested(der::SEQUENCE)?;
        let mut algorithm = outer.nested(der::SEQUENCE)?;
        let kind = der::oid_text(algorithm.expect(der::OID)?.content);
        let bits = outer.expect(der::BIT_STRING)?.content;
        let (&unused, key) = bits.split_first().ok_or(Malformed("kunci kosong"))?;
        if unused != 0 {
            return Err(Malformed("kunci bukan kelipatan byte"));
        }
        match kind.as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = der::oid_text(algorithm.expect(der::OID)?.content);
                if curve != OID_P256 {
                    return Err(Malformed("kurva EC selain P-256"));
                }
                p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map(PublicKey::P256)
                    .map_err(|_| Malformed("titik P-256 tidak sah"))
            }
            OID_ED25519 => {
                let bytes: [u8; 32] = key.try_into().map_err(|_| Malformed("panjang kunci Ed25519"))?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(PublicKey::Ed25519)
                    .map_err(|_| Malformed("kunci Ed25519 tidak sah"))
            }
            _ => Err(Malformed("jenis kunci tidak didukung")),
        }
    }
}

/// The parts of a distinguished name we write.
#[derive(Debug, Clone, Default)]
pub struct Name {
    pub common_name: String,
    pub organization: String,
    /// Jabatan.
    pub title: Option<String>,
    /// NIP, for officials.
    pub serial_number: Option<String>,
}

impl Name {
    pub fn to_der(&self) -> Vec<u8> {
        let rdn = |oid: &str, value: Vec<u8>| der::set_of(&[&der::sequence(&[&der::oid(oid), &value])]);
        let mut rdns = vec![
            rdn(OID_COUNTRY, der::printable_string("ID")),
            rdn(OID_ORGANIZATION, der::utf8_string(&self.organization)),
        ];
        if let Some(title) = &self.title {
            rdns.push(rdn(OID_TITLE, der::utf8_string(title)));
        }
        if let Some(serial) = &self.serial_number {
            rdns.push(rdn(OID_SERIAL_NUMBER, der::printable_string(serial)));
        }
        rdns.push(rdn(OID_COMMON_NAME, der::utf8_string(&self.common_name)));
        let refs: Vec<&[u8]> = rdns.iter().map(Vec::as_slice).collect();
        der::sequence(&refs)
    }
}

/// What a new certificate says.
pub struct Template<'a> {
    pub serial: [u8; 16],
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
    pub not_before: i64,
    pub not_after: i64,
    pub subject_key: &'a PublicKey,
    pub issuer_key_identifier: &'a [u8],
    /// A certification authority (root) rather than a signer.
    pub authority: bool,
    /// Where validators find the issuer's CRL and certificate.
    pub links: Option<Links<'a>>,
}

/// The public addresses written into an issued certificate.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    /// The CRL distribution point (RFC 5280 §4.2.1.13).
    pub crl: &'a str,
    /// The issuer's certificate (authority information access, caIssuers).
    pub ca_issuers: &'a str,
}

/// A fresh positive 128-bit serial number.
pub fn random_serial() -> [u8; 16] {
    let mut serial: [u8; 16] = rand::random();
    serial[0] = (serial[0] & 0x7f) | 0x40;
    serial
}

/// Issues a certificate signed by `issuer_key`.
pub fn issue(template: &Template<'_>, issuer_key: &PrivateKey) -> Vec<u8> {
    let extension = |oid: &str, critical: bool, value: Vec<u8>| {
        if critical {
            der::sequence(&[&der::oid(oid), &der::boolean(true), &der::octet_string(&value)])
        } else {
            der::sequence(&[&der::oid(oid), &der::octet_string(&value)])
        }
    };
    let usage = if template.authority {
        der::named_bits(&[KEY_CERT_SIGN, CRL_SIGN])
    } else {
        der::named_bits(&[DIGITAL_SIGNATURE, NON_REPUDIATION])
    };
    let basic = if template.authority {
        der::sequence(&[&der::boolean(true)])
    } else {
        der::sequence(&[])
    };
    let extensions = [
        extension(OID_BASIC_CONSTRAINTS, true, basic),
        extension(OID_KEY_USAGE, true, usage),
        extension(OID_SUBJECT_KEY_ID, false, der::octet_string(&template.subject_key.key_identifier())),
        extension(
            OID_AUTHORITY_KEY_ID,
            false,
            der::sequence(&[&der::tlv(0x80, template.issuer_key_identifier)]),
        ),
    ];
    let mut extensions = extensions.to_vec();
    if let Some(links) = &template.links {
        // DistributionPoint { distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] } } }
        let uri = |address: &str| der::tlv(0x86, address.as_bytes());
        let point = der::sequence(&[&der::tlv(0xa0, &der::tlv(0xa0, &uri(links.crl)))]);
        extensions.push(extension(OID_CRL_DISTRIBUTION_POINTS, false, der::sequence(&[&point])));
        let access = der::sequence(&[&der::oid(OID_CA_ISSUERS), &uri(links.ca_issuers)]);
        extensions.push(extension(OID_AUTHORITY_INFO_ACCESS, false, der::sequence(&[&access])));
    }
    let extension_refs: Vec<&[u8]> = extensions.iter().map(Vec::as_slice).collect();
    let signature_algorithm = issuer_key.algorithm().signature_identifier();
    let tbs = der::sequence(&[
        &der::explicit(0, &der::small_integer(2)),
        &der::unsigned_integer(&template.serial),
        &signature_algorithm,
        template.issuer,
        &der::sequence(&[&der::time(template.not_before), &der::time(template.not_after)]),
        template.subject,
        &template.subject_key.spki(),
        &der::explicit(3, &der::sequence(&extension_refs)),
    ]);
    let signature = issuer_key.sign(&tbs);
    der::sequence(&[&tbs, &signature_algorithm, &der::bit_string(&signature)])
}

/// A certificate read back: the fields a signature check needs.
#[derive(Debug, Clone)]
pub struct Certificate<'a> {
    pub raw: &'a [u8],
    pub tbs: &'a [u8],
    /// INTEGER content bytes.
    pub serial: &'a [u8],
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
    pub not_before: i64,
    pub not_after: i64,
    pub public_key: PublicKey,
    pub signature_algorithm: Option<Algorithm>,
    pub signature: &'a [u8],
    pub key_usage: Vec<u8>,
    pub authority: bool,
}

impl<'a> Certificate<'a> {
    pub fn parse(raw: &'a [u8]) -> Result<Self, Malformed> {
        let mut whole = Reader::new(raw);
        let certificate = whole.expect(der::SEQUENCE)?;
        let mut parts = Reader::new(certificate.content);
        let tbs = parts.expect(der::SEQUENCE)?;
        let signature_algorithm = signature_algorithm(parts.expect(der::SEQUENCE)?);
        let bits = parts.expect(der::BIT_STRING)?.content;
        let signature = bits.get(1..).ok_or(Malformed("tanda tangan sertifikat kosong"))?;

        let mut fields = Reader::new(tbs.content);
        fields.optional(0xa0)?;
        let serial = fields.expect(der::INTEGER)?.content;
        fields.expect(der::SEQUENCE)?;
        let issuer = fields.expect(der::SEQUENCE)?.raw;
        let mut validity = fields.nested(der::SEQUENCE)?;
        let not_before = read_time(validity.any()?)?;
        let not_after = read_time(validity.any()?)?;
        let subject = fields.expect(der::SEQUENCE)?.raw;
        let public_key = PublicKey::from_spki(fields.expect(der::SEQUENCE)?.raw)?;
        let mut key_usage = Vec::new();
        let mut authority = false;
        while !fields.is_empty() {
            let element = fields.any()?;
            if element.tag != 0xa3 {
                continue;
            }
            let mut list = Reader::new(element.content).nested(der::SEQUENCE)?;
            while !list.is_empty() {
                let mut extension = list.nested(der::SEQUENCE)?;
                let id = der::oid_text(extension.expect(der::OID)?.content);
                extension.optional(der::BOOLEAN)?;
                let value = extension.expect(der::OCTET_STRING)?.content;
                match id.as_str() {
                    OID_KEY_USAGE => key_usage = read_named_bits(Reader::new(value).expect(der::BIT_STRING)?.content),
                    OID_BASIC_CONSTRAINTS => {
                        let mut constraints = Reader::new(value).nested(der::SEQUENCE)?;
                        authority = constraints
                            .optional(der::BOOLEAN)?
                            .is_some_and(|b| b.content.first().is_some_and(|v| *v != 0));
                    }
                    _ => {}
                }
            }
        }
        Ok(Certificate {
            raw: certificate.raw,
            tbs: tbs.raw,
            serial,
            issuer,
            subject,
            not_before,
            not_after,
            public_key,
            signature_algorithm,
            signature,
            key_usage,
            authority,
        })
    }

    /// Whether `issuer` signed this certificate.
    pub fn signed_by(&self, issuer: &Certificate<'_>) -> bool {
        self.issuer == issuer.subject
            && self
                .signature_algorithm
                .is_some_and(|algorithm| issuer.public_key.verify(algorithm, self.tbs, self.signature))
    }

    pub fn common_name(&self) -> Option<String> {
        name_attribute(self.subject, OID_COMMON_NAME)
    }

    pub fn organization(&self) -> Option<String> {
        name_attribute(self.subject, OID_ORGANIZATION)
    }

    pub fn has_usage(&self, bit: u8) -> bool {
        self.key_usage.contains(&bit)
    }

    /// SHA-256 of the whole certificate, hex: how pages and files name it.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.raw))
    }
}

/// The CRL distribution point addresses (URIs) of any certificate, whatever its key
/// type (a TSA's RSA certificate too): the fields before the extensions are skipped
/// unread.
pub fn crl_distribution_points(raw: &[u8]) -> Vec<String> {
    let read = || -> Result<Vec<String>, Malformed> {
        let mut certificate = Reader::new(raw).nested(der::SEQUENCE)?;
        let mut fields = certificate.nested(der::SEQUENCE)?;
        let mut addresses = Vec::new();
        while !fields.is_empty() {
            let element = fields.any()?;
            if element.tag != 0xa3 {
                continue;
            }
            let mut list = Reader::new(element.content).nested(der::SEQUENCE)?;
            while !list.is_empty() {
                let mut extension = list.nested(der::SEQUENCE)?;
                let id = der::oid_text(extension.expect(der::OID)?.content);
                extension.optional(der::BOOLEAN)?;
                let value = extension.expect(der::OCTET_STRING)?.content;
                if id == OID_CRL_DISTRIBUTION_POINTS {
                    collect_uris(value, 0, &mut addresses)?;
                }
            }
        }
        Ok(addresses)
    };
    read().unwrap_or_default()
}

/// Every uniformResourceIdentifier ([6]) nested inside `input`, a few levels deep.
fn collect_uris(input: &[u8], depth: usize, out: &mut Vec<String>) -> Result<(), Malformed> {
    let mut reader = Reader::new(input);
    while !reader.is_empty() && out.len() < 8 {
        let element = reader.any()?;
        if element.tag == 0x86 {
            if let Ok(uri) = std::str::from_utf8(element.content) {
                out.push(uri.to_string());
            }
        } else if element.tag & 0x20 != 0 && depth < 6 {
            collect_uris(element.content, depth + 1, out)?;
        }
    }
    Ok(())
}

/// The signature algorithm an AlgorithmIdentifier names, if it is one we accept.
pub fn signature_algorithm(identifier: Element<'_>) -> Option<Algorithm> {
    let mut reader = Reader::new(identifier.content);
    let id = der::oid_text(reader.expect(der::OID).ok()?.content);
    match id.as_str() {
        OID_ECDSA_SHA256 => Some(Algorithm::P256),
        OID_ED25519 => Some(Algorithm::Ed25519),
        _ => None,
    }
}

/// The bits set in a named-bit BIT STRING (key usage: bits 0 to 8). Bits past the
/// second byte name nothing and are not read, so a long string can neither overflow the
/// numbering nor alias a later bit onto an early one.
fn read_named_bits(content: &[u8]) -> Vec<u8> {
    let mut bits = Vec::new();
    for (index, byte) in content.iter().skip(1).take(2).enumerate() {
        for bit in 0..8u8 {
            if byte & (0x80 >> bit) != 0 {
                bits.push(index as u8 * 8 + bit);
            }
        }
    }
    bits
}

pub(super) fn read_time(element: Element<'_>) -> Result<i64, Malformed> {
    let text = std::str::from_utf8(element.content).map_err(|_| Malformed("waktu bukan ASCII"))?;
    let full = match element.tag {
        der::UTC_TIME => {
            let year: i32 = text.get(..2).and_then(|y| y.parse().ok()).ok_or(Malformed("tahun UTCTime"))?;
            format!("{}{text}", if year >= 50 { "19" } else { "20" })
        }
        der::GENERALIZED_TIME => text.to_string(),
        _ => return Err(Malformed("jenis waktu")),
    };
    chrono::NaiveDateTime::parse_from_str(&full, "%Y%m%d%H%M%SZ")
        .map(|t| t.and_utc().timestamp())
        .map_err(|_| Malformed("format waktu"))
}

fn name_attribute(name: &[u8], wanted: &str) -> Option<String> {
    let mut rdns = Reader::new(name).nested(der::SEQUENCE).ok()?;
    while !rdns.is_empty() {
        let mut set = rdns.nested(der::SET).ok()?;
        while !set.is_empty() {
            let mut pair = set.nested(der::SEQUENCE).ok()?;
            let id = der::oid_text(pair.expect(der::OID).ok()?.content);
            let value = pair.any().ok()?;
            if id == wanted {
                return String::from_utf8(value.content.to_vec()).ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_usage_longer_than_its_names_reads_only_its_names() {
        let mut long = vec![0u8];
        long.extend([0xFF; 40]);
        assert_eq!(super::read_named_bits(&long), (0..16).collect::<Vec<u8>>());
        // digitalSignature and keyCertSign, as a CA certificate carries them.
        assert_eq!(super::read_named_bits(&[1, 0b1000_0100]), [0, 5]);
    }

    use super::*;

    fn p256_key(seed: u8) -> PrivateKey {
        PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap())
    }

    #[test]
    fn issued_certificates_read_back_and_chain_to_their_root() {
        let root_key = p256_key(7);
        let root_name = Name {
            common_name: "CA Uji".into(),
            organization: "Dinas Uji".into(),
            ..Default::default()
        };
        let root_der = root_name.to_der();
        let root_public = root_key.public();
        let root = issue(
            &Template {
                serial: random_serial(),
                issuer: &root_der,
                subject: &root_der,
                not_before: 1_700_000_000,
                not_after: 2_600_000_000,
                subject_key: &root_public,
                issuer_key_identifier: &root_public.key_identifier(),
                authority: true,
                links: None,
            },
            &root_key,
        );
        let root_cert = Certificate::parse(&root).unwrap();
        assert!(root_cert.authority && root_cert.has_usage(KEY_CERT_SIGN) && !root_cert.has_usage(NON_REPUDIATION));
        assert!(root_cert.signed_by(&root_cert));
        assert_eq!(root_cert.not_after, 2_600_000_000);

        for signer in [p256_key(9), PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[3; 32]))] {
            let subject = Name {
                common_name: "Drs. Siti Rahmawati, M.Si.".into(),
                organization: "Dinas Uji".into(),
                title: Some("Kepala Dinas".into()),
                serial_number: Some("197001011990032001".into()),
            }
            .to_der();
            let public = signer.public();
            let leaf = issue(
                &Template {
                    serial: random_serial(),
                    issuer: &root_der,
                    subject: &subject,
                    not_before: 1_700_000_000,
                    not_after: 1_900_000_000,
                    subject_key: &public,
                    issuer_key_identifier: &root_public.key_identifier(),
                    authority: false,
                    links: Some(Links {
                        crl: "https://naskah.example.go.id/ca/ab.crl",
                        ca_issuers: "https://naskah.example.go.id/ca/ab.crt",
                    }),
                },
                &root_key,
            );
            assert_eq!(crl_distribution_points(&leaf), ["https://naskah.example.go.id/ca/ab.crl"]);
            assert!(crl_distribution_points(&root).is_empty());
            let cert = Certificate::parse(&leaf).unwrap();
            assert_eq!(cert.public_key, public);
            assert!(cert.has_usage(NON_REPUDIATION) && cert.has_usage(DIGITAL_SIGNATURE) && !cert.authority);
            assert_eq!(cert.common_name().as_deref(), Some("Drs. Siti Rahmawati, M.Si."));
            assert!(cert.signed_by(&root_cert));
            assert!(!cert.signed_by(&cert));
            let signature = signer.sign(b"isi");
            assert!(public.verify(signer.algorithm(), b"isi", &signature));
            assert!(!public.verify(signer.algorithm(), b"ubah", &signature));
            let mut tampered = leaf.clone();
            let at = tampered.len() / 2;
            tampered[at] ^= 1;
            assert!(Certificate::parse(&tampered).map(|c| !c.signed_by(&root_cert)).unwrap_or(true));
        }
    }
}
