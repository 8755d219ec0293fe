//! Login sessions: a random cookie token (stored only as its SHA-256), a CSRF token per
//! session, idle and absolute expiry, and throttling of failed logins.

use sha2::{Digest, Sha256};
use sqlx::{Any, FromRow};

use super::{
    Error, User, password,
    throttle::{self, Counter},
};
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

/// An account guessed at from many addresses is locked after this many times the
/// per-address failures.
const ACCOUNT_TOTAL_FACTOR: i64 = 10;

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
    // Failures lock an account only for the address they come from, so a stranger
    // cannot lock the Kepala Dinas out of their own office; an account guessed at from
    // many addresses is still stopped, later, by its total.
    let account_here = format!("{account_key}@{address}");
    let counters = [
        Counter {
            kind: "account",
            key: &account_here,
            limit: throttle.per_account,
        },
        Counter {
            kind: "account_total",
            key: &account_key,
            limit: throttle.per_account * ACCOUNT_TOTAL_FACTOR,
        },
        Counter {
            kind: "address",
            key: address,
            limit: throttle.per_address,
        },
    ];
    let reservation = match throttle::reserve(db, &counters, throttle.window_minutes).await? {
        Ok(reservation) => reservation,
        Err(minutes) => {
            tracing::warn!("login ditahan karena terlalu banyak kegagalan");
            return Err(LoginError::Throttled { minutes });
        }
    };
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
            throttle::fail(db, reservation).await?;
            let at = now();
            let mut tx = db.begin_write().await?;
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
    throttle::release(db, reservation).await?;
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
