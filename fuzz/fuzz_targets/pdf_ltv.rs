//! The readers of the long-term validation code (`ltv`) on a PDF: the background job
//! that takes a signed letter to PAdES B-LTA reads the file with these before it adds a
//! signature timestamp, validation data or a document timestamp. They find the first
//! signature by its /ByteRange on their own, apart from `pades::inspect` (the
//! `pdf_inspect` target).

#![no_main]

use libfuzzer_sys::fuzz_target;
use naskah_signing::ltv;

fuzz_target!(|data: &[u8]| {
    let _ = ltv::has_signature_timestamp(data);
    let _ = ltv::signature_timestamp_time(data);
    let _ = ltv::embedded_certificates(data);
    let first_eof = data.windows(5).position(|w| w == b"%%EOF").map_or(data.len(), |at| at + 5);
    let _ = ltv::only_validation_data_after(data, first_eof);
});
