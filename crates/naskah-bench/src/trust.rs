//! The benchmarks of a letter's long-term proof and of the public file check, each in a
//! child process of its own (`naskah-bench --only longterm|upload-check`), on SQLite and,
//! when a PostgreSQL server answers, on PostgreSQL too:
//!
//! - **finalising at B-LT with a local TSA**: the Kepala Dinas's signature (as in
//!   `finalise`) and then the durable job's pass that adds the RFC 3161 signature
//!   timestamp from a real TSA (`openssl ts -reply` behind `tests/tools/tsa_server.py`)
//!   and the validation data (certificates and CRLs in a DSS). The time spent inside the
//!   TSA's HTTP round trip is measured apart. Peer: pyHanko signing the same unsigned PDF
//!   at B-LT with the same TSA (`benches/pyhanko_blt.py`).
//! - **the public check of an uploaded 10-page signed PDF**: what `POST /v/{id}/periksa`
//!   does with the file (record, official file, stored public copy and the department's
//!   roots read from the database, then `compare_upload`). Peer: pyHanko validating the
//!   same file with the department's root trusted (`benches/pyhanko_validate.py`).

use std::{
    io::BufRead,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Timings, ms,
    service::{Scratch, Service},
};
use crate::{
    keys::authority,
    signing::timestamp::{Authority, HttpAuthority, TimestampError, Token},
    verification, workflow,
};

/// The targets.
const TARGET_LONG_TERM_MS: f64 = 50.0;
const TARGET_UPLOAD_CHECK_MS: f64 = 50.0;
const UPLOAD_PAGES: usize = 10;

/// A TSA that adds up the time spent waiting for the real one.
struct TimedAuthority {
    inner: HttpAuthority,
    spent: Mutex<Duration>,
}

impl TimedAuthority {
    fn take(&self) -> Duration {
        std::mem::take(&mut *self.spent.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Authority for TimedAuthority {
    fn stamp(&self, digest: &[u8; 32]) -> Result<Token, TimestampError> {
        let started = Instant::now();
        let token = self.inner.stamp(digest);
        *self.spent.lock().unwrap_or_else(|e| e.into_inner()) += started.elapsed();
        token
    }
}

/// The local TSA (`tests/tools/tsa_server.py`), stopped when dropped.
struct LocalTsa {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl LocalTsa {
    fn start(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let script = crate::repository().join("tests/tools/tsa_server.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir)
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("{} cannot start (python3 with cryptography, and openssl)", script.display()))?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
        let port = line
            .trim()
            .parse()
            .with_context(|| format!("the local TSA did not start: {line:?}"))?;
        Ok(LocalTsa {
            child,
            port,
            dir: dir.to_path_buf(),
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for LocalTsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A peer's timings, or why there are none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Peer {
    pub timings: Option<Timings>,
    pub version: Option<String>,
    pub note: Option<String>,
}

/// Runs a peer script of `benches/` with the peers' venv (else `python3`); it prints
/// `{"ms": [...]}`.
fn python_peer(script: &str, args: &[String]) -> Peer {
    let python = super::peers::python().unwrap_or_else(|| PathBuf::from("python3"));
    let Some(version) = super::peers::module_version(&python, "pyhanko") else {
        return Peer {
            note: Some("pyHanko is not installed (benches/peers.sh); skipped.".into()),
            ..Peer::default()
        };
    };
    let path = crate::repository().join("benches").join(script);
    let output = Command::new(&python).arg(&path).args(args).stderr(Stdio::piped()).output();
    let failed = |note: String| Peer {
        timings: None,
        version: Some(version.clone()),
        note: Some(note),
    };
    match output {
        Ok(out) if out.status.success() => {
            let ms = serde_json::from_slice::<Value>(&out.stdout)
                .ok()
                .and_then(|v| v["ms"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect::<Vec<_>>()));
            match ms {
                Some(ms) if !ms.is_empty() => Peer {
                    timings: Some(Timings::from_ms(ms)),
                    version: Some(version),
                    note: None,
                },
                _ => failed("pyHanko printed no timings; skipped.".into()),
            }
        }
        Ok(out) => failed(format!(
            "pyHanko failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
        )),
        Err(e) => failed(format!("pyHanko could not run: {e}")),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LongTermRun {
    pub engine: String,
    /// The signature and the B-LT pass, per letter.
    pub total: Timings,
    /// The same without the time spent waiting for the TSA.
    pub own: Timings,
    /// Inside the TSA's HTTP round trip.
    pub tsa: Timings,
    /// The signature alone (the B-B part, in its transaction).
    pub signature: Timings,
    pub pdf_bytes: usize,
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LongTermResult {
    pub runs: Vec<LongTermRun>,
    /// pyHanko signing the same unsigned PDF at B-LT with the same TSA.
    pub pyhanko: Peer,
}

pub async fn long_term(templates_dir: &Path, letters: usize) -> anyhow::Result<LongTermResult> {
    let scratch = Scratch::new("longterm")?;
    let tsa = LocalTsa::start(&scratch.0.join("tsa"))?;
    let mut runs = Vec::new();
    let mut unsigned = Vec::new();
    for engine in super::engines::engines(&scratch.0, "longterm").await {
        let run = long_term_on(templates_dir, &engine, &tsa, letters).await;
        super::engines::drop_database(&engine).await;
        let (run, pdf) = run?;
        unsigned = pdf;
        runs.push(run);
    }
    let pdf_path = scratch.0.join("unsigned.pdf");
    std::fs::write(&pdf_path, &unsigned)?;
    let pyhanko = python_peer(
        "pyhanko_blt.py",
        &[
            pdf_path.display().to_string(),
            tsa.url(),
            tsa.dir.join("ca.crt").display().to_string(),
            letters.to_string(),
        ],
    );
    Ok(LongTermResult { runs, pyhanko })
}

async fn long_term_on(
    templates_dir: &Path,
    engine: &super::engines::Engine,
    tsa: &LocalTsa,
    letters: usize,
) -> anyhow::Result<(LongTermRun, Vec<u8>)> {
    let mut service = Service::open_on(templates_dir, engine.url.clone()).await?;
    service.flow.timestamping = true;
    let timed = Arc::new(TimedAuthority {
        inner: HttpAuthority::new(&tsa.url(), Duration::from_secs(30)).map_err(anyhow::Error::msg)?,
        spent: Mutex::default(),
    });
    let augmenter = workflow::longterm::Augmenter::new(service.flow.db.clone(), service.flow.keys.clone(), timed.clone(), 1);
    let warm_up = 3;
    let mut waiting = Vec::new();
    for serial in 0..letters + warm_up {
        waiting.push(service.at_signature(serial).await?);
    }
    let (mut total, mut own, mut in_tsa, mut signature) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for (index, letter) in waiting.iter().enumerate() {
        timed.take();
        let started = Instant::now();
        let signed = service.sign(letter).await?;
        let signed_after = started.elapsed();
        let pass = augmenter.run_once().await?;
        let whole = started.elapsed();
        if pass.completed != 1 {
            bail!("the B-LT pass did not complete the letter: {pass:?}");
        }
        let waited = timed.take();
        if index >= warm_up {
            total.push(ms(whole));
            own.push(ms(whole.saturating_sub(waited)));
            in_tsa.push(ms(waited));
            signature.push(ms(signed_after));
        }
        last = Some(signed);
    }
    let last = last.context("no letter was signed")?;
    let pdf = workflow::final_pdf(&service.flow.db, last.id)
        .await?
        .context("no final PDF stored")?;
    let level = workflow::longterm::of_letter(&service.flow.db, last.id)
        .await?
        .map(|a| a.reached().label().to_string())
        .unwrap_or_default();
    // The bytes Typst wrote, for the peer.
    let unsigned = super::service::unsigned_part(&pdf).to_vec();
    service.flow.db.pool.close().await;
    Ok((
        LongTermRun {
            engine: engine.label.into(),
            total: Timings::from_ms(total),
            own: Timings::from_ms(own),
            tsa: Timings::from_ms(in_tsa),
            signature: Timings::from_ms(signature),
            pdf_bytes: pdf.len(),
            level,
        },
        unsigned,
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadCheckRun {
    pub engine: String,
    pub check: Timings,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadCheckResult {
    pub runs: Vec<UploadCheckRun>,
    pub pages: usize,
    pub rows: usize,
    pub pdf_bytes: usize,
    pub signatures: usize,
    /// pyHanko validating the same file, warm in one process.
    pub pyhanko: Peer,
}

/// An SK with `rows` beneficiaries (the example's rows repeated with their own NIKs).
fn sk_data(example: &Value, rows: usize) -> Value {
    let mut data = example.clone();
    let people = example["penerima"].as_array().cloned().unwrap_or_default();
    let listed: Vec<Value> = (0..rows)
        .map(|i| {
            let mut person = people[i % people.len().max(1)].clone();
            let nik = person["nik"].as_str().unwrap_or("6409014205668780").to_string();
            person["nik"] = Value::String(format!("{}{:04}", &nik[..12], i % 10_000));
            person
        })
        .collect();
    data["penerima"] = Value::Array(listed);
    data
}

fn pages_of(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf).map(|d| d.get_pages().len()).unwrap_or(0)
}

pub async fn upload_check(templates_dir: &Path, runs: usize) -> anyhow::Result<UploadCheckResult> {
    let scratch = Scratch::new("upload-check")?;
    let tsa = LocalTsa::start(&scratch.0.join("tsa"))?;
    let mut results = Vec::new();
    let mut file = (Vec::new(), 0, Vec::new());
    for engine in super::engines::engines(&scratch.0, "upload").await {
        let run = upload_check_on(templates_dir, &engine, &tsa, runs).await;
        super::engines::drop_database(&engine).await;
        let (run, pdf, rows, root) = run?;
        file = (pdf, rows, root);
        results.push(run);
    }
    let (pdf, rows, root) = file;
    let pdf_path = scratch.0.join("sk-10-halaman.pdf");
    let root_path = scratch.0.join("akar.der");
    std::fs::write(&pdf_path, &pdf)?;
    std::fs::write(&root_path, &root)?;
    let signatures = crate::signing::pades::inspect(&pdf, std::slice::from_ref(&root)).len();
    let pyhanko = python_peer(
        "pyhanko_validate.py",
        &[pdf_path.display().to_string(), root_path.display().to_string(), runs.to_string()],
    );
    Ok(UploadCheckResult {
        runs: results,
        pages: pages_of(&pdf),
        rows,
        pdf_bytes: pdf.len(),
        signatures,
        pyhanko,
    })
}

async fn upload_check_on(
    templates_dir: &Path,
    engine: &super::engines::Engine,
    tsa: &LocalTsa,
    runs: usize,
) -> anyhow::Result<(UploadCheckRun, Vec<u8>, usize, Vec<u8>)> {
    let mut service = Service::open_on(templates_dir, engine.url.clone()).await?;
    service.flow.timestamping = true;
    let example: Value = serde_json::from_slice(
        service
            .flow
            .renderer
            .file("/sk-penerima-bantuan-iuran/contoh.json")
            .context("the SK's contoh.json is missing")?,
    )?;
    // Rows for ten pages: measured on drafts, then corrected in proportion.
    let mut rows = 200;
    let mut letter = None;
    for _ in 0..6 {
        let drafted = service
            .drafted_to_signature("sk-penerima-bantuan-iuran", &sk_data(&example, rows))
            .await?;
        let draft = workflow::revision(&service.flow.db, drafted.id, drafted.revision).await?;
        let pages = pages_of(&draft.pdf);
        if pages == UPLOAD_PAGES {
            letter = Some(drafted);
            break;
        }
        if pages == 0 {
            bail!("the SK draft has no pages");
        }
        let estimate = rows * UPLOAD_PAGES / pages;
        rows = match estimate.cmp(&rows) {
            std::cmp::Ordering::Equal if pages > UPLOAD_PAGES => rows - 3,
            std::cmp::Ordering::Equal => rows + 3,
            _ => estimate,
        };
    }
    let letter = letter.with_context(|| format!("no SK of {UPLOAD_PAGES} pages found near {rows} rows"))?;
    let signed = service.sign(&letter).await?;
    let augmenter = workflow::longterm::Augmenter::new(
        service.flow.db.clone(),
        service.flow.keys.clone(),
        Arc::new(HttpAuthority::new(&tsa.url(), Duration::from_secs(30)).map_err(anyhow::Error::msg)?),
        1,
    );
    augmenter.run_once().await?;
    let db = &service.flow.db;
    let id = signed.verification_id.clone().context("no verification id")?;
    let uploaded = workflow::final_pdf(db, signed.id).await?.context("no final PDF")?;
    let root = authority::current(db, signed.department_id).await?.context("no root")?.certificate;
    let mut times = Vec::new();
    let mut verdict = String::new();
    for _ in 0..runs + 3 {
        let started = Instant::now();
        // What the page's handler does with an upload, after reading the multipart body.
        let record = verification::lookup(db, &service.flow.catalogue, None, &id)
            .await?
            .context("no public record")?;
        let roots: Vec<Vec<u8>> = authority::all(db, record.department_id)
            .await?
            .into_iter()
            .map(|a| a.certificate)
            .collect();
        let official = workflow::final_pdf(db, record.letter_id).await?.context("no final PDF")?;
        let copy = workflow::public_copy::stored(db, record.letter_id).await?.map(|c| c.pdf);
        let bytes = uploaded.clone();
        let check =
            tokio::task::spawn_blocking(move || verification::compare_upload(&record, &bytes, &official, copy.as_deref(), &roots)).await?;
        times.push(ms(started.elapsed()));
        verdict = check.explanation();
    }
    times.drain(..3);
    let rows_used = sk_rows(&workflow::revision(db, signed.id, signed.revision).await?.fields());
    service.flow.db.pool.close().await;
    Ok((
        UploadCheckRun {
            engine: engine.label.into(),
            check: Timings::from_ms(times),
            verdict,
        },
        uploaded,
        rows_used,
        root,
    ))
}

fn sk_rows(fields: &Value) -> usize {
    fields["penerima"].as_array().map_or(0, Vec::len)
}

/// The child process's work, printed as one JSON line for the parent.
pub fn child(only: &str, templates_dir: &Path, quick: bool) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let templates_dir = templates_dir.to_path_buf();
    let only = only.to_string();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            match only.as_str() {
                "longterm" => Ok(serde_json::to_string(
                    &long_term(&templates_dir, if quick { 5 } else { 30 }).await?,
                )?),
                _ => Ok(serde_json::to_string(
                    &upload_check(&templates_dir, if quick { 5 } else { 30 }).await?,
                )?),
            }
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the {} benchmark panicked", "trust"))?
}

fn yes(met: bool) -> &'static str {
    if met { "**yes**" } else { "**no**" }
}

/// The target rows for the table at the top.
pub(super) fn target_rows(long_term: &LongTermResult, upload: &UploadCheckResult) -> String {
    let mut o = String::new();
    for run in &long_term.runs {
        o.push_str(&format!(
            "| finalising a one-page letter at {} with a local TSA ({}): ≤ {TARGET_LONG_TERM_MS:.0} ms median without the TSA's own time | {:.1} ms (TSA {:.1} ms apart; {:.1} ms in all) | {} |\n",
            run.level,
            run.engine,
            run.own.median_ms,
            run.tsa.median_ms,
            run.total.median_ms,
            yes(run.own.median_ms <= TARGET_LONG_TERM_MS)
        ));
    }
    for run in &upload.runs {
        o.push_str(&format!(
            "| public check of an uploaded {}-page signed PDF ({}): ≤ {TARGET_UPLOAD_CHECK_MS:.0} ms median | {:.1} ms | {} |\n",
            upload.pages,
            run.engine,
            run.check.median_ms,
            yes(run.check.median_ms <= TARGET_UPLOAD_CHECK_MS)
        ));
    }
    o
}

fn peer_row(label: &str, peer: &Peer, ours: f64) -> String {
    match &peer.timings {
        Some(t) => format!(
            "| {label} {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.1}× |\n",
            peer.version.as_deref().unwrap_or("?"),
            t.runs,
            t.median_ms,
            t.p90_ms,
            t.min_ms,
            t.median_ms / ours.max(f64::EPSILON)
        ),
        None => format!("| {label} | – | – | – | – | {} |\n", peer.note.as_deref().unwrap_or("not measured")),
    }
}

fn timing_row(label: &str, t: &Timings, reference: f64) -> String {
    format!(
        "| {label} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.1}× |\n",
        t.runs,
        t.median_ms,
        t.p90_ms,
        t.min_ms,
        t.median_ms / reference.max(f64::EPSILON)
    )
}

/// The two sections of BENCHMARKS.md.
pub(super) fn sections(long_term: &LongTermResult, upload: &UploadCheckResult, first: usize) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "## {first}. Finalising a letter at B-LT with a local timestamp authority\n\n"
    ));
    o.push_str(
        "A child process (`naskah-bench --only longterm`) seeds the demo department, takes data-request letters to the \
         signature step and times, per letter, the Kepala Dinas's signature (as in section 5) and then one pass of the \
         durable long-term job (`longterm::Augmenter::run_once`): the RFC 3161 signature timestamp from a real TSA on \
         loopback (`openssl ts -reply` behind `tests/tools/tsa_server.py`, one `openssl` process per request), the \
         certificates and CRLs in a DSS (the department's CRL from the database, the TSA's fetched from its \
         distribution point on the same server) and the store. The time inside the TSA's HTTP round trip is measured \
         by a wrapper around the TSA client and shown apart; \"naskah's own\" is the rest. The peer, \
         `benches/pyhanko_blt.py`, signs the same unsigned PDF at B-LT in one warm process with the same TSA \
         (`HTTPTimeStamper`, `embed_validation_info`, fetching the TSA's CRL) and a key of its own; its time includes \
         the TSA's.\n\n",
    );
    o.push_str("| engine | what | runs | median | p90 | min | vs naskah in all |\n|---|---|---:|---:|---:|---:|---:|\n");
    for run in &long_term.runs {
        let reference = run.total.median_ms;
        o.push_str(&format!(
            "| {} | {}",
            run.engine,
            &timing_row("signature + B-LT, in all", &run.total, reference)[2..]
        ));
        o.push_str(&format!(
            "| {} | {}",
            run.engine,
            &timing_row("naskah's own (without the TSA)", &run.own, reference)[2..]
        ));
        o.push_str(&format!(
            "| {} | {}",
            run.engine,
            &timing_row("the TSA's round trip", &run.tsa, reference)[2..]
        ));
        o.push_str(&format!(
            "| {} | {}",
            run.engine,
            &timing_row("the signature alone (B-B, its transaction)", &run.signature, reference)[2..]
        ));
    }
    if let Some(sqlite) = long_term.runs.first() {
        o.push_str(&format!(
            "| – | {}",
            &peer_row("peer: pyHanko", &long_term.pyhanko, sqlite.total.median_ms)[2..]
        ));
        o.push_str(&format!(
            "\nThe letters reach {} (final PDF {} bytes). ",
            sqlite.level, sqlite.pdf_bytes
        ));
        if let Some(peer) = &long_term.pyhanko.timings {
            o.push_str(&format!(
                "pyHanko takes **{:.1}×** naskah's time in all for the same file and TSA.\n\n",
                peer.median_ms / sqlite.total.median_ms.max(f64::EPSILON)
            ));
        } else {
            o.push_str("\n\n");
        }
    }

    o.push_str(&format!("## {}. The public check of an uploaded signed PDF\n\n", first + 1));
    o.push_str(&format!(
        "A child process (`naskah-bench --only upload-check`) signs an SK of {} beneficiaries ({} pages, {} bytes, {} \
         embedded signature(s) after the B-LT pass, with the local TSA above) and times what `POST /v/{{id}}/periksa` does \
         with the uploaded file once it is read: the public record, the department's roots, the official PDF and the \
         stored public copy from the database, then `compare_upload` (SHA-256, the embedded signatures checked against \
         the roots, the signed revision compared with the official one, every later revision judged with lopdf). The \
         peer, `benches/pyhanko_validate.py`, validates the same file in one warm process with the department's root \
         trusted (`validate_pdf_signature` for every embedded signature, revocation checking off, as naskah does not \
         fetch either).\n\n",
        upload.rows, upload.pages, upload.pdf_bytes, upload.signatures
    ));
    o.push_str("| engine | what | runs | median | p90 | min | vs naskah |\n|---|---|---:|---:|---:|---:|---:|\n");
    for run in &upload.runs {
        o.push_str(&format!(
            "| {} | {}",
            run.engine,
            &timing_row("naskah's check", &run.check, run.check.median_ms)[2..]
        ));
    }
    if let Some(sqlite) = upload.runs.first() {
        o.push_str(&format!(
            "| – | {}",
            &peer_row("peer: pyHanko", &upload.pyhanko, sqlite.check.median_ms)[2..]
        ));
        o.push_str(&format!("\nnaskah's verdict on the file: \"{}\"\n\n", sqlite.verdict));
    }
    o
}
