//! The sections other areas add to a letter's page, rendered from the letter's view
//! ([`crate::cases::letter`]): the delivery log with its SOP deadline, and for a
//! department that signs through BSrE, the remote signature's state and forms.

use crate::{
    auth::SessionUser,
    cases::letter::{DistributionState, LetterView},
    distribution::deliveries::Delivery,
    validation::FieldErrors,
    view::{Choice, Field, Form},
    workflow::remote::{CREDENTIAL_FIELD, status as remote_status},
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

/// The delivery log of a signed letter and a sentence on where it stands against the SOP.
pub fn letter_log(user: &SessionUser, distribution: Option<&DistributionState>) -> LetterLog {
    let Some(d) = distribution else {
        return LetterLog {
            rows: vec![],
            summary: String::new(),
            late: false,
        };
    };
    let summary = format!(
        "{} dari {} penerima sudah dikirimi, {} mengonfirmasi. Batas distribusi menurut SOP ({} hari): {}{}.",
        d.sent,
        d.deliveries.len(),
        d.acknowledged,
        d.distribution_days,
        user.department.tz().format_time(d.due_at),
        if d.late {
            " — TERLAMBAT"
        } else if d.distributed {
            " — sudah terdistribusi"
        } else {
            ""
        }
    );
    LetterLog {
        rows: d.deliveries.iter().map(|delivery| row(user, delivery)).collect(),
        summary,
        late: d.late,
    }
}

/// What the letter page adds for a department that signs through BSrE: the passphrase
/// field (and the "send again" choice after an unknown outcome) for the decision form,
/// a line on the stamped number's state, and the form to check a signed PDF.
pub struct LetterExtras {
    pub decision_fields: Vec<Field>,
    pub status_line: String,
    pub forms: Vec<Form>,
}

pub fn letter_extras(user: &SessionUser, view: &LetterView, errors: &FieldErrors) -> LetterExtras {
    let mut extras = LetterExtras {
        decision_fields: Vec::new(),
        status_line: String::new(),
        forms: Vec::new(),
    };
    if let Some(p) = view.remote.as_ref().filter(|p| p.status != remote_status::SELESAI) {
        extras.status_line = format!("{} (nomor {}, percobaan {}).", p.label(), p.number, p.attempts);
        if !p.last_error.is_empty() {
            extras.status_line.push_str(&format!(" Terakhir: {}", p.last_error));
        }
    }
    let Some(offer) = view.actions.decide.as_ref().filter(|o| o.bsre_passphrase) else {
        return extras;
    };
    extras.decision_fields.push(
        Field::password(CREDENTIAL_FIELD, "Passphrase BSrE", "off")
            .help("Passphrase sertifikat elektronik Anda di BSrE; dikirim ke BSrE untuk tanda tangan ini saja, tidak disimpan."),
    );
    if let Some(number) = &offer.send_again_number {
        extras.decision_fields.push(Field::checkboxes(
            "kirim_ulang",
            "Hasil sebelumnya tidak diketahui",
            vec![Choice::new(
                "ya",
                format!("Saya sudah memeriksa dan tetap meminta BSrE menandatangani lagi (nomor {number} tetap sama)."),
                false,
            )],
        ));
        let mut form = Form::new(
            "Periksa PDF bertanda tangan dari BSrE",
            &format!("/surat/{}/bsre/periksa", view.letter.id),
            user.csrf(),
            "Periksa dan selesaikan",
            vec![
                Field::file("pdf", "PDF bertanda tangan", "application/pdf", crate::uploads::BSRE_PDF)
                    .required()
                    .help("PDF hasil BSrE untuk surat ini (mis. dari portal BSrE); diperiksa dengan layanan verifikasi BSrE."),
                Field::password("frasa_sandi", "Frasa sandi tanda tangan", "off").required(),
            ],
        )
        .with_errors(errors);
        form.multipart = true;
        form.hidden = vec![("revisi".into(), view.letter.revision.to_string())];
        extras.forms.push(form);
    }
    extras
}
