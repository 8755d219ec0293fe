//! An uploaded PDF on the public verification page: its signatures found and checked
//! (`pades::inspect`, which reads the CMS with the DER reader and judges what was
//! appended with `revisions::judge`), and the revision judge on its own. The `ltv`
//! readers of the same files are the `pdf_ltv` target.

#![no_main]

use libfuzzer_sys::fuzz_target;
use naskah_signing::{pades, revisions};

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let found = pades::inspect(data, &[]);
    for f in &found {
        // No trusted roots: nothing may come out valid.
        assert!(!f.valid(), "a signature was valid without a trusted root: {f:?}");
    }
    let _ = pades::verdict(&found);

    // The revision judge on its own, with the first revision as the signed one (or the
    // middle of the file when there is no %%EOF).
    let signed_end = find(data, b"%%EOF").map_or(data.len() / 2, |at| at + 5);
    let _ = revisions::judge(data, signed_end);
    let _ = revisions::judge(data, data.len());
    let _ = revisions::judge(data, data.len() + 1);
});
