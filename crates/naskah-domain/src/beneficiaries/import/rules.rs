//! The row rules: every row of a file checked against the department's rules (NIK,
//! name, birth date and age, village of the regency) with its problems named.

use super::*;
use crate::letters::manifest::{PERSON_NAME_MAX_CHARS, is_bidi_control};

/// A village of the department's regency.
#[derive(Debug, Clone)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub district: String,
}

/// The villages rows may belong to, found by code or by name.
#[derive(Debug, Default, Clone)]
pub struct Villages {
    pub regency_name: String,
    list: Vec<Village>,
    by_code: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

pub(super) fn name_key(name: &str) -> String {
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
    pub(super) fn resolve(&self, code: &str, village: &str, district: &str) -> Result<&Village, (&'static str, String)> {
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

impl Problem {
    /// A stored report line: (line, column, code, refused as 0/1, message).
    pub(super) fn from_row((line, column_name, code, refused, message): (i64, String, String, i64, String)) -> Problem {
        Problem {
            line,
            column_name,
            code,
            refused: refused != 0,
            message,
        }
    }
}

/// Where each field is in the file.
pub(super) struct Columns {
    at: HashMap<&'static str, usize>,
    headers: Vec<String>,
}

impl Columns {
    pub(super) fn new(mapping: &Mapping, headers: &[String]) -> Self {
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
    pub(super) fn header(&self, key: &str) -> String {
        self.at
            .get(key)
            .map(|&i| self.headers[i].clone())
            .unwrap_or_else(|| field_label(key).to_string())
    }
}

pub(super) fn parse_date(text: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
}

pub(super) fn parse_sex(text: &str) -> Option<&'static str> {
    let lower = text.trim().to_lowercase();
    match lower.as_str() {
        "1" => Some("L"),
        "2" => Some("P"),
        _ if lower.starts_with('l') || lower.starts_with("pria") => Some("L"),
        _ if lower.starts_with('p') || lower.starts_with('w') => Some("P"),
        _ => None,
    }
}

pub(super) fn age_on(birth: NaiveDate, day: NaiveDate) -> i64 {
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
    records: crate::beneficiaries::reader::Records,
    /// Each NIK seen (as its number) and its line: a province's million rows in ~20 MB.
    seen: HashMap<u64, usize>,
    pub rows_total: usize,
    pub rows_valid: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(table: &Table, mapping: &Mapping, rules: &'a Rules) -> Self {
        Scanner {
            rules,
            columns: Columns::new(mapping, &table.headers),
            records: table.records(),
            // Sized once: growing by doubling would hold old and new tables at once,
            // the largest moment of a province's import.
            seen: HashMap::with_capacity(table.estimated_rows()),
            rows_total: 0,
            rows_valid: 0,
        }
    }

    /// The next valid row; the problems and notes of the rows read on the way are
    /// added to `report`. `None` at the end of the file.
    pub fn next_valid(&mut self, report: &mut Vec<Problem>) -> Option<Checked> {
        loop {
            if let Some(checked) = self.next_row(report)? {
                return Some(checked);
            }
        }
    }

    /// The next row: `Some(None)` when it is refused (its problems added to `report`),
    /// `None` at the end of the file. One row at a time, so that a caller writing the
    /// report as it goes holds one row's problems, not a whole file of refusals.
    pub fn next_row(&mut self, report: &mut Vec<Problem>) -> Option<Option<Checked>> {
        {
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
                    return Some(None);
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
            let visible: String = raw_name.chars().filter(|c| !is_bidi_control(*c)).collect();
            if visible.len() != raw_name.len() {
                notes.push(("nama", "bidi", "karakter pembalik arah teks (mis. U+202E) dibuang dari nama".into()));
            }
            let name = visible.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
            if name.is_empty() {
                problems.push(("nama", "nama_kosong", "nama kosong".into()));
            } else if name.chars().count() > PERSON_NAME_MAX_CHARS {
                problems.push((
                    "nama",
                    "nama_panjang",
                    format!(
                        "nama {} karakter; surat dan SK memuat paling panjang {PERSON_NAME_MAX_CHARS}",
                        name.chars().count()
                    ),
                ));
            } else if visible != visible.trim() || visible.contains("  ") || !visible.chars().any(char::is_uppercase) {
                notes.push(("nama", "whitespace", format!("nama \"{raw_name}\" dirapikan menjadi \"{name}\"")));
            }
            if name.starts_with(['=', '+', '-', '@']) {
                notes.push((
                    "nama",
                    "formula",
                    format!("nama \"{name}\" diawali seperti rumus spreadsheet; periksa apakah benar nama orang"),
                ));
            }
            if cell("nik").chars().any(char::is_whitespace) {
                notes.push(("nik", "nik_spaces", "NIK ditulis dengan spasi; spasinya dibuang".into()));
            }
            if cell("alamat").contains(['\n', '\r']) {
                notes.push((
                    "alamat",
                    "multiline",
                    "alamat memuat baris baru; digabung menjadi satu baris".into(),
                ));
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
                        format!("jenis kelamin \u{201c}{raw_sex}\u{201d} tidak dikenal; isi L (laki-laki) atau P (perempuan)"),
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
                    // A checked NIK is 16 digits: it fits a u64.
                    let number = nik_text.parse::<u64>().unwrap_or_default();
                    if let Some(first) = self.seen.get(&number) {
                        problems.push(("nik", "dup_in_file", format!("NIK {nik_text} sudah ada di baris {first}")));
                    } else {
                        self.seen.insert(number, line);
                    }
                    let nik_sex = if f.female { "P" } else { "L" };
                    if let Some(sex) = stated_sex
                        && sex != nik_sex
                    {
                        problems.push((
                            "jenis_kelamin",
                            "nik_sex_mismatch",
                            format!(
                                "jenis kelamin tertulis {} bertentangan dengan NIK: angka tanggal {} pada NIK berarti {}",
                                if sex == "P" { "perempuan (P)" } else { "laki-laki (L)" },
                                &nik_text[6..8],
                                if f.female { "perempuan (tanggal lahir + 40)" } else { "laki-laki" }
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
                return Some(None);
            }
            let (Some(facts), Some(village)) = (facts, village) else {
                return Some(None);
            };
            self.rows_valid += 1;
            Some(Some(Checked {
                line,
                nik: nik_text,
                name,
                sex: if facts.female { "P" } else { "L" },
                birth_date: facts.birth_date,
                address: cell("alamat").split_whitespace().collect::<Vec<_>>().join(" "),
                region_code: village.code.clone(),
                occupation: cell("pekerjaan").split_whitespace().collect::<Vec<_>>().join(" "),
                source_ref: cell("id_sumber"),
            }))
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
