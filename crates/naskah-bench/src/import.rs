//! Importing candidate files. A synthetic P3KE export (the demo regency's villages,
//! about 6 % of rows defective in the test files' classes) is checked and imported into
//! the demo department on a SQLite file, in a child process of its own
//! (`naskah-bench --only import-100000`) so that its peak memory is that of the import;
//! 10,000 rows in another child show how memory grows with the file. The peer is the
//! straightforward script (`benches/import_peer.py`: Python's csv module, the same
//! checks, sqlite3 `executemany` in one transaction) on the same file.

use std::{
    fmt::Write as _,
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::{mix, peak_rss_mib};
use crate::{
    accounts,
    audit::Actor,
    beneficiaries::import::{self, Upload},
    db::Db,
    demo, departments, regions,
};

const PEER_PY: &str = include_str!("../../../benches/import_peer.py");
const TARGET_IMPORT_S: f64 = 10.0;
pub(super) const SIZES: [usize; 2] = [10_000, 100_000];

const HEADER: &str = "ID Keluarga P3KE,Provinsi,Kabupaten/Kota,Kecamatan,Desa/Kelurahan,Kode Kemendagri,Desil Kesejahteraan,Alamat,\
ID Individu,Nama,NIK,Padan Dukcapil,Jenis Kelamin,Hubungan dengan Kepala Keluarga,Tanggal Lahir,Status Kawin,Pekerjaan,Pendidikan";

const NAMES: [&str; 12] = [
    "AHMAD", "SITI", "BUDI", "NUR", "RAHMAT", "DEWI", "AGUS", "SRI", "HENDRA", "YULIANI", "ANDI", "KARTINI",
];
const FAMILY: [&str; 8] = [
    "SAPUTRA",
    "HASANUDDIN",
    "LESTARI",
    "DAENG MATUTU",
    "EFFENDI",
    "MAPPA",
    "WIJAYA",
    "RAHMAN",
];

/// A P3KE-layout file of `rows` people; every 16th row carries one defect.
pub fn synthetic_p3ke(rows: usize) -> anyhow::Result<String> {
    let regions = regions::parse_csv(regions::DEMO_REGENCY_CSV)?;
    let villages: Vec<&regions::Region> = regions.iter().filter(|r| r.level == 4).collect();
    let district = |code: &str| {
        regions
            .iter()
            .find(|r| r.level == 3 && code.starts_with(&r.code))
            .map_or(String::new(), |r| r.name.to_uppercase())
    };
    let mut out = String::with_capacity(rows * 220);
    out.push_str(HEADER);
    out.push('\n');
    for i in 0..rows as u64 {
        let r = mix(i + 7);
        let village = villages[(r % villages.len() as u64) as usize];
        let female = (r >> 8) & 1 == 1;
        let (day, month, year) = (1 + (r >> 9) % 28, 1 + (r >> 14) % 12, 1963 + (r >> 18) % 42);
        let prefix = village.code[..8].replace('.', "");
        // Serials differ for every row, so a NIK repeats only where a defect says so.
        let serial = 1 + i % 9_999;
        let block = i / 9_999;
        let nik_day = if female { day + 40 } else { day };
        let mut nik = format!("{prefix}{nik_day:02}{month:02}{:02}{serial:04}", (year + block) % 100);
        let mut birth = format!("{}-{month:02}-{day:02}", year + block);
        let mut name = format!(
            "{} {}",
            NAMES[((r >> 24) % NAMES.len() as u64) as usize],
            FAMILY[((r >> 28) % FAMILY.len() as u64) as usize]
        );
        let mut sex = if female { "Perempuan" } else { "Laki-laki" };
        if i % 16 == 5 {
            match (i / 16) % 8 {
                0 => nik.truncate(15),
                1 => nik = format!("{}.{}E+15", &nik[0..1], &nik[1..6]),
                2 => sex = if female { "Laki-laki" } else { "Perempuan" },
                3 => name = "  ".into(),
                4 => nik.replace_range(12..16, "0000"),
                5 => {
                    birth = "2012-01-01".into();
                    nik.replace_range(6..12, &format!("{:02}0112", if female { 41 } else { 1 }));
                }
                6 => nik = format!("'{nik}"),
                _ => name = format!("  {}  ", name.to_lowercase()),
            }
        }
        let _ = writeln!(
            out,
            "P3KE{:012},KALIMANTAN TIMUR,PENAJAM PASER UTARA,{},{},{},{},RT {:03},{:012},{name},{nik},Padan,{sex},Kepala Keluarga,{birth},Kawin,Petani/Pekebun,SD/Sederajat",
            r % 1_000_000_000_000,
            district(&village.code),
            village.name.to_uppercase(),
            village.code,
            1 + (r >> 40) % 4,
            1 + (r >> 44) % 30,
            i
        );
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ImportResult {
    pub rows: usize,
    pub file_mib: f64,
    pub check_s: f64,
    pub import_s: f64,
    pub valid: i64,
    pub refused: i64,
    pub peak_mib: f64,
}

/// The child's work: the file made in memory (as an upload would hold it), checked and
/// imported; printed as one JSON line.
pub fn child(rows: usize) -> anyhow::Result<String> {
    // A thread of its own: the caller may already be inside a runtime.
    std::thread::spawn(move || child_in_thread(rows))
        .join()
        .map_err(|_| anyhow::anyhow!("the import benchmark panicked"))?
}

fn child_in_thread(rows: usize) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let dir = std::env::temp_dir().join(format!("naskah-bench-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let outcome = runtime.block_on(async {
        let url = format!("sqlite://{}?mode=rwc", dir.join("naskah.sqlite3").display());
        let db = Db::open(&url, 5).await?;
        demo::seed(&db, Some(&accounts::generate_password())).await?;
        let department = departments::get(&db, 1).await?;
        let actor = Actor::System("bench");
        let text = synthetic_p3ke(rows)?;
        let started = Instant::now();
        let checked = import::check(
            &db,
            &actor,
            &department,
            Upload {
                file_name: "p3ke-sintetis.csv",
                bytes: text.as_bytes(),
                source: "",
                mapping: None,
            },
        )
        .await?;
        let check_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let done = import::apply(&db, &actor, &department, checked.id, &|_, _| {}).await?;
        let import_s = started.elapsed().as_secs_f64();
        if done.rows_new != checked.rows_valid {
            bail!("imported {} of {} valid rows", done.rows_new, checked.rows_valid);
        }
        anyhow::Ok(ImportResult {
            rows,
            file_mib: text.len() as f64 / 1024.0 / 1024.0,
            check_s,
            import_s,
            valid: checked.rows_valid,
            refused: checked.rows_refused,
            peak_mib: peak_rss_mib(),
        })
    });
    let _ = std::fs::remove_dir_all(&dir);
    Ok(serde_json::to_string(&outcome?)?)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PeerResult {
    pub rows: usize,
    pub seconds: f64,
    pub valid: i64,
    pub peak_mib: f64,
}

/// The Python peer on the same file as the child makes, with the same district list.
pub(super) fn peer(rows: usize) -> anyhow::Result<PeerResult> {
    let dir = std::env::temp_dir().join(format!("naskah-bench-import-peer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("p3ke.csv");
    std::fs::write(&csv, synthetic_p3ke(rows)?)?;
    let districts = dir.join("kecamatan.txt");
    std::fs::write(&districts, crate::beneficiaries::nik::district_codes().join("\n"))?;
    let villages = dir.join("desa.txt");
    let regions = regions::parse_csv(regions::DEMO_REGENCY_CSV)?;
    let codes: Vec<&str> = regions.iter().filter(|r| r.level == 4).map(|r| r.code.as_str()).collect();
    std::fs::write(&villages, codes.join("\n"))?;
    let script = dir.join("import_peer.py");
    std::fs::write(&script, PEER_PY)?;
    let output = Command::new("python3")
        .arg(&script)
        .arg(&csv)
        .arg(&districts)
        .arg(&villages)
        .arg(dir.join("peer.sqlite3"))
        .output()
        .context("python3 cannot be run")?;
    let _ = std::fs::remove_dir_all(&dir);
    if !output.status.success() {
        bail!("the import peer failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut result: PeerResult = serde_json::from_str(stdout.lines().last().unwrap_or_default())?;
    result.rows = rows;
    Ok(result)
}

pub(super) fn target_row(results: &[ImportResult]) -> String {
    match results.iter().find(|r| r.rows == 100_000) {
        Some(r) => format!(
            "| importing 100,000 candidate rows (check + import, one transaction): ≤ {TARGET_IMPORT_S} s | {:.2} s, peak {:.0} MiB | {} |\n",
            r.check_s + r.import_s,
            r.peak_mib,
            super::yes(r.check_s + r.import_s <= TARGET_IMPORT_S)
        ),
        None => "| importing 100,000 candidate rows: ≤ 10 s | not measured | — |\n".into(),
    }
}

pub(super) fn section(number: usize, results: &[ImportResult], peers: &[Result<PeerResult, String>], elapsed: Duration) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## {number}. Importing candidate data\n");
    let _ = writeln!(
        o,
        "A child process (`naskah-bench --only import-N`) seeds the demo department on a SQLite file, builds a synthetic \
         P3KE export of N rows in memory (the demo regency's 54 villages; every 16th row carries one defect of the test \
         files' classes: short NIK, NIK in scientific notation, sex contradicting the NIK, empty name, serial 0000, under 18, \
         apostrophe before the NIK, stray spaces and lower case), then checks it (`import::check`: read, map, validate every \
         row, store the file and its report) and imports the valid rows (`import::apply`: one transaction, merged by NIK, \
         a source row and an event per person). Peak memory is the child's `VmHWM`. The peer, `benches/import_peer.py`, is \
         the straightforward script on the same file: Python's `csv` module, the same checks, `sqlite3` with `executemany` \
         in one transaction (candidates and sources, no events, no report stored).\n"
    );
    let _ = writeln!(
        o,
        "| rows | file | naskah check | naskah import | naskah total | peak memory | valid / refused | Python peer | peer peak | peer ÷ naskah |"
    );
    let _ = writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let total = r.check_s + r.import_s;
        let peer = peers.iter().find(|p| matches!(p, Ok(p) if p.rows == r.rows));
        let (peer_s, peer_mib, ratio) = match peer {
            Some(Ok(p)) => (
                format!("{:.2} s", p.seconds),
                format!("{:.0} MiB", p.peak_mib),
                super::ratio(p.seconds, total),
            ),
            _ => ("—".into(), "—".into(), "—".into()),
        };
        let _ = writeln!(
            o,
            "| {} | {:.1} MiB | {:.2} s | {:.2} s | **{:.2} s** | {:.0} MiB | {} / {} | {peer_s} | {peer_mib} | {ratio} |",
            crate::text::thousands(r.rows as i64),
            r.file_mib,
            r.check_s,
            r.import_s,
            total,
            r.peak_mib,
            r.valid,
            r.refused
        );
    }
    for p in peers {
        if let Err(why) = p {
            let _ = writeln!(o, "\nThe Python peer failed: {why}");
        }
    }
    if let [small, large] = results {
        let _ = writeln!(
            o,
            "\nTen times the rows: {:.1}× the time, peak memory {:.0} → {:.0} MiB ({:+.0} MiB for {:.1} MiB more file). \
             Memory grows with the file, not with the rows' data: the upload, the stored copy read back at import and the \
             table read from it are each the size of the file; the rows themselves are read, checked and written in chunks of \
             64, and only the NIKs seen (for duplicates) and the report are kept for the whole file. Chunks are small on \
             purpose: sqlx binds each `$n` by its name and SQLite finds a parameter's name by a linear scan, so binding \
             grows with the square of a statement's parameters (400-row chunks took ~30 µs a row here, 64-row chunks a few).",
            (large.check_s + large.import_s) / (small.check_s + small.import_s),
            small.peak_mib,
            large.peak_mib,
            large.peak_mib - small.peak_mib,
            large.file_mib - small.file_mib
        );
    }
    let _ = writeln!(o, "\n(Section measured in {:.0} s.)\n", elapsed.as_secs_f64());
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_file_has_its_defects_where_expected() {
        let text = synthetic_p3ke(200).unwrap();
        assert_eq!(text.lines().count(), 201);
        let table = crate::beneficiaries::reader::Table::open(text.as_bytes()).unwrap();
        let chosen = import::choose(&table.headers, &[]);
        assert_eq!(chosen.name, "Ekspor P3KE");
        let regions = regions::parse_csv(regions::DEMO_REGENCY_CSV).unwrap();
        let rules = import::Rules {
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            settings: Default::default(),
            villages: import::Villages::new("Kabupaten Penajam Paser Utara", &regions),
        };
        let scan = import::scan(&table, &chosen.mapping, &rules).unwrap();
        // 13 defect rows in 200 (every 16th from the 6th); two classes are only cleaned.
        let refused: std::collections::BTreeSet<i64> = scan.report.iter().filter(|p| p.refused).map(|p| p.line).collect();
        assert_eq!(scan.rows_total, 200);
        assert!((9..=13).contains(&refused.len()), "{:?}", scan.report);
        assert_eq!(scan.rows_valid, 200 - refused.len());
    }
}
