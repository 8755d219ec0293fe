//! API bearer tokens: shown once at creation, stored as SHA-256, revocable.

use serde::Serialize;
use sqlx::{Any, FromRow};

use super::{Error, User, sessions::hash_token};
use crate::{
    audit::{self, Event},
    db::{Db, now},
    validation::{FieldErrors, clean},
};

/// Tokens start with this, so that a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "nsk_";

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A freshly created token: the secret is shown to the user once and never again.
#[derive(Debug, Serialize)]
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
}

pub async fn create_token(db: &Db, user: &User, name: &str) -> Result<NewToken, Error> {
    let name = clean(name);
    let mut e = FieldErrors::default();
    e.required("name", "Nama token", &name, 100);
    e.into_result()?;
    let secret = format!("{TOKEN_PREFIX}{}", super::random_token());
    let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let mut tx = db.begin_write().await?;
    let (id,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user.id)
    .bind(&name)
    .bind(hash_token(&secret))
    .bind(&prefix)
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(user.department_id),
            actor: &user.actor(),
            action: "token.create",
            subject: format!("token:{id}"),
            details: serde_json::json!({ "name": name, "prefix": prefix }),
        },
    )
    .await?;
    tx.commit().await?;
    let token = get_token(db, id).await?;
    Ok(NewToken { token, secret })
}

async fn get_token(db: &Db, id: i64) -> Result<ApiToken, Error> {
    sqlx::query_as::<Any, ApiToken>("SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn list_tokens(db: &Db, user_id: i64) -> Result<Vec<ApiToken>, Error> {
    Ok(sqlx::query_as::<Any, ApiToken>(
        "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Revokes a token of `owner`; `actor` is the owner or an administrator of the department.
pub async fn revoke_token(db: &Db, actor: &User, owner: &User, id: i64) -> Result<(), Error> {
    let token = get_token(db, id).await?;
    if token.user_id != owner.id || owner.department_id != actor.department_id {
        return Err(Error::NotFound);
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(owner.department_id),
            actor: &actor.actor(),
            action: "token.revoke",
            subject: format!("token:{id}"),
            details: serde_json::json!({ "name": token.name, "owner": owner.id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every API token of a user (a password changed or reset, an account
/// deactivated): a token taken with the old password must not outlive it. Returns how
/// many were ended.
pub(super) async fn end_all(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<u64, Error> {
    Ok(
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(user_id)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// The active user behind a bearer token, if the token is valid and not revoked.
pub async fn token_user(db: &Db, secret: &str) -> Result<Option<User>, Error> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as::<Any, (i64, i64, Option<i64>)>(
        "SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_token(secret))
    .fetch_optional(&db.pool)
    .await?;
    let Some((id, user_id, last_used)) = row else { return Ok(None) };
    let user = super::get(db, user_id).await?;
    if !user.active {
        return Ok(None);
    }
    if last_used.is_none_or(|t| now() - t >= 60) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&db.pool)
            .await?;
    }
    Ok(Some(user))
}
