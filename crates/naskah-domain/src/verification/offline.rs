//! `naskah verify --offline`: a letter's QR token (from a file, an address or the token
//! itself) checked with the published department keys, and a file's embedded signature
//! judged as the public page judges an upload — without the service.

use super::verdict::{FileOutcome, judge_file};
use crate::signing::token::{self, Verified};

/// What the offline check found; `Err` carries why it is TIDAK SAH.
#[derive(Debug)]
pub struct Report {
    pub token: Verified,
    /// For a file: the number its signature names (a compact token binds it by hash).
    pub number: Option<String>,
    /// For a file: its embedded signature's line.
    pub embedded: Option<String>,
}

/// The verification address (and so the token) a signed PDF carries in its keywords.
/// The first one in the file is the signed revision's.
pub fn token_in_pdf(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    // A version 1 token rides in `?t=`, a compact one follows `/V/` as 200 or more digits.
    let v1 = text.match_indices("?t=").map(|(at, _)| {
        let token: String = text[at + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        (at, token)
    });
    let v2 = text
        .match_indices("/V/")
        .map(|(at, _)| (at, text[at + 3..].chars().take_while(char::is_ascii_digit).collect()));
    v1.filter(|(_, t)| !t.is_empty())
        .chain(v2.filter(|(_, t): &(usize, String)| t.len() >= 200))
        .min_by_key(|(at, _)| *at)
        .map(|(_, token)| token)
}

/// Checks `what` — a PDF's bytes, or an address or token — against the published keys
/// document (`/.well-known/naskah-keys.json`).
pub fn check(what: Input<'_>, published: &serde_json::Value) -> Result<Report, String> {
    let keys = token::keys_from_json(published);
    if keys.is_empty() {
        return Err("tidak ada kunci dinas untuk memeriksa; unduh /.well-known/naskah-keys.json dan beri --keys".into());
    }
    let (token_text, address_id, pdf) = match what {
        Input::Pdf(bytes) => (
            token_in_pdf(bytes).ok_or("PDF ini tidak memuat kode QR naskah (bukan PDF bertanda tangan naskah?)")?,
            None,
            Some(bytes),
        ),
        Input::Text(text) => (
            token::from_text(text).to_string(),
            token::address_id(text).map(str::to_string),
            None,
        ),
    };
    let opened = token::open(&token_text, &keys).map_err(|e| format!("TIDAK SAH: {e}"))?;
    // An address names its letter twice: in its path and in the token. A token copied
    // behind another letter's address must not vouch for that letter.
    if let Some(id) = address_id.filter(|id| *id != opened.verification_id) {
        return Err(format!(
            "TIDAK SAH: alamat menyebut naskah {id}, tetapi kode QR milik naskah {}",
            opened.verification_id
        ));
    }
    let mut number = opened.number.clone();
    let embedded = match pdf {
        Some(pdf) => {
            let roots = super::authorities_from_json(published);
            let judged = judge_file(pdf, &roots);
            match &judged.outcome {
                FileOutcome::SameSignedRevision | FileOutcome::Identical | FileOutcome::PublicCopy => {
                    let signature = judged.signatures.iter().find(|f| !f.document_timestamp);
                    let reason = signature.and_then(|s| s.reason.as_deref()).unwrap_or_default();
                    let named = reason.rsplit_once("nomor ").map(|(_, n)| n.to_string());
                    number = number.or(named);
                    let signer = signature.and_then(|s| s.signer.as_deref()).unwrap_or("-");
                    let algorithm = signature.and_then(|s| s.algorithm).unwrap_or("-");
                    // The department seals its public copy (NIKs masked) with its own
                    // certificate and says so in the signed reason: a valid copy, not the original.
                    if reason.starts_with(crate::keys::seal::PUBLIC_COPY_REASON) {
                        Some(format!(
                            "PDF ini SALINAN UNTUK UMUM (NIK disamarkan), bukan naskah asli: segel dinas di dalamnya SAH ({signer}, {algorithm}), sertifikat dari otoritas sertifikat dinas; tidak ada perubahan setelah disegel."
                        ))
                    } else {
                        Some(format!(
                            "Tanda tangan di dalam PDF SAH: {signer} ({algorithm}), sertifikat dari otoritas sertifikat dinas; tidak ada perubahan setelah ditandatangani."
                        ))
                    }
                }
                FileOutcome::Modified(why) => return Err(format!("TIDAK SAH: PDF diubah setelah ditandatangani: {why}")),
                FileOutcome::BadSignature(why) => return Err(format!("TIDAK SAH: tanda tangan di dalam PDF: {why}")),
                FileOutcome::Unsigned => return Err("TIDAK SAH: PDF ini tidak memuat tanda tangan elektronik".into()),
                FileOutcome::OtherLetter => return Err("TIDAK SAH: PDF ini bukan naskah yang disebut kode QR-nya".into()),
            }
        }
        None => None,
    };
    Ok(Report {
        token: opened,
        number,
        embedded,
    })
}

/// What `naskah verify --offline` was given.
pub enum Input<'a> {
    Pdf(&'a [u8]),
    Text(&'a str),
}
