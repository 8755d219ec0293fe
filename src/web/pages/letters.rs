//! Letters in the approval chain: the list, one letter (preview, fields, revisions,
//! chain, timeline) with the form for whatever the user may do now, revision
//! comparison, and bulk paraf/signature with progress.

use std::{collections::HashMap, sync::Mutex};

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table,
    drafting::{data_from_form, fields as manifest_fields, plain},
    render, render_page,
    settings::form_failure,
};
use crate::{
    accounts, audit, departments,
    letters::{self, FieldType, Manifest},
    signing::remote::Credential,
    validation::FieldErrors,
    web::{
        AppState,
        auth::{CsrfForm, SessionUser},
        error::{Failure, PageError},
    },
    workflow::{self, Decision, DecisionRequest, Letter, StepKind, step_state},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/surat", get(list))
        .route("/surat/{id}", get(view))
        .route("/surat/{id}/revisi", post(revise))
        .route("/surat/{id}/teruskan", post(submit))
        .route("/surat/{id}/klasifikasi", post(classify))
        .route("/surat/{id}/cabut", post(revoke))
        .route("/surat/{id}/ralat", post(correct))
        .route("/surat/{id}/keputusan", post(decide))
        .route("/surat/{id}/revisi/{number}/pdf", get(revision_pdf))
        .route("/surat/{id}/pdf", get(final_pdf))
        .route("/surat/{id}/revisi/{number}/halaman/{page}", get(revision_png))
        .route("/surat/{id}/banding", get(compare))
        .route("/surat/massal", get(bulk_page).post(bulk_start))
        .route("/surat/massal/{job}", get(bulk_progress))
}

fn time(user: &SessionUser, at: i64) -> String {
    user.department.tz().format_time(at)
}

/// "1 jam 5 menit" from minutes.
pub fn duration_text(minutes: i64) -> String {
    let (days, hours, mins) = (minutes / (60 * 24), (minutes / 60) % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} hari"));
    }
    if hours > 0 {
        parts.push(format!("{hours} jam"));
    }
    if mins > 0 || parts.is_empty() {
        parts.push(format!("{mins} menit"));
    }
    parts.join(" ")
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
    pub deliveries: Vec<super::letter_sections::DeliveryRow>,
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
pub(super) async fn letter_page(
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
    let pages = pdf_page_count(&current.pdf);
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
    let bsre = super::letter_sections::letter_extras(state, user, &letter, signs_here, &errors).await?;
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
    let log = super::letter_sections::letter_log(state, user, &letter, &manifest).await?;
    Ok(LetterTemplate {
        deliveries: log.rows,
        distribution_summary: log.summary,
        distribution_late: log.late,
        may_distribute: super::letter_sections::may_distribute(user),
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

/// Pages of a PDF we rendered, by counting its page objects (`/Type /Page`, with or
/// without the space Typst leaves out; `/Pages` is the tree, not a page).
fn pdf_page_count(pdf: &[u8]) -> usize {
    let mut count = 0;
    let mut rest = pdf;
    while let Some(at) = rest.windows(5).position(|w| w == b"/Type") {
        let after = &rest[at + 5..];
        let skipped = after.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let value = &after[skipped..];
        if value.starts_with(b"/Page") && !value.get(5).is_some_and(|b| b.is_ascii_alphanumeric()) {
            count += 1;
        }
        rest = after;
    }
    count.max(1)
}

async fn revise(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let manifest = state.catalogue.get(&letter.template_id)?.clone();
    let data = data_from_form(&manifest, &form);
    let version = form.get("versi").parse::<i64>().unwrap_or(-1);
    match state
        .workflow()
        .revise(&user.user, id, version, &data, &form.get("catatan_revisi"))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=revisi")).into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e)).or_else(denied_as_message)?;
            let page = letter_page(&state, &user, id, 1, Some(&data), errors, String::new()).await?;
            Ok(render(status, &page))
        }
    }
}

/// The letter page again, with what went wrong in place of the form's summary.
async fn letter_page_with_failure(state: &AppState, user: &SessionUser, id: i64, e: workflow::Error) -> Result<Response, PageError> {
    let (errors, status) = form_failure(Failure::from(e)).or_else(denied_as_message)?;
    let page = letter_page(state, user, id, 1, None, errors, String::new()).await?;
    Ok(render(status, &page))
}

/// The domain names the fields of a decision in English; the forms in Indonesian.
fn form_field_names(errors: &mut FieldErrors) {
    for error in &mut errors.0 {
        match error.field.as_str() {
            "note" => error.field = "catatan".into(),
            "passphrase" => error.field = "frasa_sandi".into(),
            _ => {}
        }
    }
}

/// A refusal (e.g. not this user's turn any more) shown on the letter page instead of
/// an error page, so the user sees where the letter is now.
fn denied_as_message(e: PageError) -> Result<(FieldErrors, StatusCode), PageError> {
    match e.0 {
        Failure::Denied(m) => Ok((FieldErrors::single("_", m), StatusCode::FORBIDDEN)),
        Failure::Throttled(m) => Ok((FieldErrors::single("_", m), StatusCode::TOO_MANY_REQUESTS)),
        other => Err(PageError(other)),
    }
}

async fn classify(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    let version = form.get("versi").parse::<i64>().unwrap_or(-1);
    match state
        .workflow()
        .set_classification(&user.user, id, version, &form.get("kode_klasifikasi"))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=tersimpan")).into_response()),
        Err(e) => letter_page_with_failure(&state, &user, id, e).await,
    }
}

async fn revoke(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    match state.workflow().revoke(&user.user, id, &form.get("alasan")).await {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=dicabut-surat")).into_response()),
        Err(e) => letter_page_with_failure(&state, &user, id, e).await,
    }
}

async fn correct(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(_form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    match state.workflow().start_correction(&user.user, id).await {
        Ok(correction) => Ok(Redirect::to(&format!("/surat/{}", correction.id)).into_response()),
        Err(e) => letter_page_with_failure(&state, &user, id, e).await,
    }
}

async fn submit(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    let version = form.get("versi").parse::<i64>().unwrap_or(-1);
    match state.workflow().submit(&user.user, id, version).await {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=diteruskan")).into_response()),
        Err(e) => letter_page_with_failure(&state, &user, id, e).await,
    }
}

fn decision_request(form: &FormData) -> Result<DecisionRequest, FieldErrors> {
    let decision = Decision::parse(&form.get("keputusan")).ok_or_else(|| FieldErrors::single("keputusan", "Pilih keputusan."))?;
    Ok(DecisionRequest {
        decision,
        note: form.get("catatan"),
        expected_revision: form.get("revisi").parse().unwrap_or(-1),
        budget_warning_accepted: form.get("terima_peringatan") == "ya",
        deadline_warning_accepted: form.get("terima_batas_waktu") == "ya",
    })
}

async fn decide(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    let outcome = match decision_request(&form) {
        // A department that signs through BSrE: the form carries the BSrE passphrase.
        Ok(request) if form.0.iter().any(|(name, _)| name == workflow::remote::CREDENTIAL_FIELD) => {
            let credential = Credential::Passphrase(zeroize::Zeroizing::new(form.get(workflow::remote::CREDENTIAL_FIELD)));
            state
                .workflow()
                .sign_remotely(
                    &user.user,
                    id,
                    &request,
                    &form.get("frasa_sandi"),
                    &credential,
                    form.get("kirim_ulang") == "ya",
                )
                .await
                .map(|_| request.decision)
                .map_err(Failure::from)
        }
        Ok(request) => state
            .workflow()
            .decide(&user.user, id, &request, &form.get("frasa_sandi"))
            .await
            .map(|_| request.decision)
            .map_err(Failure::from),
        Err(errors) => Err(Failure::Invalid(errors)),
    };
    match outcome {
        Ok(decision) => Ok(Redirect::to(&format!("/surat/{id}?ok={}", decision.key())).into_response()),
        Err(Failure::NeedsConfirmation(warning)) => {
            let page = letter_page(&state, &user, id, 1, None, FieldErrors::default(), warning).await?;
            Ok(render(StatusCode::PRECONDITION_REQUIRED, &page))
        }
        Err(failure) => {
            let (mut errors, status) = form_failure(failure).or_else(denied_as_message)?;
            form_field_names(&mut errors);
            let page = letter_page(&state, &user, id, 1, None, errors, String::new()).await?;
            Ok(render(status, &page))
        }
    }
}

/// The final, signed PDF: the bytes stored at signature, never rendered again.
async fn final_pdf(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
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

async fn revision_pdf(
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
async fn revision_png(
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
    let job = letters::job(manifest, &user.department, logo, &revision.fields(), &slots, None);
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
struct CompareQuery {
    a: i64,
    b: i64,
}

async fn compare(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, PageError> {
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let manifest = state.catalogue.get(&letter.template_id)?;
    let order: Vec<String> = manifest.fields.iter().map(|f| f.name.clone()).collect();
    let changes = workflow::compare(&state.db, letter.id, q.a, q.b, &order).await?;
    let show = |name: &str, v: &Option<Value>| v.as_ref().map(|v| field_summary(manifest, name, v)).unwrap_or_else(|| "—".into());
    let rows = changes
        .iter()
        .map(|c| Row {
            cells: vec![field_label(manifest, &c.field), show(&c.field, &c.before), show(&c.field, &c.after)],
            ..Row::default()
        })
        .collect();
    let page = Page {
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
    };
    Ok(render_page(
        StatusCode::OK,
        Shell::for_user(&user, "Perbandingan revisi", "/surat"),
        page,
    ))
}

// ---------------------------------------------------------------- bulk

/// A bulk decision running in this process.
#[derive(Clone, Default)]
pub struct BulkJob {
    pub user_id: i64,
    pub decision: String,
    pub total: usize,
    pub done: usize,
    pub finished: bool,
    /// Letters that failed, with why.
    pub failures: Vec<(i64, String, String)>,
    /// A failure before any letter (e.g. a wrong passphrase).
    pub error: String,
}

/// Bulk jobs by id; a finished job is kept until the process restarts (they are small).
#[derive(Default)]
pub struct BulkJobs(Mutex<HashMap<String, BulkJob>>);

impl BulkJobs {
    fn update(&self, id: &str, change: impl FnOnce(&mut BulkJob)) {
        if let Some(job) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            change(job);
        }
    }
    fn get(&self, id: &str) -> Option<BulkJob> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }
}

/// The letters waiting on the user at a paraf or signature step.
async fn approval_tasks(state: &AppState, user: &SessionUser) -> Result<Vec<workflow::Task>, PageError> {
    let tasks = workflow::inbox(&state.workflow(), &user.user, user.department.tz().today()).await?;
    Ok(tasks.into_iter().filter(|t| t.step.step_kind().is_signed()).collect())
}

#[derive(Debug, Default, Deserialize)]
struct BulkQuery {
    /// Only the letters of this batch.
    #[serde(default)]
    kumpulan: Option<i64>,
}

async fn bulk_page(State(state): State<AppState>, user: SessionUser, Query(query): Query<BulkQuery>) -> Result<Response, PageError> {
    bulk_form_page(&state, &user, query.kumpulan, FieldErrors::default(), StatusCode::OK).await
}

async fn bulk_form_page(
    state: &AppState,
    user: &SessionUser,
    batch: Option<i64>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tasks = approval_tasks(state, user).await?;
    if let Some(batch) = batch {
        tasks.retain(|t| t.letter.batch_id == Some(batch));
    }
    let can_sign = tasks.iter().any(|t| t.step.step_kind() == StepKind::TandaTangan);
    let can_paraf = tasks.iter().any(|t| t.step.step_kind() != StepKind::TandaTangan);
    let mut decisions = Vec::new();
    if can_paraf {
        decisions.push(Choice::new("paraf", "Paraf semua yang dipilih", !can_sign));
    }
    if can_sign {
        decisions.push(Choice::new("tanda_tangan", "Tanda tangani semua yang dipilih", true));
    }
    let options: Vec<Choice> = tasks
        .iter()
        .map(|t| {
            Choice::new(
                format!("{}:{}", t.letter.id, t.letter.revision),
                format!("{} — {} (revisi {})", t.letter.subject, t.step.label, t.letter.revision),
                true,
            )
        })
        .collect();
    let page = Page {
        heading: "Paraf dan tanda tangan massal".into(),
        intro: match (tasks.is_empty(), batch.is_some()) {
            (true, false) => "Tidak ada surat yang menunggu paraf atau tanda tangan Anda.".into(),
            (true, true) => "Tidak ada surat dari kumpulan ini yang menunggu paraf atau tanda tangan Anda.".into(),
            (false, in_batch) => format!(
                "{} surat{} menunggu Anda. Periksa daftar, pilih, lalu masukkan frasa sandi sekali untuk semuanya. \
                 Surat yang gagal tidak memengaruhi yang lain dan disebutkan alasannya.",
                tasks.len(),
                if in_batch { " dari kumpulan ini" } else { "" }
            ),
        },
        back_href: batch.map(|b| format!("/kumpulan/{b}")).unwrap_or_else(|| "/".into()),
        forms: if tasks.is_empty() {
            vec![]
        } else {
            vec![
                Form::new(
                    "Pilih surat",
                    "/surat/massal",
                    user.csrf(),
                    "Jalankan",
                    vec![
                        Field::checkboxes("surat", "Surat", options),
                        Field::select("keputusan", "Keputusan", decisions).required(),
                        Field::checkboxes(
                            "terima_batas_waktu",
                            "Batas waktu",
                            vec![Choice::new(
                                "ya",
                                "Saya tahu batas waktu dalam sebagian surat sudah lewat dan tetap menandatanganinya.",
                                false,
                            )],
                        )
                        .help("Surat yang batas waktunya sudah lewat tidak ditandatangani tanpa tanda ini; alasannya disebutkan."),
                        Field::password("frasa_sandi", "Frasa sandi tanda tangan", "off").required(),
                    ],
                )
                .with_errors(&errors)
                .with_hidden(batch.map(|b| ("kumpulan", b.to_string()))),
            ]
        },
        ..Page::default()
    };
    Ok(render_page(status, Shell::for_user(user, "Massal", "/surat"), page))
}

async fn bulk_start(State(state): State<AppState>, user: SessionUser, CsrfForm(form): CsrfForm<FormData>) -> Result<Response, PageError> {
    let batch = form.id("kumpulan").ok().flatten();
    let Some(decision) = Decision::parse(&form.get("keputusan")).filter(|d| matches!(d, Decision::Paraf | Decision::TandaTangan)) else {
        return bulk_form_page(
            &state,
            &user,
            batch,
            FieldErrors::single("keputusan", "Pilih keputusan."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let letters: Vec<(i64, i64)> = form
        .all("surat")
        .iter()
        .filter_map(|v| v.split_once(':'))
        .filter_map(|(id, rev)| Some((id.parse().ok()?, rev.parse().ok()?)))
        .collect();
    if letters.is_empty() {
        return bulk_form_page(
            &state,
            &user,
            batch,
            FieldErrors::single("surat", "Pilih paling sedikit satu surat."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let flow = state.workflow();
    let passphrase = form.get("frasa_sandi");
    // The key is opened before the job starts, so a wrong passphrase is answered at once.
    if let Err(e) = flow.unlock(&user.user, &passphrase).await {
        let (mut errors, status) = form_failure(Failure::from(e)).or_else(denied_as_message)?;
        form_field_names(&mut errors);
        return bulk_form_page(&state, &user, batch, errors, status).await;
    }
    let job_id = accounts::random_token();
    state.bulk_jobs.0.lock().unwrap_or_else(|e| e.into_inner()).insert(
        job_id.clone(),
        BulkJob {
            user_id: user.user.id,
            decision: decision.label().into(),
            total: letters.len(),
            ..BulkJob::default()
        },
    );
    let jobs = state.bulk_jobs.clone();
    let (account, id) = (user.user.clone(), job_id.clone());
    let request = DecisionRequest {
        decision,
        note: String::new(),
        expected_revision: 0,
        budget_warning_accepted: false,
        deadline_warning_accepted: form.get("terima_batas_waktu") == "ya",
    };
    tokio::spawn(async move {
        let subjects: HashMap<i64, String> = {
            let mut map = HashMap::new();
            for (letter_id, _) in &letters {
                if let Ok(l) = workflow::get(&flow.db, account.department_id, *letter_id).await {
                    map.insert(*letter_id, l.subject);
                }
            }
            map
        };
        let progress_jobs = jobs.clone();
        let progress_id = id.clone();
        let outcome = flow
            .decide_many(&account, &letters, &request, &passphrase, move |done, _| {
                progress_jobs.update(&progress_id, |j| j.done = done);
            })
            .await;
        jobs.update(&id, |job| {
            match outcome {
                Ok(results) => {
                    job.failures = results
                        .into_iter()
                        .filter_map(|(letter_id, r)| {
                            r.err()
                                .map(|e| (letter_id, subjects.get(&letter_id).cloned().unwrap_or_default(), e.to_string()))
                        })
                        .collect();
                }
                Err(e) => job.error = e.to_string(),
            }
            job.finished = true;
        });
    });
    Ok(Redirect::to(&format!("/surat/massal/{job_id}")).into_response())
}

#[derive(Template)]
#[template(path = "bulk.html")]
struct BulkTemplate {
    shell: Shell,
    job: BulkJob,
    percent: usize,
}

async fn bulk_progress(State(state): State<AppState>, user: SessionUser, Path(job_id): Path<String>) -> Result<Response, PageError> {
    let job = state
        .bulk_jobs
        .get(&job_id)
        .filter(|j| j.user_id == user.user.id)
        .ok_or(Failure::NotFound)?;
    let percent = (job.done * 100).checked_div(job.total).unwrap_or(100);
    let shell = Shell::for_user(&user, "Proses massal", "/surat");
    Ok(render(StatusCode::OK, &BulkTemplate { shell, job, percent }))
}

/// The inbox shown on the home page.
pub struct InboxRow {
    pub href: String,
    pub subject: String,
    pub stage: String,
    pub since: String,
    pub standard: String,
    pub overdue: String,
    pub acting_as: String,
    /// A paraf or signature step.
    pub approval: bool,
}

pub async fn inbox_rows(state: &AppState, user: &SessionUser) -> Result<Vec<InboxRow>, PageError> {
    let tasks = workflow::inbox(&state.workflow(), &user.user, user.department.tz().today()).await?;
    Ok(tasks
        .into_iter()
        .map(|t| InboxRow {
            approval: t.step.step_kind().is_signed(),
            href: format!("/surat/{}", t.letter.id),
            subject: t.letter.subject.clone(),
            stage: t.step.label.clone(),
            since: t.step.started_at.map(|at| time(user, at)).unwrap_or_default(),
            standard: duration_text(t.step.standard_minutes),
            overdue: t.overdue_minutes.map(duration_text).unwrap_or_default(),
            acting_as: if t.acting_as.is_empty() {
                String::new()
            } else {
                format!("{} {}", t.acting_as, t.step.position_title)
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::pdf_page_count;

    #[test]
    fn pages_are_counted_with_or_without_the_space() {
        assert_eq!(
            pdf_page_count(b"<</Type/Pages/Kids[1 0 R 2 0 R]>> <</Type/Page>> <</Type /Page /Parent 3 0 R>>"),
            2
        );
        assert_eq!(pdf_page_count(b"<</Type/Catalog>>"), 1);
    }
}
