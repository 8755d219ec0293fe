//! The deliveries that wait on a person: the letters a courier or the agendaris still
//! has to hand over, and the e-mails that failed. E-mails queued or sent wait on the
//! outbox and on the recipient, not on staff, so they are not counted.

use sqlx::Any;

use super::Error;
use crate::db::Db;

/// One signed, unrevoked letter with deliveries still to be recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenDeliveries {
    pub letter_id: i64,
    pub batch_id: Option<i64>,
    pub number: String,
    pub subject: String,
    pub template_id: String,
    pub signed_at: i64,
    /// Deliveries that wait on a person.
    pub open: i64,
    /// Of them, failed (an e-mail refused, a courier's return).
    pub failed: i64,
}

/// The department's letters with deliveries to record, the longest signed first.
pub async fn awaiting(db: &Db, department_id: i64) -> Result<Vec<OpenDeliveries>, Error> {
    Ok(sqlx::query_as::<Any, OpenDeliveries>(
        "SELECT l.id AS letter_id, l.batch_id, COALESCE(l.number, '') AS number, l.subject, l.template_id, \
         COALESCE(l.signed_at, 0) AS signed_at, COUNT(d.id) AS open, \
         COALESCE(SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END), 0) AS failed \
         FROM deliveries d JOIN letters l ON l.id = d.letter_id \
         WHERE d.department_id = $1 AND l.signed_at IS NOT NULL AND l.revoked_at IS NULL \
         AND d.status IN ('queued', 'sent', 'failed') \
         AND NOT (d.channel = 'email' AND d.status IN ('queued', 'sent')) \
         GROUP BY l.id, l.batch_id, l.number, l.subject, l.template_id, l.signed_at \
         ORDER BY l.signed_at, l.id",
    )
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}
