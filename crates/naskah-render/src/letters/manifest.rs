//! Template manifests: each template declares its fields, and a draft's data is checked
//! against them, with an Indonesian message per field, before anything is compiled.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::validation::FieldErrors;

/// What a template folder's `manifest.toml` says about it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The folder name; also the template's id.
    #[serde(skip_deserializing)]
    pub id: String,
    /// Indonesian name shown to users, e.g. "Surat Permintaan Data".
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// `surat` (letters) or `keputusan` (decrees): separate number series.
    pub kind: DocumentKind,
    /// The document commits budget (e.g. the SK's contributions): signing it as Plh./Plt.
    /// asks for confirmation first.
    #[serde(default)]
    pub allocates_budget: bool,
    /// The classification code a new letter of this template starts with (the drafter
    /// may choose another from the department's list).
    #[serde(default)]
    pub kode_klasifikasi: String,
    /// The document carries personal data (NIK, birth dates, addresses): its official
    /// PDF is downloadable from the public verification page by staff only.
    #[serde(default)]
    pub personal_data: bool,
    /// The SOP's time to distribute a signed document, in days (1 for the data request,
    /// 5 for the village letters).
    #[serde(default = "default_distribution_days")]
    pub distribution_days: i64,
    /// The main Typst file inside the folder.
    #[serde(default = "default_main")]
    pub main: String,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    /// The template can be drafted once for many villages: one letter per village,
    /// these fields filled from the village and its own attachment rows.
    #[serde(default)]
    pub per_village: Option<PerVillage>,
}

/// Which fields of a per-village template each village fills.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerVillage {
    /// A choice field taking "Desa" or "Kelurahan".
    pub kind_field: String,
    /// The village's name (without "Desa"/"Kelurahan").
    pub name_field: String,
    /// The kecamatan's name (without "Kecamatan").
    pub district_field: String,
    /// The table filled with the village's own rows (the attachment).
    pub rows_field: String,
    /// A recipients field to which the village's Camat is added as a copy, if wanted.
    #[serde(default)]
    pub copies_field: String,
}

impl PerVillage {
    /// The fields the village fills, which the shared form does not show.
    pub fn own_fields(&self) -> [&str; 4] {
        [&self.kind_field, &self.name_field, &self.district_field, &self.rows_field]
    }
}

fn default_distribution_days() -> i64 {
    1
}

fn default_main() -> String {
    "template.typ".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Surat,
    Keputusan,
}

impl DocumentKind {
    pub fn key(self) -> &'static str {
        match self {
            DocumentKind::Surat => "surat",
            DocumentKind::Keputusan => "keputusan",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Date,
    Number,
    Money,
    Choice,
    Recipients,
    Rows,
}

impl FieldType {
    pub fn label(self) -> &'static str {
        match self {
            FieldType::Text => "teks",
            FieldType::LongText => "teks panjang",
            FieldType::Date => "tanggal",
            FieldType::Number => "angka",
            FieldType::Money => "rupiah",
            FieldType::Choice => "pilihan",
            FieldType::Recipients => "daftar penerima",
            FieldType::Rows => "tabel",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub label: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub required: bool,
    /// For `choice`.
    #[serde(default)]
    pub choices: Vec<String>,
    /// For `rows`: the columns of each row.
    #[serde(default)]
    pub columns: Vec<FieldSpec>,
    /// For text fields; defaults to 500 (text) or 20,000 (long text).
    #[serde(default)]
    pub max_length: Option<usize>,
    /// For `rows` and `recipients`.
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Prefilled value for a new draft.
    #[serde(default)]
    pub default: Option<toml::Value>,
    /// A `date` field that is a deadline ("paling lambat"): drafting warns and signing
    /// asks for confirmation when it is before the letter's date (see `letters::deadline`).
    #[serde(default)]
    pub deadline: bool,
    /// Filled by the service from its source (the SK's beneficiaries from the final
    /// list), never typed: the generic drafting form shows it read-only and a draft
    /// cannot set or change it (`workflow::Workflow::create_from_source`).
    #[serde(default)]
    pub locked: bool,
}

impl Manifest {
    /// Parses and checks a manifest; `id` is the folder name.
    pub fn parse(id: &str, text: &str) -> Result<Manifest, String> {
        let mut manifest: Manifest = toml::from_str(text).map_err(|e| e.to_string().replace('\n', " "))?;
        manifest.id = id.to_string();
        let mut seen = std::collections::HashSet::new();
        for f in &manifest.fields {
            check_spec(f, &mut seen, false)?;
        }
        if let Some(per_village) = &manifest.per_village {
            let kinds = [
                (&per_village.kind_field, FieldType::Choice),
                (&per_village.name_field, FieldType::Text),
                (&per_village.district_field, FieldType::Text),
                (&per_village.rows_field, FieldType::Rows),
            ];
            let copies = (!per_village.copies_field.is_empty()).then_some((&per_village.copies_field, FieldType::Recipients));
            for (name, kind) in kinds.into_iter().chain(copies) {
                match manifest.field(name) {
                    Some(f) if f.kind == kind => {}
                    _ => return Err(format!("per_village: isian '{name}' harus ada dengan jenis {}", kind.label())),
                }
            }
        }
        Ok(manifest)
    }

    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The data of a new draft: each field's default, or an empty value of its type.
    pub fn defaults(&self) -> Value {
        Value::Object(self.fields.iter().map(|f| (f.name.clone(), f.default_value())).collect())
    }

    /// Checks a draft's data; returns it normalised (trimmed text, canonical dates) or
    /// an error per field (`rows[3].nik` for a cell).
    pub fn validate(&self, data: &Value) -> Result<Value, FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(object) = data.as_object() else {
            return Err(FieldErrors::single("_", "Data konsep harus berupa objek JSON."));
        };
        for key in object.keys() {
            if self.field(key).is_none() {
                errors.add(key, format!("Isian '{key}' tidak dikenal oleh templat ini."));
            }
        }
        let mut out = Map::new();
        for spec in &self.fields {
            if let Some(v) = spec.check(&spec.name, object.get(&spec.name), &mut errors) {
                out.insert(spec.name.clone(), v);
            }
        }
        errors.into_result().map(|_| Value::Object(out))
    }
}

fn check_spec(f: &FieldSpec, seen: &mut std::collections::HashSet<String>, in_rows: bool) -> Result<(), String> {
    if f.name.is_empty() || !f.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(format!("nama isian '{}' harus huruf kecil, angka atau garis bawah", f.name));
    }
    if !in_rows && matches!(f.name.as_str(), "csrf" | "format" | "halaman") {
        return Err(format!("nama isian '{}' dipakai oleh formulir; pilih nama lain", f.name));
    }
    if !seen.insert(f.name.clone()) {
        return Err(format!("isian '{}' disebut dua kali", f.name));
    }
    if f.deadline && (f.kind != FieldType::Date || in_rows) {
        return Err(format!(
            "hanya isian tanggal di luar tabel yang dapat menjadi batas waktu ('{}')",
            f.name
        ));
    }
    if f.kind == FieldType::Choice && f.choices.is_empty() {
        return Err(format!("isian pilihan '{}' tidak punya daftar pilihan", f.name));
    }
    if f.kind == FieldType::Rows {
        if in_rows {
            return Err(format!("tabel '{}' tidak boleh berada di dalam tabel", f.name));
        }
        if f.columns.is_empty() {
            return Err(format!("tabel '{}' tidak punya kolom", f.name));
        }
        let mut inner = std::collections::HashSet::new();
        for c in &f.columns {
            if matches!(c.kind, FieldType::Recipients | FieldType::Rows) {
                return Err(format!("kolom '{}' pada tabel '{}' harus isian sederhana", c.name, f.name));
            }
            check_spec(c, &mut inner, true)?;
        }
    }
    Ok(())
}

fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// Text a person typed: control characters other than line breaks and tabs are refused.
/// A person's name as letters and decrees print it: the same limit at import and in
/// every template's name column, so an imported name never blocks a letter later.
pub const PERSON_NAME_MAX_CHARS: usize = 150;

/// Characters that reorder the text around them (U+202A–U+202E, U+2066–U+2069, the
/// marks U+200E, U+200F, U+061C): in a letter they can make what is read differ from
/// what is signed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn check_text(path: &str, label: &str, s: &str, max: usize, multiline: bool, errors: &mut FieldErrors) -> Option<Value> {
    let cleaned = if multiline {
        s.replace("\r\n", "\n").trim().to_string()
    } else {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    if cleaned.chars().count() > max {
        errors.add(path, format!("{label} paling panjang {max} karakter."));
        return None;
    }
    if cleaned.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        errors.add(path, format!("{label} memuat karakter kendali yang tidak diizinkan."));
        return None;
    }
    if cleaned.chars().any(is_bidi_control) {
        errors.add(
            path,
            format!("{label} memuat karakter pembalik arah teks (mis. U+202E) yang dapat menyamarkan isi surat; hapus karakter itu."),
        );
        return None;
    }
    Some(Value::String(cleaned))
}

/// Accepts a whole number given as a JSON number or as text with thousands dots.
fn whole_number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let digits: String = s
                .trim()
                .trim_start_matches("Rp")
                .trim()
                .trim_end_matches(",00")
                .chars()
                .filter(|c| *c != '.')
                .collect();
            digits.parse().ok()
        }
        _ => None,
    }
}

impl FieldSpec {
    fn default_value(&self) -> Value {
        if let Some(d) = &self.default {
            return serde_json::to_value(d).unwrap_or(Value::Null);
        }
        match self.kind {
            FieldType::Recipients | FieldType::Rows => Value::Array(vec![]),
            FieldType::Number | FieldType::Money => Value::Null,
            _ => Value::String(String::new()),
        }
    }

    fn check(&self, path: &str, value: Option<&Value>, errors: &mut FieldErrors) -> Option<Value> {
        let label = &self.label;
        if is_blank(value) {
            if self.required {
                errors.add(path, format!("{label} wajib diisi."));
                return None;
            }
            return Some(self.default_value_if_blank());
        }
        let value = value.expect("not blank");
        match self.kind {
            FieldType::Text | FieldType::LongText => {
                let Value::String(s) = value else {
                    errors.add(path, format!("{label} harus berupa teks."));
                    return None;
                };
                let multiline = self.kind == FieldType::LongText;
                check_text(
                    path,
                    label,
                    s,
                    self.max_length.unwrap_or(if multiline { 20_000 } else { 500 }),
                    multiline,
                    errors,
                )
            }
            FieldType::Date => {
                let parsed = value.as_str().and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok());
                match parsed {
                    Some(d) => Some(Value::String(d.format("%Y-%m-%d").to_string())),
                    None => {
                        errors.add(path, format!("{label} harus tanggal yang valid (TTTT-BB-HH)."));
                        None
                    }
                }
            }
            FieldType::Number | FieldType::Money => match whole_number(value) {
                Some(n) if self.kind == FieldType::Money && n < 0 => {
                    errors.add(path, format!("{label} tidak boleh negatif."));
                    None
                }
                Some(n) => Some(Value::from(n)),
                None => {
                    errors.add(
                        path,
                        format!(
                            "{label} harus bilangan bulat{}.",
                            if self.kind == FieldType::Money { " dalam rupiah" } else { "" }
                        ),
                    );
                    None
                }
            },
            FieldType::Choice => match value.as_str().map(str::trim) {
                Some(s) if self.choices.iter().any(|c| c == s) => Some(Value::String(s.to_string())),
                _ => {
                    errors.add(path, format!("{label} harus salah satu dari: {}.", self.choices.join(", ")));
                    None
                }
            },
            FieldType::Recipients => self.check_list(path, value, errors, |item, item_path, errors| {
                let (name, address) = match item {
                    Value::String(s) => (s.clone(), String::new()),
                    Value::Object(o) => (
                        o.get("nama").and_then(Value::as_str).unwrap_or_default().to_string(),
                        o.get("alamat").and_then(Value::as_str).unwrap_or_default().to_string(),
                    ),
                    _ => (String::new(), String::new()),
                };
                let name = check_text(&format!("{item_path}.nama"), "Nama penerima", &name, 300, false, errors)?;
                if name.as_str().is_some_and(str::is_empty) {
                    errors.add(&format!("{item_path}.nama"), "Nama penerima wajib diisi.");
                    return None;
                }
                let address = check_text(&format!("{item_path}.alamat"), "Alamat penerima", &address, 300, false, errors)?;
                Some(serde_json::json!({ "nama": name, "alamat": address }))
            }),
            FieldType::Rows => self.check_list(path, value, errors, |item, item_path, errors| {
                let Value::Object(cells) = item else {
                    errors.add(item_path, "Baris tabel harus berupa objek.");
                    return None;
                };
                let mut row = Map::new();
                let mut ok = true;
                for key in cells.keys() {
                    if !self.columns.iter().any(|c| &c.name == key) {
                        errors.add(&format!("{item_path}.{key}"), format!("Kolom '{key}' tidak dikenal."));
                        ok = false;
                    }
                }
                for column in &self.columns {
                    match column.check(&format!("{item_path}.{}", column.name), cells.get(&column.name), errors) {
                        Some(v) => {
                            row.insert(column.name.clone(), v);
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Value::Object(row))
            }),
        }
    }

    fn default_value_if_blank(&self) -> Value {
        match self.kind {
            FieldType::Recipients | FieldType::Rows => Value::Array(vec![]),
            FieldType::Number | FieldType::Money => Value::Null,
            _ => Value::String(String::new()),
        }
    }

    /// Checks one row of a `rows` field; the errors are keyed by column name.
    pub fn check_row(&self, row: &Map<String, Value>) -> Result<Value, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut out = Map::new();
        for column in &self.columns {
            if let Some(v) = column.check(&column.name, row.get(&column.name), &mut errors) {
                out.insert(column.name.clone(), v);
            }
        }
        errors.into_result().map(|_| Value::Object(out))
    }

    fn check_list(
        &self,
        path: &str,
        value: &Value,
        errors: &mut FieldErrors,
        mut each: impl FnMut(&Value, &str, &mut FieldErrors) -> Option<Value>,
    ) -> Option<Value> {
        let Value::Array(items) = value else {
            errors.add(path, format!("{} harus berupa daftar.", self.label));
            return None;
        };
        let max = self.max_rows.unwrap_or(100_000);
        if items.len() > max {
            errors.add(path, format!("{} paling banyak {max} baris.", self.label));
            return None;
        }
        let before = errors.0.len();
        let out: Vec<Value> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| each(item, &format!("{path}[{}]", i + 1), errors))
            .collect();
        (errors.0.len() == before).then_some(Value::Array(out))
    }
}

/// The manifests of all templates, by id.
pub type Catalogue = BTreeMap<String, Manifest>;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SAMPLE: &str = r#"
title = "Contoh"
kind = "surat"

[[fields]]
name = "hal"
type = "text"
label = "Hal"
required = true

[[fields]]
name = "sifat"
type = "choice"
label = "Sifat"
choices = ["Biasa", "Segera"]
default = "Biasa"

[[fields]]
name = "tanggal_rapat"
type = "date"
label = "Tanggal rapat"

[[fields]]
name = "iuran"
type = "money"
label = "Iuran per bulan"

[[fields]]
name = "penerima"
type = "recipients"
label = "Yth."
required = true

[[fields]]
name = "daftar"
type = "rows"
label = "Daftar"
[[fields.columns]]
name = "nama"
type = "text"
label = "Nama"
required = true
[[fields.columns]]
name = "jumlah"
type = "number"
label = "Jumlah"
"#;

    #[test]
    fn valid_data_is_normalised() {
        let m = Manifest::parse("contoh", SAMPLE).unwrap();
        let data = json!({
            "hal": "  Permintaan   data ",
            "sifat": "Segera",
            "tanggal_rapat": "2026-11-21",
            "iuran": "Rp16.800,00",
            "penerima": ["Kepala Dinas Sosial", { "nama": "Kepala BPS", "alamat": "Penajam" }],
            "daftar": [{ "nama": "Desa Babulu", "jumlah": 3 }]
        });
        let out = m.validate(&data).unwrap();
        assert_eq!(out["hal"], "Permintaan data");
        assert_eq!(out["iuran"], 16800);
        assert_eq!(out["penerima"][0]["nama"], "Kepala Dinas Sosial");
        assert_eq!(m.defaults()["sifat"], "Biasa");
    }

    #[test]
    fn every_problem_is_reported_by_field() {
        let m = Manifest::parse("contoh", SAMPLE).unwrap();
        let data = json!({
            "hal": "",
            "sifat": "Kilat",
            "tanggal_rapat": "2026-02-30",
            "iuran": -5,
            "penerima": [{ "nama": "" }],
            "daftar": [{ "nama": "A" }, { "jumlah": "tiga", "warna": "x" }],
            "asing": 1
        });
        let errors = m.validate(&data).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "asing",
            "hal",
            "sifat",
            "tanggal_rapat",
            "iuran",
            "penerima[1].nama",
            "daftar[2].warna",
            "daftar[2].nama",
            "daftar[2].jumlah",
        ] {
            assert!(fields.contains(&expected), "{expected} missing from {fields:?}");
        }
        assert_eq!(errors.get("hal"), Some("Hal wajib diisi."));
    }

    #[test]
    fn broken_manifests_are_refused() {
        assert!(Manifest::parse("x", "title = \"x\"\nkind = \"memo\"\n").is_err());
        assert!(
            Manifest::parse(
                "x",
                "title = \"x\"\nkind = \"surat\"\n[[fields]]\nname = \"a\"\ntype = \"choice\"\nlabel = \"A\"\n"
            )
            .is_err()
        );
        assert!(
            Manifest::parse(
                "x",
                "title = \"x\"\nkind = \"surat\"\n[[fields]]\nname = \"Bad Name\"\ntype = \"text\"\nlabel = \"A\"\n"
            )
            .is_err()
        );
    }
}
