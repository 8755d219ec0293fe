//! The structure reader against files made to hurt it: nesting past its bound, a page
//! tree that leads back to itself.

use super::*;

#[test]
fn nesting_past_the_bound_is_refused_not_followed() {
    let deep = format!("<</A {}1{}>>", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse_dictionary(deep.as_bytes()).is_none());
    let fine = format!("<</A {}1{}>>", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
    assert!(parse_dictionary(fine.as_bytes()).is_some());
}

#[test]
fn a_page_tree_that_loops_is_refused() {
    // Object 2 (the pages) has itself as its only kid.
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let catalog_at = pdf.len();
    pdf.extend_from_slice(b"1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n");
    let pages_at = pdf.len();
    pdf.extend_from_slice(b"2 0 obj\n<</Type/Pages/Kids[2 0 R]/Count 1>>\nendobj\n");
    let xref_at = pdf.len();
    pdf.extend_from_slice(
        format!(
            "xref\n0 3\n0000000000 65535 f \n{catalog_at:010} 00000 n \n{pages_at:010} 00000 n \ntrailer\n<</Size 3/Root 1 0 R>>\nstartxref\n{xref_at}\n%%EOF\n"
        )
        .as_bytes(),
    );
    assert_eq!(Structure::read(&pdf).err(), Some("pohon halaman berputar atau terlalu dalam"));
}

/// cargo fuzz (target pdf_ltv) found these two; each input is the minimised crash.
#[test]
fn a_stray_delimiter_inside_a_dictionary_ends_the_read_instead_of_looping() {
    assert!(parse_dictionary(b"<</A )>>").is_none());
    assert!(parse_dictionary(b"<</A [1 } 2]>>").is_none());
    let trailer = b"xref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 1 /Root <</A )>> >>\nstartxref\n0\n%%EOF\n%%EOF\n";
    assert!(Structure::read(trailer).is_err());
}

#[test]
fn a_byte_range_past_the_end_of_the_file_is_not_followed() {
    let pdf = b"/ByteRange [0 600 0 0]";
    assert!(!is_document_timestamp(pdf, 600));
    assert!(!crate::ltv::has_signature_timestamp(pdf));
}
