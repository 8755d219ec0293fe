//! The demo department with unlocked keys for the benchmarks around a signature, and
//! **finalising** a one-page letter in a child process of its own (`naskah-bench --only
//! finalise`) on a SQLite file, the embedded default: the Kepala Dinas's signature with
//! an unlocked key (statement, number, final render with QR code, PAdES signature,
//! commit), side by side with the PDF signature alone and with pyHanko signing the same
//! unsigned PDF.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Arc,
    time::Instant,
};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timings;
use crate::{
    accounts::{self, User},
    db::Db,
    demo,
    keys::{KeyStore, Unlocked},
    letters::Catalogue,
    rendering::Renderer,
    workflow::{self, Decision, DecisionRequest, Workflow},
};

const PASSPHRASE: &str = "frasa sandi bench naskah";

/// A scratch folder removed when dropped.
pub(super) struct Scratch(pub(super) PathBuf);

impl Scratch {
    pub(super) fn new(label: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("naskah-bench-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("{} cannot be created", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The demo department on a SQLite file in `dir`, with unlocked keys for its chain.
pub(super) struct Service {
    pub(super) flow: Workflow,
    database_url: String,
    /// The run's master key (hex), for a `naskah serve` over the same database.
    master_key: String,
    /// Every demo account's password in this run.
    pub(super) password: String,
    konseptor: User,
    staf: User,
    chain: Vec<(User, Unlocked)>,
    kadis: (User, Unlocked),
}

impl Service {
    pub(super) fn database_url(&self) -> &str {
        &self.database_url
    }

    pub(super) fn master_key(&self) -> &str {
        &self.master_key
    }

    pub(super) async fn open(dir: &Path, templates_dir: &Path) -> anyhow::Result<Self> {
        let database_url = format!("sqlite://{}?mode=rwc", dir.join("naskah.sqlite3").display());
        Self::open_on(templates_dir, database_url).await
    }

    /// The demo department on the (empty) database at `database_url`, its keys in it
    /// under a master key of the run's own.
    pub(super) async fn open_on(templates_dir: &Path, database_url: String) -> anyhow::Result<Self> {
        let db = Db::open(&database_url, 5).await?;
        let password = accounts::generate_password();
        demo::seed(&db, Some(&password)).await?;
        let master = naskah::keys::MasterKey::generate();
        let master_key = master.to_hex().to_string();
        let store = KeyStore::new(db.clone(), master);
        demo::seed_keys(&db, &store, Some(PASSPHRASE)).await?;
        let renderer = Renderer::load(templates_dir, 2)?;
        let flow = Workflow {
            db: db.clone(),
            catalogue: Arc::new(Catalogue::from_renderer(&renderer)?),
            renderer,
            keys: store,
            base_url: "http://127.0.0.1".into(),
            timestamping: false,
            distribution: Arc::new(crate::distribution::deliveries::DirectoryPlanner),
        };
        let user = |name: &'static str| {
            let db = db.clone();
            async move {
                accounts::find_by_username(&db, name)
                    .await?
                    .with_context(|| format!("no demo user {name}"))
            }
        };
        let mut chain = Vec::new();
        for name in ["kabid", "sekdis"] {
            let who = user(name).await?;
            let key = flow.unlock(&who, PASSPHRASE).await?;
            chain.push((who, key));
        }
        let kadis = user("kadis").await?;
        let kadis_key = flow.unlock(&kadis, PASSPHRASE).await?;
        Ok(Service {
            database_url,
            master_key,
            password,
            konseptor: user("konseptor").await?,
            staf: user("staf").await?,
            chain,
            kadis: (kadis, kadis_key),
            flow,
        })
    }

    /// A data-request letter drafted, typed and initialled: waiting for the signature.
    pub(super) async fn at_signature(&self, serial: usize) -> anyhow::Result<workflow::Letter> {
        let mut data: Value = serde_json::from_slice(
            self.flow
                .renderer
                .file("/surat-permintaan-data/contoh.json")
                .context("the data-request letter's contoh.json is missing")?,
        )?;
        data["hal"] = Value::String(format!("Permohonan data calon penerima bantuan iuran (bench {serial})"));
        // No deadline: the example's fixed date passes, and signing would then ask for a
        // confirmation that the bench does not measure.
        data["batas_waktu"] = Value::String(String::new());
        self.drafted_to_signature("surat-permintaan-data", &data).await
    }

    /// A letter of `template` with `data`, drafted, typed and initialled. The data stand
    /// for what the service fills in (an SK's list from the final list), so locked
    /// fields are taken as given.
    pub(super) async fn drafted_to_signature(&self, template: &str, data: &Value) -> anyhow::Result<workflow::Letter> {
        let letter = self.flow.create_from_source(&self.konseptor, template, data, "").await?;
        let letter = self.flow.submit(&self.konseptor, letter.id, letter.version).await?;
        let mut letter = self.flow.submit(&self.staf, letter.id, letter.version).await?;
        for (who, key) in &self.chain {
            letter = self
                .flow
                .decide_with_key(who, letter.id, &request(Decision::Paraf, &letter), key)
                .await?;
        }
        Ok(letter)
    }

    pub(super) async fn sign(&self, letter: &workflow::Letter) -> anyhow::Result<workflow::Letter> {
        let (kadis, key) = &self.kadis;
        Ok(self
            .flow
            .decide_with_key(kadis, letter.id, &request(Decision::TandaTangan, letter), key)
            .await?)
    }
}

fn request(decision: Decision, letter: &workflow::Letter) -> DecisionRequest {
    DecisionRequest {
        decision,
        note: String::new(),
        expected_revision: letter.revision,
        budget_warning_accepted: false,
        deadline_warning_accepted: false,
    }
}

/// The bytes Typst wrote, before the signature's incremental update.
pub(super) fn unsigned_part(pdf: &[u8]) -> &[u8] {
    let end = pdf.windows(5).position(|w| w == b"%%EOF").map(|at| at + 5).unwrap_or(pdf.len());
    &pdf[..end]
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinaliseResult {
    /// The signature, end to end, per letter (ms).
    pub finalise: Timings,
    /// The PAdES signature alone on the same final PDF (ms).
    pub pdf_signature: Timings,
    /// pyHanko signing the same unsigned PDF (ms), or why it was not measured.
    pub pyhanko: Option<Timings>,
    pub pyhanko_version: Option<String>,
    pub pyhanko_note: Option<String>,
    pub pdf_bytes: usize,
    /// The same signatures on PostgreSQL, or why they were not measured.
    #[serde(default)]
    pub postgres: Option<Result<Timings, String>>,
}

/// Takes `letters` letters (after three to warm up) to the signature and signs each;
/// the signatures' times and the last letter signed.
async fn sign_letters(service: &Service, letters: usize) -> anyhow::Result<(Vec<f64>, workflow::Letter)> {
    let warm_up = 3;
    let mut waiting = Vec::new();
    for serial in 0..letters + warm_up {
        waiting.push(service.at_signature(serial).await?);
    }
    let mut times = Vec::new();
    let mut last = None;
    for (index, letter) in waiting.iter().enumerate() {
        let started = Instant::now();
        let signed = service.sign(letter).await?;
        if index >= warm_up {
            times.push(super::ms(started.elapsed()));
        }
        last = Some(signed);
    }
    Ok((times, last.context("no letter was signed")?))
}

/// The same signatures on PostgreSQL, on a database of the run's own.
async fn finalise_on_postgres(dir: &Path, templates_dir: &Path, letters: usize) -> Result<Timings, String> {
    let engines = super::engines::engines(dir, "finalise").await;
    let Some(engine) = engines.iter().find(|e| e.label == "PostgreSQL") else {
        return Err("PostgreSQL is not reachable (NASKAH_BENCH_POSTGRES_URL)".into());
    };
    let measured = async {
        let service = Service::open_on(templates_dir, engine.url.clone()).await?;
        let (times, _) = sign_letters(&service, letters).await?;
        service.flow.db.pool.close().await;
        anyhow::Ok(Timings::from_ms(times))
    }
    .await
    .map_err(|e| format!("{e:#}"));
    super::engines::drop_database(engine).await;
    measured
}

pub async fn finalise(templates_dir: &Path, letters: usize) -> anyhow::Result<FinaliseResult> {
    let scratch = Scratch::new("finalise")?;
    let service = Service::open(&scratch.0, templates_dir).await?;
    let (times, last) = sign_letters(&service, letters).await?;
    let pdf = workflow::final_pdf(&service.flow.db, last.id)
        .await?
        .context("no final PDF stored")?;
    let unsigned = unsigned_part(&pdf).to_vec();

    // The PDF signature alone, with the same signer the finalisation used.
    let department = crate::departments::get(&service.flow.db, last.department_id).await?;
    let (authority, _) = crate::keys::authority::ensure(
        &service.flow.db,
        &service.flow.keys,
        &crate::audit::Actor::System("bench"),
        &department,
    )
    .await?;
    let (kadis, key) = &service.kadis;
    let official =
        crate::departments::get_official(&service.flow.db, department.id, kadis.official_id.context("kadis has no official")?).await?;
    let (signer, _) = crate::keys::authority::signer(
        &service.flow.db,
        &service.flow.keys,
        &service.flow.base_url,
        &authority,
        &department,
        &official,
        key,
        crate::signing::Algorithm::P256,
    )
    .await?;
    let details = crate::signing::pades::Details {
        name: "bench",
        reason: "bench",
        location: &department.city,
        signed_at: chrono::Utc::now().fixed_offset(),
    };
    let mut signing = Vec::new();
    for _ in 0..letters.max(20) {
        let started = Instant::now();
        let signed = crate::signing::pades::sign(&unsigned, &signer, &details)?;
        signing.push(super::ms(started.elapsed()));
        std::hint::black_box(signed);
    }

    let (pyhanko, pyhanko_version, pyhanko_note) = pyhanko_peer(&scratch.0, &unsigned, letters.max(20));
    service.flow.db.pool.close().await;
    let postgres = Some(finalise_on_postgres(&scratch.0, templates_dir, letters).await);
    Ok(FinaliseResult {
        postgres,
        finalise: Timings::from_ms(times),
        pdf_signature: Timings::from_ms(signing),
        pyhanko,
        pyhanko_version,
        pyhanko_note,
        pdf_bytes: pdf.len(),
    })
}

fn pyhanko_peer(dir: &Path, unsigned: &[u8], runs: usize) -> (Option<Timings>, Option<String>, Option<String>) {
    let Some(python) = super::peers::python() else {
        return (
            None,
            None,
            Some("The peers' venv is missing (benches/peers.sh); pyHanko skipped.".into()),
        );
    };
    let Some(version) = super::peers::module_version(&python, "pyhanko") else {
        return (None, None, Some("pyHanko is not installed in the peers' venv; skipped.".into()));
    };
    let pdf_path = dir.join("unsigned.pdf");
    if let Err(e) = std::fs::write(&pdf_path, unsigned) {
        return (None, Some(version), Some(format!("pyHanko skipped: {e}")));
    }
    let script = crate::repository().join("benches/pyhanko_sign.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(&pdf_path)
        .arg(runs.to_string())
        .stderr(Stdio::piped())
        .output();
    match output {
        Ok(out) if out.status.success() => {
            let parsed: Result<Value, _> = serde_json::from_slice(&out.stdout);
            match parsed
                .ok()
                .and_then(|v| v["ms"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect::<Vec<_>>()))
            {
                Some(ms) if !ms.is_empty() => (Some(Timings::from_ms(ms)), Some(version), None),
                _ => (None, Some(version), Some("pyHanko printed no timings; skipped.".into())),
            }
        }
        Ok(out) => (
            None,
            Some(version),
            Some(format!(
                "pyHanko failed: {}",
                String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
            )),
        ),
        Err(e) => (None, Some(version), Some(format!("pyHanko could not run: {e}"))),
    }
}

/// The child process's work for `--only finalise`, printed as one JSON line for the parent.
pub fn child(templates_dir: &Path, quick: bool) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let templates_dir = templates_dir.to_path_buf();
    // A thread of its own: the caller may already be inside a runtime.
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let result = finalise(&templates_dir, if quick { 10 } else { 40 }).await?;
            Ok(serde_json::to_string(&result)?)
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the finalise benchmark panicked"))?
}

/// The targets for these two benchmarks.
const TARGET_FINALISE_MS: f64 = 50.0;

/// Rows of the report's target table.
pub(super) fn target_rows(finalise: &FinaliseResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let f = finalise.finalise.median_ms;
    let _ = writeln!(
        o,
        "| finalising a one-page letter (number, render, PDF signature, commit) on SQLite: ≤ {TARGET_FINALISE_MS} ms median | {f:.1} ms | {} |",
        super::yes(f <= TARGET_FINALISE_MS)
    );
    let label =
        format!("| finalising a one-page letter (number, render, PDF signature, commit) on PostgreSQL: ≤ {TARGET_FINALISE_MS} ms median");
    let _ = match &finalise.postgres {
        Some(Ok(pg)) => writeln!(
            o,
            "{label} | {:.1} ms | {} |",
            pg.median_ms,
            super::yes(pg.median_ms <= TARGET_FINALISE_MS)
        ),
        _ => writeln!(o, "{label} | not measured | — |"),
    };
    o
}

/// Runs the signature benchmark alone (`naskah-bench --only signature`) and writes its
/// target rows and section 5 into the report at `path` ([`super::splice`]).
pub(super) fn update_report(path: &Path, templates_dir: &Path) -> anyhow::Result<()> {
    let finalise: FinaliseResult = super::in_child(templates_dir, "finalise")?;
    let is_row = |l: &str| l.starts_with("| finalising a one-page letter (number");
    super::splice(path, 5, &section(&finalise), &target_rows(&finalise), is_row, "signature")
}

/// Section 5 of the report.
pub(super) fn section(finalise: &FinaliseResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let f = &finalise.finalise;
    let sig = &finalise.pdf_signature;
    let _ = writeln!(o, "## 5. Finalising a letter at signature\n");
    let _ = writeln!(
        o,
        "A child process (`naskah-bench --only finalise`) seeds the demo department on a SQLite file (and again on a PostgreSQL database of its own), takes {} data-request \
         letters to the signature step (drafted, typed, two paraf) and times the Kepala Dinas's signature of each with an \
         unlocked key (`Workflow::decide_with_key`; the passphrase's Argon2 derivation is a separate, deliberate cost of about \
         a quarter second and is not included): the signed statement, the number from its series, the final render with \
         number, date, QR code and signature block, the PAdES signature (ECDSA P-256, incremental update), the register \
         line, the audit record and the commit, in one transaction. Three signatures before these warm the renderer. \
         The final PDF is {} bytes.\n",
        f.runs, finalise.pdf_bytes
    );
    let _ = writeln!(o, "| step | median | p90 | min | runs |");
    let _ = writeln!(o, "|---|---:|---:|---:|---:|");
    let _ = writeln!(
        o,
        "| the whole signature (statement, number, render, PDF signature, commit), SQLite | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
        f.median_ms, f.p90_ms, f.min_ms, f.runs
    );
    let _ = match &finalise.postgres {
        Some(Ok(pg)) => writeln!(
            o,
            "| the whole signature, the same steps on PostgreSQL | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
            pg.median_ms, pg.p90_ms, pg.min_ms, pg.runs
        ),
        Some(Err(why)) => writeln!(o, "| the whole signature on PostgreSQL | not measured: {why} | | | |"),
        None => Ok(()),
    };
    let _ = writeln!(
        o,
        "| the PDF signature alone (naskah, same PDF and signer) | {:.3} ms | {:.3} ms | {:.3} ms | {} |",
        sig.median_ms, sig.p90_ms, sig.min_ms, sig.runs
    );
    match &finalise.pyhanko {
        Some(py) => {
            let _ = writeln!(
                o,
                "| peer: pyHanko {} signing the same unsigned PDF (PAdES, P-256), in one process | {:.3} ms | {:.3} ms | {:.3} ms | {} |",
                finalise.pyhanko_version.as_deref().unwrap_or("?"),
                py.median_ms,
                py.p90_ms,
                py.min_ms,
                py.runs
            );
            let _ = writeln!(
                o,
                "\nnaskah's PDF signature is **{}** faster than pyHanko's on the same file.",
                super::ratio(py.median_ms, sig.median_ms)
            );
        }
        None => {
            let _ = writeln!(
                o,
                "\npyHanko not measured: {}",
                finalise.pyhanko_note.as_deref().unwrap_or("unknown reason")
            );
        }
    }
    let _ = writeln!(o);

    o
}
