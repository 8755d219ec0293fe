//! Pengiriman: the delivery log on each signed letter's page, the changes staff record
//! (handed over, sent by courier, confirmed, failed, sent again, another channel), and
//! the department's dashboard of what is still undelivered or unacknowledged, measured
//! against the SOP's time for distribution.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use super::{FormData, Notice, Page, Row, Shell, Table, form_failure, paging::Paging, render, render_page};
use crate::{
    AppState,
    auth::{PageForm, SessionUser},
    cases,
    distribution::{
        deliveries::{self, Change},
        list,
        progress::ProgressQuery,
    },
    error::{Failure, PageError},
    text,
    validation::FieldErrors,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/distribusi", get(dashboard))
        .route("/distribusi/catat", get(round_page).post(round_submit))
        .route("/surat/{id}/daftar-pengiriman.pdf", get(letter_list))
}

#[derive(Debug, Default, Deserialize)]
struct DashboardQuery {
    #[serde(default)]
    kumpulan: Option<i64>,
    /// Also the letters whose every recipient has confirmed.
    #[serde(default)]
    semua: Option<String>,
    #[serde(default)]
    halaman: String,
}

/// Letters on one page of the dashboard.
const PAGE_SIZE: i64 = 50;

async fn dashboard(
    State(state): State<AppState>,
    user: SessionUser,
    Query(query): Query<DashboardQuery>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let query_days = ProgressQuery {
        batch_id: query.kumpulan,
        include_complete: query.semua.is_some(),
        days: state.catalogue.all().iter().map(|m| (m.id.clone(), m.distribution_days)).collect(),
    };
    let paging = Paging::parse(&query.halaman, PAGE_SIZE);
    let found = cases::deliveries::dashboard(&state.db, user.department.id, &query_days, paging.size, paging.offset()).await?;
    let mut shell = Shell::for_user(&user, "Distribusi", "/distribusi");
    shell.notice = notice.text().into();
    Ok(render_page(StatusCode::OK, shell, dashboard_content(&user, &query, paging, found)))
}

fn dashboard_content(user: &SessionUser, query: &DashboardQuery, paging: Paging, found: cases::deliveries::Dashboard) -> Page {
    let now = crate::db::now();
    let tz = user.department.tz();
    let cases::deliveries::Dashboard { summary, letters, total } = found;
    let show_all = query.semua.is_some();
    let rows: Vec<Row> = letters
        .iter()
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
    if crate::distribution::may_distribute(&user.user) {
        links.push(match query.kumpulan {
            Some(batch) => (
                format!("/distribusi/catat?kumpulan={batch}"),
                "Catat pengiriman kumpulan ini sekaligus".into(),
            ),
            None => ("/distribusi/catat".to_string(), "Catat pengiriman sekaligus".to_string()),
        });
    }
    let base = match query.kumpulan {
        Some(batch) => {
            links.push(("/distribusi".to_string(), "Semua surat".to_string()));
            format!("/distribusi?kumpulan={batch}")
        }
        None => "/distribusi".into(),
    };
    let join = if base.contains('?') { '&' } else { '?' };
    let listed = if show_all {
        links.push((base.clone(), "Hanya yang belum selesai".into()));
        format!("{base}{join}semua=1")
    } else {
        links.push((format!("{base}{join}semua=1"), "Tampilkan juga yang sudah selesai".into()));
        base.clone()
    };
    let join = if listed.contains('?') { '&' } else { '?' };
    links.extend(paging.links(total, |n| format!("{listed}{join}halaman={n}")));
    Page {
        heading: "Distribusi surat".into(),
        intro: format!(
            "{} surat ditandatangani{}: {} belum terdistribusi ke semua penerima, {} melewati batas SOP \
             (1 hari untuk surat permintaan data, 5 hari untuk surat ke desa); {} penerima belum tercatat menerima \
             (belum mengonfirmasi tanda terima, atau belum diserahkan langsung).",
            text::thousands(summary.letters),
            if query.kumpulan.is_some() { " dalam kumpulan ini" } else { "" },
            text::thousands(summary.undistributed),
            text::thousands(summary.late),
            text::thousands(summary.not_received),
        ),
        links,
        table: Some(Table {
            title: match (rows.is_empty(), show_all) {
                (true, false) => "Tidak ada surat yang menunggu".into(),
                (true, true) => "Belum ada surat yang ditandatangani".into(),
                (false, false) => format!("Surat yang belum selesai ({})", paging.shown(rows.len(), total)),
                (false, true) => format!("Semua surat yang ditandatangani ({})", paging.shown(rows.len(), total)),
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

#[derive(Debug, Default, Deserialize)]
struct RoundQuery {
    #[serde(default)]
    kumpulan: Option<i64>,
}

struct RoundRow {
    id: i64,
    name: String,
    number: String,
    channel: &'static str,
    status: &'static str,
    checked: bool,
    receiver: String,
    error: String,
}

#[derive(Template)]
#[template(path = "delivery_round.html")]
struct RoundTemplate {
    shell: Shell,
    batch: Option<i64>,
    scope: String,
    back_href: String,
    back_label: String,
    rows: Vec<RoundRow>,
    action: String,
    date: String,
    today: String,
    date_error: String,
    common_receiver: String,
    errors: Vec<String>,
}

/// The deliveries of a batch (or of every letter) still to be handed over, to record a
/// courier's round at once.
async fn round_page(State(state): State<AppState>, user: SessionUser, Query(query): Query<RoundQuery>) -> Result<Response, PageError> {
    round(&state, &user, query.kumpulan, None, FieldErrors::default(), StatusCode::OK).await
}

async fn round(
    state: &AppState,
    user: &SessionUser,
    batch: Option<i64>,
    typed: Option<&FormData>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let open = cases::deliveries::open_carried(&state.db, &user.user, batch).await?;
    let today = user.department.tz().today().format("%Y-%m-%d").to_string();
    let chosen: Vec<String> = typed.map(|f| f.all("pengiriman")).unwrap_or_default();
    let rows = open
        .into_iter()
        .map(|(d, number)| RoundRow {
            checked: chosen.contains(&d.id.to_string()),
            receiver: typed.map(|f| f.get(&format!("penerima_{}", d.id))).unwrap_or_default(),
            error: errors.get(&format!("penerima_{}", d.id)).unwrap_or_default().to_string(),
            channel: deliveries::channel_label(&d.channel),
            status: deliveries::status_label(&d.status),
            id: d.id,
            name: d.name,
            number,
        })
        .collect();
    let (back_href, back_label) = match batch {
        Some(b) => (format!("/distribusi?kumpulan={b}"), "Distribusi kumpulan ini".to_string()),
        None => ("/distribusi".to_string(), "Distribusi".to_string()),
    };
    let page = RoundTemplate {
        shell: Shell::for_user(user, "Catat pengiriman sekaligus", "/distribusi"),
        batch,
        scope: if batch.is_some() {
            "dalam kumpulan ini".into()
        } else {
            String::new()
        },
        back_href,
        back_label,
        rows,
        action: typed.map(|f| f.get("tindakan")).unwrap_or_default(),
        date: typed
            .map(|f| f.get("tanggal"))
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| today.clone()),
        today,
        date_error: errors.get("tanggal").unwrap_or_default().to_string(),
        common_receiver: typed.map(|f| f.get("penerima_semua")).unwrap_or_default(),
        errors: errors.0.iter().map(|e| e.message.clone()).collect(),
    };
    Ok(render(status, &page))
}

async fn round_submit(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    let batch = form.id("kumpulan").ok().flatten();
    let outcome = match typed_round(&form, user.department.tz()) {
        Ok(changes) => cases::deliveries::record_many(&state.db, &user.user, &changes)
            .await
            .map_err(Failure::from),
        Err(errors) => Err(Failure::Invalid(errors)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&match batch {
            Some(b) => format!("/distribusi?kumpulan={b}&ok=pengiriman-sekaligus"),
            None => "/distribusi?ok=pengiriman-sekaligus".to_string(),
        })
        .into_response()),
        Err(failure) => {
            let (errors, status) = form_failure(failure)?;
            round(&state, &user, batch, Some(&form), errors, status).await
        }
    }
}

/// The round as typed: the deliveries ticked, each with its receiver (or receipt number),
/// the shared one for rows left empty; a past day is recorded at its noon, the
/// department's time, today as now.
fn typed_round(form: &FormData, tz: crate::departments::TimeZone) -> Result<Vec<(i64, Change)>, FieldErrors> {
    let today = tz.today();
    let at = match chrono::NaiveDate::parse_from_str(form.get("tanggal").trim(), "%Y-%m-%d") {
        Ok(day) if day > today => return Err(FieldErrors::single("tanggal", "Tanggal diterima tidak boleh sesudah hari ini.")),
        Ok(day) if day == today => None,
        Ok(day) => day
            .and_hms_opt(12, 0, 0)
            .map(|noon| noon.and_utc().timestamp() - i64::from(tz.offset().local_minus_utc())),
        Err(_) => {
            return Err(FieldErrors::single(
                "tanggal",
                "Tanggal diterima harus tanggal, misalnya 3 Desember 2026.",
            ));
        }
    };
    let courier = form.get("tindakan") == "terkirim";
    let common = form.get("penerima_semua");
    Ok(form
        .all("pengiriman")
        .iter()
        .filter_map(|id| id.parse::<i64>().ok())
        .map(|id| {
            let typed = form.get(&format!("penerima_{id}"));
            let typed = if typed.trim().is_empty() { common.clone() } else { typed };
            let change = if courier {
                Change::Sent { note: typed }
            } else {
                Change::Delivered { receiver: typed, at }
            };
            (id, change)
        })
        .collect())
}
