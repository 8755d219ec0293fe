//! The append-only audit log. Entries form one hash chain per department (and one for
//! the deployment), so a removed or altered row breaks the chain and is detected.

pub mod verify;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyConnection, FromRow};

use crate::db::{Db, DbError};

/// Who did something: a user, or the command line.
#[derive(Clone, Debug)]
pub enum Actor {
    User { id: i64, username: String },
    System(&'static str),
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::User { id, username } => format!("user:{id}:{username}"),
            Actor::System(what) => format!("system:{what}"),
        }
    }
}

/// One event to record.
pub struct Event<'a> {
    pub department_id: Option<i64>,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub subject: String,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Entry {
    pub id: i64,
    pub chain: String,
    pub seq: i64,
    pub department_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: String,
    pub at: i64,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The hash this entry must carry when it follows `prev`.
    fn hash_after(&self, prev: &str) -> String {
        entry_hash([
            &self.chain,
            &self.seq.to_string(),
            &self.actor,
            &self.action,
            &self.subject,
            &self.details,
            &self.at.to_string(),
            prev,
        ])
    }
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn chain_name(department_id: Option<i64>) -> String {
    department_id
        .map(|id| format!("department:{id}"))
        .unwrap_or_else(|| "system".into())
}

/// Hash of an entry's fields in order: chain, seq, actor, action, subject, details, at, previous hash.
fn entry_hash(fields: [&str; 8]) -> String {
    let mut h = Sha256::new();
    for part in fields {
        // Length-prefix each part so that no two different entries hash the same text.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The one body of `record`, compiled for each kind of connection.
macro_rules! append {
    ($conn:expr, $event:expr) => {{
        let conn = $conn;
        let event = $event;
        let chain = chain_name(event.department_id);
        let at = crate::db::now();
        // Taking the chain head with an UPDATE locks it (row lock on PostgreSQL, write
        // lock on SQLite), so concurrent appends queue instead of forking the chain.
        let head: Option<(i64, String)> = sqlx::query_as("UPDATE audit_heads SET seq = seq + 1 WHERE chain = $1 RETURNING seq, head_hash")
            .bind(&chain)
            .fetch_optional(&mut *conn)
            .await?;
        let (seq, prev) = match head {
            Some(h) => h,
            None => {
                sqlx::query("INSERT INTO audit_heads (chain, seq, head_hash) VALUES ($1, 1, $2)")
                    .bind(&chain)
                    .bind(GENESIS)
                    .execute(&mut *conn)
                    .await?;
                (1, GENESIS.to_string())
            }
        };
        let actor = event.actor.label();
        let details = event.details.to_string();
        let hash = entry_hash([
            &chain,
            &seq.to_string(),
            &actor,
            event.action,
            &event.subject,
            &details,
            &at.to_string(),
            &prev,
        ]);
        sqlx::query(
            "INSERT INTO audit_log (chain, seq, department_id, actor, action, subject, details, at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&chain)
        .bind(seq)
        .bind(event.department_id)
        .bind(&actor)
        .bind(event.action)
        .bind(&event.subject)
        .bind(&details)
        .bind(at)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE audit_heads SET head_hash = $1 WHERE chain = $2")
            .bind(&hash)
            .bind(&chain)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }};
}

/// Appends an entry inside the caller's transaction, so the change and its record
/// commit or vanish together.
pub async fn record(conn: &mut AnyConnection, event: Event<'_>) -> Result<(), DbError> {
    append!(conn, event)
}

/// `record` inside a bulk transaction (a native PostgreSQL connection or SQLite's).
pub async fn record_bulk(tx: &mut crate::db::BulkTx, event: Event<'_>) -> Result<(), DbError> {
    crate::on_bulk!(tx, conn => append!(conn, event))
}

/// The newest entries of a department, newest first.
pub async fn recent(db: &Db, department_id: i64, limit: i64) -> Result<Vec<Entry>, DbError> {
    Ok(sqlx::query_as::<Any, Entry>(
        "SELECT id, chain, seq, department_id, actor, action, subject, details, at, prev_hash, hash \
         FROM audit_log WHERE department_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(department_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}

/// The entries about one subject (e.g. `letter:12`) of a department, oldest first.
pub async fn for_subject(db: &Db, department_id: i64, subject: &str) -> Result<Vec<Entry>, DbError> {
    Ok(sqlx::query_as::<Any, Entry>(
        "SELECT id, chain, seq, department_id, actor, action, subject, details, at, prev_hash, hash \
         FROM audit_log WHERE department_id = $1 AND subject = $2 ORDER BY id",
    )
    .bind(department_id)
    .bind(subject)
    .fetch_all(&db.pool)
    .await?)
}

/// Recomputes a chain; returns the first sequence number that does not hold, if any.
pub async fn verify_chain(db: &Db, department_id: Option<i64>) -> Result<Result<i64, i64>, DbError> {
    let chain = chain_name(department_id);
    let entries = sqlx::query_as::<Any, Entry>(
        "SELECT id, chain, seq, department_id, actor, action, subject, details, at, prev_hash, hash \
         FROM audit_log WHERE chain = $1 ORDER BY seq",
    )
    .bind(&chain)
    .fetch_all(&db.pool)
    .await?;
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected = e.hash_after(&prev);
        if e.seq != i as i64 + 1 || e.prev_hash != prev || e.hash != expected {
            return Ok(Err(e.seq));
        }
        prev = e.hash.clone();
    }
    Ok(Ok(entries.len() as i64))
}
