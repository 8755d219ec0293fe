//! The approval chain of a letter: drafts and revisions, then paraf and signature by the
//! officials of the chain, each decision an Ed25519-signed statement chained to the one
//! before; return for revision restarts the chain, rejection ends it.
//!
//! Concurrency: every change to a letter bumps its `version` with
//! `UPDATE … WHERE version = <the one read>`, inside the transaction that makes the
//! change, so of two people acting at once exactly one succeeds and the other is told.

pub mod batch;
pub mod chain;
pub mod delegation;
pub mod longterm;
pub mod public_copy;
mod queries;
pub mod remote;
pub mod report;
pub mod statement;

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use sqlx::{Any, AnyConnection, FromRow};

pub use chain::{ChainSpec, StageSpec, StepKind};
pub use queries::*;
use statement::{GENESIS, Statement, canonical_data, sha256_hex};

use crate::{
    accounts::{Role, User},
    audit::{self, Actor, Event},
    db::{Db, DbError, now},
    departments::{self, Department},
    distribution::deliveries,
    keys::{self, KeyStore, Unlocked},
    letters::{self, Catalogue, manifest::Manifest},
    numbering,
    rendering::{RenderError, Renderer},
    validation::FieldErrors,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("surat tidak ditemukan")]
    NotFound,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotYourTurn(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NeedsConfirmation(String),
    #[error("rantai persetujuan tidak sah: {0}")]
    BadChain(String),
    #[error("{0}")]
    Unresolved(String),
    #[error(transparent)]
    Key(#[from] keys::Error),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Letters(#[from] letters::Error),
    #[error(transparent)]
    Department(#[from] departments::Error),
    #[error(transparent)]
    Numbering(#[from] numbering::Error),
    #[error(transparent)]
    Sign(#[from] crate::signing::SignError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("kesalahan internal: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(DbError::Sqlx(e))
    }
}

/// Where a letter is.
pub mod state {
    /// Being drafted or typed.
    pub const KONSEP: &str = "konsep";
    /// With the approvers.
    pub const PROSES: &str = "proses";
    pub const DITANDATANGANI: &str = "ditandatangani";
    pub const DITOLAK: &str = "ditolak";

    pub fn label(state: &str) -> &'static str {
        match state {
            KONSEP => "Konsep",
            PROSES => "Dalam persetujuan",
            DITANDATANGANI => "Ditandatangani",
            DITOLAK => "Ditolak",
            _ => "?",
        }
    }
}

/// States of a step row.
pub mod step_state {
    pub const MENUNGGU: &str = "menunggu";
    pub const AKTIF: &str = "aktif";
    pub const SELESAI: &str = "selesai";
    /// Ended without a decision: the round was returned or the letter rejected.
    pub const BATAL: &str = "batal";
    /// An optional stage nobody holds.
    pub const DILEWATI: &str = "dilewati";
}

/// A decision at a paraf or signature stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Paraf,
    TandaTangan,
    Kembalikan,
    Tolak,
}

impl Decision {
    pub fn key(self) -> &'static str {
        match self {
            Decision::Paraf => "paraf",
            Decision::TandaTangan => "tanda_tangan",
            Decision::Kembalikan => "kembalikan",
            Decision::Tolak => "tolak",
        }
    }

    pub fn parse(key: &str) -> Option<Decision> {
        [Decision::Paraf, Decision::TandaTangan, Decision::Kembalikan, Decision::Tolak]
            .into_iter()
            .find(|d| d.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Paraf => "Paraf",
            Decision::TandaTangan => "Tanda tangan",
            Decision::Kembalikan => "Kembalikan untuk perbaikan",
            Decision::Tolak => "Tolak",
        }
    }
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Letter {
    pub id: i64,
    pub department_id: i64,
    pub template_id: String,
    pub document_kind: String,
    pub subject: String,
    pub state: String,
    pub round: i64,
    pub stage: i64,
    pub revision: i64,
    pub version: i64,
    #[serde(skip)]
    pub chain: String,
    pub created_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Chosen while drafting; part of the number.
    pub classification_code: String,
    /// Filled at signature: the number, the date (YYYY-MM-DD, department's timezone), the
    /// verification id of the QR code, the SHA-256 of the final PDF.
    pub number: Option<String>,
    pub letter_date: Option<String>,
    pub verification_id: Option<String>,
    pub final_sha256: Option<String>,
    pub signed_at: Option<i64>,
    /// Revocation, and the correction (ralat) relations.
    pub revoked_at: Option<i64>,
    pub revoked_reason: String,
    pub superseded_by: Option<i64>,
    pub corrects: Option<i64>,
    /// The department-signed token in the QR code.
    pub qr_token: Option<String>,
    /// For a letter made with others from one draft: its batch and its addressee.
    pub batch_id: Option<i64>,
    pub recipient_id: Option<i64>,
}

impl Letter {
    pub fn chain_spec(&self) -> Result<ChainSpec, Error> {
        serde_json::from_str(&self.chain).map_err(|e| Error::Internal(format!("rantai surat {} rusak: {e}", self.id)))
    }

    pub fn state_label(&self) -> &'static str {
        state::label(&self.state)
    }
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Step {
    pub id: i64,
    pub letter_id: i64,
    pub round: i64,
    pub stage: i64,
    pub kind: String,
    pub label: String,
    pub assignee_user_id: Option<i64>,
    pub assignee_role: Option<String>,
    pub position_id: Option<i64>,
    pub position_title: String,
    pub atas_nama: String,
    pub standard_minutes: i64,
    pub state: String,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub acted_by_user: Option<i64>,
    pub acted_by_official: Option<i64>,
    pub acting_as: String,
    pub decision: Option<String>,
    pub note: String,
}

impl Step {
    pub fn step_kind(&self) -> StepKind {
        StepKind::parse(&self.kind).unwrap_or(StepKind::Paraf)
    }

    /// Minutes over the standard time at `at` (or at completion), if over.
    pub fn overdue_minutes(&self, at: i64) -> Option<i64> {
        let started = self.started_at?;
        let end = self.completed_at.unwrap_or(at);
        let over = (end - started) / 60 - self.standard_minutes;
        (over > 0).then_some(over)
    }
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Revision {
    pub id: i64,
    pub letter_id: i64,
    pub number: i64,
    pub data: String,
    pub data_sha256: String,
    #[serde(skip)]
    pub pdf: Vec<u8>,
    pub pdf_sha256: String,
    pub author_id: i64,
    pub note: String,
    pub created_at: i64,
}

impl Revision {
    pub fn fields(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }
}

/// What the services a workflow needs.
#[derive(Clone)]
pub struct Workflow {
    pub db: Db,
    pub renderer: Renderer,
    pub catalogue: Arc<Catalogue>,
    pub keys: KeyStore,
    /// Public address of the service, for the verification address in the QR code.
    pub base_url: String,
    /// A timestamp authority is configured: signatures are made long-term after signing
    /// (see [`longterm`]).
    pub timestamping: bool,
}

/// How a user may act at a step: as the holder, or as Plh./Plt. of its position.
#[derive(Debug, Clone)]
pub struct Capacity {
    pub official: departments::Official,
    /// "" for the holder, "Plh." or "Plt." for a delegate.
    pub acting_as: String,
}

/// The subject of a letter: its "hal", "perihal" or "tentang" field, else the template's
/// title; a per-village letter adds its village, so the letters of a batch differ.
fn subject_of(manifest: &Manifest, fields: &Value) -> String {
    let base = ["hal", "perihal", "tentang"]
        .iter()
        .find_map(|name| fields.get(*name).and_then(Value::as_str).filter(|s| !s.trim().is_empty()))
        .map(str::to_string)
        .unwrap_or_else(|| manifest.title.clone());
    let village = manifest.per_village.as_ref().and_then(|p| {
        let text = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default().trim().to_string();
        let (kind, name) = (text(&p.kind_field), text(&p.name_field));
        (!name.is_empty()).then(|| format!("{kind} {name}").trim().to_string())
    });
    match village {
        Some(village) => format!("{base} — {village}"),
        None => base,
    }
    .chars()
    .take(300)
    .collect()
}

fn audit_event<'a>(department_id: i64, actor: &'a Actor, action: &'a str, letter_id: i64, details: Value) -> Event<'a> {
    Event {
        department_id: Some(department_id),
        actor,
        action,
        subject: format!("letter:{letter_id}"),
        details,
    }
}

impl Workflow {
    async fn department(&self, id: i64) -> Result<Department, Error> {
        Ok(departments::get(&self.db, id).await?)
    }

    /// Checks the data (missing fields take the template's defaults) against the
    /// template and renders the draft PDF.
    async fn checked_draft(&self, manifest: &Manifest, department: &Department, data: &Value) -> Result<(Value, Vec<u8>), Error> {
        let fields = manifest.validate(&letters::with_defaults(manifest, data)).map_err(Error::Invalid)?;
        let logo = departments::logo(&self.db, department.id).await?;
        let job = letters::job(manifest, department, logo, &fields, &letters::Slots::default(), None);
        let rendered = letters::parts::render_pdf(&self.renderer, job).await?;
        Ok((fields, rendered.pdf))
    }

    /// A drafter creates a letter from a template: revision 1 and the first round of its
    /// chain, waiting at the drafting stage with the drafter.
    pub async fn create(&self, user: &User, template_id: &str, data: &Value, note: &str) -> Result<Letter, Error> {
        if !user.has(Role::Drafter) {
            return Err(Error::Forbidden("Hanya konseptor yang dapat membuat konsep surat.".into()));
        }
        let manifest = self.catalogue.get(template_id)?.clone();
        let code = manifest.kode_klasifikasi.clone();
        self.insert_letter(user, user.id, &manifest, data, note, &code, None).await
    }

    /// A new letter: revision 1 by `user`, the chain's first round with the drafting
    /// stage assigned to `drafter_id`.
    #[allow(clippy::too_many_arguments)]
    async fn insert_letter(
        &self,
        user: &User,
        drafter_id: i64,
        manifest: &Manifest,
        data: &Value,
        note: &str,
        classification_code: &str,
        corrects: Option<i64>,
    ) -> Result<Letter, Error> {
        let department = self.department(user.department_id).await?;
        let (fields, pdf) = self.checked_draft(manifest, &department, data).await?;
        let chain = self.chain_for(&department, manifest).await?;
        let at = now();
        let mut tx = self.db.begin_write().await?;
        let draft = NewLetter {
            manifest,
            fields: &fields,
            pdf: &pdf,
            note,
            classification_code,
            corrects,
            batch_id: None,
            recipient_id: None,
        };
        let letter_id = insert_new_letter(&mut tx, department.id, &chain, user, drafter_id, &draft, at).await?;
        tx.commit().await?;
        get(&self.db, department.id, letter_id).await
    }

    /// The department's approval chain for the template's kind, checked.
    async fn chain_for(&self, department: &Department, manifest: &Manifest) -> Result<ChainSpec, Error> {
        let chain = chain::for_kind(&self.db, department.id, manifest.kind).await?;
        chain.check().map_err(Error::BadChain)?;
        Ok(chain)
    }

    /// Whether the user may revoke or correct a signed letter (see [`check_withdraw`]).
    async fn may_withdraw(&self, user: &User, letter: &Letter) -> Result<(), Error> {
        check_withdraw(user, letter, &steps(&self.db, letter.id).await?)
    }

    /// Revokes a signed letter with a reason; the verification page shows it at once.
    pub async fn revoke(&self, user: &User, letter_id: i64, reason: &str) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        self.may_withdraw(user, &letter).await?;
        let reason = reason.trim();
        if reason.chars().count() < 5 {
            return Err(Error::Invalid(FieldErrors::single("alasan", "Tuliskan alasan pencabutan.")));
        }
        let at = now();
        let mut tx = self.db.begin_write().await?;
        let done = sqlx::query("UPDATE letters SET revoked_at = $1, revoked_reason = $2, revoked_by = $3, version = version + 1 WHERE id = $4 AND revoked_at IS NULL")
            .bind(at)
            .bind(reason)
            .bind(user.actor().label())
            .bind(letter.id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(Error::Conflict("Surat ini sudah dicabut.".into()));
        }
        // The register line follows in the same transaction: agenda, its exports and the
        // public page never disagree.
        numbering::mark_revoked(&mut tx, &user.actor(), letter.department_id, letter.id, reason, at).await?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.revoked",
                letter.id,
                serde_json::json!({ "reason": reason }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }

    /// Starts a correction (ralat) of a signed letter: a new letter of the same template
    /// with the signed data, back with the original drafter. Once the correction is
    /// signed, the original shows as replaced (DIGANTI) with a link to it.
    pub async fn start_correction(&self, user: &User, letter_id: i64) -> Result<Letter, Error> {
        self.start_replacement(user, letter_id, None, "ralat").await
    }

    /// An amending decree (keputusan perubahan): like a correction, it replaces the
    /// signed decree once signed, but starts from new data (e.g. the final list after
    /// beneficiaries were replaced) rather than the signed data.
    pub async fn start_amendment(&self, user: &User, letter_id: i64, data: &Value) -> Result<Letter, Error> {
        self.start_replacement(user, letter_id, Some(data), "perubahan").await
    }

    async fn start_replacement(&self, user: &User, letter_id: i64, new_data: Option<&Value>, kind: &str) -> Result<Letter, Error> {
        let original = get(&self.db, user.department_id, letter_id).await?;
        match new_data {
            // A correction repeats the signed text: its signer (or an administrator) decides.
            None => self.may_withdraw(user, &original).await?,
            // An amendment is a new decree drafted by the drafter and signed through the chain.
            Some(_) if !user.has(Role::Drafter) => {
                return Err(Error::Forbidden("Hanya konseptor yang dapat menyusun keputusan perubahan.".into()));
            }
            Some(_) if original.number.is_none() || original.revoked_at.is_some() => {
                return Err(Error::Conflict(
                    "Hanya keputusan yang sudah ditandatangani dan berlaku yang dapat diubah.".into(),
                ));
            }
            Some(_) => {}
        }
        let pending: Option<(i64,)> =
            sqlx::query_as::<Any, (i64,)>("SELECT id FROM letters WHERE corrects = $1 AND state IN ($2, $3) LIMIT 1")
                .bind(original.id)
                .bind(state::KONSEP)
                .bind(state::PROSES)
                .fetch_optional(&self.db.pool)
                .await?;
        if let Some((id,)) = pending {
            return Err(Error::Conflict(format!(
                "Ralat atau perubahan surat ini sudah dibuat dan sedang diproses (surat {id})."
            )));
        }
        let manifest = self.catalogue.get(&original.template_id)?.clone();
        let data = match new_data {
            Some(data) => data.clone(),
            None => revision(&self.db, original.id, original.revision).await?.fields(),
        };
        let number = original.number.clone().unwrap_or_default();
        self.insert_letter(
            user,
            original.created_by,
            &manifest,
            &data,
            &format!("{kind} atas surat nomor {number}"),
            &original.classification_code,
            Some(original.id),
        )
        .await
    }

    /// Saves new data as the next revision. Allowed at the drafting and typing stages, to
    /// the holder of the stage; `expected_version` is the version the editor started from.
    pub async fn revise(&self, user: &User, letter_id: i64, expected_version: i64, data: &Value, note: &str) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let step = self.drafting_step_of(user, &letter).await?;
        let manifest = self.catalogue.get(&letter.template_id)?.clone();
        let department = self.department(user.department_id).await?;
        let (fields, pdf) = self.checked_draft(&manifest, &department, data).await?;
        let current = revision(&self.db, letter.id, letter.revision).await?;
        if canonical_data(&fields) == current.data {
            return Err(Error::Invalid(FieldErrors::single(
                "_",
                "Tidak ada perubahan dibanding revisi terakhir.",
            )));
        }
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, &letter, expected_version, at).await?;
        let number = letter.revision + 1;
        sqlx::query("UPDATE letters SET revision = $1, subject = $2 WHERE id = $3")
            .bind(number)
            .bind(subject_of(&manifest, &fields))
            .bind(letter.id)
            .execute(&mut *tx)
            .await?;
        insert_revision(&mut tx, letter.id, number, &fields, &pdf, user.id, note, at).await?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.revised",
                letter.id,
                serde_json::json!({ "revision": number, "stage": step.label, "note": note }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }

    /// The drafting or typing step the user holds on this letter, or why not.
    async fn drafting_step_of(&self, user: &User, letter: &Letter) -> Result<Step, Error> {
        if letter.state != state::KONSEP {
            return Err(Error::NotYourTurn(format!(
                "Surat ini {} dan tidak dapat diubah; perbaikan hanya setelah dikembalikan.",
                letter.state_label().to_lowercase()
            )));
        }
        let steps = current_steps(&self.db, letter).await?;
        steps
            .into_iter()
            .find(|s| s.state == step_state::AKTIF && may_hold_drafting_step(user, s))
            .ok_or_else(|| Error::NotYourTurn("Surat ini sedang tidak menunggu Anda.".into()))
    }

    /// Chooses the letter's classification code from the department's list; while
    /// drafting or typing, by the holder of the stage.
    pub async fn set_classification(&self, user: &User, letter_id: i64, expected_version: i64, code: &str) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        self.drafting_step_of(user, &letter).await?;
        let code = code.trim();
        if !numbering::codes(&self.db, user.department_id).await?.iter().any(|c| c.code == code) {
            return Err(Error::Invalid(FieldErrors::single(
                "kode_klasifikasi",
                "Pilih kode klasifikasi dari daftar dinas.",
            )));
        }
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, &letter, expected_version, at).await?;
        sqlx::query("UPDATE letters SET classification_code = $1 WHERE id = $2")
            .bind(code)
            .bind(letter.id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.classified",
                letter.id,
                serde_json::json!({ "from": letter.classification_code, "to": code }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }

    /// Finishes the drafting or typing stage and passes the letter on.
    pub async fn submit(&self, user: &User, letter_id: i64, expected_version: i64) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let step = self.drafting_step_of(user, &letter).await?;
        self.check_next_signer(&letter).await?;
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, &letter, expected_version, at).await?;
        complete_step(&mut tx, step.id, user.id, user.official_id, "", "teruskan", "", at).await?;
        let next = advance(&mut tx, &letter, at).await?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.submitted",
                letter.id,
                serde_json::json!({ "from": step.label, "to": next }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }

    /// Whether, and as what, the user may act on an approval step.
    pub async fn capacity(&self, user: &User, step: &Step, today: NaiveDate) -> Result<Option<Capacity>, Error> {
        let (Some(official_id), Some(position_id)) = (user.official_id, step.position_id) else {
            return Ok(None);
        };
        if !(user.has(Role::Approver) || user.has(Role::Signer)) {
            return Ok(None);
        }
        if step.step_kind() == StepKind::TandaTangan && !user.has(Role::Signer) {
            return Ok(None);
        }
        let official = match departments::get_official(&self.db, user.department_id, official_id).await {
            Ok(o) => o,
            Err(departments::Error::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if official.position_id == Some(position_id) {
            return Ok(Some(Capacity {
                official,
                acting_as: String::new(),
            }));
        }
        let assignment = delegation::valid_for(&self.db, position_id, official_id, today).await?;
        Ok(assignment.map(|d| Capacity {
            official,
            acting_as: d.sebutan().into(),
        }))
    }

    /// Unlocks the user's signing key with the passphrase (nothing is recorded on failure
    /// except the count of failures for the lock).
    pub async fn unlock(&self, user: &User, passphrase: &str) -> Result<Unlocked, Error> {
        let official_id = user.official_id.ok_or_else(|| {
            Error::Forbidden("Akun Anda tidak terhubung dengan data pejabat, sehingga tidak dapat memaraf atau menandatangani.".into())
        })?;
        if passphrase.is_empty() {
            return Err(Error::Invalid(FieldErrors::single("passphrase", "Masukkan frasa sandi.")));
        }
        Ok(keys::unlock(&self.db, &self.keys, official_id, passphrase).await?)
    }

    /// Paraf, signature, return or rejection of one letter by the user, with the
    /// passphrase of their key. `expected_revision` is the revision the user looked at:
    /// if the letter changed since, nothing happens and they are told.
    pub async fn decide(&self, user: &User, letter_id: i64, request: &DecisionRequest, passphrase: &str) -> Result<Letter, Error> {
        // Check everything that needs no key first, so a letter that is not the user's
        // turn does not cost a passphrase attempt.
        let step_id = self.preflight(user, letter_id, request).await?;
        let key = self.unlock(user, passphrase).await?;
        self.decide_unlocked(user, letter_id, Some(step_id), request, &key).await
    }

    /// A decision with a key the caller unlocked already (bulk work spread over tasks).
    pub async fn decide_with_key(&self, user: &User, letter_id: i64, request: &DecisionRequest, key: &Unlocked) -> Result<Letter, Error> {
        self.decide_unlocked(user, letter_id, None, request, key).await
    }

    /// The same decision on many letters with one passphrase entry; `letters` pairs each
    /// letter with the revision the user saw. Each letter is its own transaction: one
    /// failing leaves the others done and says why. `progress` is called after each
    /// letter with (done, total).
    pub async fn decide_many(
        &self,
        user: &User,
        letters: &[(i64, i64)],
        request: &DecisionRequest,
        passphrase: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<(i64, Result<Letter, Error>)>, Error> {
        if matches!(request.decision, Decision::Kembalikan | Decision::Tolak) && request.note.trim().is_empty() {
            return Err(Error::Invalid(FieldErrors::single("note", "Catatan wajib diisi.")));
        }
        let key = self.unlock(user, passphrase).await?;
        let mut results = Vec::with_capacity(letters.len());
        for (i, &(id, revision)) in letters.iter().enumerate() {
            let request = DecisionRequest {
                expected_revision: revision,
                ..request.clone()
            };
            let outcome = self.decide_unlocked(user, id, None, &request, &key).await;
            if let Err(e) = &outcome {
                tracing::info!(letter = id, error = %e, "keputusan massal: satu surat gagal");
            }
            results.push((id, outcome));
            progress(i + 1, letters.len());
        }
        Ok(results)
    }

    /// The step the user would decide on now, after checking the decision fits it.
    async fn preflight(&self, user: &User, letter_id: i64, request: &DecisionRequest) -> Result<i64, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let department = self.department(letter.department_id).await?;
        let (step, capacity) = self.my_step(user, &letter, &department).await?;
        let deadlines = self.deadlines_for(&letter, &department, request.decision).await?;
        check_decision(&letter, &step, &capacity, request, self.allocates_budget(&letter), &deadlines)?;
        Ok(step.id)
    }

    fn allocates_budget(&self, letter: &Letter) -> bool {
        self.catalogue.get(&letter.template_id).is_ok_and(|m| m.allocates_budget)
    }

    /// The deadlines of the letter's current revision that are before the date it would
    /// carry if signed now (today in the department's time zone). Only a signature needs
    /// them; other decisions get none.
    async fn deadlines_for(&self, letter: &Letter, department: &Department, decision: Decision) -> Result<PassedDeadlines, Error> {
        if decision != Decision::TandaTangan {
            return Ok(PassedDeadlines::default());
        }
        self.passed_deadlines(letter, department).await
    }

    /// The deadlines of the letter's current revision that are before the date it would
    /// carry if signed now: for the warning on its page and the signer's confirmation.
    pub async fn passed_deadlines(&self, letter: &Letter, department: &Department) -> Result<PassedDeadlines, Error> {
        let letter_date = department.tz().today();
        let Ok(manifest) = self.catalogue.get(&letter.template_id) else {
            return Ok(PassedDeadlines::default());
        };
        if !manifest.fields.iter().any(|f| f.deadline) {
            return Ok(PassedDeadlines::default());
        }
        let data = queries::revision_data(&self.db, letter.id, letter.revision).await?;
        Ok(PassedDeadlines {
            passed: letters::deadline::passed(manifest, &data, letter_date),
            letter_date,
        })
    }

    /// The active approval step of the letter that the user may act on.
    async fn my_step(&self, user: &User, letter: &Letter, department: &Department) -> Result<(Step, Capacity), Error> {
        if letter.state != state::PROSES {
            return Err(Error::NotYourTurn(format!(
                "Surat ini berstatus {} dan tidak menunggu paraf atau tanda tangan.",
                letter.state_label().to_lowercase()
            )));
        }
        let today = department.tz().today();
        for step in current_steps(&self.db, letter).await? {
            if step.state != step_state::AKTIF {
                continue;
            }
            if let Some(capacity) = self.capacity(user, &step, today).await? {
                return Ok((step, capacity));
            }
        }
        Err(Error::NotYourTurn(
            "Surat ini sedang menunggu pejabat lain; Anda tidak dapat bertindak pada tahap ini.".into(),
        ))
    }

    /// Records the decision on the user's step: `step_id` when the caller checked it
    /// already, else the one found now. The decision never moves on to another step: if
    /// the letter has passed that step meanwhile (or the user holds the next one too),
    /// the user is told instead.
    async fn decide_unlocked(
        &self,
        user: &User,
        letter_id: i64,
        mut step_id: Option<i64>,
        request: &DecisionRequest,
        key: &Unlocked,
    ) -> Result<Letter, Error> {
        // Parallel approvers of one stage may collide on the letter's version without
        // competing for the same step: after a collision, try again once if the
        // user's step is still open.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let letter = get(&self.db, user.department_id, letter_id).await?;
            let department = self.department(letter.department_id).await?;
            if request.expected_revision != letter.revision {
                return Err(Error::Conflict(format!(
                    "Surat ini sudah berubah (revisi {} → {}); periksa lagi sebelum memutuskan.",
                    request.expected_revision, letter.revision
                )));
            }
            let (step, capacity) = match (self.my_step(user, &letter, &department).await, step_id) {
                (Ok(found), None) => found,
                (Ok(found), Some(id)) if found.0.id == id => found,
                (Ok(_) | Err(Error::NotYourTurn(_)), Some(_)) => {
                    return Err(Error::Conflict(
                        "Tahap ini baru saja diputuskan; muat ulang untuk melihat keadaan surat sekarang.".into(),
                    ));
                }
                (Err(e), _) => return Err(e),
            };
            step_id = Some(step.id);
            let deadlines = self.deadlines_for(&letter, &department, request.decision).await?;
            check_decision(&letter, &step, &capacity, request, self.allocates_budget(&letter), &deadlines)?;
            if capacity.official.id != key.info.official_id {
                return Err(Error::Forbidden("Kunci yang dibuka bukan milik pejabat ini.".into()));
            }
            match self
                .record_decision(user, &department, &letter, &step, &capacity, request, key, None)
                .await
            {
                Err(Error::Conflict(_)) if attempts == 1 => continue,
                other => return other,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_decision(
        &self,
        user: &User,
        department: &Department,
        letter: &Letter,
        step: &Step,
        capacity: &Capacity,
        request: &DecisionRequest,
        key: &Unlocked,
        signed_remotely: Option<&remote::Completion>,
    ) -> Result<Letter, Error> {
        // A remote backend's letter is stamped and signed in its own steps
        // (`remote`); here it is only completed, or held if a number is stamped.
        self.remote_guard(department, letter, request.decision, signed_remotely.is_some())
            .await?;
        let rev = revision(&self.db, letter.id, letter.revision).await?;
        // What the final document needs is read before the transaction: inside it, the
        // signing holds its connection and must not wait for another from the pool.
        let finishing = match request.decision {
            Decision::TandaTangan if signed_remotely.is_none() => {
                Some(self.prepare_final(department, letter, &capacity.official, key).await?)
            }
            _ => None,
        };
        // The distribution list is part of the signed letter: planned now, stored in the
        // signing transaction (before the number is taken), so no signed letter lacks it.
        let planned = match request.decision {
            Decision::TandaTangan => {
                let manifest = self.catalogue.get(&letter.template_id)?;
                deliveries::plan(&self.db, letter.department_id, letter.recipient_id, manifest, &rev.fields())
                    .await
                    .map_err(distribution_error)?
            }
            _ => Vec::new(),
        };
        // Signatures of one department take numbers from the same series row, one after
        // the other; beyond a few at once they only wait for the row while holding pool
        // connections that other requests need. They queue here instead.
        let _signing = match request.decision {
            Decision::TandaTangan => Some(SIGNING.acquire().await.map_err(|e| Error::Internal(e.to_string()))?),
            _ => None,
        };
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, letter, letter.version, at).await?;
        let taken = sqlx::query("UPDATE letter_steps SET state = $1 WHERE id = $2 AND state = $3")
            .bind(step_state::SELESAI)
            .bind(step.id)
            .bind(step_state::AKTIF)
            .execute(&mut *tx)
            .await?;
        if taken.rows_affected() != 1 {
            return Err(Error::Conflict("Tahap ini baru saja diputuskan oleh orang lain.".into()));
        }
        let last: Option<(i64, String)> =
            sqlx::query_as::<Any, (i64, String)>("SELECT seq, hash FROM letter_statements WHERE letter_id = $1 ORDER BY seq DESC LIMIT 1")
                .bind(letter.id)
                .fetch_optional(&mut *tx)
                .await?;
        let (seq, prev) = last.map(|(s, h)| (s + 1, h)).unwrap_or((1, GENESIS.to_string()));
        let statement = Statement {
            dinas: department.id,
            dinas_kode: department.slug.clone(),
            surat: letter.id,
            revisi: rev.number,
            sha256_data: rev.data_sha256.clone(),
            sha256_pdf: rev.pdf_sha256.clone(),
            langkah: step.id,
            putaran: step.round,
            tahap: step.stage,
            jenis_tahap: step.kind.clone(),
            nama_tahap: step.label.clone(),
            keputusan: request.decision.key().into(),
            catatan: request.note.trim().into(),
            pejabat: capacity.official.id,
            nama_pejabat: capacity.official.full_name(),
            kunci: key.info.key_id.clone(),
            sebagai: capacity.acting_as.clone(),
            waktu: at,
            sebelumnya: prev.clone(),
        };
        let canonical = statement.canonical();
        let signature = statement::sign(&key.signing, &canonical);
        let hash = sha256_hex(canonical.as_bytes());
        sqlx::query(
            "INSERT INTO letter_statements (letter_id, seq, step_id, revision, decision, official_id, key_id, statement, hash, prev_hash, signature, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(letter.id)
        .bind(seq)
        .bind(step.id)
        .bind(rev.number)
        .bind(request.decision.key())
        .bind(capacity.official.id)
        .bind(&key.info.key_id)
        .bind(&canonical)
        .bind(&hash)
        .bind(&prev)
        .bind(&signature)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match DbError::Sqlx(e) {
            e if e.is_unique_violation() => Error::Conflict("Surat ini baru saja diputuskan oleh orang lain.".into()),
            e => Error::Db(e),
        })?;
        complete_step(
            &mut tx,
            step.id,
            user.id,
            Some(capacity.official.id),
            &capacity.acting_as,
            request.decision.key(),
            request.note.trim(),
            at,
        )
        .await?;
        let outcome = match request.decision {
            Decision::Paraf => advance(&mut tx, letter, at).await?,
            Decision::TandaTangan => {
                deliveries::insert_planned(&mut tx, letter.department_id, letter.id, &planned, at)
                    .await
                    .map_err(distribution_error)?;
                close_round(&mut tx, letter, at).await?;
                let number = match signed_remotely {
                    Some(completion) => remote::complete_in(&mut tx, letter, completion, at).await?,
                    None => {
                        let finishing = finishing.ok_or_else(|| Error::Internal("tanpa persiapan naskah akhir".into()))?;
                        self.finalise(&mut tx, &finishing, department, letter, &rev, step, capacity, at)
                            .await?
                    }
                };
                // A correction or amending decree replaces its original in the register too.
                if let Some(original) = letter.corrects {
                    numbering::mark_superseded(&mut tx, &user.actor(), letter.department_id, original, &number, at).await?;
                }
                set_state(&mut tx, letter.id, state::DITANDATANGANI).await?;
                format!("{} nomor {number}", state::DITANDATANGANI)
            }
            Decision::Kembalikan => {
                close_round(&mut tx, letter, at).await?;
                let chain = letter.chain_spec()?;
                start_round(
                    &mut tx,
                    letter.department_id,
                    letter.id,
                    letter.round + 1,
                    &chain,
                    letter.created_by,
                    at,
                )
                .await?;
                sqlx::query("UPDATE letters SET state = $1, round = $2, stage = 0 WHERE id = $3")
                    .bind(state::KONSEP)
                    .bind(letter.round + 1)
                    .bind(letter.id)
                    .execute(&mut *tx)
                    .await?;
                "dikembalikan ke konseptor".into()
            }
            Decision::Tolak => {
                close_round(&mut tx, letter, at).await?;
                set_state(&mut tx, letter.id, state::DITOLAK).await?;
                state::DITOLAK.to_string()
            }
        };
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                match request.decision {
                    Decision::Paraf => "letter.initialled",
                    Decision::TandaTangan => "letter.signed",
                    Decision::Kembalikan => "letter.returned",
                    Decision::Tolak => "letter.rejected",
                },
                letter.id,
                serde_json::json!({
                    "step": step.label,
                    "revision": rev.number,
                    "statement": hash,
                    "key_id": key.info.key_id,
                    "acting_as": capacity.acting_as,
                    "note": request.note.trim(),
                    "outcome": outcome,
                    // Signed knowing that a deadline in it had passed (see check_decision).
                    "deadline_warning_accepted": request.decision == Decision::TandaTangan && request.deadline_warning_accepted,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }
}

/// Signing transactions running at once in this process.
static SIGNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

fn distribution_error(e: crate::distribution::Error) -> Error {
    match e {
        crate::distribution::Error::Db(e) => Error::Db(e),
        other => Error::Internal(other.to_string()),
    }
}

/// What the final document of a letter needs, read before the signing transaction.
pub struct FinalInputs {
    /// The department's key that signs the QR token.
    department_key: (keys::department::DepartmentKey, ed25519_dalek::SigningKey),
    manifest: Manifest,
    logo: Option<(Vec<u8>, String)>,
    settings: numbering::Settings,
    /// The {unit} of the number: the drafter's unit when each unit numbers on its own.
    unit: String,
    /// The signer of the embedded PDF signature (key and certificate) and the
    /// certificate's fingerprint; none when a remote backend signs the PDF.
    pdf_signer: Option<(crate::signing::LocalSigner, String)>,
    /// The PAdES level the signed PDF is raised to after the transaction.
    level: crate::signing::ltv::Level,
}

impl FinalInputs {
    /// The unit part of the series' key: empty unless each unit numbers on its own.
    fn series_unit(&self) -> &str {
        if self.settings.number_per_unit != 0 { &self.unit } else { "" }
    }
}

/// The line at the foot of every page of a signed document (DOMAIN.md §6).
pub fn electronic_signature_footer(verification_url: &str) -> String {
    format!(
        "Dokumen ini ditandatangani secara elektronik dan dapat diperiksa dengan memindai kode QR atau di {verification_url}. \
         Sesuai Pasal 5 ayat (1) UU Nomor 11 Tahun 2008 tentang Informasi dan Transaksi Elektronik, dokumen elektronik \
         dan hasil cetaknya merupakan alat bukti hukum yang sah."
    )
}

/// The printed size of one QR module. A photocopy or a 100 dpi scan keeps a module of
/// this size at about 2.8 pixels, which decoders read reliably; the version 7 or 8
/// symbol of a compact token is then 3.4–3.7 cm wide with its quiet zone.
pub const QR_MODULE_MM: f64 = 0.7;

/// A QR code as SVG, sized in millimetres (the template places it at its own size):
/// error correction M (15 % of the symbol may be lost to a fold, a stain or a staple),
/// the four-module quiet zone included, one path of square modules.
pub fn qr_svg(text: &str) -> Result<String, Error> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Error::Internal(format!("kode QR: {e}")))?;
    Ok(qr_svg_of(&code, QR_MODULE_MM))
}

fn qr_svg_of(code: &qrcode::QrCode, module_mm: f64) -> String {
    use std::fmt::Write as _;
    const QUIET: usize = 4;
    let width = code.width();
    let side = width + 2 * QUIET;
    let mut path = String::with_capacity(width * width * 4);
    for (index, colour) in code.to_colors().iter().enumerate() {
        if *colour == qrcode::Color::Dark {
            let (x, y) = (index % width + QUIET, index / width + QUIET);
            write!(path, "M{x} {y}h1v1h-1z").ok();
        }
    }
    let mm = side as f64 * module_mm;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{mm:.2}mm\" height=\"{mm:.2}mm\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

impl Workflow {
    async fn prepare_final(
        &self,
        department: &Department,
        letter: &Letter,
        signer: &departments::Official,
        key: &Unlocked,
    ) -> Result<FinalInputs, Error> {
        let mut inputs = self.prepare_stamp(department, letter).await?;
        let system = Actor::System("penandatanganan");
        let (authority, _) = crate::signing::authority::ensure(&self.db, &self.keys, &system, department).await?;
        let algorithm = crate::signing::authority::algorithm(&self.db, department.id).await?;
        // The certificate is issued (once per key, algorithm and root) outside the
        // signing transaction: it is a credential, not part of the letter, and the
        // transaction stays short.
        inputs.pdf_signer = Some(
            crate::signing::authority::signer(&self.db, &self.keys, &self.base_url, &authority, department, signer, key, algorithm).await?,
        );
        Ok(inputs)
    }

    /// What stamping the final document needs (number settings, template, logo, the
    /// department's QR key), without the PDF signer.
    async fn prepare_stamp(&self, department: &Department, letter: &Letter) -> Result<FinalInputs, Error> {
        let manifest = self.catalogue.get(&letter.template_id)?.clone();
        let logo = departments::logo(&self.db, department.id).await?;
        let settings = numbering::settings(&self.db, department.id).await?;
        let unit = if settings.number_per_unit != 0 {
            let unit: Option<(String,)> = sqlx::query_as::<Any, (String,)>(
                "SELECT un.code FROM users u JOIN officials o ON o.id = u.official_id JOIN positions p ON p.id = o.position_id \
                 JOIN units un ON un.id = p.unit_id WHERE u.id = $1",
            )
            .bind(letter.created_by)
            .fetch_optional(&self.db.pool)
            .await?;
            unit.map(|(c,)| c).unwrap_or_else(|| settings.number_unit.clone())
        } else {
            settings.number_unit.clone()
        };
        let system = Actor::System("penandatanganan");
        let department_key = keys::department::ensure(&self.db, &self.keys, &system, department.id).await?;
        let level = longterm::level(&self.db, department.id, self.timestamping)
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(FinalInputs {
            level,
            department_key,
            manifest,
            logo,
            settings,
            unit,
            pdf_signer: None,
        })
    }

    /// Inside the signing transaction: stamps the letter (see [`Workflow::stamp_final`]),
    /// signs the PDF, stores it and writes the register line. Returns the number.
    #[allow(clippy::too_many_arguments)]
    async fn finalise(
        &self,
        conn: &mut AnyConnection,
        inputs: &FinalInputs,
        department: &Department,
        letter: &Letter,
        rev: &Revision,
        step: &Step,
        capacity: &Capacity,
        at: i64,
    ) -> Result<String, Error> {
        let stamped = self.stamp_final(conn, inputs, department, letter, rev, step, capacity, at).await?;
        let Stamped {
            number,
            letter_date_text,
            verification_id,
            token,
            signer,
            ..
        } = &stamped;
        let (pdf_signer, certificate) = inputs
            .pdf_signer
            .as_ref()
            .ok_or_else(|| Error::Internal("tanpa penanda tangan PDF".into()))?;
        let signed_at = chrono::DateTime::from_timestamp(at, 0)
            .unwrap_or_default()
            .with_timezone(&department.tz().offset());
        let pdf = crate::signing::pades::sign(
            &stamped.pdf,
            pdf_signer,
            &crate::signing::pades::Details {
                name: &signer.nama,
                reason: &format!("Penandatanganan naskah dinas nomor {number}"),
                location: &department.city,
                signed_at,
            },
        )?;
        let sha = sha256_hex(&pdf);
        sqlx::query(
            "UPDATE letters SET number = $1, letter_date = $2, verification_id = $3, final_pdf = $4, final_sha256 = $5, signed_at = $6, qr_token = $7, \
             signature_certificate = $9 WHERE id = $8",
        )
        .bind(number)
        .bind(letter_date_text)
        .bind(verification_id)
        .bind(&pdf)
        .bind(&sha)
        .bind(at)
        .bind(token)
        .bind(letter.id)
        .bind(certificate)
        .execute(&mut *conn)
        .await?;
        // Timestamps and validation data come later, from the durable job: no network
        // call while the number series is locked.
        longterm::enqueue(conn, department.id, letter.id, inputs.level, &sha, at).await?;
        // A correction replaces the letter it corrects from the moment it is signed.
        sqlx::query("UPDATE letters SET superseded_by = $1 WHERE id = (SELECT corrects FROM letters WHERE id = $1)")
            .bind(letter.id)
            .execute(&mut *conn)
            .await?;
        register_number(conn, inputs, department, letter, &stamped).await?;
        Ok(stamped.number)
    }

    /// Inside the signing transaction: takes the next serial, formats the number, dates
    /// the letter, makes the QR token and renders the final PDF with number, date, QR
    /// code, signature block and footer (not yet signed).
    #[allow(clippy::too_many_arguments)]
    async fn stamp_final(
        &self,
        conn: &mut AnyConnection,
        inputs: &FinalInputs,
        department: &Department,
        letter: &Letter,
        rev: &Revision,
        step: &Step,
        capacity: &Capacity,
        at: i64,
    ) -> Result<Stamped, Error> {
        use chrono::Datelike;
        let date = department.tz().date_of(at);
        let serial = numbering::next_serial(conn, department.id, &letter.document_kind, inputs.series_unit(), date.year()).await?;
        let number = numbering::format_number(
            inputs.settings.format_for(&letter.document_kind),
            &numbering::Parts {
                classification_code: &letter.classification_code,
                serial,
                unit: &inputs.unit,
                year: date.year(),
                month: date.month(),
            },
        )
        .map_err(|e| Error::Unresolved(format!("Format nomor dinas tidak sah: {e}")))?;
        let verification_id = hex::encode(rand::random::<[u8; 16]>());
        let signer = signer_for(
            department,
            &step.position_title,
            &step.atas_nama,
            &capacity.acting_as,
            &capacity.official,
        );
        let letter_date_text = date.format("%Y-%m-%d").to_string();
        let (department_key, department_signing) = &inputs.department_key;
        let token = crate::verification::token::make_compact(
            department_signing,
            &department_key.key_id,
            &verification_id,
            date,
            &number,
            &letter.subject,
        )
        .map_err(|e| Error::Internal(format!("token kode QR: {e}")))?;
        let slots = self.signed_slots(&number, date, &verification_id, Some(&token), Some(signer.clone()))?;
        let job = letters::job(
            &inputs.manifest,
            department,
            inputs.logo.clone(),
            &rev.fields(),
            &slots,
            Some(verification_id.clone()),
        );
        let pdf = letters::parts::render_pdf(&self.renderer, job).await?.pdf;
        Ok(Stamped {
            number,
            serial,
            date,
            letter_date_text,
            verification_id,
            token,
            signer,
            pdf,
        })
    }
}

/// A letter's number, date and QR token, taken in the signing transaction, and its
/// final PDF rendered with them but not yet signed.
struct Stamped {
    number: String,
    serial: i64,
    date: NaiveDate,
    letter_date_text: String,
    verification_id: String,
    token: String,
    signer: letters::Signer,
    pdf: Vec<u8>,
}

/// Writes the register (agenda) line of the number just stamped, inside the signing
/// transaction.
async fn register_number(
    conn: &mut AnyConnection,
    inputs: &FinalInputs,
    department: &Department,
    letter: &Letter,
    stamped: &Stamped,
) -> Result<(), Error> {
    use chrono::Datelike;
    let signer = &stamped.signer;
    let number = &stamped.number;
    let signer_line = match &signer.sebutan {
        Some(sebutan) => format!("{} ({sebutan} {})", signer.nama, signer.jabatan),
        None => format!("{} ({})", signer.nama, signer.jabatan),
    };
    numbering::record(
        conn,
        numbering::NewEntry {
            department_id: department.id,
            series: &letter.document_kind,
            unit_code: inputs.series_unit(),
            year: stamped.date.year(),
            serial: stamped.serial,
            number,
            letter_id: letter.id,
            letter_date: &stamped.letter_date_text,
            subject: &letter.subject,
            classification_code: &letter.classification_code,
            signer: &signer_line,
        },
    )
    .await
    .map_err(|e| match e {
        numbering::Error::Db(db) if db.is_unique_violation() => Error::Unresolved(format!(
            "Nomor {number} sudah pernah diberikan; format nomor dinas tidak membedakan nomor ini \
             (periksa Pengaturan dinas → Penomoran: sertakan {{urut}} dan {{tahun}})."
        )),
        other => other.into(),
    })?;
    Ok(())
}

impl Workflow {
    /// The address the QR code of a signed letter points to.
    pub fn verification_url(&self, verification_id: &str) -> String {
        format!("{}/v/{verification_id}", self.base_url.trim_end_matches('/'))
    }

    /// The address in a signed letter's QR code. A compact (version 2) token makes
    /// `ORIGIN/V/DIGITS` with the scheme and host in upper case, so that the whole address
    /// is alphanumeric and numeric in the QR code (hosts and schemes ignore case; a path
    /// in the base address is kept as written). A version 1 token rides in `?t=`.
    pub fn qr_address(&self, verification_id: &str, token: Option<&str>) -> String {
        match token {
            Some(token) if crate::verification::token::is_compact(token) => {
                format!("{}/V/{token}", upper_case_origin(self.base_url.trim_end_matches('/')))
            }
            Some(token) => format!("{}?t={token}", self.verification_url(verification_id)),
            None => self.verification_url(verification_id),
        }
    }

    /// The slots of a signed document: number, date, QR code, signature block, footer.
    fn signed_slots(
        &self,
        number: &str,
        date: NaiveDate,
        verification_id: &str,
        token: Option<&str>,
        signer: Option<letters::Signer>,
    ) -> Result<letters::Slots, Error> {
        let qr_address = self.qr_address(verification_id, token);
        Ok(letters::Slots {
            number: Some(number.into()),
            date: Some(date),
            qr_svg: Some(qr_svg(&qr_address)?),
            signer,
            footer: Some(electronic_signature_footer(&self.verification_url(verification_id))),
            verification_url: Some(qr_address),
        })
    }

    /// The slots of a signed letter as its final PDF has them, so a page image can be
    /// rendered again identically.
    pub async fn final_slots(&self, letter: &Letter) -> Result<Option<letters::Slots>, Error> {
        let (Some(number), Some(date), Some(id)) = (&letter.number, &letter.letter_date, &letter.verification_id) else {
            return Ok(None);
        };
        let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
            return Ok(None);
        };
        let signer = signer_block(&self.db, letter).await?;
        Ok(Some(self.signed_slots(number, date, id, letter.qr_token.as_deref(), signer)?))
    }
}

/// `https://naskah.example.go.id/dinas` → `HTTPS://NASKAH.EXAMPLE.GO.ID/dinas`.
fn upper_case_origin(base: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_string();
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    format!("{}://{}{path}", scheme.to_ascii_uppercase(), host.to_ascii_uppercase())
}

/// A decision and what it rests on.
#[derive(Debug, Clone)]
pub struct DecisionRequest {
    pub decision: Decision,
    /// Required for a return or a rejection.
    pub note: String,
    /// The revision the user looked at.
    pub expected_revision: i64,
    /// The user saw and accepted the warning about a Plh./Plt. signing a budget decree.
    pub budget_warning_accepted: bool,
    /// The signer knows that a deadline of the letter is before its date
    /// ("Saya tahu batas waktu ... sudah lewat").
    pub deadline_warning_accepted: bool,
}

fn check_decision(
    letter: &Letter,
    step: &Step,
    capacity: &Capacity,
    request: &DecisionRequest,
    allocates_budget: bool,
    deadlines: &PassedDeadlines,
) -> Result<(), Error> {
    let kind = step.step_kind();
    match request.decision {
        Decision::Paraf if kind == StepKind::TandaTangan => {
            return Err(Error::NotYourTurn("Tahap ini tanda tangan, bukan paraf.".into()));
        }
        Decision::TandaTangan if kind != StepKind::TandaTangan => {
            return Err(Error::NotYourTurn("Tahap ini paraf; tanda tangan menunggu tahap terakhir.".into()));
        }
        Decision::Kembalikan | Decision::Tolak if request.note.trim().is_empty() => {
            return Err(Error::Invalid(FieldErrors::single(
                "note",
                if request.decision == Decision::Kembalikan {
                    "Tuliskan apa yang harus diperbaiki."
                } else {
                    "Tuliskan alasan penolakan."
                },
            )));
        }
        _ => {}
    }
    if request.decision == Decision::TandaTangan && letter.classification_code.trim().is_empty() {
        return Err(Error::Invalid(FieldErrors::single(
            "kode_klasifikasi",
            "Surat ini belum memiliki kode klasifikasi; kembalikan ke konseptor untuk memilihnya.",
        )));
    }
    if request.decision == Decision::TandaTangan
        && letter.document_kind == "keputusan"
        && allocates_budget
        && !capacity.acting_as.is_empty()
        && !request.budget_warning_accepted
    {
        return Err(Error::NeedsConfirmation(format!(
            "Keputusan ini membebankan anggaran dan akan ditandatangani oleh {} {}. \
             Keputusan yang membebankan anggaran sebaiknya tidak ditandatangani Plh./Plt. tanpa pertimbangan hukum. \
             Lanjutkan hanya jika sudah ada pertimbangan tersebut.",
            capacity.acting_as, step.position_title
        )));
    }
    if request.decision == Decision::TandaTangan && !deadlines.passed.is_empty() && !request.deadline_warning_accepted {
        return Err(Error::NeedsConfirmation(letters::deadline::warning(
            &deadlines.passed,
            deadlines.letter_date,
        )));
    }
    Ok(())
}

/// The letter's deadlines before the date it would carry if signed now.
#[derive(Debug, Clone, Default)]
pub struct PassedDeadlines {
    pub passed: Vec<letters::deadline::PassedDeadline>,
    pub letter_date: NaiveDate,
}

/// Whether the user may revoke or correct a signed letter: its signer, or an
/// administrator.
pub fn check_withdraw(user: &User, letter: &Letter, steps: &[Step]) -> Result<(), Error> {
    if letter.state != state::DITANDATANGANI {
        return Err(Error::NotYourTurn(
            "Hanya surat yang sudah ditandatangani yang dapat dicabut atau diralat.".into(),
        ));
    }
    let signer = signature_step(steps, letter).and_then(|s| s.acted_by_official);
    if user.has(Role::Administrator) || (signer.is_some() && signer == user.official_id) {
        return Ok(());
    }
    Err(Error::Forbidden(
        "Hanya penandatangan surat ini atau administrator yang dapat mencabut atau meralatnya.".into(),
    ))
}

/// Who holds a drafting step (konsep: its drafter; ketik: any typist, or the user it
/// was assigned to): the one rule the domain, the letter page and the inbox share.
pub fn may_hold_drafting_step(user: &User, step: &Step) -> bool {
    match step.step_kind() {
        StepKind::Konsep => step.assignee_user_id == Some(user.id) && user.has(Role::Drafter),
        StepKind::Ketik => user.has(Role::Typist) || step.assignee_user_id == Some(user.id),
        _ => false,
    }
}

/// Takes the letter for this change: bumps its version if it is still `expected`.
async fn claim(conn: &mut AnyConnection, letter: &Letter, expected: i64, at: i64) -> Result<(), Error> {
    let done = sqlx::query("UPDATE letters SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3")
        .bind(at)
        .bind(letter.id)
        .bind(expected)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        return Err(Error::Conflict(
            "Surat ini baru saja diubah atau diputuskan oleh orang lain; muat ulang halaman untuk melihat keadaannya.".into(),
        ));
    }
    Ok(())
}

async fn set_state(conn: &mut AnyConnection, letter_id: i64, state: &str) -> Result<(), Error> {
    sqlx::query("UPDATE letters SET state = $1 WHERE id = $2")
        .bind(state)
        .bind(letter_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A checked and rendered draft about to become a letter.
struct NewLetter<'a> {
    manifest: &'a Manifest,
    fields: &'a Value,
    pdf: &'a [u8],
    note: &'a str,
    classification_code: &'a str,
    corrects: Option<i64>,
    batch_id: Option<i64>,
    recipient_id: Option<i64>,
}

/// Inserts the letter, its first revision, the first round of its chain and the audit
/// record, inside the caller's transaction.
async fn insert_new_letter(
    conn: &mut AnyConnection,
    department_id: i64,
    chain: &ChainSpec,
    user: &User,
    drafter_id: i64,
    draft: &NewLetter<'_>,
    at: i64,
) -> Result<i64, Error> {
    let chain_json = serde_json::to_string(chain).map_err(|e| Error::Internal(e.to_string()))?;
    let subject = subject_of(draft.manifest, draft.fields);
    let (letter_id,): (i64,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO letters (department_id, template_id, document_kind, subject, state, round, stage, revision, version, chain, created_by, created_at, updated_at, classification_code, corrects, batch_id, recipient_id) \
         VALUES ($1, $2, $3, $4, $5, 1, 0, 1, 1, $6, $7, $8, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(department_id)
    .bind(&draft.manifest.id)
    .bind(draft.manifest.kind.key())
    .bind(&subject)
    .bind(state::KONSEP)
    .bind(&chain_json)
    .bind(drafter_id)
    .bind(at)
    .bind(draft.classification_code)
    .bind(draft.corrects)
    .bind(draft.batch_id)
    .bind(draft.recipient_id)
    .fetch_one(&mut *conn)
    .await?;
    insert_revision(conn, letter_id, 1, draft.fields, draft.pdf, user.id, draft.note, at).await?;
    start_round(conn, department_id, letter_id, 1, chain, drafter_id, at).await?;
    audit::record(
        conn,
        audit_event(
            department_id,
            &user.actor(),
            if draft.corrects.is_some() {
                "letter.correction_started"
            } else {
                "letter.created"
            },
            letter_id,
            serde_json::json!({
                "template": draft.manifest.id,
                "subject": subject,
                "corrects": draft.corrects,
                "batch": draft.batch_id,
                "recipient": draft.recipient_id,
            }),
        ),
    )
    .await?;
    Ok(letter_id)
}

#[allow(clippy::too_many_arguments)]
async fn insert_revision(
    conn: &mut AnyConnection,
    letter_id: i64,
    number: i64,
    fields: &Value,
    pdf: &[u8],
    author_id: i64,
    note: &str,
    at: i64,
) -> Result<(), Error> {
    let data = canonical_data(fields);
    sqlx::query(
        "INSERT INTO letter_revisions (letter_id, number, data, data_sha256, pdf, pdf_sha256, author_id, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(letter_id)
    .bind(number)
    .bind(&data)
    .bind(sha256_hex(data.as_bytes()))
    .bind(pdf)
    .bind(sha256_hex(pdf))
    .bind(author_id)
    .bind(note.trim())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn complete_step(
    conn: &mut AnyConnection,
    step_id: i64,
    user_id: i64,
    official_id: Option<i64>,
    acting_as: &str,
    decision: &str,
    note: &str,
    at: i64,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE letter_steps SET state = $1, completed_at = $2, acted_by_user = $3, acted_by_official = $4, acting_as = $5, decision = $6, note = $7 WHERE id = $8",
    )
    .bind(step_state::SELESAI)
    .bind(at)
    .bind(user_id)
    .bind(official_id)
    .bind(acting_as)
    .bind(decision)
    .bind(note)
    .bind(step_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends what is left of the current round without a decision.
async fn close_round(conn: &mut AnyConnection, letter: &Letter, at: i64) -> Result<(), Error> {
    sqlx::query("UPDATE letter_steps SET state = $1, completed_at = $2 WHERE letter_id = $3 AND round = $4 AND state IN ($5, $6)")
        .bind(step_state::BATAL)
        .bind(at)
        .bind(letter.id)
        .bind(letter.round)
        .bind(step_state::MENUNGGU)
        .bind(step_state::AKTIF)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// After a step is done: if its stage is complete, activates the next stage that has
/// anyone to act. Returns the label of what the letter now waits for.
async fn advance(conn: &mut AnyConnection, letter: &Letter, at: i64) -> Result<String, Error> {
    let open: (i64,) = sqlx::query_as::<Any, (i64,)>(
        "SELECT COUNT(*) FROM letter_steps WHERE letter_id = $1 AND round = $2 AND stage = $3 AND state = $4",
    )
    .bind(letter.id)
    .bind(letter.round)
    .bind(letter.stage)
    .bind(step_state::AKTIF)
    .fetch_one(&mut *conn)
    .await?;
    if open.0 > 0 {
        return Ok("menunggu paraf lain pada tahap yang sama".into());
    }
    let (next,): (Option<i64>,) = sqlx::query_as::<Any, (Option<i64>,)>(
        "SELECT MIN(stage) FROM letter_steps WHERE letter_id = $1 AND round = $2 AND stage > $3 AND state = $4",
    )
    .bind(letter.id)
    .bind(letter.round)
    .bind(letter.stage)
    .bind(step_state::MENUNGGU)
    .fetch_one(&mut *conn)
    .await?;
    let Some(next) = next else {
        return Err(Error::Internal(format!("surat {}: tidak ada tahap berikutnya", letter.id)));
    };
    sqlx::query("UPDATE letter_steps SET state = $1, started_at = $2 WHERE letter_id = $3 AND round = $4 AND stage = $5")
        .bind(step_state::AKTIF)
        .bind(at)
        .bind(letter.id)
        .bind(letter.round)
        .bind(next)
        .execute(&mut *conn)
        .await?;
    let (kind, label): (String, String) = sqlx::query_as::<Any, (String, String)>(
        "SELECT kind, label FROM letter_steps WHERE letter_id = $1 AND round = $2 AND stage = $3 ORDER BY id LIMIT 1",
    )
    .bind(letter.id)
    .bind(letter.round)
    .bind(next)
    .fetch_one(&mut *conn)
    .await?;
    let new_state = if StepKind::parse(&kind).is_some_and(StepKind::is_signed) {
        state::PROSES
    } else {
        state::KONSEP
    };
    sqlx::query("UPDATE letters SET stage = $1, state = $2 WHERE id = $3")
        .bind(next)
        .bind(new_state)
        .bind(letter.id)
        .execute(&mut *conn)
        .await?;
    Ok(label)
}

/// A resolved actor of a stage.
struct Assignee {
    user_id: Option<i64>,
    role: Option<&'static str>,
    position_id: Option<i64>,
    position_title: String,
}

/// Creates the step rows of a round: the drafting stage is the drafter's and active; the
/// others wait. Positions are looked up now, so a change of holder between rounds is
/// followed; an optional stage nobody holds is skipped.
async fn start_round(
    conn: &mut AnyConnection,
    department_id: i64,
    letter_id: i64,
    round: i64,
    chain: &ChainSpec,
    drafter_id: i64,
    at: i64,
) -> Result<(), Error> {
    let positions =
        sqlx::query_as::<Any, (i64, String, String)>("SELECT id, title, kind FROM positions WHERE department_id = $1 ORDER BY id")
            .bind(department_id)
            .fetch_all(&mut *conn)
            .await?;
    let held: Vec<(i64,)> =
        sqlx::query_as::<Any, (i64,)>("SELECT DISTINCT position_id FROM officials WHERE department_id = $1 AND position_id IS NOT NULL")
            .bind(department_id)
            .fetch_all(&mut *conn)
            .await?;
    let is_held = |id: i64| held.iter().any(|(h,)| *h == id);
    let lookup = |reference: &str| -> Vec<&(i64, String, String)> {
        match reference.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
            Some(id) => positions.iter().filter(|p| p.0 == id).collect(),
            None => positions.iter().filter(|p| p.2 == reference).collect(),
        }
    };
    for (index, spec) in chain.stages.iter().enumerate() {
        let assignees: Vec<Assignee> = match spec.kind {
            StepKind::Konsep => vec![Assignee {
                user_id: Some(drafter_id),
                role: None,
                position_id: None,
                position_title: String::new(),
            }],
            StepKind::Ketik => vec![Assignee {
                user_id: None,
                role: Some(Role::Typist.key()),
                position_id: None,
                position_title: String::new(),
            }],
            _ => {
                let mut found = Vec::new();
                for reference in &spec.positions {
                    let matches = lookup(reference);
                    let label = crate::departments::kind_label(departments::POSITION_KINDS, reference);
                    let shown = if label.is_empty() { reference.as_str() } else { label };
                    match matches.as_slice() {
                        [] if spec.optional => {}
                        [] => {
                            return Err(Error::Unresolved(format!(
                                "Tahap \"{}\": jabatan {shown} belum ada di susunan organisasi.",
                                spec.label
                            )));
                        }
                        [one] => {
                            if !is_held(one.0) && !spec.optional {
                                // A vacant post can still be filled by a Plt.; the step waits.
                                tracing::info!(position = one.0, "jabatan kosong dalam rantai; menunggu Plt.");
                            }
                            if is_held(one.0) || !spec.optional {
                                found.push(Assignee {
                                    user_id: None,
                                    role: None,
                                    position_id: Some(one.0),
                                    position_title: one.1.clone(),
                                });
                            }
                        }
                        _ => {
                            return Err(Error::Unresolved(format!(
                                "Tahap \"{}\": ada {} jabatan {shown}; tentukan jabatannya di pengaturan rantai persetujuan.",
                                spec.label,
                                matches.len()
                            )));
                        }
                    }
                }
                found
            }
        };
        let atas_nama = match &spec.atas_nama {
            Some(reference) => lookup(reference).first().map(|p| p.1.clone()).unwrap_or_default(),
            None => String::new(),
        };
        let (state, started) = if index == 0 {
            (step_state::AKTIF, Some(at))
        } else {
            (step_state::MENUNGGU, None)
        };
        if assignees.is_empty() {
            sqlx::query(
                "INSERT INTO letter_steps (letter_id, round, stage, kind, label, standard_minutes, state) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(letter_id)
            .bind(round)
            .bind(index as i64)
            .bind(spec.kind.key())
            .bind(&spec.label)
            .bind(spec.standard_minutes)
            .bind(step_state::DILEWATI)
            .execute(&mut *conn)
            .await?;
            continue;
        }
        for a in assignees {
            sqlx::query(
                "INSERT INTO letter_steps (letter_id, round, stage, kind, label, assignee_user_id, assignee_role, position_id, position_title, atas_nama, standard_minutes, state, started_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(letter_id)
            .bind(round)
            .bind(index as i64)
            .bind(spec.kind.key())
            .bind(&spec.label)
            .bind(a.user_id)
            .bind(a.role)
            .bind(a.position_id)
            .bind(&a.position_title)
            .bind(&atas_nama)
            .bind(spec.standard_minutes)
            .bind(state)
            .bind(started)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
