//! Around the chain: one's own signing key, Plh./Plt. assignments, and the report of
//! actual step times against the SOP's standard times.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, duration_text, form_failure, id_choices, render_page,
};
use crate::{
    AppState,
    accounts::Role,
    auth::{PageForm, SessionUser},
    departments,
    error::{Failure, PageError},
    keys,
    letters::DocumentKind,
    validation::FieldErrors,
    workflow::{self, delegation, report},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/kunci", get(key_page))
        .route("/kunci/buat", post(key_generate))
        .route("/kunci/frasa-sandi", post(key_change_passphrase))
        .route("/kunci/rotasi", post(key_rotate))
        .route("/delegasi", get(delegations_page).post(delegation_create))
        .route("/delegasi/{id}/cabut", post(delegation_revoke))
        .route("/laporan/waktu", get(times_report))
        .route("/pengaturan/rantai/{kind}", get(chain_page).post(chain_save))
        .route("/pengaturan/rantai/{kind}/sop", post(chain_reset))
}

// ---------------------------------------------------------------- keys

async fn key_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    key_page_with(&state, &user, FieldErrors::default(), StatusCode::OK, notice.text()).await
}

async fn key_page_with(
    state: &AppState,
    user: &SessionUser,
    errors: FieldErrors,
    status: StatusCode,
    notice: &str,
) -> Result<Response, PageError> {
    let mut shell = Shell::for_user(user, "Kunci tanda tangan", "/kunci");
    shell.notice = notice.into();
    let Some(official_id) = user.user.official_id else {
        let page = Page {
            heading: "Kunci tanda tangan".into(),
            intro: "Akun Anda tidak terhubung dengan data pejabat, sehingga tidak memerlukan kunci. \
                    Minta administrator menghubungkan akun Anda bila Anda memaraf atau menandatangani."
                .into(),
            ..Page::default()
        };
        return Ok(render_page(status, shell, page));
    };
    let current = keys::active_key(&state.db, official_id).await?;
    let all: Vec<keys::KeyInfo> = keys::list(&state.db, user.department.id)
        .await?
        .into_iter()
        .filter(|k| k.official_id == official_id)
        .collect();
    let tz = user.department.tz();
    let rows = all
        .iter()
        .map(|k| Row {
            cells: vec![
                k.key_id.clone(),
                tz.format_time(k.created_at),
                match k.retired_at {
                    None => "aktif".into(),
                    Some(at) => format!("dipensiunkan {}", tz.format_time(at)),
                },
            ],
            ..Row::default()
        })
        .collect();
    let mut forms = Vec::new();
    match current {
        None => forms.push(
            Form::new(
                "Buat kunci",
                "/kunci/buat",
                user.csrf(),
                "Buat kunci",
                vec![
                    Field::password("frasa_sandi", "Frasa sandi baru", "new-password")
                        .required()
                        .help(&format!(
                            "Minimal {} karakter, berbeda dari kata sandi masuk. Frasa sandi diminta setiap kali Anda memaraf atau menandatangani; \
                             bila lupa, administrator membuatkan kunci baru.",
                            keys::MIN_PASSPHRASE_CHARS
                        )),
                    Field::password("ulang", "Ulangi frasa sandi", "new-password").required(),
                ],
            )
            .with_errors(&errors),
        ),
        Some(_) => forms.extend([
            Form::new(
                "Ganti frasa sandi",
                "/kunci/frasa-sandi",
                user.csrf(),
                "Ganti frasa sandi",
                vec![
                    Field::password("lama", "Frasa sandi sekarang", "current-password").required(),
                    Field::password("frasa_sandi", "Frasa sandi baru", "new-password").required(),
                    Field::password("ulang", "Ulangi frasa sandi baru", "new-password").required(),
                ],
            )
            .with_errors(&errors),
            Form::new(
                "Ganti kunci (rotasi)",
                "/kunci/rotasi",
                user.csrf(),
                "Buat kunci baru",
                vec![
                    Field::password("lama", "Frasa sandi sekarang", "current-password").required(),
                    Field::password("frasa_sandi", "Frasa sandi untuk kunci baru", "new-password").required(),
                    Field::password("ulang", "Ulangi frasa sandi", "new-password").required(),
                ],
            )
            .with_errors(&errors),
        ]),
    }
    let page = Page {
        heading: "Kunci tanda tangan".into(),
        intro: "Kunci Ed25519 Anda membubuhkan paraf dan tanda tangan elektronik. Kunci disimpan terenkripsi dengan frasa sandi Anda; \
                kunci lama tetap tercatat agar tanda tangan lama tetap dapat diperiksa."
            .into(),
        table: Some(Table {
            title: "Kunci Anda".into(),
            columns: ["Nomor kunci", "Dibuat", "Status"].map(String::from).to_vec(),
            rows,
        }),
        forms,
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

fn repeated(form: &FormData) -> Result<String, FieldErrors> {
    let passphrase = form.get("frasa_sandi");
    if passphrase != form.get("ulang") {
        return Err(FieldErrors::single("ulang", "Kedua frasa sandi tidak sama."));
    }
    Ok(passphrase)
}

/// A key error as the key forms show it: a wrong passphrase is the current one
/// ("lama"); a refused new passphrase is the "frasa_sandi" field.
fn key_failure(e: keys::Error) -> Failure {
    match e {
        keys::Error::WrongPassphrase => Failure::Invalid(FieldErrors::single("lama", "Frasa sandi sekarang salah.")),
        keys::Error::Invalid(mut errors) => {
            for error in &mut errors.0 {
                if matches!(error.field.as_str(), "passphrase" | "new_passphrase") {
                    error.field = "frasa_sandi".into();
                }
            }
            Failure::Invalid(errors)
        }
        other => Failure::from(other),
    }
}

async fn key_generate(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    let official_id = user.user.official_id.ok_or(Failure::Forbidden)?;
    let outcome = match repeated(&form) {
        Ok(passphrase) => keys::generate(
            &state.db,
            &state.keys,
            &user.user.actor(),
            user.department.id,
            official_id,
            &passphrase,
        )
        .await
        .map(|_| ())
        .map_err(key_failure),
        Err(e) => Err(Failure::Invalid(e)),
    };
    key_outcome(&state, &user, outcome).await
}

async fn key_change_passphrase(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let official_id = user.user.official_id.ok_or(Failure::Forbidden)?;
    let outcome = match repeated(&form) {
        Ok(passphrase) => keys::change_passphrase(
            &state.db,
            &state.keys,
            &user.user.actor(),
            official_id,
            &form.get("lama"),
            &passphrase,
        )
        .await
        .map(|_| ())
        .map_err(key_failure),
        Err(e) => Err(Failure::Invalid(e)),
    };
    key_outcome(&state, &user, outcome).await
}

/// A new key replaces the current one after the current passphrase is shown to be
/// known; a forgotten passphrase is handled by an administrator (`naskah keys rotate`).
async fn key_rotate(State(state): State<AppState>, user: SessionUser, PageForm(form): PageForm<FormData>) -> Result<Response, PageError> {
    let official_id = user.user.official_id.ok_or(Failure::Forbidden)?;
    let outcome = match repeated(&form) {
        Ok(passphrase) => match keys::unlock(&state.db, &state.keys, official_id, &form.get("lama")).await {
            Ok(_) => keys::rotate(
                &state.db,
                &state.keys,
                &user.user.actor(),
                user.department.id,
                official_id,
                &passphrase,
            )
            .await
            .map(|_| ())
            .map_err(key_failure),
            Err(e) => Err(key_failure(e)),
        },
        Err(e) => Err(Failure::Invalid(e)),
    };
    key_outcome(&state, &user, outcome).await
}

async fn key_outcome(state: &AppState, user: &SessionUser, outcome: Result<(), Failure>) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(Redirect::to("/kunci?ok=kunci").into_response()),
        Err(Failure::Throttled(m)) => key_page_with(state, user, FieldErrors::single("_", m), StatusCode::TOO_MANY_REQUESTS, "").await,
        Err(other) => {
            let (errors, status) = form_failure(other)?;
            key_page_with(state, user, errors, status, "").await
        }
    }
}

// ---------------------------------------------------------------- delegations

async fn delegations_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    delegations_with(
        &state,
        &user,
        &FormData::default(),
        FieldErrors::default(),
        StatusCode::OK,
        notice.text(),
    )
    .await
}

async fn delegations_with(
    state: &AppState,
    user: &SessionUser,
    typed: &FormData,
    errors: FieldErrors,
    status: StatusCode,
    notice: &str,
) -> Result<Response, PageError> {
    let id = user.department.id;
    let positions = departments::list_positions(&state.db, id).await?;
    let officials = departments::list_officials(&state.db, id).await?;
    let today = user.department.tz().today().format("%Y-%m-%d").to_string();
    let rows = delegation::list(&state.db, id)
        .await?
        .into_iter()
        .map(|d| {
            let position = positions
                .iter()
                .find(|p| p.id == d.position_id)
                .map(|p| p.title.clone())
                .unwrap_or_default();
            let official = officials
                .iter()
                .find(|o| o.id == d.official_id)
                .map(|o| o.full_name())
                .unwrap_or_default();
            let status = if d.revoked_at.is_some() {
                "dicabut"
            } else if d.ends_on.as_str() < today.as_str() {
                "berakhir"
            } else if d.starts_on.as_str() > today.as_str() {
                "akan berlaku"
            } else {
                "berlaku"
            };
            Row {
                cells: vec![
                    format!("{} {}", d.sebutan(), position),
                    official,
                    format!("{} s.d. {}", d.starts_on, d.ends_on),
                    d.basis.clone(),
                    status.into(),
                ],
                post_action: if d.revoked_at.is_none() && status != "berakhir" {
                    format!("/delegasi/{}/cabut", d.id)
                } else {
                    String::new()
                },
                post_label: "Cabut".into(),
                ..Row::default()
            }
        })
        .collect();
    let selected = |name: &str| typed.get(name).parse::<i64>().ok();
    let kind = typed.get("kind");
    let form = Form::new(
        "Tugaskan Plh. atau Plt.",
        "/delegasi",
        user.csrf(),
        "Simpan penugasan",
        vec![
            Field::select(
                "kind",
                "Jenis",
                choices(
                    &[("plh", "Plh. (pejabat berhalangan)"), ("plt", "Plt. (jabatan kosong)")],
                    if kind.is_empty() { "plh" } else { &kind },
                    None,
                ),
            )
            .required(),
            Field::select(
                "position_id",
                "Jabatan yang diwakili",
                id_choices(
                    positions.iter().map(|p| (p.id, p.title.clone())),
                    selected("position_id"),
                    "— pilih jabatan —",
                ),
            )
            .required(),
            Field::select(
                "official_id",
                "Pejabat yang ditugaskan",
                id_choices(
                    officials.iter().map(|o| (o.id, o.full_name())),
                    selected("official_id"),
                    "— pilih pejabat —",
                ),
            )
            .required(),
            Field {
                kind: "date",
                ..Field::text("starts_on", "Mulai", &typed.get("starts_on"))
            }
            .required(),
            Field {
                kind: "date",
                ..Field::text("ends_on", "Sampai dengan", &typed.get("ends_on"))
            }
            .required(),
            Field::text("basis", "Dasar penugasan", &typed.get("basis")).help("Nomor surat perintah, bila ada."),
        ],
    )
    .with_errors(&errors);
    let mut shell = Shell::for_user(user, "Plh. dan Plt.", "/delegasi");
    shell.notice = notice.into();
    let page = Page {
        heading: "Plh. dan Plt.".into(),
        intro: "Pejabat yang ditugaskan dapat memaraf atau menandatangani atas jabatan itu selama masa penugasan; \
                blok tanda tangan dan catatan surat menyebut Plh./Plt."
            .into(),
        table: Some(Table {
            title: "Penugasan".into(),
            columns: ["Jabatan", "Pejabat", "Masa", "Dasar", "Status"].map(String::from).to_vec(),
            rows,
        }),
        forms: vec![form],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn delegation_create(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let input = delegation::DelegationInput {
        position_id: form.get("position_id").parse().unwrap_or(0),
        official_id: form.get("official_id").parse().unwrap_or(0),
        kind: form.get("kind"),
        starts_on: form.get("starts_on"),
        ends_on: form.get("ends_on"),
        basis: form.get("basis"),
    };
    match delegation::create(&state.db, &user.user.actor(), user.department.id, input).await {
        Ok(_) => Ok(Redirect::to("/delegasi?ok=dibuat").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            delegations_with(&state, &user, &form, errors, status, "").await
        }
    }
}

async fn delegation_revoke(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(_form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    delegation::revoke(&state.db, &user.user.actor(), user.department.id, id).await?;
    Ok(Redirect::to("/delegasi?ok=tersimpan").into_response())
}

// ---------------------------------------------------------------- report

#[derive(Deserialize, Default)]
struct Period {
    #[serde(default)]
    dari: String,
    #[serde(default)]
    sampai: String,
}

async fn times_report(State(state): State<AppState>, user: SessionUser, Query(period): Query<Period>) -> Result<Response, PageError> {
    let (from, to, errors) = period.dates(user.department.tz().today());
    let stages = report::stage_times_on_days(&state.db, &user.department, from, to).await?;
    Ok(render_page(
        StatusCode::OK,
        Shell::for_user(&user, "Laporan waktu", "/laporan/waktu"),
        times_page(&user, from, to, &errors, &stages),
    ))
}

impl Period {
    /// The period asked for (the last 30 days when not given), with what was wrong in it.
    fn dates(&self, today: chrono::NaiveDate) -> (chrono::NaiveDate, chrono::NaiveDate, FieldErrors) {
        let mut errors = FieldErrors::default();
        let mut date = |field: &str, text: &str, default: chrono::NaiveDate| {
            if text.is_empty() {
                return default;
            }
            chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").unwrap_or_else(|_| {
                errors.add(field, "Tanggal tidak sah (TTTT-BB-HH).");
                default
            })
        };
        let from = date("dari", &self.dari, today - chrono::Days::new(30));
        let to = date("sampai", &self.sampai, today);
        if to < from {
            errors.add("sampai", "Tanggal akhir sebelum tanggal awal.");
        }
        (from, to, errors)
    }
}

fn times_page(
    user: &SessionUser,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    errors: &FieldErrors,
    stages: &[report::StageTimes],
) -> Page {
    let rows = stages
        .iter()
        .map(|s| Row {
            cells: vec![
                s.label.clone(),
                duration_text(s.standard_minutes),
                s.count.to_string(),
                duration_text(s.median_minutes.round() as i64),
                duration_text(s.p90_minutes.round() as i64),
                format!("{} dari {}", s.over_standard, s.count),
            ],
            ..Row::default()
        })
        .collect();
    let mut form = Form::new(
        "Periode",
        "/laporan/waktu",
        user.csrf(),
        "Tampilkan",
        vec![
            Field {
                kind: "date",
                ..Field::text("dari", "Dari tanggal", &from.to_string())
            },
            Field {
                kind: "date",
                ..Field::text("sampai", "Sampai tanggal", &to.to_string())
            },
        ],
    )
    .with_errors(errors);
    form.method_get = true;
    Page {
        heading: "Waktu baku dan waktu nyata".into(),
        intro: format!(
            "Tahap yang selesai dari {} sampai {}: median dan persentil ke-90 lama pengerjaan dibanding waktu baku SOP.",
            crate::text::date_long(from),
            crate::text::date_long(to)
        ),
        table: Some(Table {
            title: "Per tahap".into(),
            columns: ["Tahap", "Waktu baku", "Jumlah", "Median", "Persentil 90", "Melewati waktu baku"]
                .map(String::from)
                .to_vec(),
            rows,
        }),
        forms: vec![form],
        ..Page::default()
    }
}

// ---------------------------------------------------------------- chains

fn document_kind(key: &str) -> Result<DocumentKind, PageError> {
    match key {
        "surat" => Ok(DocumentKind::Surat),
        "keputusan" => Ok(DocumentKind::Keputusan),
        _ => Err(PageError(Failure::NotFound)),
    }
}

const STEP_KINDS: &[(&str, &str)] = &[
    ("konsep", "Konsep"),
    ("ketik", "Pengetikan"),
    ("paraf", "Paraf"),
    ("paraf_koordinasi", "Paraf koordinasi"),
    ("tanda_tangan", "Tanda tangan"),
];

/// Empty rows offered below the chain's stages, for adding stages.
const SPARE_ROWS: usize = 2;

async fn chain_page(
    State(state): State<AppState>,
    user: SessionUser,
    Path(kind): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let document_kind = document_kind(&kind)?;
    let chain = workflow::chain::for_kind(&state.db, user.department.id, document_kind).await?;
    chain_form_page(&state, &user, &kind, &chain, FieldErrors::default(), StatusCode::OK, notice.text()).await
}

async fn chain_form_page(
    state: &AppState,
    user: &SessionUser,
    kind: &str,
    chain: &workflow::ChainSpec,
    errors: FieldErrors,
    status: StatusCode,
    notice: &str,
) -> Result<Response, PageError> {
    let positions = departments::list_positions(&state.db, user.department.id).await?;
    let rows = chain
        .stages
        .iter()
        .enumerate()
        .map(|(i, stage)| Row {
            cells: vec![
                (i + 1).to_string(),
                stage.label.clone(),
                positions_text(&stage.positions, &positions),
                duration_text(stage.standard_minutes),
                if stage.optional { "opsional".into() } else { String::new() },
            ],
            ..Row::default()
        })
        .collect();
    let mut fields = Vec::new();
    for i in 0..chain.stages.len() + SPARE_ROWS {
        let stage = chain.stages.get(i);
        let n = i + 1;
        fields.push(Field::select(
            &format!("jenis{i}"),
            &format!("Tahap {n}: jenis"),
            choices(STEP_KINDS, stage.map(|s| s.kind.key()).unwrap_or(""), Some("— tidak dipakai —")),
        ));
        fields.push(Field::text(
            &format!("nama{i}"),
            &format!("Tahap {n}: nama"),
            stage.map(|s| s.label.as_str()).unwrap_or(""),
        ));
        fields.push(
            Field::text(&format!("jabatan{i}"), &format!("Tahap {n}: jabatan"), &stage.map(|s| s.positions.join(", ")).unwrap_or_default())
                .help("Untuk paraf dan tanda tangan: jenis jabatan (mis. kepala_bidang) atau #nomor jabatan; beberapa, dipisah koma, berarti paraf bersamaan."),
        );
        fields.push(Field::text(
            &format!("an{i}"),
            &format!("Tahap {n}: atas nama (a.n.)"),
            stage.and_then(|s| s.atas_nama.as_deref()).unwrap_or(""),
        ));
        fields.push(Field {
            kind: "number",
            ..Field::text(
                &format!("menit{i}"),
                &format!("Tahap {n}: waktu baku (menit)"),
                &stage.map(|s| s.standard_minutes.to_string()).unwrap_or_default(),
            )
        });
        fields.push(Field::checkboxes(
            &format!("opsional{i}"),
            &format!("Tahap {n}: opsional"),
            vec![Choice::new(
                "ya",
                "Dilewati bila jabatannya tidak ada",
                stage.is_some_and(|s| s.optional),
            )],
        ));
    }
    let held: Vec<String> = positions.iter().map(|p| format!("#{} {} ({})", p.id, p.title, p.kind)).collect();
    let mut shell = Shell::for_user(user, "Rantai persetujuan", "/pengaturan");
    shell.notice = notice.into();
    let kind_label = if kind == "keputusan" { "keputusan" } else { "surat" };
    let tabs = super::settings_tabs(&format!("/pengaturan/rantai/{kind}"));
    let page = Page {
        heading: format!("Rantai persetujuan {kind_label}"),
        intro: format!(
            "Urutan tahap yang dilalui setiap {kind_label} baru: konsep dan pengetikan dahulu, paraf, lalu tepat satu tanda tangan di akhir. \
             Surat yang sedang berjalan tetap memakai rantainya. Jabatan yang ada: {}.",
            held.join("; ")
        ),
        tabs,
        table: Some(Table {
            title: "Rantai sekarang".into(),
            columns: ["No.", "Tahap", "Jabatan", "Waktu baku", ""].map(String::from).to_vec(),
            rows,
        }),
        forms: vec![
            Form::new(
                "Ubah rantai",
                &format!("/pengaturan/rantai/{kind}"),
                user.csrf(),
                "Simpan rantai",
                fields,
            )
            .with_errors(&errors),
            Form::new(
                "Kembali ke SOP",
                &format!("/pengaturan/rantai/{kind}/sop"),
                user.csrf(),
                "Pakai rantai SOP",
                vec![],
            ),
        ],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

/// Positions of a stage as people read them: titles for ids and kinds.
fn positions_text(references: &[String], positions: &[departments::Position]) -> String {
    references
        .iter()
        .map(|r| match r.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
            Some(id) => positions
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.title.clone())
                .unwrap_or_else(|| r.clone()),
            None => {
                let label = departments::kind_label(departments::POSITION_KINDS, r);
                if label.is_empty() { r.clone() } else { label.to_string() }
            }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The chain typed into the form; rows without a kind are left out.
fn chain_from_form(form: &FormData) -> Result<workflow::ChainSpec, FieldErrors> {
    let mut stages = Vec::new();
    let mut errors = FieldErrors::default();
    let mut i = 0;
    while form.0.iter().any(|(k, _)| k == &format!("jenis{i}")) {
        let kind = form.get(&format!("jenis{i}"));
        if !kind.is_empty() {
            let Some(step_kind) = workflow::StepKind::parse(&kind) else {
                errors.add(&format!("jenis{i}"), "Jenis tahap tidak dikenal.");
                i += 1;
                continue;
            };
            let minutes = form.get(&format!("menit{i}"));
            let standard_minutes = match minutes.trim().parse::<i64>() {
                Ok(m) if m > 0 => m,
                _ => {
                    errors.add(&format!("menit{i}"), "Isi waktu baku dalam menit, lebih dari 0.");
                    0
                }
            };
            let an = form.get(&format!("an{i}"));
            stages.push(workflow::StageSpec {
                kind: step_kind,
                label: form.get(&format!("nama{i}")).trim().to_string(),
                positions: form
                    .get(&format!("jabatan{i}"))
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect(),
                optional: form.get(&format!("opsional{i}")) == "ya",
                atas_nama: (!an.trim().is_empty()).then(|| an.trim().to_string()),
                standard_minutes,
            });
        }
        i += 1;
    }
    errors.into_result()?;
    Ok(workflow::ChainSpec { stages })
}

async fn chain_save(
    State(state): State<AppState>,
    user: SessionUser,
    Path(kind): Path<String>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let document_kind = document_kind(&kind)?;
    let typed = match chain_from_form(&form) {
        Ok(chain) => chain,
        Err(errors) => {
            let current = workflow::chain::for_kind(&state.db, user.department.id, document_kind).await?;
            return chain_form_page(&state, &user, &kind, &current, errors, StatusCode::UNPROCESSABLE_ENTITY, "").await;
        }
    };
    match workflow::chain::set_for_kind(&state.db, &user.user.actor(), user.department.id, document_kind, &typed).await {
        Ok(()) => Ok(Redirect::to(&format!("/pengaturan/rantai/{kind}?ok=tersimpan")).into_response()),
        Err(workflow::Error::BadChain(message)) => {
            chain_form_page(
                &state,
                &user,
                &kind,
                &typed,
                FieldErrors::single("_", format!("Rantai belum benar: {message}.")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn chain_reset(
    State(state): State<AppState>,
    user: SessionUser,
    Path(kind): Path<String>,
    PageForm(_form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let document_kind = document_kind(&kind)?;
    workflow::chain::set_for_kind(
        &state.db,
        &user.user.actor(),
        user.department.id,
        document_kind,
        &workflow::ChainSpec::sop_default(document_kind),
    )
    .await?;
    Ok(Redirect::to(&format!("/pengaturan/rantai/{kind}?ok=tersimpan")).into_response())
}
