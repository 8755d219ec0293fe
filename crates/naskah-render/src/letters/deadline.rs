//! Deadlines already passed. A letter asking for an answer "paling lambat" a date before
//! its own date asks for the impossible: drafting shows a warning, and signing asks the
//! signer to confirm that they know (see `workflow::DecisionRequest`). A deadline is a
//! `date` field marked `deadline = true` in the manifest.

use chrono::NaiveDate;
use serde_json::Value;

use super::manifest::{FieldType, Manifest};
use crate::text;

/// A deadline field whose date is before the letter's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassedDeadline {
    pub field: String,
    pub label: String,
    pub date: NaiveDate,
}

/// The deadline fields of `data` dated before `letter_date` (for a draft: the day it
/// would be signed, today in the department's time zone). Empty or unreadable dates are
/// no deadline.
pub fn passed(manifest: &Manifest, data: &Value, letter_date: NaiveDate) -> Vec<PassedDeadline> {
    manifest
        .fields
        .iter()
        .filter(|f| f.deadline && f.kind == FieldType::Date)
        .filter_map(|f| {
            let date = NaiveDate::parse_from_str(data.get(&f.name)?.as_str()?.trim(), "%Y-%m-%d").ok()?;
            (date < letter_date).then(|| PassedDeadline {
                field: f.name.clone(),
                label: f.label.clone(),
                date,
            })
        })
        .collect()
}

/// The warning shown while drafting and before signing, in Indonesian; empty when no
/// deadline has passed.
pub fn warning(passed: &[PassedDeadline], letter_date: NaiveDate) -> String {
    passed
        .iter()
        .map(|p| {
            format!(
                "{} ({}) sudah lewat: tanggal surat {}. Surat ini meminta sesuatu paling lambat pada tanggal yang sudah berlalu; perbaiki batas waktunya atau tanda tangani dengan sadar.",
                p.label,
                text::date_long(p.date),
                text::date_long(letter_date),
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of the signer's confirmation ("Saya tahu batas waktu ... sudah lewat").
pub fn confirmation(passed: &[PassedDeadline]) -> String {
    let dates: Vec<String> = passed.iter().map(|p| format!("{}: {}", p.label, text::date_long(p.date))).collect();
    format!("Saya tahu batas waktu sudah lewat ({}) dan tetap menandatangani.", dates.join("; "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const MANIFEST: &str = r#"
title = "Uji"
kind = "surat"

[[fields]]
name = "batas_waktu"
type = "date"
label = "Batas waktu penyampaian data"
deadline = true

[[fields]]
name = "tanggal_rapat"
type = "date"
label = "Tanggal rapat"
"#;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn only_deadlines_before_the_letter_date_are_passed() {
        let m = Manifest::parse("uji", MANIFEST).unwrap();
        let data = json!({ "batas_waktu": "2026-11-28", "tanggal_rapat": "2026-11-01" });
        let found = passed(&m, &data, day(3));
        assert_eq!(found.len(), 1, "a date that is not a deadline is not checked");
        assert_eq!(found[0].field, "batas_waktu");
        let text = warning(&found, day(3));
        assert!(
            text.contains("Batas waktu penyampaian data (28 November 2026) sudah lewat: tanggal surat 3 Desember 2026"),
            "{text}"
        );
        assert_eq!(
            confirmation(&found),
            "Saya tahu batas waktu sudah lewat (Batas waktu penyampaian data: 28 November 2026) dan tetap menandatangani."
        );
        // The letter's own day and later are still in time; an empty date is no deadline.
        assert!(passed(&m, &json!({ "batas_waktu": "2026-12-03" }), day(3)).is_empty());
        assert!(passed(&m, &json!({ "batas_waktu": "2026-12-10" }), day(3)).is_empty());
        assert!(passed(&m, &json!({ "batas_waktu": "" }), day(3)).is_empty());
        assert!(warning(&[], day(3)).is_empty());
    }

    #[test]
    fn a_deadline_must_be_a_date_outside_tables() {
        let text = MANIFEST.replace("type = \"date\"\nlabel = \"Batas waktu", "type = \"text\"\nlabel = \"Batas waktu");
        let error = Manifest::parse("uji", &text).unwrap_err();
        assert!(error.contains("batas waktu"), "{error}");
    }
}
