//! Bulk paraf or signature: which letters a user may take together, and the decision on
//! them as a durable job ([`crate::jobs::bulk`]). The page starts the job in the
//! background and follows it; the API and the walkthrough run it to its end. Either way
//! it is the same stored job, with the same checks per letter.

use serde::Serialize;

use super::Error;
use crate::{
    accounts::User,
    departments::Department,
    jobs::bulk::{self, Progress},
    workflow::{self, Decision, StepKind, Task, Workflow},
};

pub use crate::jobs::bulk::{MAX_LETTERS, progress, resume, start};

/// The letters waiting on the user's paraf or signature.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub tasks: Vec<Task>,
    /// For each task, in the same order, what sets its letter apart from the others.
    pub distinct: Vec<Distinct>,
    /// Wrong passphrases left before the user's key is held, or until when it is held.
    pub passphrase: Option<crate::keys::PassphraseStanding>,
    /// Some of them wait on a signature.
    pub can_sign: bool,
    /// Some of them wait on a paraf.
    pub can_paraf: bool,
}

/// Whom a letter goes to and how many rows its attachment holds: in a batch where
/// every letter has the same subject, what a reviewer tells them apart by.
#[derive(Debug, Clone, Serialize)]
pub struct Distinct {
    pub letter_id: i64,
    /// The village or agency of a letter to one recipient, else "".
    pub recipient: String,
    /// Rows of the letter's own table (per-village letters), when it has one.
    pub rows: Option<usize>,
}

/// What waits on `user` at a paraf or signature step, only of `batch` when given.
pub async fn offer(flow: &Workflow, user: &User, department: &Department, batch: Option<i64>) -> Result<Offer, Error> {
    let mut tasks = workflow::inbox(flow, user, department.tz().today()).await?;
    tasks.retain(|t| t.step.step_kind().is_signed() && batch.is_none_or(|b| t.letter.batch_id == Some(b)));
    let names: std::collections::HashMap<i64, String> = crate::distribution::recipients::names(&flow.db, department.id)
        .await?
        .into_iter()
        .collect();
    let mut distinct = Vec::with_capacity(tasks.len());
    for task in &tasks {
        let rows_field = flow
            .catalogue
            .get(&task.letter.template_id)
            .ok()
            .and_then(|m| m.per_village.as_ref().map(|p| p.rows_field.clone()));
        let rows = match rows_field {
            Some(field) => workflow::revision_data(&flow.db, task.letter.id, task.letter.revision)
                .await?
                .get(&field)
                .and_then(serde_json::Value::as_array)
                .map(Vec::len),
            None => None,
        };
        distinct.push(Distinct {
            letter_id: task.letter.id,
            recipient: task.letter.recipient_id.and_then(|r| names.get(&r).cloned()).unwrap_or_default(),
            rows,
        });
    }
    let passphrase = match user.official_id {
        Some(official) => Some(
            crate::keys::passphrase_standing(&flow.db, official)
                .await
                .map_err(workflow::Error::Key)?,
        ),
        None => None,
    };
    Ok(Offer {
        passphrase,
        distinct,
        can_sign: tasks.iter().any(|t| t.step.step_kind() == StepKind::TandaTangan),
        can_paraf: tasks.iter().any(|t| t.step.step_kind() != StepKind::TandaTangan),
        tasks,
    })
}

/// The letters of a bulk job that could not be decided, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The stored job, whose page shows it too.
    pub job: String,
    pub done: usize,
    pub failed: Vec<Failed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failed {
    pub id: i64,
    pub message: String,
}

/// Decides `letters` (each with the revision the caller saw) with one passphrase entry
/// and returns when every letter is taken; one failing leaves the others done and says
/// why.
pub async fn run(
    flow: &Workflow,
    user: &User,
    letters: &[(i64, i64)],
    decision: Decision,
    deadline_warning_accepted: bool,
    passphrase: &str,
) -> Result<Outcome, Error> {
    let progress: Progress = bulk::run_to_end(flow, user, letters, decision, deadline_warning_accepted, passphrase).await?;
    let failed: Vec<Failed> = progress
        .failures()
        .map(|item| Failed {
            id: item.target,
            message: item.message.clone(),
        })
        .collect();
    Ok(Outcome {
        job: progress.job.public_id.clone(),
        done: progress.items.len() - failed.len() - progress.pending(),
        failed,
    })
}
