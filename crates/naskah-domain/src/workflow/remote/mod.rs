//! Certified signatures through the state CA's signing service (BSrE), which signs the
//! whole PDF remotely. No network call happens while the number series is locked:
//!
//! 1. one transaction takes the number, renders the PDF with number, date and QR code,
//!    writes the register line and keeps the stamped PDF here (`siap`); the letter
//!    stays at its signature step;
//! 2. a short transaction marks the request as sent (`dikirim`), then BSrE is called;
//! 3. the signed PDF is kept (`diterima`) and a second signing transaction records the
//!    signer's statement, completes the step and stores the final PDF (`selesai`).
//!
//! A refused passphrase puts the letter back to `siap` with its number. A timeout after
//! the request left is `tidak_diketahui`: never sent again automatically; resolved by
//! an explicit new attempt of the signer or by a signed PDF that BSrE's `verify/pdf`
//! accepts. The stamped number stays with the letter throughout.

pub mod settings;

use std::sync::Arc;

use serde::Serialize;
use sqlx::{Any, AnyConnection, FromRow};

use super::{
    Decision, DecisionRequest, Error, Letter, SIGNING, Step, StepKind, Workflow, audit_event, check_decision, claim, get, register_number,
    revision, statement::sha256_hex, step_state,
};
use crate::{
    accounts::User,
    audit,
    db::{Db, now},
    departments::{self, Department, identity::official_nik},
    keys::Unlocked,
    signing::{
        pades,
        remote::{Credential, RemoteError, RemoteSigner, SignRequest},
    },
    validation::FieldErrors,
};

/// The form field of the signer's BSrE passphrase.
pub const CREDENTIAL_FIELD: &str = "passphrase_bsre";

/// States of a remote signature.
pub mod status {
    /// Stamped; not sent yet, or the last attempt was refused.
    pub const SIAP: &str = "siap";
    /// A request is under way (or the process stopped while it was).
    pub const DIKIRIM: &str = "dikirim";
    /// Sent without an answer: BSrE may or may not have signed.
    pub const TIDAK_DIKETAHUI: &str = "tidak_diketahui";
    /// The signed PDF is here; the letter is not completed yet.
    pub const DITERIMA: &str = "diterima";
    pub const SELESAI: &str = "selesai";

    pub fn label(status: &str) -> &'static str {
        match status {
            SIAP => "Nomor sudah dicap; menunggu tanda tangan BSrE",
            DIKIRIM => "Sedang dikirim ke BSrE",
            TIDAK_DIKETAHUI => "Hasil tanda tangan BSrE tidak diketahui",
            DITERIMA => "PDF bertanda tangan BSrE diterima; menunggu penyelesaian",
            SELESAI => "Ditandatangani BSrE",
            _ => "?",
        }
    }
}

/// A stamped letter waiting for (or done with) its remote signature, with its PDFs.
#[derive(Debug, Clone, FromRow)]
pub struct Pending {
    pub letter_id: i64,
    pub department_id: i64,
    pub step_id: i64,
    pub official_id: i64,
    pub number: String,
    pub letter_date: String,
    pub verification_id: String,
    pub qr_token: String,
    pub stamped_pdf: Vec<u8>,
    pub stamped_sha256: String,
    pub signed_pdf: Option<Vec<u8>>,
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
    pub sent_at: Option<i64>,
}

/// The same without the PDFs, for pages.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct RemoteStatus {
    pub letter_id: i64,
    pub official_id: i64,
    pub number: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
    pub sent_at: Option<i64>,
}

impl RemoteStatus {
    pub fn label(&self) -> &'static str {
        status::label(&self.status)
    }

    /// Waiting for a decision of the signer: no answer came for the last request.
    pub fn outcome_unknown(&self) -> bool {
        self.status == status::TIDAK_DIKETAHUI || self.status == status::DIKIRIM
    }
}

pub async fn status_of(db: &Db, letter_id: i64) -> Result<Option<RemoteStatus>, Error> {
    Ok(sqlx::query_as::<Any, RemoteStatus>(
        "SELECT letter_id, official_id, number, status, attempts, last_error, sent_at FROM remote_signatures WHERE letter_id = $1",
    )
    .bind(letter_id)
    .fetch_optional(&db.pool)
    .await?)
}

async fn load_pending(db: &Db, letter_id: i64) -> Result<Pending, Error> {
    sqlx::query_as::<Any, Pending>(
        "SELECT letter_id, department_id, step_id, official_id, number, letter_date, verification_id, qr_token, stamped_pdf, \
         stamped_sha256, signed_pdf, status, attempts, last_error, sent_at FROM remote_signatures WHERE letter_id = $1",
    )
    .bind(letter_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| Error::Internal(format!("surat {letter_id}: tanda tangan BSrE tidak ditemukan")))
}

/// A remote signature ready to complete the letter with.
pub struct Completion {
    pending: Pending,
    signed_pdf: Vec<u8>,
    /// Fingerprint of the certificate in the signature.
    certificate: Option<String>,
}

/// Inside the second signing transaction: the letter gets its stamped number, date and
/// QR token with the PDF BSrE signed. Returns the number.
pub(super) async fn complete_in(conn: &mut AnyConnection, letter: &Letter, done: &Completion, at: i64) -> Result<String, Error> {
    let p = &done.pending;
    sqlx::query(
        "UPDATE letters SET number = $1, letter_date = $2, verification_id = $3, final_sha256 = $4, signed_at = $5, \
         qr_token = $6, signature_certificate = $7 WHERE id = $8",
    )
    .bind(&p.number)
    .bind(&p.letter_date)
    .bind(&p.verification_id)
    .bind(sha256_hex(&done.signed_pdf))
    .bind(at)
    .bind(&p.qr_token)
    .bind(&done.certificate)
    .bind(letter.id)
    .execute(&mut *conn)
    .await?;
    crate::workflow::store_final_pdf(conn, letter.id, &done.signed_pdf).await?;
    // A correction replaces the letter it corrects from the moment it is signed.
    sqlx::query("UPDATE letters SET superseded_by = $1 WHERE id = (SELECT corrects FROM letters WHERE id = $1)")
        .bind(letter.id)
        .execute(&mut *conn)
        .await?;
    let done_now =
        sqlx::query("UPDATE remote_signatures SET status = $1, signed_pdf = NULL, updated_at = $2 WHERE letter_id = $3 AND status = $4")
            .bind(status::SELESAI)
            .bind(at)
            .bind(letter.id)
            .bind(status::DITERIMA)
            .execute(&mut *conn)
            .await?;
    if done_now.rows_affected() != 1 {
        return Err(Error::Conflict("Tanda tangan BSrE surat ini baru saja diselesaikan.".into()));
    }
    Ok(p.number.clone())
}

/// A PDF that BSrE returned (or someone uploaded) for a stamped one: it must be the
/// stamped PDF with an intact signature appended that covers every byte.
fn check_signed(stamped: &[u8], signed: &[u8]) -> Result<(), RemoteError> {
    if signed.len() <= stamped.len() || !signed.starts_with(stamped) {
        return Err(RemoteError::BadAnswer(
            "PDF yang diterima bukan dokumen yang dicap untuk surat ini".into(),
        ));
    }
    match pades::inspect(signed, &[]).last() {
        Some(found) if found.intact && found.covers_whole_file => Ok(()),
        Some(found) => Err(RemoteError::BadAnswer(format!(
            "tanda tangan dalam PDF tidak utuh: {}",
            found.problem.as_deref().unwrap_or("tidak mencakup seluruh berkas")
        ))),
        None => Err(RemoteError::BadAnswer("PDF yang diterima tidak memuat tanda tangan".into())),
    }
}

/// What the signer is told when a call failed; the number stays.
fn failure_for_signer(e: RemoteError, number: &str) -> Error {
    match e {
        RemoteError::WrongCredential(message) => Error::Invalid(FieldErrors::single(
            CREDENTIAL_FIELD,
            format!("BSrE menolak passphrase: {message}. Nomor {number} tetap milik surat ini; periksa passphrase lalu coba lagi."),
        )),
        RemoteError::OutcomeUnknown(_) | RemoteError::BadAnswer(_) => Error::Conflict(format!(
            "{e}. Nomor {number} tetap milik surat ini. Permintaan tidak diulang otomatis: unggah PDF bertanda tangan dari BSrE \
             bila ada untuk diperiksa, atau kirim ulang dengan sengaja dari halaman surat."
        )),
        other => Error::Unresolved(format!("{other}. Nomor {number} tetap milik surat ini; coba lagi.")),
    }
}

fn unknown_message(p: &RemoteStatus) -> String {
    format!(
        "Permintaan tanda tangan sebelumnya (percobaan ke-{}) terkirim ke BSrE tanpa jawaban: BSrE mungkin sudah menandatangani. \
         Nomor {} tetap milik surat ini. Unggah PDF bertanda tangan dari BSrE bila ada, atau centang \"kirim ulang\" untuk \
         meminta tanda tangan lagi dengan sengaja.",
        p.attempts, p.number
    )
}

impl Workflow {
    /// Run before a decision is recorded: a remote department's signature must come
    /// through [`Workflow::sign_remotely`]; a paraf that would pass the letter to its
    /// signer first checks the signer at BSrE; a stamped letter cannot go back.
    pub(super) async fn remote_guard(
        &self,
        department: &Department,
        letter: &Letter,
        decision: Decision,
        completing: bool,
    ) -> Result<(), Error> {
        match decision {
            Decision::Paraf => self.check_next_signer(letter).await,
            Decision::TandaTangan if !completing => {
                if let Some(p) = status_of(&self.db, letter.id).await? {
                    return Err(Error::Conflict(format!(
                        "Nomor {} sudah dicap untuk tanda tangan BSrE; selesaikan dengan passphrase BSrE.",
                        p.number
                    )));
                }
                if settings::load(&self.db, department.id).await?.uses_bsre() {
                    return Err(Error::Invalid(FieldErrors::single(
                        CREDENTIAL_FIELD,
                        "Dinas ini menandatangani dengan sertifikat elektronik BSrE: masukkan passphrase BSrE Anda \
                         (tanda tangan BSrE dilakukan satu per satu dari halaman surat).",
                    )));
                }
                Ok(())
            }
            Decision::Kembalikan | Decision::Tolak => match status_of(&self.db, letter.id).await? {
                Some(p) => Err(Error::Conflict(format!(
                    "Nomor {} sudah dicap pada surat ini untuk tanda tangan BSrE, sehingga surat tidak dapat dikembalikan atau \
                     ditolak lagi; selesaikan tanda tangannya (atau batalkan nomornya di register).",
                    p.number
                ))),
                None => Ok(()),
            },
            Decision::TandaTangan => Ok(()),
        }
    }

    /// When the department signs through BSrE and the letter's next waiting stage is
    /// the signature: its holders must be able to sign at BSrE, or the letter does not
    /// move and the user is told who cannot.
    pub async fn check_next_signer(&self, letter: &Letter) -> Result<(), Error> {
        let settings = settings::load(&self.db, letter.department_id).await?;
        if !settings.uses_bsre() {
            return Ok(());
        }
        let positions: Vec<(Option<i64>,)> = sqlx::query_as::<Any, (Option<i64>,)>(
            "SELECT position_id FROM letter_steps WHERE letter_id = $1 AND round = $2 AND state = $3 AND kind = $4 AND stage = \
             (SELECT MIN(stage) FROM letter_steps WHERE letter_id = $1 AND round = $2 AND stage > $5 AND state = $3)",
        )
        .bind(letter.id)
        .bind(letter.round)
        .bind(step_state::MENUNGGU)
        .bind(StepKind::TandaTangan.key())
        .bind(letter.stage)
        .fetch_all(&self.db.pool)
        .await?;
        if positions.is_empty() {
            return Ok(());
        }
        let client = settings::client(&self.keys, letter.department_id, &settings).await?;
        let officials = departments::list_officials(&self.db, letter.department_id).await?;
        for (position,) in positions {
            // A vacant post is signed by a Plt., who is checked when signing.
            for official in officials.iter().filter(|o| position.is_some() && o.position_id == position) {
                settings::check_official(&self.db, &client, official)
                    .await
                    .map_err(|problem| Error::Unresolved(format!("Surat belum dapat diteruskan ke tahap tanda tangan. {problem}")))?;
            }
        }
        Ok(())
    }

    /// The signature of a department that signs through BSrE: `passphrase` opens the
    /// signer's own key (the statement of the decision), `credential` goes to BSrE.
    /// `send_again` is the signer's explicit choice to ask again after an unknown outcome.
    pub async fn sign_remotely(
        &self,
        user: &User,
        letter_id: i64,
        request: &DecisionRequest,
        passphrase: &str,
        credential: &Credential,
        send_again: bool,
    ) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let settings = settings::load(&self.db, letter.department_id).await?;
        let existing = status_of(&self.db, letter.id).await?;
        if request.decision != Decision::TandaTangan || (!settings.uses_bsre() && existing.is_none()) {
            return self.decide(user, letter_id, request, passphrase).await;
        }
        if match credential {
            Credential::Passphrase(p) | Credential::Totp(p) => p.is_empty(),
        } {
            return Err(Error::Invalid(FieldErrors::single(
                CREDENTIAL_FIELD,
                "Masukkan passphrase BSrE Anda.",
            )));
        }
        let step_id = self.preflight(user, letter_id, request).await?;
        let key = self.unlock(user, passphrase).await?;
        let client = settings::client(&self.keys, letter.department_id, &settings).await?;
        let (department, letter, step, capacity) = self.signing_step(user, letter_id, step_id, request, &key).await?;
        let pending = match existing {
            Some(p) if p.official_id != capacity.official.id => {
                return Err(Error::Forbidden(format!(
                    "Nomor {} sudah dicap untuk tanda tangan pejabat lain; hanya pejabat itu yang dapat menyelesaikannya.",
                    p.number
                )));
            }
            Some(_) => load_pending(&self.db, letter.id).await?,
            None => {
                // Asked again just before a number is taken: a certificate may have
                // been revoked since the letter reached the signer.
                settings::check_official(&self.db, &client, &capacity.official)
                    .await
                    .map_err(Error::Unresolved)?;
                self.stamp_for_remote(user, &department, &letter, &step, &capacity).await?
            }
        };
        let nik = official_nik(&self.db, department.id, capacity.official.id).await?;
        let signed = match pending.status.as_str() {
            status::DITERIMA => pending
                .signed_pdf
                .clone()
                .ok_or_else(|| Error::Internal("PDF bertanda tangan BSrE hilang".into()))?,
            status::SIAP => self.send(user, &client, &pending, &nik, credential, &department).await?,
            status::DIKIRIM if self.in_flight(&pending, &settings) => {
                return Err(Error::Conflict(
                    "Permintaan tanda tangan surat ini sedang diproses BSrE; tunggu jawabannya lalu muat ulang halaman.".into(),
                ));
            }
            status::TIDAK_DIKETAHUI | status::DIKIRIM if send_again => {
                self.send(user, &client, &pending, &nik, credential, &department).await?
            }
            status::TIDAK_DIKETAHUI | status::DIKIRIM => {
                let summary = status_of(&self.db, letter.id).await?.ok_or(Error::NotFound)?;
                return Err(Error::Conflict(unknown_message(&summary)));
            }
            _ => return Err(Error::Conflict("Surat ini sudah ditandatangani.".into())),
        };
        self.complete_remote(user, letter.id, request, &key, pending, signed).await
    }

    /// Resolves an unknown outcome with the signed PDF BSrE produced (found e.g. in
    /// BSrE's portal): it must extend the stamped PDF and BSrE's `verify/pdf` must call
    /// it valid; then the letter is completed with it, by its signer.
    pub async fn resolve_with_signed_pdf(
        &self,
        user: &User,
        letter_id: i64,
        request: &DecisionRequest,
        passphrase: &str,
        pdf: Vec<u8>,
    ) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let Some(summary) = status_of(&self.db, letter.id).await? else {
            return Err(Error::NotYourTurn("Surat ini tidak menunggu tanda tangan BSrE.".into()));
        };
        if summary.status == status::SELESAI {
            return Err(Error::Conflict("Surat ini sudah ditandatangani.".into()));
        }
        let step_id = self.preflight(user, letter_id, request).await?;
        let key = self.unlock(user, passphrase).await?;
        let (department, letter, _, capacity) = self.signing_step(user, letter_id, step_id, request, &key).await?;
        if summary.official_id != capacity.official.id {
            return Err(Error::Forbidden(
                "Hanya pejabat yang nomornya dicap untuk tanda tangan ini yang dapat menyelesaikannya.".into(),
            ));
        }
        let pending = load_pending(&self.db, letter.id).await?;
        check_signed(&pending.stamped_pdf, &pdf).map_err(|e| Error::Invalid(FieldErrors::single("pdf", format!("{e}."))))?;
        let settings = settings::load(&self.db, department.id).await?;
        let client = settings::client(&self.keys, department.id, &settings).await?;
        let checked = {
            let client = client.clone();
            let pdf = pdf.clone();
            settings::blocking(move || client.verify_pdf(&pdf)).await?
        };
        let conclusion = match checked {
            Ok(v) if v.valid() => v.conclusion,
            Ok(v) => return Err(Error::Unresolved(format!("BSrE menyatakan PDF ini tidak sah ({}).", v.conclusion))),
            Err(e) => return Err(Error::Unresolved(format!("PDF belum dapat diperiksa BSrE: {e}"))),
        };
        let at = now();
        let mut tx = self.db.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE remote_signatures SET status = $1, signed_pdf = $2, last_error = '', updated_at = $3 \
             WHERE letter_id = $4 AND status = $5 AND attempts = $6",
        )
        .bind(status::DITERIMA)
        .bind(&pdf)
        .bind(at)
        .bind(letter.id)
        .bind(&pending.status)
        .bind(pending.attempts)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() != 1 {
            return Err(Error::Conflict(
                "Tanda tangan BSrE surat ini baru saja berubah; muat ulang halaman.".into(),
            ));
        }
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.remote_verified",
                letter.id,
                serde_json::json!({ "number": pending.number, "conclusion": conclusion, "sha256": sha256_hex(&pdf) }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.complete_remote(user, letter.id, request, &key, pending, pdf).await
    }

    /// The letter, its department and the signature step the user holds, checked again
    /// after the key was opened.
    async fn signing_step(
        &self,
        user: &User,
        letter_id: i64,
        step_id: i64,
        request: &DecisionRequest,
        key: &Unlocked,
    ) -> Result<(Department, Letter, Step, super::Capacity), Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let department = self.department(letter.department_id).await?;
        if request.expected_revision != letter.revision {
            return Err(Error::Conflict(format!(
                "Surat ini sudah berubah (revisi {} → {}); periksa lagi sebelum memutuskan.",
                request.expected_revision, letter.revision
            )));
        }
        let (step, capacity) = self.my_step(user, &letter, &department).await?;
        if step.id != step_id {
            return Err(Error::Conflict(
                "Tahap ini baru saja diputuskan; muat ulang untuk melihat keadaan surat sekarang.".into(),
            ));
        }
        let deadlines = self.deadlines_for(&letter, &department, request.decision).await?;
        check_decision(&letter, &step, &capacity, request, self.allocates_budget(&letter), &deadlines)?;
        if capacity.official.id != key.info.official_id {
            return Err(Error::Forbidden("Kunci yang dibuka bukan milik pejabat ini.".into()));
        }
        Ok((department, letter, step, capacity))
    }

    /// A request still within its time: another request of the same letter is waiting
    /// for BSrE's answer.
    fn in_flight(&self, p: &Pending, settings: &settings::SigningSettings) -> bool {
        p.sent_at.is_some_and(|sent| now() < sent + settings.bsre_timeout_seconds + 30)
    }

    /// First signing transaction: number, date, QR token, stamped PDF, register line.
    async fn stamp_for_remote(
        &self,
        user: &User,
        department: &Department,
        letter: &Letter,
        step: &Step,
        capacity: &super::Capacity,
    ) -> Result<Pending, Error> {
        let inputs = self.prepare_stamp(department, letter).await?;
        let rev = revision(&self.db, letter.id, letter.revision).await?;
        let _signing = SIGNING.acquire().await.map_err(|e| Error::Internal(e.to_string()))?;
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, letter, letter.version, at).await?;
        let (state,): (String,) = sqlx::query_as::<Any, (String,)>("SELECT state FROM letter_steps WHERE id = $1")
            .bind(step.id)
            .fetch_one(&mut *tx)
            .await?;
        if state != step_state::AKTIF {
            return Err(Error::Conflict("Tahap ini baru saja diputuskan oleh orang lain.".into()));
        }
        let stamped = self
            .stamp_final(&mut tx, &inputs, department, letter, &rev, step, capacity, at)
            .await?;
        register_number(&mut tx, &inputs, department, letter, &stamped).await?;
        sqlx::query(
            "INSERT INTO remote_signatures (letter_id, department_id, step_id, official_id, number, letter_date, verification_id, qr_token, \
             stamped_pdf, stamped_sha256, status, attempts, last_error, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, '', $12, $12)",
        )
        .bind(letter.id)
        .bind(department.id)
        .bind(step.id)
        .bind(capacity.official.id)
        .bind(&stamped.number)
        .bind(&stamped.letter_date_text)
        .bind(&stamped.verification_id)
        .bind(&stamped.token)
        .bind(&stamped.pdf)
        .bind(sha256_hex(&stamped.pdf))
        .bind(status::SIAP)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match crate::db::DbError::Sqlx(e) {
            e if e.is_unique_violation() => Error::Conflict("Nomor surat ini baru saja dicap oleh permintaan lain.".into()),
            e => Error::Db(e),
        })?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.stamped",
                letter.id,
                serde_json::json!({ "number": stamped.number, "backend": settings::BACKEND_BSRE, "step": step.label }),
            ),
        )
        .await?;
        tx.commit().await?;
        load_pending(&self.db, letter.id).await
    }

    /// Marks the request as sent, calls BSrE, and keeps what came back (or why not).
    async fn send(
        &self,
        user: &User,
        client: &Arc<dyn RemoteSigner>,
        pending: &Pending,
        nik: &str,
        credential: &Credential,
        department: &Department,
    ) -> Result<Vec<u8>, Error> {
        let attempt = pending.attempts + 1;
        let actor = user.actor();
        let record = |action: &'static str, details: serde_json::Value| {
            audit_event(pending.department_id, &actor, action, pending.letter_id, details)
        };
        let mut tx = self.db.begin_write().await?;
        let at = now();
        let marked = sqlx::query(
            "UPDATE remote_signatures SET status = $1, attempts = $2, sent_at = $3, updated_at = $3 WHERE letter_id = $4 AND status = $5 AND attempts = $6",
        )
        .bind(status::DIKIRIM)
        .bind(attempt)
        .bind(at)
        .bind(pending.letter_id)
        .bind(&pending.status)
        .bind(pending.attempts)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() != 1 {
            return Err(Error::Conflict(
                "Surat ini baru saja dikirim ke BSrE oleh permintaan lain; muat ulang halaman.".into(),
            ));
        }
        audit::record(
            &mut tx,
            record(
                "letter.remote_sent",
                serde_json::json!({ "number": pending.number, "attempt": attempt, "after_unknown": pending.status != status::SIAP }),
            ),
        )
        .await?;
        tx.commit().await?;

        let outcome = {
            let (client, pdf, nik, credential) = (client.clone(), pending.stamped_pdf.clone(), nik.to_string(), credential.clone());
            let location = department.city.clone();
            let reason = format!("Penandatanganan naskah dinas nomor {}", pending.number);
            settings::blocking(move || {
                let signed = client.sign_pdf(&SignRequest {
                    nik: &nik,
                    credential: &credential,
                    pdf: &pdf,
                    location: &location,
                    reason: &reason,
                })?;
                check_signed(&pdf, &signed).map(|_| signed)
            })
            .await?
        };
        let at = now();
        let mut tx = self.db.begin_write().await?;
        let (new_status, signed, error) = match &outcome {
            Ok(pdf) => (status::DITERIMA, Some(pdf.as_slice()), String::new()),
            Err(RemoteError::OutcomeUnknown(_) | RemoteError::BadAnswer(_)) => (status::TIDAK_DIKETAHUI, None, outcome_text(&outcome)),
            Err(_) => (status::SIAP, None, outcome_text(&outcome)),
        };
        sqlx::query("UPDATE remote_signatures SET status = $1, signed_pdf = $2, last_error = $3, updated_at = $4 WHERE letter_id = $5 AND status = $6")
            .bind(new_status)
            .bind(signed)
            .bind(&error)
            .bind(at)
            .bind(pending.letter_id)
            .bind(status::DIKIRIM)
            .execute(&mut *tx)
            .await?;
        let action = match new_status {
            status::DITERIMA => "letter.remote_received",
            status::TIDAK_DIKETAHUI => "letter.remote_unknown",
            _ => "letter.remote_failed",
        };
        audit::record(
            &mut tx,
            record(
                action,
                serde_json::json!({ "number": pending.number, "attempt": attempt, "error": error }),
            ),
        )
        .await?;
        tx.commit().await?;
        outcome.map_err(|e| failure_for_signer(e, &pending.number))
    }

    /// Second signing transaction: the signer's statement, the step, the deliveries and
    /// the final PDF, as for a local signature.
    async fn complete_remote(
        &self,
        user: &User,
        letter_id: i64,
        request: &DecisionRequest,
        key: &Unlocked,
        pending: Pending,
        signed_pdf: Vec<u8>,
    ) -> Result<Letter, Error> {
        let certificate = pades::inspect(&signed_pdf, &[])
            .last()
            .and_then(|found| found.certificate_fingerprint.clone());
        let completion = Completion {
            pending,
            signed_pdf,
            certificate,
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let letter = get(&self.db, user.department_id, letter_id).await?;
            let department = self.department(letter.department_id).await?;
            let (step, capacity) = self.my_step(user, &letter, &department).await?;
            if step.id != completion.pending.step_id {
                return Err(Error::Conflict("Tahap tanda tangan surat ini sudah berubah.".into()));
            }
            match self
                .record_decision(user, &department, &letter, &step, &capacity, request, key, Some(&completion))
                .await
            {
                Err(Error::Conflict(_)) if attempts == 1 => continue,
                other => return other,
            }
        }
    }
}

fn outcome_text(outcome: &Result<Vec<u8>, RemoteError>) -> String {
    match outcome {
        Ok(_) => String::new(),
        Err(e) => e.to_string().chars().take(500).collect(),
    }
}
