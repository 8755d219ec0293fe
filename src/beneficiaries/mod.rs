//! Beneficiary data: candidates from the poverty registers (P3KE, DTKS, DTSEN), read
//! and checked row by row, merged by NIK across sources, and followed through the
//! SOP's life cycle (temporary village list, the village's answer, the BPJS check,
//! final list) with every change on the record.

pub mod bpjs;
pub mod candidates;
pub mod decree;
pub mod import;
pub mod nik;
pub mod reader;
pub mod replies;

use sqlx::Any;

use crate::{
    accounts::{Role, User},
    db::{Db, DbError},
    validation::FieldErrors,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("data tidak ditemukan")]
    NotFound,
    #[error("berkas tidak dapat dibaca: {0}")]
    Unreadable(String),
    /// The file's columns do not give what is needed; the page then asks for a mapping.
    #[error("kolom berkas belum dipetakan: {}", .0.join("; "))]
    Mapping(Vec<String>),
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Denied(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(DbError::Sqlx(e))
    }
}

/// Who works on the candidate data (SOP step 8: Kepala Bidang and Staf; the Sub Bagian
/// Program drafts from it) and so may see full NIKs, each view logged.
pub fn may_manage(user: &User) -> bool {
    user.has(Role::Drafter) || user.has(Role::Typist) || user.has(Role::Approver)
}

/// The programme's rules of a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Settings {
    pub min_age: i64,
    pub max_age: i64,
    /// Contribution per person per month, in rupiah (JKK Rp10.000 + JKM Rp6.800).
    pub monthly_rupiah: i64,
    pub months: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_age: 18,
            max_age: 64,
            monthly_rupiah: 16_800,
            months: 12,
        }
    }
}

impl Settings {
    pub async fn load(db: &Db, department_id: i64) -> Result<Settings, Error> {
        Ok(sqlx::query_as::<Any, Settings>(
            "SELECT min_age, max_age, monthly_rupiah, months FROM beneficiary_settings WHERE department_id = $1",
        )
        .bind(department_id)
        .fetch_optional(&db.pool)
        .await?
        .unwrap_or_default())
    }
}
