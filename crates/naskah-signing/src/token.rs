//! The signed token in a letter's QR code, checkable offline with the department's
//! published Ed25519 key.
//!
//! Version 2 (current) is small in modules so that the printed symbol can have large
//! ones: 95 bytes — version, key id prefix, verification id, date, a short hash of the
//! number and subject, and the signature — written as decimal digits, which QR numeric
//! mode packs at 3.3 bits a digit (better than base45 in alphanumeric mode, and safe in
//! any URL). The letter's address is `ORIGIN/V/DIGITS`: the upper-case origin and `/V/`
//! are alphanumeric too, so the whole code is a version 7 or 8 symbol at level M.
//!
//! Version 1 (letters signed before): `base64url(claims) "." base64url(signature)`, the
//! claims compact JSON with keys in alphabetical order, carried as `/v/{id}?t=TOKEN`.
//! Such tokens keep verifying.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use chrono::NaiveDate;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use sha2::{Digest, Sha256};

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
    hex::encode(&Sha256::digest(subject.as_bytes())[..8])
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

/// The token inside a verification address — `…/V/DIGITS` (version 2) or
/// `…/v/{id}?t=TOKEN` (version 1) — or the text itself.
pub fn from_text(text: &str) -> &str {
    let text = text.trim();
    if let Some((_, rest)) = text.split_once("t=").filter(|_| text.contains("/v/")) {
        return rest.split('&').next().unwrap_or(rest);
    }
    match text.rfind("/V/").or_else(|| text.rfind("/v/")) {
        Some(at) => {
            let rest = &text[at + 3..];
            let end = rest.find(['?', '#', '/']).unwrap_or(rest.len());
            if rest[..end].bytes().all(|b| b.is_ascii_digit()) {
                &rest[..end]
            } else {
                text
            }
        }
        None => text,
    }
}

/// The verification id an address names in its path (`/v/{id}`), if it names one.
pub fn address_id(text: &str) -> Option<&str> {
    let (_, rest) = text.trim().split_once("/v/")?;
    let end = rest.find(['?', '#', '/', '.']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// What a genuine token of either version says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub version: u8,
    /// First 8 hex digits of the department key's id.
    pub key: String,
    pub verification_id: String,
    /// Letter date, YYYY-MM-DD.
    pub date: String,
    /// Version 1 tokens name the number and the signer outright; version 2 binds them
    /// by hash only.
    pub number: Option<String>,
    pub signer: Option<String>,
    binding: Binding,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Binding {
    /// Version 1: the number and the subject's hash.
    Claims { number: String, subject_hash: String },
    /// Version 2: the hash of number and subject.
    NumberAndSubject([u8; HASH_LEN]),
}

impl Verified {
    /// Whether the token names exactly this letter: verification id, date, number and
    /// subject (the unmasked subject of the register).
    pub fn names(&self, verification_id: &str, date: &str, number: &str, subject: &str) -> bool {
        let bound = match &self.binding {
            Binding::Claims {
                number: n,
                subject_hash: hash,
            } => n == number && *hash == subject_hash(subject),
            Binding::NumberAndSubject(hash) => *hash == number_and_subject_hash(number, subject),
        };
        bound && self.verification_id == verification_id && self.date == date
    }
}

/// Checks a token of either version against known department keys (key id → public
/// key) and returns what it says.
pub fn open(token: &str, keys: &HashMap<String, VerifyingKey>) -> Result<Verified, TokenError> {
    if token.contains('.') {
        let claims = open_v1(token, keys)?;
        return Ok(Verified {
            version: 1,
            key: claims.k,
            verification_id: claims.i,
            date: claims.d,
            number: Some(claims.n.clone()),
            signer: Some(claims.s),
            binding: Binding::Claims {
                number: claims.n,
                subject_hash: claims.h,
            },
        });
    }
    open_compact(token, keys)
}

fn matching_keys<'a>(keys: &'a HashMap<String, VerifyingKey>, prefix: &str) -> Result<Vec<&'a VerifyingKey>, TokenError> {
    let candidates: Vec<&VerifyingKey> = keys.iter().filter(|(id, _)| id.starts_with(prefix)).map(|(_, k)| k).collect();
    if candidates.is_empty() {
        return Err(TokenError::UnknownKey(prefix.to_string()));
    }
    Ok(candidates)
}

fn open_v1(token: &str, keys: &HashMap<String, VerifyingKey>) -> Result<Claims, TokenError> {
    let (payload_b64, signature_b64) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let payload = B64.decode(payload_b64).map_err(|_| TokenError::Malformed)?;
    let signature: [u8; 64] = B64
        .decode(signature_b64)
        .map_err(|_| TokenError::Malformed)?
        .try_into()
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    let candidates = matching_keys(keys, &claims.k)?;
    let message = signed_message(&payload);
    let signature = Signature::from_bytes(&signature);
    if candidates.iter().any(|k| k.verify_strict(&message, &signature).is_ok()) {
        Ok(claims)
    } else {
        Err(TokenError::BadSignature)
    }
}

/// Version 2's domain separation: the signature over a compact token can stand for
/// nothing else (and not for a version 1 token).
const COMPACT_DOMAIN: &[u8] = b"naskah/qr/v2\n";
const COMPACT_VERSION: u8 = 2;
const HASH_LEN: usize = 8;
/// version, key id prefix, verification id, days since 2000-01-01, hash.
const SIGNED_LEN: usize = 1 + 4 + 16 + 2 + HASH_LEN;
const COMPACT_LEN: usize = SIGNED_LEN + 64;

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a real date")
}

fn number_and_subject_hash(number: &str, subject: &str) -> [u8; HASH_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(COMPACT_DOMAIN);
    hasher.update(number.as_bytes());
    hasher.update(b"\n");
    hasher.update(subject.as_bytes());
    hasher.finalize()[..HASH_LEN].try_into().expect("eight bytes")
}

/// The version 2 token of a letter, as decimal digits.
pub fn make_compact(
    key: &SigningKey,
    key_id: &str,
    verification_id: &str,
    date: NaiveDate,
    number: &str,
    subject: &str,
) -> Result<String, TokenError> {
    let key_prefix: [u8; 4] = hex::decode(key_id.get(..8).ok_or(TokenError::Malformed)?)
        .map_err(|_| TokenError::Malformed)?
        .try_into()
        .map_err(|_| TokenError::Malformed)?;
    let id: [u8; 16] = hex::decode(verification_id)
        .map_err(|_| TokenError::Malformed)?
        .try_into()
        .map_err(|_| TokenError::Malformed)?;
    let days = u16::try_from((date - epoch()).num_days()).map_err(|_| TokenError::Malformed)?;
    let mut bytes = Vec::with_capacity(COMPACT_LEN);
    bytes.push(COMPACT_VERSION);
    bytes.extend_from_slice(&key_prefix);
    bytes.extend_from_slice(&id);
    bytes.extend_from_slice(&days.to_be_bytes());
    bytes.extend_from_slice(&number_and_subject_hash(number, subject));
    let signature = key.sign(&[COMPACT_DOMAIN, &bytes].concat());
    bytes.extend_from_slice(&signature.to_bytes());
    Ok(digits::encode(&bytes))
}

fn open_compact(token: &str, keys: &HashMap<String, VerifyingKey>) -> Result<Verified, TokenError> {
    let bytes = digits::decode(token).ok_or(TokenError::Malformed)?;
    if bytes.len() != COMPACT_LEN || bytes[0] != COMPACT_VERSION {
        return Err(TokenError::Malformed);
    }
    let (signed, signature) = bytes.split_at(SIGNED_LEN);
    let key = hex::encode(&signed[1..5]);
    let verification_id = hex::encode(&signed[5..21]);
    let days = u16::from_be_bytes([signed[21], signed[22]]);
    let date = epoch() + chrono::Days::new(u64::from(days));
    let hash: [u8; HASH_LEN] = signed[23..].try_into().map_err(|_| TokenError::Malformed)?;
    let candidates = matching_keys(keys, &key)?;
    let signature = Signature::from_bytes(&signature.try_into().map_err(|_| TokenError::Malformed)?);
    let message = [COMPACT_DOMAIN, signed].concat();
    if !candidates.iter().any(|k| k.verify_strict(&message, &signature).is_ok()) {
        return Err(TokenError::BadSignature);
    }
    Ok(Verified {
        version: COMPACT_VERSION,
        key,
        verification_id,
        date: date.format("%Y-%m-%d").to_string(),
        number: None,
        signer: None,
        binding: Binding::NumberAndSubject(hash),
    })
}

/// The verification id a compact token names, read without checking its signature
/// (the page looks the record up, then checks the token against it).
pub fn compact_verification_id(token: &str) -> Option<String> {
    let bytes = digits::decode(token)?;
    (bytes.len() == COMPACT_LEN && bytes[0] == COMPACT_VERSION).then(|| hex::encode(&bytes[5..21]))
}

/// Whether a token is of the compact (version 2) kind.
pub fn is_compact(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit())
}

/// Bytes as decimal digits: every 7 bytes as 17 digits, a shorter last group as just
/// enough digits for its size. The length of the text says the length of the bytes.
mod digits {
    /// Digits for a group of n bytes (n = 1..=7): the fewest that hold 256^n - 1.
    const WIDTH: [usize; 8] = [0, 3, 5, 8, 10, 13, 15, 17];

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len() * 5 / 2);
        for group in bytes.chunks(7) {
            let value = group.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
            out.push_str(&format!("{value:0width$}", width = WIDTH[group.len()]));
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        if !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 1024 {
            return None;
        }
        let (full, rest) = (text.len() / 17, text.len() % 17);
        let last = WIDTH.iter().position(|w| *w == rest)?;
        let mut out = Vec::with_capacity(full * 7 + last);
        let mut at = 0;
        for size in std::iter::repeat_n(7, full).chain((last > 0).then_some(last)) {
            let value: u64 = text[at..at + WIDTH[size]].parse().ok()?;
            if value >> (8 * size) != 0 {
                return None;
            }
            out.extend_from_slice(&value.to_be_bytes()[8 - size..]);
            at += WIDTH[size];
        }
        Some(out)
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
        HashMap::from([(crate::key_id(&key.verifying_key()), key.verifying_key())])
    }

    const NUMBER: &str = "500.15.16/0001/Disnaker/2026";
    const SUBJECT: &str = "Permohonan data";

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn a_version_1_token_still_opens_only_with_its_key_and_unchanged() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let id = crate::key_id(&key.verifying_key());
        let verification_id = "ab".repeat(16);
        let claims = Claims::new(&id, &verification_id, NUMBER, "2026-11-22", SUBJECT, "Drs. Bambang");
        let token = make(&key, &claims);
        let opened = open(&token, &keys(&key)).unwrap();
        assert_eq!((opened.version, opened.number.as_deref()), (1, Some(NUMBER)));
        assert!(opened.names(&verification_id, "2026-11-22", NUMBER, SUBJECT));
        assert!(!opened.names(&verification_id, "2026-11-22", NUMBER, "Hal lain"));
        let other = SigningKey::from_bytes(&[6u8; 32]);
        assert!(matches!(open(&token, &keys(&other)), Err(TokenError::UnknownKey(_))));
        // The same key id prefix but another key: the signature fails.
        let mixed = HashMap::from([(id.clone(), other.verifying_key())]);
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
        let url = format!("https://naskah.example.go.id/v/{verification_id}?t={token}");
        assert_eq!(from_text(&url), token);
        assert_eq!(address_id(&url), Some(verification_id.as_str()));
        assert_eq!(from_text(&token), token);
    }

    #[test]
    fn a_compact_token_is_95_bytes_of_digits_and_binds_id_date_number_and_subject() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let id = crate::key_id(&key.verifying_key());
        let verification_id = "0f".repeat(16);
        let token = make_compact(&key, &id, &verification_id, date(), NUMBER, SUBJECT).unwrap();
        assert!(is_compact(&token));
        assert_eq!(token.len(), 13 * 17 + 10, "95 bytes as digits");
        let opened = open(&token, &keys(&key)).unwrap();
        assert_eq!(opened.version, 2);
        assert_eq!(opened.verification_id, verification_id);
        assert_eq!(opened.date, "2026-11-22");
        assert_eq!(opened.key, id[..8]);
        assert!(opened.names(&verification_id, "2026-11-22", NUMBER, SUBJECT));
        assert!(!opened.names(&verification_id, "2026-11-22", "500.15.16/0002/Disnaker/2026", SUBJECT));
        assert!(!opened.names(&verification_id, "2026-11-22", NUMBER, "Permohonan data lain"));
        assert!(!opened.names(&verification_id, "2026-11-23", NUMBER, SUBJECT));
        assert!(!opened.names(&"1f".repeat(16), "2026-11-22", NUMBER, SUBJECT));
        // Any changed digit breaks it: either malformed or a bad signature.
        for at in [0, 5, 30, 100, token.len() - 1] {
            let mut changed = token.clone().into_bytes();
            changed[at] = if changed[at] == b'9' { b'0' } else { changed[at] + 1 };
            let changed = String::from_utf8(changed).unwrap();
            assert!(open(&changed, &keys(&key)).is_err(), "digit {at}");
        }
        let other = SigningKey::from_bytes(&[6u8; 32]);
        assert!(matches!(open(&token, &keys(&other)), Err(TokenError::UnknownKey(_))));
        assert_eq!(open(&token[1..], &keys(&key)), Err(TokenError::Malformed));
        let url = format!("HTTPS://NASKAH.EXAMPLE.GO.ID/V/{token}");
        assert_eq!(from_text(&url), token);
        assert_eq!(address_id(&url), None);
    }

    #[test]
    fn digits_round_trip_every_length_and_refuse_overflow() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 255) as u8).collect();
            let text = digits::encode(&bytes);
            assert_eq!(digits::decode(&text), Some(bytes.clone()), "{len} bytes");
            let max = vec![255u8; len];
            assert_eq!(digits::decode(&digits::encode(&max)), Some(max));
        }
        assert_eq!(digits::decode("999"), None, "over 255");
        assert_eq!(digits::decode("99999999999999999"), None, "over 2^56");
        assert_eq!(digits::decode("1234"), None, "no group has four digits");
        assert_eq!(digits::decode("12a"), None);
    }
}
