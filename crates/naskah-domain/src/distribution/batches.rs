//! One draft for many villages: the attachment rows of an uploaded file are read,
//! checked line by line and sorted to the villages of the recipients' directory, and
//! each village in the chosen scope gets the data of its own letter.
//!
//! Until the beneficiary data of the next stage exist, the rows come from a CSV file:
//! our own columns (those of the template's table) or the layout of a P3KE or DTKS
//! export, with `,` or `;`, with or without a byte-order mark.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::{
    Error,
    recipients::{self, Recipient},
};
use crate::{
    beneficiaries::candidates::Candidate,
    db::Db,
    letters::{FieldSpec, FieldType, Manifest, manifest::PerVillage},
    text::normalise_header,
    workflow::batch::BatchDraft,
};

/// One row of the uploaded file, sorted to its village.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateRow {
    /// The line in the file (the header is line 1).
    pub line: usize,
    /// The village's region code in dotted form ("64.09.01.1005"), when the file has one.
    pub region_code: String,
    /// The village's and kecamatan's names, when the file gives them instead.
    pub village: String,
    pub district: String,
    /// The cells of the template's table, cleaned but not yet checked.
    pub cells: Map<String, Value>,
    /// The candidate the row shows, when it comes from the beneficiary data.
    pub candidate_id: Option<i64>,
}

/// Other names the exports use for a column of ours.
fn aliases(column: &str) -> &'static [&'static str] {
    match column {
        "tanggal_lahir" => &["tgl lahir", "tanggal lahir"],
        "jenis_kelamin" => &["jenis kelamin", "jk", "l p"],
        "sumber" => &["sumber data"],
        _ => &[],
    }
}

const REGION_HEADERS: [&str; 5] = [
    "kode wilayah",
    "kode kemendagri",
    "kode desa",
    "kode desa kelurahan",
    "kode wilayah desa",
];
const VILLAGE_HEADERS: [&str; 4] = ["desa kelurahan", "desa", "kelurahan", "nama desa"];
const DISTRICT_HEADERS: [&str; 2] = ["kecamatan", "nama kecamatan"];

/// The dotted form of a village's region code, from "6409011005" or "64.09.01.1005".
pub fn dotted_region_code(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '.').collect();
    (digits.len() == 10 && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("{}.{}.{}.{}", &digits[0..2], &digits[2..4], &digits[4..6], &digits[6..10]))
}

/// A date as the template wants it (YYYY-MM-DD), from the forms the exports use.
fn iso_date(raw: &str) -> Option<String> {
    ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// A cell cleaned for its column: spaces collapsed, dates to YYYY-MM-DD, a choice
/// matched without regard to case or by its first letters ("Laki-laki" → "L").
fn clean_cell(column: &FieldSpec, raw: &str) -> String {
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match column.kind {
        FieldType::Date if !text.is_empty() => iso_date(&text).unwrap_or(text),
        FieldType::Choice if !text.is_empty() => {
            let lower = text.to_lowercase();
            column
                .choices
                .iter()
                .find(|c| c.to_lowercase() == lower)
                .or_else(|| column.choices.iter().find(|c| lower.starts_with(&c.to_lowercase())))
                .cloned()
                .unwrap_or(text)
        }
        _ => text,
    }
}

/// A NIK as typed, without a spreadsheet's leading apostrophe and inner spaces; `Err`
/// says what is wrong with it.
fn clean_nik(raw: &str) -> Result<String, String> {
    let nik: String = raw.trim().trim_start_matches('\'').chars().filter(|c| !c.is_whitespace()).collect();
    if nik.contains(['E', 'e']) && nik.contains('+') {
        return Err(format!(
            "NIK \"{nik}\" rusak oleh spreadsheet (notasi ilmiah); angka aslinya hilang"
        ));
    }
    if nik.len() != 16 || !nik.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("NIK \"{nik}\" harus 16 angka"));
    }
    Ok(nik)
}

/// Reads the rows of the template's table from a CSV file. Every faulty line is
/// reported (with its number); nothing is returned unless all are sound.
pub fn parse_candidates(text: &str, table: &FieldSpec) -> Result<Vec<CandidateRow>, Error> {
    let text = text.trim_start_matches('\u{feff}');
    let header_line = text.lines().next().unwrap_or_default();
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Csv(e.to_string()))?
        .iter()
        .map(normalise_header)
        .collect();
    let find = |names: &[&str]| names.iter().find_map(|n| headers.iter().position(|h| h == n));
    let columns: Vec<(&FieldSpec, Option<usize>)> = table
        .columns
        .iter()
        .map(|c| {
            let mut names = vec![normalise_header(&c.name), normalise_header(&c.label)];
            names.extend(aliases(&c.name).iter().map(|a| a.to_string()));
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            (c, find(&refs))
        })
        .collect();
    let region = find(&REGION_HEADERS);
    let village = find(&VILLAGE_HEADERS);
    let district = find(&DISTRICT_HEADERS);
    if region.is_none() && village.is_none() {
        return Err(Error::Csv(
            "berkas tidak memuat kolom kode wilayah (kode_wilayah / Kode Kemendagri) atau nama desa/kelurahan".into(),
        ));
    }
    let missing: Vec<&str> = columns
        .iter()
        .filter(|(c, at)| c.required && at.is_none())
        .map(|(c, _)| c.label.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Csv(format!("kolom wajib tidak ada: {}", missing.join(", "))));
    }
    // An export's own layout tells where its rows come from.
    let source = if headers.iter().any(|h| h.contains("p3ke")) {
        "P3KE"
    } else if headers.iter().any(|h| h == "iddtks" || h.contains("dtks")) {
        "DTKS"
    } else {
        ""
    };

    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen_nik: HashMap<String, usize> = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("baris {line}: tidak dapat dibaca ({e})"));
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or_default().trim().to_string();
        let mut cells = Map::new();
        let mut row_problems = Vec::new();
        for (column, at) in &columns {
            let raw = cell(*at);
            let value = if column.name == "nik" {
                match clean_nik(&raw) {
                    Ok(nik) => {
                        if let Some(first) = seen_nik.insert(nik.clone(), line) {
                            row_problems.push(format!("NIK {nik} sudah ada di baris {first}"));
                        }
                        nik
                    }
                    Err(message) => {
                        row_problems.push(message);
                        raw
                    }
                }
            } else if column.name == "sumber" && raw.is_empty() {
                source.to_string()
            } else {
                clean_cell(column, &raw)
            };
            if !value.is_empty() {
                cells.insert(column.name.clone(), Value::String(value));
            }
        }
        if row_problems.is_empty()
            && let Err(errors) = table.check_row(&cells)
        {
            row_problems.extend(errors.0.into_iter().map(|e| e.message));
        }
        let raw_region = cell(region);
        let region_code = if raw_region.is_empty() {
            String::new()
        } else {
            match dotted_region_code(&raw_region) {
                Some(code) => code,
                None => {
                    row_problems.push(format!("kode wilayah \"{raw_region}\" harus 10 angka, misalnya 64.09.01.1005"));
                    String::new()
                }
            }
        };
        let village_name = cell(village);
        if region_code.is_empty() && village_name.is_empty() && raw_region.is_empty() {
            row_problems.push("kode wilayah atau nama desa/kelurahan kosong".into());
        }
        if row_problems.is_empty() {
            rows.push(CandidateRow {
                line,
                region_code,
                village: village_name,
                district: cell(district),
                cells,
                candidate_id: None,
            });
        } else {
            problems.push(format!("baris {line}: {}", row_problems.join("; ")));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Rows(problems));
    }
    if rows.is_empty() {
        return Err(Error::Csv("berkas tidak memuat satu baris data pun".into()));
    }
    Ok(rows)
}

/// The rows of the template's table for candidates of the beneficiary data (those not
/// yet on a village's list): only the columns the table has are filled.
pub fn rows_from_candidates(list: &[(Candidate, String)], table: &FieldSpec) -> Vec<CandidateRow> {
    list.iter()
        .enumerate()
        .map(|(i, (c, sources))| {
            let mut cells = Map::new();
            for column in &table.columns {
                let value = match column.name.as_str() {
                    "nik" => c.nik.clone(),
                    "nama" => c.name.clone(),
                    "tanggal_lahir" => c.birth_date.clone(),
                    "jenis_kelamin" => c.sex.clone(),
                    "alamat" => c.address.clone(),
                    "pekerjaan" => c.occupation.clone(),
                    "sumber" => sources.clone(),
                    _ => continue,
                };
                if !value.is_empty() {
                    cells.insert(column.name.clone(), Value::String(value));
                }
            }
            CandidateRow {
                line: i + 1,
                region_code: c.region_code.clone(),
                village: String::new(),
                district: String::new(),
                cells,
                candidate_id: Some(c.id),
            }
        })
        .collect()
}

/// One village's letter in a plan.
#[derive(Debug, Clone)]
pub struct VillageLetter {
    pub recipient: Recipient,
    /// "Desa" or "Kelurahan".
    pub kind_label: &'static str,
    /// The village's and kecamatan's names without "Desa"/"Kecamatan".
    pub village_name: String,
    pub district_name: String,
    /// How the Camat is addressed ("Camat Penajam"), when the directory has the kecamatan.
    pub camat: Option<String>,
    pub rows: Vec<Value>,
    /// The candidates on the village's list, when the rows come from the beneficiary data.
    pub candidate_ids: Vec<i64>,
}

impl VillageLetter {
    pub fn label(&self) -> String {
        format!("{} {}", self.kind_label, self.village_name)
    }
}

/// Which village gets which rows.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scope: String,
    pub scope_label: String,
    pub letters: Vec<VillageLetter>,
    /// Villages in scope without a single row (they get no letter).
    pub without_rows: Vec<Recipient>,
    /// Rows of villages outside the scope (left out).
    pub outside_scope: usize,
    pub total_rows: usize,
}

/// A name without its kind in front ("Desa Sotek" → "Sotek").
fn bare_name<'a>(name: &'a str, prefixes: &[&str]) -> &'a str {
    prefixes.iter().find_map(|p| name.strip_prefix(p).map(str::trim)).unwrap_or(name)
}

fn name_key(name: &str) -> String {
    normalise_header(bare_name(
        name.trim(),
        &["Desa ", "Kelurahan ", "Kecamatan ", "DESA ", "KELURAHAN ", "KECAMATAN "],
    ))
}

/// The kecamatan part of a village's code ("64.09.01.1005" → "64.09.01").
fn district_of(code: &str) -> &str {
    code.rsplit_once('.').map(|(d, _)| d).unwrap_or(code)
}

/// Sorts the rows to the active villages of the directory in the scope ('' = every
/// village, else a kecamatan's code). A row whose village is not in the directory is an
/// error; rows of villages outside the scope are counted and left out.
pub async fn plan(db: &Db, department_id: i64, scope: &str, rows: Vec<CandidateRow>) -> Result<Plan, Error> {
    let directory = recipients::list(db, department_id, &recipients::Filter::default()).await?;
    let districts: HashMap<&str, &Recipient> = directory
        .iter()
        .filter(|r| r.kind == "kecamatan")
        .filter_map(|r| r.region_code.as_deref().map(|c| (c, r)))
        .collect();
    let villages: Vec<&Recipient> = directory
        .iter()
        .filter(|r| r.active == 1 && (r.kind == "desa" || r.kind == "kelurahan") && r.region_code.is_some())
        .collect();
    let scope = scope.trim();
    let scope_label = if scope.is_empty() {
        "semua desa/kelurahan".to_string()
    } else {
        match districts.get(scope) {
            Some(d) => format!("desa/kelurahan di {}", d.name),
            None => {
                return Err(Error::Conflict(format!(
                    "Kecamatan dengan kode {scope} tidak ada dalam daftar penerima."
                )));
            }
        }
    };
    let by_code: HashMap<&str, &Recipient> = villages.iter().filter_map(|r| r.region_code.as_deref().map(|c| (c, *r))).collect();
    // By name: "sotek" alone, or with its kecamatan when two villages share a name.
    let mut by_name: HashMap<String, Vec<&Recipient>> = HashMap::new();
    for v in &villages {
        by_name.entry(name_key(&v.name)).or_default().push(v);
    }

    let total_rows = rows.len();
    let mut grouped: BTreeMap<String, (Vec<Value>, Vec<i64>)> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut outside_scope = 0;
    for row in rows {
        let found = if !row.region_code.is_empty() {
            by_code.get(row.region_code.as_str()).copied()
        } else {
            let candidates = by_name.get(&name_key(&row.village)).map(Vec::as_slice).unwrap_or_default();
            match candidates {
                [one] => Some(*one),
                [] => None,
                many => many.iter().copied().find(|v| {
                    v.region_code
                        .as_deref()
                        .and_then(|c| districts.get(district_of(c)))
                        .is_some_and(|d| name_key(&d.name) == name_key(&row.district))
                }),
            }
        };
        let Some(village) = found else {
            let what = if row.region_code.is_empty() {
                format!("desa/kelurahan \"{}\"", row.village)
            } else {
                format!("kode wilayah {}", row.region_code)
            };
            problems.push(format!(
                "baris {}: {what} tidak ada dalam daftar penerima (desa/kelurahan aktif)",
                row.line
            ));
            continue;
        };
        let code = village.region_code.clone().unwrap_or_default();
        if !scope.is_empty() && district_of(&code) != scope {
            outside_scope += 1;
            continue;
        }
        let (cells, ids) = grouped.entry(code).or_default();
        cells.push(Value::Object(row.cells));
        ids.extend(row.candidate_id);
    }
    if !problems.is_empty() {
        return Err(Error::Rows(problems));
    }
    let mut letters = Vec::new();
    let mut without_rows = Vec::new();
    for village in villages {
        let code = village.region_code.clone().unwrap_or_default();
        if !scope.is_empty() && district_of(&code) != scope {
            continue;
        }
        let Some((rows, candidate_ids)) = grouped.remove(&code) else {
            without_rows.push(village.clone());
            continue;
        };
        let district = districts.get(district_of(&code));
        let kind_label = if village.kind == "kelurahan" { "Kelurahan" } else { "Desa" };
        letters.push(VillageLetter {
            recipient: village.clone(),
            kind_label,
            village_name: bare_name(&village.name, &["Desa ", "Kelurahan "]).to_string(),
            district_name: district
                .map(|d| bare_name(&d.name, &["Kecamatan "]).to_string())
                .unwrap_or_default(),
            camat: district.map(|d| {
                if d.head_title.is_empty() {
                    format!("Camat {}", bare_name(&d.name, &["Kecamatan "]))
                } else {
                    d.head_title.clone()
                }
            }),
            rows,
            candidate_ids,
        });
    }
    letters.sort_by(|a, b| a.recipient.region_code.cmp(&b.recipient.region_code));
    Ok(Plan {
        scope: scope.to_string(),
        scope_label,
        letters,
        without_rows,
        outside_scope,
        total_rows,
    })
}

/// Each village's complete data: the shared fields, the village's own, and (when asked)
/// its Camat added to the copies.
pub fn drafts(per_village: &PerVillage, plan: &Plan, shared: &Value, copy_to_camat: bool) -> Vec<BatchDraft> {
    plan.letters
        .iter()
        .map(|letter| {
            let mut data = shared.as_object().cloned().unwrap_or_default();
            data.insert(per_village.kind_field.clone(), json!(letter.kind_label));
            data.insert(per_village.name_field.clone(), json!(letter.village_name));
            data.insert(per_village.district_field.clone(), json!(letter.district_name));
            data.insert(per_village.rows_field.clone(), Value::Array(letter.rows.clone()));
            if copy_to_camat
                && !per_village.copies_field.is_empty()
                && let Some(camat) = &letter.camat
            {
                let copies = data.entry(per_village.copies_field.clone()).or_insert_with(|| Value::Array(vec![]));
                if let Value::Array(items) = copies {
                    let present = items.iter().any(|i| {
                        i.get("nama")
                            .and_then(Value::as_str)
                            .or(i.as_str())
                            .is_some_and(|n| n.trim().eq_ignore_ascii_case(camat))
                    });
                    if !present {
                        items.push(json!({ "nama": camat }));
                    }
                }
            }
            BatchDraft {
                recipient_id: letter.recipient.id,
                label: letter.label(),
                data: Value::Object(data),
                candidate_ids: letter.candidate_ids.clone(),
            }
        })
        .collect()
}

/// The shared part of the data: every field of the template but the ones each
/// village fills.
pub fn shared_fields(manifest: &Manifest, per_village: &PerVillage, data: &Value) -> Value {
    let own = per_village.own_fields();
    Value::Object(
        manifest
            .fields
            .iter()
            .filter(|f| !own.contains(&f.name.as_str()))
            .filter_map(|f| data.get(&f.name).map(|v| (f.name.clone(), v.clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> FieldSpec {
        let manifest = Manifest::parse(
            "t",
            r#"
title = "T"
kind = "surat"
[[fields]]
name = "calon"
type = "rows"
label = "Calon"
[[fields.columns]]
name = "nik"
type = "text"
label = "NIK"
required = true
max_length = 16
[[fields.columns]]
name = "nama"
type = "text"
label = "Nama"
required = true
[[fields.columns]]
name = "tanggal_lahir"
type = "date"
label = "Tanggal lahir"
[[fields.columns]]
name = "jenis_kelamin"
type = "choice"
label = "L/P"
choices = ["L", "P"]
[[fields.columns]]
name = "sumber"
type = "text"
label = "Sumber data"
"#,
        )
        .unwrap();
        manifest.field("calon").unwrap().clone()
    }

    #[test]
    fn reads_a_p3ke_export_with_its_own_column_names() {
        let text = "\u{feff}ID Keluarga P3KE;Kecamatan;Desa/Kelurahan;Kode Kemendagri;Nama;NIK;Jenis Kelamin;Tanggal Lahir\r\n\
                    P3KE1;PENAJAM;PEJALA;64.09.01.1005;NUR  DAENG;'6409014205668780;Perempuan;1966-05-02\r\n";
        let rows = parse_candidates(text, &table()).unwrap();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.line, 2);
        assert_eq!(row.region_code, "64.09.01.1005");
        assert_eq!(row.cells["nik"], "6409014205668780");
        assert_eq!(row.cells["nama"], "NUR DAENG");
        assert_eq!(row.cells["jenis_kelamin"], "P");
        assert_eq!(row.cells["sumber"], "P3KE");
    }

    #[test]
    fn reads_dtks_dates_and_codes_without_dots() {
        let text = "IDDTKS,NIK,NAMA,JENIS_KELAMIN,TGL_LAHIR,KODE_WILAYAH\n1,6409011305657105,Darmawan,L,13-05-1965,6409011006\n";
        let rows = parse_candidates(text, &table()).unwrap();
        assert_eq!(rows[0].cells["tanggal_lahir"], "1965-05-13");
        assert_eq!(rows[0].region_code, "64.09.01.1006");
        assert_eq!(rows[0].cells["sumber"], "DTKS");
    }

    #[test]
    fn lists_every_faulty_line_and_returns_nothing() {
        let text = "nik,nama,kode_wilayah\n\
                    6409011305657105,Darmawan,6409011006\n\
                    6.40901E+15,Rusak,6409011006\n\
                    640901130565,Pendek,6409011006\n\
                    6409011305657105,Kembar,6409011006\n\
                    6409011305657106,,6409011006\n\
                    6409011305657107,Tanpa Kode,64090\n";
        let Err(Error::Rows(problems)) = parse_candidates(text, &table()) else {
            panic!("faulty rows must be refused")
        };
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].starts_with("baris 3:") && problems[0].contains("notasi ilmiah"));
        assert!(problems[1].starts_with("baris 4:") && problems[1].contains("16 angka"));
        assert!(problems[2].starts_with("baris 5:") && problems[2].contains("sudah ada di baris 2"));
        assert!(problems[3].starts_with("baris 6:") && problems[3].contains("Nama"));
        assert!(problems[4].starts_with("baris 7:") && problems[4].contains("kode wilayah"));
    }

    #[test]
    fn refuses_a_file_without_the_required_columns_or_villages() {
        assert!(matches!(parse_candidates("nama,kode_wilayah\nA,6409011006\n", &table()), Err(Error::Csv(m)) if m.contains("NIK")));
        assert!(matches!(parse_candidates("nik,nama\n6409011305657105,A\n", &table()), Err(Error::Csv(m)) if m.contains("kode wilayah")));
        assert!(matches!(parse_candidates("nik,nama,kode_wilayah\n", &table()), Err(Error::Csv(_))));
    }

    #[test]
    fn region_codes_and_names() {
        assert_eq!(dotted_region_code("6409011005").as_deref(), Some("64.09.01.1005"));
        assert_eq!(dotted_region_code(" 64.09.01.1005 ").as_deref(), Some("64.09.01.1005"));
        assert_eq!(dotted_region_code("64.09.01"), None);
        assert_eq!(name_key("Desa Sotek"), "sotek");
        assert_eq!(name_key("SOTEK"), "sotek");
        assert_eq!(district_of("64.09.01.1005"), "64.09.01");
    }
}
