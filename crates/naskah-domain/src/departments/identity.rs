//! An official's NIK (national identity number): the state CA's signing service knows
//! signers by it. It is personal data (UU 27/2022): kept apart from the official's
//! record that pages and audit entries carry, shown masked, changed by administrators
//! with an audit entry that holds only the masked form.

use sqlx::Any;

use super::{Error, get_official};
use crate::{
    audit::{self, Actor, Event},
    db::Db,
    validation::FieldErrors,
};

/// A NIK as typed: 16 digits (spaces and dots removed), a real day and month of birth
/// (women +40), a serial other than 0000.
pub fn parse_nik(raw: &str) -> Result<String, String> {
    let nik: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '.').collect();
    if nik.is_empty() {
        return Err("NIK wajib diisi.".into());
    }
    if !nik.chars().all(|c| c.is_ascii_digit()) || nik.len() != 16 {
        return Err("NIK terdiri dari 16 angka.".into());
    }
    let number = |range: std::ops::Range<usize>| nik[range].parse::<u32>().unwrap_or_default();
    let day = match number(6..8) {
        d if d > 40 => d - 40,
        d => d,
    };
    let month = number(8..10);
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
        return Err("NIK: digit 7–12 bukan tanggal lahir yang mungkin.".into());
    }
    if &nik[12..] == "0000" {
        return Err("NIK: nomor urut 0000 tidak pernah diberikan.".into());
    }
    Ok(nik)
}

/// `6409********0001`: region and serial only.
pub fn mask_nik(nik: &str) -> String {
    if nik.len() == 16 && nik.is_ascii() {
        format!("{}********{}", &nik[..4], &nik[12..])
    } else {
        "*".repeat(nik.chars().count().min(16))
    }
}

/// The official's NIK, empty when none was entered.
pub async fn official_nik(db: &Db, department_id: i64, official_id: i64) -> Result<String, Error> {
    let row: Option<(String,)> = sqlx::query_as::<Any, (String,)>("SELECT nik FROM officials WHERE department_id = $1 AND id = $2")
        .bind(department_id)
        .bind(official_id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|(nik,)| nik).ok_or(Error::NotFound)
}

/// Sets (or, with an empty value, clears) the official's NIK.
pub async fn set_official_nik(db: &Db, actor: &Actor, department_id: i64, official_id: i64, raw: &str) -> Result<(), Error> {
    let official = get_official(db, department_id, official_id).await?;
    let nik = if raw.trim().is_empty() {
        String::new()
    } else {
        parse_nik(raw).map_err(|m| Error::Invalid(FieldErrors::single("nik", m)))?
    };
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE officials SET nik = $1, updated_at = $2 WHERE department_id = $3 AND id = $4")
        .bind(&nik)
        .bind(crate::db::now())
        .bind(department_id)
        .bind(official_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "official.nik_set",
            subject: format!("official:{official_id}"),
            details: serde_json::json!({ "name": official.name, "nik": mask_nik(&nik) }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn niks_are_checked_and_masked() {
        assert_eq!(parse_nik("6409 0145 0180 0001").unwrap(), "6409014501800001");
        assert!(parse_nik("640901450180000").is_err());
        assert!(parse_nik("6409014513800001").is_err(), "month 13");
        assert!(parse_nik("6409017201800001").is_err(), "day 72 - 40 = 32");
        assert!(parse_nik("6409014501800000").is_err());
        assert!(parse_nik("6.40901E+15").is_err());
        assert_eq!(mask_nik("6409014501800001"), "6409********0001");
        assert_eq!(mask_nik("123"), "***");
    }
}
