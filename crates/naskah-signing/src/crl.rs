//! Certificate revocation lists (RFC 5280 §5) of the department's authority: version 2,
//! signed by the root's key, with the authority key identifier and a CRL number, each
//! revoked certificate with its date and reason.

use super::{
    der::{self, Malformed, Reader},
    x509::{Certificate, PrivateKey},
};

const OID_AUTHORITY_KEY_ID: &str = "2.5.29.35";
const OID_CRL_NUMBER: &str = "2.5.29.20";
const OID_REASON_CODE: &str = "2.5.29.21";
/// CRLReason superseded: the official's key was replaced.
pub const REASON_SUPERSEDED: u8 = 4;

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The serial number's INTEGER content bytes (as [`Certificate::serial`]).
    pub serial: Vec<u8>,
    pub at: i64,
    pub reason: u8,
}

/// What a new CRL says.
pub struct Contents<'a> {
    /// The issuer's Name (DER), as in its certificate's subject.
    pub issuer: &'a [u8],
    pub issuer_key_identifier: &'a [u8],
    pub number: u64,
    pub this_update: i64,
    pub next_update: i64,
    pub revoked: &'a [Revoked],
}

/// Issues a CRL signed by `issuer_key`.
pub fn issue(contents: &Contents<'_>, issuer_key: &PrivateKey) -> Vec<u8> {
    let extension = |oid: &str, value: Vec<u8>| der::sequence(&[&der::oid(oid), &der::octet_string(&value)]);
    let signature_algorithm = issuer_key.algorithm().signature_identifier();
    let entries: Vec<Vec<u8>> = contents
        .revoked
        .iter()
        .map(|entry| {
            let reason = extension(OID_REASON_CODE, der::tlv(0x0a, &[entry.reason]));
            der::sequence(&[
                &der::tlv(der::INTEGER, &entry.serial),
                &der::time(entry.at),
                &der::sequence(&[&reason]),
            ])
        })
        .collect();
    let extensions = [
        extension(
            OID_AUTHORITY_KEY_ID,
            der::sequence(&[&der::tlv(0x80, contents.issuer_key_identifier)]),
        ),
        extension(OID_CRL_NUMBER, der::unsigned_integer(&contents.number.to_be_bytes())),
    ];
    let extension_refs: Vec<&[u8]> = extensions.iter().map(Vec::as_slice).collect();
    let version = der::small_integer(1);
    let this_update = der::time(contents.this_update);
    let next_update = der::time(contents.next_update);
    let revoked = {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        der::sequence(&refs)
    };
    let crl_extensions = der::explicit(0, &der::sequence(&extension_refs));
    let mut fields: Vec<&[u8]> = vec![&version, &signature_algorithm, contents.issuer, &this_update, &next_update];
    // An empty list is left out rather than written empty (RFC 5280 §5.1.2.6).
    if !entries.is_empty() {
        fields.push(&revoked);
    }
    fields.push(&crl_extensions);
    let tbs = der::sequence(&fields);
    let signature = issuer_key.sign(&tbs);
    der::sequence(&[&tbs, &signature_algorithm, &der::bit_string(&signature)])
}

/// A CRL read back.
#[derive(Debug, Clone)]
pub struct Crl<'a> {
    pub tbs: &'a [u8],
    pub issuer: &'a [u8],
    pub this_update: i64,
    pub next_update: i64,
    pub revoked: Vec<Revoked>,
    signature_algorithm: Option<super::Algorithm>,
    signature: &'a [u8],
}

impl<'a> Crl<'a> {
    pub fn parse(raw: &'a [u8]) -> Result<Self, Malformed> {
        let mut whole = Reader::new(raw).nested(der::SEQUENCE)?;
        let tbs = whole.expect(der::SEQUENCE)?;
        let signature_algorithm = super::x509::signature_algorithm(whole.expect(der::SEQUENCE)?);
        let bits = whole.expect(der::BIT_STRING)?.content;
        let signature = bits.get(1..).ok_or(Malformed("tanda tangan CRL kosong"))?;
        let mut fields = Reader::new(tbs.content);
        fields.optional(der::INTEGER)?;
        fields.expect(der::SEQUENCE)?;
        let issuer = fields.expect(der::SEQUENCE)?.raw;
        let this_update = super::x509::read_time(fields.any()?)?;
        let next_update = super::x509::read_time(fields.any()?)?;
        let mut revoked = Vec::new();
        if let Some(list) = fields.optional(der::SEQUENCE)? {
            let mut entries = Reader::new(list.content);
            while !entries.is_empty() {
                let mut entry = entries.nested(der::SEQUENCE)?;
                let serial = entry.expect(der::INTEGER)?.content.to_vec();
                let at = super::x509::read_time(entry.any()?)?;
                let mut reason = 0;
                if let Some(extensions) = entry.optional(der::SEQUENCE)? {
                    let mut list = Reader::new(extensions.content);
                    while !list.is_empty() {
                        let mut extension = list.nested(der::SEQUENCE)?;
                        let id = der::oid_text(extension.expect(der::OID)?.content);
                        extension.optional(der::BOOLEAN)?;
                        let value = extension.expect(der::OCTET_STRING)?.content;
                        if id == OID_REASON_CODE {
                            reason = Reader::new(value).expect(0x0a)?.content.first().copied().unwrap_or(0);
                        }
                    }
                }
                revoked.push(Revoked { serial, at, reason });
            }
        }
        Ok(Crl {
            tbs: tbs.raw,
            issuer,
            this_update,
            next_update,
            revoked,
            signature_algorithm,
            signature,
        })
    }

    /// Whether `issuer` signed this CRL.
    pub fn signed_by(&self, issuer: &Certificate<'_>) -> bool {
        self.issuer == issuer.subject
            && self
                .signature_algorithm
                .is_some_and(|algorithm| issuer.public_key.verify(algorithm, self.tbs, self.signature))
    }

    /// The revocation of `certificate`, if this CRL lists it.
    pub fn revocation_of(&self, certificate: &Certificate<'_>) -> Option<&Revoked> {
        self.revoked.iter().find(|r| r.serial == certificate.serial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::{self, Name, Template};

    #[test]
    fn crls_list_revoked_serials_and_verify_under_their_issuer() {
        let key = PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[4; 32]).unwrap());
        let name = Name {
            common_name: "CA Uji".into(),
            organization: "Dinas Uji Kabupaten Uji".into(),
            ..Default::default()
        }
        .to_der();
        let public = key.public();
        let root_der = x509::issue(
            &Template {
                serial: x509::random_serial(),
                issuer: &name,
                subject: &name,
                not_before: 1_700_000_000,
                not_after: 2_400_000_000,
                subject_key: &public,
                issuer_key_identifier: &public.key_identifier(),
                authority: true,
                links: None,
            },
            &key,
        );
        let root = Certificate::parse(&root_der).unwrap();
        let empty = issue(
            &Contents {
                issuer: root.subject,
                issuer_key_identifier: &public.key_identifier(),
                number: 1,
                this_update: 1_800_000_000,
                next_update: 1_800_604_800,
                revoked: &[],
            },
            &key,
        );
        let read = Crl::parse(&empty).unwrap();
        assert!(read.revoked.is_empty() && read.signed_by(&root));
        assert_eq!((read.this_update, read.next_update), (1_800_000_000, 1_800_604_800));

        let revoked = [Revoked {
            serial: root.serial.to_vec(),
            at: 1_800_000_100,
            reason: REASON_SUPERSEDED,
        }];
        let listed = issue(
            &Contents {
                issuer: root.subject,
                issuer_key_identifier: &public.key_identifier(),
                number: 2,
                this_update: 1_800_000_200,
                next_update: 1_800_604_800,
                revoked: &revoked,
            },
            &key,
        );
        let read = Crl::parse(&listed).unwrap();
        assert_eq!(read.revocation_of(&root), Some(&revoked[0]));
        let mut tampered = listed.clone();
        let at = tampered.len() / 3;
        tampered[at] ^= 1;
        assert!(Crl::parse(&tampered).map(|c| !c.signed_by(&root)).unwrap_or(true));
    }
}
