//! Bulk paraf or signature as a durable job: one passphrase entry, then the letters one
//! by one, each its own transaction, each item's outcome stored. The unlocked key lives
//! only in the process that runs the job and is never stored, so a job whose process
//! stopped is continued by its owner entering the passphrase again; the letters already
//! decided are not touched again.

use serde::{Deserialize, Serialize};

use super::{DONE, ITEM_DONE, ITEM_FAILED, ITEM_PENDING, Item, Job, NewJob, RUNNING};
use crate::{
    accounts::User,
    db::now,
    keys::Unlocked,
    validation::FieldErrors,
    workflow::{self, Decision, DecisionRequest, Error, Workflow},
};

pub const KIND: &str = "keputusan_massal";
/// Letters in one bulk decision at most (the API's limit too).
pub const MAX_LETTERS: usize = 2000;

/// What the job keeps of the request: everything but the key.
#[derive(Debug, Serialize, Deserialize)]
struct Input {
    decision: Decision,
    deadline_warning_accepted: bool,
}

/// A bulk job as its page shows it.
#[derive(Debug, Clone)]
pub struct Progress {
    pub job: Job,
    pub decision: Decision,
    pub items: Vec<Item>,
}

impl Progress {
    pub fn pending(&self) -> usize {
        self.items.iter().filter(|i| i.state == ITEM_PENDING).count()
    }
    pub fn failures(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.state == ITEM_FAILED)
    }
}

/// Starts a bulk decision on `letters` (each with the revision the user saw) and runs it
/// in the background of this process; the job's page follows it. The key is opened
/// first, so a wrong passphrase is answered at once and starts nothing.
pub async fn start(
    flow: &Workflow,
    user: &User,
    letters: &[(i64, i64)],
    decision: Decision,
    deadline_warning_accepted: bool,
    passphrase: &str,
) -> Result<Job, Error> {
    let (job, key) = create_job(flow, user, letters, decision, deadline_warning_accepted, passphrase).await?;
    spawn(flow.clone(), user.clone(), job.clone(), key, false);
    Ok(job)
}

/// The same bulk decision run to its end before returning (the API, the walkthrough):
/// still a stored job, so one cut short by a stopped process shows on its page and can
/// be continued there.
pub async fn run_to_end(
    flow: &Workflow,
    user: &User,
    letters: &[(i64, i64)],
    decision: Decision,
    deadline_warning_accepted: bool,
    passphrase: &str,
) -> Result<Progress, Error> {
    let (job, key) = create_job(flow, user, letters, decision, deadline_warning_accepted, passphrase).await?;
    {
        let _alive = super::keep_alive(&flow.db, job.id);
        run(flow, user, &job, &key, false).await?;
    }
    progress(flow, user, &job.public_id).await?.ok_or(Error::NotFound)
}

/// Checks the request, opens the key and stores the job with its letters.
async fn create_job(
    flow: &Workflow,
    user: &User,
    letters: &[(i64, i64)],
    decision: Decision,
    deadline_warning_accepted: bool,
    passphrase: &str,
) -> Result<(Job, Unlocked), Error> {
    if !matches!(decision, Decision::Paraf | Decision::TandaTangan) {
        return Err(Error::Invalid(FieldErrors::single("keputusan", "Pilih paraf atau tanda tangan.")));
    }
    if letters.is_empty() {
        return Err(Error::Invalid(FieldErrors::single("surat", "Pilih paling sedikit satu surat.")));
    }
    if letters.len() > MAX_LETTERS {
        return Err(Error::Invalid(FieldErrors::single(
            "surat",
            format!("Paling banyak {MAX_LETTERS} surat sekali jalan."),
        )));
    }
    let key = flow.unlock(user, passphrase).await?;
    let mut items = Vec::with_capacity(letters.len());
    for &(letter_id, revision) in letters {
        // A letter of another department is named by nothing but its id.
        let label = match workflow::get(&flow.db, user.department_id, letter_id).await {
            Ok(letter) => letter.subject,
            Err(Error::NotFound) => format!("surat {letter_id}"),
            Err(e) => return Err(e),
        };
        items.push((letter_id, revision, label));
    }
    let input = serde_json::to_string(&Input {
        decision,
        deadline_warning_accepted,
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    let at = now();
    let mut tx = flow.db.begin_write().await?;
    let subject = format!("massal:{}", crate::accounts::random_token());
    let job = super::create(
        &mut tx,
        NewJob {
            department_id: user.department_id,
            kind: KIND,
            owner_id: user.id,
            subject: &subject,
            input,
            total: items.len() as i64,
        },
        at,
    )
    .await?
    .ok_or_else(|| Error::Conflict("Proses massal ini sudah berjalan.".into()))?;
    super::add_items(&mut tx, job.id, &items).await?;
    tx.commit().await?;
    Ok((job, key))
}

/// A bulk job of `user`'s, with its letters; `None` for a job that is not theirs.
pub async fn progress(flow: &Workflow, user: &User, public_id: &str) -> Result<Option<Progress>, Error> {
    let Some(job) = super::get(&flow.db, user.department_id, public_id).await? else {
        return Ok(None);
    };
    if job.owner_id != user.id || job.kind != KIND {
        return Ok(None);
    }
    let input: Input = serde_json::from_str(&job.input).map_err(|e| Error::Internal(e.to_string()))?;
    let items = super::items(&flow.db, job.id).await?;
    Ok(Some(Progress {
        job,
        decision: input.decision,
        items,
    }))
}

/// Continues a stopped job with the letters still pending, after the owner entered the
/// passphrase again.
pub async fn resume(flow: &Workflow, user: &User, public_id: &str, passphrase: &str) -> Result<Job, Error> {
    let Some(found) = progress(flow, user, public_id).await? else {
        return Err(Error::NotFound);
    };
    let job = found.job;
    if !job.stopped(now()) {
        return Err(Error::Conflict(if job.state == RUNNING {
            "Proses ini masih berjalan.".into()
        } else {
            "Proses ini sudah selesai.".into()
        }));
    }
    let key = flow.unlock(user, passphrase).await?;
    if !super::claim_stopped(&flow.db, &job, now()).await? {
        return Err(Error::Conflict("Proses ini baru saja dilanjutkan di tempat lain.".into()));
    }
    spawn(flow.clone(), user.clone(), job.clone(), key, true);
    Ok(job)
}

fn spawn(flow: Workflow, user: User, job: Job, key: Unlocked, resuming: bool) {
    tokio::spawn(async move {
        let _alive = super::keep_alive(&flow.db, job.id);
        if let Err(e) = run(&flow, &user, &job, &key, resuming).await {
            // The job stays running with an old heartbeat: its page says it stopped.
            tracing::warn!(job = %job.public_id, error = %e, "proses massal terhenti");
        }
    });
}

async fn run(flow: &Workflow, user: &User, job: &Job, key: &Unlocked, resuming: bool) -> Result<(), Error> {
    let input: Input = serde_json::from_str(&job.input).map_err(|e| Error::Internal(e.to_string()))?;
    let items = super::items(&flow.db, job.id).await?;
    let mut done = items.iter().filter(|i| i.state != ITEM_PENDING).count() as i64;
    for item in items.iter().filter(|i| i.state == ITEM_PENDING) {
        // The process that stopped may have decided this letter and died before noting
        // it: its signed statement says so.
        if resuming && workflow::has_decided(&flow.db, item.target, item.version, input.decision, user.official_id).await? {
            super::set_item(&flow.db, job.id, item.seq, ITEM_DONE, "").await?;
        } else {
            let request = DecisionRequest {
                decision: input.decision,
                note: String::new(),
                expected_revision: item.version,
                budget_warning_accepted: false,
                deadline_warning_accepted: input.deadline_warning_accepted,
            };
            match flow.decide_with_key(user, item.target, &request, key).await {
                Ok(_) => super::set_item(&flow.db, job.id, item.seq, ITEM_DONE, "").await?,
                Err(e) => {
                    tracing::info!(letter = item.target, error = %e, "keputusan massal: satu surat gagal");
                    super::set_item(&flow.db, job.id, item.seq, ITEM_FAILED, &e.to_string()).await?
                }
            }
        }
        done += 1;
        super::progress(&flow.db, job.id, done, now()).await?;
    }
    super::finish(&flow.db, job.id, DONE, done, "", now()).await?;
    Ok(())
}
