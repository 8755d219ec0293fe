//! Who is asking: the session cookie for pages, a bearer token (or the session plus the
//! `X-CSRF-Token` header) for the API; and the CSRF check of every state-changing form.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, Method, header, request::Parts},
};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::{
    AppState,
    error::{ApiError, Failure, PageError},
    view::{NavItem, Shell},
};
use crate::{
    accounts::{self, Role, Session, User},
    departments::{self, Department},
};

pub const SESSION_COOKIE: &str = "naskah_sesi";
pub const LOGIN_CSRF_COOKIE: &str = "naskah_csrf_masuk";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the attributes every naskah cookie carries.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_seconds: i64) -> String {
    let secure = if state.config.session.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}")
}

pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A logged-in person using the web pages.
pub struct SessionUser {
    pub user: User,
    pub session: Session,
    pub token: String,
    pub department: Department,
}

impl SessionUser {
    pub fn require(&self, role: Role) -> Result<(), PageError> {
        if self.user.has(role) {
            Ok(())
        } else {
            Err(PageError(Failure::Forbidden))
        }
    }
    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }
}

/// The logged-in user behind a request's session cookie, if any (for pages open to all
/// that show staff a little more).
pub async fn session_user(state: &AppState, headers: &HeaderMap) -> Option<User> {
    lookup_session(state, headers).await.ok().flatten().map(|(user, _, _)| user)
}

/// A session found (and touched) earlier in this request, by the CSRF layer: the
/// extractor takes it from the request's extensions instead of reading it again.
#[derive(Clone)]
pub(crate) struct FoundSession(pub(crate) User, pub(crate) Session, pub(crate) String);

pub(crate) async fn lookup_session(state: &AppState, headers: &HeaderMap) -> Result<Option<(User, Session, String)>, Failure> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some((user, session)) = accounts::session_user(&state.db, token, &state.config.session).await? else {
        return Ok(None);
    };
    accounts::touch_session(&state.db, token, &session).await?;
    Ok(Some((user, session, token.to_string())))
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let found = match parts.extensions.remove::<FoundSession>() {
            Some(FoundSession(user, session, token)) => Some((user, session, token)),
            None => lookup_session(state, &parts.headers).await?,
        };
        let Some((user, session, token)) = found else {
            return Err(PageError(Failure::Unauthenticated));
        };
        let department = departments::get(&state.db, user.department_id).await?;
        Ok(SessionUser {
            user,
            session,
            token,
            department,
        })
    }
}

/// A caller of the JSON API.
pub struct ApiUser {
    pub user: User,
    pub department: Department,
}

impl ApiUser {
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.user.has(role) {
            Ok(())
        } else {
            Err(ApiError(Failure::Forbidden))
        }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let user = if let Some(secret) = bearer {
            accounts::token_user(&state.db, secret)
                .await?
                .ok_or(ApiError(Failure::Unauthenticated))?
        } else {
            let (user, session, _) = lookup_session(state, &parts.headers)
                .await?
                .ok_or(ApiError(Failure::Unauthenticated))?;
            // A browser session may call the API, but changes need the CSRF header.
            if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
                let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
                if !tokens_equal(sent, &session.csrf_token) {
                    return Err(ApiError(Failure::Csrf));
                }
            }
            user
        };
        let department = departments::get(&state.db, user.department_id).await?;
        Ok(ApiUser { user, department })
    }
}

/// An `application/x-www-form-urlencoded` page form. Its `csrf` field was checked by the
/// layer in `csrf.rs` before any handler ran.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| body_failure(e.status()))?;
        let value =
            serde_urlencoded::from_bytes(&bytes).map_err(|e| PageError(Failure::BadRequest(format!("Isi formulir tidak valid: {e}"))))?;
        Ok(PageForm(value))
    }
}

pub fn body_failure(status: axum::http::StatusCode) -> Failure {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Failure::TooLarge(None)
    } else {
        Failure::BadRequest("Isi permintaan tidak dapat dibaca.".into())
    }
}

/// A JSON body whose rejections are answered in our error shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let status = rejection.status();
                if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Err(ApiError(Failure::TooLarge(None)))
                } else {
                    Err(ApiError(Failure::BadRequest(format!(
                        "Badan JSON tidak valid: {}",
                        rejection.body_text()
                    ))))
                }
            }
        }
    }
}

/// The caller's address for throttling: the socket peer, or the last proxy hop when trusted.
pub fn client_address(parts_headers: &HeaderMap, peer: Option<std::net::SocketAddr>, trust_forwarded: bool) -> String {
    if trust_forwarded
        && let Some(last) = parts_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return last.to_string();
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "tidak-diketahui".into())
}

/// The socket peer's address when the server was started with connect info (tests
/// driving the router directly have none).
pub struct PeerAddr(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// A form without a session (the login form): rejections become our error pages.
pub struct PlainForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PlainForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| body_failure(e.status()))?;
        serde_urlencoded::from_bytes(&bytes)
            .map(PlainForm)
            .map_err(|_| PageError(Failure::BadRequest("Isi formulir tidak dapat dibaca.".into())))
    }
}

impl Shell {
    /// The layout for a logged-in user: navigation shows only what the roles allow.
    pub fn for_user(user: &SessionUser, title: &str, current: &str) -> Self {
        let mut nav = vec![NavItem::new("/", "Tugas saya", current), NavItem::new("/surat", "Surat", current)];
        if user.user.has(Role::Administrator) {
            nav.push(NavItem::new("/pengaturan", "Pengaturan dinas", current));
            nav.push(NavItem::new("/pengguna", "Pengguna", current));
        }
        // Drafters start letters here; for others it is the list of templates.
        nav.push(NavItem::new(
            "/templat",
            if user.user.has(Role::Drafter) { "Buat surat" } else { "Templat" },
            current,
        ));
        if user.user.official_id.is_some() && (user.user.has(Role::Approver) || user.user.has(Role::Signer)) {
            nav.push(NavItem::new("/kunci", "Kunci", current));
        }
        if user.user.has(Role::Administrator) {
            nav.push(NavItem::new("/delegasi", "Plh./Plt.", current));
        }
        nav.push(NavItem::new("/agenda", "Agenda", current));
        nav.push(NavItem::new("/surat-masuk", "Surat masuk", current));
        if crate::beneficiaries::may_read(&user.user) {
            nav.push(NavItem::new("/calon", "Calon penerima", current));
        }
        nav.push(NavItem::new("/kumpulan", "Kumpulan", current));
        nav.push(NavItem::new("/distribusi", "Distribusi", current));
        nav.push(NavItem::new("/penerima", "Penerima", current));
        nav.push(NavItem::new("/laporan/waktu", "Laporan waktu", current));
        nav.push(NavItem::new("/akun", "Akun saya", current));
        Shell {
            title: title.into(),
            department_name: format!("{} {}", user.department.name, user.department.regency_name),
            department_id: user.department.id,
            has_logo: user.department.has_logo(),
            user_name: user.user.display_name.clone(),
            csrf: user.csrf().into(),
            nav,
            notice: String::new(),
        }
    }
}
