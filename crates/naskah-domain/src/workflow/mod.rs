//! The approval chain of a letter: drafts and revisions, then paraf and signature by the
//! officials of the chain, each decision an Ed25519-signed statement chained to the one
//! before; return for revision restarts the chain, rejection ends it.
//!
//! Concurrency: every change to a letter bumps its `version` with
//! `UPDATE … WHERE version = <the one read>`, inside the transaction that makes the
//! change, so of two people acting at once exactly one succeeds and the other is told.

pub mod batch;
pub mod chain;
mod decisions;
pub mod delegation;
pub mod distribution_plan;
mod drafting;
mod finalising;
pub mod longterm;
pub mod public_copy;
mod queries;
pub mod remote;
pub mod report;
pub mod statement;
mod storage;
pub mod waiting;

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use sqlx::{Any, AnyConnection, FromRow};

pub use chain::{ChainSpec, StageSpec, StepKind};
pub use decisions::*;
pub use distribution_plan::{DistributionPlanner, PlannedDistribution};
pub use drafting::*;
pub use finalising::*;
pub use queries::*;
use statement::{GENESIS, Statement, canonical_data, sha256_hex};
use storage::*;

use crate::{
    accounts::{Role, User},
    audit::{self, Actor, Event},
    db::{Db, DbError, now},
    departments::{self, Department},
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
    /// Who receives a signed letter (distribution's directory).
    pub distribution: Arc<dyn DistributionPlanner>,
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

/// The letter's deadlines before the date it would carry if signed now.
#[derive(Debug, Clone, Default)]
pub struct PassedDeadlines {
    pub passed: Vec<letters::deadline::PassedDeadline>,
    pub letter_date: NaiveDate,
}
