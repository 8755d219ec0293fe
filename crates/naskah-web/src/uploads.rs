//! How large a request each route takes, decided before its body is read: the upload
//! routes' own limits in one table, every other route the configured `max_body_bytes`.
//! The front guard (`guard_body_size`) refuses a declared length over the route's limit;
//! the same limit is the route's `DefaultBodyLimit`, which cuts a body sent without a
//! length (chunked) while it is read.

/// A register's export of candidates: a province's million rows with room to spare.
/// Written to a temporary file as it arrives and read from there, never held whole.
pub const CANDIDATE_FILE: usize = 256 * 1024 * 1024;
/// The BPJS answer file (read in memory: one department's candidates).
pub const BPJS_ANSWER: usize = 32 * 1024 * 1024;
/// A signed PDF checked on the public verification page.
pub const PUBLIC_CHECK: usize = 30 * 1024 * 1024;
/// An incoming letter's scan, with the form around it.
pub const INCOMING_SCAN: usize = crate::incoming::MAX_PDF + 64 * 1024;
/// A village's filled-in candidate list.
pub const FILLED_LIST: usize = 8 * 1024 * 1024;
/// The attachment file of a batch of per-village letters.
pub const BATCH_FILE: usize = 8 * 1024 * 1024;
/// A letter signed through BSrE, brought back as PDF.
pub const BSRE_PDF: usize = 30 * 1024 * 1024;
/// The directory of recipients as CSV.
pub const RECIPIENT_FILE: usize = 2 * 1024 * 1024;

/// The limit of an upload route by its path; `None` for every other route.
pub fn limit_for(path: &str) -> Option<usize> {
    // Runs on every request: read the segments in place, allocate nothing.
    let mut parts = path.trim_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("calon"), Some("impor"), None, _) => Some(CANDIDATE_FILE),
        (Some("calon"), Some("bpjs"), Some("jawaban"), None) => Some(BPJS_ANSWER),
        (Some("v"), Some(_), Some("periksa"), None) => Some(PUBLIC_CHECK),
        (Some("surat-masuk"), None, _, _) => Some(INCOMING_SCAN),
        (Some("surat-masuk"), Some(_), Some("daftar-isian"), None) => Some(FILLED_LIST),
        (Some("kumpulan"), Some("baru"), None, _) => Some(BATCH_FILE),
        (Some("penerima"), Some("impor"), None, _) => Some(RECIPIENT_FILE),
        (Some("surat"), Some(_), Some("bsre"), Some("periksa")) => Some(BSRE_PDF),
        _ => None,
    }
}

/// "32 MB" or "64 KB", as the pages say it.
pub fn megabytes(bytes: usize) -> String {
    if bytes < 1024 * 1024 {
        return format!("{} KB", bytes.div_ceil(1024));
    }
    let tenths = (bytes * 10).div_ceil(1024 * 1024);
    if tenths.is_multiple_of(10) {
        format!("{} MB", tenths / 10)
    } else {
        format!("{},{} MB", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_routes_are_found_by_path() {
        assert_eq!(limit_for("/calon/impor"), Some(CANDIDATE_FILE));
        assert_eq!(limit_for("/v/0123abcd/periksa"), Some(PUBLIC_CHECK));
        assert_eq!(limit_for("/surat-masuk/7/daftar-isian"), Some(FILLED_LIST));
        assert_eq!(limit_for("/surat-masuk/7/disposisi"), None);
        assert_eq!(limit_for("/masuk"), None);
        assert_eq!(limit_for("/surat/12/bsre/periksa"), Some(BSRE_PDF));
        assert_eq!(limit_for("/calon/bpjs/jawaban"), Some(BPJS_ANSWER));
        assert_eq!(megabytes(CANDIDATE_FILE), "256 MB");
        assert_eq!(megabytes(BPJS_ANSWER), "32 MB");
        assert_eq!(megabytes(64 * 1024), "64 KB");
        assert_eq!(megabytes(10 * 1024 * 1024 + 64 * 1024), "10,1 MB");
    }
}
