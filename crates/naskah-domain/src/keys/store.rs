//! The key store on disk: one JSON file per key, the secret encrypted with
//! XChaCha20-Poly1305 under an Argon2id key derived from the passphrase.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Error;

/// Argon2id lanes of new files; their memory and passes are the accounts' password cost
/// (`accounts::password::cost`). All three are stored in each file, so raising the cost
/// later leaves old files readable.
const KDF_LANES: u32 = 1;
const FORMAT: &str = "naskah-kunci-v1";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    format: String,
    key_id: String,
    department_id: i64,
    official_id: i64,
    /// Public key, hex (the file is readable without the passphrase for this much).
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

/// The folder of encrypted keys.
#[derive(Clone, Debug)]
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KeyStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, department_id: i64, key_id: &str) -> PathBuf {
        self.dir.join(format!("dinas-{department_id}")).join(format!("{key_id}.json"))
    }

    fn io(path: &Path, e: impl std::fmt::Display) -> Error {
        Error::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }

    /// Encrypts and writes a new key; the file is created readable by its owner only and
    /// never overwrites another. Returns its path.
    pub fn write(&self, department_id: i64, key_id: &str, official_id: i64, key: &SigningKey, passphrase: &str) -> Result<PathBuf, Error> {
        let path = self.path(department_id, key_id);
        let folder = path.parent().expect("a key path has a folder");
        std::fs::create_dir_all(folder).map_err(|e| Self::io(folder, e))?;
        let file = seal(department_id, key_id, official_id, key, passphrase)?;
        let text = serde_json::to_string_pretty(&file).map_err(|e| Self::io(&path, e))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&path).map_err(|e| Self::io(&path, e))?;
        out.write_all(text.as_bytes())
            .and_then(|_| out.sync_all())
            .map_err(|e| Self::io(&path, e))?;
        Ok(path)
    }

    /// Decrypts a key. A wrong passphrase is [`Error::WrongPassphrase`].
    pub fn read(&self, department_id: i64, key_id: &str, passphrase: &str) -> Result<SigningKey, Error> {
        let path = self.path(department_id, key_id);
        let file = self.load(&path, key_id)?;
        open(&path, &file, passphrase)
    }

    /// Re-encrypts a key under a new passphrase, replacing its file atomically.
    pub fn rewrap(&self, department_id: i64, key_id: &str, old: &str, new: &str) -> Result<(), Error> {
        let path = self.path(department_id, key_id);
        let file = self.load(&path, key_id)?;
        let key = open(&path, &file, old)?;
        let sealed = seal(department_id, key_id, file.official_id, &key, new)?;
        let text = serde_json::to_string_pretty(&sealed).map_err(|e| Self::io(&path, e))?;
        let temporary = path.with_extension("json.baru");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&temporary).map_err(|e| Self::io(&temporary, e))?;
        out.write_all(text.as_bytes())
            .and_then(|_| out.sync_all())
            .map_err(|e| Self::io(&temporary, e))?;
        std::fs::rename(&temporary, &path).map_err(|e| Self::io(&path, e))
    }

    fn load(&self, path: &Path, key_id: &str) -> Result<KeyFile, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::FileMissing {
                    key_id: key_id.into(),
                    dir: self.dir.display().to_string(),
                });
            }
            Err(e) => return Err(Self::io(path, e)),
        };
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| corrupt(path, e))?;
        if file.format != FORMAT || file.key_id != key_id {
            return Err(corrupt(path, "format atau nomor kunci tidak sesuai"));
        }
        Ok(file)
    }
}

fn corrupt(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        path: path.display().to_string(),
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

/// What the AEAD authenticates besides the secret: the key's identity, so a file's
/// ciphertext cannot be moved under another key id or official.
fn associated(department_id: i64, key_id: &str, official_id: i64) -> Vec<u8> {
    format!("{FORMAT}\n{department_id}\n{key_id}\n{official_id}").into_bytes()
}

fn seal(department_id: i64, key_id: &str, official_id: i64, key: &SigningKey, passphrase: &str) -> Result<KeyFile, Error> {
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

fn open(path: &Path, file: &KeyFile, passphrase: &str) -> Result<SigningKey, Error> {
    if file.kdf.algorithm != "argon2id" {
        return Err(corrupt(path, format!("KDF {} tidak dikenal", file.kdf.algorithm)));
    }
    let salt = B64.decode(&file.kdf.salt).map_err(|e| corrupt(path, e))?;
    let nonce = B64.decode(&file.nonce).map_err(|e| corrupt(path, e))?;
    let ciphertext = B64.decode(&file.ciphertext).map_err(|e| corrupt(path, e))?;
    if nonce.len() != 24 {
        return Err(corrupt(path, "nonce bukan 24 bita"));
    }
    let derived = derive(passphrase, &salt, file.kdf.memory_kib, file.kdf.passes, file.kdf.lanes).map_err(|e| corrupt(path, e))?;
    let key_bytes: &[u8; 32] = &derived;
    let cipher = XChaCha20Poly1305::new(key_bytes.into());
    // Authentication failure means the passphrase is wrong (or the file was altered,
    // which the AEAD cannot tell apart).
    let secret = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &associated(file.department_id, &file.key_id, file.official_id),
                },
            )
            .map_err(|_| Error::WrongPassphrase)?,
    );
    let bytes: [u8; 32] = secret.as_slice().try_into().map_err(|_| corrupt(path, "rahasia bukan 32 bita"))?;
    let key = SigningKey::from_bytes(&bytes);
    if hex::encode(key.verifying_key().as_bytes()) != file.public_key {
        return Err(corrupt(path, "kunci rahasia tidak cocok dengan kunci publiknya"));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_only_with_its_passphrase_and_rewraps() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path());
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let id = super::super::key_id(&key.verifying_key());
        let path = store.write(1, &id, 3, &key, "frasa sandi panjang").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&hex::encode([7u8; 32])), "the secret is not stored in clear");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(store.read(1, &id, "frasa sandi panjang").unwrap().to_bytes(), [7u8; 32]);
        assert!(matches!(store.read(1, &id, "frasa sandi salah!"), Err(Error::WrongPassphrase)));
        // A second key under the same id is refused, not overwritten.
        assert!(store.write(1, &id, 3, &key, "frasa sandi lain 1").is_err());

        store.rewrap(1, &id, "frasa sandi panjang", "frasa sandi baru 22").unwrap();
        assert!(matches!(store.read(1, &id, "frasa sandi panjang"), Err(Error::WrongPassphrase)));
        assert_eq!(store.read(1, &id, "frasa sandi baru 22").unwrap().to_bytes(), [7u8; 32]);

        // The ciphertext is bound to its official: moving it under another fails.
        let mut file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        file["official_id"] = 4.into();
        std::fs::write(&path, file.to_string()).unwrap();
        assert!(matches!(store.read(1, &id, "frasa sandi baru 22"), Err(Error::WrongPassphrase)));

        assert!(matches!(store.read(1, "0000", "x"), Err(Error::FileMissing { .. })));
    }
}
