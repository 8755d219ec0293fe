//! Importing candidate files. A file is first *checked*: read, its columns mapped (a
//! preset for the P3KE and DTKS layouts, a mapping the department saved, or one the
//! user makes), every row validated; the report (line, column, message) is kept with
//! the file. The user then imports the valid rows, in one transaction that merges
//! them by NIK with what is already there, or cancels; nothing changes before that.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyConnection, FromRow};

use super::{Error, Settings, nik, reader::Table};
use crate::text::normalise_header;
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
    regions,
};

/// One thing a row can carry.
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// Other headers the exports use for it, compared after normalising.
    aliases: &'static [&'static str],
}

pub const FIELDS: [Field; 10] = [
    Field {
        key: "nik",
        label: "NIK",
        required: true,
        aliases: &["nik", "no nik", "nomor induk kependudukan"],
    },
    Field {
        key: "nama",
        label: "Nama",
        required: true,
        aliases: &["nama", "nama lengkap", "nama art", "nama anggota keluarga"],
    },
    Field {
        key: "jenis_kelamin",
        label: "Jenis kelamin",
        required: false,
        aliases: &["jenis kelamin", "jk", "l p", "kelamin"],
    },
    Field {
        key: "tanggal_lahir",
        label: "Tanggal lahir",
        required: false,
        aliases: &["tanggal lahir", "tgl lahir", "tgllahir"],
    },
    Field {
        key: "kode_wilayah",
        label: "Kode wilayah desa/kelurahan",
        required: false,
        aliases: &[
            "kode wilayah",
            "kode kemendagri",
            "kode desa",
            "kode desa kelurahan",
            "kode wilayah desa",
            "kode kelurahan",
        ],
    },
    Field {
        key: "desa",
        label: "Desa/kelurahan",
        required: false,
        aliases: &["desa kelurahan", "desa", "kelurahan", "nama desa", "nama kelurahan"],
    },
    Field {
        key: "kecamatan",
        label: "Kecamatan",
        required: false,
        aliases: &["kecamatan", "nama kecamatan"],
    },
    Field {
        key: "alamat",
        label: "Alamat",
        required: false,
        aliases: &["alamat", "alamat lengkap"],
    },
    Field {
        key: "pekerjaan",
        label: "Pekerjaan",
        required: false,
        aliases: &["pekerjaan", "pekerjaan utama", "jenis pekerjaan"],
    },
    Field {
        key: "id_sumber",
        label: "ID di sumber data",
        required: false,
        aliases: &["id individu", "iddtks", "id dtks", "id dtsen", "id art"],
    },
];

/// The sources a file can come from.
pub const SOURCES: [(&str, &str); 4] = [
    ("P3KE", "P3KE (Kemenko PMK)"),
    ("DTKS", "DTKS (Kemensos)"),
    ("DTSEN", "DTSEN (BPS)"),
    ("LAIN", "Sumber lain"),
];

pub fn source_label(key: &str) -> &str {
    SOURCES.iter().find(|(k, _)| *k == key).map_or(key, |(_, l)| l)
}

/// A layout known in advance: the export's headers for our fields.
pub struct Preset {
    pub name: &'static str,
    pub source: &'static str,
    pub columns: &'static [(&'static str, &'static str)],
}

pub const PRESETS: [Preset; 2] = [
    Preset {
        name: "Ekspor P3KE",
        source: "P3KE",
        columns: &[
            ("nik", "NIK"),
            ("nama", "Nama"),
            ("jenis_kelamin", "Jenis Kelamin"),
            ("tanggal_lahir", "Tanggal Lahir"),
            ("kode_wilayah", "Kode Kemendagri"),
            ("desa", "Desa/Kelurahan"),
            ("kecamatan", "Kecamatan"),
            ("alamat", "Alamat"),
            ("pekerjaan", "Pekerjaan"),
            ("id_sumber", "ID Individu"),
        ],
    },
    Preset {
        name: "Ekspor DTKS",
        source: "DTKS",
        columns: &[
            ("nik", "NIK"),
            ("nama", "NAMA"),
            ("jenis_kelamin", "JENIS_KELAMIN"),
            ("tanggal_lahir", "TGL_LAHIR"),
            ("kode_wilayah", "KODE_WILAYAH"),
            ("desa", "DESA_KELURAHAN"),
            ("kecamatan", "KECAMATAN"),
            ("alamat", "ALAMAT"),
            ("pekerjaan", "PEKERJAAN"),
            ("id_sumber", "IDDTKS"),
        ],
    },
];

/// Our field → the file's header.
pub type Mapping = BTreeMap<String, String>;

/// A mapping a department saved.
#[derive(Debug, Clone, Serialize)]
pub struct SavedMapping {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub columns: Mapping,
}

/// The mapping chosen for a file, and what it still lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub name: String,
    pub source: String,
    pub mapping: Mapping,
}

/// What is missing or wrong in a mapping for these headers (empty when usable).
pub fn mapping_problems(mapping: &Mapping, headers: &[String]) -> Vec<String> {
    let has = |h: &String| headers.iter().any(|x| normalise_header(x) == normalise_header(h));
    let mut problems: Vec<String> = mapping
        .iter()
        .filter(|(_, header)| !header.is_empty() && !has(header))
        .map(|(field, header)| format!("kolom \"{header}\" untuk {} tidak ada di berkas", field_label(field)))
        .collect();
    for field in FIELDS.iter().filter(|f| f.required) {
        if mapping.get(field.key).is_none_or(|h| h.is_empty()) {
            problems.push(format!("kolom untuk {} belum dipilih", field.label));
        }
    }
    if ["kode_wilayah", "desa"]
        .iter()
        .all(|k| mapping.get(*k).is_none_or(|h| h.is_empty()))
    {
        problems.push("pilih kolom kode wilayah atau nama desa/kelurahan".into());
    }
    problems
}

fn field_label(key: &str) -> &str {
    FIELDS.iter().find(|f| f.key == key).map_or(key, |f| f.label)
}

/// A mapping from the fields' usual names, for a file of unknown layout.
pub fn guess(headers: &[String]) -> Mapping {
    let normalised: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    FIELDS
        .iter()
        .filter_map(|f| {
            let at = f.aliases.iter().find_map(|a| normalised.iter().position(|h| h == a))?;
            Some((f.key.to_string(), headers[at].clone()))
        })
        .collect()
}

/// The mapping for a file: a preset or saved mapping whose columns the file has all of
/// (a saved one first: the department made it for its own files), else a guess.
pub fn choose(headers: &[String], saved: &[SavedMapping]) -> Chosen {
    let fits = |m: &Mapping| mapping_problems(m, headers).is_empty();
    for s in saved {
        if fits(&s.columns) {
            return Chosen {
                name: s.name.clone(),
                source: s.source.clone(),
                mapping: s.columns.clone(),
            };
        }
    }
    for preset in &PRESETS {
        let mapping: Mapping = preset.columns.iter().map(|(f, h)| (f.to_string(), h.to_string())).collect();
        if fits(&mapping) {
            return Chosen {
                name: preset.name.into(),
                source: preset.source.into(),
                mapping,
            };
        }
    }
    let normalised: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    let source = if normalised.iter().any(|h| h.contains("p3ke")) {
        "P3KE"
    } else if normalised.iter().any(|h| h.contains("dtks")) {
        "DTKS"
    } else if normalised.iter().any(|h| h.contains("dtsen")) {
        "DTSEN"
    } else {
        "LAIN"
    };
    Chosen {
        name: "Pemetaan otomatis".into(),
        source: source.into(),
        mapping: guess(headers),
    }
}

pub async fn saved_mappings(db: &Db, department_id: i64) -> Result<Vec<SavedMapping>, Error> {
    let rows: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT id, name, source, columns FROM candidate_mappings WHERE department_id = $1 ORDER BY name")
            .bind(department_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, source, columns)| SavedMapping {
            id,
            name,
            source,
            columns: serde_json::from_str(&columns).unwrap_or_default(),
        })
        .collect())
}

/// Saves (or replaces) a named mapping of the department.
pub async fn save_mapping(db: &Db, actor: &Actor, department_id: i64, name: &str, source: &str, mapping: &Mapping) -> Result<(), Error> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::Invalid(crate::validation::FieldErrors::single(
            "nama_pemetaan",
            "Nama pemetaan wajib diisi, paling banyak 80 huruf.",
        )));
    }
    let columns = serde_json::to_string(mapping).unwrap_or_default();
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM candidate_mappings WHERE department_id = $1 AND name = $2")
        .bind(department_id)
        .bind(&name)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO candidate_mappings (department_id, name, source, columns, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(department_id)
    .bind(&name)
    .bind(source)
    .bind(&columns)
    .bind(now())
    .bind(actor.label())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "candidates.mapping_saved",
            subject: format!("department:{department_id}"),
            details: serde_json::json!({ "name": name, "source": source, "columns": mapping }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A village of the department's regency.
#[derive(Debug, Clone)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub district: String,
}

/// The villages rows may belong to, found by code or by name.
#[derive(Debug, Default)]
pub struct Villages {
    pub regency_name: String,
    list: Vec<Village>,
    by_code: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

fn name_key(name: &str) -> String {
    normalise_header(name)
}

impl Villages {
    pub fn new(regency_name: &str, regions: &[regions::Region]) -> Self {
        let districts: HashMap<&str, &str> = regions
            .iter()
            .filter(|r| r.level == 3)
            .map(|r| (r.code.as_str(), r.name.as_str()))
            .collect();
        let mut villages = Villages {
            regency_name: regency_name.into(),
            ..Villages::default()
        };
        for r in regions.iter().filter(|r| r.level == 4) {
            let district = r.parent_code.as_deref().and_then(|p| districts.get(p)).copied().unwrap_or_default();
            let at = villages.list.len();
            villages.by_code.insert(r.code.clone(), at);
            villages.by_name.entry(name_key(&r.name)).or_default().push(at);
            villages.list.push(Village {
                code: r.code.clone(),
                name: r.name.clone(),
                district: district.into(),
            });
        }
        villages
    }

    pub async fn load(db: &Db, regency_code: &str, regency_name: &str) -> Result<Self, Error> {
        let regions = regions::within_regency(db, regency_code).await.map_err(|e| match e {
            regions::Error::Db(e) => Error::Db(e),
            other => Error::Conflict(other.to_string()),
        })?;
        Ok(Villages::new(regency_name, &regions))
    }

    pub fn get(&self, code: &str) -> Option<&Village> {
        self.by_code.get(code).map(|&i| &self.list[i])
    }

    /// The village of a row, by its region code, else by its (and its district's) name.
    fn resolve(&self, code: &str, village: &str, district: &str) -> Result<&Village, (&'static str, String)> {
        if !code.is_empty() {
            let digits: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
            if digits.len() != 10 || code.chars().any(|c| !c.is_ascii_digit() && c != '.' && !c.is_whitespace()) {
                return Err((
                    "kode_wilayah",
                    format!("kode wilayah \"{code}\" harus 10 angka, misalnya 64.09.01.1005"),
                ));
            }
            let dotted = format!("{}.{}.{}.{}", &digits[0..2], &digits[2..4], &digits[4..6], &digits[6..10]);
            return self.get(&dotted).ok_or_else(|| {
                (
                    "kode_wilayah",
                    format!("kode wilayah {dotted} bukan desa/kelurahan di {}", self.regency_name),
                )
            });
        }
        if village.is_empty() {
            return Err(("desa", "kode wilayah dan nama desa/kelurahan kosong".into()));
        }
        let found: Vec<&Village> = self
            .by_name
            .get(&name_key(village))
            .into_iter()
            .flatten()
            .map(|&i| &self.list[i])
            .filter(|v| district.is_empty() || name_key(&v.district) == name_key(district))
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(("desa", format!("desa/kelurahan \"{village}\" tidak ada di {}", self.regency_name))),
            _ => Err((
                "desa",
                format!("ada lebih dari satu desa/kelurahan bernama \"{village}\"; isi kolom kecamatan atau kode wilayah"),
            )),
        }
    }
}

/// What rows are checked against.
pub struct Rules {
    pub today: NaiveDate,
    pub settings: Settings,
    pub villages: Villages,
}

/// A row that passed every check, cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub line: usize,
    pub nik: String,
    pub name: String,
    /// `L` or `P`.
    pub sex: &'static str,
    pub birth_date: NaiveDate,
    pub address: String,
    pub region_code: String,
    pub occupation: String,
    pub source_ref: String,
}

/// A problem (the row is refused) or a note (the row is taken as cleaned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Problem {
    pub line: i64,
    pub column_name: String,
    pub code: String,
    pub refused: bool,
    pub message: String,
}

/// Where each field is in the file.
struct Columns {
    at: HashMap<&'static str, usize>,
    headers: Vec<String>,
}

impl Columns {
    fn new(mapping: &Mapping, headers: &[String]) -> Self {
        let at = FIELDS
            .iter()
            .filter_map(|f| {
                let wanted = normalise_header(mapping.get(f.key)?);
                let i = headers.iter().position(|h| normalise_header(h) == wanted)?;
                Some((f.key, i))
            })
            .collect();
        Columns {
            at,
            headers: headers.to_vec(),
        }
    }
    fn header(&self, key: &str) -> String {
        self.at
            .get(key)
            .map(|&i| self.headers[i].clone())
            .unwrap_or_else(|| field_label(key).to_string())
    }
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
}

fn parse_sex(text: &str) -> Option<&'static str> {
    let lower = text.trim().to_lowercase();
    match lower.as_str() {
        "1" => Some("L"),
        "2" => Some("P"),
        _ if lower.starts_with('l') || lower.starts_with("pria") => Some("L"),
        _ if lower.starts_with('p') || lower.starts_with('w') => Some("P"),
        _ => None,
    }
}

fn age_on(birth: NaiveDate, day: NaiveDate) -> i64 {
    let mut age = i64::from(day.year() - birth.year());
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Checks the rows of one file, one after another, remembering the NIKs seen.
pub struct Scanner<'a> {
    rules: &'a Rules,
    columns: Columns,
    records: super::reader::Records,
    seen: HashMap<String, usize>,
    pub rows_total: usize,
    pub rows_valid: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(table: &Table, mapping: &Mapping, rules: &'a Rules) -> Self {
        Scanner {
            rules,
            columns: Columns::new(mapping, &table.headers),
            records: table.records(),
            seen: HashMap::new(),
            rows_total: 0,
            rows_valid: 0,
        }
    }

    /// The next valid row; the problems and notes of the rows read on the way are
    /// added to `report`. `None` at the end of the file.
    pub fn next_valid(&mut self, report: &mut Vec<Problem>) -> Option<Checked> {
        loop {
            let (line, record) = self.records.next_record()?;
            self.rows_total += 1;
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    report.push(Problem {
                        line: line as i64,
                        column_name: String::new(),
                        code: "unreadable".into(),
                        refused: true,
                        message: format!("baris tidak dapat dibaca ({e})"),
                    });
                    continue;
                }
            };
            let cell = |key: &str| {
                self.columns
                    .at
                    .get(key)
                    .and_then(|&i| record.get(i))
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            };
            let mut problems: Vec<(&'static str, &'static str, String)> = Vec::new();
            let mut notes: Vec<(&'static str, &'static str, String)> = Vec::new();

            // Name: stray spaces and lower case are cleaned, with a note.
            let raw_name = record
                .get(self.columns.at.get("nama").copied().unwrap_or(usize::MAX))
                .unwrap_or_default();
            let name = raw_name.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
            if name.is_empty() {
                problems.push(("nama", "nama_kosong", "nama kosong".into()));
            } else if raw_name != raw_name.trim() || raw_name.contains("  ") || !raw_name.chars().any(char::is_uppercase) {
                notes.push(("nama", "whitespace", format!("nama \"{raw_name}\" dirapikan menjadi \"{name}\"")));
            }

            // Date of birth and sex as the row states them.
            let raw_birth = cell("tanggal_lahir");
            let stated_birth = if raw_birth.is_empty() {
                None
            } else {
                match parse_date(&raw_birth) {
                    Some(d) => Some(d),
                    None => {
                        problems.push((
                            "tanggal_lahir",
                            "bad_date",
                            format!("tanggal lahir \"{raw_birth}\" bukan tanggal yang ada (contoh: 1975-02-18 atau 18-02-1975)"),
                        ));
                        None
                    }
                }
            };
            let raw_sex = cell("jenis_kelamin");
            let stated_sex = if raw_sex.is_empty() {
                None
            } else {
                let sex = parse_sex(&raw_sex);
                if sex.is_none() {
                    problems.push((
                        "jenis_kelamin",
                        "bad_sex",
                        format!("jenis kelamin \"{raw_sex}\" tidak dikenal (L/P, Laki-laki/Perempuan)"),
                    ));
                }
                sex
            };

            // The NIK and what it says.
            let (nik_text, had_marker) = nik::clean(&cell("nik"));
            let mut facts = None;
            match nik::check(&nik_text, stated_birth, self.rules.today) {
                Err(p) => problems.push(("nik", p.code, p.message)),
                Ok(f) => {
                    facts = Some(f);
                    if had_marker {
                        notes.push((
                            "nik",
                            "nik_apostrophe",
                            "tanda ' (penanda teks spreadsheet) di depan NIK dibuang".into(),
                        ));
                    }
                    if let Some(first) = self.seen.get(&nik_text) {
                        problems.push(("nik", "dup_in_file", format!("NIK {nik_text} sudah ada di baris {first}")));
                    } else {
                        self.seen.insert(nik_text.clone(), line);
                    }
                    let nik_sex = if f.female { "P" } else { "L" };
                    if let Some(sex) = stated_sex
                        && sex != nik_sex
                    {
                        problems.push((
                            "jenis_kelamin",
                            "nik_sex_mismatch",
                            format!(
                                "jenis kelamin \"{raw_sex}\" bertentangan dengan NIK (tanggal {} berarti {})",
                                &nik_text[6..8],
                                if f.female { "perempuan: tanggal lahir + 40" } else { "laki-laki" }
                            ),
                        ));
                    }
                    if let Some(stated) = stated_birth
                        && stated != f.birth_date
                    {
                        problems.push((
                            "tanggal_lahir",
                            "nik_birth_mismatch",
                            format!(
                                "tanggal lahir {} bertentangan dengan NIK ({})",
                                stated.format("%d-%m-%Y"),
                                f.birth_date.format("%d-%m-%Y")
                            ),
                        ));
                    }
                }
            }

            // Age on the day of the check, from the NIK's date (the stated one agrees).
            let birth = facts.map(|f| f.birth_date).or(stated_birth);
            if let Some(birth) = birth {
                let age = age_on(birth, self.rules.today);
                let Settings { min_age, max_age, .. } = self.rules.settings;
                if age < min_age || age > max_age {
                    problems.push((
                        "tanggal_lahir",
                        "age_out_of_range",
                        format!("umur {age} tahun, di luar batas {min_age}–{max_age} tahun"),
                    ));
                }
            }

            let village = match self
                .rules
                .villages
                .resolve(&cell("kode_wilayah"), &cell("desa"), &cell("kecamatan"))
            {
                Ok(v) => Some(v),
                Err((field, message)) => {
                    problems.push((field, "unknown_village", message));
                    None
                }
            };

            let refused = !problems.is_empty();
            for (refused, (field, code, message)) in problems.into_iter().map(|p| (true, p)).chain(notes.into_iter().map(|n| (false, n))) {
                report.push(Problem {
                    line: line as i64,
                    column_name: self.columns.header(field),
                    code: code.into(),
                    refused,
                    message,
                });
            }
            if refused {
                continue;
            }
            let (Some(facts), Some(village)) = (facts, village) else {
                continue;
            };
            self.rows_valid += 1;
            return Some(Checked {
                line,
                nik: nik_text,
                name,
                sex: if facts.female { "P" } else { "L" },
                birth_date: facts.birth_date,
                address: cell("alamat").split_whitespace().collect::<Vec<_>>().join(" "),
                region_code: village.code.clone(),
                occupation: cell("pekerjaan").split_whitespace().collect::<Vec<_>>().join(" "),
                source_ref: cell("id_sumber"),
            });
        }
    }
}

/// Checks one person typed into a form (a replacement a village proposes) with the very
/// rules of an imported row; `fields` are (field key, value). The problems name the
/// field keys as their columns.
pub fn check_one(rules: &Rules, fields: &[(&str, &str)]) -> Result<Checked, Vec<Problem>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let written = out
        .write_record(fields.iter().map(|(k, _)| *k))
        .and_then(|_| out.write_record(fields.iter().map(|(_, v)| v.replace(['\r', '\n'], " "))));
    let bytes = match (written, out.into_inner()) {
        (Ok(()), Ok(bytes)) => bytes,
        _ => return Err(vec![]),
    };
    let table = Table::open(&bytes).map_err(|_| Vec::new())?;
    let mapping: Mapping = fields.iter().map(|(k, _)| (k.to_string(), k.to_string())).collect();
    let mut report = Vec::new();
    let mut scanner = Scanner::new(&table, &mapping, rules);
    match scanner.next_valid(&mut report) {
        Some(checked) => Ok(checked),
        None => Err(report.into_iter().filter(|p| p.refused).collect()),
    }
}

/// The rules of a department on a day.
pub async fn rules(db: &Db, department: &crate::departments::Department) -> Result<Rules, Error> {
    let regency = department.region_code.clone().unwrap_or_default();
    Ok(Rules {
        today: department.tz().today(),
        settings: Settings::load(db, department.id).await?,
        villages: Villages::load(db, &regency, &department.regency_name).await?,
    })
}

/// A stored import and its outcome.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Import {
    pub id: i64,
    pub department_id: i64,
    pub source: String,
    pub file_name: String,
    pub file_sha256: String,
    pub file_size: i64,
    pub layout: String,
    pub mapping_name: String,
    pub mapping: String,
    pub rows_total: i64,
    pub rows_valid: i64,
    pub rows_refused: i64,
    pub rows_new: i64,
    pub rows_merged: i64,
    pub status: String,
    pub checked_by: String,
    pub checked_at: i64,
    pub finished_by: String,
    pub finished_at: Option<i64>,
}

impl Import {
    pub fn mapping(&self) -> Mapping {
        serde_json::from_str(&self.mapping).unwrap_or_default()
    }
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "unmapped" => "menunggu pemetaan kolom",
            "checked" => "diperiksa, belum diimpor",
            "imported" => "diimpor",
            "cancelled" => "dibatalkan",
            _ => "?",
        }
    }
}

const IMPORT_COLUMNS: &str = "id, department_id, source, file_name, file_sha256, file_size, layout, mapping_name, mapping, \
     rows_total, rows_valid, rows_refused, rows_new, rows_merged, status, checked_by, checked_at, finished_by, finished_at";

pub async fn get(db: &Db, department_id: i64, id: i64) -> Result<Import, Error> {
    sqlx::query_as::<Any, Import>(sqlx::AssertSqlSafe(format!(
        "SELECT {IMPORT_COLUMNS} FROM candidate_imports WHERE id = $1 AND department_id = $2"
    )))
    .bind(id)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn list(db: &Db, department_id: i64, limit: i64) -> Result<Vec<Import>, Error> {
    Ok(sqlx::query_as::<Any, Import>(sqlx::AssertSqlSafe(format!(
        "SELECT {IMPORT_COLUMNS} FROM candidate_imports WHERE department_id = $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(department_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}

/// The report of an import, problems first, in file order.
pub async fn report(db: &Db, import_id: i64) -> Result<Vec<Problem>, Error> {
    let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
        "SELECT line, column_name, code, refused, message FROM candidate_import_problems WHERE import_id = $1 ORDER BY line, id",
    )
    .bind(import_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(line, column_name, code, refused, message)| Problem {
            line,
            column_name,
            code,
            refused: refused != 0,
            message,
        })
        .collect())
}

/// A file to check.
pub struct Upload<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    /// `P3KE`, `DTKS`, `DTSEN` or `LAIN`; empty: as the layout says.
    pub source: &'a str,
    /// An explicit mapping; `None`: a preset, a saved mapping or a guess.
    pub mapping: Option<(String, Mapping)>,
}

/// What checking a table gave.
pub struct Scan {
    pub rows_total: usize,
    pub rows_valid: usize,
    pub report: Vec<Problem>,
}

impl Scan {
    fn rows_refused(&self) -> usize {
        self.report
            .iter()
            .filter(|p| p.refused)
            .map(|p| p.line)
            .collect::<HashSet<_>>()
            .len()
    }
}

/// Checks every row of a table with a usable mapping.
pub fn scan(table: &Table, mapping: &Mapping, rules: &Rules) -> Result<Scan, Error> {
    let mut report = Vec::new();
    let mut scanner = Scanner::new(table, mapping, rules);
    while scanner.next_valid(&mut report).is_some() {}
    if scanner.rows_total == 0 {
        return Err(Error::Unreadable("berkas tidak memuat satu baris data pun".into()));
    }
    Ok(Scan {
        rows_total: scanner.rows_total,
        rows_valid: scanner.rows_valid,
        report,
    })
}

/// Keeps a file with its report, to be imported or cancelled. A file whose columns
/// cannot be mapped by a preset, a saved mapping or a guess is kept as `unmapped`, for
/// the user to map (`remap`). A file that cannot be read at all leaves no trace.
pub async fn check(db: &Db, actor: &Actor, department: &crate::departments::Department, upload: Upload<'_>) -> Result<Import, Error> {
    let table = Table::open(upload.bytes)?;
    let saved = saved_mappings(db, department.id).await?;
    let mut chosen = match &upload.mapping {
        Some((name, mapping)) => Chosen {
            name: name.clone(),
            source: String::new(),
            mapping: mapping.clone(),
        },
        None => choose(&table.headers, &saved),
    };
    if !upload.source.is_empty() {
        chosen.source = upload.source.to_string();
    } else if chosen.source.is_empty() {
        chosen.source = "LAIN".into();
    }
    let scanned = if mapping_problems(&chosen.mapping, &table.headers).is_empty() {
        let rules = rules(db, department).await?;
        Some(scan(&table, &chosen.mapping, &rules)?)
    } else if table.records().next_record().is_none() {
        return Err(Error::Unreadable("berkas tidak memuat satu baris data pun".into()));
    } else {
        None
    };
    let mut tx = db.begin_write().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO candidate_imports (department_id, source, file_name, file_sha256, file_size, content, layout, mapping_name, mapping, \
         rows_total, rows_valid, rows_refused, status, checked_by, checked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(department.id)
    .bind(&chosen.source)
    .bind(upload.file_name)
    .bind(hex::encode(Sha256::digest(upload.bytes)))
    .bind(upload.bytes.len() as i64)
    .bind(upload.bytes)
    .bind(table.layout.describe())
    .bind(&chosen.name)
    .bind(serde_json::to_string(&chosen.mapping).unwrap_or_default())
    .bind(scanned.as_ref().map_or(0, |s| s.rows_total as i64))
    .bind(scanned.as_ref().map_or(0, |s| s.rows_valid as i64))
    .bind(scanned.as_ref().map_or(0, |s| s.rows_refused() as i64))
    .bind(if scanned.is_some() { "checked" } else { "unmapped" })
    .bind(actor.label())
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    if let Some(scanned) = &scanned {
        store_report(&mut tx, id, &scanned.report).await?;
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.checked",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({
                "file": upload.file_name, "source": chosen.source, "mapping": chosen.name,
                "rows": scanned.as_ref().map(|s| s.rows_total), "valid": scanned.as_ref().map(|s| s.rows_valid),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department.id, id).await
}

/// The stored file of an import not yet imported.
async fn content(db: &Db, id: i64) -> Result<Vec<u8>, Error> {
    let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as("SELECT content FROM candidate_imports WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.and_then(|(c,)| c)
        .ok_or_else(|| Error::Conflict("berkas impor ini sudah tidak tersimpan".into()))
}

/// The headers of an import's file, for the mapping form.
pub async fn headers(db: &Db, department_id: i64, id: i64) -> Result<Vec<String>, Error> {
    get(db, department_id, id).await?;
    Ok(Table::open(&content(db, id).await?)?.headers)
}

/// Checks a kept file again with the mapping the user chose (saving it under its name
/// when asked); the report is replaced.
#[allow(clippy::too_many_arguments)]
pub async fn remap(
    db: &Db,
    actor: &Actor,
    department: &crate::departments::Department,
    id: i64,
    source: &str,
    mapping: &Mapping,
    save_as: Option<&str>,
) -> Result<Import, Error> {
    let import = get(db, department.id, id).await?;
    if !matches!(import.status.as_str(), "checked" | "unmapped") {
        return Err(Error::Conflict(format!("impor ini sudah {}", import.status_label())));
    }
    let table = Table::open(&content(db, id).await?)?;
    let problems = mapping_problems(mapping, &table.headers);
    if !problems.is_empty() {
        return Err(Error::Mapping(problems));
    }
    let source = if source.is_empty() {
        import.source.clone()
    } else {
        source.to_string()
    };
    if let Some(name) = save_as {
        save_mapping(db, actor, department.id, name, &source, mapping).await?;
    }
    let rules = rules(db, department).await?;
    let scanned = scan(&table, mapping, &rules)?;
    let mapping_name = save_as.map_or_else(
        || "Pemetaan sendiri".to_string(),
        |n| n.split_whitespace().collect::<Vec<_>>().join(" "),
    );
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE candidate_imports SET source = $1, mapping_name = $2, mapping = $3, rows_total = $4, rows_valid = $5, \
         rows_refused = $6, status = 'checked', checked_by = $7, checked_at = $8 \
         WHERE id = $9 AND status IN ('checked', 'unmapped')",
    )
    .bind(&source)
    .bind(&mapping_name)
    .bind(serde_json::to_string(mapping).unwrap_or_default())
    .bind(scanned.rows_total as i64)
    .bind(scanned.rows_valid as i64)
    .bind(scanned.rows_refused() as i64)
    .bind(actor.label())
    .bind(now())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::Conflict("impor ini baru saja diproses".into()));
    }
    sqlx::query("DELETE FROM candidate_import_problems WHERE import_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    store_report(&mut tx, id, &scanned.report).await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.checked",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({
                "file": import.file_name, "source": source, "mapping": mapping,
                "rows": scanned.rows_total, "valid": scanned.rows_valid,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department.id, id).await
}

async fn store_report(conn: &mut AnyConnection, id: i64, report: &[Problem]) -> Result<(), Error> {
    for chunk in report.chunks(CHUNK) {
        let mut sql = String::from("INSERT INTO candidate_import_problems (import_id, line, column_name, code, refused, message) VALUES ");
        push_rows(&mut sql, chunk.len(), 6, 1, "(", ")");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            query = query
                .bind(id)
                .bind(p.line)
                .bind(&p.column_name)
                .bind(&p.code)
                .bind(i64::from(p.refused))
                .bind(&p.message);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Cancels a checked import: its file is dropped, its report stays.
pub async fn cancel(db: &Db, actor: &Actor, department_id: i64, id: i64) -> Result<Import, Error> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE candidate_imports SET status = 'cancelled', content = NULL, finished_by = $1, finished_at = $2 \
         WHERE id = $3 AND department_id = $4 AND status IN ('checked', 'unmapped')",
    )
    .bind(actor.label())
    .bind(now())
    .bind(id)
    .bind(department_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict("impor ini sudah diimpor atau dibatalkan".into()));
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "candidates.import_cancelled",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department_id, id).await
}

/// Rows written per statement. Not more: sqlx binds each `$n` by looking its name up,
/// and SQLite finds a parameter's name by a linear scan, so a statement's binding costs
/// grow with the square of its parameters (400 rows of 7 took ~30 µs a row, 64 rows
/// a few).
const CHUNK: usize = 64;

/// Imports the valid rows of a checked file in one transaction: new NIKs become
/// candidates, known ones gain this source; each gets an event naming the file and
/// line. `progress(done, total)` is called after every chunk.
pub async fn apply(
    db: &Db,
    actor: &Actor,
    department: &crate::departments::Department,
    id: i64,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Import, Error> {
    let import = get(db, department.id, id).await?;
    if import.status != "checked" {
        return Err(Error::Conflict(format!("impor ini sudah {}", import.status_label())));
    }
    let content = content(db, id).await?;
    let rules = rules(db, department).await?;
    let table = Table::open(&content)?;
    let mapping = import.mapping();
    let total = import.rows_valid.max(0) as usize;
    let at = now();
    let actor_label = actor.label();

    let mut tx = db.begin_write().await?;
    // Taking the import row first makes a second, concurrent apply wait and then find
    // it imported.
    let claimed = sqlx::query("UPDATE candidate_imports SET finished_at = $1 WHERE id = $2 AND status = 'checked'")
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if claimed.rows_affected() == 0 {
        return Err(Error::Conflict("impor ini sudah diproses".into()));
    }
    let mut scanner = Scanner::new(&table, &mapping, &rules);
    let mut ignored = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut done = 0;
    loop {
        chunk.clear();
        while chunk.len() < CHUNK {
            match scanner.next_valid(&mut ignored) {
                Some(row) => chunk.push(row),
                None => break,
            }
        }
        ignored.clear();
        if chunk.is_empty() {
            break;
        }
        insert_chunk(&mut tx, department.id, id, &import.source, at, &chunk).await?;
        done += chunk.len();
        progress(done, total.max(done));
    }
    sqlx::query(
        "INSERT INTO candidate_events (department_id, candidate_id, at, actor, kind, status_to, reason, import_id) \
         SELECT $1, s.candidate_id, $2, $3, \
                CASE WHEN c.import_id = $4 THEN 'diimpor' ELSE 'digabung' END, \
                CASE WHEN c.import_id = $4 THEN 'kandidat' ELSE '' END, \
                $5 || s.line, $4 \
         FROM candidate_sources s JOIN candidates c ON c.id = s.candidate_id WHERE s.import_id = $4",
    )
    .bind(department.id)
    .bind(at)
    .bind(&actor_label)
    .bind(id)
    .bind(format!("{} {} baris ", import.source, import.file_name))
    .execute(&mut *tx)
    .await?;
    let (new,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM candidates WHERE import_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let merged = done as i64 - new;
    sqlx::query(
        "UPDATE candidate_imports SET status = 'imported', content = NULL, rows_new = $1, rows_merged = $2, \
         finished_by = $3, finished_at = $4 WHERE id = $5",
    )
    .bind(new)
    .bind(merged)
    .bind(&actor_label)
    .bind(at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.imported",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({
                "file": import.file_name, "sha256": import.file_sha256, "source": import.source,
                "imported": done, "new": new, "merged": merged,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, department.id, id).await
}

/// Appends `rows` comma-separated tuples of `width` numbered placeholders each, the first
/// one `$first`, every tuple between `open` and `close` (which may hold fixed values).
fn push_rows(sql: &mut String, rows: usize, width: usize, first: usize, open: &str, close: &str) {
    use std::fmt::Write as _;
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(open);
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", first + row * width + column);
        }
        sql.push_str(close);
    }
}

/// Writes one chunk: new candidates (a NIK already there is left as it is), then one
/// source row per line, joined to the candidate by NIK.
async fn insert_chunk(
    conn: &mut AnyConnection,
    department_id: i64,
    import_id: i64,
    source: &str,
    at: i64,
    rows: &[Checked],
) -> Result<(), Error> {
    let mut sql = String::from(
        "INSERT INTO candidates (department_id, nik, name, sex, birth_date, address, region_code, occupation, status, import_id, created_at, updated_at) VALUES ",
    );
    push_rows(&mut sql, rows.len(), 7, 4, "($1, ", ", 'kandidat', $2, $3, $3)");
    sql.push_str(" ON CONFLICT (department_id, nik) DO NOTHING");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(department_id)
        .bind(import_id)
        .bind(at);
    for r in rows {
        query = query
            .bind(&r.nik)
            .bind(&r.name)
            .bind(r.sex)
            .bind(r.birth_date.format("%Y-%m-%d").to_string())
            .bind(&r.address)
            .bind(&r.region_code)
            .bind(&r.occupation);
    }
    query.execute(&mut *conn).await?;

    let mut sql = String::from("WITH v (nik, line, source_ref, name, region_code, occupation) AS (VALUES ");
    push_rows(&mut sql, rows.len(), 6, 4, "(", ")");
    sql.push_str(
        ") INSERT INTO candidate_sources (candidate_id, import_id, source, line, source_ref, name, region_code, occupation) \
         SELECT c.id, $2, $3, v.line, v.source_ref, v.name, v.region_code, v.occupation \
         FROM v JOIN candidates c ON c.department_id = $1 AND c.nik = v.nik",
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(department_id)
        .bind(import_id)
        .bind(source);
    for r in rows {
        query = query
            .bind(&r.nik)
            .bind(r.line as i64)
            .bind(&r.source_ref)
            .bind(&r.name)
            .bind(&r.region_code)
            .bind(&r.occupation);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_on_across_rows() {
        let mut sql = String::new();
        push_rows(&mut sql, 2, 2, 4, "($1, ", ", 'x')");
        assert_eq!(sql, "($1, $4, $5, 'x'),($1, $6, $7, 'x')");
    }

    #[test]
    fn a_person_typed_into_a_form_is_checked_like_a_row() {
        let regions = crate::regions::parse_csv(crate::regions::DEMO_REGENCY_CSV).unwrap();
        let rules = Rules {
            today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            settings: Settings::default(),
            villages: Villages::new("Kabupaten Penajam Paser Utara", &regions),
        };
        let ok = check_one(
            &rules,
            &[
                ("nik", "6409015507880003"),
                ("nama", " siti  aminah"),
                ("jenis_kelamin", "P"),
                ("tanggal_lahir", "1988-07-15"),
                ("kode_wilayah", "64.09.01.1005"),
            ],
        )
        .unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.sex, ok.region_code.as_str()),
            ("SITI AMINAH", "P", "64.09.01.1005")
        );
        let refused = check_one(
            &rules,
            &[
                ("nik", "6409015507880003"),
                ("nama", "Siti"),
                ("jenis_kelamin", "L"),
                ("tanggal_lahir", "1988-07-15"),
                ("kode_wilayah", "64.09.01.1005"),
            ],
        )
        .unwrap_err();
        assert_eq!(refused[0].code, "nik_sex_mismatch");
        assert_eq!(refused[0].column_name, "jenis_kelamin");
    }
}
