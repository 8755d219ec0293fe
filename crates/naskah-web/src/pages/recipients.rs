//! Daftar penerima: the directory of recipients, its filters, the add/edit form, and the
//! CSV export and import. Every member of staff may read it (it holds work contacts of
//! village heads, not the public's data); the agendaris and administrators change it.

use axum::{
    Router,
    extract::{Multipart, Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, form_failure, render_page};
use crate::{
    AppState,
    auth::{PageForm, SessionUser},
    distribution::{
        self,
        recipients::{self, Filter, KINDS, Recipient, RecipientInput},
    },
    error::{Failure, PageError},
    validation::FieldErrors,
};

/// Largest CSV accepted for an import.
const MAX_IMPORT: usize = crate::uploads::RECIPIENT_FILE;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/penerima", get(list_page))
        .route("/penerima.csv", get(export_csv))
        .route("/penerima/baru", get(new_page).post(create))
        .route(
            "/penerima/impor",
            post(import).layer(axum::extract::DefaultBodyLimit::max(MAX_IMPORT)),
        )
        .route("/penerima/{id}", get(edit_page).post(update))
}

fn require_editor(user: &SessionUser) -> Result<(), PageError> {
    if crate::distribution::may_edit_recipients(&user.user) {
        Ok(())
    } else {
        Err(PageError(Failure::Denied(
            "Hanya agendaris atau administrator yang dapat mengubah daftar penerima.".into(),
        )))
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    jenis: String,
    #[serde(default)]
    kecamatan: String,
    #[serde(default)]
    cari: String,
    #[serde(default)]
    ok: String,
}

impl ListQuery {
    fn filter(&self) -> Filter {
        Filter {
            kind: self.jenis.clone(),
            kecamatan: self.kecamatan.clone(),
            text: self.cari.trim().to_string(),
        }
    }
}

async fn list_page(State(state): State<AppState>, user: SessionUser, Query(query): Query<ListQuery>) -> Result<Response, PageError> {
    list_with(&state, &user, &query, FieldErrors::default(), StatusCode::OK).await
}

async fn list_with(
    state: &AppState,
    user: &SessionUser,
    query: &ListQuery,
    import_errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let list = recipients::list(&state.db, user.department.id, &query.filter())
        .await
        .map_err(Failure::from)?;
    let kecamatan: Vec<Recipient> = recipients::list(
        &state.db,
        user.department.id,
        &Filter {
            kind: "kecamatan".into(),
            ..Filter::default()
        },
    )
    .await
    .map_err(Failure::from)?;
    let editor = crate::distribution::may_edit_recipients(&user.user);
    let rows = list
        .iter()
        .map(|r| Row {
            cells: vec![
                r.kind_label().into(),
                r.name.clone(),
                r.head_title.clone(),
                r.head_name.clone(),
                r.email.clone(),
                r.phone.clone(),
                if r.active != 0 { "aktif".into() } else { "nonaktif".into() },
            ],
            edit_href: if editor { format!("/penerima/{}", r.id) } else { String::new() },
            ..Row::default()
        })
        .collect();
    let without_email = list.iter().filter(|r| r.active != 0 && r.email.is_empty()).count();
    let mut filter = Form::new(
        "Saring",
        "/penerima",
        user.csrf(),
        "Tampilkan",
        vec![
            Field::select("jenis", "Jenis", choices(&KINDS, &query.jenis, Some("Semua"))),
            Field::select("kecamatan", "Kecamatan", {
                let mut options = vec![Choice::new("", "Semua", query.kecamatan.is_empty())];
                options.extend(kecamatan.iter().filter_map(|k| {
                    let code = k.region_code.clone()?;
                    let selected = code == query.kecamatan;
                    Some(Choice::new(code, k.name.clone(), selected))
                }));
                options
            }),
            Field::text("cari", "Cari nama, jabatan atau surel", &query.cari),
        ],
    );
    filter.method_get = true;
    let mut forms = vec![filter];
    if editor {
        let mut upload = Form::new(
            "Impor dari CSV",
            "/penerima/impor",
            user.csrf(),
            "Impor",
            vec![Field::file("berkas", "Berkas CSV", ".csv,text/csv", crate::uploads::RECIPIENT_FILE).help(&format!(
                "Kolom: {}. Baris dengan kode wilayah memperbarui penerima wilayah itu; baris lain memperbarui penerima dengan jenis dan nama yang sama atau menambah penerima baru. Bila ada baris yang salah, tidak ada yang disimpan.",
                recipients::CSV_HEADER.join(",")
            ))],
        )
        .with_errors(&import_errors);
        upload.multipart = true;
        forms.push(upload);
    }
    let mut shell = Shell::for_user(user, "Daftar penerima", "/penerima");
    shell.notice = Notice { ok: query.ok.clone() }.text().into();
    let mut links = vec![("/penerima.csv".to_string(), "Unduh sebagai CSV".to_string())];
    if editor {
        links.insert(0, ("/penerima/baru".into(), "Tambah penerima".into()));
    }
    let page = Page {
        heading: "Daftar penerima".into(),
        intro: format!(
            "{} penerima: desa, kelurahan dan kecamatan dari kode wilayah resmi, instansi, dan pejabat untuk tembusan. {} penerima aktif belum memiliki alamat surel.",
            list.len(),
            without_email
        ),
        links,
        table: Some(Table {
            title: "Penerima".into(),
            columns: ["Jenis", "Nama", "Jabatan kepala", "Nama pejabat", "Surel", "Telepon", "Status"]
                .map(String::from)
                .to_vec(),
            rows,
        }),
        forms,
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn export_csv(State(state): State<AppState>, user: SessionUser) -> Result<Response, PageError> {
    let list = recipients::list(&state.db, user.department.id, &Filter::default())
        .await
        .map_err(Failure::from)?;
    let bytes = recipients::to_csv(&list).map_err(Failure::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"daftar-penerima.csv\""),
        ],
        bytes,
    )
        .into_response())
}

fn input_of(form: &FormData) -> RecipientInput {
    RecipientInput {
        kind: form.get("kind"),
        region_code: form.get("region_code"),
        name: form.get("name"),
        head_title: form.get("head_title"),
        head_name: form.get("head_name"),
        email: form.get("email"),
        phone: form.get("phone"),
        address: form.get("address"),
        active: form.get("active") == "ya",
    }
}

fn recipient_form(user: &SessionUser, action: &str, input: &RecipientInput, errors: &FieldErrors) -> Form {
    Form::new(
        "Penerima",
        action,
        user.csrf(),
        "Simpan",
        vec![
            Field::select("kind", "Jenis", choices(&KINDS, &input.kind, None)).required(),
            Field::text("region_code", "Kode wilayah", &input.region_code)
                .help("Wajib untuk desa, kelurahan dan kecamatan, contoh 64.09.02.2005."),
            Field::text("name", "Nama", &input.name)
                .required()
                .help("Contoh: Desa Sotek, Dinas Sosial Kabupaten Penajam Paser Utara."),
            Field::text("head_title", "Jabatan kepala", &input.head_title)
                .help("Sebagaimana ditulis pada alamat surat, contoh: Kepala Desa Sotek."),
            Field::text("head_name", "Nama pejabat", &input.head_name),
            Field::email("email", "Surel", &input.email).help("Surat dikirim ke alamat ini."),
            Field::text("phone", "Telepon", &input.phone),
            Field::text("address", "Alamat", &input.address),
            Field::checkboxes(
                "active",
                "Status",
                vec![Choice::new("ya", "Aktif (dapat dipilih sebagai penerima)", input.active)],
            ),
        ],
    )
    .with_errors(errors)
}

fn form_page(user: &SessionUser, heading: &str, form: Form, status: StatusCode) -> Response {
    let page = Page {
        heading: heading.into(),
        back_href: "/penerima".into(),
        forms: vec![form],
        ..Page::default()
    };
    render_page(status, Shell::for_user(user, heading, "/penerima"), page)
}

async fn new_page(user: SessionUser) -> Result<Response, PageError> {
    require_editor(&user)?;
    let input = RecipientInput {
        kind: "instansi".into(),
        active: true,
        ..RecipientInput::default()
    };
    Ok(form_page(
        &user,
        "Tambah penerima",
        recipient_form(&user, "/penerima/baru", &input, &FieldErrors::default()),
        StatusCode::OK,
    ))
}

async fn create(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    require_editor(&user)?;
    let input = input_of(&form);
    match recipients::create(&state.db, &user.user.actor(), user.department.id, input.clone()).await {
        Ok(_) => Ok(Redirect::to("/penerima?ok=dibuat").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            Ok(form_page(
                &user,
                "Tambah penerima",
                recipient_form(&user, "/penerima/baru", &input, &errors),
                status,
            ))
        }
    }
}

async fn edit_page(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_editor(&user)?;
    let r = recipients::get(&state.db, user.department.id, id).await.map_err(Failure::from)?;
    let input = RecipientInput {
        kind: r.kind,
        region_code: r.region_code.unwrap_or_default(),
        name: r.name,
        head_title: r.head_title,
        head_name: r.head_name,
        email: r.email,
        phone: r.phone,
        address: r.address,
        active: r.active != 0,
    };
    let action = format!("/penerima/{id}");
    Ok(form_page(
        &user,
        "Ubah penerima",
        recipient_form(&user, &action, &input, &FieldErrors::default()),
        StatusCode::OK,
    ))
}

async fn update(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    require_editor(&user)?;
    let input = input_of(&form);
    match recipients::update(&state.db, &user.user.actor(), user.department.id, id, input.clone()).await {
        Ok(_) => Ok(Redirect::to("/penerima?ok=tersimpan").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            let action = format!("/penerima/{id}");
            Ok(form_page(
                &user,
                "Ubah penerima",
                recipient_form(&user, &action, &input, &errors),
                status,
            ))
        }
    }
}

async fn import(State(state): State<AppState>, user: SessionUser, multipart: Multipart) -> Result<Response, PageError> {
    require_editor(&user)?;
    let (_, _, bytes) = super::read_upload(multipart, "berkas").await?;
    let failed = |message: String| FieldErrors::single("berkas", message);
    let errors = match String::from_utf8(bytes) {
        Err(_) => failed("Berkas bukan teks CSV (UTF-8).".into()),
        Ok(text) if text.trim().is_empty() => failed("Pilih berkas CSV yang akan diimpor.".into()),
        Ok(text) => match recipients::parse_csv(&text) {
            Ok(rows) => match recipients::import(&state.db, &user.user.actor(), user.department.id, &rows).await {
                Ok(_) => return Ok(Redirect::to("/penerima?ok=diimpor").into_response()),
                Err(e) => failed(match e {
                    distribution::Error::Conflict(m) => m,
                    other => return Err(PageError(Failure::from(other))),
                }),
            },
            Err(distribution::Error::Rows(problems)) => {
                // One line on the field, every row's problem in the summary.
                let mut errors = failed(format!("Berkas memuat {} kesalahan; tidak ada yang disimpan.", problems.len()));
                for problem in problems.iter().take(20) {
                    errors.add("_", problem.clone());
                }
                if problems.len() > 20 {
                    errors.add("_", format!("… dan {} kesalahan lain.", problems.len() - 20));
                }
                errors
            }
            Err(e) => failed(e.to_string()),
        },
    };
    list_with(&state, &user, &ListQuery::default(), errors, StatusCode::UNPROCESSABLE_ENTITY).await
}
