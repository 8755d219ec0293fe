//! The addresses written into every certificate the department's authority issues:
//! `/ca/{fingerprint}.crl`, its current CRL, and `/ca/{fingerprint}.crt`, its
//! certificate (DER), for validators that follow the CRL distribution point and AIA.

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::AppState;
use crate::keys::{authority, revocation};

pub fn router() -> Router<AppState> {
    Router::new().route("/ca/{file}", get(authority_file))
}

async fn authority_file(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let (fingerprint, kind) = match file.rsplit_once('.') {
        Some((f, kind @ ("crl" | "crt"))) if f.len() == 64 && f.bytes().all(|b| b.is_ascii_hexdigit()) => (f.to_ascii_lowercase(), kind),
        _ => return (StatusCode::NOT_FOUND, "Berkas otoritas sertifikat tidak ditemukan.").into_response(),
    };
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "berkas otoritas sertifikat tidak dapat dibaca");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "Berkas otoritas sertifikat sedang tidak dapat dibaca.",
        )
            .into_response()
    };
    let info = match authority::by_fingerprint(&state.db, &fingerprint).await {
        Ok(Some(info)) => info,
        Ok(None) => return (StatusCode::NOT_FOUND, "Otoritas sertifikat tidak dikenal.").into_response(),
        Err(e) => return unavailable(&e),
    };
    // A root's certificate never changes; its CRL changes when a key is revoked, so no
    // cache may answer for it without asking again.
    let (body, content_type, caching) = if kind == "crt" {
        (info.certificate, "application/pkix-cert", "public, max-age=300")
    } else {
        // Issued here too when the background refresh has not run yet (a fresh install).
        match revocation::current(&state.db, &state.keys, &info).await {
            Ok(crl) => (crl.crl, "application/pkix-crl", "no-cache"),
            Err(e) => return unavailable(&e),
        }
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, caching)], body).into_response()
}
