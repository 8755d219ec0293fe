//! A letter's files: the signed PDF, a revision's PDF and page images, and the
//! comparison of two revisions.

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use serde_json::Value;

use crate::{
    AppState,
    auth::SessionUser,
    cases, departments,
    error::{Failure, PageError},
    letters::{self, Manifest},
    pages::{Page, Row, Shell, Table, render_page},
    workflow::{self},
};

/// The final, signed PDF: the bytes stored at signature, never rendered again.
pub(super) async fn final_pdf(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let pdf = workflow::final_pdf(&state.db, letter.id).await?.ok_or(Failure::NotFound)?;
    let name = letter.number.clone().unwrap_or_default().replace(['/', ' ', '"'], "-");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}.pdf\"")),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        pdf,
    )
        .into_response())
}

pub(super) async fn revision_pdf(
    State(state): State<AppState>,
    user: SessionUser,
    Path((id, number)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let revision = workflow::revision(&state.db, letter.id, number).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"konsep-surat-{}-revisi-{}.pdf\"", letter.id, number),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        revision.pdf,
    )
        .into_response())
}

/// A page of a revision as PNG, rendered again from its data (rendering is
/// deterministic, so it is the page of the stored PDF).
pub(super) async fn revision_png(
    State(state): State<AppState>,
    user: SessionUser,
    Path((id, number, page)): Path<(i64, i64, usize)>,
) -> Result<Response, PageError> {
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let revision = workflow::revision(&state.db, letter.id, number).await?;
    let manifest = state.catalogue.get(&letter.template_id)?;
    let logo = departments::logo(&state.db, user.department.id).await?;
    // The signed revision is shown as the final document: number, date, QR code,
    // signature block and footer, as in the stored final PDF.
    let slots = if number == letter.revision {
        state.workflow().final_slots(&letter).await?.unwrap_or_default()
    } else {
        letters::Slots::default()
    };
    let job = letters::job(manifest, &user.department.letterhead(), logo, &revision.fields(), &slots, None);
    let image = letters::parts::render_png(&state.renderer, job, page.max(1) - 1, 1.5)
        .await
        .map_err(Failure::from)?;
    Ok((
        [(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, max-age=300")],
        image.png,
    )
        .into_response())
}

#[derive(Deserialize)]
pub(super) struct CompareQuery {
    a: i64,
    b: i64,
}

pub(super) async fn compare(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, PageError> {
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let manifest = state.catalogue.get(&letter.template_id)?;
    let order: Vec<String> = manifest.fields.iter().map(|f| f.name.clone()).collect();
    let changes = workflow::compare(&state.db, letter.id, q.a, q.b, &order).await?;
    let shell = Shell::for_user(&user, "Perbandingan revisi", "/surat");
    Ok(render_page(StatusCode::OK, shell, compare_content(&letter, manifest, &q, &changes)))
}

/// The fields that differ between two revisions, each before and after.
fn compare_content(letter: &workflow::Letter, manifest: &Manifest, q: &CompareQuery, changes: &[workflow::FieldChange]) -> Page {
    let show = |name: &str, v: &Option<Value>| {
        v.as_ref()
            .map(|v| cases::letter::field_text(manifest, name, v))
            .unwrap_or_else(|| "—".into())
    };
    let rows = changes
        .iter()
        .map(|c| Row {
            cells: vec![
                cases::letter::field_label(manifest, &c.field),
                show(&c.field, &c.before),
                show(&c.field, &c.after),
            ],
            ..Row::default()
        })
        .collect();
    Page {
        heading: format!("Perbandingan revisi {} dan {}", q.a, q.b),
        intro: if changes.is_empty() {
            "Kedua revisi berisi data yang sama.".into()
        } else {
            format!("{} isian berbeda.", changes.len())
        },
        back_href: format!("/surat/{}", letter.id),
        table: Some(Table {
            title: letter.subject.clone(),
            columns: vec!["Isian".into(), format!("Revisi {}", q.a), format!("Revisi {}", q.b)],
            rows,
        }),
        ..Page::default()
    }
}
