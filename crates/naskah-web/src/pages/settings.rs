//! Department settings: letterhead data, time zone, place of writing, logo.

use axum::{
    Router,
    extract::{Multipart, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{Field, Form, FormData, Notice, Page, Shell, choices, form_failure, render_page, settings_tabs};
use crate::{
    AppState,
    accounts::Role,
    auth::{PageForm, SessionUser},
    departments::{self, DepartmentInput, TimeZone},
    error::PageError,
    validation::FieldErrors,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pengaturan", get(show).post(save))
        .route("/pengaturan/logo", post(upload_logo))
}

fn letterhead_fields(input: &DepartmentInput) -> Vec<Field> {
    let zones: Vec<(&str, String)> = TimeZone::ALL.iter().map(|tz| (tz.iana(), tz.label())).collect();
    let zone_pairs: Vec<(&str, &str)> = zones.iter().map(|(k, l)| (*k, l.as_str())).collect();
    vec![
        Field::text("regency_name", "Pemerintah daerah", &input.regency_name)
            .required()
            .help("Contoh: Kabupaten Penajam Paser Utara"),
        Field::text("name", "Nama dinas", &input.name)
            .required()
            .help("Contoh: Dinas Tenaga Kerja"),
        Field::text("region_code", "Kode wilayah kabupaten/kota", &input.region_code).help("Kode Kemendagri, contoh 64.09"),
        Field::text("address", "Alamat", &input.address),
        Field::text("postal_code", "Kode pos", &input.postal_code).autocomplete("postal-code"),
        Field {
            kind: "tel",
            ..Field::text("phone", "Telepon", &input.phone)
        },
        Field::email("email", "E-mail", &input.email),
        Field::text("website", "Laman", &input.website),
        Field::text("city", "Tempat penulisan surat", &input.city).help("Ditulis sebelum tanggal surat, contoh: Penajam"),
        Field::select("timezone", "Zona waktu", choices(&zone_pairs, &input.timezone, None)).required(),
    ]
}

fn render(
    user: &SessionUser,
    input: &DepartmentInput,
    errors: &FieldErrors,
    logo_errors: &FieldErrors,
    notice: &str,
    status: StatusCode,
) -> Response {
    let mut shell = Shell::for_user(user, "Pengaturan dinas", "/pengaturan");
    shell.notice = notice.into();
    let letterhead = Form::new(
        "Kop surat dan pengaturan",
        "/pengaturan",
        user.csrf(),
        "Simpan",
        letterhead_fields(input),
    )
    .with_errors(errors);
    let mut logo = Form::new(
        "Logo",
        "/pengaturan/logo",
        user.csrf(),
        "Unggah logo",
        vec![
            Field::file(
                "logo",
                "Berkas logo",
                "image/png,image/jpeg,image/svg+xml",
                crate::departments::MAX_LOGO_BYTES,
            )
            .help("PNG, JPEG atau SVG, paling besar 1 MB. Dipakai di kop surat."),
        ],
    )
    .with_errors(logo_errors);
    logo.multipart = true;
    let page = Page {
        heading: "Pengaturan dinas".into(),
        intro: "Data ini dipakai pada kop surat, tanggal surat dan halaman verifikasi.".into(),
        tabs: settings_tabs("/pengaturan"),
        image_src: if user.department.has_logo() {
            format!("/logo/{}?v={}", user.department.id, user.department.updated_at)
        } else {
            String::new()
        },
        image_alt: "Logo yang dipakai sekarang".into(),
        image_class: "logo".into(),
        forms: vec![letterhead, logo],
        ..Page::default()
    };
    render_page(status, shell, page)
}

async fn show(user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let input = DepartmentInput::from(&user.department);
    Ok(render(
        &user,
        &input,
        &FieldErrors::default(),
        &FieldErrors::default(),
        notice.text(),
        StatusCode::OK,
    ))
}

fn input_from(form: &FormData) -> DepartmentInput {
    DepartmentInput {
        name: form.get("name"),
        regency_name: form.get("regency_name"),
        region_code: form.get("region_code"),
        address: form.get("address"),
        postal_code: form.get("postal_code"),
        phone: form.get("phone"),
        email: form.get("email"),
        website: form.get("website"),
        city: form.get("city"),
        timezone: form.get("timezone"),
    }
}

async fn save(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let input = input_from(&form);
    match departments::update(&state.db, &user.user.actor(), user.department.id, input.clone()).await {
        Ok(_) => Ok(Redirect::to("/pengaturan?ok=tersimpan").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(e.into())?;
            Ok(render(&user, &input, &errors, &FieldErrors::default(), "", status))
        }
    }
}

async fn upload_logo(State(state): State<AppState>, user: SessionUser, multipart: Multipart) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let (_, _, bytes) = super::read_upload(multipart, "logo").await?;
    match departments::set_logo(&state.db, &user.user.actor(), user.department.id, &bytes).await {
        Ok(()) => Ok(Redirect::to("/pengaturan?ok=logo").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(e.into())?;
            let input = DepartmentInput::from(&user.department);
            Ok(render(&user, &input, &FieldErrors::default(), &errors, "", status))
        }
    }
}
