//! Reminders by e-mail: an official learns that something waits on them without opening
//! the page. The planner reads each person's "Tugas saya" ([`crate::cases::desk`]) and
//! writes at most one message per pass into the reminder outbox: a digest of new work
//! (at most once per interval) together with every item that has just passed its
//! standard time (each reminded of once). What a message claims (the digest's time, the
//! late items) is written in the same transaction as the message, so two processes never
//! send the same reminder; the [`sender`] sends the outbox outside any transaction.
//! Each person may switch reminders off on their account page.

pub mod sender;

use sqlx::Any;

use crate::{
    accounts::{self, User},
    audit::{self, Actor, Event},
    cases::{self, desk::Item},
    db::{Db, DbError, now},
    departments,
    workflow::Workflow,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Case(#[from] cases::Error),
    #[error(transparent)]
    Accounts(#[from] accounts::Error),
    #[error(transparent)]
    Departments(#[from] departments::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(e.into())
    }
}

const PLANNER: Actor = Actor::System("pengingat");

/// What one planning pass wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub messages: usize,
}

/// Whether the user receives reminders.
pub async fn enabled(db: &Db, user_id: i64) -> Result<bool, Error> {
    let (on,): (i64,) = sqlx::query_as("SELECT reminders FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(on != 0)
}

/// Switches the user's own reminders on or off, with its audit record.
pub async fn set_enabled(db: &Db, user: &User, on: bool) -> Result<(), Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE users SET reminders = $1 WHERE id = $2")
        .bind(i64::from(on))
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(user.department_id),
            actor: &user.actor(),
            action: if on { "reminders.on" } else { "reminders.off" },
            subject: format!("user:{}", user.id),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One pass over every person with an e-mail address and reminders on. `digest_every`
/// is the least time between two digests, in seconds.
pub async fn plan(flow: &Workflow, base_url: &str, digest_every: i64) -> Result<Planned, Error> {
    let people: Vec<(i64, Option<i64>)> = sqlx::query_as::<Any, (i64, Option<i64>)>(
        "SELECT id, last_digest_at FROM users WHERE active = 1 AND reminders = 1 AND email <> '' ORDER BY id",
    )
    .fetch_all(&flow.db.pool)
    .await?;
    let mut planned = Planned::default();
    for (user_id, last_digest) in people {
        let user = accounts::get(&flow.db, user_id).await?;
        let department = departments::get(&flow.db, user.department_id).await?;
        let desk = cases::desk::for_user(flow, &user, &department).await?;
        if desk.items.is_empty() {
            continue;
        }
        let at = now();
        let reminded: Vec<(String,)> = sqlx::query_as("SELECT item_key FROM reminders_sent WHERE user_id = $1")
            .bind(user.id)
            .fetch_all(&flow.db.pool)
            .await?;
        let reminded: std::collections::HashSet<String> = reminded.into_iter().map(|(k,)| k).collect();
        let late: Vec<&Item> = desk
            .items
            .iter()
            .filter(|i| i.overdue_minutes.is_some() && !reminded.contains(&late_key(i)))
            .collect();
        let since = last_digest.unwrap_or(0);
        let new: Vec<&Item> = desk.items.iter().filter(|i| i.since >= since).collect();
        let digest_due = !new.is_empty() && at - since >= digest_every;
        if late.is_empty() && !digest_due {
            continue;
        }
        let tz = department.tz();
        let (subject, body) = message(&user, &desk.items, &new, &late, digest_due, base_url, |t| tz.format_time(t));
        // The claim and the message in one transaction: a second process finds the
        // digest's time moved on (or the late item taken) and writes nothing.
        let mut tx = flow.db.begin_write().await?;
        if digest_due {
            let claimed = sqlx::query("UPDATE users SET last_digest_at = $1 WHERE id = $2 AND COALESCE(last_digest_at, 0) = $3")
                .bind(at)
                .bind(user.id)
                .bind(since)
                .execute(&mut *tx)
                .await?;
            if claimed.rows_affected() != 1 {
                continue;
            }
        }
        let mut taken = true;
        for item in &late {
            let inserted =
                sqlx::query("INSERT INTO reminders_sent (user_id, item_key, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(user.id)
                    .bind(late_key(item))
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            taken &= inserted.rows_affected() == 1;
        }
        if !taken {
            continue;
        }
        sqlx::query(
            "INSERT INTO reminder_outbox (department_id, user_id, address, subject, body, status, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6)",
        )
        .bind(user.department_id)
        .bind(user.id)
        .bind(&user.email)
        .bind(&subject)
        .bind(&body)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            Event {
                department_id: Some(user.department_id),
                actor: &PLANNER,
                action: "reminders.queued",
                subject: format!("user:{}", user.id),
                details: serde_json::json!({ "waiting": desk.items.len(), "new": new.len(), "late": late.len(), "digest": digest_due }),
            },
        )
        .await?;
        tx.commit().await?;
        planned.messages += 1;
    }
    Ok(planned)
}

/// An item is reminded of as late once per place and standard: a letter back at the
/// same step in a new round is a new item.
fn late_key(item: &Item) -> String {
    format!("{:?}:{}:{}", item.kind, item.href, item.since)
}

/// The message: what is late first, then what is new, then how much waits in all.
fn message(
    user: &User,
    all: &[Item],
    new: &[&Item],
    late: &[&Item],
    digest: bool,
    base_url: &str,
    time: impl Fn(i64) -> String,
) -> (String, String) {
    let base = base_url.trim_end_matches('/');
    let line = |item: &Item| {
        let mut text = format!("- {}: {}\n  {}\n", item.kind.label(), item.title, item.detail);
        if let Some(minutes) = item.overdue_minutes {
            text.push_str(&format!("  Terlambat {} dari waktu baku.\n", crate::text::duration(minutes)));
        }
        text.push_str(&format!(
            "  Sejak {}. {}: {base}{}\n",
            time(item.since),
            item.action,
            item.action_href
        ));
        text
    };
    let late_count = all.iter().filter(|i| i.overdue_minutes.is_some()).count();
    let subject = match (late.is_empty(), late_count) {
        (false, _) => format!("naskah: {} tugas melewati waktu baku, {} menunggu Anda", late.len(), all.len()),
        (true, 0) => format!("naskah: {} tugas menunggu Anda", all.len()),
        (true, n) => format!("naskah: {} tugas menunggu Anda ({n} terlambat)", all.len()),
    };
    let mut body = format!("Yth. {},\n\n", user.display_name);
    if !late.is_empty() {
        body.push_str("Melewati waktu baku SOP:\n");
        for item in late {
            body.push_str(&line(item));
        }
        body.push('\n');
    }
    if digest && !new.is_empty() {
        body.push_str("Baru menunggu Anda:\n");
        for item in new.iter().filter(|i| !late.iter().any(|l| std::ptr::eq(*l, **i))) {
            body.push_str(&line(item));
        }
        body.push('\n');
    }
    body.push_str(&format!(
        "Semua yang menunggu Anda ({}) ada di Tugas saya: {base}/\n\n\
         Pengingat ini dikirim otomatis oleh layanan naskah. Untuk berhenti menerimanya, buka {base}/akun \
         dan matikan pengingat surel.\n",
        all.len()
    ));
    (subject, body)
}
