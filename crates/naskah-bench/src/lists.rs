//! Ten times the data (`naskah-bench --only lists-ENGINE`): a department with 100,000
//! signed letters (each with its register line and three deliveries), 10,000 letters
//! waiting on the Kepala Dinas's signature and 1,000,000 candidates, on SQLite or
//! PostgreSQL. Every list a member of staff opens is timed through the real router
//! (session, CSRF cookie, page rendering), and the exports are read to the end while the
//! process's resident memory is watched.

use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use axum::{Router, body::Body, http::Request};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

use super::{
    Timings, engines, import,
    measure::proc_status_kib,
    service::{Scratch, Service},
    verify::clone_letters,
};
use crate::db::Db;

/// The growth target: every page of a list within this many milliseconds.
const TARGET_PAGE_MS: f64 = 100.0;
/// An export streams when the process grows by less than this while sending it.
const TARGET_EXPORT_GROWTH_MIB: f64 = 64.0;

/// How much data a run stores.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Scale {
    pub signed: usize,
    pub pending: usize,
    pub candidates: usize,
}

impl Scale {
    pub(crate) fn new(quick: bool) -> Scale {
        if quick {
            Scale {
                signed: 10_000,
                pending: 1_000,
                candidates: 100_000,
            }
        } else {
            Scale {
                signed: 100_000,
                pending: 10_000,
                candidates: 1_000_000,
            }
        }
    }
}

/// One page, requested `runs` times in turn.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PageRun {
    pub label: String,
    pub path: String,
    pub timings: Timings,
    pub max_ms: f64,
    /// The size of the answer.
    pub bytes: usize,
    /// Why the page could not be measured.
    pub error: Option<String>,
}

/// One export read to the end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExportRun {
    pub label: String,
    pub path: String,
    pub lines: usize,
    pub bytes: usize,
    pub seconds: f64,
    /// The resident set before the request and its highest value while the answer arrived.
    pub before_mib: f64,
    pub peak_mib: f64,
    /// Why the export could not be measured.
    pub error: Option<String>,
}

impl ExportRun {
    pub(crate) fn growth_mib(&self) -> f64 {
        (self.peak_mib - self.before_mib).max(0.0)
    }
}

/// One engine's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ListsRun {
    pub engine: String,
    pub scale: Scale,
    /// What the database holds, counted after seeding.
    pub stored: BTreeMap<String, i64>,
    pub seed_seconds: f64,
    pub pages: Vec<PageRun>,
    pub exports: Vec<ExportRun>,
}

/// The child's work for `--only lists-ENGINE`, printed as one JSON line.
pub fn child(engine: &str, templates_dir: &Path, quick: bool) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let run = runtime.block_on(lists_on(engine, templates_dir, Scale::new(quick)))?;
    Ok(serde_json::to_string(&run)?)
}

async fn lists_on(engine_name: &str, templates_dir: &Path, scale: Scale) -> anyhow::Result<ListsRun> {
    let scratch = Scratch::new(&format!("lists-{engine_name}"))?;
    let engines = engines::engines(&scratch.0, "lists").await;
    let wanted = if engine_name == "postgres" { "PostgreSQL" } else { "SQLite" };
    let engine = engines
        .iter()
        .find(|e| e.label == wanted)
        .with_context(|| format!("{wanted} is not reachable (NASKAH_BENCH_POSTGRES_URL)"))?;
    let result = measure(engine, &scratch, templates_dir, scale).await;
    for other in &engines {
        engines::drop_database(other).await;
    }
    result
}

async fn measure(engine: &engines::Engine, scratch: &Scratch, templates_dir: &Path, scale: Scale) -> anyhow::Result<ListsRun> {
    let postgres = engine.label == "PostgreSQL";
    let started = Instant::now();
    let service = Service::open_on(templates_dir, engine.url.clone()).await?;
    let db = service.flow.db.clone();
    let signed = service.sign(&service.at_signature(0).await?).await?;
    clone_letters(&db, signed.id, scale.signed - 1, postgres, false).await?;
    eprintln!("  {}: {} signed letters stored", engine.label, scale.signed);
    copy_register_lines(&db, signed.id).await?;
    add_deliveries(&db).await?;
    let pending = service.at_signature(1).await?;
    clone_letters(&db, pending.id, scale.pending - 1, postgres, false).await?;
    import::import_synthetic(&db, scale.candidates).await?;
    // Half of them confirmed by their village, waiting for the BPJS check.
    sqlx::query("UPDATE candidates SET status = 'dikonfirmasi' WHERE id % 2 = 0")
        .execute(&db.pool)
        .await?;
    // As the import keeps them, the figures of the statuses.
    sqlx::query("DELETE FROM candidate_counts").execute(&db.pool).await?;
    sqlx::query(
        "INSERT INTO candidate_counts (department_id, status, count) \
         SELECT department_id, status, COUNT(*) FROM candidates GROUP BY department_id, status",
    )
    .execute(&db.pool)
    .await?;
    if postgres {
        // As after any bulk load: the planner's statistics and the visibility map.
        sqlx::query("VACUUM ANALYZE").execute(&db.pool).await?;
    }
    let stored = count_stored(&db).await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    eprintln!("  {}: seeded in {seed_seconds:.0} s: {stored:?}", engine.label);

    let config = naskah::config::Config {
        keys_dir: scratch.0.join("kunci"),
        data_dir: scratch.0.clone(),
        templates_dir: templates_dir.to_path_buf(),
        master_key: naskah::config::Secret::new(service.master_key()),
        ..naskah::config::Config::default()
    };
    let state = naskah::web::AppState::new(db.clone(), config)?;
    let router = naskah::web::router(state);
    // The Kepala Dinas (his letters to sign, the candidates), the agendaris (the
    // register, the distribution) and the Kepala Bidang (the BPJS check).
    const KADIS: usize = 0;
    const AGENDARIS: usize = 1;
    const KABID: usize = 2;
    let mut browsers = [
        Browser::login(&router, "kadis", &service.password).await?,
        Browser::login(&router, "agendaris", &service.password).await?,
        Browser::login(&router, "kabid", &service.password).await?,
    ];

    // A village and a name that the synthetic file holds.
    let (village, name): (String, String) = sqlx::query_as("SELECT region_code, name FROM candidates ORDER BY id LIMIT 1 OFFSET 4242")
        .fetch_one(&db.pool)
        .await?;
    let first_name = name.split_whitespace().next().unwrap_or_default().to_string();
    let last_register_page = scale.signed.div_ceil(100);
    let last_candidate_page = (stored["candidates"] as usize).div_ceil(100);
    let mut pages = Vec::new();
    for (browser, label, path) in [
        (KADIS, "Tugas saya, first page (Kepala Dinas)", "/".to_string()),
        (KADIS, "Tugas saya, last page", format!("/?halaman={}", scale.pending.div_ceil(50))),
        (AGENDARIS, "Agenda surat keluar (register), first page", "/agenda".to_string()),
        (AGENDARIS, "Agenda, last page", format!("/agenda?halaman={last_register_page}")),
        (AGENDARIS, "Agenda, search for a subject", "/agenda?cari=salinan+4242".to_string()),
        (AGENDARIS, "Distribusi, first page", "/distribusi".to_string()),
        (
            AGENDARIS,
            "Distribusi with completed letters, last page",
            format!("/distribusi?semua=1&halaman={}", scale.signed.div_ceil(50)),
        ),
        (KADIS, "Surat (all letters), first page", "/surat".to_string()),
        (KADIS, "Calon penerima, first page", "/calon".to_string()),
        (KADIS, "Calon penerima, last page", format!("/calon?halaman={last_candidate_page}")),
        (KADIS, "Calon penerima, one village", format!("/calon?wilayah={village}")),
        (KADIS, "Calon penerima, search for a name", format!("/calon?cari={first_name}")),
        (
            KADIS,
            "Calon penerima, confirmed ones, page 100",
            "/calon?status=dikonfirmasi&halaman=100".to_string(),
        ),
    ] {
        let page = time_page(&mut browsers[browser], label, &path).await.unwrap_or_else(|e| PageRun {
            label: label.to_string(),
            path: path.clone(),
            timings: Timings::default(),
            max_ms: 0.0,
            bytes: 0,
            error: Some(format!("{e:#}")),
        });
        match &page.error {
            None => eprintln!(
                "    {label}: median {:.1} ms, max {:.1} ms, {} KiB",
                page.timings.median_ms,
                page.max_ms,
                page.bytes / 1024
            ),
            Some(e) => eprintln!("    {label}: not measured: {e}"),
        }
        pages.push(page);
    }
    let mut exports = Vec::new();
    for (browser, label, path) in [
        (AGENDARIS, "Agenda as CSV", "/agenda.csv"),
        (AGENDARIS, "Agenda as XLSX", "/agenda.xlsx"),
        (KADIS, "Calon penerima as CSV", "/calon.csv"),
        (KABID, "Confirmed candidates for BPJS as XLSX (full NIK)", "/calon/bpjs.xlsx"),
    ] {
        let export = read_export(&mut browsers[browser], label, path)
            .await
            .unwrap_or_else(|e| ExportRun {
                label: label.to_string(),
                path: path.to_string(),
                lines: 0,
                bytes: 0,
                seconds: 0.0,
                before_mib: 0.0,
                peak_mib: 0.0,
                error: Some(format!("{e:#}")),
            });
        eprintln!(
            "    {label}: {} lines, {:.1} MiB in {:.2} s, +{:.0} MiB",
            export.lines,
            export.bytes as f64 / 1048576.0,
            export.seconds,
            export.growth_mib()
        );
        exports.push(export);
    }
    Ok(ListsRun {
        engine: engine.label.to_string(),
        scale,
        stored,
        seed_seconds,
        pages,
        exports,
    })
}

/// A register line for every copy of the signed letter, as its signature would have
/// written it (a serial of its own).
async fn copy_register_lines(db: &Db, original: i64) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO register (department_id, series, unit_code, year, serial, number, letter_id, status, letter_date, subject, \
         classification_code, signer, created_at, search) \
         SELECT l.department_id, r.series, r.unit_code, r.year, r.serial + l.id - $1, l.number, l.id, r.status, r.letter_date, \
         l.subject, r.classification_code, r.signer, r.created_at, LOWER(l.number || ' ' || l.subject) \
         FROM letters l CROSS JOIN register r WHERE r.letter_id = $1 AND l.id <> $1 AND l.verification_id IS NOT NULL",
    )
    .bind(original)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Three deliveries by hand for every signed letter, as its signature would have planned
/// them: the newest 500 letters still being distributed (one handed over, two to go),
/// the rest confirmed by every recipient.
async fn add_deliveries(db: &Db) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "WITH recent AS (SELECT id FROM letters WHERE signed_at IS NOT NULL ORDER BY id DESC LIMIT 500), \
         k(n) AS (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) \
         INSERT INTO deliveries (department_id, letter_id, role, name, channel, status, receiver_name, queued_at, \
         delivered_at, acknowledged_at, updated_at) \
         SELECT l.department_id, l.id, CASE WHEN k.n = 1 THEN 'kepada' ELSE 'tembusan' END, 'Penerima ' || k.n, 'hand', \
         CASE WHEN l.id NOT IN (SELECT id FROM recent) THEN 'acknowledged' WHEN k.n = 1 THEN 'delivered' ELSE 'queued' END, \
         CASE WHEN l.id NOT IN (SELECT id FROM recent) OR k.n = 1 THEN 'Petugas' ELSE '' END, \
         l.signed_at, l.signed_at, CASE WHEN l.id NOT IN (SELECT id FROM recent) THEN l.signed_at END, l.signed_at \
         FROM letters l CROSS JOIN k WHERE l.signed_at IS NOT NULL ORDER BY l.id, k.n",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE letters SET recipients = 3 WHERE signed_at IS NOT NULL")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn count_stored(db: &Db) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut stored = BTreeMap::new();
    for (name, sql) in [
        ("signed letters", "SELECT COUNT(*) FROM letters WHERE signed_at IS NOT NULL"),
        ("letters at the signature", "SELECT COUNT(*) FROM letters WHERE signed_at IS NULL"),
        ("register lines", "SELECT COUNT(*) FROM register"),
        ("deliveries", "SELECT COUNT(*) FROM deliveries"),
        ("candidates", "SELECT COUNT(*) FROM candidates"),
    ] {
        let (count,): (i64,) = sqlx::query_as(sql).fetch_one(&db.pool).await?;
        stored.insert(name.to_string(), count);
    }
    Ok(stored)
}

/// A logged-in member of staff driving the router directly (no socket).
struct Browser {
    router: Router,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    async fn login(router: &Router, username: &str, password: &str) -> anyhow::Result<Browser> {
        let mut browser = Browser {
            router: router.clone(),
            cookies: BTreeMap::new(),
        };
        let page = browser.body_of("/masuk").await?;
        let marker = "name=\"csrf\" value=\"";
        let csrf = page
            .split_once(marker)
            .and_then(|(_, rest)| rest.split('"').next())
            .context("the login page has no CSRF field")?
            .to_string();
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("csrf", csrf.as_str()), ("username", username), ("password", password)])
            .finish();
        let reply = browser
            .send(
                Request::post("/masuk")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(form))?,
            )
            .await?;
        if reply.status() != axum::http::StatusCode::SEE_OTHER {
            bail!("login as {username}: {}", reply.status());
        }
        Ok(browser)
    }

    fn request(&self, path: &str) -> anyhow::Result<Request<Body>> {
        let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Ok(Request::get(path).header("cookie", jar.join("; ")).body(Body::empty())?)
    }

    async fn send(&mut self, mut request: Request<Body>) -> anyhow::Result<axum::response::Response> {
        if !self.cookies.is_empty() && !request.headers().contains_key("cookie") {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request.headers_mut().insert("cookie", jar.join("; ").parse()?);
        }
        let response = self.router.clone().oneshot(request).await?;
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str()?;
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Ok(response)
    }

    async fn body_of(&mut self, path: &str) -> anyhow::Result<String> {
        let response = self.send(self.request(path)?).await?;
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// `path` requested 3 times to warm up, then timed 15 times, each read to its last byte.
async fn time_page(browser: &mut Browser, label: &str, path: &str) -> anyhow::Result<PageRun> {
    let mut ms = Vec::new();
    let mut bytes = 0;
    for i in 0..18 {
        let started = Instant::now();
        let response = browser.send(browser.request(path)?).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        if status != axum::http::StatusCode::OK {
            bail!("{path}: {status}: {}", String::from_utf8_lossy(&body[..body.len().min(400)]));
        }
        bytes = body.len();
        if i >= 3 {
            ms.push(elapsed);
        }
    }
    let max_ms = ms.iter().copied().fold(0.0, f64::max);
    Ok(PageRun {
        label: label.to_string(),
        path: path.to_string(),
        timings: Timings::from_ms(ms),
        max_ms,
        bytes,
        error: None,
    })
}

/// `path` read to its end, frame by frame, with the resident set sampled every 10 ms
/// by a watcher thread.
async fn read_export(browser: &mut Browser, label: &str, path: &str) -> anyhow::Result<ExportRun> {
    let before_mib = proc_status_kib("VmRSS:").unwrap_or(0.0) / 1024.0;
    let peak = Arc::new(Mutex::new(before_mib));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let now = proc_status_kib("VmRSS:").unwrap_or(0.0) / 1024.0;
                let mut peak = peak.lock().expect("peak");
                *peak = peak.max(now);
                drop(peak);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let started = Instant::now();
    let outcome = async {
        let response = browser.send(browser.request(path)?).await?;
        if response.status() != axum::http::StatusCode::OK {
            bail!("{path}: {}", response.status());
        }
        let mut body = response.into_body();
        let (mut bytes, mut lines) = (0usize, 0usize);
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                bytes += data.len();
                lines += data.iter().filter(|b| **b == b'\n').count();
            }
        }
        Ok((bytes, lines))
    }
    .await;
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = watcher.join();
    let (bytes, lines) = outcome?;
    let peak_mib = *peak.lock().expect("peak");
    Ok(ExportRun {
        label: label.to_string(),
        path: path.to_string(),
        lines,
        bytes,
        seconds,
        before_mib,
        peak_mib,
        error: None,
    })
}

/// The runs of both engines, each in a child process; an engine that fails is a note.
#[derive(Debug, Default)]
pub(crate) struct ListsResult {
    pub runs: Vec<ListsRun>,
    pub notes: Vec<String>,
}

pub(super) fn run_all(templates_dir: &Path, quick: bool) -> ListsResult {
    let mut result = ListsResult::default();
    for engine in ["sqlite", "postgres"] {
        match super::in_child_quick::<ListsRun>(templates_dir, &format!("lists-{engine}"), quick) {
            Ok(run) => result.runs.push(run),
            Err(e) => {
                eprintln!("  lists on {engine}: not measured ({e:#})");
                result.notes.push(format!("{engine}: not measured ({e:#})."));
            }
        }
    }
    result
}

/// Runs this part alone (`naskah-bench --only lists`) and writes its target rows and
/// section `number` into the report at `path` ([`super::splice`]).
pub(super) fn update_report(path: &Path, templates_dir: &Path, number: usize, quick: bool) -> anyhow::Result<()> {
    let result = run_all(templates_dir, quick);
    let is_row = |l: &str| l.starts_with("| Ten times the data");
    super::splice(path, number, &section(number, &result), &target_rows(&result), is_row, "lists")
}

pub(super) fn target_rows(result: &ListsResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    for run in &result.runs {
        let measured: Vec<&PageRun> = run.pages.iter().filter(|p| p.error.is_none()).collect();
        let slowest = measured.iter().max_by(|a, b| a.timings.median_ms.total_cmp(&b.timings.median_ms));
        let all = measured.len() == run.pages.len();
        let (text, met) = match slowest {
            Some(p) => (
                format!(
                    "slowest of {} pages: {} {:.1} ms{}",
                    run.pages.len(),
                    p.label,
                    p.timings.median_ms,
                    if all {
                        String::new()
                    } else {
                        format!(", {} not measured", run.pages.len() - measured.len())
                    }
                ),
                all && p.timings.median_ms <= TARGET_PAGE_MS,
            ),
            None => ("not measured".to_string(), false),
        };
        let _ = writeln!(
            o,
            "| Ten times the data on {} ({} signed letters, {} waiting, {} candidates): every list answers a page in ≤ {TARGET_PAGE_MS:.0} ms (median) | {text} | {} |",
            run.engine,
            crate::text::thousands(run.scale.signed as i64),
            crate::text::thousands(run.scale.pending as i64),
            crate::text::thousands(run.scale.candidates as i64),
            super::yes(met)
        );
        let worst = run.exports.iter().max_by(|a, b| a.growth_mib().total_cmp(&b.growth_mib()));
        let streamed = run
            .exports
            .iter()
            .all(|e| e.error.is_none() && e.growth_mib() < TARGET_EXPORT_GROWTH_MIB);
        let _ = writeln!(
            o,
            "| Ten times the data on {}: the register and candidate exports stream (the server grows < {TARGET_EXPORT_GROWTH_MIB:.0} MiB) | {} | {} |",
            run.engine,
            worst.map_or("not measured".into(), |e| format!(
                "most: {} +{:.0} MiB for {:.1} MiB{}",
                e.label,
                e.growth_mib(),
                e.bytes as f64 / 1048576.0,
                e.error.as_ref().map_or(String::new(), |err| format!(" ({err})"))
            )),
            super::yes(streamed)
        );
    }
    o
}

/// Section `number` of the report.
pub(super) fn section(number: usize, result: &ListsResult) -> String {
    use std::fmt::Write;
    let mut o = format!("## {number}. Ten times the data: the lists and exports staff open\n\n");
    for note in &result.notes {
        let _ = writeln!(o, "{note}\n");
    }
    let Some(first) = result.runs.first() else {
        return o;
    };
    let _ = writeln!(
        o,
        "A child process per engine (`naskah-bench --only lists-ENGINE`) stores in the demo department {} signed letters \
         (one signed through the chain, the others copies of its rows with their own numbers), each with its register line \
         and three deliveries (the newest 500 letters still being delivered), {} letters waiting on the Kepala Dinas's \
         signature (each its own row in his Tugas saya) and {} candidates imported from a synthetic P3KE file (section 7). \
         It then serves the real router in the same process: each page is requested by a logged-in Kepala Dinas or agendaris \
         (session cookie, the whole page rendered and read), three times to warm up and 15 times measured, one after another. \
         The exports are read to their last byte while a thread samples the process's resident memory every 10 ms; the \
         growth is its highest value during the answer less its value before.\n",
        crate::text::thousands(first.scale.signed as i64),
        crate::text::thousands(first.scale.pending as i64),
        crate::text::thousands(first.scale.candidates as i64),
    );
    let _ = writeln!(o, "| engine | page | address | median | p90 | max | page size |");
    let _ = writeln!(o, "|---|---|---|---:|---:|---:|---:|");
    for run in &result.runs {
        for p in &run.pages {
            match &p.error {
                None => {
                    let _ = writeln!(
                        o,
                        "| {} | {} | `{}` | {:.1} ms | {:.1} ms | {:.1} ms | {} KiB |",
                        run.engine,
                        p.label,
                        p.path,
                        p.timings.median_ms,
                        p.timings.p90_ms,
                        p.max_ms,
                        p.bytes / 1024
                    );
                }
                Some(e) => {
                    let _ = writeln!(o, "| {} | {} | `{}` | not measured: {e} | | | |", run.engine, p.label, p.path);
                }
            }
        }
    }
    let _ = writeln!(
        o,
        "\n| engine | export | address | lines | size | seconds | server before | growth while sending |"
    );
    let _ = writeln!(o, "|---|---|---|---:|---:|---:|---:|---:|");
    for run in &result.runs {
        for e in &run.exports {
            match &e.error {
                None => {
                    let _ = writeln!(
                        o,
                        "| {} | {} | `{}` | {} | {:.1} MiB | {:.2} s | {:.0} MiB | +{:.0} MiB |",
                        run.engine,
                        e.label,
                        e.path,
                        if e.path.ends_with(".xlsx") {
                            "—".to_string()
                        } else {
                            crate::text::thousands(e.lines as i64)
                        },
                        e.bytes as f64 / 1048576.0,
                        e.seconds,
                        e.before_mib,
                        e.growth_mib()
                    );
                }
                Some(err) => {
                    let _ = writeln!(o, "| {} | {} | `{}` | not measured: {err} | | | | |", run.engine, e.label, e.path);
                }
            }
        }
    }
    let _ = writeln!(o);
    for run in &result.runs {
        let stored: Vec<String> = run
            .stored
            .iter()
            .map(|(k, v)| format!("{} {k}", crate::text::thousands(*v)))
            .collect();
        let _ = writeln!(o, "- {}: {}; stored in {:.0} s.", run.engine, stored.join(", "), run.seed_seconds);
    }
    let _ = writeln!(o);
    o
}
