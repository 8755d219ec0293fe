//! The benchmarks around a signature, each in a child process of its own
//! (`naskah-bench --only finalise|verify-page`) on a SQLite file, the embedded default:
//!
//! - **finalising** a one-page letter: the Kepala Dinas's signature with an unlocked key
//!   (statement, number, final render with QR code, PAdES signature, commit), side by
//!   side with the PDF signature alone and with pyHanko signing the same unsigned PDF;
//! - **the public verification page** and its JSON under `wrk` on loopback, against a
//!   `naskah serve` process with 10,000 signed letters stored, side by side with the same
//!   process serving its static stylesheet (the floor of the HTTP stack).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
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
    konseptor: User,
    staf: User,
    chain: Vec<(User, Unlocked)>,
    kadis: (User, Unlocked),
}

impl Service {
    pub(super) async fn open(dir: &Path, templates_dir: &Path) -> anyhow::Result<Self> {
        let database_url = format!("sqlite://{}?mode=rwc", dir.join("naskah.sqlite3").display());
        Self::open_on(templates_dir, database_url).await
    }

    /// The demo department on the (empty) database at `database_url`, its keys in it
    /// under a master key of the run's own.
    pub(super) async fn open_on(templates_dir: &Path, database_url: String) -> anyhow::Result<Self> {
        let db = Db::open(&database_url, 5).await?;
        demo::seed(&db, Some(&accounts::generate_password())).await?;
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
}

pub async fn finalise(templates_dir: &Path, letters: usize) -> anyhow::Result<FinaliseResult> {
    let scratch = Scratch::new("finalise")?;
    let service = Service::open(&scratch.0, templates_dir).await?;
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
    let last = last.context("no letter was signed")?;
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
    Ok(FinaliseResult {
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WrkRun {
    pub label: String,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyPageResult {
    pub letters: usize,
    pub connections: u32,
    pub threads: u32,
    pub seconds: u32,
    pub runs: Vec<WrkRun>,
    pub wrk_version: String,
    pub note: Option<String>,
}

/// The server under load, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn verify_page(templates_dir: &Path, letters: usize, seconds: u32) -> anyhow::Result<VerifyPageResult> {
    let wrk_version = match Command::new("wrk").arg("--version").output() {
        // "wrk debian/4.1.0-3+b2 [epoll] Copyright …": the name and version.
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => {
            return Ok(VerifyPageResult {
                letters,
                connections: 0,
                threads: 0,
                seconds,
                runs: Vec::new(),
                wrk_version: String::new(),
                note: Some("wrk is not installed (apt-get install wrk); the verification page was not measured.".into()),
            });
        }
    };
    let scratch = Scratch::new("verify")?;
    let service = Service::open(&scratch.0, templates_dir).await?;
    let letter = service.at_signature(0).await?;
    let signed = service.sign(&letter).await?;
    // The other letters are copies of the signed one (row and steps) with ids, numbers
    // and subjects of their own: what the page reads is then exactly what a real
    // signature leaves, without 10,000 renders.
    clone_signed(&service.flow.db, signed.id, letters.saturating_sub(1)).await?;
    let ids: Vec<(String,)> = sqlx::query_as("SELECT verification_id FROM letters WHERE verification_id IS NOT NULL")
        .fetch_all(&service.flow.db.pool)
        .await?;
    if ids.len() != letters {
        bail!("{} signed letters stored, {letters} wanted", ids.len());
    }
    service.flow.db.pool.close().await;

    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    drop(listener);
    // The bench binary runs the service's own command line for `serve` (see main.rs).
    let exe = std::env::current_exe()?;
    let server = Server(
        Command::new(exe)
            .args(["serve", "--listen", &address.to_string()])
            .env("NASKAH_DATABASE_URL", &service.database_url)
            .env("NASKAH_KEYS_DIR", scratch.0.join("kunci"))
            .env("NASKAH_MASTER_KEY", &service.master_key)
            .env("NASKAH_TEMPLATES_DIR", templates_dir)
            .env("NASKAH_DATA_DIR", &scratch.0)
            .env("NASKAH_LOG_LEVEL", "warn")
            // The per-address limit stays in the path but is not reached by one client.
            .env("NASKAH_PUBLIC_RATE_PER_MINUTE", "4000000000")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start naskah serve")?,
    );
    let base = format!("http://{address}");
    wait_until_ready(&format!("{base}/healthz")).await?;

    let list = scratch.0.join("ids.txt");
    std::fs::write(&list, ids.iter().map(|(id,)| format!("{id}\n")).collect::<String>())?;
    let (threads, connections) = (2, 32);
    let mut runs = Vec::new();
    for (label, suffix) in [
        ("Halaman verifikasi `/v/{id}` (HTML)", ""),
        ("Data verifikasi `/v/{id}.json`", ".json"),
    ] {
        let script = scratch.0.join(format!("ids{}.lua", suffix.replace('.', "-")));
        std::fs::write(&script, lua_script(&list, suffix))?;
        runs.push(wrk(label, &base, Some(&script), threads, connections, seconds)?);
    }
    runs.push(wrk(
        "Lembar gaya statis `/static/naskah.css` (lantai HTTP)",
        &format!("{base}/static/naskah.css"),
        None,
        threads,
        connections,
        seconds,
    )?);
    drop(server);
    Ok(VerifyPageResult {
        letters,
        connections,
        threads,
        seconds,
        runs,
        wrk_version,
        note: None,
    })
}

async fn clone_signed(db: &Db, original: i64, copies: usize) -> anyhow::Result<()> {
    const COLUMNS: &str = "department_id, template_id, document_kind, state, round, stage, revision, version, chain, created_by, \
                           created_at, updated_at, classification_code, letter_date, final_pdf, final_sha256, signed_at, qr_token, signature_certificate";
    const STEP_COLUMNS: &str = "round, stage, kind, label, assignee_user_id, assignee_role, position_id, position_title, atas_nama, \
                                standard_minutes, state, started_at, completed_at, acted_by_user, acted_by_official, acting_as, decision, note";
    let mut tx = db.begin_write().await?;
    for copy in 1..=copies {
        let (id,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO letters ({COLUMNS}, subject, number, verification_id) \
             SELECT {COLUMNS}, subject || ' (salinan ' || $2 || ')', number || '-' || $2, $3 FROM letters WHERE id = $1 RETURNING id"
        )))
        .bind(original)
        .bind(copy as i64)
        .bind(hex::encode(rand::random::<[u8; 16]>()))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO letter_steps (letter_id, {STEP_COLUMNS}) SELECT $1, {STEP_COLUMNS} FROM letter_steps WHERE letter_id = $2"
        )))
        .bind(id)
        .bind(original)
        .execute(&mut *tx)
        .await?;
        // The public record reads the signed revision's fields (a NIK in them keeps the
        // PDF staff-only); its draft PDF is never read there, so the copies go without.
        sqlx::query(
            "INSERT INTO letter_revisions (letter_id, number, data, data_sha256, pdf, pdf_sha256, author_id, note, created_at) \
             SELECT $1, number, data, data_sha256, X'', pdf_sha256, author_id, note, created_at FROM letter_revisions WHERE letter_id = $2",
        )
        .bind(id)
        .bind(original)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn wait_until_ready(url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let address = url.trim_start_matches("http://").split('/').next().unwrap_or_default().to_string();
    while Instant::now() < deadline {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(&address).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
            let mut reply = Vec::new();
            if stream.write_all(request.as_bytes()).await.is_ok()
                && stream.read_to_end(&mut reply).await.is_ok()
                && reply.starts_with(b"HTTP/1.1 200")
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("naskah serve did not answer {url} within a minute")
}

/// A wrk script that walks through the stored verification ids, each thread from its
/// own offset, so that the load spreads over all 10,000 letters.
fn lua_script(list: &Path, suffix: &str) -> String {
    format!(
        "local ids = {{}}\n\
         for line in io.lines(\"{}\") do ids[#ids + 1] = line end\n\
         local counter = 0\n\
         function setup(thread) counter = counter + 1; thread:set(\"offset\", counter * 997) end\n\
         function init(args) position = offset or 0 end\n\
         function request()\n\
           position = position + 1\n\
           return wrk.format(\"GET\", \"/v/\" .. ids[(position % #ids) + 1] .. \"{suffix}\")\n\
         end\n",
        list.display()
    )
}

fn wrk(label: &str, url: &str, script: Option<&Path>, threads: u32, connections: u32, seconds: u32) -> anyhow::Result<WrkRun> {
    let mut command = Command::new("wrk");
    command.args([
        format!("-t{threads}"),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
        "--latency".into(),
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        bail!("wrk failed: {}{}", text, String::from_utf8_lossy(&output.stderr));
    }
    parse_wrk(label, &text).with_context(|| format!("cannot read wrk's report: {text}"))
}

fn parse_wrk(label: &str, text: &str) -> Option<WrkRun> {
    let value_after = |prefix: &str| -> Option<&str> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l[prefix.len()..].split_whitespace().next())
    };
    let duration_ms = |v: &str| -> Option<f64> {
        let (number, factor) = if let Some(n) = v.strip_suffix("us") {
            (n, 0.001)
        } else if let Some(n) = v.strip_suffix("ms") {
            (n, 1.0)
        } else if let Some(n) = v.strip_suffix('s') {
            (n, 1000.0)
        } else {
            (v, 1.0)
        };
        number.parse::<f64>().ok().map(|n| n * factor)
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())?;
    let errors = text
        .lines()
        .find(|l| l.trim().starts_with("Non-2xx or 3xx responses:"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
        + text
            .lines()
            .find(|l| l.trim().starts_with("Socket errors:"))
            .map(|l| {
                l.split(',')
                    .filter_map(|part| part.split_whitespace().last().and_then(|n| n.parse::<u64>().ok()))
                    .sum::<u64>()
            })
            .unwrap_or(0);
    Some(WrkRun {
        label: label.into(),
        requests_per_second: value_after("Requests/sec:")?.parse().ok()?,
        p50_ms: duration_ms(value_after("50%")?)?,
        p99_ms: duration_ms(value_after("99%")?)?,
        requests,
        errors,
    })
}

/// The child process's work, printed as one JSON line for the parent.
pub fn child(only: &str, templates_dir: &Path, quick: bool) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let templates_dir = templates_dir.to_path_buf();
    let only = only.to_string();
    // A thread of its own: the caller may already be inside a runtime.
    std::thread::spawn(move || {
        runtime.block_on(async move {
            match only.as_str() {
                "finalise" => Ok(serde_json::to_string(
                    &finalise(&templates_dir, if quick { 10 } else { 40 }).await?,
                )?),
                _ => Ok(serde_json::to_string(
                    &verify_page(&templates_dir, if quick { 1_000 } else { 10_000 }, if quick { 3 } else { 10 }).await?,
                )?),
            }
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the {} benchmark panicked", "service"))?
}

/// The targets for these two benchmarks.
const TARGET_FINALISE_MS: f64 = 50.0;
const TARGET_VERIFY_RPS: f64 = 5_000.0;
const TARGET_VERIFY_P99_MS: f64 = 20.0;

/// Rows of the report's target table.
pub(super) fn target_rows(finalise: &FinaliseResult, verify: &VerifyPageResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let f = finalise.finalise.median_ms;
    let _ = writeln!(
        o,
        "| finalising a one-page letter (number, render, PDF signature, commit): ≤ {TARGET_FINALISE_MS} ms median | {f:.1} ms | {} |",
        super::yes(f <= TARGET_FINALISE_MS)
    );
    if verify.runs.is_empty() {
        let _ = writeln!(
            o,
            "| verification page: ≥ {TARGET_VERIFY_RPS} requests/s, p99 ≤ {TARGET_VERIFY_P99_MS} ms | not measured | — |"
        );
    }
    for run in verify.runs.iter().filter(|r| r.label.contains("/v/")) {
        let met = run.requests_per_second >= TARGET_VERIFY_RPS && run.p99_ms <= TARGET_VERIFY_P99_MS && run.errors == 0;
        let _ = writeln!(
            o,
            "| {} with {} letters stored: ≥ {TARGET_VERIFY_RPS:.0} requests/s, p99 ≤ {TARGET_VERIFY_P99_MS} ms | {:.0} req/s, p99 {:.2} ms | {} |",
            run.label,
            verify.letters,
            run.requests_per_second,
            run.p99_ms,
            super::yes(met)
        );
    }
    o
}

/// Sections 5 and 6 of the report.
pub(super) fn sections(finalise: &FinaliseResult, verify: &VerifyPageResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let f = &finalise.finalise;
    let sig = &finalise.pdf_signature;
    let _ = writeln!(o, "## 5. Finalising a letter at signature\n");
    let _ = writeln!(
        o,
        "A child process (`naskah-bench --only finalise`) seeds the demo department on a SQLite file, takes {} data-request \
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
        "| the whole signature (statement, number, render, PDF signature, commit) | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
        f.median_ms, f.p90_ms, f.min_ms, f.runs
    );
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

    let _ = writeln!(o, "## 6. The public verification page\n");
    match &verify.note {
        Some(note) => {
            let _ = writeln!(o, "{note}\n");
        }
        None => {
            let _ = writeln!(
                o,
                "A child process (`naskah-bench --only verify-page`) stores {} signed letters in a SQLite file (one signed \
                 through the chain, the others copies of its rows with their own ids, numbers and subjects), starts \
                 `naskah serve` on it and loads it with {} (`-t{} -c{} -d{}s --latency`) on loopback, both on this \
                 machine's cores. A Lua script walks through all the stored ids, each wrk thread from its own offset. \
                 The per-address limit of the public pages stays in the path, set high enough for one client. Each \
                 letter's public record is built on its first request (four queries) and then served from the \
                 process's record cache, which every request checks against the letter row (one query, the same as for \
                 an unknown id), so revocation shows at once; in 10 s each letter is asked for about ten times. The \
                 service's static stylesheet, served by the same process, is the floor of its HTTP stack.\n",
                verify.letters, verify.wrk_version, verify.threads, verify.connections, verify.seconds
            );
            let _ = writeln!(
                o,
                "| address | requests/s | p50 | p99 | requests | errors | share of the static floor |"
            );
            let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
            let floor = verify.runs.iter().find(|r| !r.label.contains("/v/")).map(|r| r.requests_per_second);
            for run in &verify.runs {
                let share = floor
                    .map(|f| format!("{:.0} %", run.requests_per_second / f * 100.0))
                    .unwrap_or_else(|| "—".into());
                let _ = writeln!(
                    o,
                    "| {} | {:.0} | {:.2} ms | {:.2} ms | {} | {} | {share} |",
                    run.label, run.requests_per_second, run.p50_ms, run.p99_ms, run.requests, run.errors
                );
            }
            let _ = writeln!(o);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read() {
        let report = "Running 10s test @ http://127.0.0.1:8080/\n  2 threads and 32 connections\n  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     4.10ms    2.00ms  30.00ms   80.00%\n  Latency Distribution\n     50%    3.50ms\n     75%    4.80ms\n     90%    6.20ms\n     99%   12.40ms\n  75000 requests in 10.00s, 120.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 4\nRequests/sec:   7500.12\nTransfer/sec:     12.00MB\n";
        let run = parse_wrk("x", report).unwrap();
        assert_eq!(run.requests, 75000);
        assert!((run.requests_per_second - 7500.12).abs() < 1e-6);
        assert!((run.p50_ms - 3.5).abs() < 1e-9 && (run.p99_ms - 12.4).abs() < 1e-9);
        assert_eq!(run.errors, 7);
        assert!(
            parse_wrk("x", "   50%  800.00us\n   99%  1.20s\n10 requests in 1s\nRequests/sec: 10\n")
                .is_some_and(|r| (r.p50_ms - 0.8).abs() < 1e-9 && (r.p99_ms - 1200.0).abs() < 1e-9)
        );
    }
}
