//! What anyone who scans a letter's QR code may learn about it: the public record behind
//! `/v/{id}`, with personal data masked, and the comparison of an uploaded PDF with the
//! official one.

mod cache;
pub mod offline;
pub mod verdict;

pub use cache::{RecordCache, follow_changes};

pub use verdict::{UploadCheck, Verdict, compare_upload};

use std::sync::Arc;

use serde::Serialize;
use sqlx::Any;

use crate::{
    db::{Db, DbError},
    departments,
    letters::Catalogue,
    workflow::{self, StepKind, step_state},
};

/// The public record of a signed letter.
#[derive(Debug, Clone, Serialize)]
pub struct PublicRecord {
    /// `SAH`, `DICABUT` or `DIGANTI`.
    pub status: &'static str,
    pub department: String,
    pub number: String,
    /// "22 November 2026".
    pub date: String,
    pub subject: String,
    pub signer_name: String,
    /// "Plh. Kepala Dinas …", "a.n. Kepala Dinas …, Sekretaris …".
    pub signer_position: String,
    /// Positions that initialled it, in order, with the date.
    pub paraf: Vec<Paraf>,
    pub sha256: String,
    /// The official PDF carries personal data: staff only may download it.
    pub personal_data: bool,
    pub revoked_reason: String,
    pub revoked_date: String,
    /// The verification id of the correction that supersedes it.
    pub superseded_by: Option<String>,
    /// The date as YYYY-MM-DD and the verification id, as the QR token names them.
    pub date_iso: String,
    pub verification_id: String,
    /// The subject as signed (the QR token binds it), for checking tokens only.
    #[serde(skip)]
    pub signed_subject: String,
    #[serde(skip)]
    pub letter_id: i64,
    #[serde(skip)]
    pub department_id: i64,
    /// The QR token as issued with the letter: a scanned token equal to it is genuine
    /// without opening it.
    #[serde(skip)]
    pub issued_token: Option<String>,
    /// Its template can mask NIKs, so the public may have a copy (the SK).
    #[serde(skip)]
    pub public_form: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Paraf {
    pub position: String,
    pub date: String,
}

/// What the public record needs of the letter row.
struct Row {
    id: i64,
    department_id: i64,
    template_id: String,
    round: i64,
    revoked_at: Option<i64>,
    revoked_reason: String,
    superseded_by: Option<i64>,
}

/// A verification id is 32 lowercase hex digits (128 random bits).
pub fn well_formed(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether a text holds a run of exactly 16 digits: what a NIK looks like, whether or not
/// its region and date check out (a mistyped NIK is still someone's).
pub fn holds_nik(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() == 16)
}

/// Masks every run of 16 or more digits (a NIK, a NIP) to its first four and last four
/// digits: `6409********0001` (DOMAIN.md §9).
pub fn mask_nik(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() >= 16 {
                out.extend(&run[..4]);
                out.extend(std::iter::repeat_n('*', run.len() - 8));
                out.extend(&run[run.len() - 4..]);
            } else {
                out.extend(run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The public record for a verification id, or `None` for an unknown, malformed or
/// unsigned one. A known id's record comes from `cache` while the letter has not changed
/// since it was built: checked by one narrow look-up on the unique verification index
/// (the same for an unknown id), or not at all while the cache hears every change
/// ([`follow_changes`]). Built, it takes four more queries.
pub async fn lookup(
    db: &Db,
    catalogue: &Catalogue,
    cache: Option<&RecordCache>,
    verification_id: &str,
) -> Result<Option<Arc<PublicRecord>>, DbError> {
    let id = if well_formed(verification_id) { verification_id } else { "" };
    let failed = |e: workflow::Error| match e {
        workflow::Error::Db(e) => e,
        other => DbError::Sqlx(sqlx::Error::Protocol(other.to_string())),
    };
    // Read before the letter: a change heard after this point keeps the record built
    // below out of the cache.
    let generation = cache.map(RecordCache::generation);
    if let Some(record) = cache.and_then(|c| c.get_heard(id)) {
        return Ok(Some(record));
    }
    if cache.is_some_and(|c| !c.hears_changes()) {
        let Some(stamp) = workflow::signed_stamp(db, id).await.map_err(failed)? else {
            return Ok(None);
        };
        if let Some(record) = cache.and_then(|c| c.get_checked(id, &stamp)) {
            return Ok(Some(record));
        }
    }
    let Some(letter) = workflow::get_by_verification_id(db, id).await.map_err(failed)? else {
        return Ok(None);
    };
    if letter.state != workflow::state::DITANDATANGANI || letter.number.is_none() {
        return Ok(None);
    }
    let stamp = (letter.version, letter.revoked_at, letter.superseded_by, letter.final_sha256.clone());
    let row = Row {
        id: letter.id,
        department_id: letter.department_id,
        template_id: letter.template_id.clone(),
        round: letter.round,
        revoked_at: letter.revoked_at,
        revoked_reason: letter.revoked_reason.clone(),
        superseded_by: letter.superseded_by,
    };
    let department = departments::get(db, row.department_id)
        .await
        .map_err(|e| DbError::Sqlx(sqlx::Error::Protocol(e.to_string())))?;
    let tz = department.tz();
    let steps = workflow::steps(db, letter.id).await.map_err(failed)?;
    let signer = workflow::signer_of(db, &department, &letter, &steps).await.map_err(failed)?;
    let signer_position = signer
        .as_ref()
        .map(|s| {
            let own = match &s.sebutan {
                Some(sebutan) => format!("{sebutan} {}", s.jabatan),
                None => s.jabatan.clone(),
            };
            match &s.atas_nama {
                Some(an) => format!("a.n. {an}, {own}"),
                None => own,
            }
        })
        .unwrap_or_default();
    let paraf = steps
        .into_iter()
        .filter(|s| {
            s.round == row.round && matches!(s.step_kind(), StepKind::Paraf | StepKind::ParafKoordinasi) && s.state == step_state::SELESAI
        })
        .map(|s| Paraf {
            position: if s.acting_as.is_empty() {
                s.position_title.clone()
            } else {
                format!("{} {}", s.acting_as, s.position_title)
            },
            date: s.completed_at.map(|t| crate::text::date_long(tz.date_of(t))).unwrap_or_default(),
        })
        .collect();
    let superseded_by = match row.superseded_by {
        Some(newer) => sqlx::query_as::<Any, (Option<String>,)>("SELECT verification_id FROM letters WHERE id = $1")
            .bind(newer)
            .fetch_optional(&db.pool)
            .await?
            .and_then(|(v,)| v),
        None => None,
    };
    let status = if row.revoked_at.is_some() {
        "DICABUT"
    } else if superseded_by.is_some() {
        "DIGANTI"
    } else {
        "SAH"
    };
    // A template flagged for personal data, or a letter whose fields hold a NIK whatever
    // its template (a subject citing one, a table of people): its PDF stays with staff.
    let fields = workflow::revision_data(db, letter.id, letter.revision).await.map_err(failed)?;
    let personal_data = catalogue.get(&row.template_id).is_ok_and(|m| m.personal_data) || holds_nik(&fields.to_string());
    let record = PublicRecord {
        status,
        department: format!("{} {}", department.name, department.regency_name),
        number: letter.number.clone().unwrap_or_default(),
        date: letter.letter_date.as_deref().map(crate::text::date_long_iso).unwrap_or_default(),
        subject: mask_nik(&letter.subject),
        signer_name: signer.as_ref().map(|s| s.nama.clone()).unwrap_or_default(),
        signer_position,
        paraf,
        sha256: letter.final_sha256.clone().unwrap_or_default(),
        personal_data,
        revoked_reason: mask_nik(&row.revoked_reason),
        revoked_date: row.revoked_at.map(|t| crate::text::date_long(tz.date_of(t))).unwrap_or_default(),
        superseded_by,
        date_iso: letter.letter_date.clone().unwrap_or_default(),
        verification_id: letter.verification_id.clone().unwrap_or_default(),
        signed_subject: letter.subject.clone(),
        letter_id: row.id,
        department_id: row.department_id,
        issued_token: letter.qr_token.clone(),
        public_form: workflow::public_copy::masks_nik(catalogue, &row.template_id),
    };
    let record = Arc::new(record);
    if let (Some(cache), Some(generation)) = (cache, generation) {
        cache.put(id, stamp, generation, &record);
    }
    Ok(Some(record))
}

/// What `/.well-known/naskah-keys.json` publishes: every department's QR-token keys and
/// root certificates, current and retired, so that letters can be checked offline.
pub async fn published_keys(db: &Db) -> Result<serde_json::Value, crate::keys::Error> {
    let departments = departments::list(db).await.unwrap_or_default();
    let name_of = |id: i64| {
        departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| format!("{} {}", d.name, d.regency_name))
            .unwrap_or_default()
    };
    let keys: Vec<serde_json::Value> = crate::keys::department::published(db)
        .await?
        .into_iter()
        .map(|k| {
            serde_json::json!({
                "key_id": k.key_id,
                "algorithm": "Ed25519",
                "public_key": k.public_key,
                "department": name_of(k.department_id),
                "created_at": k.created_at,
                "retired_at": k.retired_at,
            })
        })
        .collect();
    let authorities: Vec<serde_json::Value> = crate::keys::authority::published(db)
        .await?
        .into_iter()
        .map(|a| {
            serde_json::json!({
                "fingerprint": a.fingerprint,
                "department": name_of(a.department_id),
                "subject": a.subject,
                "not_before": a.not_before,
                "not_after": a.not_after,
                "retired_at": a.retired_at,
                "certificate_pem": a.pem(),
            })
        })
        .collect();
    Ok(serde_json::json!({ "keys": keys, "authorities": authorities }))
}

/// The root certificates (DER) in a published keys document.
pub fn authorities_from_json(json: &serde_json::Value) -> Vec<Vec<u8>> {
    use base64::Engine;
    json["authorities"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|a| {
                    let body: String = a["certificate_pem"].as_str()?.lines().filter(|l| !l.starts_with("-----")).collect();
                    base64::engine::general_purpose::STANDARD.decode(body.trim()).ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn niks_are_masked_and_other_numbers_kept() {
        assert_eq!(mask_nik("NIK 6409015203900001 a.n. Siti"), "NIK 6409********0001 a.n. Siti");
        assert_eq!(mask_nik("6409015203900001,6409015203900002"), "6409********0001,6409********0002");
        assert_eq!(mask_nik("500.15.16/0001/Disnaker/2026"), "500.15.16/0001/Disnaker/2026");
        assert_eq!(mask_nik("NIP 197005121998031004"), "NIP 1970**********1004");
        assert_eq!(mask_nik(""), "");
    }

    #[test]
    fn a_nik_anywhere_in_the_fields_is_found() {
        assert!(holds_nik(r#"{"hal":"rujukan NIK 6409015203900001"}"#));
        assert!(holds_nik(r#"{"rows":[{"nik":"1234567890123456"}]}"#));
        assert!(!holds_nik(
            r#"{"hal":"Nomor 500.15.16/0001/Disnaker/2026, NIP 197005121998031004"}"#
        ));
        assert!(!holds_nik("640901520390000"));
    }

    #[test]
    fn only_32_hex_digits_are_ids() {
        assert!(well_formed(&"ab".repeat(16)));
        assert!(!well_formed(&"AB".repeat(16)));
        assert!(!well_formed("abc"));
        assert!(!well_formed(&format!("{}'", "a".repeat(31))));
    }
}
