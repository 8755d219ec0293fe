//! NIP: the 18-digit number of an Indonesian civil servant.
//! Layout `YYYYMMDD YYYYMM G NNN`: birth date, appointment (TMT) year and month
//! (month 21 marks a PPPK contract employee), sex (1 man, 2 woman), serial.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Nip(String);

impl Nip {
    /// Accepts digits with optional spaces (as NIPs are often printed) and checks the layout.
    pub fn parse(raw: &str) -> Result<Nip, String> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err("NIP wajib diisi.".into());
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("NIP hanya boleh berisi angka.".into());
        }
        if digits.len() != 18 {
            return Err(format!("NIP harus 18 angka; yang diisi {} angka.", digits.len()));
        }
        let num = |range: std::ops::Range<usize>| digits[range].parse::<u32>().unwrap_or(0);
        let (year, month, day) = (num(0..4) as i32, num(4..6), num(6..8));
        let Some(birth) = NaiveDate::from_ymd_opt(year, month, day) else {
            return Err(format!(
                "Tanggal lahir dalam NIP ({:02}-{:02}-{}) bukan tanggal yang valid.",
                day, month, year
            ));
        };
        let this_year = chrono::Utc::now().year();
        if year < 1940 || year > this_year - 17 {
            return Err(format!("Tahun lahir dalam NIP ({year}) tidak masuk akal untuk pegawai aktif."));
        }
        let (tmt_year, tmt_month) = (num(8..12) as i32, num(12..14));
        if !(1..=12).contains(&tmt_month) && tmt_month != 21 {
            return Err(format!("Bulan pengangkatan dalam NIP ({tmt_month:02}) tidak valid."));
        }
        if tmt_year < birth.year() + 17 || tmt_year > this_year + 1 {
            return Err(format!("Tahun pengangkatan dalam NIP ({tmt_year}) tidak cocok dengan tahun lahir."));
        }
        if !matches!(&digits[14..15], "1" | "2") {
            return Err("Digit jenis kelamin dalam NIP (digit ke-15) harus 1 atau 2.".into());
        }
        if &digits[15..18] == "000" {
            return Err("Nomor urut dalam NIP tidak boleh 000.".into());
        }
        Ok(Nip(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        let n = |r: std::ops::Range<usize>| self.0[r].parse::<u32>().unwrap_or(1);
        NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8)).unwrap_or_default()
    }

    /// The customary printed form: `19700512 199803 1 004`.
    pub fn spaced(&self) -> String {
        format!("{} {} {} {}", &self.0[0..8], &self.0[8..14], &self.0[14..15], &self.0[15..18])
    }
}

impl fmt::Display for Nip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_and_spaced() {
        let nip = Nip::parse("19700512 199803 1 004").unwrap();
        assert_eq!(nip.as_str(), "197005121998031004");
        assert_eq!(nip.spaced(), "19700512 199803 1 004");
        assert_eq!(nip.birth_date(), NaiveDate::from_ymd_opt(1970, 5, 12).unwrap());
        // PPPK: appointment month 21.
        assert!(Nip::parse("199001012022212001").is_ok());
    }

    #[test]
    fn refuses_wrong_length_letters_and_dates() {
        assert!(Nip::parse("19700512199803100").unwrap_err().contains("18 angka"));
        assert!(Nip::parse("19700512199803100A").unwrap_err().contains("angka"));
        assert!(Nip::parse("197002301998031004").unwrap_err().contains("Tanggal lahir"));
        assert!(Nip::parse("197013011998031004").unwrap_err().contains("Tanggal lahir"));
        assert!(Nip::parse("197102291998031004").unwrap_err().contains("Tanggal lahir"));
        assert!(Nip::parse("197202291998031004").is_ok());
        assert!(Nip::parse("197005121998131004").unwrap_err().contains("Bulan pengangkatan"));
        assert!(Nip::parse("197005121998033004").unwrap_err().contains("jenis kelamin"));
        assert!(Nip::parse("197005121998031000").unwrap_err().contains("urut"));
        assert!(Nip::parse("197005121980031004").unwrap_err().contains("pengangkatan"));
        assert!(Nip::parse("").unwrap_err().contains("wajib"));
    }
}
