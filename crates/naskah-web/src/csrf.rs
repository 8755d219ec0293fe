//! One layer checks the CSRF token of every state-changing request a browser session
//! makes, before any handler runs: a route added later is covered without asking, and
//! a refusal here is told apart from a role refusal by its code (`csrf`).
//!
//! The token comes from the `X-CSRF-Token` header or the form's `csrf` field (URL-encoded
//! or multipart). The JSON API checks its own way (bearer token, or a session plus the
//! header, in `auth::ApiUser`); the few forms that serve people without a session (the
//! login, the public check of a PDF, a village's receipt link) carry no session token.

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    AppState, auth,
    error::{Failure, PageError},
    uploads,
};

/// Forms served to people without a session; each guards itself (login: its own
/// pre-session token; the public check and receipts: nothing to forge on anyone's behalf).
pub fn without_session(path: &str) -> bool {
    let mut parts = path.trim_matches('/').split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("masuk"), None, _, _) | (Some("v"), Some(_), Some("periksa"), None) | (Some("tanda-terima"), Some(_), None, _)
    )
}

pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) || crate::wants_json(path) || without_session(path) {
        return next.run(request).await;
    }
    let (user, session, token) = match auth::lookup_session(&state, request.headers()).await {
        Ok(Some(found)) => found,
        // No session: the handler answers (to the login page) and changes nothing.
        Ok(None) => return next.run(request).await,
        Err(failure) => return PageError(failure).into_response(),
    };
    let expected = session.csrf_token.clone();
    // The handler's `SessionUser` takes the session from here rather than reading it again.
    let mut request = request;
    request.extensions_mut().insert(auth::FoundSession(user, session, token));
    if let Some(sent) = request.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if auth::tokens_equal(sent, &expected) {
            next.run(request).await
        } else {
            PageError(Failure::Csrf).into_response()
        };
    }
    // The body is read once here, within the route's own limit, and handed on intact.
    let limit = uploads::limit_for(request.uri().path()).unwrap_or(state.config.max_body_bytes);
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(e) if is_over_limit(&e) => return PageError(Failure::TooLarge(Some(limit))).into_response(),
        Err(_) => return PageError(Failure::BadRequest("Isi permintaan tidak dapat dibaca.".into())).into_response(),
    };
    let sent = token_in_body(&parts.headers, &bytes).await.unwrap_or_default();
    if !auth::tokens_equal(&sent, &expected) {
        return PageError(Failure::Csrf).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn is_over_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The `csrf` field of a URL-encoded or multipart form.
async fn token_in_body(headers: &HeaderMap, bytes: &Bytes) -> Option<String> {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if kind.starts_with("multipart/form-data") {
        // multer (axum's own multipart reader) over the bytes in hand: no size limit of
        // its own to trip over, the route's limit was applied while reading.
        let boundary = multer::parse_boundary(kind).ok()?;
        let mut form = multer::Multipart::new(Body::from(bytes.clone()).into_data_stream(), boundary);
        while let Ok(Some(field)) = form.next_field().await {
            if field.name() == Some("csrf") {
                return field.text().await.ok();
            }
        }
        return None;
    }
    form_urlencoded_field(bytes, "csrf")
}

fn form_urlencoded_field(bytes: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(bytes)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_sessionless_forms_are_left_to_themselves() {
        assert!(without_session("/masuk"));
        assert!(without_session("/v/0123abcd/periksa"));
        assert!(without_session("/tanda-terima/abc"));
        assert!(!without_session("/keluar"));
        assert!(!without_session("/v/0123abcd/periksa/lagi"));
        assert!(!without_session("/calon/impor"));
    }

    #[test]
    fn the_token_is_read_from_a_url_encoded_form() {
        assert_eq!(form_urlencoded_field(b"a=1&csrf=t%2Bk&b=2", "csrf").as_deref(), Some("t+k"));
        assert_eq!(form_urlencoded_field(b"a=1", "csrf"), None);
    }
}
