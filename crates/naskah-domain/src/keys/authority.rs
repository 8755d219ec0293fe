//! The department's own root certification authority and the certificates it issues to
//! officials. The root's private key (P-256, accepted by every PDF reader) signs
//! without a person present, so, like the QR key, it is sealed under the deployment's
//! master key in the key store; its certificate is in the database and published.

use serde::Serialize;
use sqlx::{Any, FromRow};

use zeroize::Zeroizing;

use super::{Error, KeyStore, Unlocked};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    departments::{Department, Official},
    signing::{
        Algorithm, LocalSigner, official_key,
        x509::{self, Certificate, Name, PrivateKey, Template},
    },
};

/// A root is valid for twenty years; an official's certificate for five, or until the
/// root expires.
const AUTHORITY_YEARS: i64 = 20;
const CERTIFICATE_YEARS: i64 = 5;
const YEAR: i64 = 365 * 24 * 3600;
/// Certificates start a little in the past so that a clock a few minutes behind on a
/// reader's machine does not call a fresh signature "not yet valid".
const BACKDATE: i64 = 600;

/// The public record of a root.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct AuthorityInfo {
    pub fingerprint: String,
    pub department_id: i64,
    pub subject: String,
    #[serde(skip)]
    pub certificate: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl AuthorityInfo {
    /// The certificate as PEM, for readers that want to trust it.
    pub fn pem(&self) -> String {
        use base64::Engine;
        let body = base64::engine::general_purpose::STANDARD.encode(&self.certificate);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }
}

/// A root with its private key, able to issue; opened only when a certificate or CRL
/// is issued.
pub(super) struct Authority {
    pub info: AuthorityInfo,
    pub key: PrivateKey,
}

/// The name of a root's private key in `key_secrets`.
pub(crate) fn secret_name(fingerprint: &str) -> String {
    format!("authority:{fingerprint}")
}

const COLUMNS: &str = "fingerprint, department_id, subject, certificate, not_before, not_after, created_at, retired_at";

/// The department's current root, if it has one.
pub async fn current(db: &Db, department_id: i64) -> Result<Option<AuthorityInfo>, Error> {
    Ok(sqlx::query_as::<Any, AuthorityInfo>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM certificate_authorities WHERE department_id = $1 AND retired_at IS NULL"
    )))
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Every root the department has had: the trust anchors for its signatures.
pub async fn all(db: &Db, department_id: i64) -> Result<Vec<AuthorityInfo>, Error> {
    Ok(sqlx::query_as::<Any, AuthorityInfo>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM certificate_authorities WHERE department_id = $1 ORDER BY created_at"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Every root of every department (what `/.well-known/naskah-keys.json` publishes).
pub async fn published(db: &Db) -> Result<Vec<AuthorityInfo>, Error> {
    Ok(sqlx::query_as::<Any, AuthorityInfo>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM certificate_authorities ORDER BY department_id, created_at"
    )))
    .fetch_all(&db.pool)
    .await?)
}

/// The root by its fingerprint (SHA-256 of the certificate, hex).
pub async fn by_fingerprint(db: &Db, fingerprint: &str) -> Result<Option<AuthorityInfo>, Error> {
    Ok(sqlx::query_as::<Any, AuthorityInfo>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM certificate_authorities WHERE fingerprint = $1"
    )))
    .bind(fingerprint)
    .fetch_optional(&db.pool)
    .await?)
}

/// The department's root, created (key file, self-signed certificate, record) when it
/// has none. Returns whether it was created now. Its private key is not read here: only
/// issuing a certificate needs it.
pub async fn ensure(db: &Db, store: &KeyStore, actor: &Actor, department: &Department) -> Result<(AuthorityInfo, bool), Error> {
    if let Some(info) = current(db, department.id).await? {
        return Ok((info, false));
    }
    let key = loop {
        if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&rand::random::<[u8; 32]>()) {
            break PrivateKey::P256(key);
        }
    };
    let name = Name {
        common_name: format!("Otoritas Sertifikat {}", organization(department)),
        organization: organization(department),
        title: None,
        serial_number: None,
    };
    let subject = name.to_der();
    let public = key.public();
    let at = now();
    let certificate = x509::issue(
        &Template {
            serial: x509::random_serial(),
            issuer: &subject,
            subject: &subject,
            not_before: at - BACKDATE,
            not_after: at + AUTHORITY_YEARS * YEAR,
            subject_key: &public,
            issuer_key_identifier: &public.key_identifier(),
            authority: true,
            links: None,
        },
        &key,
    );
    let parsed = Certificate::parse(&certificate).map_err(|e| Error::Corrupt {
        path: "certificate_authorities".into(),
        reason: e.to_string(),
    })?;
    let fingerprint = parsed.fingerprint();
    let PrivateKey::P256(secret) = &key else {
        unreachable!("roots are P-256")
    };
    let secret = Zeroizing::new(<[u8; 32]>::from(secret.to_bytes()));
    let result: Result<(), Error> = async {
        let mut tx = db.begin_write().await?;
        sqlx::query(
            "INSERT INTO certificate_authorities (fingerprint, department_id, subject, certificate, not_before, not_after, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&fingerprint)
        .bind(department.id)
        .bind(&name.common_name)
        .bind(&certificate)
        .bind(parsed.not_before)
        .bind(parsed.not_after)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        store
            .insert_sealed(&mut tx, &secret_name(&fingerprint), department.id, secret.as_slice())
            .await?;
        audit::record(
            &mut tx,
            Event {
                department_id: Some(department.id),
                actor,
                action: "signing.authority_created",
                subject: format!("department:{}", department.id),
                details: serde_json::json!({ "fingerprint": fingerprint, "subject": name.common_name }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        // Another process may have created the root at the same moment: use that one.
        if let Some(info) = current(db, department.id).await? {
            return Ok((info, false));
        }
        return Err(e);
    }
    let info = by_fingerprint(db, &fingerprint).await?.ok_or(Error::UnknownKey(fingerprint))?;
    Ok((info, true))
}

/// The department as certificates name it: with its regency, so that two regencies'
/// departments of the same name are told apart ("Dinas Tenaga Kerja Kabupaten Penajam
/// Paser Utara").
pub fn organization(department: &Department) -> String {
    let regency = department.regency_name.trim();
    if regency.is_empty() || department.name.contains(regency) {
        department.name.clone()
    } else {
        format!("{} {regency}", department.name)
    }
}

/// The public address of an authority's CRL (written into every certificate it issues).
pub fn crl_address(base_url: &str, fingerprint: &str) -> String {
    format!("{}/ca/{fingerprint}.crl", base_url.trim_end_matches('/'))
}

/// The public address of an authority's certificate (DER).
pub fn certificate_address(base_url: &str, fingerprint: &str) -> String {
    format!("{}/ca/{fingerprint}.crt", base_url.trim_end_matches('/'))
}

/// Certificates issued with the CRL distribution point and AIA.
const PROFILE_WITH_LINKS: i64 = 2;

pub(super) async fn open(store: &KeyStore, info: &AuthorityInfo) -> Result<Authority, Error> {
    let name = secret_name(&info.fingerprint);
    let secret = store.open_sealed(&name).await?.ok_or_else(|| Error::SecretMissing(name.clone()))?;
    let corrupt = |reason: &str| Error::Corrupt {
        path: format!("key_secrets/{name}"),
        reason: reason.into(),
    };
    let key = PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(secret.as_slice()).map_err(|_| corrupt("bukan kunci P-256"))?);
    let certificate = Certificate::parse(&info.certificate).map_err(|e| corrupt(&e.to_string()))?;
    if certificate.public_key != key.public() {
        return Err(corrupt("kunci tidak cocok dengan sertifikat otoritas"));
    }
    Ok(Authority { info: info.clone(), key })
}

#[derive(FromRow)]
struct IssuedRow {
    fingerprint: String,
    certificate: Vec<u8>,
}

/// The signer for an official's PDF signature: their key under the department's
/// algorithm, with a certificate from the department's root (issued now, with its audit
/// record in one transaction, when the official has no current one for this key,
/// algorithm, root and name: a renamed official, or one given another position, signs
/// under a new certificate that says who they are now, while the old one stays valid
/// for what it signed; only then is the root's key file read).
#[allow(clippy::too_many_arguments)]
pub async fn signer(
    db: &Db,
    store: &KeyStore,
    base_url: &str,
    authority: &AuthorityInfo,
    department: &Department,
    official: &Official,
    key: &Unlocked,
    algorithm: Algorithm,
) -> Result<(LocalSigner, String), Error> {
    let private = official_key(&key.signing, algorithm);
    let public = private.public();
    let at = now();
    let position_title = match official.position_id {
        Some(id) => crate::departments::get_position(db, department.id, id).await.ok().map(|p| p.title),
        None => None,
    };
    let nip = official.nip.chars().filter(char::is_ascii_digit).collect::<String>();
    let subject = Name {
        common_name: official.full_name(),
        organization: organization(department),
        title: position_title,
        serial_number: (!nip.is_empty()).then_some(nip),
    }
    .to_der();
    // Every current certificate of this key (a handful: one per name it was issued in).
    let existing: Vec<IssuedRow> = sqlx::query_as::<Any, IssuedRow>(
        "SELECT fingerprint, certificate FROM official_certificates \
         WHERE key_id = $1 AND algorithm = $2 AND authority = $3 AND not_before <= $4 AND not_after > $4 \
         AND profile = $5 AND revoked_at IS NULL ORDER BY not_after DESC, created_at DESC",
    )
    .bind(&key.info.key_id)
    .bind(algorithm.code())
    .bind(&authority.fingerprint)
    .bind(at)
    .bind(PROFILE_WITH_LINKS)
    .fetch_all(&db.pool)
    .await?;
    let chain = vec![authority.certificate.clone()];
    let current = |c: Certificate| c.public_key == public && c.subject == subject.as_slice();
    if let Some(row) = existing
        .into_iter()
        .find(|row| Certificate::parse(&row.certificate).is_ok_and(current))
    {
        return Ok((
            LocalSigner {
                key: private,
                certificate: row.certificate,
                chain,
            },
            row.fingerprint,
        ));
    }
    let authority = open(store, authority).await?;
    let root = Certificate::parse(&authority.info.certificate).map_err(|e| Error::Corrupt {
        path: "certificate_authorities".into(),
        reason: e.to_string(),
    })?;
    let certificate = x509::issue(
        &Template {
            serial: x509::random_serial(),
            issuer: root.subject,
            subject: &subject,
            not_before: at - BACKDATE,
            not_after: (at + CERTIFICATE_YEARS * YEAR).min(root.not_after),
            subject_key: &public,
            issuer_key_identifier: &root.public_key.key_identifier(),
            authority: false,
            links: Some(x509::Links {
                crl: &crl_address(base_url, &authority.info.fingerprint),
                ca_issuers: &certificate_address(base_url, &authority.info.fingerprint),
            }),
        },
        &authority.key,
    );
    let parsed = Certificate::parse(&certificate).map_err(|e| Error::Corrupt {
        path: "official_certificates".into(),
        reason: e.to_string(),
    })?;
    let fingerprint = parsed.fingerprint();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO official_certificates (fingerprint, key_id, algorithm, authority, certificate, not_before, not_after, created_at, profile) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&fingerprint)
    .bind(&key.info.key_id)
    .bind(algorithm.code())
    .bind(&authority.info.fingerprint)
    .bind(&certificate)
    .bind(parsed.not_before)
    .bind(parsed.not_after)
    .bind(at)
    .bind(PROFILE_WITH_LINKS)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor: &Actor::System("otoritas sertifikat"),
            action: "signing.certificate_issued",
            subject: format!("official:{}", official.id),
            details: serde_json::json!({
                "fingerprint": fingerprint,
                "key_id": key.info.key_id,
                "algorithm": algorithm.code(),
                "authority": authority.info.fingerprint,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((
        LocalSigner {
            key: private,
            certificate,
            chain,
        },
        fingerprint,
    ))
}

/// The department's signature algorithm setting.
pub async fn algorithm(db: &Db, department_id: i64) -> Result<Algorithm, Error> {
    let (code,): (String,) = sqlx::query_as::<Any, (String,)>("SELECT signature_algorithm FROM departments WHERE id = $1")
        .bind(department_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(Algorithm::parse(&code).unwrap_or(Algorithm::P256))
}

/// Changes the department's signature algorithm; later signatures use it.
pub async fn set_algorithm(db: &Db, actor: &Actor, department_id: i64, algorithm: Algorithm) -> Result<(), Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE departments SET signature_algorithm = $1 WHERE id = $2")
        .bind(algorithm.code())
        .bind(department_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "signing.algorithm_changed",
            subject: format!("department:{department_id}"),
            details: serde_json::json!({ "algorithm": algorithm.code() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
