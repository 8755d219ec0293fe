//! Certified signatures through BSrE: Settings → BSrE (the department's signing backend,
//! BSrE's address and client account, the signers' NIK) and, on the letter page, the
//! BSrE passphrase, the state of a stamped letter and the check of a signed PDF.

use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use zeroize::Zeroizing;

use super::{Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, form_failure, id_choices, render_page};
use crate::{
    AppState,
    accounts::Role,
    auth::{PageForm, SessionUser},
    departments::{
        self,
        identity::{mask_nik, official_nik, set_official_nik},
    },
    error::{Failure, PageError},
    validation::FieldErrors,
    workflow::remote::settings::{self as signing_settings, BACKEND_BSRE, BACKEND_LOCAL, SettingsInput, SigningSettings},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pengaturan/bsre", get(show).post(save))
        .route("/pengaturan/bsre/nik", post(save_nik))
}

async fn show(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let current = signing_settings::load(&state.db, user.department.id).await.map_err(Failure::from)?;
    page(
        &state,
        &user,
        &current,
        FieldErrors::default(),
        FieldErrors::default(),
        StatusCode::OK,
        notice.text(),
    )
    .await
}

async fn page(
    state: &AppState,
    user: &SessionUser,
    shown: &SigningSettings,
    errors: FieldErrors,
    nik_errors: FieldErrors,
    status: StatusCode,
    notice: &str,
) -> Result<Response, PageError> {
    let department_id = user.department.id;
    let stored = signing_settings::has_password(&state.keys, department_id).await?;
    let backends = [
        (BACKEND_LOCAL, "Otoritas sertifikat dinas (tanda tangan tidak tersertifikasi)"),
        (BACKEND_BSRE, "BSrE — Balai Sertifikasi Elektronik (tanda tangan tersertifikasi)"),
    ];
    let backend_form = Form::new(
        "Penyelenggara tanda tangan",
        "/pengaturan/bsre",
        user.csrf(),
        "Simpan",
        vec![
            Field::select("backend", "Tanda tangan PDF oleh", choices(&backends, &shown.backend, None)).required(),
            Field::text("base_url", "Alamat layanan BSrE", &shown.bsre_base_url)
                .help("Alamat eSign Client yang diberikan BSrE, contoh https://esign.contoh.go.id"),
            Field::text("username", "Nama pengguna klien BSrE", &shown.bsre_username).autocomplete("off"),
            Field::password("password", "Kata sandi klien BSrE", "new-password").help(if stored {
                "Tersimpan di penyimpanan kunci dan tidak ditampilkan; kosongkan untuk tetap memakainya."
            } else {
                "Disimpan di penyimpanan kunci server, tidak pernah ditampilkan lagi."
            }),
            Field::text("timeout", "Batas waktu permintaan (detik)", &shown.bsre_timeout_seconds.to_string())
                .help("Tanpa jawaban dalam waktu ini, hasil tanda tangan dianggap tidak diketahui dan tidak diulang otomatis."),
        ],
    )
    .with_errors(&errors);
    let signers = signing_settings::signers(&state.db, department_id).await.map_err(Failure::from)?;
    let officials = departments::list_officials(&state.db, department_id).await?;
    let mut rows = Vec::new();
    for official in &signers {
        let nik = official_nik(&state.db, department_id, official.id).await?;
        rows.push(Row {
            cells: vec![
                official.full_name(),
                if nik.is_empty() { "belum diisi".into() } else { mask_nik(&nik) },
            ],
            ..Row::default()
        });
    }
    let nik_form = Form::new(
        "NIK pejabat untuk BSrE",
        "/pengaturan/bsre/nik",
        user.csrf(),
        "Simpan NIK",
        vec![
            Field::select(
                "official_id",
                "Pejabat",
                id_choices(officials.iter().map(|o| (o.id, o.full_name())), None, "— pilih —"),
            )
            .required(),
            Field::text("nik", "NIK", "")
                .autocomplete("off")
                .help("16 angka. Data pribadi: hanya ditampilkan tersamar; kosongkan untuk menghapus."),
        ],
    )
    .with_errors(&nik_errors);
    let mut shell = Shell::for_user(user, "BSrE", "/pengaturan");
    shell.notice = notice.into();
    let page = Page {
        heading: "Tanda tangan tersertifikasi BSrE".into(),
        intro: "Dengan BSrE, nomor, tanggal dan kode QR dicap lebih dulu, lalu PDF-nya ditandatangani BSrE dengan sertifikat \
                elektronik pejabat (NIK dan passphrase BSrE). Sebelum beralih, setiap penanda tangan diperiksa statusnya di BSrE."
            .into(),
        tabs: super::settings_tabs("/pengaturan/bsre"),
        table: Some(Table {
            title: "Penanda tangan dalam rantai persetujuan".into(),
            columns: vec!["Pejabat".into(), "NIK".into()],
            rows,
        }),
        forms: vec![backend_form, nik_form],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn save(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let input = SettingsInput {
        backend: form.get("backend"),
        base_url: form.get("base_url"),
        username: form.get("username"),
        password: Zeroizing::new(form.get("password")),
        timeout_seconds: form.get("timeout"),
    };
    match state
        .workflow()
        .save_signing_settings(&user.user.actor(), user.department.id, &input)
        .await
    {
        Ok(_) => Ok(Redirect::to("/pengaturan/bsre?ok=tersimpan").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            let shown = SigningSettings {
                backend: input.backend.clone(),
                bsre_base_url: input.base_url.clone(),
                bsre_username: input.username.clone(),
                bsre_timeout_seconds: input
                    .timeout_seconds
                    .trim()
                    .parse()
                    .unwrap_or(signing_settings::DEFAULT_TIMEOUT_SECONDS),
            };
            page(&state, &user, &shown, errors, FieldErrors::default(), status, "").await
        }
    }
}

async fn save_nik(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let outcome = match form.id("official_id") {
        Ok(Some(official_id)) => set_official_nik(&state.db, &user.user.actor(), user.department.id, official_id, &form.get("nik"))
            .await
            .map_err(Failure::from),
        Ok(None) => Err(Failure::Invalid(FieldErrors::single("official_id", "Pilih pejabat."))),
        Err(errors) => Err(Failure::Invalid(errors)),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/pengaturan/bsre?ok=tersimpan").into_response()),
        Err(failure) => {
            let (errors, status) = form_failure(failure)?;
            let current = signing_settings::load(&state.db, user.department.id).await.map_err(Failure::from)?;
            page(&state, &user, &current, FieldErrors::default(), errors, status, "").await
        }
    }
}
