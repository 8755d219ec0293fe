//! The key store, in the database (`key_secrets`): officials' keys sealed under their
//! passphrase (XChaCha20-Poly1305 under an Argon2id key), the service's own secrets
//! sealed under the deployment's master key ([`MasterKey`]). Any node with the database
//! and the master key can sign; none keeps a key on its disk.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};
use zeroize::Zeroizing;

use super::{Error, master::MasterKey};
use crate::db::{Db, now};

/// Argon2id lanes of new keys; their memory and passes are the accounts' password cost
/// (`accounts::password::cost`). All three are stored with each key, so raising the
/// cost later leaves old keys readable.
const KDF_LANES: u32 = 1;
const FORMAT: &str = "naskah-kunci-v1";
/// `sealed_with` of a key sealed under a person's passphrase.
pub(crate) const BY_PASSPHRASE: &str = "passphrase";

/// An official's key sealed under their passphrase (the JSON stored as the envelope;
/// also the format of the older store's files, which `naskah keys migrate` moves in
/// unchanged).
#[derive(Serialize, Deserialize)]
pub(crate) struct KeyFile {
    format: String,
    pub(crate) key_id: String,
    pub(crate) department_id: i64,
    pub(crate) official_id: i64,
    /// Public key, hex (readable without the passphrase for this much).
    public_key: String,
    kdf: Kdf,
    /// XChaCha20-Poly1305 nonce and ciphertext of the 32-byte secret, base64.
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    algorithm: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
}

/// The key store: the database and the master key.
#[derive(Clone, Debug)]
pub struct KeyStore {
    db: Db,
    master: Arc<MasterKey>,
}

/// The name of an official's key in `key_secrets`.
pub(crate) fn official_name(key_id: &str) -> String {
    format!("official:{key_id}")
}

impl KeyStore {
    pub fn new(db: Db, master: MasterKey) -> Self {
        KeyStore {
            db,
            master: Arc::new(master),
        }
    }

    /// The store of a configured service: the configured master key, or a single
    /// node's generated one ([`MasterKey::from_config`]).
    pub fn from_config(db: Db, config: &crate::config::Config) -> Result<(Self, super::master::MasterSource), Error> {
        let (master, source) = MasterKey::from_config(config)?;
        Ok((KeyStore::new(db, master), source))
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// Stores a sealed secret in the caller's transaction; a second secret of the same
    /// name is refused, never overwritten.
    pub(crate) async fn insert(
        &self,
        tx: &mut Transaction<'static, Any>,
        name: &str,
        department_id: i64,
        sealed_with: &str,
        envelope: &str,
    ) -> Result<(), Error> {
        let at = now();
        sqlx::query(
            "INSERT INTO key_secrets (name, department_id, sealed_with, envelope, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(name)
        .bind(department_id)
        .bind(sealed_with)
        .bind(envelope)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn envelope(&self, name: &str) -> Result<Option<String>, Error> {
        Ok(sqlx::query_as::<Any, (String,)>("SELECT envelope FROM key_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|(envelope,)| envelope))
    }

    /// Seals a secret under the master key in the caller's transaction.
    pub(crate) async fn insert_sealed(
        &self,
        tx: &mut Transaction<'static, Any>,
        name: &str,
        department_id: i64,
        secret: &[u8],
    ) -> Result<(), Error> {
        let envelope = self.master.seal(name, secret)?;
        self.insert(tx, name, department_id, self.master.id(), &envelope).await
    }

    /// Seals a secret under the master key, replacing any earlier one of the name.
    pub(crate) async fn put_sealed(&self, name: &str, department_id: i64, secret: &[u8]) -> Result<(), Error> {
        let envelope = self.master.seal(name, secret)?;
        let at = now();
        sqlx::query(
            "INSERT INTO key_secrets (name, department_id, sealed_with, envelope, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (name) DO UPDATE SET sealed_with = $3, envelope = $4, updated_at = $5",
        )
        .bind(name)
        .bind(department_id)
        .bind(self.master.id())
        .bind(&envelope)
        .bind(at)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Opens a secret sealed under the master key; `None` when there is none.
    pub(crate) async fn open_sealed(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        match self.envelope(name).await? {
            Some(envelope) => self.master.open(name, &envelope).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn has(&self, name: &str) -> Result<bool, Error> {
        Ok(self.envelope(name).await?.is_some())
    }

    /// An official's sealed key, to be opened with the passphrase (off the async
    /// threads: the derivation is deliberately slow).
    pub(crate) async fn official(&self, key_id: &str) -> Result<KeyFile, Error> {
        let name = official_name(key_id);
        let envelope = self.envelope(&name).await?.ok_or_else(|| Error::SecretMissing(name.clone()))?;
        let file: KeyFile = serde_json::from_str(&envelope).map_err(|e| corrupt(&name, e))?;
        if file.format != FORMAT || file.key_id != key_id {
            return Err(corrupt(&name, "format atau nomor kunci tidak sesuai"));
        }
        Ok(file)
    }

    /// Replaces an official's sealed key with one under a new passphrase, only if it is
    /// still the one that was opened (two changes at once: the second is refused).
    pub(crate) async fn replace_official(&self, key_id: &str, before: &KeyFile, after: &KeyFile) -> Result<(), Error> {
        let name = official_name(key_id);
        let (old, new) = (to_json(&name, before)?, to_json(&name, after)?);
        let mut tx = self.db.begin_write().await?;
        let changed = sqlx::query("UPDATE key_secrets SET envelope = $1, updated_at = $2 WHERE name = $3 AND envelope = $4")
            .bind(&new)
            .bind(now())
            .bind(&name)
            .bind(&old)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed != 1 {
            return Err(corrupt(&name, "kunci diubah bersamaan di tempat lain; ulangi"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Re-seals every secret of the current master key under `new`, in one transaction
    /// (all or none), with an audit record naming both keys' identifiers.
    pub async fn reseal(&self, actor: &crate::audit::Actor, new: &MasterKey) -> Result<usize, Error> {
        self.check_master().await?;
        let mut tx = self.db.begin_write().await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as::<Any, (String, String)>("SELECT name, envelope FROM key_secrets WHERE sealed_with = $1 ORDER BY name")
                .bind(self.master.id())
                .fetch_all(&mut *tx)
                .await?;
        let at = now();
        for (name, envelope) in &rows {
            let secret = self.master.open(name, envelope)?;
            sqlx::query("UPDATE key_secrets SET sealed_with = $1, envelope = $2, updated_at = $3 WHERE name = $4")
                .bind(new.id())
                .bind(new.seal(name, &secret)?)
                .bind(at)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        crate::audit::record(
            &mut tx,
            crate::audit::Event {
                department_id: None,
                actor,
                action: "key.master_rotated",
                subject: "key_secrets".into(),
                details: serde_json::json!({ "from": self.master.id(), "to": new.id(), "secrets": rows.len() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// How many secrets the master key sealed; a secret sealed under another master key
    /// stops the node at start-up rather than at its first signature.
    pub async fn check_master(&self) -> Result<i64, Error> {
        let others: Vec<(String,)> =
            sqlx::query_as::<Any, (String,)>("SELECT DISTINCT sealed_with FROM key_secrets WHERE sealed_with <> $1 AND sealed_with <> $2")
                .bind(BY_PASSPHRASE)
                .bind(self.master.id())
                .fetch_all(&self.db.pool)
                .await?;
        if let Some((stored,)) = others.into_iter().next() {
            return Err(Error::MasterMismatch {
                stored,
                given: self.master.id().into(),
            });
        }
        let (count,): (i64,) = sqlx::query_as::<Any, (i64,)>("SELECT COUNT(*) FROM key_secrets WHERE sealed_with = $1")
            .bind(self.master.id())
            .fetch_one(&self.db.pool)
            .await?;
        Ok(count)
    }
}

pub(crate) fn to_json(name: &str, file: &KeyFile) -> Result<String, Error> {
    serde_json::to_string(file).map_err(|e| corrupt(name, e))
}

fn corrupt(name: &str, reason: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        path: format!("key_secrets/{name}"),
        reason: reason.to_string(),
    }
}

fn derive(passphrase: &str, salt: &[u8], memory_kib: u32, passes: u32, lanes: u32) -> Result<Zeroizing<[u8; 32]>, String> {
    let params = argon2::Params::new(memory_kib, passes, lanes, Some(32)).map_err(|e| e.to_string())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut out[..])
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// What the AEAD authenticates besides the secret: the key's identity, so a sealed key
/// cannot be moved under another key id or official.
fn associated(department_id: i64, key_id: &str, official_id: i64) -> Vec<u8> {
    format!("{FORMAT}\n{department_id}\n{key_id}\n{official_id}").into_bytes()
}

impl KeyFile {
    /// Seals an official's key under a passphrase (slow on purpose: call it through
    /// `accounts::password::derive`).
    pub(crate) fn seal(department_id: i64, key_id: &str, official_id: i64, key: &SigningKey, passphrase: &str) -> Result<KeyFile, Error> {
        let salt: [u8; 16] = rand::random();
        let nonce: [u8; 24] = rand::random();
        let (memory_kib, passes) = crate::accounts::password::cost();
        let derived = derive(passphrase, &salt, memory_kib, passes, KDF_LANES).map_err(|e| Error::Io {
            path: "argon2".into(),
            reason: e,
        })?;
        let key_bytes: &[u8; 32] = &derived;
        let cipher = XChaCha20Poly1305::new(key_bytes.into());
        let secret = Zeroizing::new(key.to_bytes());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &secret[..],
                    aad: &associated(department_id, key_id, official_id),
                },
            )
            .map_err(|_| Error::Io {
                path: "xchacha20poly1305".into(),
                reason: "enkripsi gagal".into(),
            })?;
        Ok(KeyFile {
            format: FORMAT.into(),
            key_id: key_id.into(),
            department_id,
            official_id,
            public_key: hex::encode(key.verifying_key().as_bytes()),
            kdf: Kdf {
                algorithm: "argon2id".into(),
                memory_kib,
                passes,
                lanes: KDF_LANES,
                salt: B64.encode(salt),
            },
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        })
    }

    /// Opens the key with the passphrase. A wrong passphrase is [`Error::WrongPassphrase`].
    pub(crate) fn open(&self, passphrase: &str) -> Result<SigningKey, Error> {
        let name = official_name(&self.key_id);
        if self.format != FORMAT {
            return Err(corrupt(&name, format!("format {} tidak dikenal", self.format)));
        }
        if self.kdf.algorithm != "argon2id" {
            return Err(corrupt(&name, format!("KDF {} tidak dikenal", self.kdf.algorithm)));
        }
        let salt = B64.decode(&self.kdf.salt).map_err(|e| corrupt(&name, e))?;
        let nonce = B64.decode(&self.nonce).map_err(|e| corrupt(&name, e))?;
        let ciphertext = B64.decode(&self.ciphertext).map_err(|e| corrupt(&name, e))?;
        if nonce.len() != 24 {
            return Err(corrupt(&name, "nonce bukan 24 bita"));
        }
        let derived = derive(passphrase, &salt, self.kdf.memory_kib, self.kdf.passes, self.kdf.lanes).map_err(|e| corrupt(&name, e))?;
        let key_bytes: &[u8; 32] = &derived;
        let cipher = XChaCha20Poly1305::new(key_bytes.into());
        // Authentication failure means the passphrase is wrong (or the envelope was
        // altered, which the AEAD cannot tell apart).
        let secret = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &associated(self.department_id, &self.key_id, self.official_id),
                    },
                )
                .map_err(|_| Error::WrongPassphrase)?,
        );
        let bytes: [u8; 32] = secret.as_slice().try_into().map_err(|_| corrupt(&name, "rahasia bukan 32 bita"))?;
        let key = SigningKey::from_bytes(&bytes);
        if hex::encode(key.verifying_key().as_bytes()) != self.public_key {
            return Err(corrupt(&name, "kunci rahasia tidak cocok dengan kunci publiknya"));
        }
        Ok(key)
    }

    /// The same key sealed under a new passphrase.
    pub(crate) fn rewrap(&self, old: &str, new: &str) -> Result<KeyFile, Error> {
        let key = self.open(old)?;
        KeyFile::seal(self.department_id, &self.key_id, self.official_id, &key, new)
    }

    pub(crate) fn parse(text: &str, name: &str) -> Result<KeyFile, Error> {
        let file: KeyFile = serde_json::from_str(text).map_err(|e| corrupt(name, e))?;
        if file.format != FORMAT {
            return Err(corrupt(name, "bukan berkas kunci naskah"));
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_opens_only_with_its_passphrase_and_rewraps() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let id = super::super::key_id(&key.verifying_key());
        let sealed = KeyFile::seal(1, &id, 3, &key, "frasa sandi panjang").unwrap();
        let text = to_json("x", &sealed).unwrap();
        assert!(!text.contains(&hex::encode([7u8; 32])), "the secret is not stored in clear");
        assert_eq!(sealed.open("frasa sandi panjang").unwrap().to_bytes(), [7u8; 32]);
        assert!(matches!(sealed.open("frasa sandi salah!"), Err(Error::WrongPassphrase)));

        let rewrapped = sealed.rewrap("frasa sandi panjang", "frasa sandi baru 22").unwrap();
        assert!(matches!(rewrapped.open("frasa sandi panjang"), Err(Error::WrongPassphrase)));
        assert_eq!(rewrapped.open("frasa sandi baru 22").unwrap().to_bytes(), [7u8; 32]);

        // The ciphertext is bound to its official: moving it under another fails.
        let mut moved: serde_json::Value = serde_json::from_str(&text).unwrap();
        moved["official_id"] = 4.into();
        let moved = KeyFile::parse(&moved.to_string(), "x").unwrap();
        assert!(matches!(moved.open("frasa sandi panjang"), Err(Error::WrongPassphrase)));
    }
}
