//! Attempts reserved before the expensive check (Argon2 for a password, the key's
//! decryption for a passphrase): an attempt is counted, under a lock, before it is
//! tested, so parallel attempts cannot all slip through the gap between checking the
//! count and recording a failure. While the failures so far and the attempts in flight
//! would reach the limit, a new attempt waits for one to finish; once the failures
//! alone reach it, the key is locked. A right attempt is released; a wrong one becomes
//! the failure it was.

use std::time::{Duration, Instant};

use sqlx::Any;

use crate::db::{Backend, Db, DbError, now};

/// An attempt in flight is marked by this suffix on its kind until it is decided.
const IN_FLIGHT: &str = "#";
/// An attempt never takes this long: one left by a process that died stops counting.
const IN_FLIGHT_SECONDS: i64 = 60;
/// How long an attempt waits for a place among those in flight.
const WAIT: Duration = Duration::from_secs(30);

/// One attempt counted on each of its keys.
#[derive(Debug)]
pub(crate) struct Reservation {
    rows: Vec<(i64, String)>,
}

/// One counter: failures of `kind` for `key`, at most `limit` within the window.
pub(crate) struct Counter<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub limit: i64,
}

enum Outcome {
    Reserved(Reservation),
    /// Minutes until the first full counter frees a place.
    Locked(i64),
    /// Attempts in flight fill the rest of the limit.
    Busy,
}

/// Reserves an attempt on every counter at once, or answers the minutes the lock lasts.
/// Works across processes: SQLite's write transaction is exclusive, PostgreSQL's takes
/// an advisory lock per counter (in one order, so two reservations never wait on each
/// other).
pub(crate) async fn reserve(db: &Db, counters: &[Counter<'_>], window_minutes: i64) -> Result<Result<Reservation, i64>, DbError> {
    let deadline = Instant::now() + WAIT;
    loop {
        match try_reserve(db, counters, window_minutes).await? {
            Outcome::Reserved(reservation) => return Ok(Ok(reservation)),
            Outcome::Locked(minutes) => return Ok(Err(minutes)),
            Outcome::Busy if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Outcome::Busy => return Ok(Err(1)),
        }
    }
}

async fn try_reserve(db: &Db, counters: &[Counter<'_>], window_minutes: i64) -> Result<Outcome, DbError> {
    let at = now();
    let since = at - window_minutes * 60;
    let mut tx = db.begin_write().await?;
    if db.backend == Backend::Postgres {
        let mut names: Vec<String> = counters.iter().map(|c| format!("{}:{}", c.kind, c.key)).collect();
        names.sort();
        for name in names {
            sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext($1))) AS locked")
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
    }
    let mut busy = false;
    for counter in counters {
        let (failures, oldest, in_flight): (i64, Option<i64>, i64) = sqlx::query_as::<Any, (i64, Option<i64>, i64)>(
            "SELECT COALESCE(SUM(CASE WHEN kind = $1 THEN 1 ELSE 0 END), 0), MIN(CASE WHEN kind = $1 THEN at END), \
             COALESCE(SUM(CASE WHEN kind = $2 AND at > $5 THEN 1 ELSE 0 END), 0) \
             FROM login_failures WHERE kind IN ($1, $2) AND key = $3 AND at > $4",
        )
        .bind(counter.kind)
        .bind(format!("{}{IN_FLIGHT}", counter.kind))
        .bind(counter.key)
        .bind(since)
        .bind(at - IN_FLIGHT_SECONDS)
        .fetch_one(&mut *tx)
        .await?;
        if failures >= counter.limit {
            let free_at = oldest.unwrap_or(at) + window_minutes * 60;
            return Ok(Outcome::Locked(((free_at - at) as f64 / 60.0).ceil().max(1.0) as i64));
        }
        busy |= failures + in_flight >= counter.limit;
    }
    if busy {
        return Ok(Outcome::Busy);
    }
    let mut rows = Vec::with_capacity(counters.len());
    for counter in counters {
        let (id,): (i64,) = sqlx::query_as("INSERT INTO login_failures (kind, key, at) VALUES ($1, $2, $3) RETURNING id")
            .bind(format!("{}{IN_FLIGHT}", counter.kind))
            .bind(counter.key)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
        rows.push((id, counter.kind.to_string()));
    }
    tx.commit().await?;
    Ok(Outcome::Reserved(Reservation { rows }))
}

/// The attempt was right (or never tested through no fault of the user's): it does not
/// count.
pub(crate) async fn release(db: &Db, reservation: Reservation) -> Result<(), DbError> {
    for (id, _) in reservation.rows {
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(id)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

/// The attempt was wrong: it counts as a failure from when it was made.
pub(crate) async fn fail(db: &Db, reservation: Reservation) -> Result<(), DbError> {
    for (id, kind) in reservation.rows {
        sqlx::query("UPDATE login_failures SET kind = $1 WHERE id = $2")
            .bind(kind)
            .bind(id)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

/// How a counter stands now: failures within the window, and when it frees a place if
/// it is full (Unix seconds).
pub(crate) async fn standing(db: &Db, kind: &str, key: &str, limit: i64, window_minutes: i64) -> Result<(i64, Option<i64>), DbError> {
    let at = now();
    let (failures, oldest): (i64, Option<i64>) =
        sqlx::query_as::<Any, (i64, Option<i64>)>("SELECT COUNT(*), MIN(at) FROM login_failures WHERE kind = $1 AND key = $2 AND at > $3")
            .bind(kind)
            .bind(key)
            .bind(at - window_minutes * 60)
            .fetch_one(&db.pool)
            .await?;
    let free_at = (failures >= limit).then(|| oldest.unwrap_or(at) + window_minutes * 60);
    Ok((failures, free_at))
}
