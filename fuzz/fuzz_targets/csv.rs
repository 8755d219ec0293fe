//! A beneficiary register uploaded as CSV (any encoding, delimiter and line ends):
//! `Table::open` and every record read back. The `xlsx` target runs the same code
//! from a corpus of workbooks.

#![no_main]

include!("register.rs");
