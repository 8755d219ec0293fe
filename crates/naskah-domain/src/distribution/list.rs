//! The distribution list (daftar pengiriman): a landscape PDF of the deliveries of a
//! batch or a letter, one row per recipient with room for the receiver's name,
//! signature and date, for the courier who delivers by hand. Rendered from the Typst
//! file `_daftar-pengiriman/template.typ` with the department's letterhead.

use serde_json::{Value, json};
use sqlx::Any;

use super::{
    Error,
    deliveries::{COLUMNS, Delivery},
};
use crate::{
    db::{Db, now},
    departments::{self, Department},
    letters,
    rendering::{RenderJob, Renderer},
};

const TEMPLATE: &str = "/_daftar-pengiriman/template.typ";

/// Which deliveries the list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Those to be carried: by hand or by courier.
    Carried,
    /// Every delivery, e-mail included.
    All,
}

/// The deliveries of a batch's letters or of one letter, with each letter's number and
/// date, in letter order then addressees before copies.
pub async fn rows(
    db: &Db,
    department_id: i64,
    batch_id: Option<i64>,
    letter_id: Option<i64>,
    selection: Selection,
) -> Result<Vec<(Delivery, String, String)>, Error> {
    let columns: String = COLUMNS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ");
    let deliveries = sqlx::query_as::<Any, Delivery>(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} FROM deliveries d JOIN letters l ON l.id = d.letter_id \
         WHERE d.department_id = $1 AND ($2 = 0 OR l.batch_id = $2) AND ($3 = 0 OR l.id = $3) \
         AND ($4 = 'all' OR d.channel IN ('hand', 'courier')) \
         ORDER BY l.id, CASE d.role WHEN 'kepada' THEN 0 ELSE 1 END, d.id"
    )))
    .bind(department_id)
    .bind(batch_id.unwrap_or(0))
    .bind(letter_id.unwrap_or(0))
    .bind(if selection == Selection::All { "all" } else { "carried" })
    .fetch_all(&db.pool)
    .await?;
    let letters: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as::<Any, (i64, Option<String>, Option<String>)>(
        "SELECT id, number, letter_date FROM letters WHERE department_id = $1 AND ($2 = 0 OR batch_id = $2) AND ($3 = 0 OR id = $3)",
    )
    .bind(department_id)
    .bind(batch_id.unwrap_or(0))
    .bind(letter_id.unwrap_or(0))
    .fetch_all(&db.pool)
    .await?;
    Ok(deliveries
        .into_iter()
        .map(|d| {
            let (number, date) = letters
                .iter()
                .find(|(id, _, _)| *id == d.letter_id)
                .map(|(_, n, date)| (n.clone().unwrap_or_default(), date.clone().unwrap_or_default()))
                .unwrap_or_default();
            (d, number, date)
        })
        .collect())
}

/// The PDF of the list.
pub async fn pdf(
    renderer: &Renderer,
    db: &Db,
    department: &Department,
    title: &str,
    rows: &[(Delivery, String, String)],
    selection: Selection,
) -> Result<Vec<u8>, Error> {
    let logo = departments::logo(db, department.id)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let data = list_data(department, logo.as_ref().map(|(_, m)| m.as_str()), title, rows, selection);
    let rendered = renderer
        .render_pdf(job(department, data, logo))
        .await
        .map_err(|e| Error::Internal(format!("daftar pengiriman tidak dapat dibuat: {e}")))?;
    Ok(rendered.pdf)
}

/// What the Typst file reads: the letterhead as for a letter, and the list.
fn list_data(
    department: &Department,
    logo_mime: Option<&str>,
    title: &str,
    rows: &[(Delivery, String, String)],
    selection: Selection,
) -> Value {
    let tz = department.tz();
    let slots = letters::Slots {
        footer: Some(format!("Daftar pengiriman {} — dicetak {}", department.name, tz.format_time(now()))),
        ..letters::Slots::default()
    };
    let mut data = letters::document_data(&department.letterhead(), logo_mime, "Daftar Pengiriman Surat", &json!({}), &slots);
    // Not a draft: no KONSEP watermark on a list.
    data["slot"]["konsep"] = Value::Bool(false);
    data["daftar"] = json!({
        "judul": title,
        "dicetak": tz.format_time(now()),
        "saluran": match selection {
            Selection::Carried => "antar langsung dan kurir/pos",
            Selection::All => "semua saluran",
        },
        "baris": grouped(rows).iter().enumerate().map(|(i, group)| {
            let (d, _, letter_date) = group[0];
            let numbers: Vec<&str> = group.iter().map(|(_, n, _)| n.as_str()).collect();
            let dates: Vec<&str> = group.iter().map(|(_, _, d)| d.as_str()).collect();
            let same_date = dates.iter().all(|x| *x == letter_date.as_str());
            // Every receipt of the group recorded: show who and when, else leave room.
            let received = group.iter().all(|(d, _, _)| d.delivered_at.is_some());
            json!({
                "no": i + 1,
                "penerima": d.name,
                "peran": d.role,
                "alamat": if d.channel == "email" { format!("surel: {}", d.address) } else { d.address.clone() },
                "nomor": match numbers.as_slice() {
                    [one] => one.to_string(),
                    many if many.len() <= 3 => many.join(", "),
                    many => format!("{} surat: {} s.d. {}", many.len(), many[0], many[many.len() - 1]),
                },
                "tanggal": if same_date { crate::text::date_long_iso(letter_date) } else { "beragam".into() },
                "diterima_oleh": if received { d.receiver_name.clone() } else { String::new() },
                "diterima_pada": if received { d.delivered_at.map(|at| tz.format_time(at)).unwrap_or_default() } else { String::new() },
            })
        }).collect::<Vec<_>>(),
    });
    data
}

/// The rows of one recipient together (in first-seen order): a courier hands the Camat
/// all the copies of a batch at once and the Camat signs once.
fn grouped(rows: &[(Delivery, String, String)]) -> Vec<Vec<&(Delivery, String, String)>> {
    let mut groups: Vec<Vec<&(Delivery, String, String)>> = Vec::new();
    for row in rows {
        let key = |d: &Delivery| (d.recipient_id, d.name.to_lowercase(), d.channel.clone(), d.address.clone());
        match groups.iter_mut().find(|g| key(&g[0].0) == key(&row.0)) {
            Some(group) => group.push(row),
            None => groups.push(vec![row]),
        }
    }
    groups
}

fn job(department: &Department, data: Value, logo: Option<(Vec<u8>, String)>) -> RenderJob {
    let mut files = Vec::new();
    if let Some((bytes, mime)) = logo
        && let Some((_, path)) = letters::logo_file(&mime)
    {
        files.push((path.to_string(), bytes));
    }
    RenderJob {
        main: TEMPLATE.into(),
        data,
        files,
        today: Some(department.tz().today()),
        document_id: Some(format!("daftar-pengiriman-{}", department.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Typst file compiles with the department's letterhead and rows of every kind.
    #[test]
    fn the_list_renders() {
        let renderer = Renderer::load(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../letter_templates")),
            1,
        )
        .unwrap();
        let department = crate::demo::department();
        let data = list_data(&department, None, "Konfirmasi — Desa Sotek", &sample_rows(), Selection::All);
        let job = job(&department, data, None);
        let rendered = renderer.render_pdf_blocking(&job).unwrap_or_else(|e| panic!("{e}"));
        assert!(rendered.pdf.starts_with(b"%PDF"));
        // Left for a look (pdftoppm) by whoever changes the layout.
        let _ = std::fs::write(std::env::temp_dir().join("naskah-daftar-pengiriman-uji.pdf"), &rendered.pdf);
    }

    #[test]
    fn one_row_per_recipient() {
        let mut rows = sample_rows();
        let mut again = rows[1].clone();
        again.0.id = 9;
        again.1 = "500/0003/Disnaker/2026".into();
        again.0.delivered_at = None;
        again.0.receiver_name = String::new();
        rows.push(again);
        let groups = grouped(&rows);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[1].len(), 2, "the Camat's two copies together");
        let data = list_data(&crate::demo::department(), None, "Uji", &rows, Selection::All);
        assert_eq!(
            data["daftar"]["baris"][1]["nomor"],
            "500/0001/Disnaker/2026, 500/0003/Disnaker/2026"
        );
        assert_eq!(data["daftar"]["baris"][1]["diterima_oleh"], "", "one of the two not yet received");
    }

    fn sample_rows() -> Vec<(Delivery, String, String)> {
        let delivery = |id: i64, role: &str, name: &str, channel: &str, receiver: &str| Delivery {
            id,
            department_id: 1,
            letter_id: 1,
            recipient_id: None,
            role: role.into(),
            name: name.into(),
            channel: channel.into(),
            address: if channel == "email" {
                "desa@example.id".into()
            } else {
                String::new()
            },
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: None,
            last_error: String::new(),
            receipt_hash: None,
            receiver_name: receiver.into(),
            queued_at: 0,
            sent_at: None,
            delivered_at: (!receiver.is_empty()).then_some(1_800_000_000),
            acknowledged_at: None,
            failed_at: None,
            updated_at: 0,
            updated_by: String::new(),
        };
        vec![
            (
                delivery(1, "kepada", "Kepala Desa Sotek", "hand", ""),
                "500/0001/Disnaker/2026".into(),
                "2026-11-22".into(),
            ),
            (
                delivery(2, "tembusan", "Camat Penajam", "hand", "Rina #Marlina [x]"),
                "500/0001/Disnaker/2026".into(),
                "2026-11-22".into(),
            ),
            (
                delivery(3, "kepada", "Lurah Pejala", "email", ""),
                "500/0002/Disnaker/2026".into(),
                "2026-11-22".into(),
            ),
        ]
    }
}
