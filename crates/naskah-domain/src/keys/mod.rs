//! Officials' Ed25519 signing keys.
//!
//! The private half of each key lives in the key store (the database's `key_secrets`),
//! encrypted with XChaCha20-Poly1305 under a key derived from the official's signing
//! passphrase with Argon2id, written in the same transaction as its public record. The
//! passphrase is not the login password and is asked at every paraf and signature. The
//! public half is in `official_keys`, where it stays after the key is retired so that
//! old statements still verify.

pub mod authority;
pub mod department;
pub mod master;
pub mod migrate;
pub mod revocation;
pub mod seal;
mod store;

use ed25519_dalek::SigningKey;
use serde::Serialize;
use sqlx::{Any, FromRow};

pub use master::MasterKey;
pub use store::KeyStore;

use crate::{
    audit::{self, Actor, Event},
    db::{Db, DbError, now},
    validation::FieldErrors,
};

/// Failed passphrases per official within [`PASSPHRASE_WINDOW_MINUTES`] before the key
/// is locked for the rest of the window.
pub const PASSPHRASE_LIMIT: i64 = 5;
pub const PASSPHRASE_WINDOW_MINUTES: i64 = 15;
/// Shortest passphrase accepted for a new key.
pub const MIN_PASSPHRASE_CHARS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("frasa sandi salah")]
    WrongPassphrase,
    #[error("Terlalu banyak frasa sandi salah: kunci Anda ditahan; coba lagi dalam {minutes} menit.")]
    Throttled { minutes: i64 },
    #[error("pejabat ini belum memiliki kunci tanda tangan; buat dengan `naskah keys generate` atau di halaman Kunci")]
    NoKey,
    #[error("pejabat ini sudah memiliki kunci aktif ({0}); gunakan rotasi kunci untuk menggantinya")]
    AlreadyHasKey(String),
    #[error("kunci {0} tidak dikenal")]
    UnknownKey(String),
    #[error("kunci rahasia {0} tidak ada di basis data; bila kunci masih berupa berkas, pindahkan dengan `naskah keys migrate`")]
    SecretMissing(String),
    #[error(
        "kunci induk yang diberikan ({given}) bukan yang menyegel rahasia di basis data ({stored}); berikan NASKAH_MASTER_KEY yang sama dengan node lain atau dari cadangan"
    )]
    MasterMismatch { stored: String, given: String },
    #[error("kunci {path} rusak: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("penyimpanan kunci {path} tidak dapat ditulis atau dibaca: {reason}")]
    Io { path: String, reason: String },
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(DbError::Sqlx(e))
    }
}

/// The public record of a key.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct KeyInfo {
    pub key_id: String,
    pub department_id: i64,
    pub official_id: i64,
    /// The 32-byte public key, hex.
    pub public_key: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl KeyInfo {
    pub fn verifying_key(&self) -> Result<ed25519_dalek::VerifyingKey, Error> {
        let corrupt = |reason: String| Error::Corrupt {
            path: format!("official_keys/{}", self.key_id),
            reason,
        };
        let bytes: [u8; 32] = hex::decode(&self.public_key)
            .map_err(|e| corrupt(e.to_string()))?
            .try_into()
            .map_err(|_| corrupt("kunci publik bukan 32 bita".into()))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|e| corrupt(e.to_string()))
    }

    /// Whether the key was the official's valid key at `at` (Unix seconds). Times are
    /// whole seconds, so the second of retirement still counts: a statement signed
    /// just before a rotation in the same second stays valid.
    pub fn valid_at(&self, at: i64) -> bool {
        self.created_at <= at && self.retired_at.is_none_or(|retired| at <= retired)
    }
}

pub use crate::signing::key_id;

pub fn check_passphrase(field: &str, passphrase: &str) -> Result<(), Error> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::Invalid(FieldErrors::single(
            field,
            format!("Frasa sandi minimal {MIN_PASSPHRASE_CHARS} karakter."),
        )));
    }
    if passphrase.trim() != passphrase {
        return Err(Error::Invalid(FieldErrors::single(
            field,
            "Frasa sandi tidak boleh diawali atau diakhiri spasi.",
        )));
    }
    Ok(())
}

const KEY_COLUMNS: &str = "key_id, department_id, official_id, public_key, created_at, retired_at";

/// The official's current key, if any.
pub async fn active_key(db: &Db, official_id: i64) -> Result<Option<KeyInfo>, Error> {
    Ok(sqlx::query_as::<Any, KeyInfo>(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM official_keys WHERE official_id = $1 AND retired_at IS NULL"
    )))
    .bind(official_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Any key, retired or not.
pub async fn get(db: &Db, key_id: &str) -> Result<KeyInfo, Error> {
    sqlx::query_as::<Any, KeyInfo>(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM official_keys WHERE key_id = $1"
    )))
    .bind(key_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| Error::UnknownKey(key_id.into()))
}

/// Every key of a department, newest first.
pub async fn list(db: &Db, department_id: i64) -> Result<Vec<KeyInfo>, Error> {
    Ok(sqlx::query_as::<Any, KeyInfo>(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM official_keys WHERE department_id = $1 ORDER BY created_at DESC, key_id"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Creates the first key of an official.
pub async fn generate(
    db: &Db,
    store: &KeyStore,
    actor: &Actor,
    department_id: i64,
    official_id: i64,
    passphrase: &str,
) -> Result<KeyInfo, Error> {
    check_passphrase("passphrase", passphrase)?;
    if let Some(existing) = active_key(db, official_id).await? {
        return Err(Error::AlreadyHasKey(existing.key_id));
    }
    install_new_key(db, store, actor, department_id, official_id, passphrase, "key.generated").await
}

/// Replaces an official's key with a new one; the old public key is kept, retired, so
/// that what it signed still verifies. Needs no old passphrase: an administrator rotates
/// the key of an official who forgot theirs.
pub async fn rotate(
    db: &Db,
    store: &KeyStore,
    actor: &Actor,
    department_id: i64,
    official_id: i64,
    new_passphrase: &str,
) -> Result<KeyInfo, Error> {
    check_passphrase("passphrase", new_passphrase)?;
    install_new_key(db, store, actor, department_id, official_id, new_passphrase, "key.rotated").await
}

async fn install_new_key(
    db: &Db,
    store: &KeyStore,
    actor: &Actor,
    department_id: i64,
    official_id: i64,
    passphrase: &str,
    action: &str,
) -> Result<KeyInfo, Error> {
    let secret: [u8; 32] = rand::random();
    let signing = SigningKey::from_bytes(&secret);
    let public = signing.verifying_key();
    let id = key_id(&public);
    let (sealed_id, passphrase_owned) = (id.clone(), passphrase.to_string());
    let sealed = crate::accounts::password::derive(move || {
        store::KeyFile::seal(department_id, &sealed_id, official_id, &signing, &passphrase_owned)
    })
    .await
    .map_err(argon_failed)??;
    let name = store::official_name(&id);
    let envelope = store::to_json(&name, &sealed)?;

    let at = now();
    let result: Result<KeyInfo, Error> = async {
        let mut tx = db.begin_write().await?;
        store.insert(&mut tx, &name, department_id, store::BY_PASSPHRASE, &envelope).await?;
        let retired = sqlx::query_as::<Any, (String,)>(
            "UPDATE official_keys SET retired_at = $1 WHERE official_id = $2 AND retired_at IS NULL RETURNING key_id",
        )
        .bind(at)
        .bind(official_id)
        .fetch_all(&mut *tx)
        .await?;
        // A retired key signs nothing more: its certificates are revoked (listed in the
        // authority's next CRL, which the running service issues within a minute).
        let revoked = sqlx::query(
            "UPDATE official_certificates SET revoked_at = $1 WHERE revoked_at IS NULL AND key_id IN \
             (SELECT key_id FROM official_keys WHERE official_id = $2 AND retired_at = $1)",
        )
        .bind(at)
        .bind(official_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("INSERT INTO official_keys (key_id, department_id, official_id, public_key, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(department_id)
            .bind(official_id)
            .bind(hex::encode(public.as_bytes()))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            Event {
                department_id: Some(department_id),
                actor,
                action,
                subject: format!("official:{official_id}"),
                details: serde_json::json!({
                    "key_id": id,
                    "retired": retired.into_iter().map(|(k,)| k).collect::<Vec<_>>(),
                    "certificates_revoked": revoked,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        get(db, &id).await
    }
    .await;
    result
}

fn argon_failed(e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: "argon2".into(),
        reason: e.to_string(),
    }
}

/// Re-encrypts the official's current key under a new passphrase.
pub async fn change_passphrase(
    db: &Db,
    store: &KeyStore,
    actor: &Actor,
    official_id: i64,
    old_passphrase: &str,
    new_passphrase: &str,
) -> Result<KeyInfo, Error> {
    check_passphrase("new_passphrase", new_passphrase)?;
    let key = active_key(db, official_id).await?.ok_or(Error::NoKey)?;
    let before = store.official(&key.key_id).await?;
    let attempt = reserve_attempt(db, official_id).await?;
    let (old, new) = (old_passphrase.to_string(), new_passphrase.to_string());
    let (before, outcome) = crate::accounts::password::derive(move || {
        let after = before.rewrap(&old, &new);
        (before, after)
    })
    .await
    .map_err(argon_failed)?;
    let outcome = match outcome {
        Ok(after) => store.replace_official(&key.key_id, &before, &after).await,
        Err(e) => Err(e),
    };
    match outcome {
        Err(Error::WrongPassphrase) => {
            crate::accounts::fail_attempt(db, attempt).await?;
            return Err(Error::WrongPassphrase);
        }
        Err(other) => {
            crate::accounts::release_attempt(db, attempt).await?;
            return Err(other);
        }
        Ok(()) => {
            crate::accounts::release_attempt(db, attempt).await?;
            clear_failures(db, official_id).await?;
        }
    }
    let mut tx = db.begin_write().await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(key.department_id),
            actor,
            action: "key.passphrase_changed",
            subject: format!("official:{official_id}"),
            details: serde_json::json!({ "key_id": key.key_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

/// An unlocked key, ready to sign; the secret is wiped when it is dropped.
pub struct Unlocked {
    pub info: KeyInfo,
    pub signing: SigningKey,
}

/// Decrypts the official's current key with the passphrase. A wrong passphrase counts
/// towards the lock and changes nothing else.
pub async fn unlock(db: &Db, store: &KeyStore, official_id: i64, passphrase: &str) -> Result<Unlocked, Error> {
    let info = active_key(db, official_id).await?.ok_or(Error::NoKey)?;
    let sealed = store.official(&info.key_id).await?;
    let attempt = reserve_attempt(db, official_id).await?;
    let pass = passphrase.to_string();
    let outcome = crate::accounts::password::derive(move || sealed.open(&pass))
        .await
        .map_err(argon_failed)?;
    match outcome {
        Ok(signing) => {
            if key_id(&signing.verifying_key()) != info.key_id {
                crate::accounts::release_attempt(db, attempt).await?;
                return Err(Error::Corrupt {
                    path: format!("key_secrets/{}", store::official_name(&info.key_id)),
                    reason: "kunci di berkas tidak cocok dengan kunci publik yang terdaftar".into(),
                });
            }
            crate::accounts::release_attempt(db, attempt).await?;
            clear_failures(db, official_id).await?;
            Ok(Unlocked { info, signing })
        }
        Err(Error::WrongPassphrase) => {
            crate::accounts::fail_attempt(db, attempt).await?;
            tracing::warn!(official_id, "frasa sandi salah");
            Err(Error::WrongPassphrase)
        }
        Err(other) => {
            crate::accounts::release_attempt(db, attempt).await?;
            Err(other)
        }
    }
}

/// How many wrong passphrases an official may still type before the key is held, and
/// until when it is held if it is.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PassphraseStanding {
    pub tries_left: i64,
    /// Unix seconds.
    pub held_until: Option<i64>,
}

pub async fn passphrase_standing(db: &Db, official_id: i64) -> Result<PassphraseStanding, Error> {
    let (failures, held_until) = crate::accounts::throttle_standing(
        db,
        "passphrase",
        &throttle_key(official_id),
        PASSPHRASE_LIMIT,
        PASSPHRASE_WINDOW_MINUTES,
    )
    .await?;
    Ok(PassphraseStanding {
        tries_left: (PASSPHRASE_LIMIT - failures).max(0),
        held_until,
    })
}

fn throttle_key(official_id: i64) -> String {
    format!("official:{official_id}")
}

/// Counts this passphrase attempt before the key's decryption tests it (see
/// `accounts::throttle`), or says how long the lock lasts.
async fn reserve_attempt(db: &Db, official_id: i64) -> Result<crate::accounts::Reservation, Error> {
    let key = throttle_key(official_id);
    let counter = crate::accounts::Counter {
        kind: "passphrase",
        key: &key,
        limit: PASSPHRASE_LIMIT,
    };
    crate::accounts::reserve_attempt(db, &[counter], PASSPHRASE_WINDOW_MINUTES)
        .await?
        .map_err(|minutes| Error::Throttled { minutes })
}

async fn clear_failures(db: &Db, official_id: i64) -> Result<(), Error> {
    sqlx::query("DELETE FROM login_failures WHERE kind = 'passphrase' AND key = $1")
        .bind(throttle_key(official_id))
        .execute(&db.pool)
        .await?;
    Ok(())
}
