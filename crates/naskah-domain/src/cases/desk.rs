//! "Tugas saya": everything that waits on one person, whatever its kind, in one list
//! that the home page and `GET /api/v1/inbox` both show. Drafts to write or type
//! (a returned one with its note), paraf and signatures, dispositions to give or to carry
//! out, deliveries to record, villages' replies to apply and imports to finish; each row
//! with its first action, its standard time from the SOP and how late it is. The letters
//! of one batch waiting at the same step are one row with the batch's action.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Error;
use crate::{
    accounts::{Role, User},
    beneficiaries::{self, import},
    db::now,
    departments::Department,
    distribution::{self, open_work},
    incoming, text,
    workflow::{self, ReturnNote, StepKind, Task, Workflow},
};

/// SOP step 18: the Kepala Dinas passes an incoming letter on within 5 minutes.
const DISPOSITION_MINUTES: i64 = 5;
/// SOP steps 8 and 19: candidate data checked, and updated from the replies, within 2 hours.
const CANDIDATE_DATA_MINUTES: i64 = 120;

/// The kinds of work, in the order their counts are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A draft returned for revision, with the note of who returned it.
    Returned,
    Draft,
    Typing,
    Paraf,
    Signature,
    /// An incoming letter the Kepala Dinas has not passed on yet.
    Disposition,
    /// A disposition given to the user (or their unit) to carry out.
    FollowUp,
    /// Deliveries of signed letters still to be recorded.
    Delivery,
    /// A village's reply whose answers are not applied to the candidates yet.
    Reply,
    /// A candidate import checked and not yet imported or cancelled.
    Import,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Returned => "Dikembalikan untuk perbaikan",
            Kind::Draft => "Konsep",
            Kind::Typing => "Pengetikan",
            Kind::Paraf => "Paraf",
            Kind::Signature => "Tanda tangan",
            Kind::Disposition => "Disposisi surat masuk",
            Kind::FollowUp => "Tindak lanjut disposisi",
            Kind::Delivery => "Pengiriman",
            Kind::Reply => "Balasan desa",
            Kind::Import => "Impor data calon",
        }
    }

    /// What one unit of this kind is called in the counts ("3 surat", "111 pengiriman").
    pub fn unit(self) -> &'static str {
        match self {
            Kind::Delivery => "pengiriman",
            Kind::Disposition | Kind::Reply => "surat masuk",
            Kind::FollowUp => "disposisi",
            Kind::Import => "berkas",
            _ => "surat",
        }
    }

    pub(super) fn of_step(kind: StepKind) -> Kind {
        match kind {
            StepKind::Konsep => Kind::Draft,
            StepKind::Ketik => Kind::Typing,
            StepKind::TandaTangan => Kind::Signature,
            _ => Kind::Paraf,
        }
    }
}

/// One row of the inbox.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub kind: Kind,
    /// What it is about: the letter's subject, the incoming letter's agenda and subject.
    pub title: String,
    /// Where it stands: the step, the village, the instruction, how many deliveries.
    pub detail: String,
    /// The page of the thing itself.
    pub href: String,
    /// The first action and where it is done.
    pub action: String,
    pub action_href: String,
    /// Since when it waits (Unix seconds).
    pub since: i64,
    /// The SOP's standard time for it, in minutes, when the SOP gives one.
    pub standard_minutes: Option<i64>,
    /// A due date given with it (dispositions), YYYY-MM-DD.
    pub due_on: Option<String>,
    /// Minutes past the standard time or the due date.
    pub overdue_minutes: Option<i64>,
    /// "Plh."/"Plt." when the user acts for the position.
    pub acting_as: String,
    /// Why the letter came back, for a returned draft.
    pub returned: Option<ReturnNote>,
    /// The batch whose letters this row stands for.
    pub batch_id: Option<i64>,
    /// How many letters, deliveries or files the row stands for.
    pub count: i64,
}

/// How many of a kind wait.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub kind: Kind,
    pub label: &'static str,
    pub unit: &'static str,
    pub count: i64,
    pub overdue: i64,
}

/// A sensible next step offered when nothing waits.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub label: &'static str,
    pub href: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Desk {
    /// Oldest first.
    pub items: Vec<Item>,
    pub counts: Vec<Count>,
    pub suggestions: Vec<Suggestion>,
}

/// Rows on one page of "Tugas saya" (the home page); the counts above them are always of
/// every row.
pub const PAGE_SIZE: usize = 50;

/// One page of a [`Desk`]: its rows, and where they stand among all of them.
#[derive(Debug, Clone, Serialize)]
pub struct DeskPage {
    #[serde(flatten)]
    pub desk: Desk,
    /// From 0; a page past the end shows the last one.
    pub page: usize,
    pub page_size: usize,
    /// How many rows there are in all.
    pub total_items: usize,
    /// The page's one-letter rows as letter steps (the API's `tasks`).
    #[serde(skip)]
    pub tasks: Vec<Task>,
    /// How many letter steps wait in all.
    pub total_tasks: usize,
}

impl DeskPage {
    pub fn pages(&self) -> usize {
        self.total_items.div_ceil(self.page_size).max(1)
    }
}

/// Everything that waits on `user` (the reminders read it whole; the home page reads a
/// page, [`super::desk_page::page_for_user`]).
pub async fn for_user(flow: &Workflow, user: &User, department: &Department) -> Result<Desk, Error> {
    let at = now();
    let today = department.tz().today();
    let tasks = workflow::inbox(flow, user, today).await?;
    let mut items = letter_items(flow, tasks, department).await?;
    items.extend(other_items(flow, user, department, at, today).await?);
    items.sort_by_key(|item| (item.since, item.kind));
    let counts = counts(&items, BTreeMap::new());
    Ok(Desk {
        items,
        counts,
        suggestions: suggestions(user),
    })
}

/// The counts of each kind over `items` added to `counts` (a row of several letters
/// counts each; all of them late when the row is).
pub(super) fn counts(items: &[Item], mut counts: BTreeMap<Kind, (i64, i64)>) -> Vec<Count> {
    for item in items {
        let entry = counts.entry(item.kind).or_default();
        entry.0 += item.count;
        if item.overdue_minutes.is_some() {
            entry.1 += item.count;
        }
    }
    counts
        .into_iter()
        .filter(|(_, (count, _))| *count > 0)
        .map(|(kind, (count, overdue))| Count {
            kind,
            label: kind.label(),
            unit: kind.unit(),
            count,
            overdue,
        })
        .collect()
}

/// What waits on `user` besides letter steps: dispositions, deliveries, villages'
/// replies and imports (each a short list).
pub(super) async fn other_items(
    flow: &Workflow,
    user: &User,
    department: &Department,
    at: i64,
    today: chrono::NaiveDate,
) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let db = &flow.db;

    if user.has(Role::Signer) {
        for letter in incoming::awaiting_disposition(db, department.id).await? {
            items.push(Item {
                kind: Kind::Disposition,
                title: format!("{} {}", letter.agenda_number(), letter.subject),
                detail: format!("Dari {}, diterima {}", letter.sender, text::date_long_iso(&letter.received_on)),
                href: format!("/surat-masuk/{}", letter.id),
                action: "Beri disposisi".into(),
                action_href: format!("/surat-masuk/{}#disposisi", letter.id),
                since: letter.registered_at,
                standard_minutes: Some(DISPOSITION_MINUTES),
                due_on: None,
                overdue_minutes: late(at, letter.registered_at, DISPOSITION_MINUTES),
                acting_as: String::new(),
                returned: None,
                batch_id: None,
                count: 1,
            });
        }
    }

    for (disposition, letter) in incoming::open_tasks(db, department.id, user.id).await? {
        let overdue = chrono::NaiveDate::parse_from_str(&disposition.due_on, "%Y-%m-%d")
            .ok()
            .filter(|due| *due < today)
            .map(|due| (today - due).num_days() * 24 * 60);
        items.push(Item {
            kind: Kind::FollowUp,
            title: format!("{} {}", letter.agenda_number(), letter.subject),
            detail: format!("Disposisi dari {}: {}", disposition.from_name, disposition.instructions),
            href: format!("/surat-masuk/{}", letter.id),
            action: "Tindak lanjuti".into(),
            action_href: format!("/surat-masuk/{}#disposisi", letter.id),
            since: disposition.created_at,
            standard_minutes: None,
            due_on: Some(disposition.due_on.clone()),
            overdue_minutes: overdue,
            acting_as: String::new(),
            returned: None,
            batch_id: None,
            count: 1,
        });
    }

    if distribution::may_distribute(user) {
        items.extend(delivery_items(flow, department, at).await?);
    }

    if beneficiaries::may_manage(user) {
        for reply in incoming::replies_to_apply(db, department.id).await? {
            items.push(Item {
                kind: Kind::Reply,
                title: format!("{} {}", reply.agenda_number(), reply.subject),
                detail: format!("Balasan dari {}: jawaban belum diterapkan ke data calon", reply.sender),
                href: format!("/surat-masuk/{}", reply.id),
                action: "Terapkan jawaban".into(),
                action_href: format!("/surat-masuk/{}#daftar", reply.id),
                since: reply.registered_at,
                standard_minutes: Some(CANDIDATE_DATA_MINUTES),
                due_on: None,
                overdue_minutes: late(at, reply.registered_at, CANDIDATE_DATA_MINUTES),
                acting_as: String::new(),
                returned: None,
                batch_id: None,
                count: 1,
            });
        }
        for file in import::unfinished(db, department.id).await? {
            let detail = if file.status == "unmapped" {
                format!("{}: kolom belum dipetakan", file.file_name)
            } else {
                format!(
                    "{}: {} baris diterima, {} ditolak; belum diimpor",
                    file.file_name, file.rows_valid, file.rows_refused
                )
            };
            items.push(Item {
                kind: Kind::Import,
                title: format!("Impor {}", import::source_label(&file.source)),
                detail,
                href: format!("/calon/impor/{}", file.id),
                action: "Lanjutkan impor".into(),
                action_href: format!("/calon/impor/{}", file.id),
                since: file.checked_at,
                standard_minutes: Some(CANDIDATE_DATA_MINUTES),
                due_on: None,
                overdue_minutes: late(at, file.checked_at, CANDIDATE_DATA_MINUTES),
                acting_as: String::new(),
                returned: None,
                batch_id: None,
                count: 1,
            });
        }
    }

    Ok(items)
}

/// Minutes past `standard` minutes since `since`, if past.
pub(super) fn late(at: i64, since: i64, standard: i64) -> Option<i64> {
    let over = (at - since) / 60 - standard;
    (over > 0).then_some(over)
}

/// The letter steps that wait on the user, a batch's letters at one step as one row.
async fn letter_items(flow: &Workflow, tasks: Vec<Task>, department: &Department) -> Result<Vec<Item>, Error> {
    let notes = if tasks.iter().any(|t| t.letter.round > 1) {
        workflow::return_notes(&flow.db, department.id).await?
    } else {
        Vec::new()
    };
    let mut items = Vec::new();
    // Batch letters at the same kind of step, in the order met.
    let mut groups: Vec<((i64, Kind), Vec<Task>)> = Vec::new();
    for task in tasks {
        let returned = notes.iter().rev().find(|n| n.letter_id == task.letter.id).cloned();
        let kind = match (Kind::of_step(task.step.step_kind()), &returned) {
            (Kind::Draft, Some(_)) => Kind::Returned,
            (kind, _) => kind,
        };
        match task.letter.batch_id {
            // A returned letter keeps its own row: each has its own note.
            Some(batch) if kind != Kind::Returned => match groups.iter_mut().find(|(key, _)| *key == (batch, kind)) {
                Some((_, members)) => members.push(task),
                None => groups.push(((batch, kind), vec![task])),
            },
            _ => items.push(letter_item(task, kind, returned)),
        }
    }
    for ((batch, kind), mut members) in groups {
        if members.len() == 1 {
            items.push(letter_item(members.remove(0), kind, None));
            continue;
        }
        let since = members.iter().filter_map(|t| t.step.started_at).min().unwrap_or_default();
        let overdue = members.iter().filter_map(|t| t.overdue_minutes).max();
        items.push(batch_item(batch, kind, &members[0], members.len() as i64, since, overdue));
    }
    Ok(items)
}

/// The row of `count` letters of a batch at one kind of step, `first` the first of them.
pub(super) fn batch_item(batch: i64, kind: Kind, first: &Task, count: i64, since: i64, overdue_minutes: Option<i64>) -> Item {
    let (action, action_href) = match kind {
        Kind::Paraf => ("Paraf semua", format!("/surat/massal?kumpulan={batch}")),
        Kind::Signature => ("Tanda tangani semua", format!("/surat/massal?kumpulan={batch}")),
        _ => ("Teruskan semua", format!("/kumpulan/{batch}")),
    };
    Item {
        kind,
        title: first.letter.subject.clone(),
        detail: format!("{} — kumpulan {count} surat", first.step.label),
        href: format!("/kumpulan/{batch}"),
        action: action.into(),
        action_href,
        since,
        standard_minutes: Some(first.step.standard_minutes),
        due_on: None,
        overdue_minutes,
        acting_as: first.acting_as.clone(),
        returned: None,
        batch_id: Some(batch),
        count,
    }
}

pub(super) fn letter_item(task: Task, kind: Kind, returned: Option<ReturnNote>) -> Item {
    let action = match kind {
        Kind::Returned => "Perbaiki",
        Kind::Draft => "Lanjutkan konsep",
        Kind::Typing => "Ketik",
        Kind::Paraf => "Paraf",
        _ => "Tanda tangani",
    };
    let href = format!("/surat/{}", task.letter.id);
    Item {
        kind,
        title: task.letter.subject,
        detail: task.step.label.clone(),
        action: action.into(),
        action_href: href.clone(),
        href,
        since: task.step.started_at.unwrap_or_default(),
        standard_minutes: Some(task.step.standard_minutes),
        due_on: None,
        overdue_minutes: task.overdue_minutes,
        acting_as: task.acting_as,
        returned,
        batch_id: task.letter.batch_id,
        count: 1,
    }
}

/// Deliveries to record, a batch's letters as one row.
async fn delivery_items(flow: &Workflow, department: &Department, at: i64) -> Result<Vec<Item>, Error> {
    let open = open_work::awaiting(&flow.db, department.id).await?;
    let days = |template: &str| flow.catalogue.get(template).map(|m| m.distribution_days).unwrap_or(1);
    let mut items: Vec<Item> = Vec::new();
    for letter in open {
        let standard = days(&letter.template_id) * 24 * 60;
        let failed = if letter.failed > 0 {
            format!(", {} gagal", letter.failed)
        } else {
            String::new()
        };
        if let Some(batch) = letter.batch_id
            && let Some(row) = items.iter_mut().find(|i| i.batch_id == Some(batch))
        {
            row.count += letter.open;
            row.since = row.since.min(letter.signed_at);
            row.overdue_minutes = row.overdue_minutes.max(late(at, letter.signed_at, standard));
            row.detail = format!("{} pengiriman belum dicatat, surat-surat satu kumpulan", row.count);
            continue;
        }
        // A batch's row is titled by the batch's subject, not by its first letter's number.
        let (href, action_href, title) = match letter.batch_id {
            Some(batch) => (
                format!("/kumpulan/{batch}"),
                format!("/distribusi?kumpulan={batch}"),
                letter.subject.clone(),
            ),
            None => (
                format!("/surat/{}", letter.letter_id),
                format!("/surat/{}#pengiriman", letter.letter_id),
                format!("{} {}", letter.number, letter.subject),
            ),
        };
        items.push(Item {
            kind: Kind::Delivery,
            title,
            detail: format!("{} pengiriman belum dicatat{failed}", letter.open),
            href,
            action: "Catat pengiriman".into(),
            action_href,
            since: letter.signed_at,
            standard_minutes: Some(standard),
            due_on: None,
            overdue_minutes: late(at, letter.signed_at, standard),
            acting_as: String::new(),
            returned: None,
            batch_id: letter.batch_id,
            count: letter.open,
        });
    }
    Ok(items)
}

/// What a person with these roles usually starts with, for an empty inbox.
pub(super) fn suggestions(user: &User) -> Vec<Suggestion> {
    let mut out = Vec::new();
    if user.has(Role::Drafter) {
        out.push(Suggestion {
            label: "Buat surat",
            href: "/templat",
        });
    }
    if incoming::may_register(user) {
        out.push(Suggestion {
            label: "Catat surat masuk",
            href: "/surat-masuk",
        });
    }
    if beneficiaries::may_manage(user) {
        out.push(Suggestion {
            label: "Impor data calon",
            href: "/calon",
        });
    }
    if distribution::may_distribute(user) {
        out.push(Suggestion {
            label: "Lihat distribusi",
            href: "/distribusi",
        });
    }
    if user.has(Role::Signer) || user.has(Role::Approver) {
        out.push(Suggestion {
            label: "Lihat daftar surat",
            href: "/surat",
        });
    }
    if user.has(Role::Administrator) {
        out.push(Suggestion {
            label: "Kelola pengguna",
            href: "/pengguna",
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_counts_only_past_the_standard_time() {
        assert_eq!(late(10_000, 10_000, 5), None);
        assert_eq!(late(10_000 + 5 * 60, 10_000, 5), None);
        assert_eq!(late(10_000 + 6 * 60, 10_000, 5), Some(1));
    }

    #[test]
    fn an_empty_inbox_offers_what_the_roles_start_with() {
        let drafter = User {
            roles: vec![Role::Drafter],
            ..User::default()
        };
        let labels: Vec<&str> = suggestions(&drafter).iter().map(|s| s.label).collect();
        assert_eq!(labels.first(), Some(&"Buat surat"));
        let agendaris = User {
            roles: vec![Role::Agendaris],
            ..User::default()
        };
        let labels: Vec<&str> = suggestions(&agendaris).iter().map(|s| s.label).collect();
        assert!(labels.contains(&"Catat surat masuk") && labels.contains(&"Lihat distribusi"));
        assert!(!labels.contains(&"Buat surat"));
    }
}
