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

use super::{Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, export, paging::Paging, render, render_page};
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
        .route("/calon.csv", get(list_csv))
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
    /// The page, from 1.
    #[serde(default)]
    halaman: String,
}

impl ListQuery {
    fn filter(&self) -> Filter {
        Filter {
            status: Status::parse(&self.status),
            region_prefix: self.wilayah.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect(),
            text: self.cari.trim().to_string(),
            ..Filter::default()
        }
    }

    fn paging(&self) -> Paging {
        Paging::parse(&self.halaman, PAGE_SIZE)
    }

    /// The list's address with its filter, for the links between pages and to the export.
    fn query_string(&self) -> String {
        serde_urlencoded::to_string([
            ("status", self.status.as_str()),
            ("wilayah", self.wilayah.as_str()),
            ("cari", self.cari.as_str()),
        ])
        .unwrap_or_default()
    }
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
    let listed = candidates::list_page(&state.db, department_id, &query.filter(), PAGE_SIZE, query.paging().offset()).await?;
    let found = Found {
        counts: listed.counts,
        rows: listed.rows,
        total: listed.total,
        capped: listed.capped,
        counted_to: listed.counted_to,
        rules: import::rules(&state.db, &user.department).await?,
        regions: region_choices(&state, &user, &query.wilayah).await?,
    };
    Ok(render_page(
        StatusCode::OK,
        Shell::for_user(&user, "Calon penerima", "/calon"),
        list_content(&user, &query, found),
    ))
}

/// The list as CSV, every candidate the filter keeps (NIK masked as on the page), read
/// and sent in batches; the export is recorded in the audit log.
async fn list_csv(State(state): State<AppState>, user: SessionUser, Query(query): Query<ListQuery>) -> Result<Response, PageError> {
    require_reader(&user)?;
    let (db, department_id, filter) = (state.db.clone(), user.department.id, query.filter());
    let total = candidates::count(&db, department_id, &filter).await?;
    candidates::record_export(&db, &actor(&user), department_id, "csv", total as usize).await?;
    let first = candidates::after(&db, department_id, &filter, None, export::BATCH).await?;
    let villages = import::rules(&db, &user.department).await?.villages;
    let next = move |last: candidates::Candidate| {
        let (db, filter) = (db.clone(), filter.clone());
        Box::pin(async move {
            candidates::after(&db, department_id, &filter, Some(&last), export::BATCH)
                .await
                .map_err(|e| e.to_string())
        }) as futures_util::future::BoxFuture<'static, _>
    };
    let cells = move |c: &candidates::Candidate| csv_cells(c, &villages);
    let mut response = export::csv("calon-penerima.csv", &CSV_HEADER, first, next, cells);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

const CSV_HEADER: [&str; 11] = [
    "nik_disamarkan",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "alamat",
    "kode_wilayah",
    "desa_kelurahan",
    "kecamatan",
    "pekerjaan",
    "status",
    "keterangan_status",
];

fn csv_cells(c: &candidates::Candidate, villages: &import::Villages) -> export::Cells {
    let (village, district) = villages
        .get(&c.region_code)
        .map_or((String::new(), String::new()), |v| (v.name.clone(), v.district.clone()));
    vec![
        c.masked_nik(),
        c.name.clone(),
        c.sex.clone(),
        c.birth_date.clone(),
        c.address.clone(),
        c.region_code.clone(),
        village,
        district,
        c.occupation.clone(),
        c.status().label().to_string(),
        c.status_reason.clone(),
    ]
}

/// One page of candidates with what the list page shows around it.
struct Found {
    rows: Vec<candidates::Candidate>,
    total: i64,
    /// More match than were counted.
    capped: bool,
    counted_to: i64,
    counts: Vec<(Status, i64)>,
    rules: import::Rules,
    regions: Vec<Choice>,
}

fn list_content(user: &SessionUser, query: &ListQuery, found: Found) -> Page {
    let Found {
        rows,
        total,
        capped,
        counted_to,
        counts,
        rules,
        regions,
    } = found;
    let paging = query.paging();
    let today = user.department.tz().today();
    let table_rows: Vec<Row> = rows
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
    let here = query.query_string();
    links.extend(paging.links(total, |n| format!("/calon?{here}&halaman={n}")));
    links.push((format!("/calon.csv?{here}"), "Unduh sebagai CSV (NIK disamarkan)".into()));
    Page {
        heading: "Calon penerima bantuan iuran".into(),
        intro: format!(
            "{} orang dari data P3KE, DTKS dan DTSEN, digabung menurut NIK. NIK disamarkan; buka data seseorang untuk \
             melihat sumber, riwayat, dan (bila perlu, tercatat) NIK lengkapnya.",
            text::thousands(all)
        ),
        links,
        table: Some(Table {
            title: if capped {
                format!(
                    "{} dari lebih dari {} yang cocok",
                    paging.range(table_rows.len()),
                    text::thousands(counted_to)
                )
            } else {
                format!("{} yang cocok", paging.shown(table_rows.len(), total))
            },
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
