//! Distribution: who receives the department's letters. This first part is the
//! directory of recipients (villages, kelurahan, kecamatan, agencies, officials for
//! copies); deliveries, the e-mail outbox and receipts build on it.

pub mod batches;
pub mod deliveries;
pub mod list;
pub mod mail;
pub mod recipients;

use crate::{db::DbError, validation::FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("penerima tidak ditemukan")]
    NotFound,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    #[error("berkas CSV tidak dapat dibaca: {0}")]
    Csv(String),
    /// Every faulty row of an import, with its line number; nothing was stored.
    #[error("berkas CSV memuat kesalahan: {}", .0.join("; "))]
    Rows(Vec<String>),
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
