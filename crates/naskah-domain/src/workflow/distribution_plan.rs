//! What the signing transaction must do for the floor above the workflow: a signed
//! letter's distribution list is part of it. Distribution implements this interface
//! (reading its directory of recipients); the workflow calls it without knowing it, so
//! distribution may use the workflow and the workflow never imports distribution.

use std::{future::Future, pin::Pin};

use serde_json::Value;
use sqlx::AnyConnection;

use super::{Error, Letter};
use crate::{db::Db, letters::Manifest};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Plans who receives a letter that is about to be signed.
pub trait DistributionPlanner: Send + Sync {
    /// Called before the signing transaction (which holds the number series and must
    /// hold it briefly), so reading the directory waits for nobody.
    fn plan<'a>(
        &'a self,
        db: &'a Db,
        letter: &'a Letter,
        manifest: &'a Manifest,
        fields: &'a Value,
    ) -> BoxFuture<'a, Result<Box<dyn PlannedDistribution>, Error>>;
}

/// A planned list, written inside the signing transaction so that no signed letter is
/// without one. `write` says how many deliveries it planned (kept on the letter, so that
/// the dashboard finds a letter without any recipient without scanning every letter).
pub trait PlannedDistribution: Send + Sync {
    fn write<'a>(&'a self, conn: &'a mut AnyConnection, letter: &'a Letter, at: i64) -> BoxFuture<'a, Result<i64, Error>>;
}

/// Nothing to plan: a paraf, return or rejection distributes nothing.
pub struct NoDistribution;

impl PlannedDistribution for NoDistribution {
    fn write<'a>(&'a self, _: &'a mut AnyConnection, _: &'a Letter, _: i64) -> BoxFuture<'a, Result<i64, Error>> {
        Box::pin(async { Ok(0) })
    }
}
