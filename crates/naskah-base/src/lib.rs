//! The foundation of naskah: what every other part stands on and which imports none of
//! them (the crate boundary makes sure of it).

/// The hash-chained, append-only audit log.
pub mod audit;
/// Layered configuration (defaults → `naskah.toml` → `NASKAH_*`).
pub mod config;
/// Storage: one pool for SQLite or PostgreSQL, embedded migrations.
pub mod db;
/// Official region codes: kecamatan, desa and kelurahan.
pub mod regions;
/// Long exports in batches: the keyset cursor and the constant-memory workbook.
pub mod spreadsheet;
/// Indonesian text helpers.
pub mod text;
/// Field validation shared by the domains.
pub mod validation;
