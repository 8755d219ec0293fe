//! The compact signed token in a letter's QR code, checkable offline: the department's
//! Ed25519 key signs its key id, the letter's verification id, number, date, a hash of
//! the subject and the signer's name. Form: `base64url(claims) "." base64url(signature)`,
//! where the claims are compact JSON with keys in alphabetical order.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::workflow::statement::sha256_hex;

/// Prefix of every signed token, so the signature cannot stand for anything else.
const DOMAIN: &[u8] = b"naskah/qr/v1\n";

/// What a token says. Field names are short (the QR code stays small) and in
/// alphabetical order (the serialisation is the canonical form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Letter date, YYYY-MM-DD.
    pub d: String,
    /// First 16 hex digits of the SHA-256 of the subject.
    pub h: String,
    /// Verification id.
    pub i: String,
    /// First 8 hex digits of the department key's id.
    pub k: String,
    /// Letter number.
    pub n: String,
    /// Signer's name.
    pub s: String,
    /// Format version.
    pub v: u8,
}

impl Claims {
    pub fn new(key_id: &str, verification_id: &str, number: &str, date: &str, subject: &str, signer: &str) -> Claims {
        Claims {
            d: date.into(),
            h: subject_hash(subject),
            i: verification_id.into(),
            k: key_id.chars().take(8).collect(),
            n: number.into(),
            s: signer.into(),
            v: 1,
        }
    }
}

pub fn subject_hash(subject: &str) -> String {
    sha256_hex(subject.as_bytes())[..16].to_string()
}

fn signed_message(payload: &[u8]) -> Vec<u8> {
    let mut message = DOMAIN.to_vec();
    message.extend_from_slice(payload);
    message
}

pub fn make(key: &SigningKey, claims: &Claims) -> String {
    let payload = serde_json::to_vec(claims).expect("claims serialise");
    let signature = key.sign(&signed_message(&payload));
    format!("{}.{}", B64.encode(&payload), B64.encode(signature.to_bytes()))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token tidak berbentuk token naskah")]
    Malformed,
    #[error("kunci dinas {0} tidak dikenal")]
    UnknownKey(String),
    #[error("tanda tangan token tidak sah: token diubah atau bukan dari dinas ini")]
    BadSignature,
}

/// The token inside a verification address (`…/v/{id}?t=TOKEN`), or the text itself.
pub fn from_text(text: &str) -> &str {
    let text = text.trim();
    match text.split_once("t=") {
        Some((_, rest)) if text.contains("/v/") => rest.split('&').next().unwrap_or(rest),
        _ => text,
    }
}

/// Checks a token against known department keys (key id → public key) and returns what
/// it says.
pub fn open(token: &str, keys: &HashMap<String, VerifyingKey>) -> Result<Claims, TokenError> {
    let (payload_b64, signature_b64) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let payload = B64.decode(payload_b64).map_err(|_| TokenError::Malformed)?;
    let signature: [u8; 64] = B64
        .decode(signature_b64)
        .map_err(|_| TokenError::Malformed)?
        .try_into()
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    let candidates: Vec<&VerifyingKey> = keys.iter().filter(|(id, _)| id.starts_with(&claims.k)).map(|(_, k)| k).collect();
    if candidates.is_empty() {
        return Err(TokenError::UnknownKey(claims.k.clone()));
    }
    let message = signed_message(&payload);
    let signature = Signature::from_bytes(&signature);
    if candidates.iter().any(|k| k.verify_strict(&message, &signature).is_ok()) {
        Ok(claims)
    } else {
        Err(TokenError::BadSignature)
    }
}

/// Department keys as published at `/.well-known/naskah-keys.json`.
pub fn keys_from_json(json: &serde_json::Value) -> HashMap<String, VerifyingKey> {
    json["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| {
                    let id = k["key_id"].as_str()?.to_string();
                    let bytes: [u8; 32] = hex::decode(k["public_key"].as_str()?).ok()?.try_into().ok()?;
                    Some((id, VerifyingKey::from_bytes(&bytes).ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(key: &SigningKey) -> HashMap<String, VerifyingKey> {
        HashMap::from([(crate::keys::key_id(&key.verifying_key()), key.verifying_key())])
    }

    #[test]
    fn a_token_opens_only_with_its_key_and_unchanged() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let id = crate::keys::key_id(&key.verifying_key());
        let claims = Claims::new(
            &id,
            &"ab".repeat(16),
            "500.15.16/0001/Disnaker/2026",
            "2026-11-22",
            "Permohonan data",
            "Drs. Bambang",
        );
        let token = make(&key, &claims);
        assert!(token.len() < 320, "compact enough for a QR code: {}", token.len());
        assert_eq!(open(&token, &keys(&key)).unwrap(), claims);
        let other = SigningKey::from_bytes(&[6u8; 32]);
        assert!(matches!(open(&token, &keys(&other)), Err(TokenError::UnknownKey(_))));
        // The same key id prefix but another key: the signature fails.
        let mut mixed = HashMap::new();
        mixed.insert(id.clone(), other.verifying_key());
        assert_eq!(open(&token, &mixed), Err(TokenError::BadSignature));
        // A changed number.
        let forged = Claims {
            n: "500.15.16/0999/Disnaker/2026".into(),
            ..claims.clone()
        };
        let payload = B64.encode(serde_json::to_vec(&forged).unwrap());
        let forged_token = format!("{payload}.{}", token.split_once('.').unwrap().1);
        assert_eq!(open(&forged_token, &keys(&key)), Err(TokenError::BadSignature));
        assert_eq!(open("bukan-token", &keys(&key)), Err(TokenError::Malformed));
        let url = format!("https://naskah.example.go.id/v/{}?t={token}", "ab".repeat(16));
        assert_eq!(from_text(&url), token);
        assert_eq!(from_text(&token), token);
    }
}
