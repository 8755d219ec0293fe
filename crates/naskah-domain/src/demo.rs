//! The demo department: Dinas Tenaga Kerja Kabupaten Penajam Paser Utara, with the SOP's
//! positions, fictional officials and one account per role.

use crate::{
    accounts::{self, Role, UserInput},
    audit::Actor,
    db::Db,
    departments::{self, DepartmentInput, OfficialInput, PositionInput, UnitInput},
    regions,
};

pub const DEMO_SLUG: &str = "disnaker-ppu";
pub const DEMO_LOGO_SVG: &[u8] = include_bytes!("logo-demo.svg");

/// An account created by the seed, with the password to print once.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub password: String,
}

#[derive(Debug)]
pub enum Seeded {
    Created { department_id: i64, accounts: Vec<DemoAccount> },
    AlreadyPresent { department_id: i64 },
}

struct Person {
    username: &'static str,
    position: &'static str,
    kind: &'static str,
    unit: Option<&'static str>,
    prefix: &'static str,
    name: &'static str,
    suffix: &'static str,
    nip: &'static str,
    rank: &'static str,
    grade: &'static str,
    roles: &'static [Role],
}

const PEOPLE: &[Person] = &[
    Person {
        username: "kadis",
        position: "Kepala Dinas Tenaga Kerja",
        kind: "kepala_dinas",
        unit: None,
        prefix: "Drs.",
        name: "Bambang Sutrisno",
        suffix: "M.Si.",
        nip: "197005121998031004",
        rank: "Pembina Utama Muda",
        grade: "IV/c",
        roles: &[Role::Signer],
    },
    Person {
        username: "sekdis",
        position: "Sekretaris Dinas Tenaga Kerja",
        kind: "sekretaris",
        unit: Some("SEK"),
        prefix: "",
        name: "Siti Rahmawati",
        suffix: "S.E., M.M.",
        nip: "197408232000032002",
        rank: "Pembina Tingkat I",
        grade: "IV/b",
        roles: &[Role::Approver, Role::Signer],
    },
    Person {
        username: "kabid",
        position: "Kepala Bidang Hubungan Industrial dan Jaminan Sosial Tenaga Kerja",
        kind: "kepala_bidang",
        unit: Some("HIJS"),
        prefix: "",
        name: "Muhammad Ridwan",
        suffix: "S.T., M.T.",
        nip: "197811022005011003",
        rank: "Pembina",
        grade: "IV/a",
        roles: &[Role::Approver],
    },
    Person {
        username: "konseptor",
        position: "Kepala Sub Bagian Program",
        kind: "kepala_sub_bagian",
        unit: Some("PROG"),
        prefix: "",
        name: "Nur Aini",
        suffix: "S.Kom.",
        nip: "198503142010012015",
        rank: "Penata Tingkat I",
        grade: "III/d",
        roles: &[Role::Drafter],
    },
    Person {
        username: "staf",
        position: "Staf Sub Bagian Program",
        kind: "staf",
        unit: Some("PROG"),
        prefix: "",
        name: "Andi Pratama",
        suffix: "A.Md.",
        nip: "199207082019031006",
        rank: "Pengatur",
        grade: "II/c",
        roles: &[Role::Typist],
    },
    Person {
        username: "agendaris",
        position: "Pengadministrasi Umum (Agendaris)",
        kind: "agendaris",
        unit: Some("UMPEG"),
        prefix: "",
        name: "Dewi Lestari",
        suffix: "",
        nip: "199511202020122011",
        rank: "Pengatur Muda Tingkat I",
        grade: "II/b",
        roles: &[Role::Agendaris, Role::Administrator],
    },
];

/// Units: (code, name, kind, parent code).
const UNITS: &[(&str, &str, &str, Option<&str>)] = &[
    ("SEK", "Sekretariat", "sekretariat", None),
    ("PROG", "Sub Bagian Program", "sub_bagian", Some("SEK")),
    ("UMPEG", "Sub Bagian Umum dan Kepegawaian", "sub_bagian", Some("SEK")),
    ("HIJS", "Bidang Hubungan Industrial dan Jaminan Sosial Tenaga Kerja", "bidang", None),
    ("PPTK", "Bidang Penempatan dan Pelatihan Tenaga Kerja", "bidang", None),
];

pub fn letterhead() -> DepartmentInput {
    DepartmentInput {
        name: "Dinas Tenaga Kerja".into(),
        regency_name: "Kabupaten Penajam Paser Utara".into(),
        region_code: "64.09".into(),
        address: "Jalan Provinsi Km. 9, Nipah-Nipah, Penajam".into(),
        postal_code: "76141".into(),
        phone: "(0542) 7210000".into(),
        email: "disnaker@penajamkab.go.id".into(),
        website: "disnaker.penajamkab.go.id".into(),
        city: "Penajam".into(),
        timezone: "Asia/Makassar".into(),
    }
}

/// The demo department as it is seeded, without a database (for `naskah render`,
/// tests and benchmarks).
pub fn department() -> departments::Department {
    let l = letterhead();
    departments::Department {
        id: 0,
        slug: DEMO_SLUG.into(),
        name: l.name,
        regency_name: l.regency_name,
        region_code: Some(l.region_code),
        address: l.address,
        postal_code: l.postal_code,
        phone: l.phone,
        email: l.email,
        website: l.website,
        city: l.city,
        timezone: l.timezone,
        logo_mime: Some("image/svg+xml".into()),
        created_at: 0,
        updated_at: 0,
    }
}

/// Seeds the demo department unless it is already there. Passwords are random unless
/// `fixed_password` is given (tests and screenshots).
pub async fn seed(db: &Db, fixed_password: Option<&str>) -> anyhow::Result<Seeded> {
    if let Ok(existing) = departments::get_by_slug(db, DEMO_SLUG).await {
        // A demo database from before the recipients' directory gets it now (idempotent).
        crate::distribution::recipients::sync_from_regions(db, &Actor::System("demo"), &existing).await?;
        return Ok(Seeded::AlreadyPresent {
            department_id: existing.id,
        });
    }
    // Check a chosen password before anything is written, so a refused one leaves no half-seeded department.
    if let Some(password) = fixed_password {
        for p in PEOPLE {
            accounts::check_new_password(p.username, password).map_err(|e| anyhow::anyhow!("NASKAH_DEMO_PASSWORD: {e}"))?;
        }
    }
    let actor = Actor::System("demo");
    regions::import(db, &regions::parse_csv(regions::DEMO_REGENCY_CSV)?).await?;
    let department = departments::create(db, &actor, DEMO_SLUG, letterhead()).await?;
    let id = department.id;
    departments::set_logo(db, &actor, id, DEMO_LOGO_SVG).await?;
    crate::numbering::set_settings(
        db,
        &actor,
        id,
        &crate::numbering::Settings {
            number_format: crate::numbering::DEFAULT_FORMAT.into(),
            number_format_keputusan: crate::numbering::DEFAULT_DECREE_FORMAT.into(),
            number_unit: "Disnaker".into(),
            number_per_unit: 0,
        },
    )
    .await?;
    let mut unit_ids = std::collections::HashMap::new();
    for (code, name, kind, parent) in UNITS {
        let unit = departments::create_unit(
            db,
            &actor,
            id,
            UnitInput {
                code: (*code).into(),
                name: (*name).into(),
                kind: (*kind).into(),
                parent_id: parent.and_then(|p| unit_ids.get(p).copied()),
            },
        )
        .await?;
        unit_ids.insert(*code, unit.id);
    }
    let mut accounts_out = Vec::new();
    for p in PEOPLE {
        let position = departments::create_position(
            db,
            &actor,
            id,
            PositionInput {
                title: p.position.into(),
                kind: p.kind.into(),
                unit_id: p.unit.and_then(|u| unit_ids.get(u).copied()),
            },
        )
        .await?;
        let official = departments::create_official(
            db,
            &actor,
            id,
            OfficialInput {
                name: p.name.into(),
                title_prefix: p.prefix.into(),
                title_suffix: p.suffix.into(),
                nip: p.nip.into(),
                rank: p.rank.into(),
                grade: p.grade.into(),
                position_id: Some(position.id),
            },
        )
        .await?;
        let password = fixed_password.map(str::to_string).unwrap_or_else(accounts::generate_password);
        let user = accounts::create(
            db,
            &actor,
            id,
            UserInput {
                username: p.username.into(),
                display_name: official.full_name(),
                email: String::new(),
                roles: p.roles.to_vec(),
                official_id: Some(official.id),
                active: Some(true),
            },
            &password,
            false,
        )
        .await?;
        accounts_out.push(DemoAccount {
            username: user.username,
            display_name: user.display_name,
            roles: user.roles,
            password,
        });
    }
    // The recipients' directory: the regency's 54 villages, 4 kecamatan and the agencies.
    let department = departments::get(db, id).await?;
    crate::distribution::recipients::sync_from_regions(db, &Actor::System("demo"), &department).await?;
    Ok(Seeded::Created {
        department_id: id,
        accounts: accounts_out,
    })
}

/// The lines `serve --demo` and `naskah demo` print.
pub fn describe(seeded: &Seeded) -> String {
    match seeded {
        Seeded::Created { accounts, .. } => {
            let mut out = String::from("Dinas demo \"Dinas Tenaga Kerja Kabupaten Penajam Paser Utara\" dibuat. Akun demo:\n");
            for a in accounts {
                let roles: Vec<&str> = a.roles.iter().map(|r| r.label()).collect();
                out.push_str(&format!(
                    "  {:<10} kata sandi: {:<18} {} — {}\n",
                    a.username,
                    a.password,
                    a.display_name,
                    roles.join(", ")
                ));
            }
            out.push_str("Kata sandi hanya ditampilkan sekali; ganti dengan `naskah user reset-password NAMA`.\n");
            out
        }
        Seeded::AlreadyPresent { .. } => "Dinas demo sudah ada; akun demo: kadis, sekdis, kabid, konseptor, staf, agendaris \
             (kata sandinya ditampilkan saat pertama dibuat; atur ulang dengan `naskah user reset-password NAMA`).\n"
            .to_string(),
    }
}

/// Gives every demo approver and signer without a key a signing key, all under one
/// passphrase (`fixed_passphrase`, or a generated one). Returns the passphrase when any
/// key was created, to print once; `None` when all had keys already.
pub async fn seed_keys(db: &Db, store: &crate::keys::KeyStore, fixed_passphrase: Option<&str>) -> anyhow::Result<Option<String>> {
    let department = departments::get_by_slug(db, DEMO_SLUG).await?;
    if let Some(given) = fixed_passphrase {
        crate::keys::check_passphrase("passphrase", given).map_err(|e| anyhow::anyhow!("NASKAH_DEMO_PASSPHRASE: {e}"))?;
    }
    let passphrase = fixed_passphrase
        .map(str::to_string)
        .unwrap_or_else(|| format!("frasa {}", accounts::generate_password()));
    let mut created = false;
    for user in accounts::list(db, department.id).await? {
        let Some(official_id) = user.official_id else { continue };
        if !(user.has(Role::Approver) || user.has(Role::Signer)) {
            continue;
        }
        if crate::keys::active_key(db, official_id).await?.is_some() {
            continue;
        }
        crate::keys::generate(db, store, &Actor::System("demo"), department.id, official_id, &passphrase).await?;
        created = true;
    }
    // The department's key for the QR tokens, so its public key is published from the
    // start (it would otherwise be made at the first signature).
    crate::keys::department::ensure(db, store, &Actor::System("demo"), department.id).await?;
    // And its root certification authority, so its certificate is published too.
    crate::keys::authority::ensure(db, store, &Actor::System("demo"), &department).await?;
    Ok(created.then_some(passphrase))
}

/// The line printed after [`seed_keys`] created keys.
pub fn describe_keys(passphrase: &str) -> String {
    format!(
        "Kunci tanda tangan dibuat untuk kabid, sekdis dan kadis. Frasa sandi (untuk paraf dan tanda tangan, \
         ditampilkan sekali): {passphrase}\n"
    )
}

/// Synthetic candidates for the demo regency's confirmation letters: two to six per
/// active village of the department's directory, in the template's own CSV columns,
/// with NIKs that carry the village's kecamatan code and the person's birth date. The
/// same directory always gives the same file. No real person is in it.
pub async fn candidates_csv(db: &Db, department_id: i64) -> anyhow::Result<String> {
    use crate::distribution::recipients::{self, Filter};
    const WOMEN: [&str; 6] = ["Siti", "Nur", "Aminah", "Dewi", "Sri", "Fatimah"];
    const MEN: [&str; 6] = ["Ahmad", "Budi", "Rahmat", "Hasan", "Yusuf", "Arif"];
    const FAMILY: [&str; 10] = [
        "Hasanuddin",
        "Saputra",
        "Lestari",
        "Effendi",
        "Pratama",
        "Daeng Matutu",
        "Wulandari",
        "Kurniawan",
        "Rahayu",
        "Syamsuddin",
    ];
    const WORK: [&str; 6] = [
        "Nelayan/perikanan",
        "Petani/pekebun",
        "Pekerja rumah tangga",
        "Pedagang kecil",
        "Buruh harian lepas",
        "Guru ngaji",
    ];
    let villages = recipients::list(db, department_id, &Filter::default()).await?;
    let mut out = String::from("nik,nama,tanggal_lahir,jenis_kelamin,alamat,pekerjaan,sumber,kode_wilayah\n");
    let mut serial = 0u32;
    for village in villages
        .iter()
        .filter(|r| r.active == 1 && (r.kind == "desa" || r.kind == "kelurahan"))
    {
        let Some(code) = village.region_code.as_deref() else { continue };
        let digits: String = code.chars().filter(char::is_ascii_digit).collect();
        let seed: u32 = digits.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        let place = village.name.split_once(' ').map(|(_, n)| n).unwrap_or(&village.name);
        for i in 0..(2 + seed % 5) {
            serial += 1;
            let k = (seed as usize).wrapping_add(i as usize * 7);
            let female = (seed + i).is_multiple_of(2);
            let (day, month, year) = (1 + (k % 28) as u32, 1 + ((k / 3) % 12) as u32, 1966 + ((k / 5) % 38) as u32);
            let nik = format!(
                "{}{:02}{:02}{:02}{:04}",
                &digits[..6],
                if female { day + 40 } else { day },
                month,
                year % 100,
                serial
            );
            out.push_str(&format!(
                "{nik},{} {},{year}-{month:02}-{day:02},{},RT {:03} {place},{},{},{digits}\n",
                if female { WOMEN[k % WOMEN.len()] } else { MEN[k % MEN.len()] },
                FAMILY[(k / 2) % FAMILY.len()],
                if female { "P" } else { "L" },
                1 + k % 20,
                WORK[k % WORK.len()],
                if i % 2 == 0 { "P3KE" } else { "DTKS" },
            ));
        }
    }
    Ok(out)
}
