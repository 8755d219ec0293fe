//! The department's Ed25519 key, which signs the token in every QR code. It signs
//! without a person present (at every signature), so its private half is kept in the
//! key store as a file readable by the service only (0600), not under a passphrase.

use std::io::Write;

use ed25519_dalek::SigningKey;
use serde::Serialize;
use sqlx::{Any, FromRow};
use zeroize::Zeroizing;

use super::{Error, KeyStore, key_id};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
};

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct DepartmentKey {
    pub key_id: String,
    pub department_id: i64,
    /// The 32-byte public key, hex.
    pub public_key: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl KeyStore {
    fn department_path(&self, department_id: i64, key_id: &str) -> std::path::PathBuf {
        self.dir()
            .join(format!("dinas-{department_id}"))
            .join(format!("dinas-{key_id}.kunci"))
    }
}

/// Every department key, current and retired, of every department (what
/// `/.well-known/naskah-keys.json` publishes).
pub async fn published(db: &Db) -> Result<Vec<DepartmentKey>, Error> {
    Ok(sqlx::query_as::<Any, DepartmentKey>(
        "SELECT key_id, department_id, public_key, created_at, retired_at FROM department_keys ORDER BY department_id, created_at",
    )
    .fetch_all(&db.pool)
    .await?)
}

/// The department's current key, created (file and public record) when it has none.
pub async fn ensure(db: &Db, store: &KeyStore, actor: &Actor, department_id: i64) -> Result<(DepartmentKey, SigningKey), Error> {
    let current: Option<DepartmentKey> = sqlx::query_as::<Any, DepartmentKey>(
        "SELECT key_id, department_id, public_key, created_at, retired_at FROM department_keys WHERE department_id = $1 AND retired_at IS NULL",
    )
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(key) = current {
        let signing = read(store, department_id, &key.key_id)?;
        return Ok((key, signing));
    }
    let signing = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let id = key_id(&signing.verifying_key());
    let path = store.department_path(department_id, &id);
    write_secret(&path, &signing.to_bytes())?;
    let result: Result<(), Error> = async {
        let mut tx = db.begin_write().await?;
        sqlx::query("INSERT INTO department_keys (key_id, department_id, public_key, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(department_id)
            .bind(hex::encode(signing.verifying_key().as_bytes()))
            .bind(now())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            Event {
                department_id: Some(department_id),
                actor,
                action: "key.department_created",
                subject: format!("department:{department_id}"),
                details: serde_json::json!({ "key_id": id }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(&path);
        // Another process may have created the key at the same moment: use that one.
        if let Some(Ok(existing)) = retry_current(db, store, department_id).await {
            return Ok(existing);
        }
        return Err(e);
    }
    let key = sqlx::query_as::<Any, DepartmentKey>(
        "SELECT key_id, department_id, public_key, created_at, retired_at FROM department_keys WHERE key_id = $1",
    )
    .bind(&id)
    .fetch_one(&db.pool)
    .await?;
    Ok((key, signing))
}

async fn retry_current(db: &Db, store: &KeyStore, department_id: i64) -> Option<Result<(DepartmentKey, SigningKey), Error>> {
    let key: DepartmentKey = sqlx::query_as::<Any, DepartmentKey>(
        "SELECT key_id, department_id, public_key, created_at, retired_at FROM department_keys WHERE department_id = $1 AND retired_at IS NULL",
    )
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await
    .ok()??;
    Some(read(store, department_id, &key.key_id).map(|signing| (key, signing)))
}

/// Writes a 32-byte secret as hex to a new file only the service may read.
pub(crate) fn write_secret(path: &std::path::Path, secret: &[u8; 32]) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    let secret = Zeroizing::new(hex::encode(secret));
    file.write_all(secret.as_bytes()).and_then(|_| file.sync_all()).map_err(io)
}

fn read(store: &KeyStore, department_id: i64, key_id_hex: &str) -> Result<SigningKey, Error> {
    let path = store.department_path(department_id, key_id_hex);
    let secret = read_secret(store, &path, key_id_hex)?;
    let key = SigningKey::from_bytes(&secret);
    if key_id(&key.verifying_key()) != key_id_hex {
        return Err(Error::Corrupt {
            path: path.display().to_string(),
            reason: "kunci tidak cocok dengan nomornya".into(),
        });
    }
    Ok(key)
}

/// Reads a secret written by [`write_secret`].
pub(crate) fn read_secret(store: &KeyStore, path: &std::path::Path, key_id_hex: &str) -> Result<Zeroizing<[u8; 32]>, Error> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::FileMissing {
                key_id: key_id_hex.into(),
                dir: store.dir().display().to_string(),
            }
        } else {
            Error::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            }
        }
    })?);
    let corrupt = |reason: &str| Error::Corrupt {
        path: path.display().to_string(),
        reason: reason.into(),
    };
    let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| corrupt("bukan heksadesimal"))?);
    let secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| corrupt("bukan 32 bita"))?;
    Ok(Zeroizing::new(secret))
}
