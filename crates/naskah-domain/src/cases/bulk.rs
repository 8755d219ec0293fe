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
    /// Some of them wait on a signature.
    pub can_sign: bool,
    /// Some of them wait on a paraf.
    pub can_paraf: bool,
}

/// What waits on `user` at a paraf or signature step, only of `batch` when given.
pub async fn offer(flow: &Workflow, user: &User, department: &Department, batch: Option<i64>) -> Result<Offer, Error> {
    let mut tasks = workflow::inbox(flow, user, department.tz().today()).await?;
    tasks.retain(|t| t.step.step_kind().is_signed() && batch.is_none_or(|b| t.letter.batch_id == Some(b)));
    Ok(Offer {
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
