//! Integration tests: one binary, so the crate links once.

#[macro_use]
mod support;

mod api;
mod authz;
mod backup;
mod batches;
mod beneficiaries;
mod browser;
mod bsre;
mod bulk_import;
mod cases;
mod cli;
mod deadlines;
mod deliveries;
mod desk;
mod drafting;
mod faults;
mod floors;
mod incoming;
mod injected;
mod jobs;
mod key_store;
mod letters;
mod ltv;
mod mail;
mod nodes;
mod numbering;
mod pades;
mod page_breaks;
mod pages;
mod public_cache;
mod public_copy;
mod qr_scan;
mod recipients;
mod register;
mod storage;
mod tamper;
mod verification;
mod workflow;
mod workflow_pages;
