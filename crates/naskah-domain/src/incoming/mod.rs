//! Incoming letters (surat masuk): registered by the staff with an agenda number per
//! year and the scanned PDF, passed on by the Kepala Dinas (disposisi) to an official
//! or a unit with instructions and a due date; the official (or every member of the
//! unit) sees it among their tasks, and one of them marks it done. A village's reply names the confirmation letter it answers.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, FromRow};

use crate::{
    accounts::{Role, User},
    audit::{self, Event},
    db::{Db, DbError, now},
    departments::Department,
    validation::{FieldErrors, clean},
};

/// Largest scanned letter accepted.
pub const MAX_PDF: usize = 10 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("surat masuk tidak ditemukan")]
    NotFound,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Forbidden(String),
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

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Incoming {
    pub id: i64,
    pub department_id: i64,
    pub agenda_year: i64,
    pub agenda_serial: i64,
    pub received_on: String,
    pub sender: String,
    pub recipient_id: Option<i64>,
    pub letter_number: String,
    pub letter_date: String,
    pub subject: String,
    pub reply_to_letter_id: Option<i64>,
    pub pdf_name: String,
    pub pdf_sha256: String,
    pub pdf_size: i64,
    pub status: String,
    pub applied_at: Option<i64>,
    pub registered_by: String,
    pub registered_at: i64,
}

impl Incoming {
    /// "SM/0007/2026".
    pub fn agenda_number(&self) -> String {
        format!("SM/{:04}/{}", self.agenda_serial, self.agenda_year)
    }
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "diterima" => "diterima, menunggu disposisi",
            "didisposisi" => "didisposisi",
            "selesai" => "selesai",
            _ => "?",
        }
    }
}

const COLUMNS: &str = "id, department_id, agenda_year, agenda_serial, received_on, sender, recipient_id, letter_number, \
     letter_date, subject, reply_to_letter_id, pdf_name, pdf_sha256, pdf_size, status, applied_at, registered_by, registered_at";

/// What the staff types from the letter.
#[derive(Debug, Clone, Default)]
pub struct IncomingInput {
    pub received_on: String,
    pub sender: String,
    pub letter_number: String,
    pub letter_date: String,
    pub subject: String,
    pub reply_to_letter_id: Option<i64>,
}

/// The scanned letter.
pub struct Scan<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

fn date(errors: &mut FieldErrors, field: &str, value: &str, label: &str, today: NaiveDate) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d") {
        Ok(d) if d > today => {
            errors.add(field, format!("{label} tidak boleh sesudah hari ini."));
            None
        }
        Ok(d) => Some(d),
        Err(_) if value.trim().is_empty() => {
            errors.add(field, format!("{label} wajib diisi."));
            None
        }
        Err(_) => {
            errors.add(field, format!("{label} harus tanggal yang ada, misalnya 2026-11-20."));
            None
        }
    }
}

/// Who registers incoming letters: the agendaris, the typist (the SOP's Staf) and
/// administrators. The pages ask here before offering the form.
pub fn may_register(user: &User) -> bool {
    user.has(Role::Agendaris) || user.has(Role::Typist) || user.has(Role::Administrator)
}

/// Registers an incoming letter with the next agenda number of its year.
pub async fn register(
    db: &Db,
    user: &User,
    department: &Department,
    input: IncomingInput,
    scan: Option<Scan<'_>>,
) -> Result<Incoming, Error> {
    if !may_register(user) {
        return Err(Error::Forbidden("Hanya staf atau agendaris yang mencatat surat masuk.".into()));
    }
    let today = department.tz().today();
    let mut errors = FieldErrors::default();
    let received = date(&mut errors, "diterima", &input.received_on, "Tanggal diterima", today);
    let letter_date = date(&mut errors, "tanggal_surat", &input.letter_date, "Tanggal surat", today);
    if let (Some(r), Some(l)) = (received, letter_date)
        && l > r
    {
        errors.add("tanggal_surat", "Tanggal surat tidak boleh sesudah tanggal diterima.");
    }
    let mut sender = clean(&input.sender);
    let number = clean(&input.letter_number);
    let subject = clean(&input.subject);
    for (field, value, label, max) in [("nomor_surat", &number, "Nomor surat", 100), ("hal", &subject, "Hal", 300)] {
        if value.is_empty() {
            errors.add(field, format!("{label} wajib diisi."));
        } else if value.chars().count() > max {
            errors.add(field, format!("{label} paling banyak {max} huruf."));
        }
    }
    // A reply: the confirmation letter must be ours, signed, to one village.
    let mut recipient_id = None;
    if let Some(letter_id) = input.reply_to_letter_id {
        let row: Option<(Option<String>, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT l.number, l.recipient_id, r.name FROM letters l LEFT JOIN recipients r ON r.id = l.recipient_id \
             WHERE l.id = $1 AND l.department_id = $2",
        )
        .bind(letter_id)
        .bind(department.id)
        .fetch_optional(&db.pool)
        .await?;
        match row {
            Some((Some(_), Some(recipient), name)) => {
                recipient_id = Some(recipient);
                if sender.is_empty() {
                    sender = name.unwrap_or_default();
                }
            }
            Some((None, _, _)) => errors.add("balasan_untuk", "Surat yang dibalas belum ditandatangani."),
            Some((Some(_), None, _)) => errors.add("balasan_untuk", "Surat yang dibalas tidak ditujukan ke satu desa/kelurahan."),
            None => errors.add("balasan_untuk", "Surat yang dibalas tidak ditemukan."),
        }
    }
    if sender.is_empty() {
        errors.add("pengirim", "Pengirim wajib diisi.");
    } else if sender.chars().count() > 200 {
        errors.add("pengirim", "Pengirim paling banyak 200 huruf.");
    }
    if let Some(scan) = &scan {
        if scan.bytes.len() > MAX_PDF {
            errors.add(
                "berkas",
                format!(
                    "Berkas {} MB; paling besar {} MB.",
                    scan.bytes.len() / 1024 / 1024 + 1,
                    MAX_PDF / 1024 / 1024
                ),
            );
        } else if !scan.bytes.starts_with(b"%PDF-") {
            errors.add("berkas", "Berkas bukan PDF; pindai surat sebagai PDF.");
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let (received, letter_date) = (received.unwrap_or(today), letter_date.unwrap_or(today));
    let year = i64::from(received.year());
    let mut tx = db.begin_write().await?;
    // The department's row locked first: registrations of one department take their
    // agenda numbers one after another (SQLite's write lock already does so).
    sqlx::query("UPDATE departments SET updated_at = updated_at WHERE id = $1")
        .bind(department.id)
        .execute(&mut *tx)
        .await?;
    let (serial,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(agenda_serial), 0) + 1 FROM incoming_letters WHERE department_id = $1 AND agenda_year = $2")
            .bind(department.id)
            .bind(year)
            .fetch_one(&mut *tx)
            .await?;
    let (pdf, pdf_name, pdf_sha, pdf_size) = match &scan {
        Some(s) => (
            Some(s.bytes.to_vec()),
            s.name.chars().take(200).collect::<String>(),
            hex::encode(Sha256::digest(s.bytes)),
            s.bytes.len() as i64,
        ),
        None => (None, String::new(), String::new(), 0),
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO incoming_letters (department_id, agenda_year, agenda_serial, received_on, sender, recipient_id, letter_number, \
         letter_date, subject, reply_to_letter_id, pdf, pdf_name, pdf_sha256, pdf_size, status, registered_by, registered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'diterima', $15, $16) RETURNING id",
    )
    .bind(department.id)
    .bind(year)
    .bind(serial)
    .bind(received.format("%Y-%m-%d").to_string())
    .bind(&sender)
    .bind(recipient_id)
    .bind(&number)
    .bind(letter_date.format("%Y-%m-%d").to_string())
    .bind(&subject)
    .bind(input.reply_to_letter_id)
    .bind(pdf)
    .bind(&pdf_name)
    .bind(&pdf_sha)
    .bind(pdf_size)
    .bind(user.actor().label())
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor: &user.actor(),
            action: "incoming.registered",
            subject: format!("incoming:{id}"),
            details: serde_json::json!({
                "agenda": format!("SM/{serial:04}/{year}"), "sender": sender, "number": number,
                "reply_to": input.reply_to_letter_id, "pdf_sha256": pdf_sha,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department.id, id).await
}

pub async fn get(db: &Db, department_id: i64, id: i64) -> Result<Incoming, Error> {
    sqlx::query_as::<Any, Incoming>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incoming_letters WHERE id = $1 AND department_id = $2"
    )))
    .bind(id)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn list(db: &Db, department_id: i64, limit: i64) -> Result<Vec<Incoming>, Error> {
    Ok(sqlx::query_as::<Any, Incoming>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incoming_letters WHERE department_id = $1 ORDER BY agenda_year DESC, agenda_serial DESC LIMIT $2"
    )))
    .bind(department_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}

/// Incoming letters registered and not yet passed on, oldest first: the Kepala Dinas's
/// dispositions to give (SOP step 18).
pub async fn awaiting_disposition(db: &Db, department_id: i64) -> Result<Vec<Incoming>, Error> {
    Ok(sqlx::query_as::<Any, Incoming>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incoming_letters WHERE department_id = $1 AND status = 'diterima' ORDER BY registered_at, id"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Villages' replies whose answers are not yet applied to the candidates, oldest first
/// (SOP step 19).
pub async fn replies_to_apply(db: &Db, department_id: i64) -> Result<Vec<Incoming>, Error> {
    Ok(sqlx::query_as::<Any, Incoming>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incoming_letters WHERE department_id = $1 AND reply_to_letter_id IS NOT NULL \
         AND applied_at IS NULL ORDER BY registered_at, id"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The replies registered to one of our letters.
pub async fn replies_to(db: &Db, department_id: i64, letter_id: i64) -> Result<Vec<Incoming>, Error> {
    Ok(sqlx::query_as::<Any, Incoming>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incoming_letters WHERE department_id = $1 AND reply_to_letter_id = $2 ORDER BY id"
    )))
    .bind(department_id)
    .bind(letter_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The scanned PDF, with its file name.
pub async fn scan(db: &Db, department_id: i64, id: i64) -> Result<Option<(String, Vec<u8>)>, Error> {
    let row: Option<(Option<Vec<u8>>, String)> =
        sqlx::query_as("SELECT pdf, pdf_name FROM incoming_letters WHERE id = $1 AND department_id = $2")
            .bind(id)
            .bind(department_id)
            .fetch_optional(&db.pool)
            .await?;
    let (pdf, name) = row.ok_or(Error::NotFound)?;
    Ok(pdf.map(|p| (name, p)))
}

/// Marks a reply's results as applied to the candidates (inside the caller's transaction).
pub async fn mark_applied(conn: &mut sqlx::AnyConnection, id: i64) -> Result<(), Error> {
    sqlx::query("UPDATE incoming_letters SET applied_at = $1 WHERE id = $2")
        .bind(now())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A disposition with the names of those involved.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Disposition {
    pub id: i64,
    pub incoming_id: i64,
    pub from_name: String,
    pub to_user_id: Option<i64>,
    pub to_unit_id: Option<i64>,
    /// The official's or the unit's name.
    pub to_name: String,
    pub instructions: String,
    pub due_on: String,
    pub created_at: i64,
    pub done_at: Option<i64>,
    pub done_note: String,
}

const DISPOSITION_QUERY: &str = "SELECT d.id, d.incoming_id, f.display_name AS from_name, d.to_user_id, d.to_unit_id, \
     COALESCE(t.display_name, u.name, '') AS to_name, d.instructions, d.due_on, d.created_at, d.done_at, d.done_note \
     FROM dispositions d JOIN users f ON f.id = d.from_user_id LEFT JOIN users t ON t.id = d.to_user_id \
     LEFT JOIN units u ON u.id = d.to_unit_id";

/// The units a user belongs to (through their official's position).
const UNITS_OF_USER: &str = "SELECT p.unit_id FROM users us JOIN officials o ON o.id = us.official_id \
     JOIN positions p ON p.id = o.position_id WHERE us.id = $1 AND p.unit_id IS NOT NULL";

/// Where a disposition goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    User(i64),
    Unit(i64),
}

pub async fn dispositions(db: &Db, incoming_id: i64) -> Result<Vec<Disposition>, Error> {
    Ok(sqlx::query_as::<Any, Disposition>(sqlx::AssertSqlSafe(format!(
        "{DISPOSITION_QUERY} WHERE d.incoming_id = $1 ORDER BY d.id"
    )))
    .bind(incoming_id)
    .fetch_all(&db.pool)
    .await?)
}

/// What the Kepala Dinas writes on the disposition sheet.
#[derive(Debug, Clone, Default)]
pub struct DispositionInput {
    pub to: Option<Target>,
    pub instructions: String,
    pub due_on: String,
}

/// The Kepala Dinas passes an incoming letter on (SOP step 18).
pub async fn dispose(db: &Db, user: &User, department: &Department, id: i64, input: DispositionInput) -> Result<Disposition, Error> {
    if !user.has(Role::Signer) {
        return Err(Error::Forbidden(
            "Hanya Kepala Dinas (penandatangan) yang mendisposisikan surat masuk.".into(),
        ));
    }
    let incoming = get(db, department.id, id).await?;
    let mut errors = FieldErrors::default();
    let instructions = clean(&input.instructions);
    if instructions.is_empty() {
        errors.add("instruksi", "Isi instruksi disposisi.");
    } else if instructions.chars().count() > 1000 {
        errors.add("instruksi", "Instruksi paling banyak 1.000 huruf.");
    }
    let today = department.tz().today();
    match NaiveDate::parse_from_str(input.due_on.trim(), "%Y-%m-%d") {
        Ok(d) if d < today => errors.add("batas", "Batas waktu tidak boleh sebelum hari ini."),
        Ok(_) => {}
        Err(_) => errors.add("batas", "Batas waktu harus tanggal, misalnya 2026-11-25."),
    }
    let found: Option<(i64,)> = match input.to {
        Some(Target::User(to)) => {
            sqlx::query_as("SELECT id FROM users WHERE id = $1 AND department_id = $2 AND active = 1")
                .bind(to)
                .bind(department.id)
                .fetch_optional(&db.pool)
                .await?
        }
        Some(Target::Unit(to)) => {
            sqlx::query_as("SELECT id FROM units WHERE id = $1 AND department_id = $2")
                .bind(to)
                .bind(department.id)
                .fetch_optional(&db.pool)
                .await?
        }
        None => None,
    };
    let (to_user, to_unit) = match (input.to, found) {
        (Some(Target::User(id)), Some(_)) => (Some(id), None),
        (Some(Target::Unit(id)), Some(_)) => (None, Some(id)),
        _ => {
            errors.add("kepada", "Pilih pejabat, staf atau unit yang menerima disposisi.");
            (None, None)
        }
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin_write().await?;
    let (disposition_id,): (i64,) = sqlx::query_as(
        "INSERT INTO dispositions (department_id, incoming_id, from_user_id, to_user_id, to_unit_id, instructions, due_on, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(department.id)
    .bind(id)
    .bind(user.id)
    .bind(to_user)
    .bind(to_unit)
    .bind(&instructions)
    .bind(input.due_on.trim())
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE incoming_letters SET status = 'didisposisi' WHERE id = $1 AND status = 'diterima'")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor: &user.actor(),
            action: "incoming.disposed",
            subject: format!("incoming:{id}"),
            details: serde_json::json!({
                "agenda": incoming.agenda_number(), "to_user": to_user, "to_unit": to_unit,
                "instructions": instructions, "due": input.due_on.trim(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    dispositions(db, id)
        .await?
        .into_iter()
        .find(|d| d.id == disposition_id)
        .ok_or(Error::NotFound)
}

/// The open dispositions to a user or to a unit they belong to, oldest due first, with
/// their letters.
pub async fn open_tasks(db: &Db, department_id: i64, user_id: i64) -> Result<Vec<(Disposition, Incoming)>, Error> {
    let open = sqlx::query_as::<Any, Disposition>(sqlx::AssertSqlSafe(format!(
        "{DISPOSITION_QUERY} WHERE d.department_id = $2 AND d.done_at IS NULL \
         AND (d.to_user_id = $1 OR d.to_unit_id IN ({UNITS_OF_USER})) ORDER BY d.due_on, d.id"
    )))
    .bind(user_id)
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(open.len());
    for d in open {
        let incoming = get(db, department_id, d.incoming_id).await?;
        out.push((d, incoming));
    }
    Ok(out)
}

/// The person a disposition went to marks it done, with a note.
pub async fn complete(db: &Db, user: &User, department_id: i64, disposition_id: i64, note: &str) -> Result<(), Error> {
    let note = clean(note);
    let mut tx = db.begin_write().await?;
    let row: Option<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT incoming_id, to_user_id, to_unit_id FROM dispositions WHERE id = $1 AND department_id = $2 AND done_at IS NULL",
    )
    .bind(disposition_id)
    .bind(department_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((incoming_id, to_user, to_unit)) = row else {
        return Err(Error::Conflict("Disposisi ini sudah selesai atau tidak ada.".into()));
    };
    let member = match to_unit {
        Some(unit) => sqlx::query_as::<Any, (i64,)>(UNITS_OF_USER)
            .bind(user.id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .any(|(u,)| *u == unit),
        None => false,
    };
    if to_user != Some(user.id) && !member {
        return Err(Error::Forbidden("Disposisi ini ditujukan kepada orang atau unit lain.".into()));
    }
    sqlx::query("UPDATE dispositions SET done_at = $1, done_note = $2 WHERE id = $3")
        .bind(now())
        .bind(&note)
        .bind(disposition_id)
        .execute(&mut *tx)
        .await?;
    // The letter is done when every disposition of it is.
    sqlx::query(
        "UPDATE incoming_letters SET status = 'selesai' WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM dispositions WHERE incoming_id = $1 AND done_at IS NULL)",
    )
    .bind(incoming_id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor: &user.actor(),
            action: "incoming.disposition_done",
            subject: format!("incoming:{incoming_id}"),
            details: serde_json::json!({ "disposition": disposition_id, "note": note }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

const ANSWERABLE: &str = "SELECT l.id, l.number, r.name FROM letters l JOIN recipients r ON r.id = l.recipient_id \
     WHERE l.department_id = $1 AND l.number IS NOT NULL";

fn labelled(rows: Vec<(i64, String, String)>) -> Vec<(i64, String)> {
    rows.into_iter()
        .map(|(id, number, name)| (id, format!("{number} — {name}")))
        .collect()
}

/// Our signed letters to one village each (the confirmation letters), that a reply can
/// answer: (letter id, "number — village"), newest first.
pub async fn answerable_letters(db: &Db, department_id: i64) -> Result<Vec<(i64, String)>, Error> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!("{ANSWERABLE} ORDER BY l.id DESC LIMIT 2000")))
        .bind(department_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(labelled(rows))
}

/// The "number — village" of one answerable letter.
pub async fn answerable_label(db: &Db, department_id: i64, letter_id: i64) -> Result<Option<String>, Error> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!("{ANSWERABLE} AND l.id = $2")))
        .bind(department_id)
        .bind(letter_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(labelled(rows).pop().map(|(_, label)| label))
}
