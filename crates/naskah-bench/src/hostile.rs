//! Hostile imports and concurrent signatures, measured from outside: a `naskah serve`
//! process of its own (the demo department on a fresh SQLite file) takes the known
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

fn serve(templates_dir: &Path, label: &str) -> anyhow::Result<Served> {
    let scratch = service::Scratch::new(label)?;
    let address = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    // The bench binary runs the service's own command line for `serve` (see main.rs).
    let child = Command::new(std::env::current_exe()?)
        .args(["serve", "--demo", "--listen", &address.to_string()])
        .env(
            "NASKAH_DATABASE_URL",
            format!("sqlite://{}/naskah.sqlite3?mode=rwc", scratch.0.display()),
        )
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

pub fn run(templates_dir: &Path) -> HostileResult {
    let mut result = HostileResult::default();
    let bombs = serve(templates_dir, "bom").and_then(|served| {
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
    let signatures = serve(templates_dir, "tanda-tangan").and_then(|served| {
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

pub fn target_rows(result: &HostileResult) -> String {
    let mut o = String::new();
    if !result.uploads.is_empty() {
        let slowest = refused(result).map(|u| u.seconds).fold(0.0, f64::max);
        let all_refused =
            refused(result).count() + 1 == result.uploads.len() && refused(result).all(|u| u.status == 422 && !u.message.is_empty());
        o.push_str(&format!(
            "| each import bomb refused with a clear message within {TARGET_REFUSED_S:.0} s | {} of {} refused, slowest {:.2} s | {} |\n",
            refused(result).count(),
            result.uploads.len() - 1,
            slowest,
            yes(all_refused && slowest <= TARGET_REFUSED_S)
        ));
        o.push_str(&format!(
            "| importing any file up to the upload limit, hostile or not: < {TARGET_PEAK_MIB:.0} MiB resident | peak {:.0} MiB | {} |\n",
            result.import_peak_mib,
            yes(result.import_peak_mib < TARGET_PEAK_MIB)
        ));
    }
    if let Some(s) = &result.signatures {
        o.push_str(&format!(
            "| {} API signatures at once: < {TARGET_PEAK_MIB:.0} MiB resident | peak {:.0} MiB ({} signed) | {} |\n",
            s.signatures,
            s.peak_after_mib,
            s.signed,
            yes(s.peak_after_mib < TARGET_PEAK_MIB && s.signed == s.signatures)
        ));
    }
    o
}

pub fn section(number: usize, result: &HostileResult) -> String {
    let mut o = format!("## {number}. Hostile imports and concurrent signatures\n\n");
    o.push_str(
        "A `naskah serve` process of its own (the demo department on a fresh SQLite file) takes each file through the \
         import page as the staff would (`benches/import_bombs.py`: multipart upload, the answer timed, the server's \
         `VmHWM` read from /proc after each); a second fresh process takes 32 API signatures at once \
         (`benches/concurrent_signatures.py`).\n\n",
    );
    if !result.uploads.is_empty() {
        o.push_str("| file | size | answer | time | peak so far | message |\n|---|---:|---:|---:|---:|---|\n");
        for u in &result.uploads {
            o.push_str(&format!(
                "| {} | {:.1} MB | {} | {:.2} s | {:.0} MiB | {} |\n",
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
    if let Some(s) = &result.signatures {
        o.push_str(&format!(
            "32 signatures at once: {} of {} signed; peak resident memory {:.0} MiB before, {:.0} MiB after (Argon2 derivations bounded to one per core, at most four at a time).\n\n",
            s.signed, s.signatures, s.peak_before_mib, s.peak_after_mib
        ));
    }
    for note in &result.notes {
        o.push_str(&format!("*{note}*\n\n"));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_say_what_was_measured_and_whether_it_met_the_target() {
        let result = HostileResult {
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
        let rows = target_rows(&result);
        assert!(rows.contains("1 of 1 refused, slowest 0.10 s | **yes**"), "{rows}");
        assert!(rows.contains("peak 270 MiB | **yes**"), "{rows}");
        assert!(rows.contains("peak 320 MiB (32 signed) | **no**"), "{rows}");
        assert!(section(10, &result).contains("| XLSX bom | 0.0 MB | 422 | 0.10 s | 80 MiB | Berkas tidak dapat dibaca |"));
    }
}
