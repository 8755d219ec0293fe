//! Server-rendered pages in Indonesian. Every page shares one layout; forms are built
//! from a small field model so labels, errors and focus order are the same everywhere.

mod account;
mod approvals;
mod batches;
mod beneficiaries;
mod bsre;
mod distribution;
mod drafting;
mod incoming;
mod letter_sections;
mod letters;
mod organisation;
mod recipients;
mod register;
mod settings;
mod signature;
mod users;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

pub use super::view::*;
use super::{
    AppState,
    auth::{self, CsrfForm, SessionUser},
    error::{Failure, PageError},
};
use crate::{accounts, departments};
pub use beneficiaries::{ImportJobs, MAX_UPLOAD as CANDIDATE_UPLOAD_LIMIT};
pub use letters::BulkJobs;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/masuk", get(login_page).post(login_submit))
        .route("/keluar", post(logout))
        .route("/logo/{department_id}", get(logo))
        .route("/static/naskah.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
        .merge(settings::router())
        .merge(organisation::router())
        .merge(users::router())
        .merge(account::router())
        .merge(drafting::router())
        .merge(letters::router())
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

/// Reads a multipart form: its text fields, and the file of `file_field` with its name.
/// The session's CSRF token is checked before the caller looks at anything.
pub(super) async fn read_upload(
    user: &SessionUser,
    mut multipart: axum::extract::Multipart,
    file_field: &str,
) -> Result<(FormData, String, Vec<u8>), PageError> {
    let failed = |e: axum::extract::multipart::MultipartError| PageError(auth::body_failure(e.status()));
    let mut form = FormData::default();
    let (mut file_name, mut bytes) = (String::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            file_name = field.file_name().unwrap_or_default().chars().take(200).collect();
            bytes = field.bytes().await.map_err(failed)?.to_vec();
        } else {
            form.0.push((name, field.text().await.map_err(failed)?));
        }
    }
    auth::check_csrf(user, &form.get("csrf"))?;
    Ok((form, file_name, bytes))
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    pub ok: String,
}

impl Notice {
    /// Only fixed messages are shown, so nothing from the address is echoed to the page.
    pub fn text(&self) -> &'static str {
        match self.ok.as_str() {
            "tersimpan" => "Perubahan tersimpan.",
            "dibuat" => "Data ditambahkan.",
            "dihapus" => "Data dihapus.",
            "sandi" => "Kata sandi Anda sudah diganti.",
            "dicabut" => "Token dicabut.",
            "logo" => "Logo tersimpan.",
            "diimpor" => "Daftar penerima diimpor.",
            "ganti-sandi" => "Silakan ganti kata sandi awal Anda.",
            "revisi" => "Revisi baru tersimpan.",
            "diteruskan" => "Surat diteruskan ke tahap berikutnya.",
            "paraf" => "Paraf tercatat dan ditandatangani dengan kunci Anda.",
            "tanda_tangan" => "Surat ditandatangani.",
            "kembalikan" => "Surat dikembalikan ke konseptor untuk diperbaiki.",
            "tolak" => "Surat ditolak.",
            "kunci" => "Kunci tanda tangan tersimpan.",
            "kumpulan" => "Surat untuk setiap desa dibuat sebagai konsep. Periksa, lalu teruskan semuanya.",
            "pengiriman" => "Pengiriman tercatat.",
            "diteruskan-semua" => "Semua surat yang menunggu Anda sudah diteruskan.",
            "dicabut-surat" => "Surat dicabut; halaman verifikasinya kini menyatakan DICABUT.",
            "disposisi" => "Disposisi tercatat; penerimanya melihatnya di Tugas saya.",
            "impor-batal" => "Impor dibatalkan; berkasnya dibuang, laporannya tetap tersimpan.",
            _ => "",
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    shell: Shell,
    roles: String,
    is_admin: bool,
    counts: (usize, usize, usize, usize),
    tasks: Vec<letters::InboxRow>,
    /// Tasks at a paraf or signature step (bulk actions are offered from two).
    approvals: usize,
}

async fn home(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    let is_admin = user.user.has(accounts::Role::Administrator);
    let counts = if is_admin {
        let id = user.department.id;
        (
            departments::list_units(&state.db, id).await?.len(),
            departments::list_positions(&state.db, id).await?.len(),
            departments::list_officials(&state.db, id).await?.len(),
            accounts::list(&state.db, id).await?.len(),
        )
    } else {
        (0, 0, 0, 0)
    };
    let roles: Vec<&str> = user.user.roles.iter().map(|r| r.label()).collect();
    let mut shell = Shell::for_user(&user, "Tugas saya", "/");
    shell.notice = notice.text().into();
    let roles = if roles.is_empty() {
        "belum ada".to_string()
    } else {
        roles.join(", ")
    };
    let mut tasks = letters::inbox_rows(&state, &user).await?;
    tasks.extend(incoming::disposition_tasks(&state, &user).await?);
    let approvals = tasks.iter().filter(|t| t.approval).count();
    Ok(render(
        StatusCode::OK,
        &HomeTemplate {
            shell,
            roles,
            is_admin,
            counts,
            tasks,
            approvals,
        },
    ))
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
        return login_response(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.username,
            Some("Isi nama pengguna dan kata sandi.".into()),
        );
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
        Ok((token, _session, user)) => {
            let target = if user.must_change_password { "/akun?ok=ganti-sandi" } else { "/" };
            let mut response = Redirect::to(target).into_response();
            let max_age = state.config.session.absolute_hours * 3600;
            for cookie in [
                auth::set_cookie(&state, auth::SESSION_COOKIE, &token, max_age),
                auth::set_cookie(&state, auth::LOGIN_CSRF_COOKIE, "", 0),
            ] {
                if let Ok(v) = cookie.parse() {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        Err(accounts::LoginError::InvalidCredentials) => login_response(
            &state,
            StatusCode::UNAUTHORIZED,
            &form.username,
            Some(accounts::LoginError::InvalidCredentials.to_string()),
        ),
        Err(e @ accounts::LoginError::Throttled { .. }) => {
            login_response(&state, StatusCode::TOO_MANY_REQUESTS, &form.username, Some(e.to_string()))
        }
        Err(accounts::LoginError::Db(e)) => PageError::from(e).into_response(),
    }
}

async fn logout(State(state): State<AppState>, user: SessionUser, CsrfForm(_): CsrfForm<FormData>) -> Result<Response, PageError> {
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
