//! The distribution dashboard: where each signed, unrevoked letter's distribution stands
//! against the SOP's time, a page at a time, and the department's figures over all of
//! them. Both are read in the database, so the page costs about the same at 100 letters
//! as at 100,000.

use serde::Serialize;
use sqlx::Any;

use super::Error;
use crate::db::Db;

/// Where one signed letter's distribution stands, against the SOP's time.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub letter_id: i64,
    pub batch_id: Option<i64>,
    pub number: String,
    pub subject: String,
    pub template_id: String,
    pub signed_at: i64,
    /// Signed time plus the SOP's days for the template.
    pub due_at: i64,
    pub total: i64,
    /// Sent, delivered or acknowledged.
    pub out: i64,
    /// Delivered by hand or courier (receiver recorded) or confirmed by the recipient.
    pub received: i64,
    pub acknowledged: i64,
    pub failed: i64,
    /// Names not yet known to have received it, with their status.
    pub pending: Vec<(String, String)>,
}

impl Progress {
    /// Every recipient has the letter (or it was sent to them).
    pub fn distributed(&self) -> bool {
        self.total > 0 && self.out == self.total
    }
    /// Every recipient is known to have it: confirmed, or handed over with the receiver
    /// recorded.
    pub fn complete(&self) -> bool {
        self.total > 0 && self.received == self.total
    }
    /// Still not distributed after the SOP's time.
    pub fn late(&self, at: i64) -> bool {
        !self.distributed() && at > self.due_at
    }
}

/// Which letters the dashboard lists.
#[derive(Debug, Clone, Default)]
pub struct ProgressQuery {
    /// Only the letters of this batch.
    pub batch_id: Option<i64>,
    /// Also the letters every recipient has received.
    pub include_complete: bool,
    /// The SOP's days for distributing each template's letters; 1 for any other.
    pub days: Vec<(String, i64)>,
}

impl ProgressQuery {
    fn days_of(&self, template: &str) -> i64 {
        self.days.iter().find(|(id, _)| id == template).map_or(1, |(_, days)| *days)
    }
}

/// The department's figures over every signed, unrevoked letter (of the batch, when given).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub letters: i64,
    /// Letters not yet sent or handed to every recipient (or without any).
    pub undistributed: i64,
    /// Of those, how many are past the SOP's time.
    pub late: i64,
    /// Recipients not yet known to have their letter.
    pub not_received: i64,
}

// A delivery not yet out (sent, delivered or confirmed), and one whose recipient is
// not yet known to have the letter.
const NOT_OUT: &str = "('queued', 'failed')";
const NOT_RECEIVED: &str = "('queued', 'sent', 'failed')";

const LETTERS: &str = "l.department_id = $1 AND l.signed_at IS NOT NULL AND l.revoked_at IS NULL AND ($2 = 0 OR l.batch_id = $2)";

/// The letters (`l.id`, `l.signed_at` and `extra`) that nobody is to receive or that
/// have a delivery in one of `statuses`: two index ranges (the letters planned without
/// recipients, the deliveries in those statuses), never a look at every letter.
fn letters_with(statuses: &str, extra: &str) -> String {
    format!(
        "SELECT l.id, l.signed_at{extra} FROM letters l WHERE {LETTERS} AND l.recipients = 0 \
         UNION SELECT l.id, l.signed_at{extra} FROM letters l WHERE {LETTERS} AND l.id IN \
         (SELECT d.letter_id FROM deliveries d WHERE d.department_id = $1 AND d.status IN {statuses})"
    )
}

/// The figures of [`Summary`].
pub async fn summary(db: &Db, department_id: i64, query: &ProgressQuery, at: i64) -> Result<Summary, Error> {
    let batch = query.batch_id.unwrap_or(0);
    let (letters,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM letters l WHERE {LETTERS}")))
        .bind(department_id)
        .bind(batch)
        .fetch_one(&db.pool)
        .await?;
    // The SOP's time per template, as SQL over bound values ("… WHEN $4 THEN $5 …").
    let due = if query.days.is_empty() {
        ", 86400 AS due".to_string()
    } else {
        let mut due = String::from(", CASE l.template_id");
        for i in 0..query.days.len() {
            due.push_str(&format!(" WHEN ${} THEN ${}", 4 + 2 * i, 5 + 2 * i));
        }
        due + " ELSE 86400 END AS due"
    };
    let mut figures = sqlx::query_as::<Any, (i64, i64)>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN signed_at + due < $3 THEN 1 ELSE 0 END), 0) FROM ({}) x",
        letters_with(NOT_OUT, &due)
    )))
    .bind(department_id)
    .bind(batch)
    .bind(at);
    for (template, days) in &query.days {
        figures = figures.bind(template.clone()).bind(days * 86_400);
    }
    let (undistributed, late) = figures.fetch_one(&db.pool).await?;
    let (not_received,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM deliveries d JOIN letters l ON l.id = d.letter_id \
         WHERE d.department_id = $1 AND d.status IN {NOT_RECEIVED} AND {LETTERS}"
    )))
    .bind(department_id)
    .bind(batch)
    .fetch_one(&db.pool)
    .await?;
    Ok(Summary {
        letters,
        undistributed,
        late,
        not_received,
    })
}

/// One page of the letters the query lists, the most recently signed first (`limit`
/// from `offset`), and how many it lists in all. Unless `include_complete`, only the
/// letters someone is not yet known to have (or nobody is to receive).
pub async fn page(db: &Db, department_id: i64, query: &ProgressQuery, limit: i64, offset: i64) -> Result<(Vec<Progress>, i64), Error> {
    let batch = query.batch_id.unwrap_or(0);
    let listed_from = if query.include_complete {
        format!("SELECT l.id, l.signed_at FROM letters l WHERE {LETTERS}")
    } else {
        letters_with(NOT_RECEIVED, "")
    };
    type Listed = (i64, Option<i64>, Option<String>, String, String, Option<i64>);
    let listed: Vec<Listed> = sqlx::query_as::<Any, Listed>(sqlx::AssertSqlSafe(format!(
        "SELECT l.id, l.batch_id, l.number, l.subject, l.template_id, l.signed_at FROM letters l \
         JOIN (SELECT id, signed_at FROM ({listed_from}) s ORDER BY signed_at DESC, id DESC LIMIT {limit} OFFSET {offset}) p \
         ON p.id = l.id ORDER BY p.signed_at DESC, p.id DESC"
    )))
    .bind(department_id)
    .bind(batch)
    .fetch_all(&db.pool)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM ({listed_from}) s")))
        .bind(department_id)
        .bind(batch)
        .fetch_one(&db.pool)
        .await?;
    // The deliveries of the listed letters only (ids are integers, so they stand in the text).
    let ids: Vec<String> = listed.iter().map(|l| l.0.to_string()).collect();
    let deliveries: Vec<(i64, String, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as::<Any, (i64, String, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT letter_id, name, status FROM deliveries WHERE department_id = $1 AND letter_id IN ({}) ORDER BY letter_id, id",
            ids.join(", ")
        )))
        .bind(department_id)
        .fetch_all(&db.pool)
        .await?
    };
    let rows = listed
        .into_iter()
        .map(|(letter_id, batch_id, number, subject, template_id, signed_at)| {
            let signed_at = signed_at.unwrap_or_default();
            let mut progress = Progress {
                letter_id,
                batch_id,
                number: number.unwrap_or_default(),
                due_at: signed_at + query.days_of(&template_id) * 86_400,
                subject,
                template_id,
                signed_at,
                total: 0,
                out: 0,
                received: 0,
                acknowledged: 0,
                failed: 0,
                pending: Vec::new(),
            };
            for (_, name, status) in deliveries.iter().filter(|d| d.0 == letter_id) {
                progress.total += 1;
                let status = status.as_str();
                progress.out += i64::from(matches!(status, "sent" | "delivered" | "acknowledged"));
                progress.acknowledged += i64::from(status == "acknowledged");
                progress.failed += i64::from(status == "failed");
                if matches!(status, "delivered" | "acknowledged") {
                    progress.received += 1;
                } else {
                    progress.pending.push((name.clone(), status.to_string()));
                }
            }
            progress
        })
        .collect();
    Ok((rows, total))
}
