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
use serde_json::Value;

use super::{Form, FormData, Page, Row, Shell, Table, data_from_form, form_failure, manifest_fields, render_page};
use crate::{
    AppState,
    accounts::Role,
    auth::{PageForm, SessionUser},
    departments,
    error::{Failure, PageError},
    letters::{self, Manifest},
    validation::FieldErrors,
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
            edit_label: "Buat surat".into(),
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

fn draft_form(user: &SessionUser, manifest: &Manifest, data: &Value, errors: &FieldErrors) -> Form {
    let mut form = Form::new(
        "Isi konsep",
        &format!("/templat/{}/pratinjau", manifest.id),
        user.csrf(),
        "Pratinjau",
        manifest_fields(manifest, data),
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
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let manifest = manifest(&state, &id)?;
    let data = data_from_form(manifest, &form);
    if form.get("format") == "simpan" {
        return match state.workflow().create(&user.user, &manifest.id, &data, "konsep awal").await {
            Ok(letter) => Ok(axum::response::Redirect::to(&format!("/surat/{}", letter.id)).into_response()),
            Err(e) => form_again(&user, manifest, &data, e.into()),
        };
    }
    let logo = departments::logo(&state.db, user.department.id).await?;
    let job = match letters::draft_job(manifest, &user.department.letterhead(), logo, &data) {
        Ok(job) => job,
        Err(e) => return form_again(&user, manifest, &data, e.into()),
    };
    if form.get("format") == "pdf" {
        let rendered = letters::parts::render_pdf(&state.renderer, job).await.map_err(Failure::from)?;
        let disposition = format!("inline; filename=\"konsep-{}.pdf\"", manifest.id);
        let headers = [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ];
        return Ok((headers, rendered.pdf).into_response());
    }
    let page_index = form.get("halaman").parse::<usize>().unwrap_or(1).max(1) - 1;
    let image = match letters::parts::render_png(&state.renderer, job, page_index, 1.5).await {
        Ok(image) => image,
        Err(e) => return form_again(&user, manifest, &data, Failure::from(e)),
    };
    let shell = Shell::for_user(&user, &manifest.title, "/templat");
    Ok(render_page(
        StatusCode::OK,
        shell,
        preview_content(&user, manifest, &data, page_index, &image),
    ))
}

/// The preview of one page of the draft, with the form to go on editing.
fn preview_content(
    user: &SessionUser,
    manifest: &Manifest,
    data: &Value,
    page_index: usize,
    image: &crate::rendering::RenderedPng,
) -> Page {
    // A deadline before the day the letter would be signed (today) is pointed out now.
    let today = user.department.tz().today();
    let deadline_warning = letters::deadline::warning(&letters::deadline::passed(manifest, data, today), today);
    Page {
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
        forms: vec![draft_form(user, manifest, data, &FieldErrors::default())],
        ..Page::default()
    }
}
