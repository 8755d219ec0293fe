//! User administration: accounts of the department, their roles and linked officials.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, form_failure, id_choices, render_page};
use crate::{
    AppState,
    accounts::{self, Role, User, UserInput},
    auth::{PageForm, SessionUser},
    departments,
    error::PageError,
    validation::FieldErrors,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pengguna", get(list_page).post(create))
        .route("/pengguna/{id}", get(edit_page).post(update))
        .route("/pengguna/{id}/sandi", post(reset_password))
}

fn role_choices(selected: &[Role]) -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| Choice::new(r.key(), r.label(), selected.contains(r)))
        .collect()
}

fn input_from(form: &FormData) -> Result<UserInput, FieldErrors> {
    Ok(UserInput {
        username: form.get("username"),
        display_name: form.get("display_name"),
        email: form.get("email"),
        roles: form.all("roles").iter().filter_map(|r| Role::parse(r)).collect(),
        official_id: form.id("official_id")?,
        active: Some(form.get("active") != "0"),
    })
}

async fn official_choices(state: &AppState, dept: i64, selected: Option<i64>) -> Result<Vec<Choice>, PageError> {
    let officials = departments::list_officials(&state.db, dept).await?;
    Ok(id_choices(
        officials.iter().map(|o| (o.id, format!("{} ({})", o.full_name(), o.nip))),
        selected,
        "— tidak terhubung —",
    ))
}

fn user_fields(input: &UserInput, officials: Vec<Choice>) -> Vec<Field> {
    vec![
        Field::text("display_name", "Nama lengkap", &input.display_name).required(),
        Field::text("username", "Nama pengguna", &input.username)
            .required()
            .autocomplete("off")
            .help("Huruf kecil, angka, titik, garis bawah atau minus"),
        Field::email("email", "E-mail", &input.email),
        Field::checkboxes("roles", "Peran", role_choices(&input.roles)),
        Field::select("official_id", "Pejabat yang terhubung", officials)
            .help("Akun penandatangan dan pemaraf dihubungkan dengan data pejabatnya"),
    ]
}

async fn render_list(
    state: &AppState,
    user: &SessionUser,
    input: &UserInput,
    errors: &FieldErrors,
    notice: &str,
    secret: Option<(String, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let users = accounts::list(&state.db, user.department.id).await?;
    let rows = users
        .iter()
        .map(|u| Row {
            cells: vec![
                u.display_name.clone(),
                u.username.clone(),
                u.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
                if u.active { "Aktif".into() } else { "Nonaktif".into() },
            ],
            edit_href: format!("/pengguna/{}", u.id),
            ..Row::default()
        })
        .collect();
    let mut fields = user_fields(input, official_choices(state, user.department.id, input.official_id).await?);
    fields.push(
        Field::password("password", "Kata sandi awal", "new-password")
            .help("Kosongkan agar dibuatkan otomatis. Pengguna wajib menggantinya saat pertama masuk."),
    );
    let mut shell = Shell::for_user(user, "Pengguna", "/pengguna");
    shell.notice = notice.into();
    let (secret_label, secret) = secret.unwrap_or_default();
    let page = Page {
        heading: "Pengguna".into(),
        intro: "Akun staf dinas dan perannya dalam alur naskah.".into(),
        secret,
        secret_label,
        table: Some(Table {
            title: "Daftar pengguna".into(),
            columns: ["Nama", "Nama pengguna", "Peran", "Status"].map(String::from).to_vec(),
            rows,
        }),
        forms: vec![Form::new("Tambah pengguna", "/pengguna", user.csrf(), "Tambah pengguna", fields).with_errors(errors)],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn list_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    render_list(
        &state,
        &user,
        &UserInput::default(),
        &FieldErrors::default(),
        notice.text(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn create(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let chosen = form.get("password");
    let password = if chosen.is_empty() {
        accounts::generate_password()
    } else {
        chosen.clone()
    };
    let result = match input_from(&form) {
        Ok(input) => accounts::create(&state.db, &user.user.actor(), user.department.id, input, &password, true).await,
        Err(e) => Err(accounts::Error::Invalid(e)),
    };
    let input = input_from(&form).unwrap_or_default();
    match result {
        Ok(created) => {
            let secret = chosen
                .is_empty()
                .then(|| (format!("Akun {} dibuat. Kata sandi awalnya:", created.username), password));
            render_list(
                &state,
                &user,
                &UserInput::default(),
                &FieldErrors::default(),
                "Pengguna ditambahkan.",
                secret,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let (errors, status) = form_failure(e.into())?;
            render_list(&state, &user, &input, &errors, "", None, status).await
        }
    }
}

async fn render_edit(
    state: &AppState,
    user: &SessionUser,
    target: &User,
    input: &UserInput,
    errors: &FieldErrors,
    secret: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut fields = user_fields(input, official_choices(state, user.department.id, input.official_id).await?);
    fields.push(Field::select(
        "active",
        "Status",
        vec![
            Choice::new("1", "Aktif", input.active.unwrap_or(true)),
            Choice::new(
                "0",
                "Nonaktif (tidak dapat masuk; sesi dan token API-nya diakhiri)",
                !input.active.unwrap_or(true),
            ),
        ],
    ));
    let action = format!("/pengguna/{}", target.id);
    let page = Page {
        heading: format!("Ubah pengguna {}", target.username),
        back_href: "/pengguna".into(),
        secret: secret.clone().unwrap_or_default(),
        secret_label: if secret.is_some() {
            "Kata sandi baru (pengguna wajib menggantinya saat masuk; semua sesi dan token API-nya sudah diakhiri):".into()
        } else {
            String::new()
        },
        forms: vec![
            Form::new("", &action, user.csrf(), "Simpan perubahan", fields).with_errors(errors),
            Form::new(
                "Atur ulang kata sandi",
                &format!("{action}/sandi"),
                user.csrf(),
                "Buat kata sandi baru",
                vec![],
            ),
        ],
        ..Page::default()
    };
    Ok(render_page(status, Shell::for_user(user, "Ubah pengguna", "/pengguna"), page))
}

fn input_of(u: &User) -> UserInput {
    UserInput {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        roles: u.roles.clone(),
        official_id: u.official_id,
        active: Some(u.active),
    }
}

async fn edit_page(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let target = accounts::get_in(&state.db, user.department.id, id).await?;
    render_edit(
        &state,
        &user,
        &target,
        &input_of(&target),
        &FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn update(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let target = accounts::get_in(&state.db, user.department.id, id).await?;
    let result = match input_from(&form) {
        Ok(input) => accounts::update(&state.db, &user.user.actor(), user.department.id, id, input).await,
        Err(e) => Err(accounts::Error::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/pengguna?ok=tersimpan").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(e.into())?;
            let input = input_from(&form).unwrap_or_else(|_| input_of(&target));
            render_edit(&state, &user, &target, &input, &errors, None, status).await
        }
    }
}

async fn reset_password(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(_): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let target = accounts::get_in(&state.db, user.department.id, id).await?;
    let password = accounts::generate_password();
    accounts::set_password(&state.db, &user.user.actor(), &target, &password, true, None).await?;
    render_edit(
        &state,
        &user,
        &target,
        &input_of(&target),
        &FieldErrors::default(),
        Some(password),
        StatusCode::OK,
    )
    .await
}
