//! Server-rendered pages in Indonesian. Every page shares one layout; forms are built
//! from a small field model so labels, errors and focus order are the same everywhere.

mod account;
mod approvals;
mod batches;
mod beneficiaries;
mod bsre;
mod common;
mod distribution;
mod drafting;
mod inbox;
mod incoming;
mod letter;
mod organisation;
mod recipients;
mod register;
mod settings;
mod signature;
mod users;

use askama::Template;
use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

pub use super::view::*;
use super::{
    AppState,
    auth::{self, PageForm, SessionUser},
    error::{Failure, PageError},
};
use crate::{accounts, departments};
pub use common::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(inbox::home))
        .route("/masuk", get(login_page).post(login_submit))
        .route("/keluar", post(logout))
        .route("/logo/{department_id}", get(logo))
        .route("/static/naskah.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
        .route("/static/naskah.js", get(script))
        .merge(settings::router())
        .merge(organisation::router())
        .merge(users::router())
        .merge(account::router())
        .merge(drafting::router())
        .merge(letter::router())
        .merge(approvals::router())
        .merge(register::router())
        .merge(signature::router())
        .merge(bsre::router())
        .merge(recipients::router())
        .merge(batches::router())
        .merge(distribution::router())
        .merge(beneficiaries::router())
        .merge(incoming::router())
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    shell: Shell,
    form: Form,
    dept_hint: String,
}

fn login_form(csrf: &str, username: &str, error: Option<String>) -> Form {
    Form {
        action: "/masuk".into(),
        csrf: csrf.into(),
        submit: "Masuk".into(),
        error_summary: error.unwrap_or_default(),
        fields: vec![
            Field::text("username", "Nama pengguna", username)
                .required()
                .autocomplete("username"),
            Field::password("password", "Kata sandi", "current-password").required(),
        ],
        ..Form::default()
    }
}

fn login_response(state: &AppState, status: StatusCode, username: &str, error: Option<String>) -> Response {
    let csrf = accounts::random_token();
    let shell = Shell {
        title: "Masuk".into(),
        ..Shell::default()
    };
    let mut response = render(
        status,
        &LoginTemplate {
            shell,
            form: login_form(&csrf, username, error),
            dept_hint: String::new(),
        },
    );
    if let Ok(v) = auth::set_cookie(state, auth::LOGIN_CSRF_COOKIE, &csrf, 3600).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = auth::cookie(&headers, auth::SESSION_COOKIE)
        && let Ok(Some(_)) = accounts::session_user(&state.db, token, &state.config.session).await
    {
        return Redirect::to("/").into_response();
    }
    login_response(&state, StatusCode::OK, "", None)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// Into the service with a new session (to the account page first when the password
/// must be changed); the login form's CSRF cookie is no longer needed.
fn logged_in(state: &AppState, token: &str, must_change_password: bool) -> Response {
    let target = if must_change_password { "/akun?ok=ganti-sandi" } else { "/" };
    let mut response = Redirect::to(target).into_response();
    let max_age = state.config.session.absolute_hours * 3600;
    for cookie in [
        auth::set_cookie(state, auth::SESSION_COOKIE, token, max_age),
        auth::set_cookie(state, auth::LOGIN_CSRF_COOKIE, "", 0),
    ] {
        if let Ok(v) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

async fn login_submit(
    State(state): State<AppState>,
    auth::PeerAddr(peer): auth::PeerAddr,
    headers: HeaderMap,
    auth::PlainForm(form): auth::PlainForm<LoginForm>,
) -> Response {
    // The login form has no session yet: its CSRF token is a cookie echoed by the form.
    let expected = auth::cookie(&headers, auth::LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::tokens_equal(expected, &form.csrf) {
        return login_response(&state, StatusCode::FORBIDDEN, &form.username, Some(Failure::Csrf.message()));
    }
    if form.username.trim().is_empty() || form.password.is_empty() {
        let message = "Isi nama pengguna dan kata sandi.".to_string();
        return login_response(&state, StatusCode::UNPROCESSABLE_ENTITY, &form.username, Some(message));
    }
    let address = auth::client_address(&headers, peer, state.config.login_throttle.trust_forwarded_for);
    match accounts::login(
        &state.db,
        &state.config.login_throttle,
        &state.config.session,
        &form.username,
        &form.password,
        &address,
    )
    .await
    {
        Ok((token, _session, user)) => logged_in(&state, &token, user.must_change_password),
        Err(e @ accounts::LoginError::InvalidCredentials) => {
            login_response(&state, StatusCode::UNAUTHORIZED, &form.username, Some(e.to_string()))
        }
        Err(e @ accounts::LoginError::Throttled { .. }) => {
            login_response(&state, StatusCode::TOO_MANY_REQUESTS, &form.username, Some(e.to_string()))
        }
        Err(accounts::LoginError::Db(e)) => PageError::from(e).into_response(),
    }
}

async fn logout(State(state): State<AppState>, user: SessionUser, PageForm(_): PageForm<FormData>) -> Result<Response, PageError> {
    accounts::end_session(&state.db, &user.user, &user.token).await?;
    let mut response = Redirect::to("/masuk").into_response();
    if let Ok(v) = auth::set_cookie(&state, auth::SESSION_COOKIE, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// The department's logo; public, because it appears on letters and the verification page.
async fn logo(State(state): State<AppState>, Path(department_id): Path<i64>) -> Result<Response, PageError> {
    let (bytes, mime) = departments::logo(&state.db, department_id)
        .await?
        .ok_or(PageError(Failure::NotFound))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, max-age=300".to_string()),
            // An SVG opened directly must not run anything.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/naskah.css"),
    )
        .into_response()
}

/// The pages' one script: a chosen file is checked against the form's limit before
/// anything is sent. Every page works without it; the server checks again.
async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/naskah.js"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/favicon.svg"),
    )
        .into_response()
}
