//! Recording what happened to a delivery of a signed letter (sent, received, confirmed,
//! failed, sent again, another channel), by those who distribute letters.

use super::Error;
use crate::{
    accounts::User,
    distribution::{
        self,
        deliveries::{self, Change, Delivery},
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
