//! The outgoing-letter register (agenda): who may cancel a number that was given but
//! never carried by a signed letter, and the cancellation itself.

use super::Error;
use crate::{
    accounts::{Role, User},
    numbering,
};

/// The agendaris and administrators keep the register.
pub fn may_cancel(user: &User) -> bool {
    user.has(Role::Agendaris) || user.has(Role::Administrator)
}

/// Cancels the unused number `entry_id` of the user's department with its reason.
pub async fn cancel(db: &crate::db::Db, user: &User, entry_id: i64, reason: &str) -> Result<(), Error> {
    if !may_cancel(user) {
        return Err(Error::Denied(
            "Hanya agendaris atau administrator yang dapat membatalkan nomor.".into(),
        ));
    }
    numbering::cancel(db, &user.actor(), user.department_id, entry_id, reason).await?;
    Ok(())
}
