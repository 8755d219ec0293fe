//! Bulk paraf or signature of the letters waiting on the user, run as a durable job
//! (`jobs::bulk`): its page shows the progress from the database, so it tells the truth
//! from any process and after a restart, and offers to continue a job that stopped.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::actions::{denied_as_message, form_field_names};
use crate::{
    AppState,
    auth::{PageForm, SessionUser},
    cases,
    db::now,
    error::{Failure, PageError},
    jobs::{self, bulk::Progress},
    pages::{Choice, Field, Form, FormData, Page, Shell, form_failure, render, render_page},
    validation::FieldErrors,
    workflow::Decision,
};

#[derive(Debug, Default, Deserialize)]
pub(super) struct BulkQuery {
    /// Only the letters of this batch.
    #[serde(default)]
    kumpulan: Option<i64>,
}

pub(super) async fn bulk_page(
    State(state): State<AppState>,
    user: SessionUser,
    Query(query): Query<BulkQuery>,
) -> Result<Response, PageError> {
    bulk_form_page(&state, &user, query.kumpulan, FieldErrors::default(), StatusCode::OK).await
}

async fn bulk_form_page(
    state: &AppState,
    user: &SessionUser,
    batch: Option<i64>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let cases::bulk::Offer {
        tasks,
        can_sign,
        can_paraf,
    } = cases::bulk::offer(&state.workflow(), &user.user, &user.department, batch).await?;
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

/// The letters ticked, each with the revision the user saw ("id:revision").
fn chosen_letters(form: &FormData) -> Vec<(i64, i64)> {
    form.all("surat")
        .iter()
        .filter_map(|v| v.split_once(':'))
        .filter_map(|(id, rev)| Some((id.parse().ok()?, rev.parse().ok()?)))
        .collect()
}

pub(super) async fn bulk_start(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
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
    let letters = chosen_letters(&form);
    let deadline_accepted = form.get("terima_batas_waktu") == "ya";
    match cases::bulk::start(
        &state.workflow(),
        &user.user,
        &letters,
        decision,
        deadline_accepted,
        &form.get("frasa_sandi"),
    )
    .await
    {
        Ok(job) => Ok(Redirect::to(&format!("/surat/massal/{}", job.public_id)).into_response()),
        Err(e) => {
            let (mut errors, status) = form_failure(Failure::from(e)).or_else(denied_as_message)?;
            form_field_names(&mut errors);
            bulk_form_page(&state, &user, batch, errors, status).await
        }
    }
}

/// A failed letter of a bulk job, as the page lists it.
struct FailedRow {
    letter_id: i64,
    subject: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "bulk.html")]
struct BulkTemplate {
    shell: Shell,
    decision: String,
    total: i64,
    done: i64,
    percent: i64,
    finished: bool,
    /// Its process stopped before every letter was taken.
    stopped: bool,
    pending: usize,
    failures: Vec<FailedRow>,
    resume: Option<Form>,
}

fn bulk_view(user: &SessionUser, progress: Progress, errors: &FieldErrors) -> BulkTemplate {
    let stopped = progress.job.stopped(now());
    let pending = progress.pending();
    let resume = stopped.then(|| {
        Form::new(
            "Lanjutkan",
            &format!("/surat/massal/{}/lanjutkan", progress.job.public_id),
            user.csrf(),
            "Lanjutkan",
            vec![Field::password("frasa_sandi", "Frasa sandi tanda tangan", "off").required()],
        )
        .with_errors(errors)
    });
    BulkTemplate {
        shell: Shell::for_user(user, "Proses massal", "/surat"),
        decision: progress.decision.label().into(),
        total: progress.job.total,
        done: progress.job.done,
        percent: progress.job.percent(),
        finished: progress.job.state != jobs::RUNNING,
        stopped,
        pending,
        failures: progress
            .failures()
            .map(|item| FailedRow {
                letter_id: item.target,
                subject: item.label.clone(),
                reason: item.message.clone(),
            })
            .collect(),
        resume,
    }
}

pub(super) async fn bulk_progress(
    State(state): State<AppState>,
    user: SessionUser,
    Path(job_id): Path<String>,
) -> Result<Response, PageError> {
    let progress = cases::bulk::progress(&state.workflow(), &user.user, &job_id)
        .await?
        .ok_or(Failure::NotFound)?;
    Ok(render(StatusCode::OK, &bulk_view(&user, progress, &FieldErrors::default())))
}

/// Continues a stopped job with the letters still pending.
pub(super) async fn bulk_resume(
    State(state): State<AppState>,
    user: SessionUser,
    Path(job_id): Path<String>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let flow = state.workflow();
    match cases::bulk::resume(&flow, &user.user, &job_id, &form.get("frasa_sandi")).await {
        Ok(job) => Ok(Redirect::to(&format!("/surat/massal/{}", job.public_id)).into_response()),
        Err(e) => {
            let (mut errors, status) = form_failure(Failure::from(e)).or_else(denied_as_message)?;
            form_field_names(&mut errors);
            let progress = cases::bulk::progress(&flow, &user.user, &job_id).await?.ok_or(Failure::NotFound)?;
            Ok(render(status, &bulk_view(&user, progress, &errors)))
        }
    }
}
