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
    AppState,
    auth::SessionUser,
    cases::{
        self,
        letter::{DecisionOffer, LetterView, StepLine},
    },
    error::PageError,
    keys::PassphraseStanding,
    letters::Manifest,
    pages::{Choice, Field, Form, Notice, Page, Row, Shell, Table, duration_text, manifest_fields, render, render_page, time},
    validation::FieldErrors,
    workflow::{self, Decision, Letter, step_state},
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
        .route(
            "/surat/{id}/bsre/periksa",
            post(bsre::resolve).layer(axum::extract::DefaultBodyLimit::max(crate::uploads::BSRE_PDF)),
        )
        .route("/pengiriman/{id}/{action}", post(delivery_log::record))
        .route("/surat/{id}/revisi/{number}/pdf", get(files::revision_pdf))
        .route("/surat/{id}/pdf", get(files::final_pdf))
        .route("/surat/{id}/revisi/{number}/halaman/{page}", get(files::revision_png))
        .route("/surat/{id}/banding", get(files::compare))
        .route("/surat/massal", get(bulk::bulk_page).post(bulk::bulk_start))
        .route("/surat/massal/{job}", get(bulk::bulk_progress))
        .route("/surat/massal/{job}/lanjutkan", post(bulk::bulk_resume))
}

#[derive(Debug, Default, serde::Deserialize)]
struct ListQuery {
    #[serde(default)]
    halaman: String,
}

async fn list(State(state): State<AppState>, user: SessionUser, Query(query): Query<ListQuery>) -> Result<Response, PageError> {
    let paging = super::paging::Paging::parse(&query.halaman, 100);
    let (letters, total) = workflow::page(&state.db, user.department.id, paging.size, paging.offset()).await?;
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
            edit_label: "Buka".into(),
            ..Row::default()
        })
        .collect();
    let page = Page {
        heading: "Surat".into(),
        intro: "Semua konsep dan surat dinas ini, yang terakhir berubah di atas. Buat konsep baru dari menu Templat.".into(),
        links: paging.links(total, |n| format!("/surat?halaman={n}")),
        table: Some(Table {
            title: format!("Daftar surat ({})", paging.shown(letters.len(), total)),
            columns: ["Hal", "Templat", "Status", "Revisi", "Terakhir berubah"]
                .map(String::from)
                .to_vec(),
            rows,
        }),
        ..Page::default()
    };
    Ok(render_page(StatusCode::OK, Shell::for_user(&user, "Surat", "/surat"), page))
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
    /// Revocation and correction, behind their own disclosure below the letter.
    pub withdrawals: Vec<Form>,
    /// A refused revocation reopens the disclosure with its message.
    pub withdrawal_open: bool,
    /// Why the draft came back, above everything else while it is fixed.
    pub returned: Option<cases::letter::Returned>,
    pub returned_at: String,
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
    let view = cases::letter::view(&state.workflow(), &user.user, &user.department, id).await?;
    let manifest = state.catalogue.get(&view.letter.template_id)?;
    Ok(letter_template(user, view, manifest, page_number, edited, &errors, warning))
}

/// The page of a letter's view: the use case decided what the user may do, this only
/// turns it into forms and text.
fn letter_template(
    user: &SessionUser,
    view: LetterView,
    manifest: &Manifest,
    page_number: usize,
    edited: Option<&Value>,
    errors: &FieldErrors,
    warning: String,
) -> LetterTemplate {
    let letter = &view.letter;
    let page_number = page_number.clamp(1, view.pages.max(1));
    let waiting = view
        .waiting
        .as_ref()
        .map(|w| {
            format!(
                "Menunggu tahap {} oleh {} sejak {}; waktu baku {}.",
                w.step,
                w.who.join(", "),
                w.since.map(|t| time(user, t)).unwrap_or_default(),
                duration_text(w.standard_minutes)
            )
        })
        .unwrap_or_default();
    let overdue = view
        .waiting
        .as_ref()
        .and_then(|w| w.overdue_minutes)
        .map(|m| format!("Melewati waktu baku {}.", duration_text(m)))
        .unwrap_or_default();
    // A refused signature repeats the deadline warning: it is shown once, with its own box.
    let warning = if warning == view.deadline_warning { String::new() } else { warning };
    let bsre = sections::letter_extras(user, &view, errors);
    let mut forms = Vec::new();
    if view.actions.edit_draft {
        forms.extend(drafting_forms(user, &view, manifest, edited, errors));
    }
    if let Some(offer) = &view.actions.decide {
        forms.push(decision_form(user, &view, offer, bsre.decision_fields, &warning, (edited, errors)));
    }
    forms.extend(bsre.forms);
    let log = sections::letter_log(user, view.distribution.as_ref());
    let withdrawals = withdrawal_forms(user, &view, edited, errors);
    let withdrawal_open = withdrawals.iter().any(|f| !f.error_summary.is_empty());
    LetterTemplate {
        deliveries: log.rows,
        distribution_summary: log.summary,
        distribution_late: log.late,
        may_distribute: view.actions.record_deliveries,
        channels: crate::distribution::deliveries::CHANNELS.to_vec(),
        shell: Shell::for_user(user, &letter.subject, "/surat"),
        waiting: [waiting, bsre.status_line].join(" ").trim().to_string(),
        overdue,
        // The signed letter's image carries its final hash in the address: the draft's
        // image of the same revision, cached by the browser, is never shown for it.
        preview_src: match &letter.final_sha256 {
            Some(sha) => format!(
                "/surat/{}/revisi/{}/halaman/{}?resmi={}",
                letter.id,
                letter.revision,
                page_number,
                &sha[..sha.len().min(16)]
            ),
            None => format!("/surat/{}/revisi/{}/halaman/{}", letter.id, letter.revision, page_number),
        },
        pdf_href: if letter.final_sha256.is_some() {
            format!("/surat/{}/pdf", letter.id)
        } else {
            format!("/surat/{}/revisi/{}/pdf", letter.id, letter.revision)
        },
        withdrawals,
        withdrawal_open,
        returned_at: view.returned.as_ref().map(|r| time(user, r.at)).unwrap_or_default(),
        returned: view.returned.clone(),
        page_number,
        pages: view.pages,
        fields: view.fields.iter().map(|f| (f.label.clone(), f.text.clone())).collect(),
        revisions: view
            .revisions
            .iter()
            .map(|r| RevisionRow {
                number: r.number,
                author: r.author.clone(),
                when: time(user, r.created_at),
                note: r.note.clone(),
            })
            .collect(),
        steps: view.chain.iter().map(|s| step_row(user, s)).collect(),
        timeline: view
            .timeline
            .iter()
            .map(|e| TimelineRow {
                when: time(user, e.at),
                who: e.who.clone(),
                what: e.what.clone(),
                detail: e.detail.clone(),
            })
            .collect(),
        forms,
        warning,
        deadline_warning: view.deadline_warning,
        signed_by: view.signed_by,
        long_term: view.long_term,
        letter_date: view.letter_date_text,
        template_title: view.template_title,
        letter: view.letter,
    }
}

fn step_row(user: &SessionUser, s: &StepLine) -> StepRow {
    StepRow {
        label: format!("{} · putaran {}", s.label, s.round),
        who: s.who.clone(),
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
        duration: match s.duration_minutes {
            Some(m) if s.running => format!("{} (berjalan)", duration_text(m)),
            Some(m) => duration_text(m),
            None => String::new(),
        },
        overdue: s.overdue,
        decision: s.decision.clone(),
        note: s.note.clone(),
        current: s.running,
    }
}

/// The drafting or typing step's forms: edit, classify, pass on.
fn drafting_forms(user: &SessionUser, view: &LetterView, manifest: &Manifest, edited: Option<&Value>, errors: &FieldErrors) -> Vec<Form> {
    let letter = &view.letter;
    let version = vec![("versi".to_string(), letter.version.to_string())];
    let mut edit_fields = manifest_fields(manifest, edited.unwrap_or(&view.data));
    edit_fields.push(
        Field {
            kind: "textarea",
            ..Field::text(
                "catatan_revisi",
                "Catatan revisi",
                edited.and_then(|v| v.get("catatan_revisi")).and_then(Value::as_str).unwrap_or(""),
            )
        }
        .help("Apa yang diubah, untuk riwayat revisi."),
    );
    let next = view.actions.submit_to.clone().unwrap_or_default();
    // Saving and passing on are one button: an edit is never forwarded unsaved.
    let mut edit = Form::new(
        "Ubah dan teruskan konsep",
        &format!("/surat/{}/revisi", letter.id),
        user.csrf(),
        "Simpan revisi saja",
        edit_fields,
    )
    .with_errors(errors);
    edit.then_submit = format!("Simpan dan teruskan ke {next}");
    edit.hidden = version.clone();
    let mut options: Vec<Choice> = Vec::new();
    if letter.classification_code.is_empty() {
        options.push(Choice::new("", "— pilih —", true));
    }
    options.extend(view.actions.classification_codes.iter().map(|c| {
        Choice::new(
            c.code.clone(),
            format!("{} {}", c.code, c.name),
            c.code == letter.classification_code,
        )
    }));
    let mut classify = Form::new(
        "Kode klasifikasi",
        &format!("/surat/{}/klasifikasi", letter.id),
        user.csrf(),
        "Simpan kode",
        vec![Field::select("kode_klasifikasi", "Kode klasifikasi (bagian awal nomor surat)", options).required()],
    );
    classify.hidden = version;
    vec![edit, classify]
}

/// The paraf or signature form of the step the user holds or acts for.
fn decision_form(
    user: &SessionUser,
    view: &LetterView,
    offer: &DecisionOffer,
    bsre_fields: Vec<Field>,
    warning: &str,
    (typed, errors): (Option<&Value>, &FieldErrors),
) -> Form {
    let typed = |name: &str| typed.and_then(|v| v.get(name)).and_then(Value::as_str).unwrap_or("").to_string();
    let chosen = typed("keputusan");
    let decisions = offer
        .choices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let label = match d {
                Decision::TandaTangan => "Tanda tangani",
                Decision::Paraf => "Paraf (setujui)",
                other => other.label(),
            };
            Choice::new(d.key(), label, if chosen.is_empty() { i == 0 } else { d.key() == chosen })
        })
        .collect();
    let passphrase_help = passphrase_help(user, offer.passphrase);
    let mut fields = vec![
        Field::select("keputusan", "Keputusan", decisions).required(),
        Field {
            kind: "textarea",
            ..Field::text("catatan", "Catatan", &typed("catatan"))
        }
        .help("Wajib bila surat dikembalikan atau ditolak."),
        Field::password("frasa_sandi", "Frasa sandi tanda tangan", "off")
            .required()
            .help(&passphrase_help),
    ];
    fields.extend(bsre_fields);
    if offer.confirm_deadlines {
        fields.push(Field::checkboxes(
            "terima_batas_waktu",
            "Batas waktu",
            vec![Choice::new(
                "ya",
                crate::letters::deadline::confirmation(&view.deadlines.passed),
                false,
            )],
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
    let title = if offer.acting_as.is_empty() {
        format!("{} — keputusan Anda", offer.step_label)
    } else {
        format!("{} — sebagai {} {}", offer.step_label, offer.acting_as, offer.position_title)
    };
    let mut form = Form::new(
        &title,
        &format!("/surat/{}/keputusan", view.letter.id),
        user.csrf(),
        "Kirim keputusan",
        fields,
    )
    .with_errors(errors);
    form.hidden = vec![("revisi".into(), view.letter.revision.to_string())];
    form
}

/// The passphrase field's help: before the lock how many tries remain, while the key
/// is held until when.
pub(super) fn passphrase_help(user: &SessionUser, standing: Option<PassphraseStanding>) -> String {
    match standing {
        Some(PassphraseStanding {
            held_until: Some(until), ..
        }) => format!(
            "Kunci Anda ditahan karena {} kali frasa sandi salah, sampai {}.",
            crate::keys::PASSPHRASE_LIMIT,
            user.department.tz().format_time(until)
        ),
        Some(PassphraseStanding { tries_left, .. }) if tries_left < crate::keys::PASSPHRASE_LIMIT => format!(
            "Bukan kata sandi masuk. Sisa {tries_left} kali percobaan; sesudah itu kunci Anda ditahan {} menit.",
            crate::keys::PASSPHRASE_WINDOW_MINUTES
        ),
        _ => "Bukan kata sandi masuk. Frasa sandi membuka kunci tanda tangan Anda untuk keputusan ini saja.".into(),
    }
}

/// Revoking a signed letter and starting its correction, for its signer or an
/// administrator: each names what it does to the letter and asks to be confirmed.
/// `edited` keeps the typed reason of a refused revocation.
fn withdrawal_forms(user: &SessionUser, view: &LetterView, edited: Option<&Value>, errors: &FieldErrors) -> Vec<Form> {
    let id = view.letter.id;
    let mut forms = Vec::new();
    let typed = |name: &str| edited.and_then(|v| v.get(name)).and_then(Value::as_str).unwrap_or("").to_string();
    if view.actions.revoke {
        let mut form = Form::new(
            "Cabut surat",
            &format!("/surat/{id}/cabut"),
            user.csrf(),
            "Cabut surat ini",
            vec![
                Field {
                    kind: "textarea",
                    ..Field::text("alasan", "Alasan pencabutan", &typed("alasan"))
                }
                .required()
                .help("Ditampilkan di halaman verifikasi publik."),
                Field::checkboxes(
                    "paham",
                    "Akibat pencabutan",
                    vec![Choice::new(
                        "ya",
                        "Saya mengerti: surat ini tidak berlaku lagi, siapa pun yang memindai kode QR-nya melihat DICABUT beserta alasannya, nomornya tetap tercatat di agenda sebagai dicabut dan tidak dipakai lagi. Pencabutan tidak dapat dibatalkan.",
                        typed("paham") == "ya",
                    )],
                )
                .required(),
            ],
        )
        .with_errors(errors);
        form.danger = true;
        forms.push(form);
    }
    if view.actions.correct {
        let mut form = Form::new("Ralat", &format!("/surat/{id}/ralat"), user.csrf(), "Buat ralat surat ini", vec![]);
        form.intro = "Ralat membuat konsep baru dari isi surat ini. Setelah ralat ditandatangani, surat ini tercatat DIGANTI dan halaman verifikasinya menunjuk ke ralatnya.".into();
        forms.push(form);
    }
    forms
}
