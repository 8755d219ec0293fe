//! Distribution: who receives the department's letters. This first part is the
//! directory of recipients (villages, kelurahan, kecamatan, agencies, officials for
//! copies); deliveries, the e-mail outbox and receipts build on it.

pub mod batches;
pub mod deliveries;
pub mod list;
pub mod mail;
pub mod open_work;
pub mod progress;
pub mod recipients;

use crate::{
    accounts::{Role, User},
    db::DbError,
    validation::FieldErrors,
};

/// Who records deliveries: the agendaris (who distributes in the SOP), the typist (the
/// SOP's Staf) and administrators. The letter page and the delivery actions ask here.
pub fn may_distribute(user: &User) -> bool {
    [Role::Agendaris, Role::Typist, Role::Administrator].iter().any(|r| user.has(*r))
}

/// Who edits the directory of recipients: the agendaris and administrators.
pub fn may_edit_recipients(user: &User) -> bool {
    user.has(Role::Agendaris) || user.has(Role::Administrator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(roles: &[Role]) -> User {
        User {
            roles: roles.to_vec(),
            ..User::default()
        }
    }

    #[test]
    fn who_distributes_and_who_edits_the_directory() {
        assert!(may_distribute(&with(&[Role::Agendaris])));
        assert!(may_distribute(&with(&[Role::Typist])));
        assert!(may_distribute(&with(&[Role::Administrator])));
        assert!(!may_distribute(&with(&[Role::Drafter, Role::Signer])));
        assert!(may_edit_recipients(&with(&[Role::Agendaris])));
        assert!(may_edit_recipients(&with(&[Role::Administrator])));
        assert!(!may_edit_recipients(&with(&[Role::Typist])));
        assert!(!may_edit_recipients(&with(&[Role::Drafter])));
    }
}

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
