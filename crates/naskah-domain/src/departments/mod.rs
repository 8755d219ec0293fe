//! Departments (instansi) and their organisation: letterhead data, units (bidang,
//! sub bagian), positions (jabatan) and the officials (pejabat) who hold them.

pub mod identity;
mod nip;
mod org;

use serde::{Deserialize, Serialize};
use sqlx::{Any, FromRow};

use crate::{
    audit::{self, Actor, Event},
    db::{Db, DbError},
    validation::{FieldErrors, clean},
};

pub use nip::Nip;
pub use org::*;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("data tidak valid: {0}")]
    Invalid(FieldErrors),
    #[error("tidak ditemukan")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(DbError::Sqlx(e))
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Self {
        Error::Invalid(e)
    }
}

/// Maps a unique-constraint violation to a conflict with the given message.
pub(crate) fn conflict_on_unique(message: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |e| {
        let e = DbError::Sqlx(e);
        if e.is_unique_violation() {
            Error::Conflict(message.to_string())
        } else {
            Error::Db(e)
        }
    }
}

/// The department's time zone: Indonesia's three zones, none with daylight saving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeZone {
    #[serde(rename = "Asia/Jakarta")]
    Wib,
    #[serde(rename = "Asia/Makassar")]
    Wita,
    #[serde(rename = "Asia/Jayapura")]
    Wit,
}

impl TimeZone {
    pub const ALL: [TimeZone; 3] = [TimeZone::Wib, TimeZone::Wita, TimeZone::Wit];

    pub fn parse(name: &str) -> Option<TimeZone> {
        Self::ALL.into_iter().find(|tz| tz.iana() == name)
    }
    pub fn iana(self) -> &'static str {
        match self {
            TimeZone::Wib => "Asia/Jakarta",
            TimeZone::Wita => "Asia/Makassar",
            TimeZone::Wit => "Asia/Jayapura",
        }
    }
    pub fn abbreviation(self) -> &'static str {
        match self {
            TimeZone::Wib => "WIB",
            TimeZone::Wita => "WITA",
            TimeZone::Wit => "WIT",
        }
    }
    pub fn offset(self) -> chrono::FixedOffset {
        let hours = match self {
            TimeZone::Wib => 7,
            TimeZone::Wita => 8,
            TimeZone::Wit => 9,
        };
        chrono::FixedOffset::east_opt(hours * 3600).expect("valid offset")
    }
    pub fn label(self) -> String {
        format!("{} ({})", self.abbreviation(), self.iana())
    }
    /// Today's date in this timezone.
    pub fn today(self) -> chrono::NaiveDate {
        chrono::Utc::now().with_timezone(&self.offset()).date_naive()
    }
    /// The date of a stored Unix time in this timezone.
    pub fn date_of(self, unix: i64) -> chrono::NaiveDate {
        chrono::DateTime::from_timestamp(unix, 0)
            .unwrap_or_default()
            .with_timezone(&self.offset())
            .date_naive()
    }
    /// Formats a stored Unix time as `21 November 2026 14.05 WITA`.
    pub fn format_time(self, unix: i64) -> String {
        let Some(utc) = chrono::DateTime::from_timestamp(unix, 0) else {
            return String::new();
        };
        let local = utc.with_timezone(&self.offset());
        use chrono::{Datelike, Timelike};
        format!(
            "{} {} {} {:02}.{:02} {}",
            local.day(),
            crate::text::month_name(local.month()),
            local.year(),
            local.hour(),
            local.minute(),
            self.abbreviation()
        )
    }
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Department {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub regency_name: String,
    pub region_code: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub city: String,
    pub timezone: String,
    pub logo_mime: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Department {
    pub fn tz(&self) -> TimeZone {
        TimeZone::parse(&self.timezone).unwrap_or(TimeZone::Wita)
    }
    pub fn has_logo(&self) -> bool {
        self.logo_mime.is_some()
    }
    /// What the letter templates print at the head of every letter.
    pub fn letterhead(&self) -> crate::letters::Letterhead {
        crate::letters::Letterhead {
            name: self.name.clone(),
            regency_name: self.regency_name.clone(),
            address: self.address.clone(),
            postal_code: self.postal_code.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            website: self.website.clone(),
            city: self.city.clone(),
        }
    }
}

/// Letterhead data and settings of a department, as entered by an administrator.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DepartmentInput {
    pub name: String,
    pub regency_name: String,
    pub region_code: String,
    pub address: String,
    pub postal_code: String,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub city: String,
    pub timezone: String,
}

impl DepartmentInput {
    fn validated(mut self) -> Result<Self, FieldErrors> {
        for v in [
            &mut self.name,
            &mut self.regency_name,
            &mut self.region_code,
            &mut self.address,
            &mut self.postal_code,
            &mut self.phone,
            &mut self.email,
            &mut self.website,
            &mut self.city,
            &mut self.timezone,
        ] {
            *v = clean(v);
        }
        let mut e = FieldErrors::default();
        e.required("name", "Nama dinas", &self.name, 200);
        e.required("regency_name", "Nama pemerintah daerah", &self.regency_name, 200);
        e.max_len("address", "Alamat", &self.address, 300);
        e.max_len("phone", "Telepon", &self.phone, 60);
        e.max_len("city", "Kota tempat surat", &self.city, 100);
        e.max_len("website", "Laman", &self.website, 200);
        e.optional_email("email", &self.email);
        if !self.postal_code.is_empty() && !is_postal_code(&self.postal_code) {
            e.add("postal_code", "Kode pos harus 5 angka.");
        }
        if !self.region_code.is_empty() && !is_regency_code(&self.region_code) {
            e.add("region_code", "Kode wilayah kabupaten/kota berbentuk 00.00 (contoh 64.09).");
        }
        if !self.website.is_empty() && self.website.contains(char::is_whitespace) {
            e.add("website", "Laman tidak boleh memuat spasi.");
        }
        if self.timezone.is_empty() {
            self.timezone = TimeZone::Wita.iana().into();
        } else if TimeZone::parse(&self.timezone).is_none() {
            e.add(
                "timezone",
                "Zona waktu harus Asia/Jakarta (WIB), Asia/Makassar (WITA) atau Asia/Jayapura (WIT).",
            );
        }
        e.into_result().map(|_| self)
    }
}

impl From<&Department> for DepartmentInput {
    fn from(d: &Department) -> Self {
        DepartmentInput {
            name: d.name.clone(),
            regency_name: d.regency_name.clone(),
            region_code: d.region_code.clone().unwrap_or_default(),
            address: d.address.clone(),
            postal_code: d.postal_code.clone(),
            phone: d.phone.clone(),
            email: d.email.clone(),
            website: d.website.clone(),
            city: d.city.clone(),
            timezone: d.timezone.clone(),
        }
    }
}

fn is_postal_code(code: &str) -> bool {
    code.len() == 5 && code.chars().all(|c| c.is_ascii_digit())
}

/// A regency or city code such as `64.09`.
fn is_regency_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5 && b[2] == b'.' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
}

const DEPARTMENT_COLUMNS: &str = "id, slug, name, regency_name, region_code, address, postal_code, phone, email, \
     website, city, timezone, logo_mime, created_at, updated_at";

fn valid_slug(slug: &str) -> bool {
    (2..=40).contains(&slug.len())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

pub async fn create(db: &Db, actor: &Actor, slug: &str, input: DepartmentInput) -> Result<Department, Error> {
    let input = input.validated()?;
    if !valid_slug(slug) {
        return Err(FieldErrors::single("slug", "Kode singkat dinas 2–40 huruf kecil, angka atau tanda minus.").into());
    }
    let now = crate::db::now();
    let mut tx = db.begin_write().await?;
    let (id,): (i64,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO departments (slug, name, regency_name, region_code, address, postal_code, phone, email, website, city, timezone, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(slug)
    .bind(&input.name)
    .bind(&input.regency_name)
    .bind(none_if_empty(&input.region_code))
    .bind(&input.address)
    .bind(&input.postal_code)
    .bind(&input.phone)
    .bind(&input.email)
    .bind(&input.website)
    .bind(&input.city)
    .bind(&input.timezone)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(conflict_on_unique("Kode singkat dinas itu sudah dipakai."))?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(id),
            actor,
            action: "department.create",
            subject: format!("department:{id}"),
            details: serde_json::json!({ "slug": slug, "name": input.name }),
        },
    )
    .await?;
    crate::numbering::seed_codes(&mut tx, id).await.map_err(|e| match e {
        crate::numbering::Error::Db(e) => Error::Db(e),
        other => Error::Db(DbError::Sqlx(sqlx::Error::Protocol(other.to_string()))),
    })?;
    tx.commit().await?;
    get(db, id).await
}

pub async fn get(db: &Db, id: i64) -> Result<Department, Error> {
    sqlx::query_as::<Any, Department>(sqlx::AssertSqlSafe(format!(
        "SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn get_by_slug(db: &Db, slug: &str) -> Result<Department, Error> {
    sqlx::query_as::<Any, Department>(sqlx::AssertSqlSafe(format!(
        "SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE slug = $1"
    )))
    .bind(slug)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn list(db: &Db) -> Result<Vec<Department>, Error> {
    Ok(sqlx::query_as::<Any, Department>(sqlx::AssertSqlSafe(format!(
        "SELECT {DEPARTMENT_COLUMNS} FROM departments ORDER BY name"
    )))
    .fetch_all(&db.pool)
    .await?)
}

pub async fn update(db: &Db, actor: &Actor, id: i64, input: DepartmentInput) -> Result<Department, Error> {
    let input = input.validated()?;
    let mut tx = db.begin_write().await?;
    let changed = sqlx::query(
        "UPDATE departments SET name = $1, regency_name = $2, region_code = $3, address = $4, postal_code = $5, \
         phone = $6, email = $7, website = $8, city = $9, timezone = $10, updated_at = $11 WHERE id = $12",
    )
    .bind(&input.name)
    .bind(&input.regency_name)
    .bind(none_if_empty(&input.region_code))
    .bind(&input.address)
    .bind(&input.postal_code)
    .bind(&input.phone)
    .bind(&input.email)
    .bind(&input.website)
    .bind(&input.city)
    .bind(&input.timezone)
    .bind(crate::db::now())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(id),
            actor,
            action: "department.update",
            subject: format!("department:{id}"),
            details: serde_json::to_value(&input).unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, id).await
}

/// Largest accepted logo.
pub const MAX_LOGO_BYTES: usize = 1024 * 1024;

/// Recognises PNG, JPEG and SVG by their content, never by the name or declared type.
pub fn sniff_logo(bytes: &[u8]) -> Result<&'static str, String> {
    if bytes.is_empty() {
        return Err("Berkas logo kosong.".into());
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(format!(
            "Berkas logo terlalu besar ({} KB); paling besar 1024 KB.",
            bytes.len() / 1024
        ));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok("image/png");
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok("image/jpeg");
    }
    if std::str::from_utf8(bytes).is_ok_and(|text| text.to_ascii_lowercase().contains("<svg")) {
        return Ok("image/svg+xml");
    }
    Err("Logo harus berupa gambar PNG, JPEG atau SVG.".into())
}

/// Stores a logo; an SVG is stored as usvg rewrote it, so nothing but drawing reaches
/// letters and pages.
pub async fn set_logo(db: &Db, actor: &Actor, id: i64, bytes: &[u8]) -> Result<(), Error> {
    let invalid = |m: String| Error::Invalid(FieldErrors::single("logo", m));
    let mime = sniff_logo(bytes).map_err(invalid)?;
    let cleaned;
    let bytes = if mime == "image/svg+xml" {
        cleaned = crate::rendering::svg::clean_svg(bytes).map_err(invalid)?;
        &cleaned[..]
    } else {
        bytes
    };
    let mut tx = db.begin_write().await?;
    let changed = sqlx::query("UPDATE departments SET logo = $1, logo_mime = $2, updated_at = $3 WHERE id = $4")
        .bind(bytes.to_vec())
        .bind(mime)
        .bind(crate::db::now())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(id),
            actor,
            action: "department.logo",
            subject: format!("department:{id}"),
            details: serde_json::json!({ "mime": mime, "bytes": bytes.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn logo(db: &Db, id: i64) -> Result<Option<(Vec<u8>, String)>, Error> {
    let row: Option<(Option<Vec<u8>>, Option<String>)> =
        sqlx::query_as::<Any, (Option<Vec<u8>>, Option<String>)>("SELECT logo, logo_mime FROM departments WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    match row {
        None => Err(Error::NotFound),
        Some((Some(bytes), Some(mime))) => Ok(Some((bytes, mime))),
        Some(_) => Ok(None),
    }
}

pub(crate) fn none_if_empty(s: &str) -> Option<&str> {
    if s.is_empty() { None } else { Some(s) }
}
