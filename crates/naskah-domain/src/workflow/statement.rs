//! The statement an official signs at a paraf or signature step, in one canonical form.
//!
//! The canonical form is compact JSON with keys in a fixed (sorted) order and no
//! floating-point numbers, so the same statement always has the same bytes. What is
//! signed is those bytes behind a domain-separation prefix, so a naskah signature can
//! never be replayed as a signature over anything else.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Prefix of every signed statement.
const DOMAIN: &[u8] = b"naskah/pernyataan/v1\n";
/// `prev` of a letter's first statement.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of a statement. Field names are Indonesian in the canonical form because
/// the statement is shown to people who verify it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Department id and slug.
    pub dinas: i64,
    pub dinas_kode: String,
    /// Letter id and the revision decided on.
    pub surat: i64,
    pub revisi: i64,
    /// SHA-256 of the revision's canonical data and of its rendered draft PDF.
    pub sha256_data: String,
    pub sha256_pdf: String,
    /// The step: its row id, round, stage index, kind and label.
    pub langkah: i64,
    pub putaran: i64,
    pub tahap: i64,
    pub jenis_tahap: String,
    pub nama_tahap: String,
    /// paraf, tanda_tangan, kembalikan or tolak.
    pub keputusan: String,
    /// The note given with a return or rejection (empty otherwise).
    pub catatan: String,
    /// Who: official id, name, the key's id, and "Plh."/"Plt." when acting for another.
    pub pejabat: i64,
    pub nama_pejabat: String,
    pub kunci: String,
    pub sebagai: String,
    /// When, Unix seconds UTC.
    pub waktu: i64,
    /// Hash of the letter's previous statement ([`GENESIS`] for the first).
    pub sebelumnya: String,
}

impl Statement {
    /// The canonical bytes: compact JSON, keys sorted.
    pub fn canonical(&self) -> String {
        // Going through a BTreeMap sorts the keys whatever the struct's field order.
        let value = serde_json::to_value(self).expect("a statement serialises");
        let sorted: BTreeMap<String, serde_json::Value> = value
            .as_object()
            .expect("a statement is an object")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serde_json::to_string(&sorted).expect("a statement serialises")
    }

    pub fn parse(canonical: &str) -> Result<Statement, String> {
        let statement: Statement = serde_json::from_str(canonical).map_err(|e| format!("pernyataan tidak terbaca: {e}"))?;
        if statement.canonical() != canonical {
            return Err("pernyataan tidak dalam bentuk kanonik".into());
        }
        Ok(statement)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn signed_message(canonical: &str) -> Vec<u8> {
    let mut message = DOMAIN.to_vec();
    message.extend_from_slice(canonical.as_bytes());
    message
}

/// Signs canonical bytes; returns the signature in hex.
pub fn sign(key: &SigningKey, canonical: &str) -> String {
    hex::encode(key.sign(&signed_message(canonical)).to_bytes())
}

/// Whether `signature_hex` is `key`'s signature over `canonical`.
pub fn verify(key: &VerifyingKey, canonical: &str, signature_hex: &str) -> bool {
    let Ok(bytes) = hex::decode(signature_hex) else { return false };
    let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
        return false;
    };
    key.verify_strict(&signed_message(canonical), &Signature::from_bytes(&bytes))
        .is_ok()
}

/// The canonical form of a letter's data: compact JSON with every object's keys sorted
/// (serde_json's map is ordered), so equal data hash equally.
pub fn canonical_data(data: &serde_json::Value) -> String {
    fn sort(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let sorted: BTreeMap<&String, serde_json::Value> = map.iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::to_value(sorted).expect("sorted map serialises")
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(data).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Statement {
        Statement {
            dinas: 1,
            dinas_kode: "disnaker-ppu".into(),
            surat: 7,
            revisi: 2,
            sha256_data: sha256_hex(b"data"),
            sha256_pdf: sha256_hex(b"pdf"),
            langkah: 31,
            putaran: 1,
            tahap: 2,
            jenis_tahap: "paraf".into(),
            nama_tahap: "Paraf Kepala Bidang".into(),
            keputusan: "paraf".into(),
            catatan: String::new(),
            pejabat: 3,
            nama_pejabat: "Muhammad Ridwan, S.T., M.T.".into(),
            kunci: "ab".repeat(16),
            sebagai: String::new(),
            waktu: 1_790_000_000,
            sebelumnya: GENESIS.into(),
        }
    }

    #[test]
    fn the_canonical_form_is_sorted_compact_and_round_trips() {
        let s = example();
        let text = s.canonical();
        assert!(text.starts_with("{\"catatan\":\"\",\"dinas\":1,\"dinas_kode\""), "{text}");
        assert!(!text.contains(": ") && !text.contains(", \""), "compact: {text}");
        assert_eq!(Statement::parse(&text).unwrap(), s);
        // The same fields in another order are not canonical.
        let shuffled = text.replacen("{\"catatan\":\"\",", "{", 1).replacen('}', ",\"catatan\":\"\"}", 1);
        assert!(Statement::parse(&shuffled).is_err());
    }

    #[test]
    fn a_signature_verifies_only_for_its_statement_and_key() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let text = example().canonical();
        let signature = sign(&key, &text);
        assert!(verify(&key.verifying_key(), &text, &signature));
        assert!(!verify(&other.verifying_key(), &text, &signature));
        let altered = text.replace("\"revisi\":2", "\"revisi\":3");
        assert!(!verify(&key.verifying_key(), &altered, &signature));
        // A bare signature over the canonical text (no domain prefix) is not accepted.
        let bare = hex::encode(key.sign(text.as_bytes()).to_bytes());
        assert!(!verify(&key.verifying_key(), &text, &bare));
        assert!(!verify(&key.verifying_key(), &text, "zz"));
    }

    #[test]
    fn canonical_data_ignores_key_order() {
        let a = serde_json::json!({"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": "é"}});
        let b = serde_json::json!({"a": {"x": "é", "y": [1, {"c": 3, "d": 2}]}, "b": 1});
        assert_eq!(canonical_data(&a), canonical_data(&b));
        assert_eq!(canonical_data(&a), r#"{"a":{"x":"é","y":[1,{"c":3,"d":2}]},"b":1}"#);
    }
}
