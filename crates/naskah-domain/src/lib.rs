//! The domain of naskah: who works in a department, what its letters are and how they
//! move from draft to signed, numbered, distributed and publicly verifiable document.
//! It stands on the foundation, rendering and signing, and knows nothing of HTTP.
//!
//! The modules, from the bottom up: numbering, departments, accounts, keys, incoming,
//! beneficiaries, workflow, then distribution and verification (which the workflow
//! calls only through [`workflow::DistributionPlanner`]), then the durable jobs that run
//! long work of the workflow and the imports, then the use cases the pages and the API
//! share ([`cases`]), then the reminders built on them ([`notifications`]), then the
//! demo department.

/// Users, roles, passwords, sessions, API tokens.
pub mod accounts;
/// Candidate beneficiaries: import, NIK checks, life cycle up to the SK.
pub mod beneficiaries;
/// The use cases both front ends (pages and JSON API) call, returning view data.
pub mod cases;
/// The demo department used by `serve --demo` and the tests.
pub mod demo;
/// Departments, their letterhead, units, positions and officials.
pub mod departments;
/// Distribution: the directory of recipients (villages, agencies, officials for copies).
pub mod distribution;
/// Incoming letters (surat masuk) and their dispositions.
pub mod incoming;
/// Durable background jobs: bulk decisions and imports, visible from every process.
pub mod jobs;
/// Officials' Ed25519 signing keys in the key store, the department's certification
/// authority, its CRLs and its seal.
pub mod keys;
/// Reminders by e-mail of what waits on each person, through their own outbox.
pub mod notifications;
/// Letter numbers: format, classification codes, series counters, the register (agenda).
pub mod numbering;
/// The public record behind a letter's QR code, with personal data masked.
pub mod verification;
/// The approval chain: drafts, revisions, paraf and signature, delegation, standard times.
pub mod workflow;

pub use naskah_base::{audit, config, db, regions, spreadsheet, text, validation};
pub use naskah_render::{letters, rendering};
pub use naskah_signing as signing;
