//! Templates and previews: the drafting form of each template is generated from its
//! manifest; a preview renders the draft (KONSEP) as an image or PDF.

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use serde_json::{Map, Value};

use super::{Choice, Field, Form, FormData, Page, Row, Shell, Table, render_page, settings::form_failure};
use crate::{
    accounts::Role,
    departments,
    letters::{self, FieldSpec, FieldType, Manifest},
    validation::FieldErrors,
    web::{
        AppState,
        auth::{CsrfForm, SessionUser},
        error::{Failure, PageError},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/templat", get(list))
        .route("/templat/{id}", get(form_page))
        .route("/templat/{id}/pratinjau", post(preview))
}

async fn list(State(state): State<AppState>, user: SessionUser) -> Result<Response, PageError> {
    let rows = state
        .catalogue
        .templates
        .iter()
        .map(|t| Row {
            cells: vec![
                t.title.clone(),
                if t.kind == letters::DocumentKind::Keputusan {
                    "Keputusan".into()
                } else {
                    "Surat".into()
                },
                t.description.clone(),
            ],
            edit_href: format!("/templat/{}", t.id),
            ..Row::default()
        })
        .collect();
    let page = Page {
        heading: "Templat naskah".into(),
        intro: "Pilih templat untuk mengisi konsep dan melihat pratinjaunya.".into(),
        table: Some(Table {
            title: "Templat yang tersedia".into(),
            columns: ["Nama", "Jenis", "Keterangan"].map(String::from).to_vec(),
            rows,
        }),
        ..Page::default()
    };
    Ok(render_page(StatusCode::OK, Shell::for_user(&user, "Templat", "/templat"), page))
}

/// A value of the data as the text a form field shows.
pub(super) fn as_form_text(spec: &FieldSpec, value: Option<&Value>) -> String {
    let Some(value) = value else { return String::new() };
    match spec.kind {
        FieldType::Recipients => value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i.get("nama").and_then(Value::as_str).or(i.as_str()).unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        FieldType::Rows => value
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        spec.columns
                            .iter()
                            .map(|c| r.get(&c.name).map(plain).unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        _ => plain(value),
    }
}

pub(super) fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The form's fields, generated from the manifest.
pub(super) fn fields(manifest: &Manifest, data: &Value) -> Vec<Field> {
    manifest
        .fields
        .iter()
        .map(|spec| {
            let value = as_form_text(spec, data.get(&spec.name));
            let mut f = match spec.kind {
                FieldType::Text | FieldType::Number => Field::text(&spec.name, &spec.label, &value),
                FieldType::Money => Field::text(&spec.name, &spec.label, &value),
                FieldType::Date => Field {
                    kind: "date",
                    ..Field::text(&spec.name, &spec.label, &value)
                },
                FieldType::LongText | FieldType::Recipients | FieldType::Rows => Field {
                    kind: "textarea",
                    ..Field::text(&spec.name, &spec.label, &value)
                },
                FieldType::Choice => {
                    let mut options: Vec<Choice> = Vec::new();
                    if !spec.required {
                        options.push(Choice::new("", "— tidak ada —", value.is_empty()));
                    }
                    options.extend(spec.choices.iter().map(|c| Choice::new(c.clone(), c.clone(), *c == value)));
                    Field::select(&spec.name, &spec.label, options)
                }
            };
            let mut help = spec.help.clone();
            let extra = match spec.kind {
                FieldType::Recipients => "Satu penerima per baris.".to_string(),
                FieldType::Rows => format!(
                    "Satu baris per data; kolom dipisahkan titik koma: {}.",
                    spec.columns.iter().map(|c| c.label.as_str()).collect::<Vec<_>>().join("; ")
                ),
                FieldType::Money => "Dalam rupiah, tanpa titik, contoh 16800.".into(),
                _ => String::new(),
            };
            if !extra.is_empty() {
                help = if help.is_empty() { extra } else { format!("{help} {extra}") };
            }
            f.help = help;
            f.required = spec.required;
            f
        })
        .collect()
}

/// The submitted form as the JSON object the manifest checks.
pub(super) fn data_from_form(manifest: &Manifest, form: &FormData) -> Value {
    let mut out = Map::new();
    for spec in &manifest.fields {
        let raw = form.get(&spec.name);
        let value = match spec.kind {
            FieldType::Recipients => Value::Array(
                raw.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| serde_json::json!({ "nama": l }))
                    .collect(),
            ),
            FieldType::Rows => Value::Array(
                raw.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|line| {
                        let cells: Vec<&str> = line.split(';').map(str::trim).collect();
                        Value::Object(
                            spec.columns
                                .iter()
                                .enumerate()
                                .map(|(i, c)| (c.name.clone(), Value::String(cells.get(i).copied().unwrap_or_default().to_string())))
                                .collect(),
                        )
                    })
                    .collect(),
            ),
            _ => Value::String(raw),
        };
        out.insert(spec.name.clone(), value);
    }
    Value::Object(out)
}

fn draft_form(user: &SessionUser, manifest: &Manifest, data: &Value, errors: &FieldErrors) -> Form {
    let mut form = Form::new(
        "Isi konsep",
        &format!("/templat/{}/pratinjau", manifest.id),
        user.csrf(),
        "Pratinjau",
        fields(manifest, data),
    )
    .with_errors(errors);
    form.alt_submit = "Unduh PDF konsep".into();
    if user.user.has(Role::Drafter) {
        form.save_submit = "Simpan sebagai konsep surat".into();
    }
    form
}

fn manifest<'a>(state: &'a AppState, id: &str) -> Result<&'a Manifest, PageError> {
    Ok(state.catalogue.get(id)?)
}

async fn form_page(State(state): State<AppState>, user: SessionUser, Path(id): Path<String>) -> Result<Response, PageError> {
    let manifest = manifest(&state, &id)?;
    let page = Page {
        heading: manifest.title.clone(),
        intro: manifest.description.clone(),
        back_href: "/templat".into(),
        forms: vec![draft_form(&user, manifest, &manifest.defaults(), &FieldErrors::default())],
        ..Page::default()
    };
    Ok(render_page(
        StatusCode::OK,
        Shell::for_user(&user, &manifest.title, "/templat"),
        page,
    ))
}

/// The drafting form shown again with the typed data and what went wrong.
fn form_again(user: &SessionUser, manifest: &Manifest, data: &Value, failure: Failure) -> Result<Response, PageError> {
    let (errors, status) = form_failure(failure)?;
    let page = Page {
        heading: manifest.title.clone(),
        back_href: "/templat".into(),
        forms: vec![draft_form(user, manifest, data, &errors)],
        ..Page::default()
    };
    Ok(render_page(status, Shell::for_user(user, &manifest.title, "/templat"), page))
}

async fn preview(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    let manifest = manifest(&state, &id)?;
    let data = data_from_form(manifest, &form);
    if form.get("format") == "simpan" {
        let note = "konsep awal";
        return match state.workflow().create(&user.user, &manifest.id, &data, note).await {
            Ok(letter) => Ok(axum::response::Redirect::to(&format!("/surat/{}", letter.id)).into_response()),
            Err(e) => form_again(&user, manifest, &data, e.into()),
        };
    }
    let logo = departments::logo(&state.db, user.department.id).await?;
    let shell = Shell::for_user(&user, &manifest.title, "/templat");
    let job = match letters::draft_job(manifest, &user.department, logo, &data) {
        Ok(job) => job,
        Err(e) => {
            return form_again(&user, manifest, &data, e.into());
        }
    };
    if form.get("format") == "pdf" {
        let rendered = letters::parts::render_pdf(&state.renderer, job).await.map_err(Failure::from)?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"konsep-{}.pdf\"", manifest.id),
                ),
            ],
            rendered.pdf,
        )
            .into_response());
    }
    let page_index = form.get("halaman").parse::<usize>().unwrap_or(1).max(1) - 1;
    let image = match letters::parts::render_png(&state.renderer, job, page_index, 1.5).await {
        Ok(image) => image,
        Err(e) => {
            return form_again(&user, manifest, &data, Failure::from(e));
        }
    };
    // A deadline before the day the letter would be signed (today) is pointed out now.
    let today = user.department.tz().today();
    let deadline_warning = letters::deadline::warning(&letters::deadline::passed(manifest, &data, today), today);
    let page = Page {
        heading: manifest.title.clone(),
        intro: format!(
            "Pratinjau halaman {} dari {}. Nomor, tanggal dan tanda tangan diisi saat penandatanganan.{}",
            page_index + 1,
            image.pages,
            if deadline_warning.is_empty() {
                String::new()
            } else {
                format!(" Peringatan: {deadline_warning}")
            }
        ),
        back_href: "/templat".into(),
        image_src: format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&image.png)
        ),
        image_alt: format!("Pratinjau konsep {}, halaman {}", manifest.title, page_index + 1),
        image_class: "preview".into(),
        forms: vec![draft_form(&user, manifest, &data, &FieldErrors::default())],
        ..Page::default()
    };
    Ok(render_page(StatusCode::OK, shell, page))
}
