//! Long-term signatures after signing: a durable job per signed letter that raises its
//! final PDF from PAdES B-B to the department's level (B-T, B-LT, B-LTA). The signing
//! transaction only records the job (no network while the number series is locked);
//! the service's background loop, or `naskah tanda-tangan jalankan`, claims due jobs
//! with a lease (as the e-mail outbox does), asks the timestamp authority, and replaces
//! `letter_files.pdf` / `letters.final_sha256` in one transaction with an audit entry. A TSA
//! that is down only delays: the job waits, with the error shown on the letter's page,
//! and is tried again with growing pauses; what was reached before stays.

use std::{sync::Arc, time::Duration};

use sqlx::{Any, AnyConnection, FromRow};

use super::statement::sha256_hex;
use crate::{
    audit::{self, Actor, Event},
    config::TimestampConfig,
    db::{Db, DbError, now},
    keys::{KeyStore, authority, revocation},
    signing::{
        ltv::{self, Level, LtvError, ValidationData},
        timestamp::{Authority, HttpAuthority},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(DbError::Sqlx(e))
    }
}

/// A claimed job is not taken again for this long, even if the process dies mid-way.
const LEASE_SECONDS: i64 = 300;
/// Jobs taken in one pass.
const BATCH: i64 = 20;
const AUGMENTER: Actor = Actor::System("stempel waktu");

/// The department's level setting (`None`: the default).
pub async fn level_setting(db: &Db, department_id: i64) -> Result<Option<Level>, Error> {
    let (code,): (Option<String>,) = sqlx::query_as::<Any, (Option<String>,)>("SELECT signature_level FROM departments WHERE id = $1")
        .bind(department_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(code.as_deref().and_then(Level::parse))
}

/// The level a department's next signatures get: its setting, else B-LT when a
/// timestamp authority is configured and B-B when none is.
pub async fn level(db: &Db, department_id: i64, timestamping: bool) -> Result<Level, Error> {
    let default = if timestamping { Level::Lt } else { Level::B };
    Ok(level_setting(db, department_id).await?.unwrap_or(default))
}

/// Sets (or, with `None`, clears back to the default) the department's level.
pub async fn set_level(db: &Db, actor: &Actor, department_id: i64, level: Option<Level>) -> Result<(), Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE departments SET signature_level = $1 WHERE id = $2")
        .bind(level.map(Level::code))
        .bind(department_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "signing.level_changed",
            subject: format!("department:{department_id}"),
            details: serde_json::json!({ "level": level.map(Level::code) }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Inside the signing transaction: records that the letter's final PDF (whose SHA-256
/// is `base_sha256`) is to be raised to `target`. Nothing to record for B-B.
pub async fn enqueue(
    conn: &mut AnyConnection,
    department_id: i64,
    letter_id: i64,
    target: Level,
    base_sha256: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    if target == Level::B {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO signature_augmentations (letter_id, department_id, target_level, reached_level, status, attempts, \
         next_attempt_at, last_error, base_sha256, created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, '', $6, $5, $5)",
    )
    .bind(letter_id)
    .bind(department_id)
    .bind(target.code())
    .bind(Level::B.code())
    .bind(at)
    .bind(base_sha256)
    .execute(conn)
    .await?;
    Ok(())
}

/// A letter's job as stored.
#[derive(Debug, Clone, FromRow)]
pub struct Augmentation {
    pub letter_id: i64,
    pub department_id: i64,
    pub target_level: String,
    pub reached_level: String,
    /// `pending`, `done` or `failed` (a PDF that cannot be augmented; not retried).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_error: String,
    /// SHA-256 of the B-B file the signing wrote.
    pub base_sha256: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "letter_id, department_id, target_level, reached_level, status, attempts, next_attempt_at, last_error, \
                       base_sha256, created_at, updated_at";

impl Augmentation {
    pub fn reached(&self) -> Level {
        Level::parse(&self.reached_level).unwrap_or(Level::B)
    }

    pub fn target(&self) -> Level {
        Level::parse(&self.target_level).unwrap_or(Level::B)
    }

    /// One line for the letter's page, in Indonesian.
    pub fn summary(&self) -> String {
        match self.status.as_str() {
            "done" => format!(
                "Tanda tangan jangka panjang: {} (stempel waktu dan data validasi tersimpan).",
                self.reached().label()
            ),
            "failed" => format!(
                "Tanda tangan jangka panjang gagal ({} tercapai dari {}): {}",
                self.reached().label(),
                self.target().label(),
                self.last_error
            ),
            _ => {
                let mut line = format!(
                    "Stempel waktu tertunda: naskah bertanda tangan {} dan sah; {} menyusul.",
                    self.reached().label(),
                    self.target().label()
                );
                if !self.last_error.is_empty() {
                    line.push_str(&format!(" Percobaan ke-{} gagal: {}", self.attempts, self.last_error));
                }
                line
            }
        }
    }
}

/// The letter's job, if it has one.
pub async fn of_letter(db: &Db, letter_id: i64) -> Result<Option<Augmentation>, Error> {
    Ok(sqlx::query_as::<Any, Augmentation>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM signature_augmentations WHERE letter_id = $1"
    )))
    .bind(letter_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AugmentRun {
    /// Jobs that reached their target level.
    pub completed: usize,
    /// Jobs that wait for another attempt (possibly after some progress).
    pub delayed: usize,
    /// Jobs that failed for good.
    pub failed: usize,
}

/// The worker over the jobs table.
#[derive(Clone)]
pub struct Augmenter {
    db: Db,
    store: KeyStore,
    tsa: Arc<dyn Authority>,
    retry_base: i64,
    /// For the CRLs fetched from other authorities' distribution points.
    fetch_timeout: Duration,
}

impl Augmenter {
    pub fn new(db: Db, store: KeyStore, tsa: Arc<dyn Authority>, retry_base: i64) -> Self {
        Augmenter {
            db,
            store,
            tsa,
            retry_base: retry_base.max(1),
            fetch_timeout: Duration::from_secs(15),
        }
    }

    /// The worker, or `None` when no timestamp authority is configured.
    pub fn from_config(db: &Db, store: &KeyStore, config: &TimestampConfig) -> Result<Option<Self>, String> {
        if config.url.is_empty() {
            return Ok(None);
        }
        let tsa = HttpAuthority::new(config.url.expose(), Duration::from_secs(config.timeout_seconds))?;
        let mut augmenter = Augmenter::new(db.clone(), store.clone(), Arc::new(tsa), config.retry_base_seconds);
        augmenter.fetch_timeout = Duration::from_secs(config.timeout_seconds);
        Ok(Some(augmenter))
    }

    /// The pause before attempt `attempts + 1`: base, 2×base, 4×base… at most an hour.
    fn backoff(&self, attempts: i64) -> i64 {
        let exponent = (attempts - 1).clamp(0, 20) as u32;
        self.retry_base.saturating_mul(1_i64 << exponent).min(3600)
    }

    /// Works every job that is due now, a batch at a time.
    pub async fn run_once(&self) -> Result<AugmentRun, Error> {
        let at = now();
        let mut run = AugmentRun::default();
        loop {
            let due = sqlx::query_as::<Any, Augmentation>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM signature_augmentations WHERE status = 'pending' AND next_attempt_at <= $1 \
                 ORDER BY next_attempt_at, letter_id LIMIT $2"
            )))
            .bind(at)
            .bind(BATCH)
            .fetch_all(&self.db.pool)
            .await?;
            let full = due.len() as i64 == BATCH;
            let mut progressed = false;
            for job in due {
                match self.work_one(&job, at).await? {
                    Some(Outcome::Completed) => run.completed += 1,
                    Some(Outcome::Delayed) => run.delayed += 1,
                    Some(Outcome::Failed) => run.failed += 1,
                    None => continue,
                }
                progressed = true;
            }
            if !full || !progressed {
                return Ok(run);
            }
        }
    }

    /// Claims one job, raises the PDF as far as it gets and records the outcome. `None`:
    /// another process took it first.
    async fn work_one(&self, job: &Augmentation, at: i64) -> Result<Option<Outcome>, Error> {
        let claimed = sqlx::query(
            "UPDATE signature_augmentations SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE letter_id = $2 AND status = 'pending' AND next_attempt_at = $3",
        )
        .bind(at + LEASE_SECONDS)
        .bind(job.letter_id)
        .bind(job.next_attempt_at)
        .execute(&self.db.pool)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(None);
        }
        let attempts = job.attempts + 1;
        let row: Option<FinalFile> = sqlx::query_as::<Any, FinalFile>(
            "SELECT f.pdf, l.final_sha256, l.signature_certificate FROM letters l LEFT JOIN letter_files f ON f.letter_id = l.id \
                 WHERE l.id = $1",
        )
        .bind(job.letter_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some((Some(original), Some(original_sha), certificate)) = row else {
            self.record(job, None, job.reached(), "failed", "surat tidak punya naskah akhir", attempts)
                .await?;
            return Ok(Some(Outcome::Failed));
        };
        let (mut pdf, mut reached) = (original.clone(), job.reached());
        let mut problem: Option<(String, bool)> = None;
        while reached < job.target() {
            let Some(next) = reached.next() else { break };
            match self.raise(&pdf, next, certificate.as_deref()).await {
                Ok(raised) => {
                    pdf = raised;
                    reached = next;
                }
                Err(e) => {
                    problem = Some(e);
                    break;
                }
            }
        }
        let changed = (reached != job.reached()).then_some((pdf.as_slice(), original_sha.as_str()));
        let outcome = match problem {
            None => {
                self.record(job, changed, reached, "done", "", attempts).await?;
                Outcome::Completed
            }
            Some((error, true)) => {
                self.record(job, changed, reached, "failed", &error, attempts).await?;
                Outcome::Failed
            }
            Some((error, false)) => {
                self.record(job, changed, reached, "pending", &error, attempts).await?;
                Outcome::Delayed
            }
        };
        Ok(Some(outcome))
    }

    /// One step up. The error says whether it is permanent (a PDF we cannot read).
    async fn raise(&self, pdf: &[u8], level: Level, certificate: Option<&str>) -> Result<Vec<u8>, (String, bool)> {
        let permanent = |e: LtvError| {
            let is_permanent = matches!(e, LtvError::Pdf(_));
            (e.to_string(), is_permanent)
        };
        match level {
            Level::B => Ok(pdf.to_vec()),
            Level::T => {
                if ltv::has_signature_timestamp(pdf) {
                    return Ok(pdf.to_vec());
                }
                let (tsa, owned) = (self.tsa.clone(), pdf.to_vec());
                tokio::task::spawn_blocking(move || ltv::add_signature_timestamp(&owned, tsa.as_ref()))
                    .await
                    .map_err(|e| (e.to_string(), false))?
                    .map(|(stamped, _)| stamped)
                    .map_err(permanent)
            }
            Level::Lt => {
                let data = self.validation_data(pdf, certificate).await.map_err(|e| (e, false))?;
                ltv::add_validation_data(pdf, &data).map_err(|e| permanent(e.into()))
            }
            Level::Lta => {
                let (tsa, owned) = (self.tsa.clone(), pdf.to_vec());
                tokio::task::spawn_blocking(move || ltv::add_document_timestamp(&owned, tsa.as_ref()))
                    .await
                    .map_err(|e| (e.to_string(), false))?
                    .map(|(stamped, _)| stamped)
                    .map_err(permanent)
            }
        }
    }

    /// The certificates in the signature (the official's, the root, the TSA's), the
    /// official certificate's authority's CRL (issued after the signature timestamp) and
    /// the CRLs at the other certificates' distribution points (the TSA's), fetched now.
    async fn validation_data(&self, pdf: &[u8], certificate: Option<&str>) -> Result<ValidationData, String> {
        let certificates = ltv::embedded_certificates(pdf).unwrap_or_default();
        let stamped_at = ltv::signature_timestamp_time(pdf).unwrap_or(i64::MIN);
        let mut crls = Vec::new();
        let mut own = Vec::new();
        if let Some(fingerprint) = certificate {
            let issuer: Option<(String,)> =
                sqlx::query_as::<Any, (String,)>("SELECT authority FROM official_certificates WHERE fingerprint = $1")
                    .bind(fingerprint)
                    .fetch_optional(&self.db.pool)
                    .await
                    .map_err(|e| e.to_string())?;
            if let Some((issuer,)) = issuer
                && let Some(info) = authority::by_fingerprint(&self.db, &issuer).await.map_err(|e| e.to_string())?
            {
                let crl = revocation::current_after(&self.db, &self.store, &info, stamped_at)
                    .await
                    .map_err(|e| e.to_string())?;
                crls.push(crl.crl);
                own.push(info.fingerprint);
            }
        }
        let mut addresses: Vec<String> = certificates
            .iter()
            .flat_map(|c| crate::signing::x509::crl_distribution_points(c))
            .filter(|address| !own.iter().any(|f| address.ends_with(&format!("/ca/{f}.crl"))))
            .collect();
        addresses.sort();
        addresses.dedup();
        for address in addresses.into_iter().take(4) {
            let timeout = self.fetch_timeout;
            let fetched = tokio::task::spawn_blocking(move || {
                crate::signing::timestamp::fetch_crl(&address, timeout).map_err(|e| format!("{address}: {e}"))
            })
            .await
            .map_err(|e| e.to_string())??;
            crls.push(fetched);
        }
        Ok(ValidationData { certificates, crls })
    }

    /// Stores the outcome: the raised PDF (when `changed`, only if the letter still has
    /// the file this pass started from), the job's state and an audit entry.
    async fn record(
        &self,
        job: &Augmentation,
        changed: Option<(&[u8], &str)>,
        reached: Level,
        status: &str,
        error: &str,
        attempts: i64,
    ) -> Result<(), Error> {
        let at = now();
        let error: String = error.chars().take(500).collect();
        let next = (status == "pending").then(|| at + self.backoff(attempts));
        let mut tx = self.db.begin_write().await?;
        let mut sha = None;
        if let Some((pdf, expected)) = changed {
            let new_sha = sha256_hex(pdf);
            let replaced = sqlx::query("UPDATE letters SET final_sha256 = $1 WHERE id = $2 AND final_sha256 = $3")
                .bind(&new_sha)
                .bind(job.letter_id)
                .bind(expected)
                .execute(&mut *tx)
                .await?;
            if replaced.rows_affected() == 1 {
                crate::workflow::store_final_pdf(&mut tx, job.letter_id, pdf).await?;
            } else {
                // The file changed under us: drop this pass and try again soon.
                tx.rollback().await?;
                sqlx::query("UPDATE signature_augmentations SET next_attempt_at = $1, updated_at = $1 WHERE letter_id = $2")
                    .bind(at)
                    .bind(job.letter_id)
                    .execute(&self.db.pool)
                    .await?;
                return Ok(());
            }
            sha = Some(new_sha);
        }
        sqlx::query(
            "UPDATE signature_augmentations SET reached_level = $1, status = $2, last_error = $3, next_attempt_at = $4, updated_at = $5 \
             WHERE letter_id = $6",
        )
        .bind(reached.code())
        .bind(status)
        .bind(&error)
        .bind(next)
        .bind(at)
        .bind(job.letter_id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            Event {
                department_id: Some(job.department_id),
                actor: &AUGMENTER,
                action: match (sha.is_some(), status) {
                    (true, _) => "letter.signature_augmented",
                    (false, "done") => "letter.signature_augmented",
                    _ => "letter.signature_augmentation_failed",
                },
                subject: format!("letter:{}", job.letter_id),
                details: serde_json::json!({
                    "from": job.reached_level,
                    "reached": reached.code(),
                    "target": job.target_level,
                    "status": status,
                    "attempt": attempts,
                    "final_sha256": sha,
                    "error": error,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs the worker until `stop` fires: a pass every `every`.
    pub async fn run(self, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            match self.run_once().await {
                Ok(run) if run != AugmentRun::default() => tracing::info!(
                    completed = run.completed,
                    delayed = run.delayed,
                    failed = run.failed,
                    "tanda tangan jangka panjang"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "antrean stempel waktu gagal dibaca"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// A letter's final PDF, its SHA-256 and the fingerprint of its signer's certificate.
type FinalFile = (Option<Vec<u8>>, Option<String>, Option<String>);

enum Outcome {
    Completed,
    Delayed,
    Failed,
}
