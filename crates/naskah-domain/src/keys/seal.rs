//! The department's electronic seal: the signature on what the department publishes in
//! its own name rather than an official's (the public copy of a decree). Its key is
//! derived from the root's key, so nothing new is kept secret; its certificate is
//! issued by the department's root, with the same CRL and AIA links as an official's,
//! and kept in `department_seals`.

use sqlx::{Any, FromRow};

use super::{
    Error, KeyStore,
    authority::{self, AuthorityInfo, certificate_address, crl_address, organization},
};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    departments::Department,
    signing::{
        LocalSigner,
        x509::{self, Certificate, Name, PrivateKey, Template},
    },
};

/// A seal certificate is valid for five years, or until the root expires.
const SEAL_YEARS: i64 = 5;
const YEAR: i64 = 365 * 24 * 3600;
const BACKDATE: i64 = 600;

/// How the signed reason of a sealed public copy begins ("… dari naskah nomor X"):
/// readers tell the copy from the original by it.
pub const PUBLIC_COPY_REASON: &str = "Salinan untuk umum";

/// The common name of a department's seal certificate: it tells a reader at once that
/// the signature is the department's, not a person's.
pub fn seal_name(department: &Department) -> String {
    format!("Segel Elektronik {}", organization(department))
}

/// The seal's P-256 key, derived from the root's secret under its own label.
fn seal_key(root: &PrivateKey) -> PrivateKey {
    let PrivateKey::P256(root) = root else {
        unreachable!("roots are P-256")
    };
    crate::signing::derived_p256(b"naskah/seal/p256/v1", zeroize::Zeroizing::new(root.to_bytes()).as_slice())
}

#[derive(FromRow)]
struct SealRow {
    fingerprint: String,
    certificate: Vec<u8>,
}

/// The signer for the department's seal under its current root: the derived key and a
/// current certificate (issued now, with its audit record, when there is none).
pub async fn signer(
    db: &Db,
    store: &KeyStore,
    base_url: &str,
    root: &AuthorityInfo,
    department: &Department,
) -> Result<(LocalSigner, String), Error> {
    let opened = authority::open(store, root).await?;
    let key = seal_key(&opened.key);
    let public = key.public();
    let chain = vec![root.certificate.clone()];
    let at = now();
    let existing: Option<SealRow> = sqlx::query_as::<Any, SealRow>(
        "SELECT fingerprint, certificate FROM department_seals \
         WHERE authority = $1 AND not_before <= $2 AND not_after > $2 ORDER BY not_after DESC LIMIT 1",
    )
    .bind(&root.fingerprint)
    .bind(at)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(row) = existing.filter(|row| Certificate::parse(&row.certificate).is_ok_and(|c| c.public_key == public)) {
        let signer = LocalSigner {
            key,
            certificate: row.certificate,
            chain,
        };
        return Ok((signer, row.fingerprint));
    }
    let corrupt = |reason: String| Error::Corrupt {
        path: "department_seals".into(),
        reason,
    };
    let issuer = Certificate::parse(&root.certificate).map_err(|e| corrupt(e.to_string()))?;
    let subject = Name {
        common_name: seal_name(department),
        organization: organization(department),
        title: None,
        serial_number: None,
    }
    .to_der();
    let certificate = x509::issue(
        &Template {
            serial: x509::random_serial(),
            issuer: issuer.subject,
            subject: &subject,
            not_before: at - BACKDATE,
            not_after: (at + SEAL_YEARS * YEAR).min(issuer.not_after),
            subject_key: &public,
            issuer_key_identifier: &issuer.public_key.key_identifier(),
            authority: false,
            links: Some(x509::Links {
                crl: &crl_address(base_url, &root.fingerprint),
                ca_issuers: &certificate_address(base_url, &root.fingerprint),
            }),
        },
        &opened.key,
    );
    let parsed = Certificate::parse(&certificate).map_err(|e| corrupt(e.to_string()))?;
    let fingerprint = parsed.fingerprint();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO department_seals (fingerprint, department_id, authority, certificate, not_before, not_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&fingerprint)
    .bind(department.id)
    .bind(&root.fingerprint)
    .bind(&certificate)
    .bind(parsed.not_before)
    .bind(parsed.not_after)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor: &Actor::System("otoritas sertifikat"),
            action: "signing.seal_issued",
            subject: format!("department:{}", department.id),
            details: serde_json::json!({ "fingerprint": fingerprint, "authority": root.fingerprint }),
        },
    )
    .await?;
    tx.commit().await?;
    let signer = LocalSigner { key, certificate, chain };
    Ok((signer, fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seal_key_is_derived_from_the_root_and_differs_from_it() {
        let root = PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap());
        let other = PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[8; 32]).unwrap());
        assert_eq!(seal_key(&root).public(), seal_key(&root).public(), "stable: nothing to store");
        assert_ne!(seal_key(&root).public(), root.public());
        assert_ne!(seal_key(&root).public(), seal_key(&other).public());
    }
}
