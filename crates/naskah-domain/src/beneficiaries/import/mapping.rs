//! Which column of a file holds which field: the fields, the presets for the P3KE and
//! DTKS layouts, a guess from the headers, and the mappings a department saved.

use super::*;

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

pub(super) fn field_label(key: &str) -> &str {
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
