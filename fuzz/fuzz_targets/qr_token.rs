//! The signed token of a letter's QR code, as scanned or pasted on the public
//! verification page: the address taken apart, then the token (version 1
//! `base64url.base64url` or version 2 decimal digits) opened against no key and against
//! the one key the seed tokens were made with (`seedgen`, key bytes `[7; 32]`).

#![no_main]

use std::collections::HashMap;
use std::sync::LazyLock;

use ed25519_dalek::{SigningKey, VerifyingKey};
use libfuzzer_sys::fuzz_target;
use naskah_signing::token;

static KEYS: LazyLock<HashMap<String, VerifyingKey>> = LazyLock::new(|| {
    let public = SigningKey::from_bytes(&[7; 32]).verifying_key();
    HashMap::from([(naskah_signing::key_id(&public), public)])
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = token::address_id(&text);
    let found = token::from_text(&text);
    for candidate in [found, text.as_ref()] {
        let compact = token::is_compact(candidate);
        if let Some(id) = token::compact_verification_id(candidate) {
            assert!(compact, "a verification id read from a token that is not compact");
            assert_eq!(id.len(), 32);
        }
        assert!(token::open(candidate, &HashMap::new()).is_err(), "a token opened without keys");
        if let Ok(verified) = token::open(candidate, &KEYS) {
            let _ = verified.names(&verified.verification_id, &verified.date, "", "");
        }
    }
});
