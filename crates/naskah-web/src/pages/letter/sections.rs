//! The sections other areas add to a letter's page, kept apart from those areas' own
//! pages so that the letter page and the pages that show it again after a failed form
//! (distribution, BSrE) do not import each other: the letter's delivery log with its
//! SOP deadline, and for a department that signs through BSrE, the remote signature's
//! state and forms.

use crate::{
    AppState,
    auth::SessionUser,
    distribution::deliveries::{self, Delivery},
    error::{Failure, PageError},
    letters::Manifest,
    validation::FieldErrors,
    view::{Choice, Field, Form},
    workflow::{
        self,
        remote::{self, CREDENTIAL_FIELD, settings as signing_settings},
    },
};

/// One delivery as the letter page shows it.
pub struct DeliveryRow {
    pub id: i64,
    pub role: &'static str,
    pub name: String,
    pub channel: String,
    pub channel_label: &'static str,
    pub address: String,
    pub status: String,
    pub status_label: &'static str,
    pub receiver: String,
    pub error: String,
    pub times: String,
}

pub struct LetterLog {
    pub rows: Vec<DeliveryRow>,
    pub summary: String,
    pub late: bool,
}

fn row(user: &SessionUser, d: &Delivery) -> DeliveryRow {
    let tz = user.department.tz();
    let mut times = vec![format!("diantre {}", tz.format_time(d.queued_at))];
    for (label, at) in [
        ("terkirim", d.sent_at),
        ("diterima", d.delivered_at),
        ("dikonfirmasi", d.acknowledged_at),
        ("gagal", d.failed_at),
    ] {
        if let Some(at) = at {
            times.push(format!("{label} {}", tz.format_time(at)));
        }
    }
    let mut error = d.last_error.clone();
    if d.status == "queued" && d.attempts > 0 {
        let next = d.next_attempt_at.map(|at| tz.format_time(at)).unwrap_or_default();
        error = format!("percobaan {} gagal: {}; dicoba lagi {next}", d.attempts, d.last_error);
    }
    DeliveryRow {
        id: d.id,
        role: d.role_label(),
        name: d.name.clone(),
        channel: d.channel.clone(),
        channel_label: d.channel_label(),
        address: d.address.clone(),
        status: d.status.clone(),
        status_label: d.status_label(),
        receiver: d.receiver_name.clone(),
        error,
        times: times.join(" · "),
    }
}

/// The delivery log of a letter and a sentence on where it stands against the SOP.
pub async fn letter_log(
    state: &AppState,
    user: &SessionUser,
    letter: &workflow::Letter,
    manifest: &Manifest,
) -> Result<LetterLog, PageError> {
    let list = deliveries::for_letter(&state.db, user.department.id, letter.id).await?;
    let Some(signed_at) = letter.signed_at else {
        return Ok(LetterLog {
            rows: vec![],
            summary: String::new(),
            late: false,
        });
    };
    let tz = user.department.tz();
    let due = signed_at + manifest.distribution_days * 86_400;
    let out = list.iter().filter(|d| d.is_out()).count();
    let acknowledged = list.iter().filter(|d| d.status == "acknowledged").count();
    let now = crate::db::now();
    let distributed = !list.is_empty() && out == list.len();
    let late = !distributed && now > due && letter.revoked_at.is_none();
    let summary = format!(
        "{out} dari {} penerima sudah dikirimi, {acknowledged} mengonfirmasi. Batas distribusi menurut SOP ({} hari): {}{}.",
        list.len(),
        manifest.distribution_days,
        tz.format_time(due),
        if late {
            " — TERLAMBAT"
        } else if distributed {
            " — sudah terdistribusi"
        } else {
            ""
        }
    );
    Ok(LetterLog {
        rows: list.iter().map(|d| row(user, d)).collect(),
        summary,
        late,
    })
}

/// What the letter page adds for a department that signs through BSrE: the passphrase
/// field (and the "send again" choice after an unknown outcome) for the decision form,
/// a line on the stamped number's state, and the form to check a signed PDF.
pub struct LetterExtras {
    pub decision_fields: Vec<Field>,
    pub status_line: String,
    pub forms: Vec<Form>,
}

pub async fn letter_extras(
    state: &AppState,
    user: &SessionUser,
    letter: &workflow::Letter,
    signer_here: bool,
    errors: &FieldErrors,
) -> Result<LetterExtras, PageError> {
    let mut extras = LetterExtras {
        decision_fields: Vec::new(),
        status_line: String::new(),
        forms: Vec::new(),
    };
    let uses_bsre = signing_settings::load(&state.db, letter.department_id)
        .await
        .map_err(Failure::from)?
        .uses_bsre();
    let pending = remote::status_of(&state.db, letter.id).await.map_err(Failure::from)?;
    if let Some(p) = pending.as_ref().filter(|p| p.status != remote::status::SELESAI) {
        extras.status_line = format!("{} (nomor {}, percobaan {}).", p.label(), p.number, p.attempts);
        if !p.last_error.is_empty() {
            extras.status_line.push_str(&format!(" Terakhir: {}", p.last_error));
        }
    }
    if !signer_here || !(uses_bsre || pending.is_some()) {
        return Ok(extras);
    }
    extras.decision_fields.push(
        Field::password(CREDENTIAL_FIELD, "Passphrase BSrE", "off")
            .help("Passphrase sertifikat elektronik Anda di BSrE; dikirim ke BSrE untuk tanda tangan ini saja, tidak disimpan."),
    );
    if let Some(p) = pending.as_ref().filter(|p| p.outcome_unknown()) {
        extras.decision_fields.push(Field::checkboxes(
            "kirim_ulang",
            "Hasil sebelumnya tidak diketahui",
            vec![Choice::new(
                "ya",
                format!(
                    "Saya sudah memeriksa dan tetap meminta BSrE menandatangani lagi (nomor {} tetap sama).",
                    p.number
                ),
                false,
            )],
        ));
        let mut form = Form::new(
            "Periksa PDF bertanda tangan dari BSrE",
            &format!("/surat/{}/bsre/periksa", letter.id),
            user.csrf(),
            "Periksa dan selesaikan",
            vec![
                Field::file("pdf", "PDF bertanda tangan", "application/pdf")
                    .required()
                    .help("PDF hasil BSrE untuk surat ini (mis. dari portal BSrE); diperiksa dengan layanan verifikasi BSrE."),
                Field::password("frasa_sandi", "Frasa sandi tanda tangan", "off").required(),
            ],
        )
        .with_errors(errors);
        form.multipart = true;
        form.hidden = vec![("revisi".into(), letter.revision.to_string())];
        extras.forms.push(form);
    }
    Ok(extras)
}
