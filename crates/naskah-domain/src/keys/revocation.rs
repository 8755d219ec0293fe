//! The CRLs the department's authority publishes at `/ca/{fingerprint}.crl`: issued
//! when there is none, when a certificate was revoked since the last one (an official's
//! key retired or replaced), and before the last one expires. The running service
//! refreshes them; `naskah tanda-tangan crl` does it from the command line.

use sqlx::{Any, FromRow};

use super::{
    Error, KeyStore,
    authority::{self, AuthorityInfo},
};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    signing::{
        crl::{self, Crl, Revoked},
        x509::Certificate,
    },
};

/// A CRL is valid for a week and issued again when fewer than three days are left, so
/// a validator that fetched it always has one that is current for days.
const VALIDITY: i64 = 7 * 24 * 3600;
const RENEW_BEFORE: i64 = 3 * 24 * 3600;

#[derive(Debug, Clone, FromRow)]
pub struct StoredCrl {
    pub authority: String,
    pub number: i64,
    pub crl: Vec<u8>,
    pub this_update: i64,
    pub next_update: i64,
}

/// The newest CRL of an authority.
pub async fn latest(db: &Db, authority: &str) -> Result<Option<StoredCrl>, Error> {
    Ok(sqlx::query_as::<Any, StoredCrl>(
        "SELECT authority, number, crl, this_update, next_update FROM certificate_revocation_lists \
         WHERE authority = $1 ORDER BY number DESC LIMIT 1",
    )
    .bind(authority)
    .fetch_optional(&db.pool)
    .await?)
}

#[derive(FromRow)]
struct RevokedRow {
    certificate: Vec<u8>,
    revoked_at: i64,
}

async fn revoked(db: &Db, authority: &str) -> Result<Vec<Revoked>, Error> {
    let rows = sqlx::query_as::<Any, RevokedRow>(
        "SELECT certificate, revoked_at FROM official_certificates WHERE authority = $1 AND revoked_at IS NOT NULL \
         ORDER BY revoked_at, fingerprint",
    )
    .bind(authority)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Certificate::parse(&row.certificate).ok().map(|c| Revoked {
                serial: c.serial.to_vec(),
                at: row.revoked_at,
                reason: crl::REASON_SUPERSEDED,
            })
        })
        .collect())
}

/// Whether the authority needs a new CRL at `at`: none yet, the last one near its end,
/// or revocations it does not list.
async fn due(db: &Db, info: &AuthorityInfo, at: i64) -> Result<bool, Error> {
    let Some(last) = latest(db, &info.fingerprint).await? else {
        return Ok(true);
    };
    if last.next_update - at < RENEW_BEFORE {
        return Ok(true);
    }
    let listed = Crl::parse(&last.crl).map(|c| c.revoked.len()).unwrap_or(usize::MAX);
    Ok(listed != revoked(db, &info.fingerprint).await?.len())
}

/// Issues the authority's next CRL now (its private key is read from the key store) and
/// records it with an audit entry.
pub async fn issue(db: &Db, store: &KeyStore, info: &AuthorityInfo) -> Result<StoredCrl, Error> {
    let opened = authority::open(store, info).await?;
    let root = Certificate::parse(&info.certificate).map_err(|e| Error::Corrupt {
        path: "certificate_authorities".into(),
        reason: e.to_string(),
    })?;
    let entries = revoked(db, &info.fingerprint).await?;
    let at = now();
    let number = latest(db, &info.fingerprint).await?.map_or(1, |c| c.number + 1);
    // Not backdated: a CRL embedded for a signature must be dated after its timestamp.
    let this_update = at;
    let next_update = (at + VALIDITY).min(info.not_after);
    let der = crl::issue(
        &crl::Contents {
            issuer: root.subject,
            issuer_key_identifier: &root.public_key.key_identifier(),
            number: number as u64,
            this_update,
            next_update,
            revoked: &entries,
        },
        &opened.key,
    );
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO certificate_revocation_lists (authority, number, crl, this_update, next_update) VALUES ($1, $2, $3, $4, $5)")
        .bind(&info.fingerprint)
        .bind(number)
        .bind(&der)
        .bind(this_update)
        .bind(next_update)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(info.department_id),
            actor: &Actor::System("otoritas sertifikat"),
            action: "signing.crl_issued",
            subject: format!("department:{}", info.department_id),
            details: serde_json::json!({
                "authority": info.fingerprint,
                "number": number,
                "revoked": entries.len(),
                "next_update": next_update,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(StoredCrl {
        authority: info.fingerprint.clone(),
        number,
        crl: der,
        this_update,
        next_update,
    })
}

/// The authority's CRL, issued first when it is due.
pub async fn current(db: &Db, store: &KeyStore, info: &AuthorityInfo) -> Result<StoredCrl, Error> {
    current_after(db, store, info, i64::MIN).await
}

/// The authority's CRL issued at or after `after` (a signature's timestamp: validators
/// want revocation data from after the time it proves), issued now when the last one is
/// older or due.
pub async fn current_after(db: &Db, store: &KeyStore, info: &AuthorityInfo, after: i64) -> Result<StoredCrl, Error> {
    let stale = match latest(db, &info.fingerprint).await? {
        Some(last) => last.this_update < after,
        None => true,
    };
    if stale || due(db, info, now()).await? {
        match issue(db, store, info).await {
            Ok(issued) => return Ok(issued),
            // Another process issued the same number at the same moment: use its CRL.
            Err(Error::Db(e)) if e.is_unique_violation() => {}
            Err(e) => return Err(e),
        }
    }
    latest(db, &info.fingerprint)
        .await?
        .ok_or_else(|| Error::UnknownKey(info.fingerprint.clone()))
}

/// Issues a CRL for every unexpired authority that needs one; returns how many.
pub async fn refresh(db: &Db, store: &KeyStore) -> Result<usize, Error> {
    let at = now();
    let mut issued = 0;
    for info in authority::published(db).await? {
        if info.not_after <= at || !due(db, &info, at).await? {
            continue;
        }
        issue(db, store, &info).await?;
        issued += 1;
    }
    Ok(issued)
}

/// Runs [`refresh`] every `every` until `stop` fires.
pub async fn run(db: Db, store: KeyStore, every: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        match refresh(&db, &store).await {
            Ok(0) => {}
            Ok(issued) => tracing::info!(issued, "CRL otoritas sertifikat diterbitkan"),
            Err(e) => tracing::warn!(error = %e, "CRL otoritas sertifikat gagal diterbitkan"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
