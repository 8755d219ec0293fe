//! The delivery log: for every signed letter, one row per addressee and per copy
//! (tembusan), each through one channel (e-mail, hand delivery, courier, export to
//! another e-office system) with its status, times and who changed it. The rows are
//! planned inside the signing transaction, so a signed letter never lacks its list.

use serde::Serialize;
use serde_json::Value;
use sqlx::{Any, AnyConnection, FromRow};

use super::{Error, recipients::Recipient};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    letters::{FieldType, Manifest},
    validation::FieldErrors,
    workflow::{
        self, Letter,
        distribution_plan::{BoxFuture, DistributionPlanner, PlannedDistribution},
    },
};

pub const CHANNELS: [(&str, &str); 4] = [
    ("email", "Surel"),
    ("hand", "Antar langsung"),
    ("courier", "Kurir/pos"),
    ("export", "Ekspor ke sistem e-office lain"),
];

pub const STATUSES: [(&str, &str); 5] = [
    ("queued", "Menunggu dikirim"),
    ("sent", "Terkirim"),
    ("delivered", "Diterima"),
    ("failed", "Gagal"),
    ("acknowledged", "Dikonfirmasi penerima"),
];

fn label(pairs: &[(&'static str, &'static str)], key: &str) -> &'static str {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("")
}

pub fn channel_label(key: &str) -> &'static str {
    label(&CHANNELS, key)
}

pub fn status_label(key: &str) -> &'static str {
    label(&STATUSES, key)
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Delivery {
    pub id: i64,
    pub department_id: i64,
    pub letter_id: i64,
    pub recipient_id: Option<i64>,
    /// `kepada` or `tembusan`.
    pub role: String,
    pub name: String,
    pub channel: String,
    pub address: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_error: String,
    #[serde(skip)]
    pub receipt_hash: Option<String>,
    pub receiver_name: String,
    pub queued_at: i64,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub updated_at: i64,
    pub updated_by: String,
}

impl Delivery {
    pub fn channel_label(&self) -> &'static str {
        channel_label(&self.channel)
    }
    pub fn status_label(&self) -> &'static str {
        status_label(&self.status)
    }
    /// The letter has left the department towards this recipient.
    pub fn is_out(&self) -> bool {
        matches!(self.status.as_str(), "sent" | "delivered" | "acknowledged")
    }
    pub fn role_label(&self) -> &'static str {
        if self.role == "tembusan" { "Tembusan" } else { "Kepada" }
    }
}

pub(crate) const COLUMNS: &str = "id, department_id, letter_id, recipient_id, role, name, channel, address, status, attempts, next_attempt_at, \
     last_error, receipt_hash, receiver_name, queued_at, sent_at, delivered_at, acknowledged_at, failed_at, updated_at, updated_by";

/// One addressee or copy as the letter names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub role: &'static str,
    pub name: String,
}

/// A name as compared with the directory: lower case, without "Yth." and without
/// parenthesised remarks such as "(sebagai laporan)".
fn match_key(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in name.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = (depth - 1).max(0),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let lower = out.to_lowercase();
    let lower = lower.trim().trim_start_matches("yth.").trim_start_matches("yth");
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Who a signed letter goes to: its own village (a letter of a batch), the village its
/// per-village fields name, every name in its recipients fields; copies from the
/// `tembusan` field (or the template's copies field). Each name once.
pub fn addressees(manifest: &Manifest, own: Option<&Recipient>, fields: &Value) -> Vec<Addressee> {
    let mut out: Vec<Addressee> = Vec::new();
    let mut push = |role: &'static str, name: String| {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if !name.is_empty() && !out.iter().any(|a| match_key(&a.name) == match_key(&name)) {
            out.push(Addressee { role, name });
        }
    };
    let copies_field = manifest
        .per_village
        .as_ref()
        .map(|p| p.copies_field.as_str())
        .filter(|f| !f.is_empty())
        .unwrap_or("tembusan");
    if let Some(own) = own {
        push(
            "kepada",
            if own.head_title.is_empty() {
                own.name.clone()
            } else {
                own.head_title.clone()
            },
        );
    } else if let Some(per_village) = &manifest.per_village {
        let text = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default().trim().to_string();
        let village = text(&per_village.name_field);
        if !village.is_empty() {
            let head = if text(&per_village.kind_field) == "Kelurahan" {
                "Lurah"
            } else {
                "Kepala Desa"
            };
            push("kepada", format!("{head} {village}"));
        }
    }
    for field in manifest.fields.iter().filter(|f| f.kind == FieldType::Recipients) {
        let role = if field.name == copies_field { "tembusan" } else { "kepada" };
        for item in fields.get(&field.name).and_then(Value::as_array).into_iter().flatten() {
            let name = item.get("nama").and_then(Value::as_str).or(item.as_str()).unwrap_or_default();
            push(role, name.to_string());
        }
    }
    out
}

/// The directory entry a name means: its name or its head's title, compared without
/// case and remarks.
fn find<'a>(directory: &'a [Recipient], name: &str) -> Option<&'a Recipient> {
    let key = match_key(name);
    directory
        .iter()
        .find(|r| match_key(&r.head_title) == key)
        .or_else(|| directory.iter().find(|r| match_key(&r.name) == key))
}

/// The workflow's distribution planner: the directory decides who receives a signed
/// letter ([`plan`]), and the list is stored in the signing transaction
/// ([`insert_planned`]).
pub struct DirectoryPlanner;

struct PlannedList(Vec<Planned>);

fn workflow_error(e: Error) -> workflow::Error {
    match e {
        Error::Db(e) => workflow::Error::Db(e),
        other => workflow::Error::Internal(other.to_string()),
    }
}

impl DistributionPlanner for DirectoryPlanner {
    fn plan<'a>(
        &'a self,
        db: &'a Db,
        letter: &'a Letter,
        manifest: &'a Manifest,
        fields: &'a Value,
    ) -> BoxFuture<'a, Result<Box<dyn PlannedDistribution>, workflow::Error>> {
        Box::pin(async move {
            let planned = plan(db, letter.department_id, letter.recipient_id, manifest, fields)
                .await
                .map_err(workflow_error)?;
            Ok(Box::new(PlannedList(planned)) as Box<dyn PlannedDistribution>)
        })
    }
}

impl PlannedDistribution for PlannedList {
    fn write<'a>(&'a self, conn: &'a mut AnyConnection, letter: &'a Letter, at: i64) -> BoxFuture<'a, Result<i64, workflow::Error>> {
        Box::pin(async move {
            insert_planned(conn, letter.department_id, letter.id, &self.0, at)
                .await
                .map_err(workflow_error)
        })
    }
}

/// One delivery planned for a letter being signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub recipient_id: Option<i64>,
    pub role: &'static str,
    pub name: String,
    pub channel: &'static str,
    pub address: String,
}

/// The deliveries of a letter about to be signed, read before the signing transaction
/// (which holds the number series and should hold it briefly): one per addressee and
/// copy, by e-mail when the directory knows an address, else by hand.
pub async fn plan(
    db: &Db,
    department_id: i64,
    recipient_id: Option<i64>,
    manifest: &Manifest,
    fields: &Value,
) -> Result<Vec<Planned>, Error> {
    let directory = sqlx::query_as::<Any, Recipient>(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM recipients WHERE department_id = $1 ORDER BY id",
        super::recipients::COLUMNS
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?;
    let own = recipient_id.and_then(|id| directory.iter().find(|r| r.id == id));
    let active: Vec<Recipient> = directory.iter().filter(|r| r.active == 1).cloned().collect();
    Ok(addressees(manifest, own, fields)
        .into_iter()
        .map(|addressee| {
            let found = match own {
                Some(own) if addressee.role == "kepada" && out_name(own) == addressee.name => Some(own),
                _ => find(&active, &addressee.name),
            };
            let address = found.map(|r| r.email.trim().to_string()).unwrap_or_default();
            Planned {
                recipient_id: found.map(|r| r.id),
                role: addressee.role,
                name: addressee.name,
                channel: if address.is_empty() { "hand" } else { "email" },
                address,
            }
        })
        .collect())
}

/// Stores the planned deliveries inside the signing transaction; e-mails are due at once.
/// Returns how many.
pub async fn insert_planned(
    conn: &mut AnyConnection,
    department_id: i64,
    letter_id: i64,
    planned: &[Planned],
    at: i64,
) -> Result<i64, Error> {
    for p in planned {
        let (delivery_id,): (i64,) = sqlx::query_as::<Any, (i64,)>(
            "INSERT INTO deliveries (department_id, letter_id, recipient_id, role, name, channel, address, status, next_attempt_at, queued_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $9, $10) RETURNING id",
        )
        .bind(department_id)
        .bind(letter_id)
        .bind(p.recipient_id)
        .bind(p.role)
        .bind(&p.name)
        .bind(p.channel)
        .bind(&p.address)
        .bind((p.channel == "email").then_some(at))
        .bind(at)
        .bind(Actor::System("penandatanganan").label())
        .fetch_one(&mut *conn)
        .await?;
        event_in(conn, delivery_id, at, "queued", "sistem", "dijadwalkan saat surat ditandatangani").await?;
    }
    Ok(planned.len() as i64)
}

fn out_name(r: &Recipient) -> String {
    if r.head_title.is_empty() {
        r.name.clone()
    } else {
        r.head_title.clone()
    }
}

pub(crate) async fn event_in(
    conn: &mut AnyConnection,
    delivery_id: i64,
    at: i64,
    status: &str,
    actor: &str,
    note: &str,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO delivery_events (delivery_id, at, status, actor, note) VALUES ($1, $2, $3, $4, $5)")
        .bind(delivery_id)
        .bind(at)
        .bind(status)
        .bind(actor)
        .bind(note)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The deliveries of one letter: addressees first, then copies.
pub async fn for_letter(db: &Db, department_id: i64, letter_id: i64) -> Result<Vec<Delivery>, Error> {
    Ok(sqlx::query_as::<Any, Delivery>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM deliveries WHERE department_id = $1 AND letter_id = $2 ORDER BY CASE role WHEN 'kepada' THEN 0 ELSE 1 END, id"
    )))
    .bind(department_id)
    .bind(letter_id)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn get(db: &Db, department_id: i64, id: i64) -> Result<Delivery, Error> {
    sqlx::query_as::<Any, Delivery>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM deliveries WHERE department_id = $1 AND id = $2"
    )))
    .bind(department_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// One change of a delivery recorded by staff.
#[derive(Debug, Clone)]
pub enum Change {
    /// Sent by courier or exported: `note` is the receipt number or the system.
    Sent {
        note: String,
    },
    /// Handed over: who received it, and when (now when not given).
    Delivered {
        receiver: String,
        at: Option<i64>,
    },
    /// The recipient confirmed receipt (by telephone, by a returned receipt).
    Acknowledged {
        note: String,
    },
    Failed {
        reason: String,
    },
    /// Send again (a failed or bounced e-mail, a lost courier parcel).
    Resend,
    /// Another channel or address; the delivery starts again as queued.
    Channel {
        channel: String,
        address: String,
    },
}

impl Change {
    fn status(&self) -> &'static str {
        match self {
            Change::Sent { .. } => "sent",
            Change::Delivered { .. } => "delivered",
            Change::Acknowledged { .. } => "acknowledged",
            Change::Failed { .. } => "failed",
            Change::Resend | Change::Channel { .. } => "queued",
        }
    }
}

/// Records a change made by staff, with its event and audit record.
pub async fn change(db: &Db, actor: &Actor, department_id: i64, id: i64, change: Change) -> Result<Delivery, Error> {
    let delivery = get(db, department_id, id).await?;
    let mut tx = db.begin_write().await?;
    change_in(&mut tx, actor, department_id, &delivery, &change, now()).await?;
    tx.commit().await?;
    get(db, department_id, id).await
}

/// The most deliveries recorded by one bulk change.
pub const MAX_AT_ONCE: usize = 500;

/// Changes to several deliveries at once (e.g. a courier's round handed over to the
/// villages), each with its own event and audit record as one by one, all or none:
/// one refused refuses them all with the recipient named.
pub async fn change_many(db: &Db, actor: &Actor, department_id: i64, changes: &[(i64, Change)]) -> Result<Vec<Delivery>, Error> {
    if changes.is_empty() {
        return Err(Error::Invalid(FieldErrors::single(
            "pengiriman",
            "Pilih sedikitnya satu pengiriman.",
        )));
    }
    if changes.len() > MAX_AT_ONCE {
        return Err(Error::Invalid(FieldErrors::single(
            "pengiriman",
            format!("Paling banyak {MAX_AT_ONCE} pengiriman sekaligus."),
        )));
    }
    let mut deliveries = Vec::with_capacity(changes.len());
    for (id, _) in changes {
        deliveries.push(get(db, department_id, *id).await?);
    }
    let at = now();
    let mut tx = db.begin_write().await?;
    for (delivery, (_, change)) in deliveries.iter().zip(changes) {
        if let Err(e) = change_in(&mut tx, actor, department_id, delivery, change, at).await {
            let named = |message: &str| format!("Pengiriman kepada {}: {message}", delivery.name);
            return Err(match e {
                Error::Invalid(errors) => Error::Invalid(FieldErrors::single(
                    &format!("penerima_{}", delivery.id),
                    named(&errors.0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")),
                )),
                Error::Conflict(message) => Error::Conflict(named(&message)),
                other => other,
            });
        }
    }
    tx.commit().await?;
    let mut out = Vec::with_capacity(changes.len());
    for (id, _) in changes {
        out.push(get(db, department_id, *id).await?);
    }
    Ok(out)
}

/// One change inside the caller's transaction: the delivery's row, its event, the audit.
async fn change_in(
    tx: &mut AnyConnection,
    actor: &Actor,
    department_id: i64,
    delivery: &Delivery,
    change: &Change,
    at: i64,
) -> Result<(), Error> {
    let id = delivery.id;
    let status = change.status();
    let note = match change {
        Change::Sent { note } => {
            if delivery.channel == "email" {
                return Err(Error::Conflict(
                    "Surel dikirim oleh layanan; tandai terkirim hanya untuk kurir atau ekspor.".into(),
                ));
            }
            let note = note.trim().to_string();
            sqlx::query(
                "UPDATE deliveries SET status = 'sent', sent_at = $1, address = CASE WHEN $2 = '' THEN address ELSE $2 END WHERE id = $3",
            )
            .bind(at)
            .bind(&note)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            note
        }
        Change::Delivered { receiver, at: when } => {
            let receiver = receiver.split_whitespace().collect::<Vec<_>>().join(" ");
            if receiver.is_empty() || receiver.chars().count() > 150 {
                return Err(Error::Invalid(FieldErrors::single(
                    "penerima",
                    "Tuliskan nama orang yang menerima surat.",
                )));
            }
            let when = when.unwrap_or(at);
            if when > at + 300 {
                return Err(Error::Invalid(FieldErrors::single(
                    "waktu",
                    "Waktu diterima tidak boleh di masa depan.",
                )));
            }
            sqlx::query(
                "UPDATE deliveries SET status = 'delivered', receiver_name = $1, delivered_at = $2, sent_at = COALESCE(sent_at, $2) WHERE id = $3",
            )
            .bind(&receiver)
            .bind(when)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            format!("diterima oleh {receiver}")
        }
        Change::Acknowledged { note } => {
            sqlx::query("UPDATE deliveries SET status = 'acknowledged', acknowledged_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            note.trim().to_string()
        }
        Change::Failed { reason } => {
            let reason = reason.trim().to_string();
            if reason.is_empty() {
                return Err(Error::Invalid(FieldErrors::single("alasan", "Tuliskan mengapa pengiriman gagal.")));
            }
            sqlx::query("UPDATE deliveries SET status = 'failed', failed_at = $1, last_error = $2, next_attempt_at = NULL WHERE id = $3")
                .bind(at)
                .bind(&reason)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            reason
        }
        Change::Resend => {
            if delivery.status == "queued" {
                return Err(Error::Conflict("Pengiriman ini masih dalam antrean.".into()));
            }
            requeue(&mut *tx, delivery, &delivery.channel, &delivery.address, at).await?;
            "dikirim ulang".into()
        }
        Change::Channel { channel, address } => {
            let address = address.trim().to_string();
            if channel_label(channel).is_empty() {
                return Err(Error::Invalid(FieldErrors::single("saluran", "Pilih saluran pengiriman.")));
            }
            if channel == "email" {
                let mut errors = FieldErrors::default();
                errors.optional_email("alamat", &address);
                if address.is_empty() {
                    errors.add("alamat", "Alamat surel wajib diisi untuk pengiriman lewat surel.");
                }
                errors.into_result().map_err(Error::Invalid)?;
            }
            requeue(&mut *tx, delivery, channel, &address, at).await?;
            format!("saluran {} {address}", channel_label(channel)).trim().to_string()
        }
    };
    sqlx::query("UPDATE deliveries SET updated_at = $1, updated_by = $2 WHERE id = $3")
        .bind(at)
        .bind(actor.label())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    event_in(&mut *tx, id, at, status, &actor.label(), &note).await?;
    audit::record(
        &mut *tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "delivery.changed",
            subject: format!("letter:{}", delivery.letter_id),
            details: serde_json::json!({ "delivery": id, "to": delivery.name, "status": status, "note": note }),
        },
    )
    .await?;
    Ok(())
}

/// Back to the queue through `channel`: attempts start again and an old receipt link
/// stops working (the new message carries a new one).
async fn requeue(conn: &mut AnyConnection, delivery: &Delivery, channel: &str, address: &str, at: i64) -> Result<(), Error> {
    sqlx::query(
        "UPDATE deliveries SET status = 'queued', channel = $1, address = $2, attempts = 0, last_error = '', receipt_hash = NULL, \
         next_attempt_at = $3, queued_at = $4, sent_at = NULL, delivered_at = NULL, failed_at = NULL, receiver_name = '' WHERE id = $5",
    )
    .bind(channel)
    .bind(address)
    .bind((channel == "email").then_some(at))
    .bind(at)
    .bind(delivery.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The delivery a one-time receipt token belongs to (only its hash is stored).
pub async fn by_receipt(db: &Db, token: &str) -> Result<Option<Delivery>, Error> {
    if token.len() < 16 || token.len() > 128 {
        return Ok(None);
    }
    let hash = crate::workflow::statement::sha256_hex(token.as_bytes());
    Ok(sqlx::query_as::<Any, Delivery>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM deliveries WHERE receipt_hash = $1"
    )))
    .bind(hash)
    .fetch_optional(&db.pool)
    .await?)
}

/// A recipient confirms receipt through the link in their copy. The first confirmation
/// is recorded with its time (and the name given); later ones change nothing. Returns
/// the delivery and whether this call recorded it.
pub async fn acknowledge(db: &Db, token: &str, confirmed_by: &str) -> Result<(Delivery, bool), Error> {
    let delivery = by_receipt(db, token).await?.ok_or(Error::NotFound)?;
    if delivery.status == "acknowledged" {
        return Ok((delivery, false));
    }
    let confirmed_by: String = confirmed_by
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(150)
        .collect();
    let at = now();
    let actor = Actor::System("tanda terima elektronik");
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'acknowledged', acknowledged_at = $1, \
         receiver_name = CASE WHEN $2 = '' THEN receiver_name ELSE $2 END, updated_at = $1, updated_by = $3 \
         WHERE id = $4 AND status <> 'acknowledged' AND receipt_hash = $5",
    )
    .bind(at)
    .bind(&confirmed_by)
    .bind(actor.label())
    .bind(delivery.id)
    .bind(&delivery.receipt_hash)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        // Confirmed (or re-sent with a new link) a moment ago.
        drop(tx);
        let now_stored = get(db, delivery.department_id, delivery.id).await?;
        return Ok((now_stored, false));
    }
    let note = if confirmed_by.is_empty() {
        "dikonfirmasi lewat tanda terima elektronik".to_string()
    } else {
        format!("dikonfirmasi lewat tanda terima elektronik oleh {confirmed_by}")
    };
    event_in(&mut tx, delivery.id, at, "acknowledged", &actor.label(), &note).await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(delivery.department_id),
            actor: &actor,
            action: "delivery.acknowledged",
            subject: format!("letter:{}", delivery.letter_id),
            details: serde_json::json!({ "delivery": delivery.id, "to": delivery.name, "by": confirmed_by }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((get(db, delivery.department_id, delivery.id).await?, true))
}

/// A delivery's history.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct DeliveryEvent {
    pub delivery_id: i64,
    pub at: i64,
    pub status: String,
    pub actor: String,
    pub note: String,
}

pub async fn events(db: &Db, letter_id: i64) -> Result<Vec<DeliveryEvent>, Error> {
    Ok(sqlx::query_as::<Any, DeliveryEvent>(
        "SELECT e.delivery_id, e.at, e.status, e.actor, e.note FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id \
         WHERE d.letter_id = $1 ORDER BY e.at, e.id",
    )
    .bind(letter_id)
    .fetch_all(&db.pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_case_and_remarks() {
        assert_eq!(
            match_key("Yth. Bupati Penajam Paser Utara (sebagai laporan)"),
            "bupati penajam paser utara"
        );
        assert_eq!(match_key("  KEPALA   Desa Sotek "), "kepala desa sotek");
    }
}
