//! Units, positions and officials of one department.

use serde::{Deserialize, Serialize};
use sqlx::{Any, FromRow};

use super::{Error, Nip, conflict_on_unique};
use crate::{
    audit::{self, Actor, Event},
    db::Db,
    validation::{FieldErrors, clean},
};

/// Kinds of organisational unit, with their Indonesian names.
pub const UNIT_KINDS: &[(&str, &str)] = &[
    ("sekretariat", "Sekretariat"),
    ("bidang", "Bidang"),
    ("sub_bagian", "Sub Bagian"),
    ("seksi", "Seksi"),
    ("uptd", "UPTD"),
];

/// Kinds of position; the approval chains of later steps look positions up by kind.
pub const POSITION_KINDS: &[(&str, &str)] = &[
    ("kepala_dinas", "Kepala Dinas"),
    ("sekretaris", "Sekretaris Dinas"),
    ("kepala_bidang", "Kepala Bidang"),
    ("kepala_sub_bagian", "Kepala Sub Bagian"),
    ("kepala_seksi", "Kepala Seksi"),
    ("staf", "Staf"),
    ("agendaris", "Agendaris / Pengadministrasi Umum"),
    ("lainnya", "Lainnya"),
];

/// Positions of these kinds are held by one official at a time.
fn single_holder(kind: &str) -> bool {
    !matches!(kind, "staf" | "lainnya")
}

pub fn kind_label(kinds: &[(&'static str, &'static str)], key: &str) -> &'static str {
    kinds.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("")
}

fn audit_event<'a>(department_id: i64, actor: &'a Actor, action: &'a str, subject: String, details: serde_json::Value) -> Event<'a> {
    Event {
        department_id: Some(department_id),
        actor,
        action,
        subject,
        details,
    }
}

// ---------------------------------------------------------------- units

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Unit {
    pub id: i64,
    pub department_id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UnitInput {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
}

impl UnitInput {
    fn validated(mut self) -> Result<Self, FieldErrors> {
        self.code = clean(&self.code);
        self.name = clean(&self.name);
        self.kind = clean(&self.kind);
        let mut e = FieldErrors::default();
        e.required("code", "Kode unit", &self.code, 30);
        if self.code.contains(['/', ' ']) {
            e.add("code", "Kode unit dipakai dalam nomor surat: tanpa spasi dan garis miring.");
        }
        e.required("name", "Nama unit", &self.name, 200);
        if !UNIT_KINDS.iter().any(|(k, _)| *k == self.kind) {
            e.add("kind", "Pilih jenis unit.");
        }
        e.into_result().map(|_| self)
    }
}

const UNIT_COLUMNS: &str = "id, department_id, code, name, kind, parent_id";

pub async fn list_units(db: &Db, department_id: i64) -> Result<Vec<Unit>, Error> {
    Ok(sqlx::query_as::<Any, Unit>(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM units WHERE department_id = $1 ORDER BY name"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn get_unit(db: &Db, department_id: i64, id: i64) -> Result<Unit, Error> {
    sqlx::query_as::<Any, Unit>(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM units WHERE department_id = $1 AND id = $2"
    )))
    .bind(department_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

async fn check_parent(db: &Db, department_id: i64, own_id: Option<i64>, parent: Option<i64>) -> Result<(), Error> {
    if let Some(parent) = parent {
        if Some(parent) == own_id {
            return Err(FieldErrors::single("parent_id", "Unit tidak dapat menjadi induk dirinya sendiri.").into());
        }
        get_unit(db, department_id, parent)
            .await
            .map_err(|_| Error::Invalid(FieldErrors::single("parent_id", "Unit induk tidak ditemukan.")))?;
    }
    Ok(())
}

const UNIT_TAKEN: &str = "Kode atau nama unit itu sudah dipakai di dinas ini.";

pub async fn create_unit(db: &Db, actor: &Actor, department_id: i64, input: UnitInput) -> Result<Unit, Error> {
    let input = input.validated()?;
    check_parent(db, department_id, None, input.parent_id).await?;
    let now = crate::db::now();
    let mut tx = db.begin_write().await?;
    let (id,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO units (department_id, code, name, kind, parent_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(department_id)
    .bind(&input.code)
    .bind(&input.name)
    .bind(&input.kind)
    .bind(input.parent_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(conflict_on_unique(UNIT_TAKEN))?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "unit.create",
            format!("unit:{id}"),
            serde_json::to_value(&input).unwrap_or_default(),
        ),
    )
    .await?;
    tx.commit().await?;
    get_unit(db, department_id, id).await
}

pub async fn update_unit(db: &Db, actor: &Actor, department_id: i64, id: i64, input: UnitInput) -> Result<Unit, Error> {
    let input = input.validated()?;
    get_unit(db, department_id, id).await?;
    check_parent(db, department_id, Some(id), input.parent_id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE units SET code = $1, name = $2, kind = $3, parent_id = $4, updated_at = $5 WHERE department_id = $6 AND id = $7")
        .bind(&input.code)
        .bind(&input.name)
        .bind(&input.kind)
        .bind(input.parent_id)
        .bind(crate::db::now())
        .bind(department_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique(UNIT_TAKEN))?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "unit.update",
            format!("unit:{id}"),
            serde_json::to_value(&input).unwrap_or_default(),
        ),
    )
    .await?;
    tx.commit().await?;
    get_unit(db, department_id, id).await
}

pub async fn delete_unit(db: &Db, actor: &Actor, department_id: i64, id: i64) -> Result<(), Error> {
    let unit = get_unit(db, department_id, id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM units WHERE department_id = $1 AND id = $2")
        .bind(department_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "unit.delete",
            format!("unit:{id}"),
            serde_json::json!({ "code": unit.code, "name": unit.name }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- positions

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Position {
    pub id: i64,
    pub department_id: i64,
    pub unit_id: Option<i64>,
    pub title: String,
    pub kind: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PositionInput {
    pub title: String,
    pub kind: String,
    pub unit_id: Option<i64>,
}

impl PositionInput {
    fn validated(mut self) -> Result<Self, FieldErrors> {
        self.title = clean(&self.title);
        self.kind = clean(&self.kind);
        let mut e = FieldErrors::default();
        e.required("title", "Nama jabatan", &self.title, 200);
        if !POSITION_KINDS.iter().any(|(k, _)| *k == self.kind) {
            e.add("kind", "Pilih jenis jabatan.");
        }
        e.into_result().map(|_| self)
    }
}

const POSITION_COLUMNS: &str = "id, department_id, unit_id, title, kind";
const POSITION_TAKEN: &str = "Nama jabatan itu sudah ada di dinas ini.";

pub async fn list_positions(db: &Db, department_id: i64) -> Result<Vec<Position>, Error> {
    Ok(sqlx::query_as::<Any, Position>(sqlx::AssertSqlSafe(format!(
        "SELECT {POSITION_COLUMNS} FROM positions WHERE department_id = $1 ORDER BY id"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn get_position(db: &Db, department_id: i64, id: i64) -> Result<Position, Error> {
    sqlx::query_as::<Any, Position>(sqlx::AssertSqlSafe(format!(
        "SELECT {POSITION_COLUMNS} FROM positions WHERE department_id = $1 AND id = $2"
    )))
    .bind(department_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

async fn check_unit(db: &Db, department_id: i64, unit_id: Option<i64>) -> Result<(), Error> {
    if let Some(unit) = unit_id {
        get_unit(db, department_id, unit)
            .await
            .map_err(|_| Error::Invalid(FieldErrors::single("unit_id", "Unit tidak ditemukan.")))?;
    }
    Ok(())
}

pub async fn create_position(db: &Db, actor: &Actor, department_id: i64, input: PositionInput) -> Result<Position, Error> {
    let input = input.validated()?;
    check_unit(db, department_id, input.unit_id).await?;
    let mut tx = db.begin_write().await?;
    let (id,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO positions (department_id, unit_id, title, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(department_id)
    .bind(input.unit_id)
    .bind(&input.title)
    .bind(&input.kind)
    .bind(crate::db::now())
    .fetch_one(&mut *tx)
    .await
    .map_err(conflict_on_unique(POSITION_TAKEN))?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "position.create",
            format!("position:{id}"),
            serde_json::to_value(&input).unwrap_or_default(),
        ),
    )
    .await?;
    tx.commit().await?;
    get_position(db, department_id, id).await
}

pub async fn update_position(db: &Db, actor: &Actor, department_id: i64, id: i64, input: PositionInput) -> Result<Position, Error> {
    let input = input.validated()?;
    get_position(db, department_id, id).await?;
    check_unit(db, department_id, input.unit_id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE positions SET unit_id = $1, title = $2, kind = $3, updated_at = $4 WHERE department_id = $5 AND id = $6")
        .bind(input.unit_id)
        .bind(&input.title)
        .bind(&input.kind)
        .bind(crate::db::now())
        .bind(department_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique(POSITION_TAKEN))?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "position.update",
            format!("position:{id}"),
            serde_json::to_value(&input).unwrap_or_default(),
        ),
    )
    .await?;
    tx.commit().await?;
    get_position(db, department_id, id).await
}

pub async fn delete_position(db: &Db, actor: &Actor, department_id: i64, id: i64) -> Result<(), Error> {
    let position = get_position(db, department_id, id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM positions WHERE department_id = $1 AND id = $2")
        .bind(department_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "position.delete",
            format!("position:{id}"),
            serde_json::json!({ "title": position.title }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- officials

/// Pejabat: a civil servant of the department, possibly holding a position.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Official {
    pub id: i64,
    pub department_id: i64,
    /// The name without academic titles (as printed on decrees).
    pub name: String,
    /// Titles before the name, e.g. `Dr.` or `Ir.`.
    pub title_prefix: String,
    /// Titles after the name, e.g. `S.E., M.Si.`.
    pub title_suffix: String,
    pub nip: String,
    /// Pangkat, e.g. `Pembina Tingkat I`.
    pub rank: String,
    /// Golongan/ruang, e.g. `IV/b`.
    pub grade: String,
    pub position_id: Option<i64>,
}

impl Official {
    /// The name with academic titles, as printed on letters.
    pub fn full_name(&self) -> String {
        let mut out = String::new();
        if !self.title_prefix.is_empty() {
            out.push_str(&self.title_prefix);
            out.push(' ');
        }
        out.push_str(&self.name);
        if !self.title_suffix.is_empty() {
            out.push_str(", ");
            out.push_str(&self.title_suffix);
        }
        out
    }

    /// `Pembina Tingkat I (IV/b)`.
    pub fn rank_line(&self) -> String {
        match (self.rank.is_empty(), self.grade.is_empty()) {
            (false, false) => format!("{} ({})", self.rank, self.grade),
            (false, true) => self.rank.clone(),
            (true, false) => self.grade.clone(),
            (true, true) => String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OfficialInput {
    pub name: String,
    pub title_prefix: String,
    pub title_suffix: String,
    pub nip: String,
    pub rank: String,
    pub grade: String,
    pub position_id: Option<i64>,
}

/// Golongan/ruang of civil servants (I/a … IV/e) and PPPK grades (I … XVII).
fn valid_grade(grade: &str) -> bool {
    if let Some((group, room)) = grade.split_once('/') {
        matches!(group, "I" | "II" | "III" | "IV") && matches!(room, "a" | "b" | "c" | "d" | "e")
    } else {
        const PPPK: [&str; 17] = [
            "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII",
        ];
        PPPK.contains(&grade)
    }
}

impl OfficialInput {
    fn validated(mut self) -> Result<Self, FieldErrors> {
        for v in [
            &mut self.name,
            &mut self.title_prefix,
            &mut self.title_suffix,
            &mut self.rank,
            &mut self.grade,
        ] {
            *v = clean(v);
        }
        let mut e = FieldErrors::default();
        e.required("name", "Nama", &self.name, 150);
        e.max_len("title_prefix", "Gelar depan", &self.title_prefix, 50);
        e.max_len("title_suffix", "Gelar belakang", &self.title_suffix, 100);
        e.max_len("rank", "Pangkat", &self.rank, 100);
        match Nip::parse(&self.nip) {
            Ok(nip) => self.nip = nip.as_str().to_string(),
            Err(message) => e.add("nip", message),
        }
        if !self.grade.is_empty() && !valid_grade(&self.grade) {
            e.add("grade", "Golongan ditulis seperti III/a atau IV/b (PPPK: I sampai XVII).");
        }
        e.into_result().map(|_| self)
    }
}

const OFFICIAL_COLUMNS: &str = "id, department_id, name, title_prefix, title_suffix, nip, rank, grade, position_id";
const NIP_TAKEN: &str = "NIP itu sudah terdaftar.";

pub async fn list_officials(db: &Db, department_id: i64) -> Result<Vec<Official>, Error> {
    Ok(sqlx::query_as::<Any, Official>(sqlx::AssertSqlSafe(format!(
        "SELECT {OFFICIAL_COLUMNS} FROM officials WHERE department_id = $1 ORDER BY name"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn get_official(db: &Db, department_id: i64, id: i64) -> Result<Official, Error> {
    sqlx::query_as::<Any, Official>(sqlx::AssertSqlSafe(format!(
        "SELECT {OFFICIAL_COLUMNS} FROM officials WHERE department_id = $1 AND id = $2"
    )))
    .bind(department_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// Checks that the position exists and, for a single-holder position, is free.
async fn check_position(db: &Db, department_id: i64, own_id: Option<i64>, position_id: Option<i64>) -> Result<(), Error> {
    let Some(position_id) = position_id else { return Ok(()) };
    let position = get_position(db, department_id, position_id)
        .await
        .map_err(|_| Error::Invalid(FieldErrors::single("position_id", "Jabatan tidak ditemukan.")))?;
    if single_holder(&position.kind) {
        let holder: Option<(i64, String)> =
            sqlx::query_as::<Any, (i64, String)>("SELECT id, name FROM officials WHERE position_id = $1 AND department_id = $2")
                .bind(position_id)
                .bind(department_id)
                .fetch_optional(&db.pool)
                .await?;
        if let Some((holder_id, name)) = holder
            && Some(holder_id) != own_id
        {
            return Err(Error::Conflict(format!("Jabatan {} sudah dijabat oleh {name}.", position.title)));
        }
    }
    Ok(())
}

pub async fn create_official(db: &Db, actor: &Actor, department_id: i64, input: OfficialInput) -> Result<Official, Error> {
    let input = input.validated()?;
    check_position(db, department_id, None, input.position_id).await?;
    let mut tx = db.begin_write().await?;
    let (id,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO officials (department_id, name, title_prefix, title_suffix, nip, rank, grade, position_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(department_id)
    .bind(&input.name)
    .bind(&input.title_prefix)
    .bind(&input.title_suffix)
    .bind(&input.nip)
    .bind(&input.rank)
    .bind(&input.grade)
    .bind(input.position_id)
    .bind(crate::db::now())
    .fetch_one(&mut *tx)
    .await
    .map_err(conflict_on_unique(NIP_TAKEN))?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "official.create",
            format!("official:{id}"),
            serde_json::to_value(&input).unwrap_or_default(),
        ),
    )
    .await?;
    tx.commit().await?;
    get_official(db, department_id, id).await
}

pub async fn update_official(db: &Db, actor: &Actor, department_id: i64, id: i64, input: OfficialInput) -> Result<Official, Error> {
    let input = input.validated()?;
    get_official(db, department_id, id).await?;
    check_position(db, department_id, Some(id), input.position_id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE officials SET name = $1, title_prefix = $2, title_suffix = $3, nip = $4, rank = $5, grade = $6, position_id = $7, updated_at = $8 \
         WHERE department_id = $9 AND id = $10",
    )
    .bind(&input.name)
    .bind(&input.title_prefix)
    .bind(&input.title_suffix)
    .bind(&input.nip)
    .bind(&input.rank)
    .bind(&input.grade)
    .bind(input.position_id)
    .bind(crate::db::now())
    .bind(department_id)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(conflict_on_unique(NIP_TAKEN))?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "official.update",
            format!("official:{id}"),
            serde_json::to_value(&input).unwrap_or_default(),
        ),
    )
    .await?;
    tx.commit().await?;
    get_official(db, department_id, id).await
}

pub async fn delete_official(db: &Db, actor: &Actor, department_id: i64, id: i64) -> Result<(), Error> {
    let official = get_official(db, department_id, id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM officials WHERE department_id = $1 AND id = $2")
        .bind(department_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        audit_event(
            department_id,
            actor,
            "official.delete",
            format!("official:{id}"),
            serde_json::json!({ "name": official.name, "nip": official.nip }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
