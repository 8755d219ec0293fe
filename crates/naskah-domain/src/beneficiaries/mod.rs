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

/// Who may read the candidates' names (NIKs masked): those who work on the data and the
/// department head, on every page that lists them (the candidate pages and a village's
/// reply alike).
pub fn may_read(user: &User) -> bool {
    may_manage(user) || user.has(Role::Signer)
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
    /// Checks and stores the department's rules, with an audit entry.
    pub async fn save(self, db: &Db, actor: &crate::audit::Actor, department_id: i64) -> Result<Settings, Error> {
        let mut errors = FieldErrors::default();
        if !(15..=70).contains(&self.min_age) {
            errors.add("umur_min", "Umur terendah antara 15 dan 70 tahun.");
        }
        if !(self.min_age..=100).contains(&self.max_age) {
            errors.add(
                "umur_max",
                "Umur tertinggi tidak kurang dari umur terendah dan paling tinggi 100 tahun.",
            );
        }
        if !(1..=10_000_000).contains(&self.monthly_rupiah) {
            errors.add("iuran", "Iuran per bulan antara Rp1 dan Rp10.000.000.");
        }
        if !(1..=12).contains(&self.months) {
            errors.add("bulan", "Jumlah bulan antara 1 dan 12.");
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let mut tx = db.begin_write().await?;
        sqlx::query("DELETE FROM beneficiary_settings WHERE department_id = $1")
            .bind(department_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO beneficiary_settings (department_id, min_age, max_age, monthly_rupiah, months, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(department_id)
        .bind(self.min_age)
        .bind(self.max_age)
        .bind(self.monthly_rupiah)
        .bind(self.months)
        .bind(crate::db::now())
        .execute(&mut *tx)
        .await?;
        crate::audit::record(
            &mut tx,
            crate::audit::Event {
                department_id: Some(department_id),
                actor,
                action: "beneficiaries.settings_saved",
                subject: format!("department:{department_id}"),
                details: serde_json::json!({
                    "min_age": self.min_age, "max_age": self.max_age,
                    "monthly_rupiah": self.monthly_rupiah, "months": self.months,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(self)
    }

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
