//! Public records already built, by verification id, so that the verification page
//! costs what the static floor costs plus at most one look-up.
//!
//! A record depends on its letter's version, revocation, successor and file hash (its
//! stamp). It is served while the letter still has them, known in one of two ways:
//!
//! - **heard**, while [`follow_changes`] runs (the service): a trigger on `letters`
//!   announces every change of a signed letter's stamp as it commits (migration 0021):
//!   on PostgreSQL to every node with `pg_notify`, heard at once; on SQLite, whose file
//!   one process serves, in the table `public_changes`, read every
//!   [`SQLITE_POLL`]. Each change drops its record; a record is served without reading
//!   its letter. A lost or silent listener (a heartbeat goes round every few seconds) or
//!   a failed read turns hearing off, drops everything and goes back to checking until
//!   it is back; a record built while a change was heard is not kept (the generation),
//!   so no record outlives the change that made it stale;
//! - **checked** otherwise: the letter's stamp is read at every request (one look-up on
//!   the unique verification index, `workflow::signed_stamp`).
//!
//! Either way an entry lives at most [`RecordCache::MAX_AGE`], which bounds how long a
//! renamed department or official shows the old name.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::watch;

use super::PublicRecord;
use crate::db::{Backend, Db};

/// What of the letter row a cached record depends on.
pub(super) type Stamp = crate::workflow::SignedStamp;

/// The channel the letters' trigger announces changes on (migration 0021).
const CHANNEL: &str = "naskah_public";
/// How often the listener proves it still hears (a notification of its own).
const HEARTBEAT: Duration = Duration::from_secs(5);
/// The payload of a heartbeat: never a verification id (32 hex digits).
const HEARTBEAT_PAYLOAD: &str = "-";
/// How often the SQLite follower reads `public_changes`: the longest a revocation
/// made on the same file by this process takes to show.
pub const SQLITE_POLL: Duration = Duration::from_millis(10);
/// How long SQLite's `public_changes` keeps a change (seconds).
const SQLITE_KEEP_SECONDS: i64 = 24 * 3600;

#[derive(Default)]
pub struct RecordCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Every change of a signed letter reaches this node (see the module).
    hearing: AtomicBool,
    /// Bumped by every change heard and every switch of `hearing`.
    generation: AtomicU64,
}

struct Entry {
    built: Instant,
    stamp: Stamp,
    record: Arc<PublicRecord>,
}

impl RecordCache {
    pub const MAX_AGE: Duration = Duration::from_secs(300);
    /// Entries kept before the older half is dropped (about 2 KiB each: strings 1 KiB,
    /// the QR token, the map): room for a province's 100,000 letters.
    const CAPACITY: usize = 150_000;

    /// Whether records are served without reading their letter (changes are heard).
    pub fn hears_changes(&self) -> bool {
        self.hearing.load(Ordering::Acquire)
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The record, while changes are heard.
    pub(super) fn get_heard(&self, id: &str) -> Option<Arc<PublicRecord>> {
        if !self.hears_changes() {
            return None;
        }
        let entries = self.entries();
        let entry = entries.get(id).filter(|e| e.built.elapsed() < Self::MAX_AGE)?;
        // Hearing may have stopped since the first look: then the letter is read.
        self.hears_changes().then(|| Arc::clone(&entry.record))
    }

    /// The record, if the letter still has `stamp`.
    pub(super) fn get_checked(&self, id: &str, stamp: &Stamp) -> Option<Arc<PublicRecord>> {
        let entries = self.entries();
        entries
            .get(id)
            .filter(|e| e.stamp == *stamp && e.built.elapsed() < Self::MAX_AGE)
            .map(|e| Arc::clone(&e.record))
    }

    /// Keeps a record built from a letter read after `generation` was read; a change
    /// heard since then keeps it out.
    pub(super) fn put(&self, id: &str, stamp: Stamp, generation: u64, record: &Arc<PublicRecord>) {
        let mut entries = self.entries();
        // Under the lock: `forget` bumps the generation under it too.
        if self.generation() != generation {
            return;
        }
        if entries.len() >= Self::CAPACITY {
            // Keep the newer half: a full cache never turns into an empty one at once.
            let mut ages: Vec<Instant> = entries.values().map(|e| e.built).collect();
            let (_, middle, _) = ages.select_nth_unstable(Self::CAPACITY / 2);
            let cut = *middle;
            entries.retain(|_, e| e.built > cut);
        }
        let entry = Entry {
            built: Instant::now(),
            stamp,
            record: Arc::clone(record),
        };
        entries.insert(id.to_string(), entry);
    }

    /// A change of the letter with this verification id was heard.
    fn forget(&self, id: &str) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(id);
    }

    /// Turns hearing on or off; either way what was kept is dropped (changes may have
    /// gone unheard).
    fn set_hearing(&self, hearing: bool) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        self.hearing.store(hearing, Ordering::Release);
    }
}

/// Hears changes of signed letters and drops their records, until `stop`, recovering
/// from lost connections and failed reads (see the module).
pub async fn follow_changes(db: Db, cache: Arc<RecordCache>, stop: watch::Receiver<bool>) {
    match db.backend {
        Backend::Postgres => listen(db, cache, stop).await,
        Backend::Sqlite => poll(db, cache, stop).await,
    }
}

async fn listen(db: Db, cache: Arc<RecordCache>, mut stop: watch::Receiver<bool>) {
    let mut pause = Duration::from_millis(200);
    loop {
        let listener = tokio::select! {
            listener = db.listen(CHANNEL) => listener,
            _ = stop.changed() => return,
        };
        let listener = match listener {
            None => return,
            Some(Ok(listener)) => listener,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "perubahan surat tidak dapat didengar; cache verifikasi memeriksa setiap baris");
                if pause_or_stop(&mut pause, &mut stop).await {
                    return;
                }
                continue;
            }
        };
        pause = Duration::from_millis(200);
        cache.set_hearing(true);
        let ended = hear(&db, listener, &cache, &mut stop).await;
        cache.set_hearing(false);
        match ended {
            Ok(()) => return,
            Err(reason) => tracing::warn!(%reason, "pendengar perubahan surat terputus; cache verifikasi memeriksa setiap baris"),
        }
    }
}

/// Waits `pause` (doubled for the next time, up to half a minute); whether `stop` came.
async fn pause_or_stop(pause: &mut Duration, stop: &mut watch::Receiver<bool>) -> bool {
    let waited = tokio::select! {
        () = tokio::time::sleep(*pause) => false,
        _ = stop.changed() => true,
    };
    *pause = (*pause * 2).min(Duration::from_secs(30));
    waited
}

/// SQLite: reads the changes written since the last read, every [`SQLITE_POLL`].
async fn poll(db: Db, cache: Arc<RecordCache>, mut stop: watch::Receiver<bool>) {
    let mut pause = Duration::from_millis(200);
    let mut tick = tokio::time::interval(SQLITE_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The last change read; `None` until hearing starts.
    let mut seen: Option<i64> = None;
    let mut swept = Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let read = match seen {
            // Hearing starts from the newest change: everything kept before is dropped.
            None => sqlx::query_as::<sqlx::Any, (i64,)>("SELECT COALESCE(MAX(seq), 0) FROM public_changes")
                .fetch_one(&db.pool)
                .await
                .map(|(newest,)| {
                    cache.set_hearing(true);
                    Some(newest)
                }),
            Some(last) => {
                sqlx::query_as::<sqlx::Any, (i64, String)>("SELECT seq, verification_id FROM public_changes WHERE seq > $1 ORDER BY seq")
                    .bind(last)
                    .fetch_all(&db.pool)
                    .await
                    .map(|changes| {
                        for (_, id) in &changes {
                            cache.forget(id);
                        }
                        Some(changes.last().map_or(last, |(seq, _)| *seq))
                    })
            }
        };
        match read {
            Ok(newest) => {
                seen = newest;
                pause = Duration::from_millis(200);
            }
            Err(e) => {
                tracing::warn!(error = %e, "perubahan surat tidak dapat dibaca; cache verifikasi memeriksa setiap baris");
                cache.set_hearing(false);
                seen = None;
                if pause_or_stop(&mut pause, &mut stop).await {
                    break;
                }
                continue;
            }
        }
        if swept.elapsed() > Duration::from_secs(3600) {
            swept = Instant::now();
            let _ = sqlx::query("DELETE FROM public_changes WHERE at < $1")
                .bind(crate::db::now() - SQLITE_KEEP_SECONDS)
                .execute(&db.pool)
                .await;
        }
    }
    cache.set_hearing(false);
}

/// Drops the record of every change announced, until `stop` (`Ok`) or until the
/// listener is lost or falls silent (`Err`).
async fn hear(
    db: &Db,
    mut listener: sqlx::postgres::PgListener,
    cache: &RecordCache,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    // The listener reads on a task of its own, never cancelled half-way through a message.
    let (heard, mut hearing) = tokio::sync::mpsc::channel::<Result<String, String>>(1024);
    let reader = tokio::spawn(async move {
        loop {
            let next = match listener.try_recv().await {
                Ok(Some(n)) => Ok(n.payload().to_string()),
                Ok(None) => Err("connection lost".to_string()),
                Err(e) => Err(e.to_string()),
            };
            let lost = next.is_err();
            if heard.send(next).await.is_err() || lost {
                return;
            }
        }
    });
    let _stop_reader = AbortOnDrop(reader);
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is at once: it sends the first heartbeat.
    let mut heard_since_beat = true;
    loop {
        tokio::select! {
            next = hearing.recv() => match next {
                Some(Ok(payload)) if payload == HEARTBEAT_PAYLOAD => heard_since_beat = true,
                Some(Ok(payload)) => cache.forget(&payload),
                Some(Err(reason)) => return Err(reason),
                None => return Err("listener ended".into()),
            },
            _ = beat.tick() => {
                if !heard_since_beat {
                    return Err(format!("no heartbeat within {} s", HEARTBEAT.as_secs()));
                }
                heard_since_beat = false;
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(HEARTBEAT_PAYLOAD)
                    .execute(&db.pool)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            _ = stop.changed() => return Ok(()),
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
