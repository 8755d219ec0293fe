//! A department's signing backend: its own certification authority ("lokal") or the
//! state CA's signing service (BSrE) with its address, client account and time limit.
//! The client password is sealed under the deployment's master key in the key store,
//! never in clear in the database, a page or a log.

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use sqlx::{Any, FromRow};
use zeroize::Zeroizing;

use super::super::{Error, StepKind, Workflow, chain};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    departments::{
        self, Official,
        identity::{mask_nik, official_nik},
    },
    keys::{KeyStore, migrate::client_password_name},
    letters::manifest::DocumentKind,
    signing::{
        bsre::{BsreClient, BsreSettings},
        remote::{RemoteError, RemoteSigner, UserStatus},
    },
    validation::FieldErrors,
};

pub const BACKEND_LOCAL: &str = "lokal";
pub const BACKEND_BSRE: &str = "bsre";
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 60;
const MAX_TIMEOUT_SECONDS: i64 = 600;

/// The stored settings (the password only as "stored or not").
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct SigningSettings {
    pub backend: String,
    pub bsre_base_url: String,
    pub bsre_username: String,
    pub bsre_timeout_seconds: i64,
}

impl Default for SigningSettings {
    fn default() -> Self {
        Self {
            backend: BACKEND_LOCAL.into(),
            bsre_base_url: String::new(),
            bsre_username: String::new(),
            bsre_timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
        }
    }
}

impl SigningSettings {
    pub fn uses_bsre(&self) -> bool {
        self.backend == BACKEND_BSRE
    }
}

/// What an administrator submits; an empty password keeps the stored one.
pub struct SettingsInput {
    pub backend: String,
    pub base_url: String,
    pub username: String,
    pub password: Zeroizing<String>,
    pub timeout_seconds: String,
}

pub async fn load(db: &Db, department_id: i64) -> Result<SigningSettings, Error> {
    Ok(sqlx::query_as::<Any, SigningSettings>(
        "SELECT backend, bsre_base_url, bsre_username, bsre_timeout_seconds FROM department_signing WHERE department_id = $1",
    )
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?
    .unwrap_or_default())
}

/// Whether a client password is stored for the department.
pub async fn has_password(keys: &KeyStore, department_id: i64) -> Result<bool, Error> {
    Ok(keys.has(&client_password_name(department_id)).await?)
}

async fn read_password(keys: &KeyStore, department_id: i64) -> Result<Zeroizing<String>, Error> {
    let secret = keys
        .open_sealed(&client_password_name(department_id))
        .await?
        .ok_or_else(|| Error::Unresolved("Kata sandi klien BSrE belum disimpan; isi di Pengaturan → BSrE.".into()))?;
    let text = std::str::from_utf8(&secret).map_err(|_| Error::Internal("kata sandi klien BSrE tersimpan rusak".into()))?;
    Ok(Zeroizing::new(text.to_string()))
}

/// The BSrE client for the department's settings.
pub async fn client(keys: &KeyStore, department_id: i64, settings: &SigningSettings) -> Result<Arc<dyn RemoteSigner>, Error> {
    let password = read_password(keys, department_id).await?;
    let client = BsreClient::new(&BsreSettings {
        base_url: settings.bsre_base_url.clone(),
        username: settings.bsre_username.clone(),
        password,
        timeout: Duration::from_secs(settings.bsre_timeout_seconds.clamp(1, MAX_TIMEOUT_SECONDS) as u64),
    })
    .map_err(|e| Error::Unresolved(format!("Pengaturan BSrE tidak lengkap: {e}")))?;
    Ok(Arc::new(client))
}

/// Runs a blocking call to the service off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, RemoteError> + Send + 'static,
) -> Result<Result<T, RemoteError>, Error> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|e| Error::Internal(format!("panggilan BSrE terhenti: {e}")))
}

/// Why `official` cannot sign through BSrE now, naming them; `Ok` when BSrE says their
/// certificate is issued.
pub async fn check_official(db: &Db, client: &Arc<dyn RemoteSigner>, official: &Official) -> Result<(), String> {
    let name = official.full_name();
    let nik = official_nik(db, official.department_id, official.id)
        .await
        .map_err(|e| format!("NIK {name} tidak dapat dibaca: {e}"))?;
    if nik.is_empty() {
        return Err(format!(
            "NIK {name} belum diisi, sehingga BSrE tidak dapat mengenalinya; isi di Pengaturan → BSrE."
        ));
    }
    let masked = mask_nik(&nik);
    let client = client.clone();
    let status = blocking(move || client.user_status(&nik)).await.map_err(|e| e.to_string())?;
    match status {
        Ok(UserStatus::Issued) => Ok(()),
        Ok(UserStatus::NotRegistered) => Err(format!(
            "{name} (NIK {masked}) belum terdaftar sebagai pengguna BSrE; daftarkan ke BSrE sebelum surat sampai kepadanya."
        )),
        Ok(UserStatus::NoCertificate) => Err(format!(
            "{name} (NIK {masked}) terdaftar di BSrE tetapi belum memiliki sertifikat elektronik yang berlaku."
        )),
        Ok(UserStatus::Other(status)) => Err(format!(
            "{name} (NIK {masked}) berstatus {status} di BSrE dan belum dapat menandatangani."
        )),
        Err(e) => Err(format!("Status sertifikat BSrE {name} tidak dapat diperiksa: {e}")),
    }
}

/// The officials who hold a position that signs in one of the department's chains.
pub async fn signers(db: &Db, department_id: i64) -> Result<Vec<Official>, Error> {
    let positions = departments::list_positions(db, department_id).await?;
    let officials = departments::list_officials(db, department_id).await?;
    let mut found: Vec<Official> = Vec::new();
    for kind in [DocumentKind::Surat, DocumentKind::Keputusan] {
        let chain = chain::for_kind(db, department_id, kind).await?;
        for stage in chain.stages.iter().filter(|s| s.kind == StepKind::TandaTangan) {
            for reference in &stage.positions {
                let matching = positions.iter().filter(|p| match reference.strip_prefix('#') {
                    Some(id) => id.parse::<i64>().ok() == Some(p.id),
                    None => &p.kind == reference,
                });
                for position in matching {
                    for official in officials.iter().filter(|o| o.position_id == Some(position.id)) {
                        if !found.iter().any(|f| f.id == official.id) {
                            found.push(official.clone());
                        }
                    }
                }
            }
        }
    }
    Ok(found)
}

fn validated(input: &SettingsInput, password_stored: bool) -> Result<SigningSettings, FieldErrors> {
    let mut errors = FieldErrors::default();
    let backend = input.backend.trim();
    if backend != BACKEND_LOCAL && backend != BACKEND_BSRE {
        errors.add("backend", "Pilih otoritas sertifikat dinas atau BSrE.");
    }
    let base_url = input.base_url.trim().trim_end_matches('/').to_string();
    let username = input.username.trim().to_string();
    let timeout = match input.timeout_seconds.trim() {
        "" => DEFAULT_TIMEOUT_SECONDS,
        text => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_TIMEOUT_SECONDS).contains(&n) => n,
            _ => {
                errors.add("timeout", format!("Batas waktu 1 sampai {MAX_TIMEOUT_SECONDS} detik."));
                DEFAULT_TIMEOUT_SECONDS
            }
        },
    };
    if backend == BACKEND_BSRE {
        match url::Url::parse(&base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {}
            _ => errors.add(
                "base_url",
                "Alamat layanan BSrE ditulis lengkap, contoh https://esign.contoh.go.id.",
            ),
        }
        if username.is_empty() {
            errors.add("username", "Nama pengguna klien BSrE wajib diisi.");
        }
        if input.password.is_empty() && !password_stored {
            errors.add("password", "Kata sandi klien BSrE wajib diisi.");
        }
    }
    errors.max_len("base_url", "Alamat layanan BSrE", &base_url, 300);
    errors.max_len("username", "Nama pengguna klien", &username, 200);
    errors.into_result().map(|_| SigningSettings {
        backend: backend.to_string(),
        bsre_base_url: base_url,
        bsre_username: username,
        bsre_timeout_seconds: timeout,
    })
}

impl Workflow {
    /// Saves the department's signing backend. Switching to BSrE first asks BSrE about
    /// every official who signs in the department's chains and refuses, naming them,
    /// while one of them cannot sign there.
    pub async fn save_signing_settings(&self, actor: &Actor, department_id: i64, input: &SettingsInput) -> Result<SigningSettings, Error> {
        let settings = validated(input, has_password(&self.keys, department_id).await?).map_err(Error::Invalid)?;
        if !input.password.is_empty() {
            self.keys
                .put_sealed(&client_password_name(department_id), department_id, input.password.as_bytes())
                .await?;
        }
        if settings.uses_bsre() {
            let client = client(&self.keys, department_id, &settings).await?;
            let mut problems = Vec::new();
            for official in signers(&self.db, department_id).await? {
                if let Err(problem) = check_official(&self.db, &client, &official).await {
                    problems.push(problem);
                }
            }
            if !problems.is_empty() {
                return Err(Error::Unresolved(format!(
                    "Dinas belum dapat beralih ke BSrE: {}",
                    problems.join(" ")
                )));
            }
        }
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO department_signing (department_id, backend, bsre_base_url, bsre_username, bsre_timeout_seconds, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (department_id) DO UPDATE SET backend = $2, bsre_base_url = $3, \
             bsre_username = $4, bsre_timeout_seconds = $5, updated_at = $6",
        )
        .bind(department_id)
        .bind(&settings.backend)
        .bind(&settings.bsre_base_url)
        .bind(&settings.bsre_username)
        .bind(settings.bsre_timeout_seconds)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            Event {
                department_id: Some(department_id),
                actor,
                action: "signing.backend_changed",
                subject: format!("department:{department_id}"),
                details: serde_json::json!({
                    "backend": settings.backend,
                    "base_url": settings.bsre_base_url,
                    "username": settings.bsre_username,
                    "timeout_seconds": settings.bsre_timeout_seconds,
                    "password_changed": !input.password.is_empty(),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(settings)
    }
}
