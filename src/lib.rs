//! naskah: official letters and decrees of an Indonesian regency department, from draft
//! to signed, numbered, distributed and publicly verifiable document.
//!
//! The service is a workspace; this package is its top: the command line and the
//! walkthrough, and the parts below by their short names. From the bottom up:
//! `naskah-base` (config, db, audit, text, validation, regions), `naskah-render`
//! (rendering, letters) and `naskah-signing` (signing), `naskah-domain` (everything
//! between), `naskah-web` (web). Each crate may use only those below it.

pub use naskah_base::{audit, config, db, regions, text, validation};
pub use naskah_domain::{
    accounts, beneficiaries, cases, demo, departments, distribution, incoming, jobs, keys, notifications, numbering, verification, workflow,
};
pub use naskah_render::{letters, rendering};
pub use naskah_signing as signing;
pub use naskah_web as web;

/// The command line (`naskah serve`, `migrate`, `demo`, `tanda-tangan` …).
pub mod cli;
/// `naskah demo --walkthrough DIR`: the three SOP documents signed without a browser.
pub mod walkthrough;
