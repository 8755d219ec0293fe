//! The public copy of a signed document with personal data (the SK): the signed
//! revision rendered again with NIKs masked and "SALINAN UNTUK UMUM" on every page,
//! sealed with the department's own signature, made once and stored with its hash. The
//! signed PDF itself (full NIKs) goes only to BPJS and finance; the copy is what anyone
//! may download, and the verification page recognises it when it is uploaded.

use serde_json::Value;
use sqlx::{Any, FromRow};

use super::{Error, Letter, Workflow, revision};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    keys::{authority, seal},
    letters,
    signing::pades,
};

/// A stored public copy.
#[derive(Debug, Clone, FromRow)]
pub struct PublicCopy {
    pub letter_id: i64,
    pub pdf: Vec<u8>,
    pub sha256: String,
    /// Fingerprint of the seal certificate that signed it.
    pub seal_certificate: String,
    pub created_at: i64,
}

/// The stored public copy of a letter, if one was made.
pub async fn stored(db: &Db, letter_id: i64) -> Result<Option<PublicCopy>, Error> {
    Ok(sqlx::query_as::<Any, PublicCopy>(
        "SELECT letter_id, pdf, sha256, seal_certificate, created_at FROM public_copies WHERE letter_id = $1",
    )
    .bind(letter_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// The hash of the stored public copy, without reading the file.
pub async fn stored_sha256(db: &Db, letter_id: i64) -> Result<Option<String>, Error> {
    Ok(
        sqlx::query_scalar::<Any, String>("SELECT sha256 FROM public_copies WHERE letter_id = $1")
            .bind(letter_id)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// Whether letters of a template can be copied for the public with NIKs masked.
pub fn masks_nik(catalogue: &letters::Catalogue, template_id: &str) -> bool {
    catalogue
        .get(template_id)
        .is_ok_and(|manifest| manifest.field("tampilan_nik").is_some())
}

impl Workflow {
    /// Whether the letter's template can mask NIKs, so a public copy can be made.
    pub fn has_public_form(&self, letter: &Letter) -> bool {
        masks_nik(&self.catalogue, &letter.template_id)
    }

    /// The public copy of a signed letter whose template can mask NIKs: the stored one,
    /// or, the first time, made, sealed and stored (two requests racing keep the first
    /// stored copy, so every reader gets the same bytes). `None` for other letters.
    pub async fn public_copy(&self, letter: &Letter) -> Result<Option<PublicCopy>, Error> {
        if let Some(copy) = stored(&self.db, letter.id).await? {
            return Ok(Some(copy));
        }
        if !self.has_public_form(letter) {
            return Ok(None);
        }
        let Some(pdf) = self.render_public_copy(letter).await? else {
            return Ok(None);
        };
        let department = self.department(letter.department_id).await?;
        let system = Actor::System("segel dinas");
        let (root, _) = authority::ensure(&self.db, &self.keys, &system, &department).await?;
        let (sealer, seal_fingerprint) = seal::signer(&self.db, &self.keys, &self.base_url, &root, &department).await?;
        let number = letter.number.as_deref().unwrap_or_default();
        let name = seal::seal_name(&department);
        let sealed_at = chrono::DateTime::from_timestamp(now(), 0)
            .unwrap_or_default()
            .with_timezone(&department.tz().offset());
        let reason = format!("{} (NIK disamarkan) dari naskah nomor {number}", seal::PUBLIC_COPY_REASON);
        let sealed = pades::sign(
            &pdf,
            &sealer,
            &pades::Details {
                name: &name,
                reason: &reason,
                location: &department.city,
                signed_at: sealed_at,
            },
        )?;
        let sha = super::sha256_hex(&sealed);
        let mut tx = self.db.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO public_copies (letter_id, department_id, pdf, sha256, seal_certificate, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (letter_id) DO NOTHING",
        )
        .bind(letter.id)
        .bind(letter.department_id)
        .bind(&sealed)
        .bind(&sha)
        .bind(&seal_fingerprint)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            audit::record(
                &mut tx,
                Event {
                    department_id: Some(letter.department_id),
                    actor: &system,
                    action: "letter.public_copy_made",
                    subject: format!("letter:{}", letter.id),
                    details: serde_json::json!({ "sha256": sha, "seal": seal_fingerprint }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        stored(&self.db, letter.id).await
    }

    /// The signed revision rendered again with `tampilan_nik` = "Disamarkan" and the
    /// final number, date, QR code and signature block, marked as the public copy on
    /// every page. Its QR code leads to the letter's record.
    async fn render_public_copy(&self, letter: &Letter) -> Result<Option<Vec<u8>>, Error> {
        let manifest = self.catalogue.get(&letter.template_id)?.clone();
        let Some(slots) = self.final_slots(letter).await? else {
            return Ok(None);
        };
        let revision = revision(&self.db, letter.id, letter.revision).await?;
        let mut fields = revision.fields();
        if let Some(object) = fields.as_object_mut() {
            object.insert("tampilan_nik".into(), Value::String("Disamarkan".into()));
        }
        let department = self.department(letter.department_id).await?;
        let logo = crate::departments::logo(&self.db, department.id).await?;
        let mut job = letters::job(
            &manifest,
            &department.letterhead(),
            logo,
            &fields,
            &slots,
            letter.verification_id.clone(),
        );
        // Marked on every page, so that the copy is never taken for the signed original.
        job.data["slot"]["salinan_umum"] = Value::Bool(true);
        Ok(Some(letters::parts::render_pdf(&self.renderer, job).await?.pdf))
    }
}
