//! Hostile imports and concurrent signatures, measured from outside, on each engine: a
//! `naskah serve` process of its own (the demo department on a fresh SQLite file, then
//! on a fresh PostgreSQL database) takes the known
//! import bombs and an ordinary export near the upload limit through the import page
//! (`benches/import_bombs.py`), and, in a second fresh process, 32 API signatures at once
//! (`benches/concurrent_signatures.py`); each script reads the server's peak resident
//! memory (`VmHWM`) from /proc and times every answer.

use std::{
    net::TcpStream,
    process::{Child, Command, Stdio},
};

use super::*;

/// Targets from the issue.
const TARGET_REFUSED_S: f64 = 2.0;
const TARGET_PEAK_MIB: f64 = 300.0;

/// One file of the bomb set as the script reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub file: String,
    pub bytes: u64,
    pub status: u16,
    pub seconds: f64,
    pub peak_mib_so_far: f64,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Bombs {
    peak_mib: f64,
    results: Vec<Upload>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signatures {
    pub signatures: usize,
    pub signed: usize,
    pub peak_before_mib: f64,
    pub peak_after_mib: f64,
}

/// Both runs, one per engine.
#[derive(Debug, Clone, Default)]
pub struct Hostile {
    pub engines: Vec<(String, HostileResult)>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct HostileResult {
    pub uploads: Vec<Upload>,
    pub import_peak_mib: f64,
    pub signatures: Option<Signatures>,
    /// Why a part was not measured (no python3, a script failed).
    pub notes: Vec<String>,
}

const PASSWORD: &str = "sandi-bench-serangan-1";
const PASSPHRASE: &str = "frasa-bench-serangan-1";

/// The service in a process of its own, stopped when dropped.
struct Served {
    child: Child,
    base: String,
    _scratch: service::Scratch,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(templates_dir: &Path, label: &str, database_url: Option<&str>) -> anyhow::Result<Served> {
    let scratch = service::Scratch::new(label)?;
    let database_url = database_url.map_or_else(
        || format!("sqlite://{}/naskah.sqlite3?mode=rwc", scratch.0.display()),
        str::to_string,
    );
    let address = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    // The bench binary runs the service's own command line for `serve` (see main.rs).
    let child = Command::new(std::env::current_exe()?)
        .args(["serve", "--demo", "--listen", &address.to_string()])
        .env("NASKAH_DATABASE_URL", database_url)
        .env("NASKAH_KEYS_DIR", scratch.0.join("kunci"))
        .env("NASKAH_TEMPLATES_DIR", templates_dir)
        .env("NASKAH_DATA_DIR", &scratch.0)
        .env("NASKAH_LOG_LEVEL", "warn")
        .env("NASKAH_DEMO_PASSWORD", PASSWORD)
        .env("NASKAH_DEMO_PASSPHRASE", PASSPHRASE)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start naskah serve")?;
    let served = Served {
        child,
        base: format!("http://{address}"),
        _scratch: scratch,
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if TcpStream::connect(address).is_ok() {
            return Ok(served);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("naskah serve did not listen on {address} within two minutes")
}

/// The last line a script printed, as JSON.
fn script<T: serde::de::DeserializeOwned>(name: &str, args: &[String]) -> anyhow::Result<T> {
    let output = Command::new("python3")
        .arg(repository().join("benches").join(name))
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("python3 {name}"))?;
    if !output.status.success() {
        bail!("{name} failed ({})", output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("{name} printed {last:?}"))
}

/// Both parts on SQLite, then on PostgreSQL when a server answers (a fresh database for
/// each service process, dropped afterwards).
pub fn run(templates_dir: &Path) -> Hostile {
    let mut hostile = Hostile::default();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            hostile.notes.push(format!("no runtime for the databases: {e}"));
            return hostile;
        }
    };
    let scratch = match service::Scratch::new("serangan") {
        Ok(scratch) => scratch,
        Err(e) => {
            hostile.notes.push(format!("no scratch folder: {e:#}"));
            return hostile;
        }
    };
    let bomb_engines = runtime.block_on(engines::engines(&scratch.0, "serangan_impor"));
    let signing_engines = runtime.block_on(engines::engines(&scratch.0, "serangan_ttd"));
    if bomb_engines.len() < 2 {
        hostile
            .notes
            .push("PostgreSQL did not answer (NASKAH_BENCH_POSTGRES_URL); measured on SQLite only.".into());
    }
    for (bombs, signing) in bomb_engines.iter().zip(&signing_engines) {
        eprintln!("  {} …", bombs.label);
        // SQLite runs on a file of the service's own scratch folder.
        let url = |engine: &engines::Engine| (engine.label != "SQLite").then(|| engine.url.clone());
        hostile.engines.push((
            bombs.label.to_string(),
            run_on(templates_dir, url(bombs).as_deref(), url(signing).as_deref()),
        ));
    }
    runtime.block_on(async {
        for engine in bomb_engines.iter().chain(&signing_engines) {
            engines::drop_database(engine).await;
        }
    });
    hostile
}

fn run_on(templates_dir: &Path, bombs_url: Option<&str>, signing_url: Option<&str>) -> HostileResult {
    let mut result = HostileResult::default();
    let bombs = serve(templates_dir, "bom", bombs_url).and_then(|served| {
        let args = [served.base.clone(), served.child.id().to_string(), "staf".into(), PASSWORD.into()];
        script::<Bombs>("import_bombs.py", &args)
    });
    match bombs {
        Ok(bombs) => {
            result.uploads = bombs.results;
            result.import_peak_mib = bombs.peak_mib;
        }
        Err(e) => result.notes.push(format!("import bombs not measured: {e:#}")),
    }
    let signatures = serve(templates_dir, "tanda-tangan", signing_url).and_then(|served| {
        let args = [
            served.base.clone(),
            served.child.id().to_string(),
            PASSWORD.into(),
            PASSPHRASE.into(),
            "32".into(),
        ];
        script::<Signatures>("concurrent_signatures.py", &args)
    });
    match signatures {
        Ok(s) => result.signatures = Some(s),
        Err(e) => result.notes.push(format!("concurrent signatures not measured: {e:#}")),
    }
    result
}

/// The hostile files, every one refused, and the ordinary one accepted.
fn refused(result: &HostileResult) -> impl Iterator<Item = &Upload> {
    result.uploads.iter().filter(|u| u.status != 200)
}

pub fn target_rows(hostile: &Hostile) -> String {
    hostile.engines.iter().map(|(engine, result)| engine_rows(engine, result)).collect()
}

/// Whether a line of the targets table is one of [`target_rows`] (for a run of its own).
pub fn is_row(line: &str) -> bool {
    line.starts_with('|')
        && (line.contains("each import bomb refused")
            || line.contains("importing any file up to the upload limit")
            || line.contains("API signatures at once"))
}

fn engine_rows(engine: &str, result: &HostileResult) -> String {
    let mut o = String::new();
    if !result.uploads.is_empty() {
        let slowest = refused(result).map(|u| u.seconds).fold(0.0, f64::max);
        let all_refused =
            refused(result).count() + 1 == result.uploads.len() && refused(result).all(|u| u.status == 422 && !u.message.is_empty());
        o.push_str(&format!(
            "| {engine}: each import bomb refused with a clear message within {TARGET_REFUSED_S:.0} s | {} of {} refused, slowest {:.2} s | {} |\n",
            refused(result).count(),
            result.uploads.len() - 1,
            slowest,
            yes(all_refused && slowest <= TARGET_REFUSED_S)
        ));
        o.push_str(&format!(
            "| {engine}: importing any file up to the upload limit, hostile or not: < {TARGET_PEAK_MIB:.0} MiB resident | peak {:.0} MiB | {} |\n",
            result.import_peak_mib,
            yes(result.import_peak_mib < TARGET_PEAK_MIB)
        ));
    }
    if let Some(s) = &result.signatures {
        o.push_str(&format!(
            "| {engine}: {} API signatures at once: < {TARGET_PEAK_MIB:.0} MiB resident | peak {:.0} MiB ({} signed) | {} |\n",
            s.signatures,
            s.peak_after_mib,
            s.signed,
            yes(s.peak_after_mib < TARGET_PEAK_MIB && s.signed == s.signatures)
        ));
    }
    o
}

pub fn section(number: usize, hostile: &Hostile) -> String {
    let mut o = format!("## {number}. Hostile imports and concurrent signatures\n\n");
    o.push_str(
        "On each engine, a `naskah serve` process of its own (the demo department on a fresh SQLite file, or on a \
         fresh PostgreSQL database) takes each file through the import page as the staff would \
         (`benches/import_bombs.py`: multipart upload, the answer timed, the server's `VmHWM` read from /proc after \
         each); a second fresh process takes 32 API signatures at once (`benches/concurrent_signatures.py`).\n\n",
    );
    let uploads: Vec<(&str, &Upload)> = hostile
        .engines
        .iter()
        .flat_map(|(engine, result)| result.uploads.iter().map(move |u| (engine.as_str(), u)))
        .collect();
    if !uploads.is_empty() {
        o.push_str("| engine | file | size | answer | time | peak so far | message |\n|---|---|---:|---:|---:|---:|---|\n");
        for (engine, u) in uploads {
            o.push_str(&format!(
                "| {engine} | {} | {:.1} MB | {} | {:.2} s | {:.0} MiB | {} |\n",
                u.file,
                u.bytes as f64 / 1e6,
                u.status,
                u.seconds,
                u.peak_mib_so_far,
                u.message.replace('|', "\\|")
            ));
        }
        o.push('\n');
    }
    for (engine, result) in &hostile.engines {
        if let Some(s) = &result.signatures {
            o.push_str(&format!(
                "{engine}, {} signatures at once: {} of {} signed; peak resident memory {:.0} MiB before, {:.0} MiB after (Argon2 derivations bounded to one per core, at most four at a time).\n\n",
                s.signatures, s.signed, s.signatures, s.peak_before_mib, s.peak_after_mib
            ));
        }
        for note in &result.notes {
            o.push_str(&format!("*{engine}: {note}*\n\n"));
        }
    }
    for note in &hostile.notes {
        o.push_str(&format!("*{note}*\n\n"));
    }
    o
}

/// Measures section `number` on both engines and writes it, with its target rows, into
/// the report at `path` (`naskah-bench --only hostile`).
pub fn update_report(path: &Path, number: usize, templates_dir: &Path) -> anyhow::Result<()> {
    let hostile = run(templates_dir);
    if hostile.engines.iter().all(|(_, r)| r.uploads.is_empty() && r.signatures.is_none()) {
        bail!("nothing was measured: {:?}", hostile.notes);
    }
    super::splice(path, number, &section(number, &hostile), &target_rows(&hostile), is_row, "hostile")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_say_what_was_measured_and_whether_it_met_the_target() {
        let one = HostileResult {
            uploads: vec![
                Upload {
                    file: "XLSX bom".into(),
                    bytes: 1_000,
                    status: 422,
                    seconds: 0.1,
                    peak_mib_so_far: 80.0,
                    message: "Berkas tidak dapat dibaca".into(),
                },
                Upload {
                    file: "CSV biasa".into(),
                    bytes: 30_000_000,
                    status: 200,
                    seconds: 3.0,
                    peak_mib_so_far: 270.0,
                    message: String::new(),
                },
            ],
            import_peak_mib: 270.0,
            signatures: Some(Signatures {
                signatures: 32,
                signed: 32,
                peak_before_mib: 100.0,
                peak_after_mib: 320.0,
            }),
            notes: vec![],
        };
        let result = Hostile {
            engines: vec![("SQLite".into(), one.clone()), ("PostgreSQL".into(), one)],
            notes: vec![],
        };
        let rows = target_rows(&result);
        assert!(rows.contains("| SQLite: each import bomb refused"), "{rows}");
        assert!(rows.contains("| PostgreSQL: each import bomb refused"), "{rows}");
        assert!(rows.lines().all(is_row), "{rows}");
        assert!(rows.contains("1 of 1 refused, slowest 0.10 s | **yes**"), "{rows}");
        assert!(rows.contains("peak 270 MiB | **yes**"), "{rows}");
        assert!(rows.contains("peak 320 MiB (32 signed) | **no**"), "{rows}");
        assert!(section(10, &result).contains("| PostgreSQL | XLSX bom | 0.0 MB | 422 | 0.10 s | 80 MiB | Berkas tidak dapat dibaca |"));
    }
}
