//! The public verification page behind a letter's QR code: no login, phone-first,
//! Indonesian; the same data as JSON; the official PDF (staff only when it carries
//! personal data); a check of an uploaded PDF. Rate-limited per address, and an unknown
//! id answers exactly like any other failure so ids cannot be probed.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use askama::Template;
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Multipart, Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::{
    AppState,
    auth::{self, PeerAddr},
    pages::{Shell, render},
};
use crate::{
    verification::{self, PublicRecord, UploadCheck, Verdict, verdict::check_token},
    workflow,
};

/// Largest PDF accepted for the comparison.
const MAX_UPLOAD: usize = crate::uploads::PUBLIC_CHECK;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v/{id}", get(page))
        .route("/V/{code}", get(page_of_code))
        .route("/.well-known/naskah-keys.json", get(published_keys))
        .route("/.well-known/naskah-ca/{department}", get(authority_certificates))
        .route("/v/{id}/pdf", get(official_pdf))
        .route("/v/{id}/salinan-umum.pdf", get(public_copy))
        .route(
            "/v/{id}/periksa",
            axum::routing::post(check_upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
}

/// Requests per address per minute on the public pages (fixed one-minute windows).
#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// Whether one more request from `address` is allowed under `per_minute` (0: no limit).
    pub fn allow(&self, address: &str, per_minute: u32) -> bool {
        if per_minute == 0 {
            return true;
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = windows.entry(address.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= per_minute
    }
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyTemplate {
    shell: Shell,
    id: String,
    record: Arc<PublicRecord>,
    /// The one verdict at the top.
    verdict: Verdict,
    may_download: bool,
    /// A copy with masked NIKs exists for the public (decrees with personal data).
    public_copy: bool,
    check: Option<UploadCheck>,
    check_error: String,
    /// The token the page was opened with, carried into the upload form so that the
    /// upload's verdict still weighs the QR code.
    token: String,
}

#[derive(Template)]
#[template(path = "verify_missing.html")]
struct MissingTemplate {
    shell: Shell,
}

fn shell(title: &str) -> Shell {
    Shell {
        title: title.into(),
        ..Shell::default()
    }
}

/// The one answer for an unknown, malformed or unsigned id.
fn not_found(json: bool) -> Response {
    let mut response = if json {
        (StatusCode::NOT_FOUND, Json(serde_json::json!({ "status": "TIDAK_DITEMUKAN" }))).into_response()
    } else {
        render(
            StatusCode::NOT_FOUND,
            &MissingTemplate {
                shell: shell("Naskah tidak ditemukan"),
            },
        )
    };
    no_store(&mut response);
    response
}

fn too_many() -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, "60")],
        "Terlalu banyak permintaan dari alamat Anda. Coba lagi dalam satu menit.",
    )
        .into_response();
    no_store(&mut response);
    response
}

fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
}

pub(super) fn limited(state: &AppState, headers: &HeaderMap, peer: &PeerAddr) -> bool {
    let address = auth::client_address(headers, peer.0, state.config.login_throttle.trust_forwarded_for);
    !state.public_limiter.allow(&address, state.config.public_rate_per_node())
}

/// Whether the caller is logged-in staff of the letter's department.
async fn is_staff(state: &AppState, headers: &HeaderMap, record: &PublicRecord) -> bool {
    matches!(auth::session_user(state, headers).await, Some(user) if user.department_id == record.department_id)
}

#[derive(serde::Deserialize, Default)]
struct TokenQuery {
    t: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    peer: PeerAddr,
) -> Response {
    let (id, json) = match id.strip_suffix(".json") {
        Some(bare) => (bare.to_string(), true),
        None => (id, false),
    };
    verification_page(&state, &headers, &peer, id, query.t, json).await
}

/// The address in the QR code of letters signed with a compact token: `/V/DIGITS`. The
/// token names its letter; a code that is not a token answers like an unknown id.
async fn page_of_code(State(state): State<AppState>, Path(code): Path<String>, headers: HeaderMap, peer: PeerAddr) -> Response {
    let id = crate::signing::token::compact_verification_id(&code).unwrap_or_default();
    verification_page(&state, &headers, &peer, id, Some(code), false).await
}

async fn verification_page(
    state: &AppState,
    headers: &HeaderMap,
    peer: &PeerAddr,
    id: String,
    token: Option<String>,
    json: bool,
) -> Response {
    if limited(state, headers, peer) {
        return too_many();
    }
    let record = match verification::lookup(&state.db, &state.catalogue, Some(&state.public_records), &id).await {
        Ok(Some(record)) => record,
        Ok(None) => return not_found(json),
        Err(e) => {
            tracing::error!(error = %e, "verifikasi gagal");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Pemeriksaan sedang tidak dapat dilakukan. Coba lagi sebentar lagi.",
            )
                .into_response();
        }
    };
    let token_check = check_token(&state.db, &record, token.as_deref()).await;
    if json {
        let mut body = serde_json::to_value(&*record).unwrap_or_default();
        body["verdict"] = serde_json::to_value(verification::verdict::verdict(&record, &token_check, None)).unwrap_or_default();
        // The public copy, once made: its address and hash, so a copy can be checked by hash.
        if has_public_copy(&record)
            && let Ok(Some(sha256)) = workflow::public_copy::stored_sha256(&state.db, record.letter_id).await
        {
            body["salinan_umum"] = serde_json::json!({
                "alamat": format!("/v/{}/salinan-umum.pdf", record.verification_id),
                "sha256": sha256,
            });
        }
        let mut response = Json(body).into_response();
        no_store(&mut response);
        return response;
    }
    verify_page(state, headers, id, record, &token_check, token.unwrap_or_default(), None).await
}

/// The verification page: one verdict weighing the QR code's token and, when one was
/// uploaded, the file (or why it could not be checked).
async fn verify_page(
    state: &AppState,
    headers: &HeaderMap,
    id: String,
    record: Arc<PublicRecord>,
    token_check: &verification::verdict::TokenCheck,
    token: String,
    upload: Option<Result<UploadCheck, String>>,
) -> Response {
    let status = match upload {
        Some(Err(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let (check, check_error) = match upload {
        Some(Ok(check)) => (Some(check), String::new()),
        Some(Err(message)) => (None, message),
        None => (None, String::new()),
    };
    let may_download = !record.personal_data || is_staff(state, headers, &record).await;
    let public_copy = has_public_copy(&record);
    let verdict = verification::verdict::verdict(&record, token_check, check.as_ref());
    let mut response = render(
        status,
        &VerifyTemplate {
            shell: shell(&format!("Verifikasi {}", record.number)),
            id,
            record,
            verdict,
            may_download,
            public_copy,
            check,
            check_error,
            token,
        },
    );
    no_store(&mut response);
    response
}

/// The departments' public keys for the QR tokens, current and retired, so a letter can
/// be checked offline (`naskah verify --offline`).
async fn published_keys(State(state): State<AppState>) -> Response {
    match verification::published_keys(&state.db).await {
        Ok(json) => {
            let mut response = Json(json).into_response();
            // Retiring or revoking a key changes this document: caches must ask again.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "kunci publik tidak dapat dibaca");
            (StatusCode::SERVICE_UNAVAILABLE, "Kunci publik sedang tidak dapat dibaca.").into_response()
        }
    }
}

/// The department's root certificates (PEM), current and retired: what a PDF reader
/// such as Acrobat must trust to call the embedded signatures valid.
async fn authority_certificates(State(state): State<AppState>, Path(department): Path<String>) -> Response {
    let Some(department_id) = department.strip_suffix(".pem").and_then(|d| d.parse::<i64>().ok()) else {
        return not_found(false);
    };
    match crate::keys::authority::all(&state.db, department_id).await {
        Ok(all) if !all.is_empty() => (
            [
                (header::CONTENT_TYPE, "application/x-pem-file".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"otoritas-sertifikat-dinas-{department_id}.pem\""),
                ),
                (header::CACHE_CONTROL, "public, max-age=300".to_string()),
            ],
            all.iter().map(|a| a.pem()).collect::<String>(),
        )
            .into_response(),
        Ok(_) => not_found(false),
        Err(e) => {
            tracing::error!(error = %e, "sertifikat otoritas tidak dapat dibaca");
            (StatusCode::SERVICE_UNAVAILABLE, "Sertifikat otoritas sedang tidak dapat dibaca.").into_response()
        }
    }
}

async fn official_pdf(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, peer: PeerAddr) -> Response {
    if limited(&state, &headers, &peer) {
        return too_many();
    }
    let record = match verification::lookup(&state.db, &state.catalogue, Some(&state.public_records), &id).await {
        Ok(Some(record)) => record,
        _ => return not_found(false),
    };
    if record.personal_data && !is_staff(&state, &headers, &record).await {
        return (
            StatusCode::FORBIDDEN,
            "Naskah ini memuat data pribadi; PDF resminya hanya dapat diunduh pegawai dinas yang masuk.",
        )
            .into_response();
    }
    match workflow::final_pdf(&state.db, record.letter_id).await {
        Ok(Some(pdf)) => {
            let name = record.number.replace(['/', ' ', '"'], "-");
            (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}.pdf\"")),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                pdf,
            )
                .into_response()
        }
        _ => not_found(false),
    }
}

/// Whether a copy with masked NIKs can be had: a valid document with personal data
/// whose template can mask them (the SK).
fn has_public_copy(record: &PublicRecord) -> bool {
    record.personal_data && record.revoked_date.is_empty() && record.public_form
}

/// The public's copy of a document with personal data (NIKs masked, sealed by the
/// department), made once and stored; withdrawn at once by revocation.
async fn public_copy(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, peer: PeerAddr) -> Response {
    if limited(&state, &headers, &peer) {
        return too_many();
    }
    let record = match verification::lookup(&state.db, &state.catalogue, Some(&state.public_records), &id).await {
        Ok(Some(record)) if record.personal_data && record.revoked_date.is_empty() => record,
        _ => return not_found(false),
    };
    let made = match workflow::get(&state.db, record.department_id, record.letter_id).await {
        Ok(letter) => state.workflow().public_copy(&letter).await,
        Err(e) => Err(e),
    };
    let copy = match made {
        Ok(Some(copy)) => copy,
        Ok(None) => return not_found(false),
        Err(e) => {
            tracing::error!(error = %e, "salinan umum tidak dapat dibuat");
            return (StatusCode::SERVICE_UNAVAILABLE, "Salinan umum sedang tidak dapat dibuat.").into_response();
        }
    };
    let name = record.number.replace(['/', ' ', '"'], "-");
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}-salinan-umum.pdf\"")),
            // Revocation withdraws the copy at once: no shared cache may keep serving it.
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        copy.pdf,
    )
        .into_response()
}

/// Compares an uploaded PDF with the official one, byte for byte (it changes nothing,
/// so it needs no session or token).
/// The token and the file of the check form; a file that cannot be read is a message.
async fn read_check_form(mut multipart: Multipart) -> (String, Result<Vec<u8>, String>) {
    let unreadable = || format!("Berkas tidak dapat dibaca (paling besar {} MB).", MAX_UPLOAD / 1024 / 1024);
    let mut token = String::new();
    let mut uploaded = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("t") => {
                // A token is a few hundred characters; anything longer is not one.
                token = field.text().await.unwrap_or_default().chars().take(1024).collect();
            }
            Ok(Some(field)) if field.name() == Some("berkas") => match field.bytes().await {
                Ok(bytes) => uploaded = bytes.to_vec(),
                Err(_) => return (token, Err(unreadable())),
            },
            Ok(Some(_)) => {}
            Ok(None) => return (token, Ok(uploaded)),
            Err(_) => return (token, Err(unreadable())),
        }
    }
}

async fn check_upload(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    peer: PeerAddr,
    multipart: Multipart,
) -> Response {
    if limited(&state, &headers, &peer) {
        return too_many();
    }
    let record = match verification::lookup(&state.db, &state.catalogue, Some(&state.public_records), &id).await {
        Ok(Some(record)) => record,
        _ => return not_found(false),
    };
    let (token, uploaded) = read_check_form(multipart).await;
    let check = match uploaded {
        Ok(bytes) => verification::verdict::check_upload(&state.db, &record, bytes).await,
        Err(message) => Err(message),
    };
    let token_check = check_token(&state.db, &record, Some(token.as_str())).await;
    verify_page(&state, &headers, id, record, &token_check, token, Some(check)).await
}
