//! Integration tests: one binary, so the crate links once.

mod support;

mod api;
mod authz;
mod batches;
mod beneficiaries;
mod browser;
mod cli;
mod deadlines;
mod deliveries;
mod drafting;
mod incoming;
mod letters;
mod mail;
mod numbering;
mod pades;
mod page_breaks;
mod pages;
mod recipients;
mod storage;
mod verification;
mod workflow;
