//! Recording what happened to a delivery of a signed letter (sent, received, confirmed,
//! failed, sent again, another channel), by those who distribute letters, one by one or
//! several at once.

use super::Error;
use crate::{
    accounts::User,
    distribution::{
        self,
        deliveries::{self, Change, Delivery},
        progress,
    },
};

/// A change the log took, or the reason it refused it (what the user typed was wrong, or
/// the delivery had moved on), with the delivery as it was.
pub struct Recorded {
    pub delivery: Delivery,
    pub refused: Option<String>,
}

pub async fn record(db: &crate::db::Db, user: &User, delivery_id: i64, change: Change) -> Result<Recorded, Error> {
    if !distribution::may_distribute(user) {
        return Err(Error::Denied(
            "Hanya agendaris, staf atau administrator yang mencatat pengiriman.".into(),
        ));
    }
    let delivery = deliveries::get(db, user.department_id, delivery_id).await?;
    let refused = match deliveries::change(db, &user.actor(), user.department_id, delivery_id, change).await {
        Ok(_) => None,
        Err(distribution::Error::Invalid(errors)) => Some(errors.0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")),
        Err(distribution::Error::Conflict(message)) => Some(message),
        Err(other) => return Err(other.into()),
    };
    Ok(Recorded { delivery, refused })
}

/// Several deliveries recorded at once (a courier's round), all or none.
pub async fn record_many(db: &crate::db::Db, user: &User, changes: &[(i64, Change)]) -> Result<Vec<Delivery>, Error> {
    if !distribution::may_distribute(user) {
        return Err(Error::Denied(
            "Hanya agendaris, staf atau administrator yang mencatat pengiriman.".into(),
        ));
    }
    Ok(deliveries::change_many(db, &user.actor(), user.department_id, changes).await?)
}

/// The deliveries still to be handed over or sent by courier, of one batch or of every
/// signed letter, each with its letter's number, for recording them together.
pub async fn open_carried(db: &crate::db::Db, user: &User, batch_id: Option<i64>) -> Result<Vec<(Delivery, String)>, Error> {
    if !distribution::may_distribute(user) {
        return Err(Error::Denied(
            "Hanya agendaris, staf atau administrator yang mencatat pengiriman.".into(),
        ));
    }
    let rows = distribution::list::rows(db, user.department_id, batch_id, None, distribution::list::Selection::Carried).await?;
    Ok(rows
        .into_iter()
        .filter(|(d, number, _)| !number.is_empty() && !matches!(d.status.as_str(), "delivered" | "acknowledged"))
        .map(|(d, number, _)| (d, number))
        .collect())
}

/// The distribution dashboard: the department's figures over every signed letter and
/// one page of the letters the query lists.
pub struct Dashboard {
    pub summary: progress::Summary,
    pub letters: Vec<progress::Progress>,
    /// How many letters the query lists in all.
    pub total: i64,
}

pub async fn dashboard(
    db: &crate::db::Db,
    department_id: i64,
    query: &progress::ProgressQuery,
    limit: i64,
    offset: i64,
) -> Result<Dashboard, Error> {
    let summary = progress::summary(db, department_id, query, crate::db::now()).await?;
    let (letters, total) = progress::page(db, department_id, query, limit, offset).await?;
    Ok(Dashboard { summary, letters, total })
}
