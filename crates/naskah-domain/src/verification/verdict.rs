//! The one verdict the verification page states at its top, from the public record,
//! the QR code's token and, when one was uploaded, the check of a file. A failed check
//! always wins over the record's green SAH: the reader of a forged copy must never see
//! SAH above it.

use serde::Serialize;

use super::PublicRecord;
use crate::{
    db::Db,
    signing::{
        pades::{self, Found},
        revisions::Addition,
        token,
    },
};

/// What the QR code's token says of the record it was scanned for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// The address carried no token (typed in, or an old link).
    Absent,
    /// Signed with the department's key and names exactly this letter.
    Genuine,
    /// Signed with the department's key, but for another letter.
    OtherLetter,
    /// Not signed with a key of the department, or damaged.
    Forged,
}

/// Checks the token of a scanned QR code against the department's published keys and
/// the record: its verification id, date, number and subject.
pub async fn check_token(db: &Db, record: &PublicRecord, token_text: Option<&str>) -> TokenCheck {
    let Some(token_text) = token_text.filter(|t| !t.is_empty()) else {
        return TokenCheck::Absent;
    };
    // The token issued with this very letter: genuine by construction.
    if record.issued_token.as_deref() == Some(token_text) {
        return TokenCheck::Genuine;
    }
    let keys = match crate::keys::department::published(db).await {
        Ok(keys) => {
            let own: Vec<_> = keys.into_iter().filter(|k| k.department_id == record.department_id).collect();
            token::keys_from_json(&serde_json::json!({ "keys": own }))
        }
        Err(_) => Default::default(),
    };
    match token::open(token_text, &keys) {
        Ok(opened) if opened.names(&record.verification_id, &record.date_iso, &record.number, &record.signed_subject) => {
            TokenCheck::Genuine
        }
        Ok(_) => TokenCheck::OtherLetter,
        Err(_) => TokenCheck::Forged,
    }
}

/// How a file stands against a signed letter.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "hasil", content = "alasan", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FileOutcome {
    /// Byte for byte the official file.
    Identical,
    /// The signed revision of the official file, with nothing added or only
    /// signatures, timestamps or validation data added after it.
    SameSignedRevision,
    /// The department's own public copy of this letter (NIKs masked, sealed by the
    /// department), with nothing added after the seal or only signatures, timestamps
    /// or validation data.
    PublicCopy,
    /// Signed by the department, but another letter.
    OtherLetter,
    /// The signed revision, changed afterwards (the reason names the change).
    Modified(String),
    /// A signature that does not hold (the reason names why).
    BadSignature(String),
    /// No signature at all.
    Unsigned,
}

impl FileOutcome {
    pub fn valid(&self) -> bool {
        matches!(
            self,
            FileOutcome::Identical | FileOutcome::SameSignedRevision | FileOutcome::PublicCopy
        )
    }
}

/// A file judged on its own, by its embedded signature and what was added after it:
/// what `naskah verify --offline FILE.pdf` and the page share.
#[derive(Debug, Clone)]
pub struct FileJudgement {
    pub signatures: Vec<Found>,
    pub outcome: FileOutcome,
    pub additions: Vec<Addition>,
    /// The covered-bytes hash of the document's own signature, when it holds.
    pub covered_sha256: Option<String>,
}

/// Judges `pdf` against the trusted root certificates.
pub fn judge_file(pdf: &[u8], trusted_roots: &[Vec<u8>]) -> FileJudgement {
    let signatures = pades::inspect(pdf, trusted_roots);
    let (outcome, additions, covered) = match pades::verdict(&signatures) {
        pades::Verdict::Missing => (FileOutcome::Unsigned, Vec::new(), None),
        pades::Verdict::Invalid(found) => (
            FileOutcome::BadSignature(found.problem.clone().unwrap_or_else(|| "tanda tangan tidak dapat diperiksa".into())),
            Vec::new(),
            None,
        ),
        pades::Verdict::Modified(_, why) => (FileOutcome::Modified(why), Vec::new(), None),
        pades::Verdict::Valid(found, additions) => (FileOutcome::SameSignedRevision, additions, Some(found.covered_sha256.clone())),
    };
    FileJudgement {
        signatures,
        outcome,
        additions,
        covered_sha256: covered,
    }
}

/// What an uploaded PDF comes to against the official one.
#[derive(Debug, Clone, Serialize)]
pub struct UploadCheck {
    pub outcome: FileOutcome,
    pub uploaded_sha256: String,
    pub official_sha256: String,
    /// What was added after the signed revision (signatures, timestamps, validation
    /// data): allowed, and named on the page.
    pub additions: Vec<Addition>,
    /// The signatures embedded in the uploaded file, each checked against the
    /// department's certification authorities.
    pub signatures: Vec<Found>,
}

impl UploadCheck {
    pub fn valid(&self) -> bool {
        self.outcome.valid()
    }

    /// The file's verdict in plain Indonesian, for the page.
    pub fn explanation(&self) -> String {
        match &self.outcome {
            FileOutcome::Identical => "Berkas yang Anda periksa sama persis dengan PDF resmi naskah ini.".into(),
            FileOutcome::SameSignedRevision if self.additions.is_empty() => {
                "Berkas yang Anda periksa memuat naskah resmi yang ditandatangani, tanpa perubahan.".into()
            }
            FileOutcome::SameSignedRevision => format!(
                "Berkas yang Anda periksa memuat naskah resmi yang ditandatangani, tanpa perubahan; sesudahnya hanya ditambahkan {}.",
                additions_text(&self.additions)
            ),
            FileOutcome::PublicCopy => "Berkas yang Anda periksa adalah salinan umum resmi dari naskah ini: NIK disamarkan, \
                 disegel secara elektronik oleh dinas dan tidak diubah sesudahnya. Salinan ini bukan naskah asli; naskah asli \
                 bertanda tangan pejabat disimpan dinas."
                .into(),
            FileOutcome::OtherLetter => "Berkas ini ditandatangani dinas, tetapi bukan naskah ini.".into(),
            FileOutcome::Modified(why) => format!("Berkas ini telah diubah setelah ditandatangani: {why}."),
            FileOutcome::BadSignature(why) => format!("Tanda tangan elektronik di dalam berkas ini tidak sah: {why}."),
            FileOutcome::Unsigned => "Berkas ini tidak memuat tanda tangan elektronik naskah ini.".into(),
        }
    }
}

fn additions_text(additions: &[Addition]) -> String {
    let words: Vec<&str> = additions
        .iter()
        .map(|a| match a {
            Addition::Signature => "tanda tangan lain",
            Addition::DocumentTimestamp => "stempel waktu",
            Addition::ValidationData => "data validasi sertifikat",
        })
        .collect();
    match words.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} dan {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The covered-bytes hash of a file's own (first, not timestamp) signature.
fn signed_revision_hash(pdf: &[u8], trusted_roots: &[Vec<u8>]) -> Option<String> {
    pades::inspect(pdf, trusted_roots)
        .into_iter()
        .find(|f| !f.document_timestamp)
        .map(|f| f.covered_sha256)
}

/// Checks an uploaded file against the letter of `record`: not a PDF, or a service
/// that cannot read what it compares with, is a message for the person checking.
pub async fn check_upload(db: &Db, record: &PublicRecord, uploaded: Vec<u8>) -> Result<UploadCheck, String> {
    if uploaded.is_empty() {
        return Err("Pilih berkas PDF yang akan diperiksa.".into());
    }
    if !uploaded.starts_with(b"%PDF") {
        return Err("Berkas ini bukan PDF.".into());
    }
    let unavailable = || "Pemeriksaan berkas sedang tidak dapat dilakukan. Coba lagi sebentar lagi.".to_string();
    let roots: Vec<Vec<u8>> = crate::keys::authority::all(db, record.department_id)
        .await
        .map(|all| all.into_iter().map(|a| a.certificate).collect())
        .unwrap_or_default();
    let official = crate::workflow::final_pdf(db, record.letter_id).await;
    let copy = crate::workflow::public_copy::stored(db, record.letter_id).await;
    let (Ok(Some(official)), Ok(copy)) = (official, copy) else {
        return Err(unavailable());
    };
    // Hashing and checking a large file is CPU work: off the async threads.
    let record = record.clone();
    tokio::task::spawn_blocking(move || {
        let copy = copy.map(|c| c.pdf);
        compare_upload(&record, &uploaded, &official, copy.as_deref(), &roots)
    })
    .await
    .map_err(|_| unavailable())
}

/// Compares an upload with the official PDF (`official`, the stored file) and, when one
/// was made, the department's public copy of it (`public_copy`), and checks the
/// signatures in it against `trusted_roots` (the department's root certificates).
pub fn compare_upload(
    record: &PublicRecord,
    uploaded: &[u8],
    official: &[u8],
    public_copy: Option<&[u8]>,
    trusted_roots: &[Vec<u8>],
) -> UploadCheck {
    let uploaded_sha256 = crate::workflow::statement::sha256_hex(uploaded);
    let judged = judge_file(uploaded, trusted_roots);
    let outcome = if uploaded_sha256 == record.sha256 {
        FileOutcome::Identical
    } else if judged.outcome.valid() {
        let same_revision_as = |reference: &[u8]| {
            let covered = signed_revision_hash(reference, trusted_roots);
            covered.is_some() && covered == judged.covered_sha256
        };
        if same_revision_as(official) {
            FileOutcome::SameSignedRevision
        } else if public_copy.is_some_and(same_revision_as) {
            FileOutcome::PublicCopy
        } else {
            FileOutcome::OtherLetter
        }
    } else {
        judged.outcome
    };
    UploadCheck {
        additions: if matches!(outcome, FileOutcome::SameSignedRevision | FileOutcome::PublicCopy) {
            judged.additions
        } else {
            Vec::new()
        },
        outcome,
        uploaded_sha256,
        official_sha256: record.sha256.clone(),
        signatures: judged.signatures,
    }
}

/// The verdict at the top of the page.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verdict {
    /// `sah`, `tidak-sah`, `dicabut` or `diganti`: the banner's colour.
    pub tone: &'static str,
    /// SAH, TIDAK SAH, DICABUT, DIGANTI.
    pub headline: &'static str,
    /// What it means, in a sentence or two.
    pub explanation: String,
    /// What to do.
    pub advice: String,
}

/// One verdict from the record, the token and the upload, worst first: a forged or
/// foreign QR code, then a file that is not the signed letter, then revocation and
/// replacement; SAH only when nothing failed.
pub fn verdict(record: &PublicRecord, token: &TokenCheck, upload: Option<&UploadCheck>) -> Verdict {
    let contact = format!("Tanyakan kepada {} untuk memastikan.", record.department);
    let refuse = |explanation: String| Verdict {
        tone: "tidak-sah",
        headline: "TIDAK SAH",
        explanation,
        advice: format!("Jangan gunakan naskah ini sebagai bukti. {contact}"),
    };
    match token {
        TokenCheck::Forged => {
            return refuse("Kode QR pada naskah ini bukan kode QR asli dari dinas: kodenya dipalsukan atau rusak.".into());
        }
        TokenCheck::OtherLetter => {
            return refuse(
                "Kode QR ini asli dari dinas, tetapi milik naskah lain: nomor, tanggal atau hal pada kode QR tidak sama dengan naskah ini."
                    .into(),
            );
        }
        TokenCheck::Absent | TokenCheck::Genuine => {}
    }
    if let Some(check) = upload.filter(|c| !c.valid()) {
        return refuse(check.explanation());
    }
    if record.status == "DICABUT" {
        return Verdict {
            tone: "dicabut",
            headline: "DICABUT",
            explanation: format!(
                "Naskah ini pernah ditandatangani, tetapi telah dicabut pada {}: {}. Naskah ini tidak berlaku lagi.",
                record.revoked_date, record.revoked_reason
            ),
            advice: contact,
        };
    }
    if record.superseded_by.is_some() {
        return Verdict {
            tone: "diganti",
            headline: "DIGANTI",
            explanation: "Naskah ini telah diganti oleh naskah lain dan tidak berlaku lagi.".into(),
            advice: "Lihat naskah pengganti melalui tautan di bawah.".into(),
        };
    }
    let mut explanation = format!(
        "Naskah ini asli: ditandatangani secara elektronik oleh {} dan tercatat di {}.",
        record.signer_name, record.department
    );
    if let Some(check) = upload {
        explanation.push(' ');
        explanation.push_str(&check.explanation());
    }
    let advice = match (token, upload) {
        (_, Some(_)) => String::new(),
        (TokenCheck::Genuine, None) => {
            "Kode QR yang Anda pindai asli. Cocokkan nomor, tanggal dan hal di bawah dengan naskah yang Anda pegang.".into()
        }
        _ => "Cocokkan nomor, tanggal dan hal di bawah dengan naskah yang Anda pegang.".into(),
    };
    Verdict {
        tone: "sah",
        headline: "SAH",
        explanation,
        advice,
    }
}
