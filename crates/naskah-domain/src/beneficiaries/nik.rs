//! The NIK (Nomor Induk Kependudukan): `PP KK CC DDMMYY SSSS`, province, regency and
//! district of first registration, day of birth (+40 for women), month, two-digit
//! year, serial. It has no checksum, so every part is checked on its own, and what a
//! row says elsewhere (sex, date of birth) must agree with it.

use std::{collections::HashMap, sync::LazyLock};

use chrono::{Datelike, NaiveDate};

/// Every district (kecamatan) of Indonesia, Kepmendagri 2025: `kode,nama,tingkat`.
const DISTRICTS_CSV: &str = include_str!("wilayah_kecamatan_indonesia.csv");

/// District code without dots ("640901") → its name.
static DISTRICTS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    DISTRICTS_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut parts = line.splitn(3, ',');
            let code = parts.next()?;
            let name = parts.next()?;
            (parts.next()? == "3").then(|| (code.replace('.', ""), name.to_string()))
        })
        .collect()
});

/// The name of the district a NIK was first registered in, if the code is known.
pub fn district_name(nik: &str) -> Option<&'static str> {
    DISTRICTS.get(nik.get(0..6)?).map(String::as_str)
}

/// Every known district code without dots, sorted (for the benchmark's peer).
pub fn district_codes() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = DISTRICTS.keys().map(String::as_str).collect();
    codes.sort_unstable();
    codes
}

/// What a sound NIK says about its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NikFacts {
    pub female: bool,
    pub birth_date: NaiveDate,
}

/// A problem of a NIK, with a class (`code`) and a message in Indonesian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NikProblem {
    pub code: &'static str,
    pub message: String,
}

fn problem(code: &'static str, message: String) -> NikProblem {
    NikProblem { code, message }
}

/// A NIK as typed, with the spreadsheet's text marker (a leading `'`) and inner
/// spaces removed; the flag says whether an apostrophe was removed.
pub fn clean(raw: &str) -> (String, bool) {
    let trimmed = raw.trim();
    let without_marker = trimmed.trim_start_matches('\'');
    let nik = without_marker.chars().filter(|c| !c.is_whitespace()).collect();
    (nik, without_marker.len() != trimmed.len())
}

/// Checks a cleaned NIK. `stated_birth` (the date-of-birth column) decides the century
/// of the two-digit year when its last two digits agree; otherwise a year after
/// `today` is taken as the previous century.
pub fn check(nik: &str, stated_birth: Option<NaiveDate>, today: NaiveDate) -> Result<NikFacts, NikProblem> {
    let scientific = nik.contains(['E', 'e']) && nik.chars().any(|c| c.is_ascii_digit()) && nik.contains(['+', '.']);
    if scientific {
        return Err(problem(
            "nik_scientific",
            format!(
                "NIK \"{nik}\" sudah diubah spreadsheet menjadi angka (notasi ilmiah) sehingga digit aslinya hilang; \
                 format kolom NIK sebagai Teks lalu salin ulang dari sumber datanya"
            ),
        ));
    }
    if nik.is_empty() {
        return Err(problem("nik_short", "NIK kosong".into()));
    }
    if let Some(c) = nik.chars().find(|c| !c.is_ascii_digit()) {
        return Err(problem(
            "nik_letters",
            format!("NIK \"{nik}\" memuat \"{c}\"; NIK hanya terdiri dari 16 angka"),
        ));
    }
    if nik.len() != 16 {
        return Err(problem(
            "nik_short",
            format!("NIK \"{nik}\" terdiri dari {} angka, seharusnya 16", nik.len()),
        ));
    }
    if district_name(nik).is_none() {
        return Err(problem(
            "nik_unknown_region",
            format!(
                "NIK \"{nik}\": kode wilayah {}.{}.{} bukan kode kecamatan yang dikenal (Kepmendagri)",
                &nik[0..2],
                &nik[2..4],
                &nik[4..6]
            ),
        ));
    }
    let number = |range: std::ops::Range<usize>| nik[range].parse::<u32>().unwrap_or_default();
    let (raw_day, month, short_year) = (number(6..8), number(8..10), number(10..12) as i32);
    let female = raw_day > 40;
    let day = if female { raw_day - 40 } else { raw_day };
    let year = match stated_birth {
        Some(stated) if stated.year() % 100 == short_year => stated.year(),
        _ if 2000 + short_year <= today.year() => 2000 + short_year,
        _ => 1900 + short_year,
    };
    let Some(birth_date) = NaiveDate::from_ymd_opt(year, month, day) else {
        return Err(problem(
            "nik_bad_day",
            format!(
                "NIK \"{nik}\": tanggal lahir {:02}-{:02}-{:02} (digit 7–12{}) tidak ada di kalender",
                day,
                month,
                short_year,
                if female { ", tanggal dikurangi 40 untuk perempuan" } else { "" }
            ),
        ));
    };
    if &nik[12..16] == "0000" {
        return Err(problem(
            "nik_serial_0000",
            format!("NIK \"{nik}\": nomor urut (4 digit terakhir) 0000 tidak pernah diberikan"),
        ));
    }
    Ok(NikFacts { female, birth_date })
}

/// Shows only what a reader without the need may see: region and serial, never the
/// date of birth (`6409********0001`).
pub fn masked(nik: &str) -> String {
    if nik.len() != 16 || !nik.is_ascii() {
        return "*".repeat(nik.chars().count().min(16));
    }
    format!("{}********{}", &nik[0..4], &nik[12..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn a_sound_nik_gives_sex_and_birth_date() {
        let facts = check("6409014205668780", None, today()).unwrap();
        assert!(facts.female);
        assert_eq!(facts.birth_date, NaiveDate::from_ymd_opt(1966, 5, 2).unwrap());
        let man = check("6409011305657105", None, today()).unwrap();
        assert!(!man.female);
        assert_eq!(man.birth_date.year(), 1965);
        // A year not after this one is this century.
        assert_eq!(check("6409010308053623", None, today()).unwrap().birth_date.year(), 2005);
    }

    #[test]
    fn the_stated_birth_year_decides_the_century() {
        let stated = NaiveDate::from_ymd_opt(1905, 8, 3).unwrap();
        assert_eq!(check("6409010308053623", Some(stated), today()).unwrap().birth_date.year(), 1905);
    }

    #[test]
    fn every_problem_has_its_class() {
        let class = |nik: &str| check(nik, None, today()).unwrap_err().code;
        assert_eq!(class("6.40901E+15"), "nik_scientific");
        assert_eq!(class("6409014205668780E"), "nik_letters");
        assert_eq!(class("64090142056687O0"), "nik_letters");
        assert_eq!(class("640901420566878"), "nik_short");
        assert_eq!(class("64090142056687801"), "nik_short");
        assert_eq!(class("9909044711971025"), "nik_unknown_region");
        assert_eq!(class("6409013205668780"), "nik_bad_day");
        assert_eq!(class("6409017205668780"), "nik_bad_day");
        assert_eq!(class("6409010013668780"), "nik_bad_day");
        assert_eq!(class("6409046105760000"), "nik_serial_0000");
        // 29 February only in a leap year.
        assert_eq!(class("6409012902670001"), "nik_bad_day");
        assert!(check("6409012902680001", None, today()).is_ok());
        assert!(check("6409016902680001", None, today()).unwrap().female);
    }

    #[test]
    fn spreadsheet_markers_and_spaces_are_removed() {
        assert_eq!(clean(" '6409021802750891 "), ("6409021802750891".into(), true));
        assert_eq!(clean("6409 0218 0275 0891"), ("6409021802750891".into(), false));
    }

    #[test]
    fn masking_hides_the_birth_date() {
        assert_eq!(masked("6409014205668780"), "6409********8780");
        assert_eq!(masked("123"), "***");
    }
}
