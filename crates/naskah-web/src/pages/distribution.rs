//! Pengiriman: the delivery log on each signed letter's page, the changes staff record
//! (handed over, sent by courier, confirmed, failed, sent again, another channel), and
//! the department's dashboard of what is still undelivered or unacknowledged, measured
//! against the SOP's time for distribution.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::{Page, Row, Shell, Table, render_page};
use crate::{
    AppState,
    auth::SessionUser,
    distribution::{
        deliveries::{self},
        list,
    },
    error::{Failure, PageError},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/distribusi", get(dashboard))
        .route("/surat/{id}/daftar-pengiriman.pdf", get(letter_list))
}

#[derive(Debug, Default, Deserialize)]
struct DashboardQuery {
    #[serde(default)]
    kumpulan: Option<i64>,
    /// Also the letters whose every recipient has confirmed.
    #[serde(default)]
    semua: Option<String>,
}

async fn dashboard(State(state): State<AppState>, user: SessionUser, Query(query): Query<DashboardQuery>) -> Result<Response, PageError> {
    let catalogue = state.catalogue.clone();
    let days = |template: &str| catalogue.get(template).map(|m| m.distribution_days).unwrap_or(1);
    let all = deliveries::progress(&state.db, user.department.id, query.kumpulan, 1000, days).await?;
    Ok(render_page(
        StatusCode::OK,
        Shell::for_user(&user, "Distribusi", "/distribusi"),
        dashboard_content(&user, &query, &all),
    ))
}

fn dashboard_content(user: &SessionUser, query: &DashboardQuery, all: &[deliveries::Progress]) -> Page {
    let now = crate::db::now();
    let tz = user.department.tz();
    let undistributed = all.iter().filter(|p| !p.distributed()).count();
    let late = all.iter().filter(|p| p.late(now)).count();
    let not_received: i64 = all.iter().map(|p| p.total - p.received).sum();
    let show_all = query.semua.is_some();
    let rows: Vec<Row> = all
        .iter()
        .filter(|p| show_all || !p.complete())
        .map(|p| {
            let pending = if p.pending.is_empty() {
                "—".to_string()
            } else {
                let mut names: Vec<String> = p
                    .pending
                    .iter()
                    .take(6)
                    .map(|(name, status)| format!("{name} ({})", deliveries::status_label(status).to_lowercase()))
                    .collect();
                if p.pending.len() > 6 {
                    names.push(format!("… dan {} lainnya", p.pending.len() - 6));
                }
                names.join("; ")
            };
            let standing = if p.total == 0 {
                "Belum ada daftar penerima"
            } else if p.late(now) {
                "TERLAMBAT"
            } else if p.complete() {
                "Selesai"
            } else if p.distributed() {
                "Menunggu konfirmasi"
            } else {
                "Dalam pengiriman"
            };
            Row {
                cells: vec![
                    p.number.clone(),
                    p.subject.clone(),
                    tz.format_time(p.signed_at),
                    tz.format_time(p.due_at),
                    format!("{}/{}", p.out, p.total),
                    format!("{}/{}", p.acknowledged, p.total),
                    pending,
                    standing.to_string(),
                ],
                edit_href: format!("/surat/{}#pengiriman", p.letter_id),
                edit_label: "Buka".into(),
                ..Row::default()
            }
        })
        .collect();
    let mut links = Vec::new();
    let base = match query.kumpulan {
        Some(batch) => {
            links.push(("/distribusi".to_string(), "Semua surat".to_string()));
            format!("/distribusi?kumpulan={batch}")
        }
        None => "/distribusi".into(),
    };
    let join = if base.contains('?') { '&' } else { '?' };
    if show_all {
        links.push((base.clone(), "Hanya yang belum selesai".into()));
    } else {
        links.push((format!("{base}{join}semua=1"), "Tampilkan juga yang sudah selesai".into()));
    }
    Page {
        heading: "Distribusi surat".into(),
        intro: format!(
            "{} surat ditandatangani{}: {undistributed} belum terdistribusi ke semua penerima, {late} melewati batas SOP \
             (1 hari untuk surat permintaan data, 5 hari untuk surat ke desa); {not_received} penerima belum tercatat menerima \
             (belum mengonfirmasi tanda terima, atau belum diserahkan langsung).",
            all.len(),
            if query.kumpulan.is_some() { " dalam kumpulan ini" } else { "" },
        ),
        links,
        table: Some(Table {
            title: if rows.is_empty() {
                "Tidak ada surat yang menunggu".into()
            } else {
                "Surat yang belum selesai".into()
            },
            columns: [
                "Nomor",
                "Hal",
                "Ditandatangani",
                "Batas SOP",
                "Terkirim",
                "Dikonfirmasi",
                "Belum tercatat menerima",
                "Keadaan",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        }),
        ..Page::default()
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    semua: Option<String>,
}

/// One letter's distribution list as PDF.
async fn letter_list(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let letter = crate::workflow::get(&state.db, user.department.id, id).await?;
    let selection = if query.semua.is_some() {
        list::Selection::All
    } else {
        list::Selection::Carried
    };
    let rows = list::rows(&state.db, user.department.id, None, Some(letter.id), selection).await?;
    if rows.is_empty() {
        return Err(PageError(Failure::Conflict(
            "Surat ini belum punya pengiriman untuk diantar (belum ditandatangani, atau semuanya lewat surel).".into(),
        )));
    }
    let pdf = list::pdf(&state.renderer, &state.db, &user.department, &letter.subject, &rows, selection).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"daftar-pengiriman-surat-{}.pdf\"", letter.id),
            ),
        ],
        pdf,
    )
        .into_response())
}
