//! A candidate import as a durable job. The import itself is one transaction (all rows
//! or none), so a job whose process stopped left nothing behind and is simply run again
//! when its owner, or anyone who may import, continues it. One job per import runs at a
//! time, whichever process started it.

use super::{DONE, FAILED, Job, NewJob};
use crate::{
    accounts::User,
    audit::Actor,
    beneficiaries::{Error, import},
    db::{Db, now},
    departments::Department,
};

pub const KIND: &str = "impor_calon";

/// Progress is written at most this often (a 100,000-row file has 1,500 chunks).
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

fn subject(import_id: i64) -> String {
    format!("impor:{import_id}")
}

/// The newest job of an import, if it ever started.
pub async fn current(db: &Db, department_id: i64, import_id: i64) -> Result<Option<Job>, Error> {
    Ok(super::latest_for(db, department_id, &subject(import_id)).await?)
}

/// Starts importing a checked file, or continues a stopped import. When the import runs
/// in a process already (this one or another), that job is returned and nothing new
/// starts.
pub async fn start(db: &Db, user: &User, department: &Department, import_id: i64) -> Result<Job, Error> {
    let stored = import::get(db, department.id, import_id).await?;
    let at = now();
    if let Some(job) = current(db, department.id, import_id).await? {
        if job.active(at) {
            return Ok(job);
        }
        if job.stopped(at) {
            if stored.status != "checked" {
                // It finished just before its process stopped.
                super::finish(db, job.id, DONE, stored.rows_valid, "", at).await?;
                return Err(Error::Conflict(format!("Impor ini {}.", stored.status_label())));
            }
            if super::claim_stopped(db, &job, at).await? {
                spawn(db.clone(), user.actor(), department.clone(), job.clone());
                return Ok(job);
            }
            return Ok(current(db, department.id, import_id).await?.unwrap_or(job));
        }
    }
    if stored.status != "checked" {
        return Err(Error::Conflict(format!("Impor ini {}.", stored.status_label())));
    }
    let mut conn = db.pool.acquire().await?;
    let created = super::create(
        &mut conn,
        NewJob {
            department_id: department.id,
            kind: KIND,
            owner_id: user.id,
            subject: &subject(import_id),
            input: import_id.to_string(),
            total: stored.rows_valid.max(0),
        },
        at,
    )
    .await?;
    drop(conn);
    match created {
        Some(job) => {
            spawn(db.clone(), user.actor(), department.clone(), job.clone());
            Ok(job)
        }
        // Another request started it a moment ago.
        None => current(db, department.id, import_id).await?.ok_or(Error::NotFound),
    }
}

fn spawn(db: Db, actor: Actor, department: Department, job: Job) {
    tokio::spawn(async move {
        let _alive = super::keep_alive(&db, job.id);
        let import_id: i64 = job.input.parse().unwrap_or_default();
        // The import's progress goes to the job row from a task of its own: the import
        // holds its transaction, and on SQLite no other write passes until it ends.
        let (sender, mut receiver) = tokio::sync::watch::channel(0usize);
        let writer = {
            let db = db.clone();
            let job_id = job.id;
            tokio::spawn(async move {
                while receiver.changed().await.is_ok() {
                    let done = *receiver.borrow_and_update();
                    if let Err(e) = super::progress(&db, job_id, done as i64, now()).await {
                        tracing::debug!(error = %e, "kemajuan impor belum tercatat");
                    }
                    tokio::time::sleep(PROGRESS_EVERY).await;
                }
            })
        };
        let progress = move |done: usize, _total: usize| {
            sender.send_replace(done);
        };
        let outcome = import::apply(&db, &actor, &department, import_id, &progress).await;
        drop(progress);
        let _ = writer.await;
        let at = now();
        let ended = match outcome {
            Ok(imported) => super::finish(&db, job.id, DONE, imported.rows_valid, "", at).await,
            Err(e) => {
                tracing::warn!(import = import_id, error = %e, "impor calon gagal");
                super::finish(&db, job.id, FAILED, 0, &e.to_string(), at).await
            }
        };
        if let Err(e) = ended {
            tracing::warn!(job = %job.public_id, error = %e, "akhir impor tidak tercatat");
        }
    });
}

/// Cancels a checked import, unless a job is importing it right now.
pub async fn cancel(db: &Db, actor: &Actor, department_id: i64, import_id: i64) -> Result<import::Import, Error> {
    if current(db, department_id, import_id).await?.is_some_and(|job| job.active(now())) {
        return Err(Error::Conflict("Impor sedang berjalan.".into()));
    }
    import::cancel(db, actor, department_id, import_id).await
}
