//! naskah: official letters and decrees of an Indonesian regency department, from draft
//! to signed, numbered, distributed and publicly verifiable document.
//!
//! The modules, from the edge inwards:

/// Users, roles, passwords, sessions, API tokens.
pub mod accounts;
/// The hash-chained, append-only audit log.
pub mod audit;
/// Benchmarks against the Typst command line and WeasyPrint (`naskah bench`).
pub mod bench;
/// Candidate beneficiaries: import, NIK checks, life cycle up to the SK.
pub mod beneficiaries;
/// Layered configuration (defaults → `naskah.toml` → `NASKAH_*`).
pub mod config;
/// Storage: one pool for SQLite or PostgreSQL, embedded migrations.
pub mod db;
/// The demo department used by `serve --demo` and the tests.
pub mod demo;
/// Departments, their letterhead, units, positions and officials.
pub mod departments;
/// Distribution: the directory of recipients (villages, agencies, officials for copies).
pub mod distribution;
/// Incoming letters (surat masuk) and their dispositions.
pub mod incoming;
/// Officials' Ed25519 signing keys, encrypted at rest in the key store.
pub mod keys;
/// Letter templates: manifests, the data templates receive, reserved slots.
pub mod letters;
/// Letter numbers: format, classification codes, series counters, the register (agenda).
pub mod numbering;
/// Official region codes: kecamatan, desa and kelurahan.
pub mod regions;
/// The in-process Typst renderer: templates + JSON data → PDF or PNG, embedded fonts.
pub mod rendering;
/// The PAdES signature embedded in final PDFs: the department's CA, certificates, CMS.
pub mod signing;
/// Indonesian text helpers.
pub mod text;
/// Field validation shared by the domains.
pub mod validation;
/// The public record behind a letter's QR code, with personal data masked.
pub mod verification;
/// `naskah demo --walkthrough DIR`: the three SOP documents signed without a browser.
pub mod walkthrough;
/// HTTP: pages, JSON API, operations endpoints.
pub mod web;
/// The approval chain: drafts, revisions, paraf and signature, delegation, standard times.
pub mod workflow;
