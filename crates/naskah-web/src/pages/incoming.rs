//! Surat masuk: registering incoming letters with their scans, the Kepala Dinas's
//! disposition, and, for a village's reply, applying its answers to the candidates of
//! the confirmation letter (ticked row by row, a proposed replacement, or the filled
//! list uploaded).

use askama::Template;
use axum::{
    Router,
    extract::{Multipart, Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, id_choices, render, render_page};
use crate::{
    AppState,
    accounts::{self, Role},
    auth::{PageForm, SessionUser},
    beneficiaries::{
        self,
        candidates::{Candidate, Status},
        replies::{self, Answer, Replacement},
    },
    error::{Failure, PageError},
    incoming::{self, DispositionInput, Incoming, IncomingInput, Scan},
    text,
    validation::FieldErrors,
};

const MAX_UPLOAD: usize = crate::uploads::INCOMING_SCAN;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/surat-masuk",
            get(list_page)
                .post(register)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/surat-masuk/{id}", get(detail_page))
        .route("/surat-masuk/{id}/pindaian", get(scan))
        .route("/surat-masuk/{id}/disposisi", post(dispose))
        .route("/surat-masuk/{id}/jawaban", post(answers))
        .route("/surat-masuk/{id}/pengganti", post(replacement))
        .route(
            "/surat-masuk/{id}/daftar-isian",
            post(filled_list).layer(axum::extract::DefaultBodyLimit::max(crate::uploads::FILLED_LIST)),
        )
        .route("/surat-masuk/{id}/daftar-isian.csv", get(blank_list))
        .route("/disposisi/{id}/selesai", post(complete))
}

/// Every member of staff reads incoming letters (they reach the department as a whole).
fn require_staff(user: &SessionUser) -> Result<(), PageError> {
    if user.user.roles.is_empty() {
        Err(PageError(Failure::Forbidden))
    } else {
        Ok(())
    }
}

async fn list_page(
    State(state): State<AppState>,
    user: SessionUser,
    axum::extract::Query(notice): axum::extract::Query<Notice>,
) -> Result<Response, PageError> {
    require_staff(&user)?;
    list_with(
        &state,
        &user,
        notice.text(),
        &IncomingInput::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn list_with(
    state: &AppState,
    user: &SessionUser,
    notice: &str,
    input: &IncomingInput,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let list = incoming::list(&state.db, user.department.id, 500).await?;
    let rows = list
        .iter()
        .map(|i| Row {
            cells: vec![
                i.agenda_number(),
                text::date_long_iso(&i.received_on),
                i.sender.clone(),
                format!("{}, {}", i.letter_number, text::date_long_iso(&i.letter_date)),
                i.subject.clone(),
                i.status_label().into(),
            ],
            edit_href: format!("/surat-masuk/{}", i.id),
            edit_label: "Buka".into(),
            ..Row::default()
        })
        .collect();
    let mut forms = Vec::new();
    if incoming::may_register(&user.user) {
        let today = user.department.tz().today().format("%Y-%m-%d").to_string();
        let answerable = incoming::answerable_letters(&state.db, user.department.id).await?;
        let mut form = Form::new(
            "Catat surat masuk",
            "/surat-masuk",
            user.csrf(),
            "Catat dan beri nomor agenda",
            vec![
                Field {
                    kind: "date",
                    ..Field::text(
                        "diterima",
                        "Tanggal diterima",
                        if input.received_on.is_empty() { &today } else { &input.received_on },
                    )
                }
                .required(),
                Field::select(
                    "balasan_untuk",
                    "Balasan atas surat kita",
                    id_choices(answerable, input.reply_to_letter_id, "— bukan balasan —"),
                )
                .help("Untuk balasan desa atas surat konfirmasi: hasilnya lalu dapat dicatat per calon."),
                Field::text("pengirim", "Pengirim", &input.sender).help("Boleh kosong untuk balasan: diisi nama desa/kelurahan."),
                Field::text("nomor_surat", "Nomor surat", &input.letter_number).required(),
                Field {
                    kind: "date",
                    ..Field::text("tanggal_surat", "Tanggal surat", &input.letter_date)
                }
                .required(),
                Field::text("hal", "Hal", &input.subject).required(),
                Field::file(
                    "berkas",
                    "Pindaian surat (PDF, paling besar 10 MB)",
                    ".pdf,application/pdf",
                    crate::incoming::MAX_PDF,
                ),
            ],
        )
        .with_errors(&errors);
        form.multipart = true;
        forms.push(form);
    }
    let mut shell = Shell::for_user(user, "Surat masuk", "/surat-masuk");
    shell.notice = notice.into();
    let page = Page {
        heading: "Surat masuk".into(),
        intro: "Setiap surat masuk dicatat dengan nomor agenda, lalu didisposisikan Kepala Dinas kepada pejabat yang menindaklanjutinya. \
                Balasan desa atas surat konfirmasi dihubungkan ke suratnya agar hasilnya dicatat per calon."
            .into(),
        forms,
        table: Some(Table {
            title: "Agenda surat masuk".into(),
            columns: ["Agenda", "Diterima", "Pengirim", "Nomor dan tanggal", "Hal", "Keadaan"]
                .map(String::from)
                .to_vec(),
            rows,
        }),
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn register(State(state): State<AppState>, user: SessionUser, multipart: Multipart) -> Result<Response, PageError> {
    require_staff(&user)?;
    let (form, file_name, bytes) = super::read_upload(multipart, "berkas").await?;
    let reply_to = form.id("balasan_untuk");
    let input = IncomingInput {
        received_on: form.get("diterima"),
        sender: form.get("pengirim"),
        letter_number: form.get("nomor_surat"),
        letter_date: form.get("tanggal_surat"),
        subject: form.get("hal"),
        reply_to_letter_id: reply_to.clone().ok().flatten(),
    };
    if let Err(errors) = reply_to {
        return list_with(&state, &user, "", &input, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let scan = (!bytes.is_empty()).then_some(Scan {
        name: &file_name,
        bytes: &bytes,
    });
    match incoming::register(&state.db, &user.user, &user.department, input.clone(), scan).await {
        Ok(letter) => Ok(Redirect::to(&format!("/surat-masuk/{}?ok=dibuat", letter.id)).into_response()),
        Err(incoming::Error::Invalid(errors)) => list_with(&state, &user, "", &input, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(other) => Err(other.into()),
    }
}

struct ListRow {
    id: i64,
    name: String,
    nik: String,
    status: String,
    status_key: String,
    reason: String,
    /// What was chosen and typed in a refused form ("sesuai", "tidak" or ""), kept.
    answer: String,
    typed_reason: String,
    /// The row's own message of a refused form.
    error: String,
}

/// What the user typed in a refused form, put back into it.
#[derive(Default)]
struct Typed<'a> {
    replacement: Option<(Replacement, FieldErrors)>,
    answers: Option<&'a FormData>,
}

#[derive(Template)]
#[template(path = "incoming.html")]
struct IncomingTemplate {
    shell: Shell,
    letter: Incoming,
    received: String,
    letter_date: String,
    /// The scan's size as people say it ("120 KB", "1,5 MB"; a tiny file in bytes).
    scan_size: String,
    reply_to: String,
    /// Each disposition with when it was given, whether the user may close it, its due date.
    dispositions: Vec<(incoming::Disposition, String, bool, String)>,
    disposition_form: Option<Form>,
    list: Vec<ListRow>,
    /// The user may read the candidates' names (else the list is only counted).
    may_read: bool,
    may_apply: bool,
    replacement_form: Option<Form>,
    upload_form: Option<Form>,
    errors: Vec<String>,
    tz_applied: String,
}

async fn detail_page(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    axum::extract::Query(notice): axum::extract::Query<Notice>,
) -> Result<Response, PageError> {
    require_staff(&user)?;
    detail(
        &state,
        &user,
        id,
        notice.text(),
        FieldErrors::default(),
        Typed::default(),
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn detail(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    notice: &str,
    errors: FieldErrors,
    typed: Typed<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let letter = incoming::get(&state.db, user.department.id, id).await?;
    let tz = user.department.tz();
    let today = tz.today().format("%Y-%m-%d").to_string();
    // Open dispositions to the user or to a unit of theirs: they may close them.
    let open: std::collections::HashSet<i64> = incoming::open_tasks(&state.db, user.department.id, user.user.id)
        .await?
        .iter()
        .map(|(d, _)| d.id)
        .collect();
    let dispositions = incoming::dispositions(&state.db, id)
        .await?
        .into_iter()
        .map(|d| {
            let mine = open.contains(&d.id);
            let when = tz.format_time(d.created_at);
            let due = text::date_long_iso(&d.due_on);
            (d, when, mine, due)
        })
        .collect();
    let disposition_form = if user.user.has(Role::Signer) {
        let users = accounts::list(&state.db, user.department.id).await?;
        let mut targets = vec![Choice::new("", "— pilih —", true)];
        targets.extend(users.iter().filter(|u| u.active && u.id != user.user.id).map(|u| {
            let roles = u.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ");
            Choice::new(format!("o:{}", u.id), format!("{} ({roles})", u.display_name), false)
        }));
        targets.extend(
            crate::departments::list_units(&state.db, user.department.id)
                .await?
                .into_iter()
                .map(|unit| Choice::new(format!("u:{}", unit.id), format!("Unit: {}", unit.name), false)),
        );
        Some(Form::new(
            "Disposisi",
            &format!("/surat-masuk/{id}/disposisi"),
            user.csrf(),
            "Disposisikan",
            vec![
                Field::select("kepada", "Kepada", targets)
                    .required()
                    .help("Seorang pejabat/staf, atau satu unit: semua anggotanya melihatnya di Tugas saya."),
                Field {
                    kind: "textarea",
                    ..Field::text("instruksi", "Instruksi", "")
                }
                .required()
                .help("Misalnya: Tindak lanjuti, perbarui data calon sesuai balasan."),
                Field {
                    kind: "date",
                    ..Field::text("batas", "Batas waktu", &today)
                }
                .required(),
            ],
        ))
    } else {
        None
    };
    let may_apply = letter.reply_to_letter_id.is_some() && beneficiaries::may_manage(&user.user);
    let (mut list, mut reply_to) = (Vec::new(), String::new());
    let mut replacement_form = None;
    let mut upload_form = None;
    if let Some(letter_id) = letter.reply_to_letter_id {
        reply_to = incoming::answerable_label(&state.db, user.department.id, letter_id)
            .await?
            .unwrap_or_default();
        // The names only for those who may read them on the candidate pages too.
        let candidates: Vec<Candidate> = if beneficiaries::may_read(&user.user) {
            replies::list_of_letter(&state.db, user.department.id, letter_id).await?
        } else {
            Vec::new()
        };
        list = candidates
            .iter()
            .map(|c| ListRow {
                id: c.id,
                name: c.name.clone(),
                nik: c.masked_nik(),
                status: c.status().label().into(),
                status_key: c.status.clone(),
                reason: c.status_reason.clone(),
                answer: typed.answers.map(|f| f.get(&format!("hasil_{}", c.id))).unwrap_or_default(),
                typed_reason: typed.answers.map(|f| f.get(&format!("alasan_{}", c.id))).unwrap_or_default(),
                error: errors.get(&format!("alasan_{}", c.id)).map(str::to_string).unwrap_or_default(),
            })
            .collect();
        if may_apply {
            let replaceable: Vec<(String, String)> = candidates
                .iter()
                .filter(|c| c.status() == Status::Rejected || c.status() == Status::OnList)
                .map(|c| (c.id.to_string(), format!("{} ({})", c.name, c.status().label())))
                .collect();
            let rejected: Vec<(&str, &str)> = replaceable.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let (typed, typed_errors) = typed.replacement.unwrap_or_default();
            replacement_form = Some(
                Form::new(
                    "Pengganti yang diusulkan desa",
                    &format!("/surat-masuk/{id}/pengganti"),
                    user.csrf(),
                    "Catat pengganti",
                    vec![
                        Field::select(
                            "menggantikan",
                            "Menggantikan",
                            choices(&rejected, &typed.replaces.to_string(), Some("— pilih calon yang ditolak —")),
                        )
                        .required(),
                        Field::text("alasan", "Alasan penolakan (bila calon itu belum ditolak)", "")
                            .help("Misalnya: pindah domisili, meninggal dunia, sudah menjadi peserta BPJS."),
                        Field::text("nik", "NIK", &typed.nik).required(),
                        Field::text("nama", "Nama", &typed.name).required(),
                        Field::select(
                            "jenis_kelamin",
                            "Jenis kelamin",
                            choices(&[("L", "Laki-laki"), ("P", "Perempuan")], &typed.sex, Some("—")),
                        )
                        .required(),
                        Field {
                            kind: "date",
                            ..Field::text("tanggal_lahir", "Tanggal lahir", &typed.birth_date)
                        }
                        .required(),
                        Field::text("pekerjaan", "Pekerjaan", &typed.occupation),
                        Field::text("alamat", "Alamat", &typed.address),
                    ],
                )
                .with_errors(&typed_errors),
            );
            let mut form = Form::new(
                "Unggah daftar isian dari desa",
                &format!("/surat-masuk/{id}/daftar-isian"),
                user.csrf(),
                "Catat hasil dari berkas",
                vec![
                    Field::file("berkas", "Daftar isian (CSV atau XLSX)", ".csv,.xlsx,text/csv", crate::uploads::FILLED_LIST)
                        .required()
                        .help("Kolom NIK, Hasil (sesuai / tidak sesuai / pengganti), Alasan; baris pengganti dengan Menggantikan NIK, Nama, Jenis Kelamin, Tanggal Lahir, Pekerjaan, Alamat."),
                ],
            );
            form.multipart = true;
            upload_form = Some(form);
        }
    }
    let mut shell = Shell::for_user(user, &format!("Surat masuk {}", letter.agenda_number()), "/surat-masuk");
    shell.notice = notice.into();
    let template = IncomingTemplate {
        shell,
        received: text::date_long_iso(&letter.received_on),
        letter_date: text::date_long_iso(&letter.letter_date),
        scan_size: match usize::try_from(letter.pdf_size).unwrap_or_default() {
            small @ 0..1024 => format!("{small} byte"),
            bytes => crate::uploads::megabytes(bytes),
        },
        reply_to,
        dispositions,
        disposition_form,
        list,
        may_read: beneficiaries::may_read(&user.user),
        may_apply,
        replacement_form,
        upload_form,
        errors: errors.0.iter().map(|e| e.message.clone()).collect(),
        tz_applied: letter.applied_at.map(|at| tz.format_time(at)).unwrap_or_default(),
        letter,
    };
    Ok(render(status, &template))
}

async fn scan(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_staff(&user)?;
    let (name, bytes) = incoming::scan(&state.db, user.department.id, id)
        .await?
        .ok_or(PageError(Failure::NotFound))?;
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}\"", if safe.is_empty() { "surat.pdf" } else { &safe }),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn dispose(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    require_staff(&user)?;
    let input = DispositionInput {
        to: match form.get("kepada").split_once(':') {
            Some(("o", id)) => id.parse().ok().map(incoming::Target::User),
            Some(("u", id)) => id.parse().ok().map(incoming::Target::Unit),
            _ => None,
        },
        instructions: form.get("instruksi"),
        due_on: form.get("batas"),
    };
    match incoming::dispose(&state.db, &user.user, &user.department, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/surat-masuk/{id}?ok=disposisi")).into_response()),
        Err(incoming::Error::Invalid(errors)) => {
            detail(&state, &user, id, "", errors, Typed::default(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn complete(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    require_staff(&user)?;
    incoming::complete(&state.db, &user.user, user.department.id, id, &form.get("catatan")).await?;
    Ok(Redirect::to("/?ok=tersimpan").into_response())
}

async fn reply_letter(state: &AppState, user: &SessionUser, id: i64) -> Result<Incoming, PageError> {
    if !beneficiaries::may_manage(&user.user) {
        return Err(PageError(Failure::Denied(
            "Hanya pengolah data calon yang mencatat hasil balasan desa.".into(),
        )));
    }
    Ok(incoming::get(&state.db, user.department.id, id).await?)
}

fn actor(user: &SessionUser) -> crate::audit::Actor {
    user.user.actor()
}

async fn answers(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let letter = reply_letter(&state, &user, id).await?;
    let mut answers = Vec::new();
    for (name, value) in &form.0 {
        let Some(candidate) = name.strip_prefix("hasil_").and_then(|n| n.parse::<i64>().ok()) else {
            continue;
        };
        match value.as_str() {
            "sesuai" => answers.push((candidate, Answer::Confirmed)),
            "tidak" => answers.push((candidate, Answer::Rejected(form.get(&format!("alasan_{candidate}"))))),
            _ => {}
        }
    }
    match replies::apply(&state.db, &actor(&user), &user.department, &letter, &answers, &[]).await {
        Ok(_) => Ok(Redirect::to(&format!("/surat-masuk/{id}?ok=tersimpan#daftar")).into_response()),
        Err(beneficiaries::Error::Invalid(errors)) => {
            let typed = Typed {
                answers: Some(&form),
                ..Typed::default()
            };
            detail(&state, &user, id, "", errors, typed, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(other) => Err(other.into()),
    }
}

/// A replacement typed into the form, and the rejection of the candidate it replaces
/// when a reason is given (a candidate still on the list is rejected with it).
fn typed_replacement(form: &FormData) -> (Replacement, Vec<(i64, Answer)>) {
    let typed = Replacement {
        replaces: form.id("menggantikan").ok().flatten().unwrap_or_default(),
        nik: form.get("nik"),
        name: form.get("nama"),
        sex: form.get("jenis_kelamin"),
        birth_date: form.get("tanggal_lahir"),
        address: form.get("alamat"),
        occupation: form.get("pekerjaan"),
    };
    let reason = form.get("alasan");
    let answers = if reason.trim().is_empty() {
        Vec::new()
    } else {
        vec![(typed.replaces, Answer::Rejected(reason))]
    };
    (typed, answers)
}

async fn replacement(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let letter = reply_letter(&state, &user, id).await?;
    let (typed, answers) = typed_replacement(&form);
    match replies::apply(
        &state.db,
        &actor(&user),
        &user.department,
        &letter,
        &answers,
        std::slice::from_ref(&typed),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/surat-masuk/{id}?ok=tersimpan#daftar")).into_response()),
        Err(beneficiaries::Error::Invalid(errors)) => {
            let typed = Typed {
                replacement: Some((typed, errors)),
                ..Typed::default()
            };
            detail(
                &state,
                &user,
                id,
                "",
                FieldErrors::default(),
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

async fn filled_list(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let letter = reply_letter(&state, &user, id).await?;
    let (_, _, bytes) = super::read_upload(multipart, "berkas").await?;
    let outcome = replies::apply_filled_list(&state.db, &actor(&user), &user.department, &letter, &bytes).await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/surat-masuk/{id}?ok=tersimpan#daftar")).into_response()),
        Err(beneficiaries::Error::Invalid(errors)) => {
            detail(&state, &user, id, "", errors, Typed::default(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(beneficiaries::Error::Unreadable(message)) => {
            let errors = FieldErrors::single("_", format!("Berkas tidak dapat dibaca: {message}."));
            detail(&state, &user, id, "", errors, Typed::default(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The list to fill, as the village returns it: full NIKs, so only for those who work
/// on the data; stamped with who downloaded it and when; cells defused.
async fn blank_list(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    let letter = reply_letter(&state, &user, id).await?;
    let letter_id = letter.reply_to_letter_id.ok_or(PageError(Failure::NotFound))?;
    let on_list = replies::list_of_letter(&state.db, user.department.id, letter_id).await?;
    beneficiaries::candidates::record_export(&state.db, &actor(&user), user.department.id, "daftar-isian", on_list.len()).await?;
    let title = format!(
        "Daftar isian {} ({}), diunduh oleh {} pada {}. Data pribadi: jangan disebarkan.",
        letter.agenda_number(),
        letter.sender,
        user.user.display_name,
        user.department.tz().format_time(crate::db::now())
    );
    let bytes = blank_list_csv(&title, &on_list).map_err(|e| PageError(Failure::Internal(e.to_string())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"daftar-isian-{id}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// The list a village fills in: its candidates, with empty columns for the outcome.
fn blank_list_csv(title: &str, on_list: &[beneficiaries::candidates::Candidate]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    out.write_record([title])?;
    out.write_record([
        "No",
        "NIK",
        "Nama",
        "Hasil",
        "Alasan",
        "Menggantikan NIK",
        "Jenis Kelamin",
        "Tanggal Lahir",
        "Pekerjaan",
        "Alamat",
    ])?;
    for (i, c) in on_list.iter().enumerate() {
        out.write_record([
            (i + 1).to_string(),
            c.nik.clone(),
            text::spreadsheet_safe(&c.name),
            String::new(),
            String::new(),
            String::new(),
            c.sex.clone(),
            c.birth_date.clone(),
            text::spreadsheet_safe(&c.occupation),
            text::spreadsheet_safe(&c.address),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
