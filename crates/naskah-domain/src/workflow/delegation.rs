//! Plh. and Plt. assignments: an official acts for a position for a period.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{Any, FromRow};

use super::Error;
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    departments,
    validation::FieldErrors,
};

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Delegation {
    pub id: i64,
    pub department_id: i64,
    pub position_id: i64,
    pub official_id: i64,
    /// `plh` (the holder is absent) or `plt` (the post is vacant).
    pub kind: String,
    pub starts_on: String,
    pub ends_on: String,
    /// The assignment letter (surat perintah), as typed.
    pub basis: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl Delegation {
    /// "Plh." or "Plt.", as printed before the position.
    pub fn sebutan(&self) -> &'static str {
        if self.kind == "plt" { "Plt." } else { "Plh." }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct DelegationInput {
    pub position_id: i64,
    pub official_id: i64,
    pub kind: String,
    pub starts_on: String,
    pub ends_on: String,
    pub basis: String,
}

const COLUMNS: &str = "id, department_id, position_id, official_id, kind, starts_on, ends_on, basis, created_by, created_at, revoked_at";

/// The official's assignment for the position valid on `day`, if any.
pub async fn valid_for(db: &Db, position_id: i64, official_id: i64, day: NaiveDate) -> Result<Option<Delegation>, Error> {
    let day = day.format("%Y-%m-%d").to_string();
    Ok(sqlx::query_as::<Any, Delegation>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM delegations WHERE position_id = $1 AND official_id = $2 AND revoked_at IS NULL \
         AND starts_on <= $3 AND ends_on >= $3 ORDER BY id DESC LIMIT 1"
    )))
    .bind(position_id)
    .bind(official_id)
    .bind(&day)
    .fetch_optional(&db.pool)
    .await?)
}

pub async fn list(db: &Db, department_id: i64) -> Result<Vec<Delegation>, Error> {
    Ok(sqlx::query_as::<Any, Delegation>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM delegations WHERE department_id = $1 ORDER BY starts_on DESC, id DESC"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Records an assignment after checking it: a real position and official of the
/// department, not the position's own holder, dates in order and at most a year.
pub async fn create(db: &Db, actor: &Actor, department_id: i64, input: DelegationInput) -> Result<Delegation, Error> {
    let mut errors = FieldErrors::default();
    if !matches!(input.kind.as_str(), "plh" | "plt") {
        errors.add("kind", "Pilih Plh. atau Plt.");
    }
    let parse = |text: &str| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
    let (starts, ends) = (parse(&input.starts_on), parse(&input.ends_on));
    if starts.is_none() {
        errors.add("starts_on", "Tanggal mulai tidak sah (TTTT-BB-HH).");
    }
    if ends.is_none() {
        errors.add("ends_on", "Tanggal selesai tidak sah (TTTT-BB-HH).");
    }
    if let (Some(s), Some(e)) = (starts, ends) {
        if e < s {
            errors.add("ends_on", "Tanggal selesai sebelum tanggal mulai.");
        } else if (e - s).num_days() > 366 {
            errors.add("ends_on", "Penugasan paling lama satu tahun; perpanjang dengan penugasan baru.");
        }
    }
    let position = match departments::get_position(db, department_id, input.position_id).await {
        Ok(p) => Some(p),
        Err(departments::Error::NotFound) => {
            errors.add("position_id", "Jabatan tidak ditemukan.");
            None
        }
        Err(e) => return Err(e.into()),
    };
    let official = match departments::get_official(db, department_id, input.official_id).await {
        Ok(o) => Some(o),
        Err(departments::Error::NotFound) => {
            errors.add("official_id", "Pejabat tidak ditemukan.");
            None
        }
        Err(e) => return Err(e.into()),
    };
    if let (Some(p), Some(o)) = (&position, &official)
        && o.position_id == Some(p.id)
    {
        errors.add("official_id", "Pejabat ini sudah memegang jabatan tersebut.");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let (starts, ends) = (starts.expect("checked"), ends.expect("checked"));
    let mut tx = db.begin_write().await?;
    let (id,): (i64,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO delegations (department_id, position_id, official_id, kind, starts_on, ends_on, basis, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(department_id)
    .bind(input.position_id)
    .bind(input.official_id)
    .bind(&input.kind)
    .bind(starts.format("%Y-%m-%d").to_string())
    .bind(ends.format("%Y-%m-%d").to_string())
    .bind(input.basis.trim())
    .bind(actor.label())
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "delegation.created",
            subject: format!("delegation:{id}"),
            details: serde_json::json!({
                "position": position.map(|p| p.title),
                "official": official.map(|o| o.full_name()),
                "kind": input.kind,
                "starts_on": starts.to_string(),
                "ends_on": ends.to_string(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department_id, id).await
}

pub async fn get(db: &Db, department_id: i64, id: i64) -> Result<Delegation, Error> {
    sqlx::query_as::<Any, Delegation>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM delegations WHERE id = $1 AND department_id = $2"
    )))
    .bind(id)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// Ends an assignment early.
pub async fn revoke(db: &Db, actor: &Actor, department_id: i64, id: i64) -> Result<(), Error> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query("UPDATE delegations SET revoked_at = $1 WHERE id = $2 AND department_id = $3 AND revoked_at IS NULL")
        .bind(now())
        .bind(id)
        .bind(department_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "delegation.revoked",
            subject: format!("delegation:{id}"),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
