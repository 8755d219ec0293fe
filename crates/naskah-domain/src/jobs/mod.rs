//! Durable background jobs: long work (a bulk paraf or signature, a candidate import)
//! is a row in `jobs`, with its owner, progress, outcome and a heartbeat, and for work
//! done item by item, a row per item in `job_items`. Any process shows a job from
//! there. A process keeps the heartbeat of the jobs it runs fresh; a running job whose
//! heartbeat is older than [`STALE_SECONDS`] has lost its process (stopped, killed,
//! restarted), and its owner may continue it: the continuing process claims it with a
//! conditional update, so of two that try, one runs it.

pub mod bulk;
pub mod import;

use std::sync::OnceLock;

use serde::Serialize;
use sqlx::{Any, AnyConnection, FromRow};

use crate::db::{Db, DbError, now};

/// A job still at work (or whose process stopped: see [`Job::stopped`]).
pub const RUNNING: &str = "berjalan";
/// Every item was taken (some may have failed, each with its reason).
pub const DONE: &str = "selesai";
/// The job could not start its work at all.
pub const FAILED: &str = "gagal";

/// Item states.
pub const ITEM_PENDING: &str = "menunggu";
pub const ITEM_DONE: &str = "selesai";
pub const ITEM_FAILED: &str = "gagal";

/// A running job whose heartbeat is older than this has lost its process.
pub const STALE_SECONDS: i64 = 60;
/// How often a process renews the heartbeat of the jobs it runs.
pub const HEARTBEAT_SECONDS: u64 = 10;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Job {
    #[serde(skip)]
    pub id: i64,
    pub public_id: String,
    pub department_id: i64,
    pub kind: String,
    pub owner_id: i64,
    pub subject: String,
    #[serde(skip)]
    pub input: String,
    pub state: String,
    pub total: i64,
    pub done: i64,
    pub error: String,
    #[serde(skip)]
    pub claimed_by: String,
    pub heartbeat_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl Job {
    /// Running, but its process has not been heard of for [`STALE_SECONDS`].
    pub fn stopped(&self, at: i64) -> bool {
        self.state == RUNNING && self.heartbeat_at < at - STALE_SECONDS
    }
    /// Running in some process now.
    pub fn active(&self, at: i64) -> bool {
        self.state == RUNNING && !self.stopped(at)
    }
    pub fn percent(&self) -> i64 {
        (self.done * 100).checked_div(self.total).unwrap_or(100).clamp(0, 100)
    }
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Item {
    pub seq: i64,
    /// What the item works on (a letter id).
    pub target: i64,
    /// The version of it the owner saw (a letter's revision).
    pub version: i64,
    pub label: String,
    pub state: String,
    pub message: String,
}

const COLUMNS: &str = "id, public_id, department_id, kind, owner_id, subject, input, state, total, done, error, claimed_by, \
                       heartbeat_at, created_at, updated_at, finished_at";

/// This process, as named in `claimed_by`: host, process id and a random part (a
/// restarted process with the same id is another process).
pub fn process_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("{}:{}:{:08x}", host.trim(), std::process::id(), rand::random::<u32>())
    })
}

/// What a new job is.
pub struct NewJob<'a> {
    pub department_id: i64,
    pub kind: &'a str,
    pub owner_id: i64,
    /// What it works on: while it runs, no other running job has the same subject.
    pub subject: &'a str,
    pub input: String,
    pub total: i64,
}

/// Stores a running job claimed by this process. `None`: a job with the same subject
/// is running already (the unique index decides, whichever process asked first).
pub async fn create(conn: &mut AnyConnection, job: NewJob<'_>, at: i64) -> Result<Option<Job>, DbError> {
    let inserted = sqlx::query_as::<Any, Job>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO jobs (public_id, department_id, kind, owner_id, subject, input, state, total, claimed_by, heartbeat_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10) RETURNING {COLUMNS}"
    )))
    .bind(crate::accounts::random_token())
    .bind(job.department_id)
    .bind(job.kind)
    .bind(job.owner_id)
    .bind(job.subject)
    .bind(&job.input)
    .bind(RUNNING)
    .bind(job.total)
    .bind(process_name())
    .bind(at)
    .fetch_one(&mut *conn)
    .await;
    match inserted.map_err(DbError::Sqlx) {
        Ok(job) => Ok(Some(job)),
        Err(e) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

/// A job of the department by its public id.
pub async fn get(db: &Db, department_id: i64, public_id: &str) -> Result<Option<Job>, DbError> {
    Ok(sqlx::query_as::<Any, Job>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE department_id = $1 AND public_id = $2"
    )))
    .bind(department_id)
    .bind(public_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// The newest job on a subject, running or not.
pub async fn latest_for(db: &Db, department_id: i64, subject: &str) -> Result<Option<Job>, DbError> {
    Ok(sqlx::query_as::<Any, Job>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE department_id = $1 AND subject = $2 ORDER BY id DESC LIMIT 1"
    )))
    .bind(department_id)
    .bind(subject)
    .fetch_optional(&db.pool)
    .await?)
}

/// Takes over a stopped job for this process. `false`: it is not stopped (its process
/// is alive, it has ended, or another process took it a moment ago).
pub async fn claim_stopped(db: &Db, job: &Job, at: i64) -> Result<bool, DbError> {
    let taken = sqlx::query(
        "UPDATE jobs SET claimed_by = $1, heartbeat_at = $2, updated_at = $2 \
         WHERE id = $3 AND state = $4 AND heartbeat_at < $5 AND heartbeat_at = $6",
    )
    .bind(process_name())
    .bind(at)
    .bind(job.id)
    .bind(RUNNING)
    .bind(at - STALE_SECONDS)
    .bind(job.heartbeat_at)
    .execute(&db.pool)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Progress, which also shows the job is alive.
pub async fn progress(db: &Db, job_id: i64, done: i64, at: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE jobs SET done = $1, heartbeat_at = $2, updated_at = $2 WHERE id = $3 AND claimed_by = $4")
        .bind(done)
        .bind(at)
        .bind(job_id)
        .bind(process_name())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Ends a job: [`DONE`] with its count, or [`FAILED`] with why.
pub async fn finish(db: &Db, job_id: i64, state: &str, done: i64, error: &str, at: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE jobs SET state = $1, done = $2, error = $3, heartbeat_at = $4, updated_at = $4, finished_at = $4 \
         WHERE id = $5 AND state = $6",
    )
    .bind(state)
    .bind(done)
    .bind(error.chars().take(1000).collect::<String>())
    .bind(at)
    .bind(job_id)
    .bind(RUNNING)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Keeps one job's heartbeat fresh while the returned guard lives (the job's work holds
/// it). A renewal that fails, as when SQLite's one writer is busy with a long import, is
/// tried again at the next beat; [`STALE_SECONDS`] leaves room for several.
pub fn keep_alive(db: &Db, job_id: i64) -> KeepAlive {
    let db = db.clone();
    KeepAlive(tokio::spawn(async move {
        let every = std::time::Duration::from_secs(HEARTBEAT_SECONDS);
        loop {
            tokio::time::sleep(every).await;
            let renewed = sqlx::query("UPDATE jobs SET heartbeat_at = $1 WHERE id = $2 AND claimed_by = $3 AND state = $4")
                .bind(now())
                .bind(job_id)
                .bind(process_name())
                .bind(RUNNING)
                .execute(&db.pool)
                .await;
            if let Err(e) = renewed {
                tracing::debug!(job = job_id, error = %e, "detak tugas latar tertunda");
            }
        }
    }))
}

/// Stops the heartbeat when the job's work ends, however it ends.
pub struct KeepAlive(tokio::task::JoinHandle<()>);

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The items of a job, in order.
pub async fn items(db: &Db, job_id: i64) -> Result<Vec<Item>, DbError> {
    Ok(
        sqlx::query_as::<Any, Item>("SELECT seq, target, version, label, state, message FROM job_items WHERE job_id = $1 ORDER BY seq")
            .bind(job_id)
            .fetch_all(&db.pool)
            .await?,
    )
}

/// Stores the items of a new job, all pending.
pub async fn add_items(conn: &mut AnyConnection, job_id: i64, items: &[(i64, i64, String)]) -> Result<(), DbError> {
    for (seq, (target, version, label)) in items.iter().enumerate() {
        sqlx::query("INSERT INTO job_items (job_id, seq, target, version, label, state) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(job_id)
            .bind(seq as i64)
            .bind(*target)
            .bind(*version)
            .bind(label.chars().take(300).collect::<String>())
            .bind(ITEM_PENDING)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Records an item's outcome.
pub async fn set_item(db: &Db, job_id: i64, seq: i64, state: &str, message: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE job_items SET state = $1, message = $2 WHERE job_id = $3 AND seq = $4")
        .bind(state)
        .bind(message.chars().take(1000).collect::<String>())
        .bind(job_id)
        .bind(seq)
        .execute(&db.pool)
        .await?;
    Ok(())
}
