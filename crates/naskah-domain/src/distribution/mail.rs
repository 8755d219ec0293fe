//! E-mail delivery: the e-mail rows of the delivery log are the outbox. The sender takes
//! the due ones, claims each (so two processes never send the same one), sends the
//! signed PDF with the verification address and a one-time receipt link over SMTP, and
//! records the outcome. A refused or unreachable server only delays: the row waits with
//! the error shown and is tried again with growing pauses; after the last attempt, or a
//! permanent refusal, it is marked failed and can be sent again from the letter's page.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};
use sqlx::Any;

use super::{
    Error,
    deliveries::{COLUMNS, Delivery},
};
use crate::{
    audit::{self, Actor, Event},
    config::MailConfig,
    db::{Db, now},
    departments,
    workflow::{self, statement::sha256_hex},
};

/// How the SMTP server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: STARTTLS, required.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Tls,
    /// `smtp+plain://`: no TLS (a relay on the same host, a test server).
    Plain,
}

/// The parsed `mail.smtp_url` and `mail.from`.
#[derive(Clone)]
pub struct SmtpSettings {
    pub security: Security,
    pub host: String,
    pub port: u16,
    credentials: Option<(String, String)>,
    pub from: Mailbox,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials.as_ref().map(|_| "***"))
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpSettings {
    pub fn parse(url: &str, from: &str) -> Result<SmtpSettings, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("alamat SMTP tidak valid: {e}"))?;
        let (security, default_port) = match parsed.scheme() {
            "smtp" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            "smtp+plain" => (Security::Plain, 25),
            other => return Err(format!("skema '{other}' tidak dikenal; pakai smtp://, smtps:// atau smtp+plain://")),
        };
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or("alamat SMTP tanpa nama host")?;
        let credentials = (!parsed.username().is_empty()).then(|| {
            let decode = |s: &str| {
                url::form_urlencoded::parse(s.replace('+', "%2B").as_bytes())
                    .map(|(k, _)| k.into_owned())
                    .collect::<String>()
            };
            (decode(parsed.username()), decode(parsed.password().unwrap_or_default()))
        });
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("pengirim '{from}' bukan alamat surel yang valid: {e}"))?;
        Ok(SmtpSettings {
            security,
            host: host.trim_matches(['[', ']']).to_string(),
            port: parsed.port().unwrap_or(default_port),
            credentials,
            from,
        })
    }

    pub(crate) fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let tls = match self.security {
            Security::Plain => Tls::None,
            Security::StartTls => Tls::Required(TlsParameters::new(self.host.clone()).map_err(|e| e.to_string())?),
            Security::Tls => Tls::Wrapper(TlsParameters::new(self.host.clone()).map_err(|e| e.to_string())?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
            .port(self.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }
}

/// The pause before attempt `attempts + 1` of an outbox (deliveries, reminders): base,
/// 2×base, 4×base… at most an hour.
pub(crate) fn backoff(retry_base: i64, attempts: i64) -> i64 {
    let exponent = (attempts - 1).clamp(0, 20) as u32;
    retry_base.saturating_mul(1_i64 << exponent).min(3600)
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxRun {
    pub sent: usize,
    /// Failed this time and waiting for another attempt.
    pub retrying: usize,
    /// Failed for good (permanent refusal or the last attempt).
    pub failed: usize,
}

/// The e-mail sender over the delivery log.
#[derive(Clone)]
pub struct Outbox {
    db: Db,
    settings: SmtpSettings,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    base_url: String,
    retry_base: i64,
    max_attempts: i64,
}

/// A claimed row is not taken again for this long, even if the process dies mid-send.
const LEASE_SECONDS: i64 = 300;
/// Rows taken in one pass.
const BATCH: i64 = 50;

impl Outbox {
    /// The sender, or `None` when no SMTP server is configured.
    pub fn from_config(db: &Db, mail: &MailConfig, base_url: &str) -> Result<Option<Outbox>, String> {
        if mail.smtp_url.is_empty() {
            return Ok(None);
        }
        let settings = SmtpSettings::parse(mail.smtp_url.expose(), &mail.from)?;
        Ok(Some(Outbox {
            db: db.clone(),
            transport: settings.transport()?,
            settings,
            base_url: base_url.trim_end_matches('/').to_string(),
            retry_base: mail.retry_base_seconds,
            max_attempts: mail.max_attempts,
        }))
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// The pause before attempt `attempts + 1`: base, 2×base, 4×base… at most an hour.
    fn backoff(&self, attempts: i64) -> i64 {
        backoff(self.retry_base, attempts)
    }

    /// Sends every e-mail delivery that is due now, a batch at a time (a row tried in
    /// this pass is not due again until its back-off has passed).
    pub async fn run_once(&self) -> Result<OutboxRun, Error> {
        let at = now();
        let mut run = OutboxRun::default();
        loop {
            let due = sqlx::query_as::<Any, Delivery>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM deliveries WHERE channel = 'email' AND status = 'queued' AND next_attempt_at <= $1 \
                 ORDER BY next_attempt_at, id LIMIT $2"
            )))
            .bind(at)
            .bind(BATCH)
            .fetch_all(&self.db.pool)
            .await?;
            let full = due.len() as i64 == BATCH;
            let mut progressed = false;
            for delivery in due {
                match self.send_one(&delivery, at).await? {
                    Some(Outcome::Sent) => run.sent += 1,
                    Some(Outcome::Retrying) => run.retrying += 1,
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

    /// Claims one row (with a fresh receipt token, whose hash is stored), sends it and
    /// records the outcome. `None`: another process took it first.
    async fn send_one(&self, delivery: &Delivery, at: i64) -> Result<Option<Outcome>, Error> {
        let token = crate::accounts::random_token();
        let claimed = sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $1, attempts = attempts + 1, receipt_hash = $2 \
             WHERE id = $3 AND status = 'queued' AND channel = 'email' AND next_attempt_at = $4",
        )
        .bind(at + LEASE_SECONDS)
        .bind(sha256_hex(token.as_bytes()))
        .bind(delivery.id)
        .bind(delivery.next_attempt_at)
        .execute(&self.db.pool)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(None);
        }
        let attempts = delivery.attempts + 1;
        let sent = match self.message(delivery, &token).await {
            Ok(message) => self.transport.send(message).await.map(|_| ()).map_err(|e| {
                let permanent = e.is_permanent();
                (format!("server surel: {e}"), permanent)
            }),
            Err(e) => Err((e, true)),
        };
        let at = now();
        let outcome = match sent {
            Ok(()) => {
                self.record_sent(delivery, at).await?;
                Outcome::Sent
            }
            Err((error, permanent)) if permanent || attempts >= self.max_attempts => {
                let error: String = error.chars().take(500).collect();
                let note = format!("gagal setelah {attempts} percobaan: {error}");
                self.record_failure(delivery, at, "failed", &note, &error, None).await?;
                Outcome::Failed
            }
            Err((error, _)) => {
                let error: String = error.chars().take(500).collect();
                let next = at + self.backoff(attempts);
                let note = format!("percobaan {attempts} gagal: {error}");
                self.record_failure(delivery, at, "queued", &note, &error, Some(next)).await?;
                Outcome::Retrying
            }
        };
        Ok(Some(outcome))
    }

    async fn record_sent(&self, delivery: &Delivery, at: i64) -> Result<(), Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "UPDATE deliveries SET status = 'sent', sent_at = $1, next_attempt_at = NULL, last_error = '', updated_at = $1, updated_by = $2 WHERE id = $3",
        )
        .bind(at)
        .bind(SENDER.label())
        .bind(delivery.id)
        .execute(&mut *tx)
        .await?;
        self.event(&mut tx, delivery, at, "sent", "terkirim lewat surel").await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_failure(
        &self,
        delivery: &Delivery,
        at: i64,
        status: &str,
        note: &str,
        error: &str,
        next: Option<i64>,
    ) -> Result<(), Error> {
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "UPDATE deliveries SET status = $1, last_error = $2, next_attempt_at = $3, \
             failed_at = CASE WHEN $1 = 'failed' THEN $4 ELSE failed_at END, updated_at = $4, updated_by = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(error)
        .bind(next)
        .bind(at)
        .bind(SENDER.label())
        .bind(delivery.id)
        .execute(&mut *tx)
        .await?;
        self.event(&mut tx, delivery, at, status, note).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn event(&self, conn: &mut sqlx::AnyConnection, delivery: &Delivery, at: i64, status: &str, note: &str) -> Result<(), Error> {
        super::deliveries::event_in(conn, delivery.id, at, status, &SENDER.label(), note).await?;
        audit::record(
            conn,
            Event {
                department_id: Some(delivery.department_id),
                actor: &SENDER,
                action: if status == "sent" {
                    "delivery.sent"
                } else {
                    "delivery.attempt_failed"
                },
                subject: format!("letter:{}", delivery.letter_id),
                details: serde_json::json!({ "delivery": delivery.id, "to": delivery.address, "status": status, "note": note }),
            },
        )
        .await?;
        Ok(())
    }

    /// The message: the letter's details, its verification address and the receipt link
    /// in the text, the signed PDF attached.
    async fn message(&self, delivery: &Delivery, token: &str) -> Result<Message, String> {
        let letter = workflow::get(&self.db, delivery.department_id, delivery.letter_id)
            .await
            .map_err(|e| e.to_string())?;
        let pdf = workflow::final_pdf(&self.db, letter.id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("surat belum punya naskah akhir")?;
        let department = departments::get(&self.db, delivery.department_id)
            .await
            .map_err(|e| e.to_string())?;
        let to: Mailbox = format!("{} <{}>", delivery.name.replace(['"', '<', '>', ','], " "), delivery.address)
            .parse()
            .or_else(|_| delivery.address.parse())
            .map_err(|e| format!("alamat surel '{}' tidak valid: {e}", delivery.address))?;
        let number = letter.number.clone().unwrap_or_default();
        let date = letter.letter_date.as_deref().map(crate::text::date_long_iso).unwrap_or_default();
        let verification = letter
            .verification_id
            .as_deref()
            .map(|v| format!("{}/v/{v}", self.base_url))
            .unwrap_or_default();
        let receipt = format!("{}/tanda-terima/{token}", self.base_url);
        let body = format!(
            "Yth. {name},\n\n\
             {dinas} {pemda} menyampaikan surat berikut:\n\n\
             Nomor   : {number}\nTanggal : {date}\nHal     : {subject}\n\n\
             Naskah resmi terlampir (PDF bertanda tangan elektronik). Keaslian dan status surat dapat diperiksa di:\n{verification}\n\n\
             Mohon konfirmasi bahwa surat ini sudah Saudara terima dengan membuka tanda terima elektronik berikut \
             dan menekan tombol Konfirmasi (tautan ini hanya untuk Saudara dan hanya berlaku sekali):\n{receipt}\n\n\
             Surel ini dikirim otomatis oleh layanan naskah dinas {dinas}. Jawaban atas surat disampaikan dengan surat resmi.\n",
            name = delivery.name,
            dinas = department.name,
            pemda = department.regency_name,
            subject = letter.subject,
        );
        let file_name = format!("{}.pdf", number.replace(['/', ' ', '\\'], "-"));
        Message::builder()
            .from(self.settings.from.clone())
            .to(to)
            .subject(format!("{} — Nomor {number}", letter.subject))
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body))
                    .singlepart(Attachment::new(file_name).body(pdf, ContentType::parse("application/pdf").map_err(|e| e.to_string())?)),
            )
            .map_err(|e| format!("surel tidak dapat disusun: {e}"))
    }

    /// Runs the sender until `stop` fires: a pass every `every`.
    pub async fn run(self, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        tracing::info!(host = %self.settings.host, port = self.settings.port, "pengirim surel berjalan");
        loop {
            match self.run_once().await {
                Ok(run) if run != OutboxRun::default() => {
                    tracing::info!(sent = run.sent, retrying = run.retrying, failed = run.failed, "kotak keluar surel")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "kotak keluar surel gagal dibaca"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

enum Outcome {
    Sent,
    Retrying,
    Failed,
}

const SENDER: Actor = Actor::System("pengirim surel");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_addresses() {
        let s = SmtpSettings::parse(
            "smtp://naskah%40dinas:rahasia%2Fx@mail.penajamkab.go.id",
            "Disnaker <naskah@penajamkab.go.id>",
        )
        .unwrap();
        assert_eq!(
            (s.security, s.host.as_str(), s.port),
            (Security::StartTls, "mail.penajamkab.go.id", 587)
        );
        assert_eq!(s.credentials, Some(("naskah@dinas".into(), "rahasia/x".into())));
        assert!(!format!("{s:?}").contains("rahasia"), "no password in logs");
        let s = SmtpSettings::parse("smtp+plain://127.0.0.1:2525", "a@b.id").unwrap();
        assert_eq!((s.security, s.port, s.credentials.is_none()), (Security::Plain, 2525, true));
        assert_eq!(SmtpSettings::parse("smtps://mail.example", "a@b.id").unwrap().port, 465);
        assert!(SmtpSettings::parse("http://mail.example", "a@b.id").is_err());
        assert!(SmtpSettings::parse("smtp://mail.example", "bukan alamat").is_err());
    }
}
