//! A beneficiary register uploaded as an XLSX workbook: the ZIP size check, the first
//! sheet read cell by cell into CSV text, and every record read back. The same code as
//! the `csv` target, fed from a corpus of workbooks.

#![no_main]

include!("register.rs");
