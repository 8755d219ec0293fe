//! The use cases both front ends call: what the browser pages and the JSON API show and
//! do, assembled here once from the modules below, with every rule of who may do what
//! applied here or below. They return plain view data (numbers, times as Unix seconds,
//! labels); the web layer only formats and renders it.
//!
//! - [`letter`]: one letter as its page and `GET /api/v1/letters/{id}` show it, with the
//!   actions open to the user.
//! - [`bulk`]: the letters waiting on a user's paraf or signature, and a bulk decision
//!   run as a durable job from either front end.
//! - [`batches`]: drafting one letter per village from the beneficiary data or a file.
//! - [`decision`]: a paraf or signature on one letter, with the official's key and, for
//!   a department that signs through BSrE, the signer's BSrE credential.
//! - [`deliveries`]: recording what happened to a delivery, by those who distribute.
//! - [`desk`]: "Tugas saya", everything that waits on one person, of every kind.
//! - [`register`]: who keeps the register of numbers, and cancelling an unused one.
//! - [`decree`]: the SK drafted only from the final list, and its amending decree.

pub mod batches;
pub mod bulk;
pub mod decision;
pub mod decree;
pub mod deliveries;
pub mod desk;
pub mod desk_page;
pub mod letter;
pub mod register;

use crate::{accounts, beneficiaries, db::DbError, departments, distribution, incoming, numbering, workflow};

/// Whatever a use case's modules report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Workflow(#[from] workflow::Error),
    #[error(transparent)]
    Distribution(#[from] distribution::Error),
    #[error(transparent)]
    Accounts(#[from] accounts::Error),
    #[error(transparent)]
    Departments(#[from] departments::Error),
    #[error(transparent)]
    Numbering(#[from] numbering::Error),
    #[error(transparent)]
    Beneficiaries(#[from] beneficiaries::Error),
    #[error(transparent)]
    Incoming(#[from] incoming::Error),
    /// The user may not do this; the message says who may.
    #[error("{0}")]
    Denied(String),
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        Error::Workflow(workflow::Error::Db(e))
    }
}
