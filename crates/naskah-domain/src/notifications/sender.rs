//! Sends the reminder outbox over SMTP: each due message is claimed (so two processes
//! never send the same one), sent outside any transaction, and recorded; a server that
//! is down only delays it, with growing pauses, until the last attempt.

use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::Any;

use super::Error;
use crate::{
    config::MailConfig,
    db::{Db, now},
    distribution::mail::SmtpSettings,
};

/// A claimed message is not taken again for this long, even if the process dies mid-send.
const LEASE_SECONDS: i64 = 300;
const BATCH: i64 = 50;

/// What one pass sent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct ReminderSender {
    db: Db,
    settings: SmtpSettings,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    retry_base: i64,
    max_attempts: i64,
}

impl ReminderSender {
    /// The sender, or `None` when no SMTP server is configured.
    pub fn from_config(db: &Db, mail: &MailConfig) -> Result<Option<ReminderSender>, String> {
        if mail.smtp_url.is_empty() {
            return Ok(None);
        }
        let settings = SmtpSettings::parse(mail.smtp_url.expose(), &mail.from)?;
        Ok(Some(ReminderSender {
            db: db.clone(),
            transport: settings.transport()?,
            settings,
            retry_base: mail.retry_base_seconds,
            max_attempts: mail.max_attempts,
        }))
    }

    /// Sends every reminder that is due now.
    pub async fn run_once(&self) -> Result<Sent, Error> {
        let at = now();
        let due: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as::<Any, (i64, String, String, String, i64, i64)>(
            "SELECT id, address, subject, body, attempts, next_attempt_at FROM reminder_outbox \
             WHERE status = 'queued' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(at)
        .bind(BATCH)
        .fetch_all(&self.db.pool)
        .await?;
        let mut run = Sent::default();
        for (id, address, subject, body, attempts, next) in due {
            let claimed = sqlx::query(
                "UPDATE reminder_outbox SET next_attempt_at = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND status = 'queued' AND next_attempt_at = $3",
            )
            .bind(at + LEASE_SECONDS)
            .bind(id)
            .bind(next)
            .execute(&self.db.pool)
            .await?;
            if claimed.rows_affected() != 1 {
                continue;
            }
            let attempts = attempts + 1;
            let outcome = match address.parse() {
                Ok(to) => match Message::builder()
                    .from(self.settings.from.clone())
                    .to(to)
                    .subject(subject)
                    .body(body)
                {
                    Ok(message) => self
                        .transport
                        .send(message)
                        .await
                        .map(|_| ())
                        .map_err(|e| (format!("server surel: {e}"), e.is_permanent())),
                    Err(e) => Err((format!("surel tidak dapat disusun: {e}"), true)),
                },
                Err(e) => Err((format!("alamat surel '{address}' tidak valid: {e}"), true)),
            };
            let at = now();
            let (status, next, error) = match outcome {
                Ok(()) => {
                    run.sent += 1;
                    ("sent", None, String::new())
                }
                Err((error, permanent)) if permanent || attempts >= self.max_attempts => {
                    run.failed += 1;
                    ("failed", None, error)
                }
                Err((error, _)) => {
                    run.retrying += 1;
                    (
                        "queued",
                        Some(at + crate::distribution::mail::backoff(self.retry_base, attempts)),
                        error,
                    )
                }
            };
            sqlx::query(
                "UPDATE reminder_outbox SET status = $1, next_attempt_at = $2, last_error = $3, \
                 sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END WHERE id = $5",
            )
            .bind(status)
            .bind(next)
            .bind(error.chars().take(500).collect::<String>())
            .bind(at)
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        }
        Ok(run)
    }
}

/// Plans and sends reminders until `stop` fires: a pass every `every`.
pub async fn run(
    flow: crate::workflow::Workflow,
    sender: ReminderSender,
    base_url: String,
    digest_every: i64,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match super::plan(&flow, &base_url, digest_every).await {
            Ok(planned) if planned.messages > 0 => tracing::info!(messages = planned.messages, "pengingat disusun"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pengingat tidak dapat disusun"),
        }
        match sender.run_once().await {
            Ok(run) if run != Sent::default() => {
                tracing::info!(sent = run.sent, retrying = run.retrying, failed = run.failed, "pengingat surel")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pengingat surel gagal dikirim"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
