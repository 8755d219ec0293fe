//! Login sessions: a random cookie token (stored only as its SHA-256), a CSRF token per
//! session, idle and absolute expiry, and throttling of failed logins.

use sha2::{Digest, Sha256};
use sqlx::{Any, FromRow};

use super::{Error, User, password};
use crate::{
    audit::{self, Actor, Event},
    config::{SessionConfig, ThrottleConfig},
    db::{Db, DbError, now},
};

#[derive(Debug, Clone, FromRow)]
pub struct Session {
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Nama pengguna atau kata sandi salah.")]
    InvalidCredentials,
    #[error("Terlalu banyak percobaan masuk yang gagal. Demi keamanan, percobaan berikutnya ditahan; coba lagi dalam {minutes} menit.")]
    Throttled { minutes: i64 },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for LoginError {
    fn from(e: sqlx::Error) -> Self {
        LoginError::Db(DbError::Sqlx(e))
    }
}

impl From<Error> for LoginError {
    fn from(e: Error) -> Self {
        match e {
            Error::Db(e) => LoginError::Db(e),
            other => LoginError::Db(DbError::Sqlx(sqlx::Error::Protocol(other.to_string()))),
        }
    }
}

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Minutes until a key leaves the lock, or `None` when it may try: `limit` failures of
/// `kind` for `key` (recorded in `login_failures`) within the window lock it for the rest
/// of the window. Used for logins and for signing passphrases.
pub(crate) async fn throttled(db: &Db, kind: &str, key: &str, limit: i64, window_minutes: i64) -> Result<Option<i64>, DbError> {
    let since = now() - window_minutes * 60;
    let (count, oldest): (i64, Option<i64>) =
        sqlx::query_as::<Any, (i64, Option<i64>)>("SELECT COUNT(*), MIN(at) FROM login_failures WHERE kind = $1 AND key = $2 AND at > $3")
            .bind(kind)
            .bind(key)
            .bind(since)
            .fetch_one(&db.pool)
            .await?;
    if count >= limit {
        let free_at = oldest.unwrap_or_else(now) + window_minutes * 60;
        return Ok(Some(((free_at - now()) as f64 / 60.0).ceil().max(1.0) as i64));
    }
    Ok(None)
}

/// Checks the credentials and opens a session. Returns the secret cookie token.
pub async fn login(
    db: &Db,
    throttle: &ThrottleConfig,
    session: &SessionConfig,
    username: &str,
    password_given: &str,
    address: &str,
) -> Result<(String, Session, User), LoginError> {
    let account_key = username.trim().to_lowercase();
    for (kind, key, limit) in [
        ("account", account_key.as_str(), throttle.per_account),
        ("address", address, throttle.per_address),
    ] {
        if let Some(minutes) = throttled(db, kind, key, limit, throttle.window_minutes).await? {
            tracing::warn!(kind, "login ditahan karena terlalu banyak kegagalan");
            return Err(LoginError::Throttled { minutes });
        }
    }
    let user = super::find_by_username(db, &account_key).await?;
    let stored_hash = match &user {
        Some(_) => {
            let (h,) = sqlx::query_as::<Any, (String,)>("SELECT password_hash FROM users WHERE username = $1")
                .bind(&account_key)
                .fetch_one(&db.pool)
                .await?;
            h
        }
        None => password::DUMMY_HASH.clone(),
    };
    let password_ok = password::verify_password(password_given, &stored_hash).await;
    let user = match user {
        Some(user) if password_ok && user.active => user,
        other => {
            let at = now();
            let mut tx = db.begin_write().await?;
            for (kind, key) in [("account", account_key.as_str()), ("address", address)] {
                sqlx::query("INSERT INTO login_failures (kind, key, at) VALUES ($1, $2, $3)")
                    .bind(kind)
                    .bind(key)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM login_failures WHERE at < $1")
                .bind(at - throttle.window_minutes * 120)
                .execute(&mut *tx)
                .await?;
            audit::record(
                &mut tx,
                Event {
                    department_id: other.as_ref().map(|u| u.department_id),
                    actor: &Actor::System("login"),
                    action: "user.login_failed",
                    subject: format!("username:{account_key}"),
                    details: serde_json::json!({ "address": address, "inactive": other.as_ref().is_some_and(|u| !u.active) && password_ok }),
                },
            )
            .await?;
            tx.commit().await?;
            return Err(LoginError::InvalidCredentials);
        }
    };
    let token = super::random_token();
    let at = now();
    let record = Session {
        user_id: user.id,
        csrf_token: super::random_token(),
        created_at: at,
        last_seen_at: at,
        expires_at: at + session.absolute_hours * 3600,
    };
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(hash_token(&token))
    .bind(user.id)
    .bind(&record.csrf_token)
    .bind(at)
    .bind(record.expires_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM login_failures WHERE kind = 'account' AND key = $1")
        .bind(&account_key)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(at)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(user.department_id),
            actor: &user.actor(),
            action: "user.login",
            subject: format!("user:{}", user.id),
            details: serde_json::json!({ "address": address }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((token, record, user))
}

/// The user and session behind a cookie token, if the session is still alive.
pub async fn session_user(db: &Db, token: &str, config: &SessionConfig) -> Result<Option<(User, Session)>, Error> {
    let session = sqlx::query_as::<Any, Session>(
        "SELECT user_id, csrf_token, created_at, last_seen_at, expires_at FROM sessions WHERE token_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(&db.pool)
    .await?;
    let Some(session) = session else { return Ok(None) };
    let t = now();
    if session.expires_at <= t || session.last_seen_at + config.idle_minutes * 60 <= t {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_token(token))
            .execute(&db.pool)
            .await?;
        return Ok(None);
    }
    let user = super::get(db, session.user_id).await?;
    if !user.active {
        return Ok(None);
    }
    Ok(Some((user, session)))
}

/// Records use of a session; written at most once a minute to spare the database.
pub async fn touch_session(db: &Db, token: &str, session: &Session) -> Result<(), Error> {
    let t = now();
    if t - session.last_seen_at >= 60 {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(t)
            .bind(hash_token(token))
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

pub async fn end_session(db: &Db, user: &User, token: &str) -> Result<(), Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash_token(token))
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(user.department_id),
            actor: &user.actor(),
            action: "user.logout",
            subject: format!("user:{}", user.id),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
