//! Letter numbers: the department's format, its classification codes, one counter per
//! series (letters and decrees apart), unit and year, and the outgoing-letter register
//! (agenda) in which every serial is either a signed letter or a cancelled number.
//!
//! The register says of a signed letter what its public record says: revoking it marks
//! its line `dicabut` and signing a correction or amending decree marks the old line
//! `diganti`, each in the transaction that changes the letter. The number of a signed
//! letter is never cancelled (`batal`): revocation is the only way to withdraw it.
//!
//! A serial is taken inside the signing transaction with one upsert on its counter row,
//! which also locks that row until the transaction ends, so two signings never get the
//! same serial and a failed signing leaves no gap.

use serde::Serialize;
use sqlx::{Any, AnyConnection, FromRow};

use crate::{
    audit::{self, Actor, Event},
    db::{Db, DbError, now},
    validation::FieldErrors,
};

/// The format of a new department's letters: `500.15.16/0123/Disnaker/2026`.
pub const DEFAULT_FORMAT: &str = "{kode_klasifikasi}/{urut:04}/{unit}/{tahun}";
/// The format of its decrees, which never read like a letter's number:
/// `500.15.16/0007/Kep/Disnaker/2026`.
pub const DEFAULT_DECREE_FORMAT: &str = "{kode_klasifikasi}/{urut:04}/Kep/{unit}/{tahun}";

/// Classification codes every department starts with (Permendagri 83/2022); the
/// department adds its own.
pub const DEFAULT_CODES: &[(&str, &str)] = &[
    ("500.15", "Ketenagakerjaan"),
    ("500.15.16", "Pengawasan Norma Kerja dan Jaminan Sosial Tenaga Kerja"),
    ("100.3.3", "Keputusan Kepala Daerah"),
];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("nomor tidak ditemukan di agenda")]
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

/// What a number is made of.
pub struct Parts<'a> {
    pub classification_code: &'a str,
    pub serial: i64,
    pub unit: &'a str,
    pub year: i32,
    pub month: u32,
}

const ROMAN_MONTHS: [&str; 12] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"];

/// Fills a format: `{kode_klasifikasi}`, `{urut}` (or `{urut:04}`, zero-padded to the
/// width), `{unit}`, `{tahun}`, `{bulan}` (01–12) and `{bulan_romawi}` (I–XII). An empty
/// part leaves no doubled separator behind.
pub fn format_number(format: &str, parts: &Parts<'_>) -> Result<String, String> {
    check_format(format)?;
    let mut out = String::new();
    let mut rest = format;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').ok_or("kurung kurawal tidak ditutup")? + start;
        let token = &rest[start + 1..end];
        let (name, width) = match token.split_once(':') {
            Some((name, width)) => (
                name,
                Some(width.parse::<usize>().map_err(|_| format!("lebar {{{token}}} bukan angka"))?),
            ),
            None => (token, None),
        };
        let value = match name {
            "kode_klasifikasi" => parts.classification_code.to_string(),
            "urut" => match width {
                Some(w) => format!("{:0w$}", parts.serial, w = w),
                None => parts.serial.to_string(),
            },
            "unit" => parts.unit.to_string(),
            "tahun" => parts.year.to_string(),
            "bulan" => format!("{:02}", parts.month),
            "bulan_romawi" => ROMAN_MONTHS[(parts.month.clamp(1, 12) - 1) as usize].to_string(),
            other => return Err(format!("bagian {{{other}}} tidak dikenal")),
        };
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    // "500.15//2026" when the unit is empty: drop the empty segment.
    while out.contains("//") {
        out = out.replace("//", "/");
    }
    Ok(out.trim_matches('/').to_string())
}

/// A format must carry the serial and only known parts.
pub fn check_format(format: &str) -> Result<(), String> {
    if !format.contains("{urut") {
        return Err("format nomor harus memuat {urut}".into());
    }
    if format.len() > 120 {
        return Err("format nomor terlalu panjang".into());
    }
    let mut rest = format;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').ok_or("kurung kurawal tidak ditutup")? + start;
        let token = &rest[start + 1..end];
        let (name, width) = token.split_once(':').map(|(n, w)| (n, Some(w))).unwrap_or((token, None));
        if let Some(width) = width
            && !width.parse::<usize>().is_ok_and(|w| (1..=10).contains(&w))
        {
            return Err(format!("lebar {{{token}}} harus angka 1 sampai 10"));
        }
        if !["kode_klasifikasi", "urut", "unit", "tahun", "bulan", "bulan_romawi"].contains(&name) {
            return Err(format!(
                "bagian {{{name}}} tidak dikenal; yang ada: {{kode_klasifikasi}}, {{urut:04}}, {{unit}}, {{tahun}}, {{bulan}}, {{bulan_romawi}}"
            ));
        }
        rest = &rest[end + 1..];
    }
    Ok(())
}

/// Gives a new department the default classification codes.
pub async fn seed_codes(conn: &mut AnyConnection, department_id: i64) -> Result<(), Error> {
    for (code, name) in DEFAULT_CODES {
        sqlx::query("INSERT INTO classification_codes (department_id, code, name) VALUES ($1, $2, $3)")
            .bind(department_id)
            .bind(code)
            .bind(name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromRow, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    pub name: String,
}

pub async fn codes(db: &Db, department_id: i64) -> Result<Vec<Code>, Error> {
    Ok(
        sqlx::query_as::<Any, Code>("SELECT code, name FROM classification_codes WHERE department_id = $1 ORDER BY code")
            .bind(department_id)
            .fetch_all(&db.pool)
            .await?,
    )
}

/// The department's numbering settings.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Settings {
    /// Letters' format.
    pub number_format: String,
    /// Decrees' format.
    pub number_format_keputusan: String,
    pub number_unit: String,
    pub number_per_unit: i64,
}

impl Settings {
    /// The format of a series (`surat` or `keputusan`).
    pub fn format_for(&self, series: &str) -> &str {
        if series == "keputusan" {
            &self.number_format_keputusan
        } else {
            &self.number_format
        }
    }
}

pub async fn settings(db: &Db, department_id: i64) -> Result<Settings, Error> {
    Ok(sqlx::query_as::<Any, Settings>(
        "SELECT number_format, number_format_keputusan, number_unit, number_per_unit FROM departments WHERE id = $1",
    )
    .bind(department_id)
    .fetch_one(&db.pool)
    .await?)
}

/// Changes the department's numbering settings after checking the format.
pub async fn set_settings(db: &Db, actor: &Actor, department_id: i64, settings: &Settings) -> Result<(), Error> {
    let mut errors = FieldErrors::default();
    if let Err(e) = check_format(&settings.number_format) {
        errors.add("number_format", e);
    }
    if let Err(e) = check_format(&settings.number_format_keputusan) {
        errors.add("number_format_keputusan", e);
    }
    if errors.is_empty() && settings.number_format.trim() == settings.number_format_keputusan.trim() {
        errors.add(
            "number_format_keputusan",
            "Format keputusan harus berbeda dari format surat, agar nomor keputusan tidak sama dengan nomor surat.",
        );
    }
    errors.into_result().map_err(Error::Invalid)?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE departments SET number_format = $1, number_format_keputusan = $5, number_unit = $2, number_per_unit = $3 WHERE id = $4",
    )
    .bind(settings.number_format.trim())
    .bind(settings.number_unit.trim())
    .bind(settings.number_per_unit)
    .bind(department_id)
    .bind(settings.number_format_keputusan.trim())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "numbering.settings",
            subject: format!("department:{department_id}"),
            details: serde_json::to_value(settings).unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes the next serial of a series inside the caller's transaction. The upsert
/// creates the year's counter at 1 or increments it, and keeps its row locked until the
/// transaction ends.
pub async fn next_serial(conn: &mut AnyConnection, department_id: i64, series: &str, unit_code: &str, year: i32) -> Result<i64, Error> {
    let (serial,): (i64,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO number_series (department_id, series, unit_code, year, last_serial) VALUES ($1, $2, $3, $4, 1) \
         ON CONFLICT (department_id, series, unit_code, year) DO UPDATE SET last_serial = number_series.last_serial + 1 \
         RETURNING last_serial",
    )
    .bind(department_id)
    .bind(series)
    .bind(unit_code)
    .bind(year as i64)
    .fetch_one(&mut *conn)
    .await?;
    Ok(serial)
}

/// The states of a register line.
pub mod status {
    /// Issued with its signed letter, which is in force.
    pub const TERBIT: &str = "terbit";
    /// A number cancelled with its reason; never a signed letter's.
    pub const BATAL: &str = "batal";
    /// Its letter was revoked (Cabut surat).
    pub const DICABUT: &str = "dicabut";
    /// Its letter was superseded by a correction (ralat) or an amending decree.
    pub const DIGANTI: &str = "diganti";
}

/// What is refused when someone tries to cancel the number of a signed letter.
pub const SIGNED_NUMBER_MESSAGE: &str = "Nomor ini milik surat yang sudah ditandatangani dan tidak dapat dibatalkan di agenda. \
     Untuk menyatakan surat itu tidak berlaku, buka suratnya dan gunakan \"Cabut surat\": pencabutan tercatat \
     di agenda, di ekspornya dan di halaman verifikasi sekaligus.";

/// One line of the register.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Entry {
    pub id: i64,
    pub department_id: i64,
    pub series: String,
    pub unit_code: String,
    pub year: i64,
    pub serial: i64,
    pub number: String,
    pub letter_id: Option<i64>,
    /// One of [`status`]: `terbit`, `batal`, `dicabut` or `diganti`.
    pub status: String,
    pub letter_date: String,
    pub subject: String,
    pub classification_code: String,
    pub signer: String,
    pub cancelled_reason: String,
    pub cancelled_by: String,
    pub cancelled_at: Option<i64>,
    pub created_at: i64,
    /// Why, by whom and when its letter was revoked (`dicabut`).
    pub revoked_reason: String,
    pub revoked_by: String,
    pub revoked_at: Option<i64>,
    /// The number of the correction or amending decree that superseded its letter.
    pub superseded_by_number: String,
    pub superseded_at: Option<i64>,
}

impl Entry {
    /// Only a number without a signed letter may be cancelled (none is, today: numbers
    /// are taken at signature).
    pub fn cancellable(&self) -> bool {
        self.status == status::TERBIT && self.letter_id.is_none()
    }
}

/// A new line of the register, written in the signing transaction.
pub struct NewEntry<'a> {
    pub department_id: i64,
    pub series: &'a str,
    pub unit_code: &'a str,
    pub year: i32,
    pub serial: i64,
    pub number: &'a str,
    pub letter_id: i64,
    pub letter_date: &'a str,
    pub subject: &'a str,
    pub classification_code: &'a str,
    pub signer: &'a str,
}

pub async fn record(conn: &mut AnyConnection, e: NewEntry<'_>) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO register (department_id, series, unit_code, year, serial, number, letter_id, status, letter_date, subject, classification_code, signer, created_at, search) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $13, $8, $9, $10, $11, $12, $14)",
    )
    .bind(e.department_id)
    .bind(e.series)
    .bind(e.unit_code)
    .bind(e.year as i64)
    .bind(e.serial)
    .bind(e.number)
    .bind(e.letter_id)
    .bind(e.letter_date)
    .bind(e.subject)
    .bind(e.classification_code)
    .bind(e.signer)
    .bind(now())
    .bind(status::TERBIT)
    .bind(search_text(e.number, e.subject))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const ENTRY_COLUMNS: &str = "id, department_id, series, unit_code, year, serial, number, letter_id, status, letter_date, subject, \
     classification_code, signer, cancelled_reason, cancelled_by, cancelled_at, created_at, revoked_reason, revoked_by, revoked_at, \
     superseded_by_number, superseded_at";

/// The register of a department for a year (all years when `None`), by series and serial.
pub async fn register(db: &Db, department_id: i64, year: Option<i32>) -> Result<Vec<Entry>, Error> {
    Ok(sqlx::query_as::<Any, Entry>(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} FROM register WHERE department_id = $1 AND ($2 = 0 OR year = $2) ORDER BY year, series, unit_code, serial"
    )))
    .bind(department_id)
    .bind(year.map(i64::from).unwrap_or(0))
    .fetch_all(&db.pool)
    .await?)
}

/// What the register page asks for: a year (all when `None`), a series, a status and a
/// piece of number or subject, each empty for any.
#[derive(Debug, Clone, Default)]
pub struct RegisterQuery {
    pub year: Option<i32>,
    pub series: String,
    pub status: String,
    pub text: String,
}

/// One page of the register (`limit` lines from `offset`, in register order) and how
/// many lines match in all: the filter runs in the database, each condition only when
/// asked for, so an unfiltered page is one range of the register's index and costs the
/// same at 100 numbers as at 100,000.
pub async fn register_page(
    db: &Db,
    department_id: i64,
    query: &RegisterQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Entry>, i64), Error> {
    let filter = query.filter(department_id, db.backend);
    let page_sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM register WHERE {} ORDER BY year, series, unit_code, serial, id LIMIT {} OFFSET {}",
        filter.sql,
        limit.clamp(1, 1000),
        offset.max(0)
    );
    let count_sql = format!("SELECT COUNT(*) FROM register WHERE {}", filter.sql);
    // Two connections at once: a search by text reads the register twice, side by side.
    let (entries, (total,)) = tokio::try_join!(
        filter
            .bind(sqlx::query_as::<Any, Entry>(sqlx::AssertSqlSafe(page_sql)))
            .fetch_all(&db.pool),
        filter
            .bind(sqlx::query_as::<Any, (i64,)>(sqlx::AssertSqlSafe(count_sql)))
            .fetch_one(&db.pool),
    )?;
    Ok((entries, total))
}

/// The register lines after `after` (the last line of the previous batch; the first
/// batch when `None`) that `query` keeps, at most `limit`, in register order: how an
/// export reads the register batch by batch, each batch one indexed range, without
/// holding it all or skipping a line inserted meanwhile before the cursor.
pub async fn register_after(
    db: &Db,
    department_id: i64,
    query: &RegisterQuery,
    after: Option<&Entry>,
    limit: i64,
) -> Result<Vec<Entry>, Error> {
    let filter = query.filter(department_id, db.backend);
    let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM register WHERE {}", filter.sql);
    if after.is_some() {
        let n = filter.args.len() + 1;
        sql.push_str(&format!(
            " AND (year, series, unit_code, serial, id) > (${n}, ${}, ${}, ${}, ${})",
            n + 1,
            n + 2,
            n + 3,
            n + 4
        ));
    }
    sql.push_str(&format!(
        " ORDER BY year, series, unit_code, serial, id LIMIT {}",
        limit.clamp(1, 10_000)
    ));
    let mut select = filter.bind(sqlx::query_as::<Any, Entry>(sqlx::AssertSqlSafe(sql)));
    if let Some(e) = after {
        select = select
            .bind(e.year)
            .bind(e.series.clone())
            .bind(e.unit_code.clone())
            .bind(e.serial)
            .bind(e.id);
    }
    Ok(select.fetch_all(&db.pool).await?)
}

/// What the register's search looks in: the number and the subject, lower case
/// (`register.search`, written with the line).
pub fn search_text(number: &str, subject: &str) -> String {
    format!("{number} {subject}").to_lowercase()
}

/// A value of the register's filter.
enum Arg {
    Int(i64),
    Text(String),
}

/// The register's filter as SQL (`$1`, `$2` … in order) and its values.
struct RegisterFilter {
    sql: String,
    args: Vec<Arg>,
}

impl RegisterFilter {
    fn and(&mut self, condition: impl Fn(usize) -> String, value: Arg) {
        self.args.push(value);
        self.sql.push_str(" AND ");
        self.sql.push_str(&condition(self.args.len()));
    }

    fn bind<'q, O>(
        &'q self,
        mut query: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments>,
    ) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments> {
        for arg in &self.args {
            query = match arg {
                Arg::Int(n) => query.bind(*n),
                Arg::Text(t) => query.bind(t.as_str()),
            };
        }
        query
    }
}

impl RegisterQuery {
    fn filter(&self, department_id: i64, backend: crate::db::Backend) -> RegisterFilter {
        let mut filter = RegisterFilter {
            sql: "department_id = $1".into(),
            args: vec![Arg::Int(department_id)],
        };
        if let Some(year) = self.year {
            filter.and(|n| format!("year = ${n}"), Arg::Int(i64::from(year)));
        }
        if !self.series.is_empty() {
            filter.and(|n| format!("series = ${n}"), Arg::Text(self.series.clone()));
        }
        if !self.status.is_empty() {
            filter.and(|n| format!("status = ${n}"), Arg::Text(self.status.clone()));
        }
        let text = self.text.trim().to_lowercase();
        if !text.is_empty() {
            // The text as it is typed, `%` and `_` included, anywhere in the line's
            // lower-case number and subject: one column, no pattern, no case folding.
            let find = if backend == crate::db::Backend::Postgres {
                "strpos"
            } else {
                "instr"
            };
            filter.and(|n| format!("{find}(search, ${n}) > 0"), Arg::Text(text));
        }
        filter
    }
}

/// One line of a department's register.
pub async fn entry(db: &Db, department_id: i64, entry_id: i64) -> Result<Option<Entry>, Error> {
    Ok(sqlx::query_as::<Any, Entry>(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} FROM register WHERE id = $1 AND department_id = $2"
    )))
    .bind(entry_id)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Marks an issued number cancelled (batal), with the reason and who; the line stays.
/// Refused for the number of a signed letter: that letter is revoked instead
/// ([`SIGNED_NUMBER_MESSAGE`]), so the register never disagrees with its public record.
pub async fn cancel(db: &Db, actor: &Actor, department_id: i64, entry_id: i64, reason: &str) -> Result<(), Error> {
    let reason = reason.trim();
    let mut tx = db.begin_write().await?;
    let line: Option<(Option<i64>, String)> =
        sqlx::query_as::<Any, (Option<i64>, String)>("SELECT letter_id, status FROM register WHERE id = $1 AND department_id = $2")
            .bind(entry_id)
            .bind(department_id)
            .fetch_optional(&mut *tx)
            .await?;
    match line {
        None => return Err(Error::NotFound),
        Some((Some(_), _)) => return Err(Error::Conflict(SIGNED_NUMBER_MESSAGE.into())),
        Some((None, state)) if state != status::TERBIT => {
            return Err(Error::Conflict("Nomor ini sudah dibatalkan.".into()));
        }
        Some(_) => {}
    }
    if reason.chars().count() < 5 {
        return Err(Error::Invalid(FieldErrors::single("reason", "Tuliskan alasan pembatalan nomor.")));
    }
    let done = sqlx::query(
        "UPDATE register SET status = $6, cancelled_reason = $1, cancelled_by = $2, cancelled_at = $3 \
         WHERE id = $4 AND department_id = $5 AND status = $7 AND letter_id IS NULL",
    )
    .bind(reason)
    .bind(actor.label())
    .bind(now())
    .bind(entry_id)
    .bind(department_id)
    .bind(status::BATAL)
    .bind(status::TERBIT)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(Error::Conflict("Nomor ini tidak ada atau sudah dibatalkan.".into()));
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "number.cancelled",
            subject: format!("register:{entry_id}"),
            details: serde_json::json!({ "reason": reason }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Inside the revocation transaction: the letter's line becomes `dicabut` with the
/// reason, who and when (also a line already `diganti`: the revocation is what the
/// public page shows). A signed letter without an issued line is refused, so the
/// revocation does not happen without its register entry.
pub async fn mark_revoked(
    conn: &mut AnyConnection,
    actor: &Actor,
    department_id: i64,
    letter_id: i64,
    reason: &str,
    at: i64,
) -> Result<(), Error> {
    let line: Option<(i64, String)> = sqlx::query_as::<Any, (i64, String)>(
        "UPDATE register SET status = $1, revoked_reason = $2, revoked_by = $3, revoked_at = $4 \
         WHERE department_id = $5 AND letter_id = $6 AND status IN ($7, $8) RETURNING id, number",
    )
    .bind(status::DICABUT)
    .bind(reason)
    .bind(actor.label())
    .bind(at)
    .bind(department_id)
    .bind(letter_id)
    .bind(status::TERBIT)
    .bind(status::DIGANTI)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((entry_id, number)) = line else {
        return Err(Error::Conflict(
            "Nomor surat ini tidak tercatat terbit di agenda, sehingga pencabutannya tidak dapat dicatat. Hubungi administrator.".into(),
        ));
    };
    audit::record(
        conn,
        Event {
            department_id: Some(department_id),
            actor,
            action: "number.revoked",
            subject: format!("register:{entry_id}"),
            details: serde_json::json!({ "letter_id": letter_id, "number": number, "reason": reason }),
        },
    )
    .await?;
    Ok(())
}

/// Inside the signing transaction of a correction or amending decree: the line of the
/// letter it replaces becomes `diganti` with the new number (a revoked letter's line
/// stays `dicabut` and gains the new number).
pub async fn mark_superseded(
    conn: &mut AnyConnection,
    actor: &Actor,
    department_id: i64,
    old_letter_id: i64,
    new_number: &str,
    at: i64,
) -> Result<(), Error> {
    let line: Option<(i64, String, String)> = sqlx::query_as::<Any, (i64, String, String)>(
        "UPDATE register SET superseded_by_number = $1, superseded_at = $2, \
         status = CASE WHEN status = $3 THEN $4 ELSE status END \
         WHERE department_id = $5 AND letter_id = $6 RETURNING id, number, status",
    )
    .bind(new_number)
    .bind(at)
    .bind(status::TERBIT)
    .bind(status::DIGANTI)
    .bind(department_id)
    .bind(old_letter_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((entry_id, number, state)) = line else {
        return Err(Error::Conflict(
            "Surat yang diganti tidak tercatat di agenda, sehingga penggantiannya tidak dapat dicatat. Hubungi administrator.".into(),
        ));
    };
    audit::record(
        conn,
        Event {
            department_id: Some(department_id),
            actor,
            action: "number.superseded",
            subject: format!("register:{entry_id}"),
            details: serde_json::json!({
                "letter_id": old_letter_id,
                "number": number,
                "superseded_by_number": new_number,
                "status": state,
            }),
        },
    )
    .await?;
    Ok(())
}

/// Serials missing from a series' register (should always be empty: the check behind
/// "no silent gaps").
pub fn gaps(serials: &[i64]) -> Vec<i64> {
    let mut sorted = serials.to_vec();
    sorted.sort_unstable();
    let mut missing = Vec::new();
    let mut expected = 1;
    for s in sorted {
        while expected < s {
            missing.push(expected);
            expected += 1;
        }
        expected = s + 1;
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(serial: i64, unit: &str) -> Parts<'_> {
        Parts {
            classification_code: "500.15.16",
            serial,
            unit,
            year: 2026,
            month: 11,
        }
    }

    #[test]
    fn the_default_format_and_variants() {
        assert_eq!(
            format_number(DEFAULT_FORMAT, &parts(123, "Disnaker")).unwrap(),
            "500.15.16/0123/Disnaker/2026"
        );
        assert_eq!(
            format_number(DEFAULT_FORMAT, &parts(12345, "Disnaker")).unwrap(),
            "500.15.16/12345/Disnaker/2026"
        );
        assert_eq!(format_number(DEFAULT_FORMAT, &parts(7, "")).unwrap(), "500.15.16/0007/2026");
        assert_eq!(
            format_number("{kode_klasifikasi}/{urut}/{unit}/{bulan_romawi}/{tahun}", &parts(7, "HIJS")).unwrap(),
            "500.15.16/7/HIJS/XI/2026"
        );
        assert_eq!(format_number("{urut:03}-{bulan}.{tahun}", &parts(5, "")).unwrap(), "005-11.2026");
    }

    #[test]
    fn bad_formats_are_explained() {
        assert!(check_format("{kode_klasifikasi}/{tahun}").unwrap_err().contains("{urut}"));
        assert!(check_format("{urut}/{nomor}").unwrap_err().contains("{nomor}"));
        assert!(check_format("{urut").is_err());
        assert!(format_number("{urut:xx}", &parts(1, "")).is_err());
        assert!(check_format("{urut:1000000}").unwrap_err().contains("1 sampai 10"));
    }

    #[test]
    fn gaps_are_found() {
        assert!(gaps(&[3, 1, 2]).is_empty());
        assert_eq!(gaps(&[1, 4, 2]), [3]);
        assert_eq!(gaps(&[3]), [1, 2]);
        assert!(gaps(&[]).is_empty());
    }
}
