//! The identity numbers typed or imported by people: the NIK (16 digits, checked
//! against the district list and the calendar) and the NIP (18 digits), on the input
//! read as UTF-8 (invalid bytes replaced).

#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use naskah_domain::beneficiaries::nik;
use naskah_domain::departments::Nip;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let today = date(2026, 6, 1);
    let stated = [
        date(1966, 5, 2),
        date(2001, 2, 28),
        date(2000, 2, 29),
        NaiveDate::MIN,
        NaiveDate::MAX,
    ];
    let (cleaned, _) = nik::clean(&text);
    for raw in [text.as_ref(), cleaned.as_str()] {
        for today in [today, NaiveDate::MIN, NaiveDate::MAX] {
            let facts = nik::check(raw, None, today);
            if let Ok(facts) = facts {
                assert_eq!(raw.len(), 16);
                // The century the stated date of birth gives, when its two digits agree.
                let _ = nik::check(raw, Some(facts.birth_date), today);
            }
            for birth in stated {
                let _ = nik::check(raw, Some(birth), today);
            }
        }
        let _ = nik::masked(raw);
        let _ = nik::district_name(raw);
    }

    if let Ok(nip) = Nip::parse(&text) {
        assert_eq!(nip.as_str().len(), 18);
        let _ = nip.birth_date();
        let _ = nip.spaced();
        let _ = nip.to_string();
    }
});
