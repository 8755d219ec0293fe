//! The department's directory of recipients: every desa, kelurahan and kecamatan of its
//! regency (from the official region codes), the agencies it writes to and the
//! officials who receive copies (tembusan), with the head's title and name, e-mail and
//! telephone. Imported from and exported to CSV.

use serde::Serialize;
use sqlx::{Any, FromRow};

use super::Error;
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    departments::Department,
    validation::FieldErrors,
};

/// The kinds of recipient, as stored and as written in the CSV's `jenis` column.
pub const KINDS: [(&str, &str); 5] = [
    ("desa", "Desa"),
    ("kelurahan", "Kelurahan"),
    ("kecamatan", "Kecamatan"),
    ("instansi", "Instansi"),
    ("pejabat", "Pejabat (tembusan)"),
];

#[derive(Debug, Clone, Serialize, FromRow, PartialEq, Eq)]
pub struct Recipient {
    pub id: i64,
    pub department_id: i64,
    pub kind: String,
    pub region_code: Option<String>,
    pub name: String,
    pub head_title: String,
    pub head_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub active: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Recipient {
    pub fn kind_label(&self) -> &'static str {
        KINDS.iter().find(|(k, _)| *k == self.kind).map(|(_, l)| *l).unwrap_or("")
    }
}

/// What a form or a CSV row gives for one recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientInput {
    pub kind: String,
    pub region_code: String,
    pub name: String,
    pub head_title: String,
    pub head_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub active: bool,
}

impl RecipientInput {
    /// Trims every field and checks it; field names are the form's.
    pub fn validate(&mut self) -> FieldErrors {
        for field in [
            &mut self.kind,
            &mut self.region_code,
            &mut self.name,
            &mut self.head_title,
            &mut self.head_name,
            &mut self.email,
            &mut self.phone,
            &mut self.address,
        ] {
            *field = crate::validation::clean(field);
        }
        self.kind = self.kind.to_lowercase();
        let mut errors = FieldErrors::default();
        if !KINDS.iter().any(|(k, _)| *k == self.kind) {
            errors.add("kind", "Pilih jenis: desa, kelurahan, kecamatan, instansi atau pejabat.");
        }
        let regional = matches!(self.kind.as_str(), "desa" | "kelurahan" | "kecamatan");
        if regional && self.region_code.is_empty() {
            errors.add("region_code", "Desa, kelurahan dan kecamatan memerlukan kode wilayah.");
        }
        if !self.region_code.is_empty() && !self.region_code.chars().all(|c| c.is_ascii_digit() || c == '.') {
            errors.add("region_code", "Kode wilayah hanya berisi angka dan titik, contoh 64.09.02.2005.");
        }
        errors.required("name", "Nama", &self.name, 200);
        errors.max_len("head_title", "Jabatan", &self.head_title, 200);
        errors.max_len("head_name", "Nama pejabat", &self.head_name, 200);
        errors.max_len("address", "Alamat", &self.address, 500);
        errors.optional_email("email", &self.email);
        if !self.phone.is_empty() {
            let digits = self.phone.chars().filter(char::is_ascii_digit).count();
            if !self.phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) || !(6..=15).contains(&digits) {
                errors.add("phone", "Nomor telepon berisi 6 sampai 15 angka, contoh 0542 7210000.");
            }
        }
        errors
    }
}

pub(crate) const COLUMNS: &str =
    "id, department_id, kind, region_code, name, head_title, head_name, email, phone, address, active, created_at, updated_at";

/// A filter on the directory.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: String,
    /// A kecamatan's code: its villages and itself.
    pub kecamatan: String,
    /// Part of a name, title or e-mail.
    pub text: String,
}

pub async fn list(db: &Db, department_id: i64, filter: &Filter) -> Result<Vec<Recipient>, Error> {
    Ok(sqlx::query_as::<Any, Recipient>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM recipients WHERE department_id = $1 \
         AND ($2 = '' OR kind = $2) \
         AND ($3 = '' OR region_code = $3 OR region_code LIKE $3 || '.%') \
         AND ($4 = '' OR LOWER(name) LIKE $5 OR LOWER(head_title) LIKE $5 OR LOWER(head_name) LIKE $5 OR LOWER(email) LIKE $5) \
         ORDER BY CASE kind WHEN 'instansi' THEN 0 WHEN 'pejabat' THEN 1 ELSE 2 END, region_code, name"
    )))
    .bind(department_id)
    .bind(&filter.kind)
    .bind(&filter.kecamatan)
    .bind(&filter.text)
    .bind(format!("%{}%", filter.text.to_lowercase()))
    .fetch_all(&db.pool)
    .await?)
}

/// Every recipient's id and name, for labelling lists of letters.
pub async fn names(db: &Db, department_id: i64) -> Result<Vec<(i64, String)>, Error> {
    Ok(
        sqlx::query_as::<Any, (i64, String)>("SELECT id, name FROM recipients WHERE department_id = $1")
            .bind(department_id)
            .fetch_all(&db.pool)
            .await?,
    )
}

pub async fn get(db: &Db, department_id: i64, id: i64) -> Result<Recipient, Error> {
    sqlx::query_as::<Any, Recipient>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM recipients WHERE department_id = $1 AND id = $2"
    )))
    .bind(department_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// How a region of the regency is addressed.
fn from_region(region: &crate::regions::Region) -> Option<RecipientInput> {
    let (name, head_title) = match region.kind.as_str() {
        "desa" => (format!("Desa {}", region.name), format!("Kepala Desa {}", region.name)),
        "kelurahan" => (format!("Kelurahan {}", region.name), format!("Lurah {}", region.name)),
        "kecamatan" => (format!("Kecamatan {}", region.name), format!("Camat {}", region.name)),
        _ => return None,
    };
    Some(RecipientInput {
        kind: region.kind.clone(),
        region_code: region.code.clone(),
        name,
        head_title,
        active: true,
        ..RecipientInput::default()
    })
}

/// The agencies and officials the SOP writes to, for a department's regency.
fn standard_agencies(department: &Department) -> Vec<RecipientInput> {
    let regency = department.regency_name.trim();
    let bare = regency.trim_start_matches("Kabupaten ").trim_start_matches("Kota ");
    let agency = |kind: &str, name: String, head_title: String| RecipientInput {
        kind: kind.into(),
        name,
        head_title,
        active: true,
        ..RecipientInput::default()
    };
    vec![
        agency(
            "instansi",
            format!("Dinas Sosial {regency}"),
            format!("Kepala Dinas Sosial {regency}"),
        ),
        agency(
            "instansi",
            format!("Badan Perencanaan Pembangunan Daerah {regency}"),
            format!("Kepala Badan Perencanaan Pembangunan Daerah {regency}"),
        ),
        agency(
            "instansi",
            format!("Badan Pusat Statistik {regency}"),
            format!("Kepala Badan Pusat Statistik {regency}"),
        ),
        agency(
            "instansi",
            format!("BPJS Ketenagakerjaan Kantor Cabang {bare}"),
            format!("Kepala Kantor Cabang BPJS Ketenagakerjaan {bare}"),
        ),
        agency("pejabat", format!("Bupati {bare}"), format!("Bupati {bare}")),
    ]
}

/// Adds what is missing from the directory: every kecamatan, desa and kelurahan of the
/// department's regency in the region table, and the SOP's agencies. Existing entries
/// (with their e-mail and names filled in) are kept as they are. Returns how many were
/// added.
pub async fn sync_from_regions(db: &Db, actor: &Actor, department: &Department) -> Result<usize, Error> {
    let mut wanted: Vec<RecipientInput> = Vec::new();
    if let Some(regency) = department.region_code.as_deref().filter(|c| !c.is_empty()) {
        let regions = crate::regions::within_regency(db, regency)
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        wanted.extend(regions.iter().filter_map(from_region));
    }
    wanted.extend(standard_agencies(department));
    let mut tx = db.begin_write().await?;
    let at = now();
    let mut added = 0;
    for input in &wanted {
        let done = sqlx::query(
            "INSERT INTO recipients (department_id, kind, region_code, name, head_title, head_name, email, phone, address, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, '', '', '', '', 1, $6, $6) ON CONFLICT DO NOTHING",
        )
        .bind(department.id)
        .bind(&input.kind)
        .bind((!input.region_code.is_empty()).then_some(&input.region_code))
        .bind(&input.name)
        .bind(&input.head_title)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        added += done.rows_affected() as usize;
    }
    if added > 0 {
        audit::record(
            &mut tx,
            Event {
                department_id: Some(department.id),
                actor,
                action: "recipients.synced",
                subject: format!("department:{}", department.id),
                details: serde_json::json!({ "added": added }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// Adds a recipient.
pub async fn create(db: &Db, actor: &Actor, department_id: i64, mut input: RecipientInput) -> Result<Recipient, Error> {
    let errors = input.validate();
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin_write().await?;
    let id = insert(&mut tx, department_id, &input).await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "recipient.created",
            subject: format!("recipient:{id}"),
            details: serde_json::json!({ "name": input.name, "kind": input.kind }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department_id, id).await
}

async fn insert(conn: &mut sqlx::AnyConnection, department_id: i64, input: &RecipientInput) -> Result<i64, Error> {
    let at = now();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO recipients (department_id, kind, region_code, name, head_title, head_name, email, phone, address, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(department_id)
    .bind(&input.kind)
    .bind((!input.region_code.is_empty()).then_some(&input.region_code))
    .bind(&input.name)
    .bind(&input.head_title)
    .bind(&input.head_name)
    .bind(&input.email)
    .bind(&input.phone)
    .bind(&input.address)
    .bind(i64::from(input.active))
    .bind(at)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| duplicate(e, input))?;
    Ok(id)
}

fn duplicate(e: sqlx::Error, input: &RecipientInput) -> Error {
    match crate::db::DbError::Sqlx(e) {
        e if e.is_unique_violation() => Error::Conflict(if input.region_code.is_empty() {
            format!("{} sudah ada di daftar penerima.", input.name)
        } else {
            format!("Kode wilayah {} sudah dipakai penerima lain.", input.region_code)
        }),
        e => Error::Db(e),
    }
}

async fn write(conn: &mut sqlx::AnyConnection, department_id: i64, id: i64, input: &RecipientInput) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE recipients SET kind = $1, region_code = $2, name = $3, head_title = $4, head_name = $5, email = $6, phone = $7, \
         address = $8, active = $9, updated_at = $10 WHERE department_id = $11 AND id = $12",
    )
    .bind(&input.kind)
    .bind((!input.region_code.is_empty()).then_some(&input.region_code))
    .bind(&input.name)
    .bind(&input.head_title)
    .bind(&input.head_name)
    .bind(&input.email)
    .bind(&input.phone)
    .bind(&input.address)
    .bind(i64::from(input.active))
    .bind(now())
    .bind(department_id)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(|e| duplicate(e, input))?;
    Ok(done.rows_affected() == 1)
}

/// Changes a recipient.
pub async fn update(db: &Db, actor: &Actor, department_id: i64, id: i64, mut input: RecipientInput) -> Result<Recipient, Error> {
    let errors = input.validate();
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = db.begin_write().await?;
    if !write(&mut tx, department_id, id, &input).await? {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "recipient.updated",
            subject: format!("recipient:{id}"),
            details: serde_json::json!({ "name": input.name, "email": input.email, "active": input.active }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department_id, id).await
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 9] = [
    "jenis",
    "kode_wilayah",
    "nama",
    "jabatan",
    "nama_pejabat",
    "surel",
    "telepon",
    "alamat",
    "aktif",
];

/// The directory as CSV, cells that a spreadsheet would take for a formula defused.
pub fn to_csv(recipients: &[Recipient]) -> Result<Vec<u8>, Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_failed = |e: csv::Error| Error::Internal(e.to_string());
    writer.write_record(CSV_HEADER).map_err(csv_failed)?;
    for r in recipients {
        let row = [
            r.kind.clone(),
            r.region_code.clone().unwrap_or_default(),
            r.name.clone(),
            r.head_title.clone(),
            r.head_name.clone(),
            r.email.clone(),
            r.phone.clone(),
            r.address.clone(),
            if r.active != 0 { "ya".into() } else { "tidak".into() },
        ];
        writer
            .write_record(row.iter().map(|cell| crate::text::spreadsheet_safe(cell)))
            .map_err(csv_failed)?;
    }
    writer.into_inner().map_err(|e| Error::Internal(e.to_string()))
}

/// Reads a directory CSV completely; every row is checked before anything is stored.
pub fn parse_csv(text: &str) -> Result<Vec<RecipientInput>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::Csv(format!("baris judul tidak terbaca: {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(kind_col), Some(name_col)) = (column("jenis"), column("nama")) else {
        return Err(Error::Csv(format!(
            "baris judul harus memuat kolom jenis dan nama (kolom: {})",
            CSV_HEADER.join(",")
        )));
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(format!("baris {line}: {e}"));
                continue;
            }
        };
        // Undo the export's defusing of formula-like cells.
        let cell = |col: Option<usize>| {
            let text = col.and_then(|c| record.get(c)).unwrap_or("");
            match text.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_string(),
                _ => text.to_string(),
            }
        };
        let active = cell(column("aktif")).to_lowercase();
        let mut input = RecipientInput {
            kind: cell(Some(kind_col)),
            region_code: cell(column("kode_wilayah")),
            name: cell(Some(name_col)),
            head_title: cell(column("jabatan")),
            head_name: cell(column("nama_pejabat")),
            email: cell(column("surel")),
            phone: cell(column("telepon")),
            address: cell(column("alamat")),
            active: !matches!(active.as_str(), "tidak" | "0" | "no" | "false"),
        };
        let errors = input.validate();
        if !errors.is_empty() {
            let messages: Vec<&str> = errors.0.iter().map(|e| e.message.as_str()).collect();
            problems.push(format!("baris {line}: {}", messages.join(" ")));
            continue;
        }
        rows.push((line, input));
    }
    // The same recipient twice in one file is a mistake in the file.
    for (i, (line, a)) in rows.iter().enumerate() {
        if let Some((other, _)) = rows[..i].iter().find(|(_, b)| same_recipient(a, b)) {
            problems.push(format!("baris {line}: {} sudah ada di baris {other}", a.name));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Rows(problems));
    }
    if rows.is_empty() {
        return Err(Error::Csv("berkas tidak berisi penerima".into()));
    }
    Ok(rows.into_iter().map(|(_, input)| input).collect())
}

fn same_recipient(a: &RecipientInput, b: &RecipientInput) -> bool {
    if !a.region_code.is_empty() || !b.region_code.is_empty() {
        a.region_code == b.region_code
    } else {
        a.kind == b.kind && a.name.eq_ignore_ascii_case(&b.name)
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub added: usize,
    pub updated: usize,
}

/// Stores parsed rows in one transaction: a row with a region code updates the
/// recipient with that code, another the recipient of the same kind and name; the rest
/// are added.
pub async fn import(db: &Db, actor: &Actor, department_id: i64, rows: &[RecipientInput]) -> Result<Imported, Error> {
    let existing = list(db, department_id, &Filter::default()).await?;
    let mut tx = db.begin_write().await?;
    let mut outcome = Imported { added: 0, updated: 0 };
    for row in rows {
        let found = existing.iter().find(|r| {
            if row.region_code.is_empty() {
                r.region_code.is_none() && r.kind == row.kind && r.name.eq_ignore_ascii_case(&row.name)
            } else {
                r.region_code.as_deref() == Some(row.region_code.as_str())
            }
        });
        match found {
            Some(r) => {
                write(&mut tx, department_id, r.id, row).await?;
                outcome.updated += 1;
            }
            None => {
                insert(&mut tx, department_id, row).await?;
                outcome.added += 1;
            }
        }
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "recipients.imported",
            subject: format!("department:{department_id}"),
            details: serde_json::json!({ "added": outcome.added, "updated": outcome.updated }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_with_their_line_numbers_and_formulas_defused() {
        let text = "jenis,kode_wilayah,nama,jabatan,nama_pejabat,surel,telepon,alamat,aktif\n\
                    desa,64.09.02.2005,Desa Sotek,Kepala Desa Sotek,Ahmad,desa.sotek@ppu.go.id,0542 7210001,,ya\n\
                    instansi,,Dinas Sosial,Kepala Dinas Sosial,,bukan-surel,,,ya\n\
                    planet,,Mars,,,,,,\n\
                    desa,64.09.02.2005,Desa Sotek Lagi,,,,,,\n";
        let Err(Error::Rows(problems)) = parse_csv(text) else {
            panic!("errors expected")
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("baris 3: Alamat e-mail tidak valid"), "{problems:?}");
        assert!(problems[1].starts_with("baris 4: Pilih jenis"), "{problems:?}");
        assert!(
            problems[2].contains("baris 5: Desa Sotek Lagi sudah ada di baris 2"),
            "{problems:?}"
        );

        let good = parse_csv("nama,jenis,surel\n=HYPERLINK(\"x\"),instansi,a@b.go.id\n").unwrap();
        assert_eq!(good[0].name, "=HYPERLINK(\"x\")");
        let recipient = Recipient {
            id: 1,
            department_id: 1,
            kind: "instansi".into(),
            region_code: None,
            name: good[0].name.clone(),
            head_title: "-".into(),
            head_name: String::new(),
            email: "a@b.go.id".into(),
            phone: String::new(),
            address: String::new(),
            active: 1,
            created_at: 0,
            updated_at: 0,
        };
        let csv = String::from_utf8(to_csv(&[recipient]).unwrap()).unwrap();
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
        assert!(csv.contains(",'-,"), "{csv}");
        // What the export wrote reads back as it was.
        assert_eq!(parse_csv(&csv).unwrap()[0].name, "=HYPERLINK(\"x\")");
        assert!(matches!(parse_csv("nama\nx\n"), Err(Error::Csv(_))));
        assert!(matches!(parse_csv("jenis,nama\n"), Err(Error::Csv(_))));
    }
}
