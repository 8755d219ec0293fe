//! The signature embedded in every final PDF (PAdES baseline B-B to B-LTA): DER, X.509,
//! CMS, the incremental update, timestamps and revocation data, and the signed token of
//! the QR code. Everything here takes plain values (keys, certificates, bytes); the
//! department's authority and its stored certificates are in `naskah_domain::keys`.
//!
//! The signer sits behind [`DocumentSigner`]; a department may instead have the whole
//! stamped PDF signed by the state CA's signing service (BSrE), a backend behind
//! [`remote::RemoteSigner`].

pub mod bsre;
pub mod cms;
pub mod crl;
pub mod der;
pub mod ltv;
pub mod pades;
pub mod remote;
pub mod revisions;
pub mod timestamp;
pub mod token;
pub mod x509;

use sha2::{Digest, Sha256};

pub use x509::Algorithm;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("PDF tidak dapat ditandatangani: {0}")]
    Pdf(&'static str),
    #[error("sertifikat penanda tangan tidak terbaca: {0}")]
    Certificate(String),
    #[error("penanda tangan menolak: {0}")]
    Signer(String),
}

/// Whoever makes the signature value: holds the certificate and signs the CMS signed
/// attributes.
pub trait DocumentSigner: Send + Sync {
    fn algorithm(&self) -> Algorithm;
    /// The signer's certificate (DER).
    fn certificate(&self) -> &[u8];
    /// The certificates above it, up to the root.
    fn chain(&self) -> &[Vec<u8>];
    /// Signs `message` (the DER of the signed attributes) with the algorithm's digest.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// A signer whose private key is in this process (unlocked with the official's
/// passphrase for this one signature).
pub struct LocalSigner {
    pub key: x509::PrivateKey,
    pub certificate: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
}

impl DocumentSigner for LocalSigner {
    fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }
    fn certificate(&self) -> &[u8] {
        &self.certificate
    }
    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.key.sign(message))
    }
}

/// The official's key for the PDF signature under `algorithm`. Ed25519 uses the
/// official's own key; P-256 uses a key derived from it (SHA-256 over a domain label,
/// the seed and a counter, retried until it is a valid scalar), so one passphrase and
/// one key file serve both and nothing new has to be stored.
pub fn official_key(seed: &ed25519_dalek::SigningKey, algorithm: Algorithm) -> x509::PrivateKey {
    match algorithm {
        Algorithm::Ed25519 => x509::PrivateKey::Ed25519(seed.clone()),
        Algorithm::P256 => derived_p256(b"naskah/pades/p256/v1", zeroize::Zeroizing::new(seed.to_bytes()).as_slice()),
    }
}

/// The identifier of an Ed25519 public key: the first 16 bytes of its SHA-256, hex.
pub fn key_id(public: &ed25519_dalek::VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..16])
}

/// A P-256 key derived from `secret` under a domain `label`: SHA-256 over the label,
/// the secret and a counter, retried until it is a valid scalar. Nothing new has to be
/// stored: the secret and the label give the key again.
pub fn derived_p256(label: &[u8], secret: &[u8]) -> x509::PrivateKey {
    for counter in 0u32.. {
        let mut hasher = Sha256::new();
        hasher.update(label);
        hasher.update(secret);
        hasher.update(counter.to_be_bytes());
        let candidate = zeroize::Zeroizing::new(hasher.finalize());
        if let Ok(key) = p256::ecdsa::SigningKey::from_slice(candidate.as_slice()) {
            return x509::PrivateKey::P256(key);
        }
    }
    unreachable!("a 256-bit hash falls outside the P-256 order with probability 2^-32 per try")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(seed: u8) -> (x509::PrivateKey, Vec<u8>) {
        let key = x509::PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap());
        let name = x509::Name {
            common_name: "CA Uji".into(),
            organization: "Dinas Uji".into(),
            ..Default::default()
        }
        .to_der();
        let public = key.public();
        let certificate = x509::issue(
            &x509::Template {
                serial: x509::random_serial(),
                issuer: &name,
                subject: &name,
                not_before: 1_600_000_000,
                not_after: 2_500_000_000,
                subject_key: &public,
                issuer_key_identifier: &public.key_identifier(),
                authority: true,
                links: None,
            },
            &key,
        );
        (key, certificate)
    }

    fn signer(algorithm: Algorithm, root: &(x509::PrivateKey, Vec<u8>)) -> LocalSigner {
        let key = official_key(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]), algorithm);
        let root_cert = x509::Certificate::parse(&root.1).unwrap();
        let subject = x509::Name {
            common_name: "Siti".into(),
            organization: "Dinas Uji".into(),
            ..Default::default()
        }
        .to_der();
        let public = key.public();
        let certificate = x509::issue(
            &x509::Template {
                serial: x509::random_serial(),
                issuer: root_cert.subject,
                subject: &subject,
                not_before: 1_600_000_000,
                not_after: 2_400_000_000,
                subject_key: &public,
                issuer_key_identifier: &root.0.public().key_identifier(),
                authority: false,
                links: None,
            },
            &root.0,
        );
        LocalSigner {
            key,
            certificate,
            chain: vec![root.1.clone()],
        }
    }

    /// A tiny PDF with a classic cross-reference table, as Typst writes them.
    fn minimal_pdf() -> Vec<u8> {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let objects = [
            "<</Type /Catalog /Pages 2 0 R>>",
            "<</Type /Pages /Kids [3 0 R] /Count 1>>",
            "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R>>",
            "<</Length 8>>\nstream\n0 0 m S\nendstream",
        ];
        let mut offsets = Vec::new();
        for (index, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 5\n0000000000 65535 f\r\n");
        for offset in offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
        }
        pdf.extend_from_slice(format!("trailer\n<</Size 5 /Root 1 0 R /ID [<01><01>]>>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        pdf
    }

    /// A minimal PDF signed with P-256 under a test root.
    pub(super) struct SignedSample {
        pub pdf: Vec<u8>,
        pub root: Vec<u8>,
    }

    pub(super) fn signed_minimal_pdf() -> SignedSample {
        let root = authority(5);
        let signer = signer(Algorithm::P256, &root);
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:15:00+08:00").unwrap();
        let pdf = pades::sign(
            &minimal_pdf(),
            &signer,
            &pades::Details {
                name: "Siti",
                reason: "Uji",
                location: "Tenggarong",
                signed_at: at,
            },
        )
        .unwrap();
        SignedSample { pdf, root: root.1 }
    }

    #[test]
    fn signed_pdfs_verify_and_any_changed_byte_is_reported() {
        let root = authority(5);
        for algorithm in [Algorithm::P256, Algorithm::Ed25519] {
            let signer = signer(algorithm, &root);
            let original = minimal_pdf();
            let at = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:15:00+08:00").unwrap();
            let signed = pades::sign(
                &original,
                &signer,
                &pades::Details {
                    name: "Siti",
                    reason: "Uji",
                    location: "Tenggarong",
                    signed_at: at,
                },
            )
            .unwrap();
            assert!(signed.starts_with(&original), "an incremental update keeps the original bytes");
            let found = pades::inspect(&signed, std::slice::from_ref(&root.1));
            assert_eq!(found.len(), 1);
            assert!(found[0].valid() && found[0].covers_whole_file, "{algorithm:?}: {:?}", found[0]);
            assert_eq!(found[0].signer.as_deref(), Some("Siti"));

            let mut changed = signed.clone();
            changed[original.len() / 2] ^= 0x01;
            let found = pades::inspect(&changed, std::slice::from_ref(&root.1));
            assert!(!found[0].intact && !found[0].valid(), "{algorithm:?}");
            assert_eq!(found[0].problem.as_deref(), Some("isi PDF berubah setelah ditandatangani"));

            // Another authority with the same name but its own key.
            let stranger = authority(6);
            let found = pades::inspect(&signed, &[stranger.1]);
            assert!(found[0].intact && !found[0].trusted && !found[0].valid());

            let mut appended = signed.clone();
            appended.extend_from_slice(b"% ditambahkan\n");
            let found = pades::inspect(&appended, std::slice::from_ref(&root.1));
            assert!(found[0].valid() && !found[0].covers_whole_file);
        }
    }

    #[test]
    fn the_derived_p256_key_is_stable_and_distinct_per_official() {
        let a = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let b = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
        let public = |k: &ed25519_dalek::SigningKey| official_key(k, Algorithm::P256).public();
        assert_eq!(public(&a), public(&a));
        assert_ne!(public(&a), public(&b));
    }

    #[test]
    fn malformed_uploads_end_in_findings_not_panics() {
        for input in [
            &b"/ByteRange [0 5 3 2]"[..],
            b"/ByteRange [0 99999999999999999999 1 1]",
            b"%PDF /ByteRange [0 10 12 0] <zz>",
            b"/ByteRange [0 1 3 18446744073709551615]",
            b"/ByteRange",
        ] {
            for found in pades::inspect(input, &[]) {
                assert!(!found.valid());
            }
        }
    }
}
