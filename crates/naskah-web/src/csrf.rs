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
    http::{Method, header},
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
    if is_multipart(&request) {
        return multipart_checked(request, &expected, next).await;
    }
    // The body is read once here, within the route's own limit, and handed on intact.
    let limit = uploads::limit_for(request.uri().path()).unwrap_or(state.config.max_body_bytes);
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(e) if is_over_limit(&e) => return PageError(Failure::TooLarge(Some(limit))).into_response(),
        Err(_) => return PageError(Failure::BadRequest("Isi permintaan tidak dapat dibaca.".into())).into_response(),
    };
    let sent = form_urlencoded_field(&bytes, "csrf").unwrap_or_default();
    if !auth::tokens_equal(&sent, &expected) {
        return PageError(Failure::Csrf).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// How far into a multipart body the `csrf` field must have ended: every form puts it
/// first, so a file of any size is never held here, only its first bytes.
const MULTIPART_TOKEN_WITHIN: usize = 64 * 1024;

fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|kind| kind.starts_with("multipart/form-data"))
}

/// Reads a multipart body only until its `csrf` field is complete, checks it, and hands
/// the handler the whole body: the bytes read here, then the rest as it arrives.
async fn multipart_checked(request: Request, expected: &str, next: Next) -> Response {
    use futures_util::StreamExt as _;
    let (parts, body) = request.into_parts();
    let kind = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Ok(boundary) = multer::parse_boundary(kind) else {
        return PageError(Failure::BadRequest("Isi permintaan tidak dapat dibaca.".into())).into_response();
    };
    let mut stream = body.into_data_stream();
    let mut read = Vec::new();
    let sent = loop {
        if let Some(token) = token_in_multipart(&read[..read.len().min(MULTIPART_TOKEN_WITHIN)], &boundary).await {
            break token;
        }
        if read.len() >= MULTIPART_TOKEN_WITHIN {
            break String::new();
        }
        match stream.next().await {
            Some(Ok(chunk)) => read.extend_from_slice(&chunk),
            None => break String::new(),
            Some(Err(e)) if is_over_limit(&e) => {
                return PageError(Failure::TooLarge(uploads::limit_for(parts.uri.path()))).into_response();
            }
            Some(Err(_)) => return PageError(Failure::BadRequest("Isi permintaan tidak dapat dibaca.".into())).into_response(),
        }
    };
    if !auth::tokens_equal(&sent, expected) {
        return PageError(Failure::Csrf).into_response();
    }
    let first = futures_util::stream::once(std::future::ready(Ok::<Bytes, axum::Error>(Bytes::from(read))));
    next.run(Request::from_parts(parts, Body::from_stream(first.chain(stream)))).await
}

/// The `csrf` field of the multipart bytes read so far, once it is complete.
async fn token_in_multipart(read: &[u8], boundary: &str) -> Option<String> {
    if read.is_empty() {
        return None;
    }
    let bytes = Bytes::copy_from_slice(read);
    let mut form = multer::Multipart::new(Body::from(bytes).into_data_stream(), boundary.to_string());
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("csrf") {
            // An error here is a field cut off by the end of what was read: read on.
            return field.text().await.ok();
        }
    }
    None
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
