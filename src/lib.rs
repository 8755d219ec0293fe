//! naskah: official letters and decrees of an Indonesian regency department, from draft
//! to signed, numbered, distributed and publicly verifiable document.
//!
//! The modules, from the edge inwards:

/// Layered configuration (defaults → `naskah.toml` → `NASKAH_*`).
pub mod config;
/// Storage: one pool for SQLite or PostgreSQL, embedded migrations.
pub mod db;
/// The hash-chained, append-only audit log.
pub mod audit;
/// Official region codes: kecamatan, desa and kelurahan.
pub mod regions;
/// Departments, their letterhead, units, positions and officials.
pub mod departments;
/// Users, roles, passwords, sessions, API tokens.
pub mod accounts;
/// The demo department used by `serve --demo` and the tests.
pub mod demo;
/// HTTP: pages, JSON API, operations endpoints.
pub mod web;
/// Field validation shared by the domains.
pub mod validation;
/// Indonesian text helpers.
pub mod text;
