//! The department's Ed25519 key, which signs the token in every QR code. It signs
//! without a person present (at every signature), so its private half is sealed under
//! the deployment's master key in the key store, not under a passphrase.

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

/// The name of a department key's secret in `key_secrets`.
fn secret_name(key_id: &str) -> String {
    format!("department:{key_id}")
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
        let signing = read(store, &key.key_id).await?;
        return Ok((key, signing));
    }
    let signing = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let id = key_id(&signing.verifying_key());
    let result: Result<(), Error> = async {
        let mut tx = db.begin_write().await?;
        sqlx::query("INSERT INTO department_keys (key_id, department_id, public_key, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(department_id)
            .bind(hex::encode(signing.verifying_key().as_bytes()))
            .bind(now())
            .execute(&mut *tx)
            .await?;
        store
            .insert_sealed(
                &mut tx,
                &secret_name(&id),
                department_id,
                Zeroizing::new(signing.to_bytes()).as_slice(),
            )
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
    Some(read(store, &key.key_id).await.map(|signing| (key, signing)))
}

/// Writes a 32-byte secret as hex to a new file only the service may read (the
/// generated master key of a single node).
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

async fn read(store: &KeyStore, key_id_hex: &str) -> Result<SigningKey, Error> {
    let name = secret_name(key_id_hex);
    let secret = store.open_sealed(&name).await?.ok_or_else(|| Error::SecretMissing(name.clone()))?;
    let bytes: [u8; 32] = secret.as_slice().try_into().map_err(|_| Error::Corrupt {
        path: format!("key_secrets/{name}"),
        reason: "bukan 32 bita".into(),
    })?;
    let key = SigningKey::from_bytes(&bytes);
    if key_id(&key.verifying_key()) != key_id_hex {
        return Err(Error::Corrupt {
            path: format!("key_secrets/{name}"),
            reason: "kunci tidak cocok dengan nomornya".into(),
        });
    }
    Ok(key)
}

/// Reads a secret written by [`write_secret`]; `None` when the file is absent.
pub(crate) fn read_hex_secret(path: &std::path::Path) -> Result<Option<Zeroizing<[u8; 32]>>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            });
        }
    };
    let corrupt = |reason: &str| Error::Corrupt {
        path: path.display().to_string(),
        reason: reason.into(),
    };
    let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| corrupt("bukan heksadesimal"))?);
    let secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| corrupt("bukan 32 bita"))?;
    Ok(Some(Zeroizing::new(secret)))
}
