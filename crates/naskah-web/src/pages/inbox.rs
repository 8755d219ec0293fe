//! "Tugas saya", the home page: what waits on the user, approvals and dispositions.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};

use super::{Notice, Shell, duration_text, render, time};
use crate::{AppState, accounts, auth::SessionUser, departments, error::PageError, incoming, text, workflow};

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

/// The open dispositions to the user, as rows of "Tugas saya".
pub async fn disposition_tasks(state: &AppState, user: &SessionUser) -> Result<Vec<InboxRow>, PageError> {
    let tz = user.department.tz();
    let today = tz.today().format("%Y-%m-%d").to_string();
    Ok(incoming::open_tasks(&state.db, user.department.id, user.user.id)
        .await?
        .into_iter()
        .map(|(d, letter)| InboxRow {
            href: format!("/surat-masuk/{}", letter.id),
            subject: format!("{} {} — {}", letter.agenda_number(), letter.subject, letter.sender),
            stage: format!("Disposisi dari {}: {}", d.from_name, d.instructions),
            since: tz.format_time(d.created_at),
            standard: format!("batas {}", text::date_long_iso(&d.due_on)),
            overdue: if d.due_on < today { "lewat batas".into() } else { String::new() },
            acting_as: String::new(),
            approval: false,
        })
        .collect())
}
#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    shell: Shell,
    roles: String,
    is_admin: bool,
    counts: (usize, usize, usize, usize),
    tasks: Vec<InboxRow>,
    /// Tasks at a paraf or signature step (bulk actions are offered from two).
    approvals: usize,
}

pub async fn home(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    let is_admin = user.user.has(accounts::Role::Administrator);
    let counts = if is_admin {
        let id = user.department.id;
        (
            departments::list_units(&state.db, id).await?.len(),
            departments::list_positions(&state.db, id).await?.len(),
            departments::list_officials(&state.db, id).await?.len(),
            accounts::list(&state.db, id).await?.len(),
        )
    } else {
        (0, 0, 0, 0)
    };
    let roles: Vec<&str> = user.user.roles.iter().map(|r| r.label()).collect();
    let mut shell = Shell::for_user(&user, "Tugas saya", "/");
    shell.notice = notice.text().into();
    let roles = if roles.is_empty() {
        "belum ada".to_string()
    } else {
        roles.join(", ")
    };
    let mut tasks = inbox_rows(&state, &user).await?;
    tasks.extend(disposition_tasks(&state, &user).await?);
    let approvals = tasks.iter().filter(|t| t.approval).count();
    Ok(render(
        StatusCode::OK,
        &HomeTemplate {
            shell,
            roles,
            is_admin,
            counts,
            tasks,
            approvals,
        },
    ))
}
