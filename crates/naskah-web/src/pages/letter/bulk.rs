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
    pages::{Field, Form, FormData, Shell, form_failure, render},
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
    bulk_form_page(&state, &user, query.kumpulan, None, FieldErrors::default(), StatusCode::OK).await
}

/// One letter to choose, with what sets it apart.
struct ChoiceRow {
    id: i64,
    revision: i64,
    /// "id:revision", the value sent.
    value: String,
    subject: String,
    step: String,
    recipient: String,
    rows: String,
    overdue: bool,
    checked: bool,
}

#[derive(Template)]
#[template(path = "bulk_choose.html")]
struct ChooseTemplate {
    shell: Shell,
    batch: Option<i64>,
    back_href: String,
    /// The subject every row shares, shown once; "" when they differ.
    common_subject: String,
    rows: Vec<ChoiceRow>,
    can_paraf: bool,
    can_sign: bool,
    decision: String,
    deadline_accepted: bool,
    errors: Vec<String>,
    passphrase_error: String,
    passphrase_help: String,
}

async fn bulk_form_page(
    state: &AppState,
    user: &SessionUser,
    batch: Option<i64>,
    typed: Option<&FormData>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let cases::bulk::Offer {
        tasks,
        distinct,
        passphrase,
        can_sign,
        can_paraf,
    } = cases::bulk::offer(&state.workflow(), &user.user, &user.department, batch).await?;
    let chosen: Option<Vec<String>> = typed.map(|f| f.all("surat"));
    let common_subject = match tasks.first() {
        Some(first) if tasks.iter().all(|t| t.letter.subject == first.letter.subject) => first.letter.subject.clone(),
        _ => String::new(),
    };
    let rows = tasks
        .iter()
        .zip(&distinct)
        .map(|(t, d)| {
            let value = format!("{}:{}", t.letter.id, t.letter.revision);
            ChoiceRow {
                id: t.letter.id,
                revision: t.letter.revision,
                checked: chosen.as_ref().is_none_or(|c| c.contains(&value)),
                value,
                subject: t.letter.subject.clone(),
                step: t.step.label.clone(),
                recipient: d.recipient.clone(),
                rows: d.rows.map(|n| format!("{n} baris")).unwrap_or_default(),
                overdue: t.overdue_minutes.is_some(),
            }
        })
        .collect();
    let page = ChooseTemplate {
        shell: Shell::for_user(user, "Paraf dan tanda tangan sekaligus", "/surat"),
        batch,
        back_href: batch.map(|b| format!("/kumpulan/{b}")).unwrap_or_else(|| "/".into()),
        common_subject,
        rows,
        can_paraf,
        can_sign,
        decision: typed.map(|f| f.get("keputusan")).unwrap_or_default(),
        deadline_accepted: typed.is_some_and(|f| f.get("terima_batas_waktu") == "ya"),
        passphrase_error: errors.get("frasa_sandi").unwrap_or_default().to_string(),
        passphrase_help: super::passphrase_help(user, passphrase),
        errors: errors.0.iter().map(|e| e.message.clone()).collect(),
    };
    Ok(render(status, &page))
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
            Some(&form),
            FieldErrors::single("keputusan", "Pilih keputusan: paraf atau tanda tangan."),
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
            bulk_form_page(&state, &user, batch, Some(&form), errors, status).await
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
