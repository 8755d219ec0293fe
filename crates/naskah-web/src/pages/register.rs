//! The outgoing-letter register (agenda surat keluar): every number issued, with filters,
//! CSV and XLSX exports, and cancelling a number with its reason (never a signed letter's:
//! that letter is revoked on its own page); and the numbering settings.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use super::{Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, export, form_failure, paging::Paging, render_page};
use crate::{
    AppState,
    accounts::Role,
    auth::{PageForm, SessionUser},
    cases,
    departments::TimeZone,
    error::{Failure, PageError},
    numbering::{self, Entry, status},
    validation::FieldErrors,
};
use futures_util::future::BoxFuture;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agenda", get(register_page))
        .route("/agenda.csv", get(register_csv))
        .route("/agenda.xlsx", get(register_xlsx))
        .route("/agenda/{id}/batal", get(cancel_page).post(cancel_submit))
        .route("/pengaturan/penomoran", get(settings_page).post(settings_save))
}

#[derive(Deserialize, Default)]
struct Filter {
    #[serde(default)]
    tahun: String,
    #[serde(default)]
    jenis: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    cari: String,
    /// The page, from 1 (the first when missing or not a number).
    #[serde(default)]
    halaman: String,
    #[serde(default)]
    ok: String,
}

/// Lines of the register per page.
const PAGE_SIZE: i64 = 100;

impl Filter {
    fn year(&self, user: &SessionUser) -> Option<i32> {
        use chrono::Datelike;
        match self.tahun.trim() {
            "" => Some(user.department.tz().today().year()),
            "semua" => None,
            text => text.parse().ok(),
        }
    }

    fn paging(&self) -> Paging {
        Paging::parse(&self.halaman, PAGE_SIZE)
    }

    fn query(&self, user: &SessionUser) -> numbering::RegisterQuery {
        numbering::RegisterQuery {
            year: self.year(user),
            series: self.jenis.trim().to_string(),
            status: self.status.trim().to_string(),
            text: self.cari.clone(),
        }
    }
}

fn series_label(series: &str) -> &'static str {
    if series == "keputusan" { "Keputusan" } else { "Surat" }
}

/// A day of the department's calendar as the register writes it: `2026-11-21`.
fn day(tz: TimeZone, at: Option<i64>) -> String {
    at.map(|t| tz.date_of(t).format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// The status column of the page: the state with its reason, date or new number.
fn status_text(e: &Entry, tz: TimeZone) -> String {
    match e.status.as_str() {
        status::BATAL => format!("batal: {}", e.cancelled_reason),
        status::DICABUT => format!("dicabut {}: {}", day(tz, e.revoked_at), e.revoked_reason),
        status::DIGANTI => format!("diganti dengan {} ({})", e.superseded_by_number, day(tz, e.superseded_at)),
        other => other.to_string(),
    }
}

async fn register_page(State(state): State<AppState>, user: SessionUser, Query(filter): Query<Filter>) -> Result<Response, PageError> {
    let (list, total) = numbering::register_page(
        &state.db,
        user.department.id,
        &filter.query(&user),
        PAGE_SIZE,
        filter.paging().offset(),
    )
    .await?;
    let mut shell = Shell::for_user(&user, "Agenda surat keluar", "/agenda");
    shell.notice = Notice { ok: filter.ok.clone() }.text().into();
    Ok(render_page(StatusCode::OK, shell, register_content(&user, &filter, &list, total)))
}

/// The register's page: one page of `total` matching lines, with links to the pages
/// beside it that keep the filter.
fn register_content(user: &SessionUser, filter: &Filter, list: &[Entry], total: i64) -> Page {
    let may_cancel = cases::register::may_cancel(&user.user);
    let tz = user.department.tz();
    let rows = list
        .iter()
        .map(|e| Row {
            cells: vec![
                e.number.clone(),
                crate::text::date_long_iso(&e.letter_date),
                series_label(&e.series).into(),
                e.subject.clone(),
                e.signer.clone(),
                status_text(e, tz),
            ],
            edit_href: if may_cancel && e.cancellable() {
                format!("/agenda/{}/batal", e.id)
            } else {
                e.letter_id.map(|id| format!("/surat/{id}")).unwrap_or_default()
            },
            edit_label: if may_cancel && e.cancellable() {
                "Batalkan nomor".into()
            } else {
                "Buka surat".into()
            },
            ..Row::default()
        })
        .collect();
    let query = serde_urlencoded::to_string([
        ("tahun", filter.tahun.as_str()),
        ("jenis", filter.jenis.as_str()),
        ("status", filter.status.as_str()),
        ("cari", filter.cari.as_str()),
    ])
    .unwrap_or_default();
    let paging = filter.paging();
    let mut links = paging.links(total, |n| format!("/agenda?{query}&halaman={n}"));
    let shown = paging.shown(list.len(), total);
    links.push((format!("/agenda.csv?{query}"), "Unduh sebagai CSV".into()));
    links.push((format!("/agenda.xlsx?{query}"), "Unduh sebagai XLSX (Excel)".into()));
    let mut form = Form::new(
        "Saring",
        "/agenda",
        user.csrf(),
        "Tampilkan",
        vec![
            Field::text("tahun", "Tahun", &filter.tahun).help("Kosong: tahun ini; \"semua\": semua tahun."),
            Field::select(
                "jenis",
                "Jenis",
                choices(&[("surat", "Surat"), ("keputusan", "Keputusan")], &filter.jenis, Some("Semua")),
            ),
            Field::select(
                "status",
                "Status",
                choices(
                    &[
                        (status::TERBIT, "Terbit"),
                        (status::DICABUT, "Dicabut"),
                        (status::DIGANTI, "Diganti"),
                        (status::BATAL, "Batal"),
                    ],
                    &filter.status,
                    Some("Semua"),
                ),
            ),
            Field::text("cari", "Cari nomor atau hal", &filter.cari),
        ],
    );
    form.method_get = true;
    Page {
        heading: "Agenda surat keluar".into(),
        intro: format!(
            "{} nomor. Setiap nomor yang pernah diberikan tercatat: terbit bersama suratnya, dicabut atau diganti seperti di halaman verifikasi, \
             atau batal dengan alasannya. Surat yang sudah ditandatangani dinyatakan tidak berlaku dengan \"Cabut surat\" di halaman suratnya.",
            crate::text::thousands(total)
        ),
        links,
        table: Some(Table {
            title: format!("Nomor {shown}"),
            columns: ["Nomor", "Tanggal", "Jenis", "Hal", "Penandatangan", "Status"]
                .map(String::from)
                .to_vec(),
            rows,
        }),
        forms: vec![form],
        ..Page::default()
    }
}

/// The register's columns, header and one line per entry, as the exports write them.
const EXPORT_HEADER: [&str; 14] = [
    "urut",
    "nomor",
    "tanggal",
    "jenis",
    "kode_klasifikasi",
    "hal",
    "penandatangan",
    "status",
    "alasan_batal",
    "dibatalkan_oleh",
    "alasan_cabut",
    "tanggal_cabut",
    "diganti_dengan",
    "tanggal_diganti",
];

fn export_cells(e: &Entry, tz: TimeZone) -> export::Cells {
    vec![
        e.serial.to_string(),
        e.number.clone(),
        e.letter_date.clone(),
        e.series.clone(),
        e.classification_code.clone(),
        e.subject.clone(),
        e.signer.clone(),
        e.status.clone(),
        e.cancelled_reason.clone(),
        e.cancelled_by.clone(),
        e.revoked_reason.clone(),
        day(tz, e.revoked_at),
        e.superseded_by_number.clone(),
        day(tz, e.superseded_at),
    ]
}

async fn register_xlsx(State(state): State<AppState>, user: SessionUser, Query(filter): Query<Filter>) -> Result<Response, PageError> {
    let (first, next) = register_batches(&state, &user, &filter).await?;
    let tz = user.department.tz();
    let sheet = export::Sheet {
        name: "Agenda surat keluar",
        header: &EXPORT_HEADER,
        widths: &[8.0, 28.0, 12.0, 10.0, 12.0, 60.0, 30.0, 10.0, 30.0, 20.0, 30.0, 12.0, 28.0, 12.0],
    };
    export::xlsx("agenda-surat-keluar.xlsx", sheet, first, next, move |e: &Entry| export_cells(e, tz)).await
}

async fn register_csv(State(state): State<AppState>, user: SessionUser, Query(filter): Query<Filter>) -> Result<Response, PageError> {
    let (first, next) = register_batches(&state, &user, &filter).await?;
    let tz = user.department.tz();
    Ok(export::csv(
        "agenda-surat-keluar.csv",
        &EXPORT_HEADER,
        first,
        next,
        move |e: &Entry| export_cells(e, tz),
    ))
}

/// The first batch of the lines the filter keeps (read before the answer starts, so a
/// failure is still a proper page) and how to read each next one.
async fn register_batches(
    state: &AppState,
    user: &SessionUser,
    filter: &Filter,
) -> Result<
    (
        Vec<Entry>,
        impl Fn(Entry) -> BoxFuture<'static, Result<Vec<Entry>, String>> + Send + Sync + 'static,
    ),
    PageError,
> {
    let (db, department_id, query) = (state.db.clone(), user.department.id, filter.query(user));
    let first = numbering::register_after(&db, department_id, &query, None, export::BATCH).await?;
    let next = move |last: Entry| {
        let (db, query) = (db.clone(), query.clone());
        Box::pin(async move {
            numbering::register_after(&db, department_id, &query, Some(&last), export::BATCH)
                .await
                .map_err(|e| e.to_string())
        }) as BoxFuture<'static, _>
    };
    Ok((first, next))
}

async fn entry(state: &AppState, user: &SessionUser, id: i64) -> Result<Entry, PageError> {
    numbering::entry(&state.db, user.department.id, id)
        .await?
        .ok_or(PageError(Failure::NotFound))
}

fn require_registrar(user: &SessionUser) -> Result<(), PageError> {
    if cases::register::may_cancel(&user.user) {
        Ok(())
    } else {
        Err(PageError(Failure::Forbidden))
    }
}

async fn cancel_page(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_registrar(&user)?;
    cancel_form(&state, &user, id, "", FieldErrors::default(), StatusCode::OK).await
}

async fn cancel_form(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    reason: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let e = entry(state, user, id).await?;
    if !e.cancellable() {
        // The number of a signed letter is withdrawn by revoking the letter, on its page.
        let (intro, links) = match e.letter_id {
            Some(letter_id) => (
                numbering::SIGNED_NUMBER_MESSAGE.to_string(),
                vec![(format!("/surat/{letter_id}"), "Buka surat ini untuk mencabutnya".to_string())],
            ),
            None => ("Nomor ini sudah dibatalkan.".to_string(), Vec::new()),
        };
        let page = Page {
            heading: format!("Nomor {} tidak dapat dibatalkan", e.number),
            intro,
            back_href: "/agenda".into(),
            links,
            ..Page::default()
        };
        let status = if status == StatusCode::OK { StatusCode::CONFLICT } else { status };
        return Ok(render_page(status, Shell::for_user(user, "Batalkan nomor", "/agenda"), page));
    }
    let page = Page {
        heading: format!("Batalkan nomor {}", e.number),
        intro: format!(
            "Hal: {}. Nomor yang dibatalkan tetap tercatat di agenda sebagai batal, dengan alasan dan nama Anda; nomor itu tidak akan diberikan lagi.",
            e.subject
        ),
        back_href: "/agenda".into(),
        forms: vec![
            Form::new(
                "Alasan",
                &format!("/agenda/{id}/batal"),
                user.csrf(),
                "Batalkan nomor",
                vec![
                    Field {
                        kind: "textarea",
                        ..Field::text("reason", "Alasan pembatalan", reason)
                    }
                    .required(),
                ],
            )
            .with_errors(&errors),
        ],
        ..Page::default()
    };
    Ok(render_page(status, Shell::for_user(user, "Batalkan nomor", "/agenda"), page))
}

async fn cancel_submit(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let reason = form.get("reason");
    match cases::register::cancel(&state.db, &user.user, id, &reason).await {
        Ok(()) => Ok(Redirect::to("/agenda?ok=tersimpan").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            cancel_form(&state, &user, id, &reason, errors, status).await
        }
    }
}

async fn settings_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let current = numbering::settings(&state.db, user.department.id).await?;
    settings_form(&state, &user, &current, FieldErrors::default(), StatusCode::OK, notice.text()).await
}

async fn settings_form(
    state: &AppState,
    user: &SessionUser,
    current: &numbering::Settings,
    errors: FieldErrors,
    status: StatusCode,
    notice: &str,
) -> Result<Response, PageError> {
    let codes = numbering::codes(&state.db, user.department.id).await?;
    let mut shell = Shell::for_user(user, "Penomoran", "/pengaturan");
    shell.notice = notice.into();
    let example = numbering::format_number(
        &current.number_format,
        &numbering::Parts {
            classification_code: codes.first().map(|c| c.code.as_str()).unwrap_or("500.15.16"),
            serial: 123,
            unit: &current.number_unit,
            year: 2026,
            month: 11,
        },
    )
    .unwrap_or_default();
    let page = Page {
        heading: "Penomoran".into(),
        intro: format!(
            "Nomor diberikan saat penandatanganan, berurutan per jenis naskah (surat dan keputusan terpisah) dan per tahun. Contoh dengan format sekarang: {example}. \
             Kode klasifikasi: {}.",
            codes
                .iter()
                .map(|c| format!("{} {}", c.code, c.name))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        tabs: super::settings_tabs("/pengaturan/penomoran"),
        forms: vec![
            Form::new(
                "Format nomor",
                "/pengaturan/penomoran",
                user.csrf(),
                "Simpan",
                vec![
                    Field::text("number_format", "Format nomor surat", &current.number_format)
                        .required()
                        .help("Bagian: {kode_klasifikasi}, {urut:04} (nomor urut, 4 angka), {unit}, {tahun}, {bulan}, {bulan_romawi}."),
                    Field::text("number_format_keputusan", "Format nomor keputusan", &current.number_format_keputusan)
                        .required()
                        .help("Keputusan bernomor urut sendiri; formatnya harus berbeda dari format surat, contoh {kode_klasifikasi}/{urut:04}/Kep/{unit}/{tahun}."),
                    Field::text("number_unit", "Kode unit ({unit})", &current.number_unit).help("Contoh: Disnaker"),
                    Field::checkboxes(
                        "number_per_unit",
                        "Nomor urut per unit",
                        vec![super::Choice::new(
                            "ya",
                            "Setiap unit kerja konseptor memiliki nomor urut sendiri dan kodenya dipakai sebagai {unit}",
                            current.number_per_unit != 0,
                        )],
                    ),
                ],
            )
            .with_errors(&errors),
        ],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn settings_save(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let typed = numbering::Settings {
        number_format: form.get("number_format"),
        number_format_keputusan: form.get("number_format_keputusan"),
        number_unit: form.get("number_unit"),
        number_per_unit: i64::from(form.get("number_per_unit") == "ya"),
    };
    match numbering::set_settings(&state.db, &user.user.actor(), user.department.id, &typed).await {
        Ok(()) => Ok(Redirect::to("/pengaturan/penomoran?ok=tersimpan").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            settings_form(&state, &user, &typed, errors, status, "").await
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::text::spreadsheet_safe;

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("+62"), "'+62");
        assert_eq!(spreadsheet_safe("-1"), "'-1");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("500.15.16/0001/Disnaker/2026"), "500.15.16/0001/Disnaker/2026");
        assert_eq!(spreadsheet_safe(""), "");
    }
}
