//! Calon penerima: importing the registers' exports (check, map columns, import or
//! cancel, with the report per line and a progress bar), and the candidates with their
//! sources and history. NIKs are masked; a full NIK is shown on request, logged.

mod bpjs;
mod imports;
mod settings;

use askama::Template;
use axum::{
    Router,
    extract::{Multipart, Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use bpjs::*;
use imports::*;
use settings::*;

use super::{Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, render, render_page};
use crate::{
    AppState,
    accounts::Role,
    audit::Actor,
    auth::{PageForm, SessionUser},
    beneficiaries::{
        self, Error,
        candidates::{self, Filter, Status},
        import::{self, FIELDS, Import, Mapping, SOURCES, Upload},
        nik,
    },
    cases,
    error::{Failure, PageError},
    regions, text,
    validation::FieldErrors,
};

/// Largest candidate file accepted: a province's full export with room to spare.
pub const MAX_UPLOAD: usize = crate::uploads::CANDIDATE_FILE;
/// Candidates per list page, problems shown on the report page.
const PAGE_SIZE: i64 = 100;
const PROBLEMS_SHOWN: usize = 300;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calon", get(list_page))
        .route("/calon/{id}", get(candidate_page))
        .route("/calon/{id}/nik", post(reveal_nik))
        .route(
            "/calon/impor",
            get(imports_page)
                .post(upload)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/calon/impor/{id}", get(import_page))
        .route("/calon/impor/{id}/pemetaan", post(remap))
        .route("/calon/impor/{id}/impor", post(start_import))
        .route("/calon/impor/{id}/batal", post(cancel))
        .route("/calon/impor/{id}/laporan.csv", get(report_csv))
        .route("/calon/bpjs", get(bpjs_page))
        .route("/calon/bpjs.xlsx", get(bpjs_export))
        .route(
            "/calon/bpjs/jawaban",
            post(bpjs_answer).layer(axum::extract::DefaultBodyLimit::max(crate::uploads::BPJS_ANSWER)),
        )
        .route("/calon/sk", post(draft_sk))
        .route("/calon/sk/perubahan", post(draft_amendment))
        .route("/pengaturan/bantuan", get(settings_page).post(save_settings))
}

fn actor(user: &SessionUser) -> Actor {
    Actor::User {
        id: user.user.id,
        username: user.user.username.clone(),
    }
}

/// Those who work on the data import and see full NIKs on request.
fn require_manager(user: &SessionUser) -> Result<(), PageError> {
    if beneficiaries::may_manage(&user.user) {
        Ok(())
    } else {
        Err(PageError(Failure::Denied(
            "Hanya konseptor, staf pengetik dan pemaraf (Kepala Bidang) yang mengolah data calon penerima.".into(),
        )))
    }
}

/// Those who may read the (masked) list: the managers and the department head.
fn require_reader(user: &SessionUser) -> Result<(), PageError> {
    if beneficiaries::may_read(&user.user) {
        Ok(())
    } else {
        Err(PageError(Failure::Denied(
            "Data calon penerima hanya untuk pengolah data dan penandatangan.".into(),
        )))
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    wilayah: String,
    #[serde(default)]
    cari: String,
    #[serde(default)]
    hal: i64,
}

async fn region_choices(state: &AppState, user: &SessionUser, selected: &str) -> Result<Vec<Choice>, PageError> {
    let regency = user.department.region_code.clone().unwrap_or_default();
    let regions = regions::within_regency(&state.db, &regency)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let mut out = vec![Choice::new("", "Semua wilayah", selected.is_empty())];
    for district in regions.iter().filter(|r| r.level == 3) {
        out.push(Choice::new(
            &district.code,
            format!("Kecamatan {}", district.name),
            district.code == selected,
        ));
        for village in regions
            .iter()
            .filter(|r| r.level == 4 && r.parent_code.as_deref() == Some(district.code.as_str()))
        {
            out.push(Choice::new(
                &village.code,
                format!("— {} {}", if village.kind == "kelurahan" { "Kel." } else { "Desa" }, village.name),
                village.code == selected,
            ));
        }
    }
    Ok(out)
}

async fn list_page(State(state): State<AppState>, user: SessionUser, Query(query): Query<ListQuery>) -> Result<Response, PageError> {
    require_reader(&user)?;
    let department_id = user.department.id;
    let filter = Filter {
        status: Status::parse(&query.status),
        region_prefix: query.wilayah.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect(),
        text: query.cari.trim().to_string(),
        ..Filter::default()
    };
    let page_number = query.hal.max(0);
    let (rows, total) = candidates::list(&state.db, department_id, &filter, PAGE_SIZE, page_number * PAGE_SIZE).await?;
    let found = Found {
        counts: candidates::counts(&state.db, department_id).await?,
        rules: import::rules(&state.db, &user.department).await?,
        regions: region_choices(&state, &user, &query.wilayah).await?,
        rows,
        total,
    };
    Ok(render_page(
        StatusCode::OK,
        Shell::for_user(&user, "Calon penerima", "/calon"),
        list_content(&user, &query, found),
    ))
}

/// One page of candidates with what the list page shows around it.
struct Found {
    rows: Vec<candidates::Candidate>,
    total: i64,
    counts: Vec<(Status, i64)>,
    rules: import::Rules,
    regions: Vec<Choice>,
}

fn list_content(user: &SessionUser, query: &ListQuery, found: Found) -> Page {
    let Found {
        rows,
        total,
        counts,
        rules,
        regions,
    } = found;
    let page_number = query.hal.max(0);
    let today = user.department.tz().today();
    let table_rows = rows
        .iter()
        .map(|c| {
            let village = rules
                .villages
                .get(&c.region_code)
                .map_or(c.region_code.clone(), |v| format!("{}, {}", v.name, v.district));
            let age = chrono::NaiveDate::parse_from_str(&c.birth_date, "%Y-%m-%d")
                .map(|b| today.years_since(b).unwrap_or_default().to_string())
                .unwrap_or_default();
            Row {
                cells: vec![
                    c.masked_nik(),
                    c.name.clone(),
                    c.sex.clone(),
                    age,
                    village,
                    c.status().label().into(),
                ],
                edit_href: format!("/calon/{}", c.id),
                edit_label: "Buka".into(),
                ..Row::default()
            }
        })
        .collect();
    let status_pairs: Vec<(String, String)> = counts
        .iter()
        .map(|(s, n)| (s.key().to_string(), format!("{} ({})", s.label(), text::thousands(*n))))
        .collect();
    let status_refs: Vec<(&str, &str)> = status_pairs.iter().map(|(k, l)| (k.as_str(), l.as_str())).collect();
    let mut filter_form = Form::new(
        "Saring",
        "/calon",
        "",
        "Tampilkan",
        vec![
            Field::select("status", "Status", choices(&status_refs, &query.status, Some("Semua status"))),
            Field::select("wilayah", "Wilayah", regions),
            Field::text("cari", "Nama atau NIK lengkap", &query.cari),
        ],
    );
    filter_form.method_get = true;
    let all: i64 = counts.iter().map(|(_, n)| n).sum();
    let mut links = Vec::new();
    if beneficiaries::may_manage(&user.user) {
        links.push(("/calon/impor".to_string(), "Impor data P3KE/DTKS/DTSEN".to_string()));
        links.push(("/calon/bpjs".to_string(), "Pengecekan BPJS dan SK".to_string()));
    }
    let here = |hal: i64| {
        format!(
            "/calon?{}",
            serde_urlencoded::to_string([
                ("status", query.status.as_str()),
                ("wilayah", query.wilayah.as_str()),
                ("cari", query.cari.as_str()),
                ("hal", &hal.to_string()),
            ])
            .unwrap_or_default()
        )
    };
    if page_number > 0 {
        links.push((here(page_number - 1), "← Halaman sebelumnya".into()));
    }
    if (page_number + 1) * PAGE_SIZE < total {
        links.push((here(page_number + 1), "Halaman berikutnya →".into()));
    }
    let first = if total == 0 { 0 } else { page_number * PAGE_SIZE + 1 };
    let last = (page_number * PAGE_SIZE + rows.len() as i64).min(total);
    Page {
        heading: "Calon penerima bantuan iuran".into(),
        intro: format!(
            "{} orang dari data P3KE, DTKS dan DTSEN, digabung menurut NIK. NIK disamarkan; buka data seseorang untuk \
             melihat sumber, riwayat, dan (bila perlu, tercatat) NIK lengkapnya.",
            text::thousands(all)
        ),
        links,
        table: Some(Table {
            title: format!(
                "{} dari {} yang cocok",
                if total == 0 {
                    "0".to_string()
                } else {
                    format!("{}–{}", text::thousands(first), text::thousands(last))
                },
                text::thousands(total)
            ),
            columns: ["NIK", "Nama", "L/P", "Umur", "Desa/kelurahan", "Status"]
                .map(String::from)
                .to_vec(),
            rows: table_rows,
        }),
        forms: vec![filter_form],
        ..Page::default()
    }
}

#[derive(Template)]
#[template(path = "candidate.html")]
struct CandidateTemplate {
    shell: Shell,
    candidate: candidates::Candidate,
    nik_shown: String,
    nik_district: String,
    village: String,
    birth_date: String,
    status_label: String,
    sources: Vec<candidates::Source>,
    history: Vec<(String, String, String)>,
    may_reveal: bool,
}

async fn candidate_view(state: &AppState, user: &SessionUser, id: i64, full_nik: Option<String>) -> Result<Response, PageError> {
    let department_id = user.department.id;
    let candidate = candidates::get(&state.db, department_id, id).await?;
    let rules = import::rules(&state.db, &user.department).await?;
    let tz = user.department.tz();
    let village = rules
        .villages
        .get(&candidate.region_code)
        .map_or(candidate.region_code.clone(), |v| format!("{}, Kecamatan {}", v.name, v.district));
    let history = candidates::history(&state.db, id)
        .await?
        .iter()
        .map(|h| {
            (
                tz.format_time(h.at),
                h.describe(),
                h.actor.rsplit(':').next().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let template = CandidateTemplate {
        shell: Shell::for_user(user, &candidate.name, "/calon"),
        nik_shown: full_nik.unwrap_or_else(|| candidate.masked_nik()),
        nik_district: nik::district_name(&candidate.nik).unwrap_or_default().to_string(),
        village,
        birth_date: text::date_long_iso(&candidate.birth_date),
        status_label: candidate.status().label().into(),
        sources: candidates::sources(&state.db, id).await?,
        history,
        may_reveal: beneficiaries::may_manage(&user.user),
        candidate,
    };
    Ok(render(StatusCode::OK, &template))
}

async fn candidate_page(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_reader(&user)?;
    candidate_view(&state, &user, id, None).await
}

/// Why a full NIK is looked at; recorded with the view.
const PURPOSES: [&str; 4] = ["pemeriksaan data", "konfirmasi desa", "pengecekan BPJS", "penyusunan SK"];

async fn reveal_nik(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    let purpose = form.get("keperluan");
    if !PURPOSES.contains(&purpose.as_str()) {
        return Err(PageError(Failure::BadRequest("Pilih keperluan melihat NIK.".into())));
    }
    let full = candidates::reveal_nik(&state.db, &actor(&user), user.department.id, id, &purpose).await?;
    let mut response = candidate_view(&state, &user, id, Some(full)).await?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

fn source_choices(selected: &str, blank: Option<&str>) -> Vec<Choice> {
    choices(&SOURCES, selected, blank)
}
