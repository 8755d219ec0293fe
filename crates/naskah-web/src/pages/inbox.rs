//! "Tugas saya", the home page: everything that waits on the user ([`cases::desk`]).

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};

use super::{Notice, Shell, duration_text, render, time};
use crate::{AppState, accounts, auth::SessionUser, cases, departments, error::PageError, text};

/// One row of "Tugas saya", formatted for the page.
pub struct InboxRow {
    pub kind: &'static str,
    pub href: String,
    pub title: String,
    pub detail: String,
    pub action: String,
    pub action_href: String,
    pub since: String,
    pub standard: String,
    pub overdue: String,
    pub acting_as: String,
    /// "Dikembalikan oleh … pada …" and the note, for a returned draft.
    pub returned_by: String,
    pub returned_note: String,
    pub count: i64,
}

fn inbox_rows(user: &SessionUser, desk: &cases::desk::Desk) -> Vec<InboxRow> {
    let tz = user.department.tz();
    desk.items
        .iter()
        .map(|item| InboxRow {
            kind: item.kind.label(),
            href: item.href.clone(),
            title: item.title.clone(),
            detail: item.detail.clone(),
            action: item.action.clone(),
            action_href: item.action_href.clone(),
            since: time(user, item.since),
            standard: match (&item.due_on, item.standard_minutes) {
                (Some(due), _) => format!("batas {}", text::date_long_iso(due)),
                (None, Some(minutes)) => duration_text(minutes),
                (None, None) => String::new(),
            },
            overdue: item.overdue_minutes.map(duration_text).unwrap_or_default(),
            acting_as: item.acting_as.clone(),
            returned_by: item
                .returned
                .as_ref()
                .map(|r| {
                    let who = match (r.returned_by.as_str(), r.position_title.as_str()) {
                        ("", title) => title.to_string(),
                        (name, "") => name.to_string(),
                        (name, title) => format!("{name} ({title})"),
                    };
                    format!("Dikembalikan oleh {who}, {}", tz.format_time(r.returned_at))
                })
                .unwrap_or_default(),
            returned_note: item.returned.as_ref().map(|r| r.note.clone()).unwrap_or_default(),
            count: item.count,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    shell: Shell,
    roles: String,
    is_admin: bool,
    counts: (usize, usize, usize, usize),
    tasks: Vec<InboxRow>,
    /// How many of each kind wait: label, how many, of them late.
    kinds: Vec<(String, i64, i64)>,
    suggestions: Vec<cases::desk::Suggestion>,
    /// Letters at a paraf or signature step (bulk actions are offered from two).
    approvals: i64,
    /// "Baris 51–100 dari 10.000" and the links to the pages around, when there are several.
    paging: String,
    previous_page: String,
    next_page: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct HomeQuery {
    /// The page, from 1 (the first when missing or not a number).
    #[serde(default)]
    halaman: String,
}

impl HomeQuery {
    fn page(&self) -> usize {
        self.halaman.trim().parse::<usize>().map_or(0, |n| n.saturating_sub(1))
    }
}

pub async fn home(
    State(state): State<AppState>,
    user: SessionUser,
    Query(query): Query<HomeQuery>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
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
    let desk = cases::desk_page::page_for_user(
        &state.workflow(),
        &user.user,
        &user.department,
        query.page(),
        cases::desk::PAGE_SIZE,
    )
    .await?;
    let mut page = home_page(&user, desk, is_admin, counts);
    page.shell.notice = notice.text().into();
    Ok(render(StatusCode::OK, &page))
}

fn home_page(user: &SessionUser, page: cases::desk::DeskPage, is_admin: bool, counts: (usize, usize, usize, usize)) -> HomeTemplate {
    let (paging, previous_page, next_page) = if page.pages() > 1 {
        let first = page.page * page.page_size + 1;
        (
            format!(
                "Baris {}–{} dari {}, halaman {} dari {}.",
                text::thousands(first as i64),
                text::thousands((first + page.desk.items.len() - 1) as i64),
                text::thousands(page.total_items as i64),
                page.page + 1,
                page.pages()
            ),
            if page.page > 0 {
                format!("/?halaman={}", page.page)
            } else {
                String::new()
            },
            if page.page + 1 < page.pages() {
                format!("/?halaman={}", page.page + 2)
            } else {
                String::new()
            },
        )
    } else {
        Default::default()
    };
    let desk = page.desk;
    let roles: Vec<&str> = user.user.roles.iter().map(|r| r.label()).collect();
    let approvals = desk
        .counts
        .iter()
        .filter(|c| matches!(c.kind, cases::desk::Kind::Paraf | cases::desk::Kind::Signature))
        .map(|c| c.count)
        .sum();
    HomeTemplate {
        shell: Shell::for_user(user, "Tugas saya", "/"),
        roles: if roles.is_empty() {
            "belum ada".to_string()
        } else {
            roles.join(", ")
        },
        is_admin,
        counts,
        tasks: inbox_rows(user, &desk),
        kinds: desk
            .counts
            .iter()
            .map(|c| (format!("{}: {} {}", c.label, c.count, c.unit), c.count, c.overdue))
            .collect(),
        suggestions: desk.suggestions,
        approvals,
        paging,
        previous_page,
        next_page,
    }
}
