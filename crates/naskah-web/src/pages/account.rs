//! One's own account: password change, reminders by e-mail and API tokens.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, form_failure, render_page};
use crate::{
    AppState, accounts,
    auth::{PageForm, SessionUser},
    error::PageError,
    notifications,
    validation::FieldErrors,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/akun", get(show))
        .route("/akun/sandi", post(change_password))
        .route("/akun/pengingat", post(set_reminders))
        .route("/akun/token", post(create_token))
        .route("/akun/token/{id}/cabut", post(revoke_token))
}

async fn render(
    state: &AppState,
    user: &SessionUser,
    password_errors: &FieldErrors,
    token_errors: &FieldErrors,
    notice: &str,
    secret: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tokens = accounts::list_tokens(&state.db, user.user.id).await?;
    let tz = user.department.tz();
    let rows = tokens
        .iter()
        .map(|t| Row {
            cells: vec![
                t.name.clone(),
                format!("{}…", t.prefix),
                tz.format_time(t.created_at),
                t.last_used_at.map(|at| tz.format_time(at)).unwrap_or_else(|| "belum pernah".into()),
                match t.revoked_at {
                    Some(at) => format!("dicabut {}", tz.format_time(at)),
                    None => "aktif".into(),
                },
            ],
            post_action: if t.revoked_at.is_none() {
                format!("/akun/token/{}/cabut", t.id)
            } else {
                String::new()
            },
            post_label: "Cabut".into(),
            ..Row::default()
        })
        .collect();
    let mut shell = Shell::for_user(user, "Akun saya", "/akun");
    shell.notice = notice.into();
    let password_form = Form::new(
        "Ganti kata sandi",
        "/akun/sandi",
        user.csrf(),
        "Ganti kata sandi",
        vec![
            Field::password("current_password", "Kata sandi saat ini", "current-password").required(),
            Field::password("password", "Kata sandi baru", "new-password")
                .required()
                .help("Minimal 10 karakter. Sesi lain dan semua token API Anda diakhiri."),
            Field::password("password_again", "Ulangi kata sandi baru", "new-password").required(),
        ],
    )
    .with_errors(password_errors);
    let token_form = Form::new(
        "Buat token API",
        "/akun/token",
        user.csrf(),
        "Buat token",
        vec![
            Field::text("name", "Nama token", "")
                .required()
                .help("Untuk apa token ini, contoh: integrasi SRIKANDI"),
        ],
    )
    .with_errors(token_errors);
    let reminders_on = notifications::enabled(&state.db, user.user.id).await.map_err(reminder_failure)?;
    let mut reminder_form = Form::new(
        "Pengingat lewat surel",
        "/akun/pengingat",
        user.csrf(),
        "Simpan pilihan pengingat",
        vec![Field::checkboxes(
            "pengingat",
            "Pengingat",
            vec![Choice::new(
                "ya",
                "Kirimi saya ringkasan tugas baru dan pengingat tugas yang melewati waktu baku SOP",
                reminders_on,
            )],
        )],
    );
    reminder_form.intro = if user.user.email.is_empty() {
        "Akun Anda belum punya alamat surel; minta administrator mengisinya agar pengingat dapat dikirim.".into()
    } else {
        format!(
            "Dikirim ke {}: paling sering sekali setiap {} menit untuk tugas baru, dan segera bila tugas melewati waktu baku.",
            user.user.email, state.config.mail.digest_minutes
        )
    };
    let page = Page {
        heading: "Akun saya".into(),
        intro: format!("{} — nama pengguna {}", user.user.display_name, user.user.username),
        secret: secret.clone().unwrap_or_default(),
        secret_label: if secret.is_some() {
            "Token API baru. Kirim sebagai header Authorization: Bearer <token>.".into()
        } else {
            String::new()
        },
        table: Some(Table {
            title: "Token API".into(),
            columns: ["Nama", "Awalan", "Dibuat", "Terakhir dipakai", "Status"]
                .map(String::from)
                .to_vec(),
            rows,
        }),
        forms: vec![password_form, reminder_form, token_form],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn show(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    render(
        &state,
        &user,
        &FieldErrors::default(),
        &FieldErrors::default(),
        notice.text(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn change_password(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let new = form.get("password");
    let result = if new != form.get("password_again") {
        Err(accounts::Error::Invalid(FieldErrors::single(
            "password_again",
            "Kedua kata sandi baru tidak sama.",
        )))
    } else {
        accounts::change_own_password(&state.db, &user.user, &form.get("current_password"), &new, Some(&user.token)).await
    };
    match result {
        Ok(()) => Ok(Redirect::to("/akun?ok=sandi").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(e.into())?;
            render(&state, &user, &errors, &FieldErrors::default(), "", None, status).await
        }
    }
}

async fn create_token(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    match accounts::create_token(&state.db, &user.user, &form.get("name")).await {
        Ok(created) => {
            render(
                &state,
                &user,
                &FieldErrors::default(),
                &FieldErrors::default(),
                "Token dibuat.",
                Some(created.secret),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let (errors, status) = form_failure(e.into())?;
            render(&state, &user, &FieldErrors::default(), &errors, "", None, status).await
        }
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(_): PageForm<FormData>,
) -> Result<Response, PageError> {
    accounts::revoke_token(&state.db, &user.user, &user.user, id).await?;
    Ok(Redirect::to("/akun?ok=dicabut").into_response())
}

fn reminder_failure(e: notifications::Error) -> PageError {
    match e {
        notifications::Error::Db(e) => PageError::from(e),
        other => PageError(crate::error::Failure::Internal(other.to_string())),
    }
}

async fn set_reminders(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    notifications::set_enabled(&state.db, &user.user, form.get("pengingat") == "ya")
        .await
        .map_err(reminder_failure)?;
    Ok(Redirect::to("/akun?ok=pengingat").into_response())
}
