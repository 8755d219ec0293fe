//! Indonesian text helpers shared by pages and letters: dates, rupiah amounts,
//! thousands separators and numbers in words (terbilang).

use chrono::{Datelike, NaiveDate};

pub const MONTHS: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// `month` is 1-based.
/// A JSON value as plain text: a string as it is, nothing for null, anything else as JSON.
pub fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn month_name(month: u32) -> &'static str {
    MONTHS.get(month.saturating_sub(1) as usize).copied().unwrap_or("")
}

/// `21 November 2026`.
pub fn date_long(date: NaiveDate) -> String {
    format!("{} {} {}", date.day(), month_name(date.month()), date.year())
}

/// A stored `YYYY-MM-DD` as `21 November 2026`; empty when it is not such a date.
pub fn date_long_iso(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d").map(date_long).unwrap_or_default()
}

/// "1 hari 2 jam 5 menit" from minutes: how the pages and the reminders say a duration.
pub fn duration(minutes: i64) -> String {
    let (days, hours, mins) = (minutes / (60 * 24), (minutes / 60) % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} hari"));
    }
    if hours > 0 {
        parts.push(format!("{hours} jam"));
    }
    if mins > 0 || parts.is_empty() {
        parts.push(format!("{mins} menit"));
    }
    parts.join(" ")
}

/// `1.000.000`: dots between thousands.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// `Rp16.800,00` for an amount in whole rupiah.
pub fn rupiah(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}Rp{},00", thousands(amount.abs()))
}

const UNITS: [&str; 10] = ["", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"];

/// Words for 1..=999 (empty for 0).
fn below_thousand(n: u64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let hundreds = n / 100;
    let rest = n % 100;
    match hundreds {
        0 => {}
        1 => parts.push("seratus".into()),
        h => parts.push(format!("{} ratus", UNITS[h as usize])),
    }
    match rest {
        0 => {}
        1..=9 => parts.push(UNITS[rest as usize].into()),
        10 => parts.push("sepuluh".into()),
        11 => parts.push("sebelas".into()),
        12..=19 => parts.push(format!("{} belas", UNITS[(rest - 10) as usize])),
        _ => {
            parts.push(format!("{} puluh", UNITS[(rest / 10) as usize]));
            if !rest.is_multiple_of(10) {
                parts.push(UNITS[(rest % 10) as usize].into());
            }
        }
    }
    parts.join(" ")
}

/// A whole number in Indonesian words: `201600` → `dua ratus satu ribu enam ratus`.
pub fn terbilang(n: i64) -> String {
    if n == 0 {
        return "nol".into();
    }
    if n < 0 {
        return format!("minus {}", terbilang(n.unsigned_abs().min(i64::MAX as u64) as i64));
    }
    const SCALES: [(u64, &str); 5] = [
        (1_000_000_000_000_000, "kuadriliun"),
        (1_000_000_000_000, "triliun"),
        (1_000_000_000, "miliar"),
        (1_000_000, "juta"),
        (1_000, "ribu"),
    ];
    let mut rest = n as u64;
    let mut parts: Vec<String> = Vec::new();
    for (scale, name) in SCALES {
        let count = rest / scale;
        rest %= scale;
        if count == 0 {
            continue;
        }
        if scale == 1_000 && count == 1 {
            // 1.000 is "seribu", but 1.000.000 is "satu juta".
            parts.push("seribu".into());
        } else {
            parts.push(format!("{} {name}", terbilang(count as i64)));
        }
    }
    if rest > 0 {
        parts.push(below_thousand(rest));
    }
    parts.join(" ")
}

/// `dua ratus satu ribu enam ratus rupiah`.
pub fn terbilang_rupiah(amount: i64) -> String {
    format!("{} rupiah", terbilang(amount))
}

/// A column header as compared: lower case, anything not a letter or digit as one space
/// (a byte-order mark dropped), so "No. NIK" and "no_nik" are the same column.
pub fn normalise_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A cell as a spreadsheet will read it: text that a spreadsheet would take for a
/// formula (=, +, -, @, tab, carriage return at the start) is prefixed with a quote.
pub fn spreadsheet_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(5), "5 menit");
        assert_eq!(duration(0), "0 menit");
        assert_eq!(duration(1500), "1 hari 1 jam");
    }
    use super::*;

    #[test]
    fn words_for_awkward_numbers() {
        let cases = [
            (0, "nol"),
            (1, "satu"),
            (10, "sepuluh"),
            (11, "sebelas"),
            (12, "dua belas"),
            (19, "sembilan belas"),
            (20, "dua puluh"),
            (21, "dua puluh satu"),
            (100, "seratus"),
            (101, "seratus satu"),
            (111, "seratus sebelas"),
            (200, "dua ratus"),
            (999, "sembilan ratus sembilan puluh sembilan"),
            (1_000, "seribu"),
            (1_001, "seribu satu"),
            (1_100, "seribu seratus"),
            (2_000, "dua ribu"),
            (11_000, "sebelas ribu"),
            (100_000, "seratus ribu"),
            (101_000, "seratus satu ribu"),
            (16_800, "enam belas ribu delapan ratus"),
            (201_600, "dua ratus satu ribu enam ratus"),
            (1_000_000, "satu juta"),
            (1_001_000, "satu juta seribu"),
            (11_000_000, "sebelas juta"),
            (1_000_000_000, "satu miliar"),
            (1_000_000_000_000, "satu triliun"),
            (302_400_000, "tiga ratus dua juta empat ratus ribu"),
            (-5, "minus lima"),
        ];
        for (n, words) in cases {
            assert_eq!(terbilang(n), words, "{n}");
        }
        assert_eq!(terbilang_rupiah(201_600), "dua ratus satu ribu enam ratus rupiah");
    }

    #[test]
    fn amounts_and_dates() {
        assert_eq!(rupiah(16_800), "Rp16.800,00");
        assert_eq!(rupiah(0), "Rp0,00");
        assert_eq!(rupiah(1_000_000_000), "Rp1.000.000.000,00");
        assert_eq!(rupiah(-1_500), "-Rp1.500,00");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1_000), "1.000");
        assert_eq!(thousands(1_234_567), "1.234.567");
        assert_eq!(date_long(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()), "21 November 2026");
        assert_eq!(date_long(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()), "1 Januari 2027");
    }
}
