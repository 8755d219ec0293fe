//! The deployment's master key: it seals, in the database, the secrets the service uses
//! without a person present (the QR-token key, the CA key, the BSrE client password).
//! Given by configuration (`NASKAH_MASTER_KEY`); a single node without one generates it
//! once into `keys_dir`. Only its identifier (a hash) is ever stored or printed.

use std::path::{Path, PathBuf};

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::Error;
use crate::config::Config;

/// The file a single node keeps its generated master key in, under `keys_dir`.
pub const GENERATED_FILE: &str = "kunci-induk.rahasia";
const FORMAT: &str = "naskah-rahasia-v1";

#[derive(Clone)]
pub struct MasterKey {
    secret: Zeroizing<[u8; 32]>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

/// Where the master key came from, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterSource {
    Configured,
    File(PathBuf),
    Generated(PathBuf),
}

impl MasterKey {
    pub fn from_bytes(secret: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"naskah/master-key-id/v1")
            .chain_update(secret)
            .finalize();
        MasterKey {
            secret: Zeroizing::new(secret),
            id: hex::encode(&digest[..8]),
        }
    }

    pub fn generate() -> Self {
        Self::from_bytes(rand::random())
    }

    /// A hash naming the key (never the key): stored beside what it sealed.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key as 64 hex digits, for `naskah keys master-key` to print once.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(*self.secret))
    }

    /// Reads 64 hex digits or the base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let bytes = Zeroizing::new(if text.len() == 64 {
            hex::decode(text).ok()
        } else {
            B64.decode(text).ok()
        });
        let secret: [u8; 32] = bytes.as_deref().and_then(|b| b.try_into().ok()).ok_or_else(|| Error::Io {
            path: "master_key".into(),
            reason: "kunci induk harus 32 bita: 64 digit heksadesimal atau base64 (buat dengan `naskah keys master-key`)".into(),
        })?;
        Ok(Self::from_bytes(secret))
    }

    /// The configured master key; without one, on a single node, the key generated once
    /// into `keys_dir` (created now if absent). Several nodes must be given one: the
    /// configuration refuses `nodes > 1` without it.
    pub fn from_config(config: &Config) -> Result<(Self, MasterSource), Error> {
        if !config.master_key.is_empty() {
            return Ok((Self::parse(config.master_key.expose())?, MasterSource::Configured));
        }
        let path = config.keys_dir.join(GENERATED_FILE);
        match super::department::read_hex_secret(&path) {
            Ok(Some(secret)) => Ok((Self::from_bytes(*secret), MasterSource::File(path))),
            Ok(None) => {
                let key = Self::generate();
                match super::department::write_secret(&path, &key.secret) {
                    Ok(()) => Ok((key, MasterSource::Generated(path))),
                    // Another process on this machine made it first: read theirs.
                    Err(_) if path.exists() => Self::from_file(&path),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    fn from_file(path: &Path) -> Result<(Self, MasterSource), Error> {
        let secret = super::department::read_hex_secret(path)?.ok_or_else(|| Error::Io {
            path: path.display().to_string(),
            reason: "hilang".into(),
        })?;
        Ok((Self::from_bytes(*secret), MasterSource::File(path.to_path_buf())))
    }

    /// Seals a secret under this key, bound to its name so a row cannot be moved under
    /// another.
    pub fn seal(&self, name: &str, secret: &[u8]) -> Result<String, Error> {
        let nonce: [u8; 24] = rand::random();
        let cipher = XChaCha20Poly1305::new((&*self.secret).into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: &associated(name),
                },
            )
            .map_err(|_| Error::Io {
                path: name.into(),
                reason: "enkripsi gagal".into(),
            })?;
        let envelope = Envelope {
            format: FORMAT.into(),
            master: self.id.clone(),
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        };
        serde_json::to_string(&envelope).map_err(|e| corrupt(name, e))
    }

    /// Opens what [`MasterKey::seal`] sealed under `name`.
    pub fn open(&self, name: &str, envelope: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        let envelope: Envelope = serde_json::from_str(envelope).map_err(|e| corrupt(name, e))?;
        if envelope.format != FORMAT {
            return Err(corrupt(name, format!("format {} tidak dikenal", envelope.format)));
        }
        if envelope.master != self.id {
            return Err(Error::MasterMismatch {
                stored: envelope.master,
                given: self.id.clone(),
            });
        }
        let nonce = B64.decode(&envelope.nonce).map_err(|e| corrupt(name, e))?;
        let ciphertext = B64.decode(&envelope.ciphertext).map_err(|e| corrupt(name, e))?;
        if nonce.len() != 24 {
            return Err(corrupt(name, "nonce bukan 24 bita"));
        }
        let cipher = XChaCha20Poly1305::new((&*self.secret).into());
        cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &associated(name),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| corrupt(name, "rahasia tidak dapat dibuka dengan kunci induk ini (diubah atau dipindah)"))
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    /// The identifier of the master key that sealed it.
    master: String,
    nonce: String,
    ciphertext: String,
}

fn associated(name: &str) -> Vec<u8> {
    format!("{FORMAT}\n{name}").into_bytes()
}

fn corrupt(name: &str, reason: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        path: format!("key_secrets/{name}"),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_opens_only_under_its_master_key_and_name() {
        let master = MasterKey::from_bytes([9u8; 32]);
        let sealed = master.seal("department:abc", b"rahasia dinas").unwrap();
        assert!(!sealed.contains(&hex::encode(b"rahasia dinas")));
        assert_eq!(&master.open("department:abc", &sealed).unwrap()[..], b"rahasia dinas");
        assert!(
            matches!(master.open("department:abd", &sealed), Err(Error::Corrupt { .. })),
            "bound to its name"
        );
        let other = MasterKey::from_bytes([8u8; 32]);
        assert!(matches!(other.open("department:abc", &sealed), Err(Error::MasterMismatch { .. })));
        assert!(!format!("{master:?}").contains("0909"), "Debug shows the identifier only");
    }

    #[test]
    fn a_master_key_is_read_as_hex_or_base64_and_nothing_else() {
        let hex_key = MasterKey::parse(&"ab".repeat(32)).unwrap();
        let b64_key = MasterKey::parse(&B64.encode([0xabu8; 32])).unwrap();
        assert_eq!(hex_key.id(), b64_key.id());
        assert!(MasterKey::parse("pendek").is_err());
        assert!(MasterKey::parse(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn a_single_node_generates_its_master_key_once() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            keys_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let (first, source) = MasterKey::from_config(&config).unwrap();
        assert!(matches!(source, MasterSource::Generated(_)));
        let (again, source) = MasterKey::from_config(&config).unwrap();
        assert!(matches!(source, MasterSource::File(_)));
        assert_eq!(first.id(), again.id());
        let configured = Config {
            master_key: crate::config::Secret::new("cd".repeat(32)),
            ..config
        };
        let (given, source) = MasterKey::from_config(&configured).unwrap();
        assert_eq!(source, MasterSource::Configured);
        assert_ne!(given.id(), first.id());
    }
}
