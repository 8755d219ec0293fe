//! One page of "Tugas saya" at any number of letters: the letter steps are counted in
//! the database by group ([`workflow::waiting`]), and only the letters on the page asked
//! for are read. The rows and their order are those of [`desk::for_user`]: one row per
//! letter, a batch's letters at one kind of step as one row, a returned draft with its
//! note, then the other kinds of work, oldest first.

use std::collections::BTreeMap;

use super::{
    Error,
    desk::{self, Desk, DeskPage, Item, Kind},
};
use crate::{
    accounts::User,
    db::now,
    departments::Department,
    workflow::{
        self, StepKind, Task, Workflow,
        waiting::{self, Holding, StepGroup, StepSelection},
    },
};

/// Page `page` (from 0; the last for one past the end) of `size` rows of what waits on
/// `user`, with the counts of everything.
pub async fn page_for_user(flow: &Workflow, user: &User, department: &Department, page: usize, size: usize) -> Result<DeskPage, Error> {
    let (at, today, size) = (now(), department.tz().today(), size.max(1));
    let groups = waiting::step_groups(&flow.db, department.id, at).await?;
    let holdings = waiting::held(flow, user, &groups, today).await?;
    let groups: Vec<StepGroup> = groups.into_iter().filter(|g| holdings.contains_key(&holding(g))).collect();

    // Returned drafts keep a row of their own, with the note of who returned them.
    let notes = if groups.iter().any(|g| g.step_kind() == StepKind::Konsep) {
        workflow::return_notes(&flow.db, department.id).await?
    } else {
        Vec::new()
    };
    let noted: Vec<i64> = notes.iter().map(|n| n.letter_id).collect();
    let select = |outside_batches, batch_kinds, letters| StepSelection {
        holdings: &holdings,
        outside_batches,
        batch_kinds,
        letters,
    };
    let returned: Vec<Task> = waiting::tasks(flow, department.id, &select(false, &[], &noted), false, i64::MAX, 0)
        .await?
        .into_iter()
        .filter(|t| t.step.step_kind() == StepKind::Konsep)
        .collect();
    let returned_ids: Vec<i64> = returned.iter().map(|t| t.letter.id).collect();

    // Counts, and each batch's letters at one kind of step (less its returned drafts).
    let mut counts: BTreeMap<Kind, (i64, i64)> = BTreeMap::new();
    let mut batches: BTreeMap<(i64, Kind), BatchGroup> = BTreeMap::new();
    for g in &groups {
        let kind = Kind::of_step(g.step_kind());
        match g.batch_id {
            None => {
                let entry = counts.entry(kind).or_default();
                entry.0 += g.steps;
                entry.1 += g.overdue;
            }
            Some(batch) => {
                let entry = batches.entry((batch, kind)).or_default();
                entry.steps += g.steps;
                entry.overdue += g.overdue;
                entry.since = if entry.kinds.is_empty() {
                    g.since
                } else {
                    entry.since.min(g.since)
                };
                entry.first_due = if entry.kinds.is_empty() {
                    g.first_due
                } else {
                    entry.first_due.min(g.first_due)
                };
                entry.kinds.push((batch, g.kind.clone()));
            }
        }
    }
    for task in &returned {
        let overdue = i64::from(task.overdue_minutes.is_some());
        match task.letter.batch_id.and_then(|b| batches.get_mut(&(b, Kind::Draft))) {
            Some(group) => {
                group.steps -= 1;
                group.overdue -= overdue;
            }
            None => {
                let draft = counts.entry(Kind::Draft).or_default();
                draft.0 -= 1;
                draft.1 -= overdue;
            }
        }
        let entry = counts.entry(Kind::Returned).or_default();
        entry.0 += 1;
        entry.1 += overdue;
    }
    // A batch with one letter at a kind of step is shown as that letter.
    let mut single_batches = Vec::new();
    let mut shared: Vec<Item> = Vec::new();
    for ((batch, kind), group) in &batches {
        match group.steps {
            ..=0 => {}
            1 => {
                single_batches.extend(group.kinds.iter().cloned());
                let entry = counts.entry(*kind).or_default();
                entry.0 += 1;
                entry.1 += group.overdue;
            }
            n => {
                let first = waiting::tasks(flow, department.id, &select(false, &group.kinds, &[]), false, 1, 0).await?;
                let Some(first) = first.first() else { continue };
                let over = (at - group.first_due) / 60;
                let item = desk::batch_item(*batch, *kind, first, n, group.since, (over > 0).then_some(over));
                let entry = counts.entry(*kind).or_default();
                entry.0 += n;
                if item.overdue_minutes.is_some() {
                    entry.1 += n;
                }
                shared.push(item);
            }
        }
    }
    let singles: i64 = groups.iter().filter(|g| g.batch_id.is_none()).map(|g| g.steps).sum::<i64>()
        + single_batches.len() as i64
        + returned.iter().filter(|t| t.letter.batch_id.is_some()).count() as i64;

    let others = desk::other_items(flow, user, department, at, today).await?;
    let counts = desk::counts(&others, counts);
    shared.extend(others);
    shared.sort_by_key(|item| (item.since, item.kind));

    // The page: the singles up to it (or, past the middle, from the end) merged with the
    // other rows, which are few.
    let total = singles as usize + shared.len();
    let page = page.min(total.saturating_sub(1) / size);
    let (offset, tail) = (page * size, total - (page * size).min(total));
    let rows = |tasks: Vec<Task>| -> Vec<Item> {
        tasks
            .into_iter()
            .map(|task| {
                let note = notes.iter().rev().find(|n| n.letter_id == task.letter.id).cloned();
                let kind = match (Kind::of_step(task.step.step_kind()), &note) {
                    (Kind::Draft, Some(_)) => Kind::Returned,
                    (kind, _) => kind,
                };
                desk::letter_item(task, kind, if kind == Kind::Returned { note } else { None })
            })
            .collect()
    };
    let selection = select(true, &single_batches, &returned_ids);
    let (window, tasks) = if offset <= total / 2 {
        let tasks = waiting::tasks(flow, department.id, &selection, false, (offset + size) as i64, 0).await?;
        let merged = merge(rows(tasks.clone()), shared);
        (merged.into_iter().skip(offset).take(size).collect::<Vec<_>>(), tasks)
    } else {
        let mut tasks = waiting::tasks(flow, department.id, &selection, true, tail as i64, 0).await?;
        tasks.reverse();
        let merged = merge(rows(tasks.clone()), shared);
        let start = merged.len().saturating_sub(tail);
        (merged.into_iter().skip(start).take(size).collect(), tasks)
    };
    let shown: Vec<i64> = window.iter().filter(|i| i.count == 1).filter_map(|i| letter_id(&i.href)).collect();
    Ok(DeskPage {
        desk: Desk {
            items: window,
            counts,
            suggestions: desk::suggestions(user),
        },
        page,
        page_size: size,
        total_items: total,
        tasks: tasks.into_iter().filter(|t| shown.contains(&t.letter.id)).collect(),
        total_tasks: groups.iter().map(|g| g.steps).sum::<i64>() as usize,
    })
}

/// A batch's letters at one kind of step.
#[derive(Default)]
struct BatchGroup {
    steps: i64,
    overdue: i64,
    since: i64,
    first_due: i64,
    /// The batch and the kinds of step in the database.
    kinds: Vec<(i64, String)>,
}

fn holding(g: &StepGroup) -> Holding {
    (g.kind.clone(), g.position_id, g.assignee_user_id)
}

/// The letter a one-letter row is about (`/surat/ID`).
fn letter_id(href: &str) -> Option<i64> {
    href.strip_prefix("/surat/")?.parse().ok()
}

/// Letter rows (oldest first) and the other rows (sorted) in one order: by time, then
/// kind, a letter before another row at the same moment, as [`desk::for_user`] sorts.
fn merge(letters: Vec<Item>, others: Vec<Item>) -> Vec<Item> {
    let mut merged = Vec::with_capacity(letters.len() + others.len());
    let mut others = others.into_iter().peekable();
    for letter in letters {
        while let Some(other) = others.next_if(|o| (o.since, o.kind) < (letter.since, letter.kind)) {
            merged.push(other);
        }
        merged.push(letter);
    }
    merged.extend(others);
    merged
}
