//! `naskah keys migrate`: moves an older key store's files (`keys_dir/dinas-N/…`) into
//! the database. Officials' key files go in unchanged (still sealed under their
//! passphrase); the QR-token key, the CA keys and the BSrE client password are sealed
//! under the master key. Every file is checked against its public record first, all go
//! in one transaction, and only then are the files removed: a failure leaves both the
//! files and the database as they were.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use sqlx::Any;
use zeroize::Zeroizing;

use super::{
    Error, KeyStore, authority,
    department::read_hex_secret,
    store::{self, KeyFile},
};
use crate::{
    audit::{self, Actor, Event},
    db::Db,
    signing::x509::{Certificate, PrivateKey},
};

/// The name of a department's BSrE client password in `key_secrets`.
pub fn client_password_name(department_id: i64) -> String {
    format!("bsre-client:{department_id}")
}

/// What one migration did.
#[derive(Debug, Default)]
pub struct Report {
    pub moved: Vec<String>,
    /// Already in the database with the same content: the file is removed too.
    pub already_moved: Vec<String>,
    /// Files left where they are, with the reason.
    pub left: Vec<(PathBuf, String)>,
}

/// One file understood as a secret, checked, ready to go in.
struct Found {
    path: PathBuf,
    name: String,
    department_id: i64,
    secret: Secret,
}

enum Secret {
    /// An official's key file: stored as it is.
    Passphrase(String),
    /// Sealed under the master key on the way in.
    Master(Zeroizing<Vec<u8>>),
}

/// The older store's files under `keys_dir` (what a node must not need any more).
pub fn legacy_files(keys_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(keys_dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let folder = entry.path();
        let is_department = entry.file_name().to_str().is_some_and(|n| n.starts_with("dinas-"));
        if !is_department || !folder.is_dir() {
            continue;
        }
        if let Ok(files) = std::fs::read_dir(&folder) {
            found.extend(files.flatten().map(|f| f.path()).filter(|p| p.is_file()));
        }
    }
    found.sort();
    found
}

pub async fn migrate(db: &Db, store: &KeyStore, actor: &Actor, keys_dir: &Path) -> Result<Report, Error> {
    let mut report = Report::default();
    let mut found = Vec::new();
    for path in legacy_files(keys_dir) {
        match understand(db, &path).await {
            Ok(Some(item)) => found.push(item),
            Ok(None) => report.left.push((path, "bukan berkas kunci naskah".into())),
            Err(reason) => report.left.push((path, reason)),
        }
    }
    let mut tx = db.begin_write().await?;
    let mut moved_paths = Vec::new();
    for item in &found {
        let existing: Option<(String, String)> =
            sqlx::query_as::<Any, (String, String)>("SELECT sealed_with, envelope FROM key_secrets WHERE name = $1")
                .bind(&item.name)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((sealed_with, envelope)) = existing {
            let same = match &item.secret {
                Secret::Passphrase(text) => sealed_with == store::BY_PASSPHRASE && &envelope == text,
                Secret::Master(secret) => store.master().open(&item.name, &envelope).is_ok_and(|s| s[..] == secret[..]),
            };
            if same {
                report.already_moved.push(item.name.clone());
                moved_paths.push(item.path.clone());
            } else {
                report
                    .left
                    .push((item.path.clone(), "basis data sudah menyimpan rahasia lain dengan nama ini".into()));
            }
            continue;
        }
        match &item.secret {
            Secret::Passphrase(text) => {
                store
                    .insert(&mut tx, &item.name, item.department_id, store::BY_PASSPHRASE, text)
                    .await?
            }
            Secret::Master(secret) => store.insert_sealed(&mut tx, &item.name, item.department_id, secret).await?,
        }
        report.moved.push(item.name.clone());
        moved_paths.push(item.path.clone());
    }
    if !report.moved.is_empty() {
        audit::record(
            &mut tx,
            Event {
                department_id: None,
                actor,
                action: "key.store_migrated",
                subject: "key_secrets".into(),
                details: serde_json::json!({ "moved": report.moved, "already_moved": report.already_moved }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    for path in moved_paths {
        let _ = std::fs::remove_file(&path);
        if let Some(folder) = path.parent() {
            // Removed only when empty (a file left stays with its folder).
            let _ = std::fs::remove_dir(folder);
        }
    }
    Ok(report)
}

/// Reads one file and checks it against the public record it belongs to. `Ok(None)`:
/// not a key file; `Err`: a key file that cannot go in, with the reason.
async fn understand(db: &Db, path: &Path) -> Result<Option<Found>, String> {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let department_id: i64 = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("dinas-"))
        .and_then(|n| n.parse().ok())
        .ok_or("folder bukan dinas-<nomor>")?;
    let db_error = |e: sqlx::Error| e.to_string();
    if let Some(key_id) = file_name.strip_suffix(".json") {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let name = store::official_name(key_id);
        let file = KeyFile::parse(&text, &name).map_err(|e| e.to_string())?;
        let record: Option<(i64, i64)> =
            sqlx::query_as::<Any, (i64, i64)>("SELECT department_id, official_id FROM official_keys WHERE key_id = $1")
                .bind(key_id)
                .fetch_optional(&db.pool)
                .await
                .map_err(db_error)?;
        if file.key_id != key_id || record != Some((file.department_id, file.official_id)) || file.department_id != department_id {
            return Err("tidak ada kunci pejabat terdaftar yang cocok dengan berkas ini".into());
        }
        let envelope = store::to_json(&name, &file).map_err(|e| e.to_string())?;
        return Ok(Some(Found {
            path: path.into(),
            name,
            department_id,
            secret: Secret::Passphrase(envelope),
        }));
    }
    if file_name == "bsre-klien.rahasia" {
        let password = Zeroizing::new(std::fs::read(path).map_err(|e| e.to_string())?);
        return Ok(Some(Found {
            path: path.into(),
            name: client_password_name(department_id),
            department_id,
            secret: Secret::Master(password),
        }));
    }
    let Some(stem) = file_name.strip_suffix(".kunci") else {
        return Ok(None);
    };
    let secret = read_hex_secret(path).map_err(|e| e.to_string())?.ok_or("berkas hilang")?;
    if let Some(key_id) = stem.strip_prefix("dinas-") {
        let public: Option<(String,)> =
            sqlx::query_as::<Any, (String,)>("SELECT public_key FROM department_keys WHERE key_id = $1 AND department_id = $2")
                .bind(key_id)
                .bind(department_id)
                .fetch_optional(&db.pool)
                .await
                .map_err(db_error)?;
        let key = SigningKey::from_bytes(&secret);
        if public.map(|(p,)| p) != Some(hex::encode(key.verifying_key().as_bytes())) {
            return Err("tidak ada kunci dinas terdaftar yang cocok dengan berkas ini".into());
        }
        return Ok(Some(Found {
            path: path.into(),
            name: format!("department:{key_id}"),
            department_id,
            secret: Secret::Master(Zeroizing::new(secret.to_vec())),
        }));
    }
    if let Some(prefix) = stem.strip_prefix("ca-") {
        let key = p256::ecdsa::SigningKey::from_slice(secret.as_slice()).map_err(|_| "bukan kunci P-256".to_string())?;
        let public = PrivateKey::P256(key).public();
        let roots = authority::all(db, department_id).await.map_err(|e| e.to_string())?;
        let root = roots
            .into_iter()
            .filter(|r| r.fingerprint.starts_with(prefix))
            .find(|r| Certificate::parse(&r.certificate).is_ok_and(|c| c.public_key == public))
            .ok_or("tidak ada otoritas sertifikat terdaftar yang cocok dengan berkas ini")?;
        return Ok(Some(Found {
            path: path.into(),
            name: authority::secret_name(&root.fingerprint),
            department_id,
            secret: Secret::Master(Zeroizing::new(secret.to_vec())),
        }));
    }
    Ok(None)
}
