//! Calon penerima: importing the registers' exports (check, map columns, import or
//! cancel, with the report per line and a progress bar), and the candidates with their
//! sources and history. NIKs are masked; a full NIK is shown on request, logged.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use askama::Template;
use axum::{
    Router,
    extract::{Multipart, Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, render, render_page};
use crate::{
    accounts::Role,
    audit::Actor,
    beneficiaries::{
        self, Error,
        candidates::{self, Filter, Status},
        import::{self, FIELDS, Import, Mapping, SOURCES, Upload},
        nik,
    },
    regions, text,
    validation::FieldErrors,
    web::{
        AppState,
        auth::{CsrfForm, SessionUser},
        error::{Failure, PageError},
    },
};

/// Largest file accepted: a regency's full export with room to spare.
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;
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
            post(bpjs_answer).layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD)),
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
    if beneficiaries::may_manage(&user.user) || user.user.has(Role::Signer) {
        Ok(())
    } else {
        Err(PageError(Failure::Denied(
            "Data calon penerima hanya untuk pengolah data dan penandatangan.".into(),
        )))
    }
}

/// Progress of the imports running in this process.
#[derive(Default)]
pub struct ImportJobs(Mutex<HashMap<i64, ImportJob>>);

#[derive(Clone, Default)]
pub struct ImportJob {
    pub done: usize,
    pub total: usize,
    pub finished: bool,
    pub error: String,
}

impl ImportJobs {
    fn set(&self, id: i64, change: impl FnOnce(&mut ImportJob)) {
        let mut jobs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        change(jobs.entry(id).or_default());
    }
    fn get(&self, id: i64) -> Option<ImportJob> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()
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
    let counts = candidates::counts(&state.db, department_id).await?;
    let rules = import::rules(&state.db, &user.department).await?;
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
            Field::select("wilayah", "Wilayah", region_choices(&state, &user, &query.wilayah).await?),
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
    let page = Page {
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
    };
    Ok(render_page(
        StatusCode::OK,
        Shell::for_user(&user, "Calon penerima", "/calon"),
        page,
    ))
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
    CsrfForm(form): CsrfForm<FormData>,
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

async fn imports_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    require_manager(&user)?;
    imports_with(&state, &user, notice.text(), FieldErrors::default(), StatusCode::OK).await
}

async fn imports_with(
    state: &AppState,
    user: &SessionUser,
    notice: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tz = user.department.tz();
    let rows = import::list(&state.db, user.department.id, 100)
        .await?
        .into_iter()
        .map(|i| Row {
            cells: vec![
                tz.format_time(i.checked_at),
                i.file_name.clone(),
                import::source_label(&i.source).to_string(),
                format!(
                    "{} baris, {} sah, {} ditolak",
                    text::thousands(i.rows_total),
                    text::thousands(i.rows_valid),
                    text::thousands(i.rows_refused)
                ),
                i.status_label().to_string(),
            ],
            edit_href: format!("/calon/impor/{}", i.id),
            edit_label: "Buka".into(),
            ..Row::default()
        })
        .collect();
    let mut mapping_choices = vec![Choice::new("", "Otomatis (P3KE, DTKS, atau pemetaan tersimpan)", true)];
    mapping_choices.push(Choice::new("baru", "Saya petakan sendiri setelah mengunggah", false));
    let mut form = Form::new(
        "Unggah berkas",
        "/calon/impor",
        user.csrf(),
        "Periksa berkas",
        vec![
            Field::file(
                "berkas",
                "Berkas ekspor (CSV atau XLSX)",
                ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .required()
            .help(
                "Ekspor P3KE, DTKS atau DTSEN apa adanya: pemisah koma, titik koma atau tab; UTF-8 atau ANSI; XLSX lembar pertama. \
                       Berkas diperiksa dulu; tidak ada data yang berubah sebelum Anda menekan Impor.",
            ),
            Field::select("sumber", "Sumber data", source_choices("", Some("Menurut susunan kolom berkas"))),
            Field::select("pemetaan", "Pemetaan kolom", mapping_choices),
        ],
    )
    .with_errors(&errors);
    form.multipart = true;
    let mut shell = Shell::for_user(user, "Impor calon penerima", "/calon");
    shell.notice = notice.into();
    let page = Page {
        heading: "Impor data calon penerima".into(),
        intro: "Setiap baris diperiksa: NIK (16 angka, kode kecamatan, tanggal lahir termasuk +40 untuk perempuan, nomor urut), \
                kesesuaian jenis kelamin dan tanggal lahir dengan NIK, umur, nama, dan desa/kelurahan. Baris yang sama NIK-nya dengan \
                data dari sumber lain digabung; sumbernya tetap tercatat."
            .into(),
        back_href: "/calon".into(),
        forms: vec![form],
        table: Some(Table {
            title: "Riwayat impor".into(),
            columns: ["Diperiksa", "Berkas", "Sumber", "Isi", "Keadaan"].map(String::from).to_vec(),
            rows,
        }),
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn upload(State(state): State<AppState>, user: SessionUser, multipart: Multipart) -> Result<Response, PageError> {
    require_manager(&user)?;
    let (form, file_name, bytes) = super::read_upload(&user, multipart, "berkas").await?;
    if bytes.is_empty() {
        return imports_with(
            &state,
            &user,
            "",
            FieldErrors::single("berkas", "Pilih berkas CSV atau XLSX."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let source = form.get("sumber");
    let source = if SOURCES.iter().any(|(k, _)| *k == source) {
        source
    } else {
        String::new()
    };
    let manual = form.get("pemetaan") == "baru";
    let outcome = import::check(
        &state.db,
        &actor(&user),
        &user.department,
        Upload {
            file_name: &file_name,
            bytes: &bytes,
            source: &source,
            // An empty mapping leaves the file unmapped, for the mapping form.
            mapping: manual.then(|| ("Pemetaan sendiri".to_string(), Mapping::new())),
        },
    )
    .await;
    match outcome {
        Ok(import) => Ok(Redirect::to(&format!("/calon/impor/{}", import.id)).into_response()),
        Err(Error::Unreadable(message)) => {
            imports_with(
                &state,
                &user,
                "",
                FieldErrors::single("berkas", format!("Berkas tidak dapat dibaca: {message}.")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "candidate_import.html")]
struct ImportTemplate {
    shell: Shell,
    import: Import,
    source_label: String,
    size: String,
    checked: String,
    finished: String,
    mapping_rows: Vec<(String, String)>,
    job: Option<ImportJob>,
    percent: usize,
    problems: Vec<import::Problem>,
    refused_shown: usize,
    notes: usize,
    more: usize,
    mapping_form: Option<Form>,
}

async fn import_page(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_manager(&user)?;
    import_view(&state, &user, id, None, StatusCode::OK).await
}

async fn import_view(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    mapping_attempt: Option<(Mapping, String, FieldErrors)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let import = import::get(&state.db, user.department.id, id).await?;
    let tz = user.department.tz();
    let report = import::report(&state.db, id).await?;
    let notes = report.iter().filter(|p| !p.refused).count();
    let refused_shown = report.iter().filter(|p| p.refused).count();
    let more = report.len().saturating_sub(PROBLEMS_SHOWN);
    // Problems first: they are what the user must act on.
    let mut problems = report;
    problems.sort_by_key(|p| (!p.refused, p.line));
    problems.truncate(PROBLEMS_SHOWN);
    let mapping = import.mapping();
    let mapping_rows = FIELDS
        .iter()
        .map(|f| (f.label.to_string(), mapping.get(f.key).cloned().unwrap_or_default()))
        .collect();
    let job = state.import_jobs.get(id).filter(|j| !j.finished || !j.error.is_empty());
    let percent = job.as_ref().map_or(0, |j| (j.done * 100).checked_div(j.total).unwrap_or(0));
    let editable = matches!(import.status.as_str(), "checked" | "unmapped") && job.as_ref().is_none_or(|j| j.finished);
    let mapping_form = if editable {
        let headers = import::headers(&state.db, user.department.id, id).await?;
        let (wanted, source, errors) = mapping_attempt.unwrap_or_else(|| (mapping.clone(), import.source.clone(), FieldErrors::default()));
        let header_pairs: Vec<(&str, &str)> = headers.iter().map(|h| (h.as_str(), h.as_str())).collect();
        let mut fields: Vec<Field> = FIELDS
            .iter()
            .map(|f| {
                let chosen = wanted.get(f.key).map(String::as_str).unwrap_or_default();
                let field = Field::select(
                    &format!("kolom_{}", f.key),
                    f.label,
                    choices(&header_pairs, chosen, Some("— tidak ada —")),
                );
                if f.required { field.required() } else { field }
            })
            .collect();
        fields.push(Field::select("sumber", "Sumber data", source_choices(&source, None)));
        fields.push(
            Field::text("simpan_sebagai", "Simpan pemetaan ini sebagai (boleh kosong)", "")
                .help("Berkas berikutnya dengan kolom yang sama dikenali sendiri."),
        );
        Some(
            Form::new(
                if import.status == "unmapped" {
                    "Petakan kolom berkas"
                } else {
                    "Ubah pemetaan kolom"
                },
                &format!("/calon/impor/{id}/pemetaan"),
                user.csrf(),
                "Periksa dengan pemetaan ini",
                fields,
            )
            .with_errors(&errors),
        )
    } else {
        None
    };
    let template = ImportTemplate {
        shell: Shell::for_user(user, &format!("Impor {}", import.file_name), "/calon"),
        source_label: import::source_label(&import.source).to_string(),
        size: format!("{} KB", text::thousands((import.file_size + 1023) / 1024)),
        checked: format!(
            "{} oleh {}",
            tz.format_time(import.checked_at),
            import.checked_by.rsplit(':').next().unwrap_or_default()
        ),
        finished: import
            .finished_at
            .map(|at| {
                format!(
                    "{} oleh {}",
                    tz.format_time(at),
                    import.finished_by.rsplit(':').next().unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        mapping_rows,
        job,
        percent,
        problems,
        refused_shown,
        notes,
        more,
        mapping_form,
        import,
    };
    Ok(render(status, &template))
}

async fn remap(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    let mapping: Mapping = FIELDS
        .iter()
        .filter_map(|f| {
            let header = form.get(&format!("kolom_{}", f.key));
            (!header.is_empty()).then(|| (f.key.to_string(), header))
        })
        .collect();
    let source = form.get("sumber");
    let save_as = form.get("simpan_sebagai");
    let save_as = save_as.trim();
    match import::remap(
        &state.db,
        &actor(&user),
        &user.department,
        id,
        &source,
        &mapping,
        (!save_as.is_empty()).then_some(save_as),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/calon/impor/{id}")).into_response()),
        Err(Error::Mapping(problems)) => {
            let mut errors = FieldErrors::default();
            for p in problems {
                errors.add("_", format!("{}{}.", p[..1].to_uppercase(), &p[1..]));
            }
            import_view(&state, &user, id, Some((mapping, source, errors)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(Error::Invalid(errors)) => {
            import_view(&state, &user, id, Some((mapping, source, errors)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn start_import(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    let import = import::get(&state.db, user.department.id, id).await?;
    if import.status != "checked" {
        return Err(PageError(Failure::Conflict(format!("Impor ini {}.", import.status_label()))));
    }
    if state.import_jobs.get(id).is_some_and(|j| !j.finished) {
        return Ok(Redirect::to(&format!("/calon/impor/{id}")).into_response());
    }
    let jobs: Arc<ImportJobs> = state.import_jobs.clone();
    jobs.set(id, |j| {
        *j = ImportJob {
            total: import.rows_valid.max(0) as usize,
            ..ImportJob::default()
        }
    });
    let (db, department, actor) = (state.db.clone(), user.department.clone(), actor(&user));
    tokio::spawn(async move {
        let progress = {
            let jobs = jobs.clone();
            move |done: usize, total: usize| {
                jobs.set(id, |j| {
                    j.done = done;
                    j.total = total;
                })
            }
        };
        let outcome = import::apply(&db, &actor, &department, id, &progress).await;
        jobs.set(id, |j| {
            j.finished = true;
            if let Err(e) = outcome {
                tracing::warn!(import = id, error = %e, "impor calon gagal");
                j.error = Failure::from(e).message();
            }
        });
    });
    Ok(Redirect::to(&format!("/calon/impor/{id}")).into_response())
}

async fn cancel(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    if state.import_jobs.get(id).is_some_and(|j| !j.finished) {
        return Err(PageError(Failure::Conflict("Impor sedang berjalan.".into())));
    }
    import::cancel(&state.db, &actor(&user), user.department.id, id).await?;
    Ok(Redirect::to("/calon/impor?ok=impor-batal").into_response())
}

/// The whole report, stamped with who downloaded it and when; cells defused.
async fn report_csv(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_manager(&user)?;
    let import = import::get(&state.db, user.department.id, id).await?;
    let report = import::report(&state.db, id).await?;
    let failed = |e: csv::Error| PageError(Failure::Internal(e.to_string()));
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    out.write_record([format!(
        "Laporan pemeriksaan {} ({}), diunduh oleh {} pada {}",
        import.file_name,
        import::source_label(&import.source),
        user.user.display_name,
        user.department.tz().format_time(crate::db::now())
    )
    .as_str()])
        .map_err(failed)?;
    out.write_record(["Baris", "Kolom", "Jenis", "Akibat", "Keterangan"])
        .map_err(failed)?;
    for p in &report {
        out.write_record([
            p.line.to_string(),
            text::spreadsheet_safe(&p.column_name),
            p.code.clone(),
            if p.refused { "ditolak".into() } else { "diperbaiki".into() },
            text::spreadsheet_safe(&p.message),
        ])
        .map_err(failed)?;
    }
    let bytes = out.into_inner().map_err(|e| PageError(Failure::Internal(e.to_string())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"laporan-impor-{id}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn bpjs_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    require_manager(&user)?;
    bpjs_with(&state, &user, notice.text(), FieldErrors::default(), StatusCode::OK).await
}

async fn bpjs_with(
    state: &AppState,
    user: &SessionUser,
    notice: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let counts = candidates::counts(&state.db, user.department.id).await?;
    let count = |s: Status| counts.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n);
    let settings = beneficiaries::Settings::load(&state.db, user.department.id).await?;
    let finals = count(Status::Final);
    let incoming_letters = crate::incoming::list(&state.db, user.department.id, 200).await?;
    let mut answer_form = Form::new(
        "Jawaban BPJS Ketenagakerjaan",
        "/calon/bpjs/jawaban",
        user.csrf(),
        "Catat jawaban",
        vec![
            Field::file("berkas", "Berkas jawaban (XLSX atau CSV)", ".xlsx,.csv,text/csv")
                .required()
                .help("Lembar yang diekspor di atas dengan STATUS_KEPESERTAAN terisi: TERDAFTAR atau TIDAK TERDAFTAR."),
            Field::select(
                "surat_masuk",
                "Surat pengantar dari BPJS (bila sudah dicatat di surat masuk)",
                super::id_choices(
                    incoming_letters
                        .iter()
                        .map(|i| (i.id, format!("{} — {} ({})", i.agenda_number(), i.subject, i.sender))),
                    None,
                    "— tidak ada —",
                ),
            ),
        ],
    )
    .with_errors(&errors);
    answer_form.multipart = true;
    let sk_form = Form::new(
        "Susun SK dari daftar final",
        "/calon/sk",
        user.csrf(),
        &format!("Buat konsep SK untuk {} penerima", text::thousands(finals)),
        vec![],
    );
    let mut forms = vec![answer_form];
    let current = beneficiaries::decree::current_sk(&state.db, user.department.id, crate::bench::SK).await?;
    if finals > 0 && user.user.has(Role::Drafter) {
        match &current {
            None => forms.push(sk_form),
            Some((_, number)) => forms.push(Form::new(
                &format!("Keputusan perubahan atas SK {number}"),
                "/calon/sk/perubahan",
                user.csrf(),
                "Buat konsep keputusan perubahan",
                vec![Field::text("catatan", "Catatan", "").help(
                    "Lampiran keputusan perubahan memuat daftar final saat ini; setelah ditandatangani, SK lama dinyatakan DIGANTI.",
                )],
            )),
        }
    }
    let mut shell = Shell::for_user(user, "Pengecekan BPJS", "/calon");
    shell.notice = notice.into();
    let page = Page {
        heading: "Pengecekan BPJS Ketenagakerjaan dan SK".into(),
        intro: format!(
            "{} calon dikonfirmasi desa menunggu pengecekan; {} sudah peserta (diganti); {} final. \
             Bantuan iuran {} per orang per bulan selama {} bulan. Ekspor daftar untuk BPJS, lalu catat jawabannya: yang sudah \
             menjadi peserta keluar dari daftar, yang belum menjadi penerima final untuk SK.",
            text::thousands(count(Status::Confirmed)),
            text::thousands(count(Status::Insured)),
            text::thousands(finals),
            text::rupiah(settings.monthly_rupiah),
            settings.months
        ),
        links: vec![("/calon/bpjs.xlsx".into(), "Unduh daftar untuk BPJS (XLSX, NIK lengkap)".into())],
        back_href: "/calon".into(),
        forms,
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn bpjs_export(State(state): State<AppState>, user: SessionUser) -> Result<Response, PageError> {
    require_manager(&user)?;
    let list = beneficiaries::bpjs::awaiting_check(&state.db, user.department.id).await?;
    let villages = import::Villages::load(
        &state.db,
        user.department.region_code.as_deref().unwrap_or_default(),
        &user.department.regency_name,
    )
    .await?;
    let stamp = format!(
        "Diekspor oleh {} pada {}.",
        user.user.display_name,
        user.department.tz().format_time(crate::db::now())
    );
    let bytes = beneficiaries::bpjs::export_xlsx(&list, &villages, &stamp)?;
    beneficiaries::bpjs::record_export(&state.db, &actor(&user), user.department.id, list.len()).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"cek-kepesertaan-bpjs.xlsx\"".to_string(),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn bpjs_answer(State(state): State<AppState>, user: SessionUser, multipart: Multipart) -> Result<Response, PageError> {
    require_manager(&user)?;
    let (form, file_name, bytes) = super::read_upload(&user, multipart, "berkas").await?;
    let incoming_id = form.id("surat_masuk").ok().flatten();
    if bytes.is_empty() {
        return bpjs_with(
            &state,
            &user,
            "",
            FieldErrors::single("berkas", "Pilih berkas jawaban BPJS."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let waiting = beneficiaries::bpjs::answerable(&state.db, user.department.id).await?;
    let outcome = match beneficiaries::bpjs::read_answer(&bytes, &waiting) {
        Ok(answers) => {
            beneficiaries::bpjs::apply_answer(&state.db, &actor(&user), &user.department, &file_name, &answers, incoming_id).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/calon/bpjs?ok=tersimpan").into_response()),
        Err(Error::Invalid(errors)) => bpjs_with(&state, &user, "", errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(Error::Unreadable(message)) => {
            bpjs_with(
                &state,
                &user,
                "",
                FieldErrors::single("berkas", format!("Berkas tidak dapat dibaca: {message}.")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// The SK drafted from the final list: the template's defaults, this year's budget, the
/// final list and the contribution settings; the drafter then edits it as any letter.
async fn draft_sk(State(state): State<AppState>, user: SessionUser, CsrfForm(_): CsrfForm<FormData>) -> Result<Response, PageError> {
    require_manager(&user)?;
    let manifest = state.catalogue.get(crate::bench::SK)?;
    let mut base = manifest.defaults();
    if let Some(object) = base.as_object_mut() {
        object.insert(
            "tahun_anggaran".into(),
            serde_json::json!(chrono::Datelike::year(&user.department.tz().today())),
        );
    }
    let (data, count) = beneficiaries::decree::sk_data(&state.db, &user.department, &base).await?;
    let letter = state
        .workflow()
        .create(
            &user.user,
            &manifest.id,
            &data,
            &format!("disusun dari daftar final ({count} penerima)"),
        )
        .await?;
    Ok(Redirect::to(&format!("/surat/{}?ok=dibuat", letter.id)).into_response())
}

/// An amending decree of the SK in force, with the current final list.
async fn draft_amendment(State(state): State<AppState>, user: SessionUser, CsrfForm(_): CsrfForm<FormData>) -> Result<Response, PageError> {
    require_manager(&user)?;
    let (sk_id, number) = beneficiaries::decree::current_sk(&state.db, user.department.id, crate::bench::SK)
        .await?
        .ok_or(PageError(Failure::Conflict("Belum ada SK yang berlaku untuk diubah.".into())))?;
    let signed = crate::workflow::revision(
        &state.db,
        sk_id,
        crate::workflow::get(&state.db, user.department.id, sk_id).await?.revision,
    )
    .await?
    .fields();
    let (data, _) = beneficiaries::decree::amendment_data(&state.db, &user.department, &signed, &number).await?;
    let letter = state.workflow().start_amendment(&user.user, sk_id, &data).await?;
    Ok(Redirect::to(&format!("/surat/{}?ok=dibuat", letter.id)).into_response())
}

fn settings_form(user: &SessionUser, values: [String; 4], errors: &FieldErrors) -> Form {
    let number = |name: &str, label: &str, value: &str, help: &str| {
        Field {
            kind: "number",
            ..Field::text(name, label, value)
        }
        .required()
        .help(help)
    };
    let [min, max, monthly, months] = values;
    Form::new(
        "Aturan bantuan iuran",
        "/pengaturan/bantuan",
        user.csrf(),
        "Simpan",
        vec![
            number(
                "umur_min",
                "Umur terendah (tahun)",
                &min,
                "Calon di bawah umur ini ditolak saat impor. Bawaan 18.",
            ),
            number("umur_max", "Umur tertinggi (tahun)", &max, "Bawaan 64."),
            number(
                "iuran",
                "Iuran per orang per bulan (rupiah)",
                &monthly,
                "JKK 1% dari penghasilan Rp1.000.000 (Rp10.000) + JKM Rp6.800 = Rp16.800 (PP 44/2015 jo. PP 49/2023).",
            ),
            number("bulan", "Jumlah bulan dibayar", &months, "Bawaan 12."),
        ],
    )
    .with_errors(errors)
}

async fn settings_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let s = beneficiaries::Settings::load(&state.db, user.department.id).await?;
    let values = [s.min_age, s.max_age, s.monthly_rupiah, s.months].map(|v| v.to_string());
    settings_view(&user, values, notice.text(), FieldErrors::default(), StatusCode::OK)
}

fn settings_view(
    user: &SessionUser,
    values: [String; 4],
    notice: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut shell = Shell::for_user(user, "Bantuan iuran", "/pengaturan");
    shell.notice = notice.into();
    let page = Page {
        heading: "Pengaturan dinas".into(),
        intro: "Aturan program bantuan iuran: batas umur calon dan besar bantuan yang tercantum di SK.".into(),
        tabs: super::settings::tabs("/pengaturan/bantuan"),
        forms: vec![settings_form(user, values, &errors)],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn save_settings(
    State(state): State<AppState>,
    user: SessionUser,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let values = ["umur_min", "umur_max", "iuran", "bulan"].map(|k| form.get(k).trim().to_string());
    let mut errors = FieldErrors::default();
    let mut numbers = [0i64; 4];
    for (i, (key, value)) in ["umur_min", "umur_max", "iuran", "bulan"].iter().zip(&values).enumerate() {
        match value.replace('.', "").parse::<i64>() {
            Ok(n) => numbers[i] = n,
            Err(_) => errors.add(key, "Isi dengan bilangan bulat."),
        }
    }
    if !errors.is_empty() {
        return settings_view(&user, values, "", errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let settings = beneficiaries::Settings {
        min_age: numbers[0],
        max_age: numbers[1],
        monthly_rupiah: numbers[2],
        months: numbers[3],
    };
    match settings.save(&state.db, &actor(&user), user.department.id).await {
        Ok(_) => Ok(Redirect::to("/pengaturan/bantuan?ok=tersimpan").into_response()),
        Err(Error::Invalid(errors)) => settings_view(&user, values, "", errors, StatusCode::UNPROCESSABLE_ENTITY),
        Err(other) => Err(other.into()),
    }
}
