//! The documents measured: the letter, the confirmation letters of every village and
//! the SK, with synthetic, deterministic candidates.

use super::*;

/// The catalogue and the shared parts of every job.
pub(crate) struct Documents {
    pub(crate) catalogue: letters::Catalogue,
    pub(crate) department: crate::departments::Department,
    pub(crate) villages: Vec<Village>,
    pub(crate) examples: BTreeMap<String, Value>,
}

/// One desa or kelurahan of the demo regency.
#[derive(Debug, Clone)]
pub(crate) struct Village {
    pub(crate) name: String,
    pub(crate) kelurahan: bool,
    pub(crate) kecamatan: String,
    /// `640901`: the first six digits of a NIK issued there.
    pub(crate) nik_prefix: String,
}

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Ahmad",
    "Siti",
    "Budi",
    "Nur",
    "Rahmat",
    "Dewi",
    "Agus",
    "Sri",
    "Muhammad",
    "Fitri",
    "Hendra",
    "Yuliani",
    "Andi",
    "Kartini",
    "Joko",
    "Rina",
    "Bambang",
    "Wahyuni",
    "Syamsul",
    "Hasnah",
    "Juwita",
    "Jumadi",
    "Rahmawati",
    "Irwan",
];
pub(crate) const LAST_NAMES: &[&str] = &[
    "Saputra",
    "Hasanuddin",
    "Lestari",
    "Daeng Matutu",
    "Effendi",
    "Pratama",
    "Mappa",
    "Kurniawan",
    "Wijaya",
    "Rahman",
    "Setiawan",
    "Sulaiman",
    "Hidayat",
    "Gunawan",
    "Aco",
    "Syahrir",
    "Baso",
    "Ramadhani",
];
pub(crate) const JOBS: &[&str] = &[
    "Nelayan/perikanan",
    "Petani/pekebun",
    "Pedagang",
    "Peternak",
    "Tukang Batu",
    "Pekerja Rumah Tangga",
    "Guru Ngaji",
    "Buruh Harian Lepas",
    "Tukang Ojek",
    "Marbot",
];
pub(crate) const SOURCES: &[&str] = &["DTKS", "P3KE", "DTSEN"];

/// A deterministic pseudo-random number for `i` (SplitMix64).
pub(crate) fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One synthetic person, the `i`-th of the whole run, living in `village`.
pub(crate) struct Person {
    pub(crate) nik: String,
    pub(crate) nama: String,
    pub(crate) tanggal_lahir: String,
    pub(crate) jenis_kelamin: &'static str,
    pub(crate) pekerjaan: &'static str,
    pub(crate) sumber: &'static str,
}

impl Person {
    pub(crate) fn new(i: u64, village: &Village) -> Self {
        let r = mix(i);
        let female = r & 1 == 1;
        let day = 1 + (r >> 8) % 28;
        let month = 1 + (r >> 16) % 12;
        let year = 1961 + (r >> 24) % 45;
        let first = FIRST_NAMES[((r >> 32) % FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[((r >> 40) % LAST_NAMES.len() as u64) as usize];
        let nik_day = if female { day + 40 } else { day };
        Person {
            nik: format!("{}{nik_day:02}{month:02}{:02}{:04}", village.nik_prefix, year % 100, i % 10_000),
            nama: format!("{first} {last}"),
            tanggal_lahir: format!("{year}-{month:02}-{day:02}"),
            jenis_kelamin: if female { "P" } else { "L" },
            pekerjaan: JOBS[((r >> 48) % JOBS.len() as u64) as usize],
            sumber: SOURCES[((r >> 56) % SOURCES.len() as u64) as usize],
        }
    }
}

impl Documents {
    pub(crate) fn new(renderer: &Renderer) -> anyhow::Result<Self> {
        let catalogue = letters::Catalogue::from_renderer(renderer)?;
        let regions = regions::parse_csv(regions::DEMO_REGENCY_CSV)?;
        let villages = villages(&regions);
        if villages.is_empty() {
            bail!("the demo regency has no villages");
        }
        let mut examples = BTreeMap::new();
        for id in [LETTER, CONFIRMATION, SK] {
            catalogue.get(id)?;
            let bytes = renderer
                .file(&format!("/{id}/contoh.json"))
                .with_context(|| format!("{id}/contoh.json is missing"))?;
            let value: Value = serde_json::from_slice(bytes).with_context(|| format!("{id}/contoh.json is not valid JSON"))?;
            examples.insert(id.to_string(), value);
        }
        Ok(Documents {
            catalogue,
            department: demo::department(),
            villages,
            examples,
        })
    }

    /// A draft job for template `id` with `data` overlaid on its example and defaults.
    pub(crate) fn job(&self, id: &str, overlay: Value) -> anyhow::Result<RenderJob> {
        let manifest = self.catalogue.get(id)?;
        let mut data = self.examples.get(id).cloned().unwrap_or_else(|| json!({}));
        if let (Some(target), Some(given)) = (data.as_object_mut(), overlay.as_object()) {
            for (k, v) in given {
                target.insert(k.clone(), v.clone());
            }
        }
        let logo = Some((demo::DEMO_LOGO_SVG.to_vec(), "image/svg+xml".to_string()));
        match letters::draft_job(
            manifest,
            &self.department.letterhead(),
            logo,
            &letters::with_defaults(manifest, &data),
        ) {
            Ok(job) => Ok(job),
            Err(letters::Error::Invalid(errors)) => {
                let first = errors.0.first().map(|e| format!("{}: {}", e.field, e.message)).unwrap_or_default();
                bail!("the data for {id} were refused ({} problems, e.g. {first})", errors.0.len())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The one-page data-request letter, as in its `contoh.json`.
    pub(crate) fn letter(&self) -> anyhow::Result<RenderJob> {
        self.job(LETTER, json!({}))
    }

    /// `count` confirmation letters, one village after another, `rows` candidates each.
    pub(crate) fn confirmations(&self, count: usize, rows: usize) -> anyhow::Result<Vec<RenderJob>> {
        (0..count)
            .map(|k| {
                let village = &self.villages[k % self.villages.len()];
                let calon: Vec<Value> = (0..rows)
                    .map(|j| {
                        let i = (k * rows + j) as u64;
                        let p = Person::new(i, village);
                        json!({
                            "nik": p.nik,
                            "nama": p.nama,
                            "tanggal_lahir": p.tanggal_lahir,
                            "jenis_kelamin": p.jenis_kelamin,
                            "alamat": format!("RT {:03} {}", 1 + mix(i ^ 0x5eed) % 30, village.name),
                            "pekerjaan": p.pekerjaan,
                            "sumber": p.sumber,
                        })
                    })
                    .collect();
                self.job(
                    CONFIRMATION,
                    json!({
                        "desa": village.name,
                        "kecamatan": village.kecamatan,
                        "jenis_wilayah": if village.kelurahan { "Kelurahan" } else { "Desa" },
                        "tembusan": [{ "nama": format!("Camat {}", village.kecamatan) }],
                        "calon": calon,
                    }),
                )
            })
            .collect()
    }

    /// The SK with `rows` beneficiaries spread over every village of the regency.
    pub(crate) fn sk(&self, rows: usize) -> anyhow::Result<RenderJob> {
        let penerima: Vec<Value> = (0..rows as u64)
            .map(|i| {
                let village = &self.villages[(mix(i ^ 0xd15a) % self.villages.len() as u64) as usize];
                let p = Person::new(1_000_000 + i, village);
                json!({
                    "nik": p.nik,
                    "nama": p.nama,
                    "jenis_kelamin": p.jenis_kelamin,
                    "pekerjaan": p.pekerjaan,
                    "desa": village.name,
                    "kecamatan": village.kecamatan,
                })
            })
            .collect();
        self.job(SK, json!({ "penerima": penerima }))
    }
}

/// The villages of the regency, with their kecamatan.
pub(crate) fn villages(regions: &[Region]) -> Vec<Village> {
    let kecamatan: BTreeMap<&str, &str> = regions
        .iter()
        .filter(|r| r.level == 3)
        .map(|r| (r.code.as_str(), r.name.as_str()))
        .collect();
    regions
        .iter()
        .filter(|r| r.level == 4)
        .filter_map(|r| {
            let parent = r.parent_code.as_deref()?;
            Some(Village {
                name: r.name.clone(),
                kelurahan: r.kind == "kelurahan",
                kecamatan: kecamatan.get(parent)?.to_string(),
                nik_prefix: parent.replace('.', ""),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Our side.
