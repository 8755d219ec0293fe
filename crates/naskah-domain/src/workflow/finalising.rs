//! The final document: number, date, QR code and signature stamped in the signing
//! transaction, and the slots a signed letter is rendered with.

use super::*;

/// What the final document of a letter needs, read before the signing transaction.
pub struct FinalInputs {
    /// The department's key that signs the QR token.
    pub(super) department_key: (keys::department::DepartmentKey, ed25519_dalek::SigningKey),
    pub(super) manifest: Manifest,
    pub(super) logo: Option<(Vec<u8>, String)>,
    pub(super) settings: numbering::Settings,
    /// The {unit} of the number: the drafter's unit when each unit numbers on its own.
    pub(super) unit: String,
    /// The signer of the embedded PDF signature (key and certificate) and the
    /// certificate's fingerprint; none when a remote backend signs the PDF.
    pub(super) pdf_signer: Option<(crate::signing::LocalSigner, String)>,
    /// The PAdES level the signed PDF is raised to after the transaction.
    pub(super) level: crate::signing::ltv::Level,
}

impl FinalInputs {
    /// The unit part of the series' key: empty unless each unit numbers on its own.
    pub(super) fn series_unit(&self) -> &str {
        if self.settings.number_per_unit != 0 { &self.unit } else { "" }
    }
}

/// The line at the foot of every page of a signed document (DOMAIN.md §6).
pub fn electronic_signature_footer(verification_url: &str) -> String {
    format!(
        "Dokumen ini ditandatangani secara elektronik dan dapat diperiksa dengan memindai kode QR atau di {verification_url}. \
         Sesuai Pasal 5 ayat (1) UU Nomor 11 Tahun 2008 tentang Informasi dan Transaksi Elektronik, dokumen elektronik \
         dan hasil cetaknya merupakan alat bukti hukum yang sah."
    )
}

/// The printed size of one QR module. A photocopy or a 100 dpi scan keeps a module of
/// this size at about 2.8 pixels, which decoders read reliably; the version 7 or 8
/// symbol of a compact token is then 3.4–3.7 cm wide with its quiet zone.
pub const QR_MODULE_MM: f64 = 0.7;

/// A QR code as SVG, sized in millimetres (the template places it at its own size):
/// error correction M (15 % of the symbol may be lost to a fold, a stain or a staple),
/// the four-module quiet zone included, one path of square modules.
pub fn qr_svg(text: &str) -> Result<String, Error> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Error::Internal(format!("kode QR: {e}")))?;
    Ok(qr_svg_of(&code, QR_MODULE_MM))
}

pub(super) fn qr_svg_of(code: &qrcode::QrCode, module_mm: f64) -> String {
    use std::fmt::Write as _;
    const QUIET: usize = 4;
    let width = code.width();
    let side = width + 2 * QUIET;
    let mut path = String::with_capacity(width * width * 4);
    for (index, colour) in code.to_colors().iter().enumerate() {
        if *colour == qrcode::Color::Dark {
            let (x, y) = (index % width + QUIET, index / width + QUIET);
            write!(path, "M{x} {y}h1v1h-1z").ok();
        }
    }
    let mm = side as f64 * module_mm;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{mm:.2}mm\" height=\"{mm:.2}mm\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

impl Workflow {
    pub(super) async fn prepare_final(
        &self,
        department: &Department,
        letter: &Letter,
        signer: &departments::Official,
        key: &Unlocked,
    ) -> Result<FinalInputs, Error> {
        let mut inputs = self.prepare_stamp(department, letter).await?;
        let system = Actor::System("penandatanganan");
        let (authority, _) = crate::keys::authority::ensure(&self.db, &self.keys, &system, department).await?;
        let algorithm = crate::keys::authority::algorithm(&self.db, department.id).await?;
        // The certificate is issued (once per key, algorithm and root) outside the
        // signing transaction: it is a credential, not part of the letter, and the
        // transaction stays short.
        inputs.pdf_signer = Some(
            crate::keys::authority::signer(&self.db, &self.keys, &self.base_url, &authority, department, signer, key, algorithm).await?,
        );
        Ok(inputs)
    }

    /// What stamping the final document needs (number settings, template, logo, the
    /// department's QR key), without the PDF signer.
    pub(super) async fn prepare_stamp(&self, department: &Department, letter: &Letter) -> Result<FinalInputs, Error> {
        let manifest = self.catalogue.get(&letter.template_id)?.clone();
        let logo = departments::logo(&self.db, department.id).await?;
        let settings = numbering::settings(&self.db, department.id).await?;
        let unit = if settings.number_per_unit != 0 {
            let unit: Option<(String,)> = sqlx::query_as::<Any, (String,)>(
                "SELECT un.code FROM users u JOIN officials o ON o.id = u.official_id JOIN positions p ON p.id = o.position_id \
                 JOIN units un ON un.id = p.unit_id WHERE u.id = $1",
            )
            .bind(letter.created_by)
            .fetch_optional(&self.db.pool)
            .await?;
            unit.map(|(c,)| c).unwrap_or_else(|| settings.number_unit.clone())
        } else {
            settings.number_unit.clone()
        };
        let system = Actor::System("penandatanganan");
        let department_key = keys::department::ensure(&self.db, &self.keys, &system, department.id).await?;
        let level = longterm::level(&self.db, department.id, self.timestamping)
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(FinalInputs {
            level,
            department_key,
            manifest,
            logo,
            settings,
            unit,
            pdf_signer: None,
        })
    }

    /// Inside the signing transaction: stamps the letter (see [`Workflow::stamp_final`]),
    /// signs the PDF, stores it and writes the register line. Returns the number.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn finalise(
        &self,
        conn: &mut AnyConnection,
        inputs: &FinalInputs,
        department: &Department,
        letter: &Letter,
        rev: &Revision,
        step: &Step,
        capacity: &Capacity,
        at: i64,
    ) -> Result<String, Error> {
        let stamped = self.stamp_final(conn, inputs, department, letter, rev, step, capacity, at).await?;
        let Stamped {
            number,
            letter_date_text,
            verification_id,
            token,
            signer,
            ..
        } = &stamped;
        let (pdf_signer, certificate) = inputs
            .pdf_signer
            .as_ref()
            .ok_or_else(|| Error::Internal("tanpa penanda tangan PDF".into()))?;
        let signed_at = chrono::DateTime::from_timestamp(at, 0)
            .unwrap_or_default()
            .with_timezone(&department.tz().offset());
        let pdf = crate::signing::pades::sign(
            &stamped.pdf,
            pdf_signer,
            &crate::signing::pades::Details {
                name: &signer.nama,
                reason: &format!("Penandatanganan naskah dinas nomor {number}"),
                location: &department.city,
                signed_at,
            },
        )?;
        let sha = sha256_hex(&pdf);
        sqlx::query(
            "UPDATE letters SET number = $1, letter_date = $2, verification_id = $3, final_sha256 = $4, signed_at = $5, qr_token = $6, \
             signature_certificate = $8 WHERE id = $7",
        )
        .bind(number)
        .bind(letter_date_text)
        .bind(verification_id)
        .bind(&sha)
        .bind(at)
        .bind(token)
        .bind(letter.id)
        .bind(certificate)
        .execute(&mut *conn)
        .await?;
        super::store_final_pdf(conn, letter.id, &pdf).await?;
        // Timestamps and validation data come later, from the durable job: no network
        // call while the number series is locked.
        longterm::enqueue(conn, department.id, letter.id, inputs.level, &sha, at).await?;
        // A correction replaces the letter it corrects from the moment it is signed.
        sqlx::query("UPDATE letters SET superseded_by = $1 WHERE id = (SELECT corrects FROM letters WHERE id = $1)")
            .bind(letter.id)
            .execute(&mut *conn)
            .await?;
        register_number(conn, inputs, department, letter, &stamped).await?;
        Ok(stamped.number)
    }

    /// Inside the signing transaction: takes the next serial, formats the number, dates
    /// the letter, makes the QR token and renders the final PDF with number, date, QR
    /// code, signature block and footer (not yet signed).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn stamp_final(
        &self,
        conn: &mut AnyConnection,
        inputs: &FinalInputs,
        department: &Department,
        letter: &Letter,
        rev: &Revision,
        step: &Step,
        capacity: &Capacity,
        at: i64,
    ) -> Result<Stamped, Error> {
        use chrono::Datelike;
        let date = department.tz().date_of(at);
        let serial = numbering::next_serial(conn, department.id, &letter.document_kind, inputs.series_unit(), date.year()).await?;
        let number = numbering::format_number(
            inputs.settings.format_for(&letter.document_kind),
            &numbering::Parts {
                classification_code: &letter.classification_code,
                serial,
                unit: &inputs.unit,
                year: date.year(),
                month: date.month(),
            },
        )
        .map_err(|e| Error::Unresolved(format!("Format nomor dinas tidak sah: {e}")))?;
        let verification_id = hex::encode(rand::random::<[u8; 16]>());
        let signer = signer_for(
            department,
            &step.position_title,
            &step.atas_nama,
            &capacity.acting_as,
            &capacity.official,
        );
        let letter_date_text = date.format("%Y-%m-%d").to_string();
        let (department_key, department_signing) = &inputs.department_key;
        let token = crate::signing::token::make_compact(
            department_signing,
            &department_key.key_id,
            &verification_id,
            date,
            &number,
            &letter.subject,
        )
        .map_err(|e| Error::Internal(format!("token kode QR: {e}")))?;
        let slots = self.signed_slots(&number, date, &verification_id, Some(&token), Some(signer.clone()))?;
        let job = letters::job(
            &inputs.manifest,
            &department.letterhead(),
            inputs.logo.clone(),
            &rev.fields(),
            &slots,
            Some(verification_id.clone()),
        );
        let pdf = letters::parts::render_pdf(&self.renderer, job).await?.pdf;
        Ok(Stamped {
            number,
            serial,
            date,
            letter_date_text,
            verification_id,
            token,
            signer,
            pdf,
        })
    }
}

/// A letter's number, date and QR token, taken in the signing transaction, and its
/// final PDF rendered with them but not yet signed.
pub(super) struct Stamped {
    pub(super) number: String,
    pub(super) serial: i64,
    pub(super) date: NaiveDate,
    pub(super) letter_date_text: String,
    pub(super) verification_id: String,
    pub(super) token: String,
    pub(super) signer: letters::Signer,
    pub(super) pdf: Vec<u8>,
}

/// Writes the register (agenda) line of the number just stamped, inside the signing
/// transaction.
pub(super) async fn register_number(
    conn: &mut AnyConnection,
    inputs: &FinalInputs,
    department: &Department,
    letter: &Letter,
    stamped: &Stamped,
) -> Result<(), Error> {
    use chrono::Datelike;
    let signer = &stamped.signer;
    let number = &stamped.number;
    let signer_line = match &signer.sebutan {
        Some(sebutan) => format!("{} ({sebutan} {})", signer.nama, signer.jabatan),
        None => format!("{} ({})", signer.nama, signer.jabatan),
    };
    numbering::record(
        conn,
        numbering::NewEntry {
            department_id: department.id,
            series: &letter.document_kind,
            unit_code: inputs.series_unit(),
            year: stamped.date.year(),
            serial: stamped.serial,
            number,
            letter_id: letter.id,
            letter_date: &stamped.letter_date_text,
            subject: &letter.subject,
            classification_code: &letter.classification_code,
            signer: &signer_line,
        },
    )
    .await
    .map_err(|e| match e {
        numbering::Error::Db(db) if db.is_unique_violation() => Error::Unresolved(format!(
            "Nomor {number} sudah pernah diberikan; format nomor dinas tidak membedakan nomor ini \
             (periksa Pengaturan dinas → Penomoran: sertakan {{urut}} dan {{tahun}})."
        )),
        other => other.into(),
    })?;
    Ok(())
}

impl Workflow {
    /// The address the QR code of a signed letter points to.
    pub fn verification_url(&self, verification_id: &str) -> String {
        format!("{}/v/{verification_id}", self.base_url.trim_end_matches('/'))
    }

    /// The address in a signed letter's QR code. A compact (version 2) token makes
    /// `ORIGIN/V/DIGITS` with the scheme and host in upper case, so that the whole address
    /// is alphanumeric and numeric in the QR code (hosts and schemes ignore case; a path
    /// in the base address is kept as written). A version 1 token rides in `?t=`.
    pub fn qr_address(&self, verification_id: &str, token: Option<&str>) -> String {
        match token {
            Some(token) if crate::signing::token::is_compact(token) => {
                format!("{}/V/{token}", upper_case_origin(self.base_url.trim_end_matches('/')))
            }
            Some(token) => format!("{}?t={token}", self.verification_url(verification_id)),
            None => self.verification_url(verification_id),
        }
    }

    /// The slots of a signed document: number, date, QR code, signature block, footer.
    pub(super) fn signed_slots(
        &self,
        number: &str,
        date: NaiveDate,
        verification_id: &str,
        token: Option<&str>,
        signer: Option<letters::Signer>,
    ) -> Result<letters::Slots, Error> {
        let qr_address = self.qr_address(verification_id, token);
        Ok(letters::Slots {
            number: Some(number.into()),
            date: Some(date),
            qr_svg: Some(qr_svg(&qr_address)?),
            signer,
            footer: Some(electronic_signature_footer(&self.verification_url(verification_id))),
            verification_url: Some(qr_address),
        })
    }

    /// The slots of a signed letter as its final PDF has them, so a page image can be
    /// rendered again identically.
    pub async fn final_slots(&self, letter: &Letter) -> Result<Option<letters::Slots>, Error> {
        let (Some(number), Some(date), Some(id)) = (&letter.number, &letter.letter_date, &letter.verification_id) else {
            return Ok(None);
        };
        let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
            return Ok(None);
        };
        let signer = signer_block(&self.db, letter).await?;
        Ok(Some(self.signed_slots(number, date, id, letter.qr_token.as_deref(), signer)?))
    }
}

/// `https://naskah.example.go.id/dinas` → `HTTPS://NASKAH.EXAMPLE.GO.ID/dinas`.
pub(super) fn upper_case_origin(base: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_string();
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    format!("{}://{}{path}", scheme.to_ascii_uppercase(), host.to_ascii_uppercase())
}
