//! One letter in the approval chain: the list of letters and a letter's page (preview,
//! fields, revisions, chain, timeline) with the form for whatever the user may do now.
//! What the forms post is in `actions`, the files in `files`, bulk paraf/signature in
//! `bulk`, and the sections other areas add to the page in `sections`.

mod actions;
mod bsre;
mod bulk;
mod delivery_log;
mod files;
mod sections;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    AppState, accounts, audit,
    auth::SessionUser,
    departments,
    error::PageError,
    letters::{self, FieldType, Manifest},
    pages::{Choice, Field, Form, Notice, Page, Row, Shell, Table, duration_text, manifest_fields, plain, render, render_page, time},
    signing::remote::Credential,
    validation::FieldErrors,
    workflow::{self, Decision, Letter, StepKind, step_state},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/surat", get(list))
        .route("/surat/{id}", get(view))
        .route("/surat/{id}/revisi", post(actions::revise))
        .route("/surat/{id}/teruskan", post(actions::submit))
        .route("/surat/{id}/klasifikasi", post(actions::classify))
        .route("/surat/{id}/cabut", post(actions::revoke))
        .route("/surat/{id}/ralat", post(actions::correct))
        .route("/surat/{id}/keputusan", post(actions::decide))
        .route("/surat/{id}/bsre/periksa", post(bsre::resolve))
        .route("/pengiriman/{id}/{action}", post(delivery_log::record))
        .route("/surat/{id}/revisi/{number}/pdf", get(files::revision_pdf))
        .route("/surat/{id}/pdf", get(files::final_pdf))
        .route("/surat/{id}/revisi/{number}/halaman/{page}", get(files::revision_png))
        .route("/surat/{id}/banding", get(files::compare))
        .route("/surat/massal", get(bulk::bulk_page).post(bulk::bulk_start))
        .route("/surat/massal/{job}", get(bulk::bulk_progress))
        .route("/surat/massal/{job}/lanjutkan", post(bulk::bulk_resume))
}

async fn list(State(state): State<AppState>, user: SessionUser) -> Result<Response, PageError> {
    let letters = workflow::list(&state.db, user.department.id, 500).await?;
    let rows = letters
        .iter()
        .map(|l| Row {
            cells: vec![
                l.subject.clone(),
                state.catalogue.get(&l.template_id).map(|m| m.title.clone()).unwrap_or_default(),
                l.state_label().into(),
                format!("{} (putaran {})", l.revision, l.round),
                time(&user, l.updated_at),
            ],
            edit_href: format!("/surat/{}", l.id),
            ..Row::default()
        })
        .collect();
    let page = Page {
        heading: "Surat".into(),
        intro: "Semua konsep dan surat dinas ini, yang terakhir berubah di atas. Buat konsep baru dari menu Templat.".into(),
        table: Some(Table {
            title: "Daftar surat".into(),
            columns: ["Hal", "Templat", "Status", "Revisi", "Terakhir berubah"]
                .map(String::from)
                .to_vec(),
            rows,
        }),
        ..Page::default()
    };
    Ok(render_page(StatusCode::OK, Shell::for_user(&user, "Surat", "/surat"), page))
}

/// A field's value as one line of text for the letter page.
fn field_summary(manifest: &Manifest, name: &str, value: &Value) -> String {
    let spec = manifest.fields.iter().find(|f| f.name == name);
    match (spec.map(|s| s.kind), value) {
        (Some(FieldType::Rows), Value::Array(rows)) => format!("{} baris", rows.len()),
        (Some(FieldType::Recipients), Value::Array(items)) => items
            .iter()
            .map(|i| i.get("nama").map(plain).unwrap_or_else(|| plain(i)))
            .collect::<Vec<_>>()
            .join("; "),
        (_, v) => {
            let text = plain(v);
            if text.chars().count() > 400 {
                format!("{}…", text.chars().take(400).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn field_label(manifest: &Manifest, name: &str) -> String {
    manifest
        .fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.label.clone())
        .unwrap_or_else(|| name.to_string())
}

pub struct StepRow {
    pub label: String,
    pub who: String,
    pub state: String,
    pub started: String,
    pub completed: String,
    pub duration: String,
    pub overdue: bool,
    pub decision: String,
    pub note: String,
    pub current: bool,
}

pub struct TimelineRow {
    pub when: String,
    pub who: String,
    pub what: String,
    pub detail: String,
}

pub struct RevisionRow {
    pub number: i64,
    pub author: String,
    pub when: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "letter.html")]
pub struct LetterTemplate {
    pub shell: Shell,
    pub letter: Letter,
    pub template_title: String,
    pub waiting: String,
    pub overdue: String,
    pub preview_src: String,
    pub pdf_href: String,
    pub page_number: usize,
    pub pages: usize,
    pub fields: Vec<(String, String)>,
    pub revisions: Vec<RevisionRow>,
    pub steps: Vec<StepRow>,
    pub timeline: Vec<TimelineRow>,
    pub forms: Vec<Form>,
    pub warning: String,
    /// A deadline of the unsigned letter before the date it would carry if signed today.
    pub deadline_warning: String,
    /// "Ditandatangani oleh …" once signed.
    pub signed_by: String,
    /// Where the long-term signature stands ("Stempel waktu tertunda …"), once signed.
    pub long_term: String,
    /// The letter's date as printed on it ("22 November 2026"), once signed.
    pub letter_date: String,
    /// The delivery log, once signed.
    pub deliveries: Vec<sections::DeliveryRow>,
    /// Where distribution stands against the SOP's time.
    pub distribution_summary: String,
    pub distribution_late: bool,
    /// The user may record deliveries (agendaris, typist, administrator).
    pub may_distribute: bool,
    pub channels: Vec<(&'static str, &'static str)>,
}

fn action_label(action: &str) -> &'static str {
    match action {
        "letter.created" => "Konsep dibuat",
        "letter.revised" => "Revisi disimpan",
        "letter.submitted" => "Diteruskan",
        "letter.initialled" => "Diparaf",
        "letter.signed" => "Ditandatangani",
        "letter.returned" => "Dikembalikan untuk perbaikan",
        "letter.rejected" => "Ditolak",
        _ => "Perubahan",
    }
}

#[derive(Deserialize, Default)]
pub struct ViewQuery {
    #[serde(default)]
    pub ok: String,
    #[serde(default)]
    pub halaman: Option<usize>,
}

async fn view(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<ViewQuery>,
) -> Result<Response, PageError> {
    let notice = Notice { ok: q.ok.clone() };
    let page = letter_page(
        &state,
        &user,
        id,
        q.halaman.unwrap_or(1),
        None,
        FieldErrors::default(),
        String::new(),
    )
    .await?;
    let mut page = page;
    page.shell.notice = notice.text().into();
    Ok(render(StatusCode::OK, &page))
}

/// The letter page; `edited` keeps the typed data of a failed revision, `errors` and
/// `warning` say what went wrong.
pub(crate) async fn letter_page(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    page_number: usize,
    edited: Option<&Value>,
    errors: FieldErrors,
    warning: String,
) -> Result<LetterTemplate, PageError> {
    let flow = state.workflow();
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let manifest = state.catalogue.get(&letter.template_id)?.clone();
    let current = workflow::revision(&state.db, letter.id, letter.revision).await?;
    let data = current.fields();
    let pages = files::pdf_page_count(&current.pdf);
    let page_number = page_number.clamp(1, pages.max(1));

    let steps = workflow::steps(&state.db, letter.id).await?;
    let users = accounts::list(&state.db, user.department.id).await?;
    let officials = departments::list_officials(&state.db, user.department.id).await?;
    let name_of_user = |id: Option<i64>| {
        id.and_then(|id| users.iter().find(|u| u.id == id))
            .map(|u| u.display_name.clone())
            .unwrap_or_default()
    };
    let name_of_official = |id: Option<i64>| id.and_then(|id| officials.iter().find(|o| o.id == id)).map(|o| o.full_name());
    let now = crate::db::now();
    let active: Vec<&workflow::Step> = steps
        .iter()
        .filter(|s| s.round == letter.round && s.stage == letter.stage && s.state == step_state::AKTIF)
        .collect();
    let (waiting, overdue) = match active.first() {
        Some(step) if letter.state == workflow::state::KONSEP || letter.state == workflow::state::PROSES => {
            let who: Vec<String> = active
                .iter()
                .map(|s| match s.step_kind() {
                    StepKind::Konsep => name_of_user(s.assignee_user_id),
                    StepKind::Ketik => "staf pengetik".into(),
                    _ => s.position_title.clone(),
                })
                .collect();
            let since = step.started_at.map(|t| time(user, t)).unwrap_or_default();
            let waiting = format!(
                "Menunggu {} ({}) sejak {since}; waktu baku {}.",
                step.label,
                who.join(", "),
                duration_text(step.standard_minutes)
            );
            let overdue = step
                .overdue_minutes(now)
                .map(|m| format!("Melewati waktu baku {}.", duration_text(m)))
                .unwrap_or_default();
            (waiting, overdue)
        }
        _ => (String::new(), String::new()),
    };

    let step_rows = steps
        .iter()
        .map(|s| {
            let actor = name_of_official(s.acted_by_official).unwrap_or_else(|| name_of_user(s.acted_by_user));
            let who = if !actor.is_empty() {
                if s.acting_as.is_empty() {
                    actor
                } else {
                    format!("{actor} ({} {})", s.acting_as, s.position_title)
                }
            } else {
                match s.step_kind() {
                    StepKind::Konsep => name_of_user(s.assignee_user_id),
                    StepKind::Ketik => "staf pengetik".into(),
                    _ => s.position_title.clone(),
                }
            };
            let duration = match (s.started_at, s.completed_at) {
                (Some(a), Some(b)) => duration_text((b - a) / 60),
                (Some(a), None) if s.state == step_state::AKTIF => format!("{} (berjalan)", duration_text((now - a) / 60)),
                _ => String::new(),
            };
            StepRow {
                label: format!("{} · putaran {}", s.label, s.round),
                who,
                state: match s.state.as_str() {
                    step_state::MENUNGGU => "menunggu giliran",
                    step_state::AKTIF => "sedang menunggu",
                    step_state::SELESAI => "selesai",
                    step_state::BATAL => "dibatalkan",
                    step_state::DILEWATI => "dilewati",
                    _ => "",
                }
                .into(),
                started: s.started_at.map(|t| time(user, t)).unwrap_or_default(),
                completed: s.completed_at.map(|t| time(user, t)).unwrap_or_default(),
                duration,
                overdue: s.overdue_minutes(now).is_some() && s.started_at.is_some(),
                decision: s
                    .decision
                    .as_deref()
                    .and_then(Decision::parse)
                    .map(|d| d.label().to_string())
                    .or_else(|| (s.decision.as_deref() == Some("teruskan")).then(|| "Diteruskan".to_string()))
                    .unwrap_or_default(),
                note: s.note.clone(),
                current: s.state == step_state::AKTIF,
            }
        })
        .collect();

    let timeline = audit::for_subject(&state.db, user.department.id, &format!("letter:{}", letter.id))
        .await?
        .into_iter()
        .map(|e| {
            let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
            let who = e
                .actor
                .split(':')
                .nth(1)
                .and_then(|id| id.parse::<i64>().ok())
                .map(|id| name_of_user(Some(id)))
                .unwrap_or_else(|| e.actor.clone());
            let mut detail = Vec::new();
            for key in ["step", "stage", "revision", "note", "acting_as", "outcome", "to"] {
                if let Some(v) = details.get(key).map(plain).filter(|v| !v.is_empty()) {
                    let label = match key {
                        "step" | "stage" => "tahap",
                        "revision" => "revisi",
                        "note" => "catatan",
                        "acting_as" => "sebagai",
                        "outcome" | "to" => "lanjut ke",
                        _ => key,
                    };
                    detail.push(format!("{label}: {v}"));
                }
            }
            TimelineRow {
                when: time(user, e.at),
                who,
                what: action_label(&e.action).into(),
                detail: detail.join("; "),
            }
        })
        .collect();

    let revisions = workflow::revisions(&state.db, letter.id)
        .await?
        .into_iter()
        .map(|r| RevisionRow {
            number: r.number,
            author: r.author,
            when: time(user, r.created_at),
            note: r.note,
        })
        .collect();

    let mut forms = Vec::new();
    // The drafting or typing step: edit and pass on.
    let drafting_holder = letter.state == workflow::state::KONSEP && active.iter().any(|s| workflow::may_hold_drafting_step(&user.user, s));
    let no_errors = FieldErrors::default();
    if drafting_holder {
        let shown = edited.cloned().unwrap_or_else(|| data.clone());
        let mut edit_fields = manifest_fields(&manifest, &shown);
        edit_fields.push(
            Field {
                kind: "textarea",
                ..Field::text("catatan_revisi", "Catatan revisi", "")
            }
            .help("Apa yang diubah, untuk riwayat revisi."),
        );
        let mut form = Form::new(
            "Ubah konsep",
            &format!("/surat/{}/revisi", letter.id),
            user.csrf(),
            "Simpan revisi",
            edit_fields,
        )
        .with_errors(if edited.is_some() { &errors } else { &no_errors });
        form.hidden = vec![("versi".into(), letter.version.to_string())];
        forms.push(form);
        let codes = crate::numbering::codes(&state.db, user.department.id).await?;
        let mut options: Vec<Choice> = Vec::new();
        if letter.classification_code.is_empty() {
            options.push(Choice::new("", "— pilih —", true));
        }
        options.extend(codes.iter().map(|c| {
            Choice::new(
                c.code.clone(),
                format!("{} {}", c.code, c.name),
                c.code == letter.classification_code,
            )
        }));
        let mut form = Form::new(
            "Kode klasifikasi",
            &format!("/surat/{}/klasifikasi", letter.id),
            user.csrf(),
            "Simpan kode",
            vec![Field::select("kode_klasifikasi", "Kode klasifikasi (bagian awal nomor surat)", options).required()],
        );
        form.hidden = vec![("versi".into(), letter.version.to_string())];
        forms.push(form);
        let next = steps
            .iter()
            .filter(|s| s.round == letter.round && s.stage > letter.stage && s.state == step_state::MENUNGGU)
            .map(|s| s.label.clone())
            .next()
            .unwrap_or_default();
        let mut form = Form::new(
            "Teruskan",
            &format!("/surat/{}/teruskan", letter.id),
            user.csrf(),
            &format!("Teruskan ke {next}"),
            vec![],
        );
        form.hidden = vec![("versi".into(), letter.version.to_string())];
        if edited.is_none() {
            form = form.with_errors(&errors);
        }
        forms.push(form);
    }
    // A deadline before the date the letter would carry if it were signed today: shown
    // while it is drafted and approved, and the signer confirms it.
    let deadlines = if letter.number.is_none() && (letter.state == workflow::state::KONSEP || letter.state == workflow::state::PROSES) {
        flow.passed_deadlines(&letter, &user.department).await?
    } else {
        workflow::PassedDeadlines::default()
    };
    let deadline_warning = crate::letters::deadline::warning(&deadlines.passed, deadlines.letter_date);
    // A refused signature repeats that warning: it is shown once, with its own box.
    let warning = if warning == deadline_warning { String::new() } else { warning };
    // An approval step this user holds or acts for.
    let today = user.department.tz().today();
    let mut capacity = None;
    if letter.state == workflow::state::PROSES {
        for s in &active {
            if let Some(c) = flow.capacity(&user.user, s, today).await? {
                capacity = Some(((*s).clone(), c));
                break;
            }
        }
    }
    let signs_here = capacity.as_ref().is_some_and(|(step, _)| step.step_kind() == StepKind::TandaTangan);
    let bsre = sections::letter_extras(state, user, &letter, signs_here, &errors).await?;
    if let Some((step, capacity)) = capacity {
        let kind = step.step_kind();
        let mut decisions = Vec::new();
        if kind == StepKind::TandaTangan {
            decisions.push(Choice::new("tanda_tangan", "Tanda tangani", true));
        } else {
            decisions.push(Choice::new("paraf", "Paraf (setujui)", true));
        }
        decisions.push(Choice::new("kembalikan", "Kembalikan untuk perbaikan", false));
        decisions.push(Choice::new("tolak", "Tolak", false));
        let mut fields = vec![
            Field::select("keputusan", "Keputusan", decisions).required(),
            Field {
                kind: "textarea",
                ..Field::text("catatan", "Catatan", "")
            }
            .help("Wajib bila surat dikembalikan atau ditolak."),
            Field::password("frasa_sandi", "Frasa sandi tanda tangan", "off")
                .required()
                .help("Bukan kata sandi masuk. Frasa sandi membuka kunci tanda tangan Anda untuk keputusan ini saja."),
        ];
        fields.extend(bsre.decision_fields);
        if kind == StepKind::TandaTangan && !deadlines.passed.is_empty() {
            fields.push(Field::checkboxes(
                "terima_batas_waktu",
                "Batas waktu",
                vec![Choice::new("ya", crate::letters::deadline::confirmation(&deadlines.passed), false)],
            ));
        }
        if !warning.is_empty() {
            fields.push(Field::checkboxes(
                "terima_peringatan",
                "Peringatan",
                vec![Choice::new(
                    "ya",
                    "Saya sudah membaca peringatan di atas dan tetap menandatangani.",
                    false,
                )],
            ));
        }
        let title = if capacity.acting_as.is_empty() {
            format!("{} — keputusan Anda", step.label)
        } else {
            format!("{} — sebagai {} {}", step.label, capacity.acting_as, step.position_title)
        };
        let mut form = Form::new(
            &title,
            &format!("/surat/{}/keputusan", letter.id),
            user.csrf(),
            "Kirim keputusan",
            fields,
        )
        .with_errors(&errors);
        form.hidden = vec![("revisi".into(), letter.revision.to_string())];
        forms.push(form);
    }
    forms.extend(bsre.forms);

    // The signer or an administrator may revoke a signed letter or start its correction.
    if workflow::check_withdraw(&user.user, &letter, &steps).is_ok() && letter.number.is_some() {
        if letter.revoked_at.is_none() {
            forms.push(
                Form::new(
                    "Cabut surat",
                    &format!("/surat/{}/cabut", letter.id),
                    user.csrf(),
                    "Cabut surat ini",
                    vec![
                        Field {
                            kind: "textarea",
                            ..Field::text("alasan", "Alasan pencabutan", "")
                        }
                        .required()
                        .help("Ditampilkan di halaman verifikasi publik."),
                    ],
                )
                .with_errors(&errors),
            );
        }
        forms.push(Form::new(
            "Ralat",
            &format!("/surat/{}/ralat", letter.id),
            user.csrf(),
            "Buat ralat surat ini",
            vec![],
        ));
    }

    let fields: Vec<(String, String)> = data
        .as_object()
        .map(|o| {
            manifest
                .fields
                .iter()
                .filter_map(|f| {
                    o.get(&f.name)
                        .map(|v| (field_label(&manifest, &f.name), field_summary(&manifest, &f.name, v)))
                })
                .collect()
        })
        .unwrap_or_default();

    let signed_by = match workflow::signer_block(&state.db, &letter).await? {
        Some(signer) => {
            let mut line = format!("Ditandatangani oleh {}, ", signer.nama);
            if let Some(an) = &signer.atas_nama {
                line.push_str(&format!("a.n. {an}, "));
            }
            if let Some(sebutan) = &signer.sebutan {
                line.push_str(sebutan);
                line.push(' ');
            }
            line.push_str(&signer.jabatan);
            line.push('.');
            line
        }
        None => String::new(),
    };
    let long_term = match workflow::longterm::of_letter(&state.db, letter.id).await {
        Ok(job) => job.map(|j| j.summary()).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "status stempel waktu tidak terbaca");
            String::new()
        }
    };
    let letter_date = letter.letter_date.as_deref().map(crate::text::date_long_iso).unwrap_or_default();
    let log = sections::letter_log(state, user, &letter, &manifest).await?;
    Ok(LetterTemplate {
        deliveries: log.rows,
        distribution_summary: log.summary,
        distribution_late: log.late,
        may_distribute: crate::distribution::may_distribute(&user.user),
        channels: crate::distribution::deliveries::CHANNELS.to_vec(),
        letter_date,
        signed_by,
        long_term,
        shell: Shell::for_user(user, &letter.subject, "/surat"),
        template_title: manifest.title.clone(),
        waiting: [waiting, bsre.status_line].join(" ").trim().to_string(),
        overdue,
        preview_src: format!("/surat/{}/revisi/{}/halaman/{}", letter.id, letter.revision, page_number),
        pdf_href: format!("/surat/{}/revisi/{}/pdf", letter.id, letter.revision),
        page_number,
        pages,
        fields,
        revisions,
        steps: step_rows,
        timeline,
        forms,
        warning,
        deadline_warning,
        letter,
    })
}

// ---------------------------------------------------------------- bulk
