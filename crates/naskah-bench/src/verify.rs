//! The public verification page under load (`naskah-bench --only verify-ENGINE-N`): N
//! signed letters stored on SQLite or PostgreSQL, a `naskah serve` process over them,
//! loaded by `wrk` on loopback on the same cores, side by side with the same process
//! serving its static stylesheet (the floor of its HTTP stack). Run at 10,000 letters
//! and at ten times that.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::{
    db::Db,
    engines,
    service::{Scratch, Service},
};

/// The runs of a whole benchmark: each engine at 10,000 letters and at ten times that.
pub const RUNS: [(&str, usize); 4] = [("sqlite", 10_000), ("postgres", 10_000), ("sqlite", 100_000), ("postgres", 100_000)];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WrkRun {
    pub label: String,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub errors: u64,
}

/// One engine with one number of letters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyRun {
    pub engine: String,
    pub letters: usize,
    pub connections: u32,
    pub threads: u32,
    pub seconds: u32,
    /// Seconds of load before the measured runs, until a pass over every id filled the
    /// cache.
    pub warm_up_seconds: u32,
    /// The HTML page, its JSON, the static floor.
    pub runs: Vec<WrkRun>,
    /// The serving process's peak resident memory.
    pub server_peak_mib: f64,
    pub wrk_version: String,
}

impl VerifyRun {
    pub fn floor(&self) -> Option<f64> {
        self.runs.iter().find(|r| !r.label.contains("/v/")).map(|r| r.requests_per_second)
    }

    pub fn pages(&self) -> impl Iterator<Item = &WrkRun> {
        self.runs.iter().filter(|r| r.label.contains("/v/"))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VerifyPageResult {
    pub runs: Vec<VerifyRun>,
    /// Why a run is missing (wrk or PostgreSQL not there).
    pub notes: Vec<String>,
}

/// The server under load, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child's work for `--only verify-ENGINE-N`.
pub fn child(engine: &str, letters: usize, templates_dir: &Path, quick: bool) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let (engine, templates_dir) = (engine.to_string(), templates_dir.to_path_buf());
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let run = verify_on(&engine, &templates_dir, letters, if quick { 3 } else { 10 }).await?;
            Ok(serde_json::to_string(&run)?)
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the verification benchmark panicked"))?
}

fn wrk_version() -> Option<String> {
    // "wrk debian/4.1.0-3+b2 [epoll] Copyright …": the name and version.
    let out = Command::new("wrk").arg("--version").output().ok()?;
    Some(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

async fn verify_on(engine_name: &str, templates_dir: &Path, letters: usize, seconds: u32) -> anyhow::Result<VerifyRun> {
    let wrk_version = wrk_version().context("wrk is not installed (apt-get install wrk)")?;
    let scratch = Scratch::new(&format!("verify-{engine_name}"))?;
    let engines = engines::engines(&scratch.0, &format!("verify_{letters}")).await;
    let wanted = if engine_name == "postgres" { "PostgreSQL" } else { "SQLite" };
    let engine = engines
        .iter()
        .find(|e| e.label == wanted)
        .with_context(|| format!("{wanted} is not reachable (NASKAH_BENCH_POSTGRES_URL)"))?;
    let result = measure(engine, &scratch, templates_dir, letters, seconds, wrk_version).await;
    for other in &engines {
        engines::drop_database(other).await;
    }
    result
}

async fn measure(
    engine: &engines::Engine,
    scratch: &Scratch,
    templates_dir: &Path,
    letters: usize,
    seconds: u32,
    wrk_version: String,
) -> anyhow::Result<VerifyRun> {
    let service = Service::open_on(templates_dir, engine.url.clone()).await?;
    let letter = service.at_signature(0).await?;
    let signed = service.sign(&letter).await?;
    // The other letters are copies of the signed one (row, steps, revision) with ids,
    // numbers and subjects of their own: what the page reads is then exactly what a
    // real signature leaves, without 100,000 renders.
    clone_letters(
        &service.flow.db,
        signed.id,
        letters.saturating_sub(1),
        engine.label == "PostgreSQL",
        true,
    )
    .await?;
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
    let server = Server(
        Command::new(std::env::current_exe()?)
            .args(["serve", "--listen", &address.to_string()])
            .env("NASKAH_DATABASE_URL", service.database_url())
            .env("NASKAH_KEYS_DIR", scratch.0.join("kunci"))
            .env("NASKAH_MASTER_KEY", service.master_key())
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
    // A first pass builds each letter's record; what is measured is the steady state,
    // each request checked against its letter row.
    let first_pass_seconds = (letters / WARM_UP_LETTERS_PER_SECOND).max(2) as u32;
    let pages = [
        ("Halaman verifikasi `/v/{id}` (HTML)", ""),
        ("Data verifikasi `/v/{id}.json`", ".json"),
    ];
    let scripts: Vec<_> = pages
        .iter()
        .map(|(_, suffix)| {
            let script = scratch.0.join(format!("ids{}.lua", suffix.replace('.', "-")));
            std::fs::write(&script, lua_script(&list, suffix)).map(|_| script)
        })
        .collect::<Result<_, _>>()?;
    let warm_up_seconds = warm_up(&base, &scripts[0], threads, connections, letters, first_pass_seconds)?;
    let mut runs = Vec::new();
    for ((label, _), script) in pages.iter().zip(&scripts) {
        runs.push(wrk(label, &base, Some(script), threads, connections, seconds)?);
    }
    runs.push(wrk(
        "Lembar gaya statis `/static/naskah.css` (lantai HTTP)",
        &format!("{base}/static/naskah.css"),
        None,
        threads,
        connections,
        seconds,
    )?);
    let server_peak_mib = peak_mib(server.0.id());
    drop(server);
    Ok(VerifyRun {
        engine: engine.label.into(),
        letters,
        connections,
        threads,
        seconds,
        warm_up_seconds,
        runs,
        server_peak_mib,
        wrk_version,
    })
}

/// Letters per second of the first warm-up pass (records built a second on a quiet
/// machine).
const WARM_UP_LETTERS_PER_SECOND: usize = 4_000;

/// Requests of a warm-up pass, per stored letter, that count as a pass over every id: the
/// two wrk threads walk from opposite ends at about the same pace, so half as many again
/// as there are letters leaves none out even when one thread runs ahead.
const WARM_UP_COVERAGE: f64 = 1.5;

/// Longest warm-up, all passes together.
const WARM_UP_LIMIT_SECONDS: u32 = 240;

/// Loads the verification pages until one pass has asked for every id, so that the
/// measured runs find every record built: a pass of `first_pass_seconds`, then, while a
/// pass made too few requests (a slower machine builds fewer records a second), one of
/// twice the length, which walks the ids again from the start (the built ones answer at
/// full speed). Returns the seconds spent.
fn warm_up(base: &str, script: &Path, threads: u32, connections: u32, letters: usize, first_pass_seconds: u32) -> anyhow::Result<u32> {
    let mut spent = 0;
    let mut pass = first_pass_seconds;
    loop {
        let run = wrk("warm-up", base, Some(script), threads, connections, pass)?;
        spent += pass;
        if run.requests as f64 >= letters as f64 * WARM_UP_COVERAGE {
            return Ok(spent);
        }
        if spent + pass * 2 > WARM_UP_LIMIT_SECONDS {
            bail!(
                "the warm-up did not ask for every one of the {letters} letters within {WARM_UP_LIMIT_SECONDS} s \
                 (its last pass of {pass} s made {} requests)",
                run.requests
            );
        }
        pass *= 2;
    }
}

/// A process's peak resident memory (`VmHWM`), in MiB.
fn peak_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// `copies` copies of a letter (signed, or waiting at a step) in a few set-based
/// statements: the row with an id, subject (and number and verification id, if it has
/// them) of its own, its steps, its revisions without the draft PDF and, `with_files`,
/// its official PDF.
pub(crate) async fn clone_letters(db: &Db, original: i64, copies: usize, postgres: bool, with_files: bool) -> anyhow::Result<()> {
    const COLUMNS: &str = "department_id, template_id, document_kind, state, round, stage, revision, version, chain, created_by, \
                           created_at, updated_at, classification_code, letter_date, final_sha256, signed_at, qr_token, signature_certificate";
    const STEP_COLUMNS: &str = "round, stage, kind, label, assignee_user_id, assignee_role, position_id, position_title, atas_nama, \
                                standard_minutes, state, started_at, completed_at, acted_by_user, acted_by_official, acting_as, decision, note";
    // 128 random bits as 32 hex digits, as a real verification id.
    let random_id = if postgres {
        "md5(random()::text || n.i)"
    } else {
        "lower(hex(randomblob(16)))"
    };
    let mut tx = db.begin_write().await?;
    // The copies are the letters made after this id.
    let (before,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM letters")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
         INSERT INTO letters ({COLUMNS}, subject, number, verification_id) \
         SELECT {}, subject || ' (salinan ' || n.i || ')', number || '-' || n.i, \
         CASE WHEN verification_id IS NULL THEN NULL ELSE {random_id} END \
         FROM letters CROSS JOIN n WHERE letters.id = $1 ORDER BY n.i",
        // Each copy a second older than the one before, as letters signed one by one.
        COLUMNS
            .split(", ")
            .map(|c| match c.trim() {
                time @ ("created_at" | "updated_at" | "signed_at") => format!("{time} - n.i"),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(original)
    .bind(copies as i64)
    .execute(&mut *tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO letter_steps (letter_id, {STEP_COLUMNS}) \
         SELECT l.id, {} FROM letters l CROSS JOIN letter_steps s WHERE l.id > $2 AND s.letter_id = $1",
        STEP_COLUMNS
            .split(", ")
            .map(|c| format!("s.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(original)
    .bind(before)
    .execute(&mut *tx)
    .await?;
    if with_files {
        sqlx::query(
            "INSERT INTO letter_files (letter_id, pdf) SELECT l.id, f.pdf FROM letters l CROSS JOIN letter_files f \
             WHERE l.id > $2 AND f.letter_id = $1",
        )
        .bind(original)
        .bind(before)
        .execute(&mut *tx)
        .await?;
    }
    // The public record reads the signed revision's fields (a NIK in them keeps the
    // PDF staff-only); its draft PDF is never read there, so the copies go without.
    sqlx::query(
        "INSERT INTO letter_revisions (letter_id, number, data, data_sha256, pdf, pdf_sha256, author_id, note, created_at) \
         SELECT l.id, r.number, r.data, r.data_sha256, substr(r.pdf, 1, 0), r.pdf_sha256, r.author_id, r.note, r.created_at \
         FROM letters l CROSS JOIN letter_revisions r WHERE l.id > $2 AND r.letter_id = $1",
    )
    .bind(original)
    .bind(before)
    .execute(&mut *tx)
    .await?;
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

/// A wrk script that walks through the stored verification ids, the two threads from
/// opposite ends, so that the load (and the warm-up) spreads over all the letters.
fn lua_script(list: &Path, suffix: &str) -> String {
    format!(
        "local ids = {{}}\n\
         for line in io.lines(\"{}\") do ids[#ids + 1] = line end\n\
         local counter = 0\n\
         function setup(thread) thread:set(\"offset\", counter * math.floor(#ids / 2)); counter = counter + 1 end\n\
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

/// The targets: the page at ≥ 40 % of the static floor with p99 ≤ 10 ms, on each
/// engine; at ten times the letters within 20 % of the same engine's figure.
const TARGET_SHARE: f64 = 0.40;
const TARGET_P99_MS: f64 = 10.0;
const TARGET_GROWTH: f64 = 0.80;

/// Rows of the report's target table.
pub(super) fn target_rows(result: &VerifyPageResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    if result.runs.is_empty() {
        let _ = writeln!(
            o,
            "| verification page: ≥ 40 % of the static floor, p99 ≤ {TARGET_P99_MS} ms | not measured | — |"
        );
    }
    let smallest = result.runs.iter().map(|r| r.letters).min().unwrap_or_default();
    for run in result.runs.iter().filter(|r| r.letters == smallest) {
        let floor = run.floor().unwrap_or(f64::INFINITY);
        for page in run.pages() {
            let share = page.requests_per_second / floor;
            let met = share >= TARGET_SHARE && page.p99_ms <= TARGET_P99_MS && page.errors == 0;
            let _ = writeln!(
                o,
                "| {} on {}, {} letters: ≥ {:.0} % of the static floor, p99 ≤ {TARGET_P99_MS} ms | {:.0} req/s = {:.0} %, p99 {:.2} ms | {} |",
                page.label,
                run.engine,
                run.letters,
                TARGET_SHARE * 100.0,
                page.requests_per_second,
                share * 100.0,
                page.p99_ms,
                super::yes(met)
            );
        }
    }
    for run in result.runs.iter().filter(|r| r.letters > smallest) {
        let Some(base) = result.runs.iter().find(|b| b.engine == run.engine && b.letters == smallest) else {
            continue;
        };
        for page in run.pages() {
            let Some(before) = base.pages().find(|b| b.label == page.label) else {
                continue;
            };
            let kept = page.requests_per_second / before.requests_per_second;
            let _ = writeln!(
                o,
                "| {} on {}, {} letters: within 20 % of {} letters | {:.0} req/s = {:.0} % of {:.0} | {} |",
                page.label,
                run.engine,
                run.letters,
                base.letters,
                page.requests_per_second,
                kept * 100.0,
                before.requests_per_second,
                super::yes(kept >= TARGET_GROWTH && page.errors == 0)
            );
        }
    }
    o
}

/// Runs the verification page alone (`naskah-bench --only verify`) and writes its
/// target rows and section 6 into the report at `path` ([`super::splice`]).
pub(super) fn update_report(path: &Path, templates_dir: &Path, quick: bool) -> anyhow::Result<()> {
    let result = run_all(templates_dir, quick);
    let is_row = |l: &str| l.starts_with("| Halaman verifikasi") || l.starts_with("| Data verifikasi");
    super::splice(path, 6, &section(6, &result), &target_rows(&result), is_row, "verify")
}

/// Every run of [`RUNS`], each in a child process; a run that fails becomes a note.
pub(super) fn run_all(templates_dir: &Path, quick: bool) -> VerifyPageResult {
    let mut result = VerifyPageResult::default();
    for (engine, letters) in RUNS {
        let letters = if quick { letters / 10 } else { letters };
        match super::in_child_quick::<VerifyRun>(templates_dir, &format!("verify-{engine}-{letters}"), quick) {
            Ok(run) => {
                for page in &run.runs {
                    eprintln!(
                        "  {}, {letters} letters, {}: {:.0} req/s, p99 {:.2} ms",
                        run.engine, page.label, page.requests_per_second, page.p99_ms
                    );
                }
                result.runs.push(run);
            }
            Err(e) => {
                eprintln!("  {engine}, {letters} letters: not measured ({e:#})");
                result.notes.push(format!("{engine}, {letters} letters: not measured ({e:#})."));
            }
        }
    }
    result
}

/// Section `number` of the report.
pub(super) fn section(number: usize, result: &VerifyPageResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "## {number}. The public verification page
"
    );
    for note in &result.notes {
        let _ = writeln!(
            o,
            "{note}
"
        );
    }
    let Some(first) = result.runs.first() else {
        return o;
    };
    let _ = writeln!(
        o,
        "Each run is a child process (`naskah-bench --only verify-ENGINE-N`) that stores N signed letters on the engine (one \
         signed through the chain, the others copies of its rows, official PDF included, with their own ids, numbers and \
         subjects), starts `naskah serve` on it and loads it with {} (`-t{} -c{} -d{}s --latency`) on loopback, both on this \
         machine's cores. A Lua script walks through all the stored ids, the two wrk threads from opposite ends. The \
         per-address limit of the public pages stays in the path, set high enough for one client. Each letter's public \
         record is built on its first request (five queries) and kept in the process's record cache, served without \
         reading the letter while the node hears every change of a signed letter (a trigger: `pg_notify` on PostgreSQL, \
         the `public_changes` table read every 10 ms on SQLite; README, Several nodes). Before the measured runs a warm-up \
         walks the ids: a pass of N / {WARM_UP_LETTERS_PER_SECOND} s, then passes of twice the length until one has \
         made at least {WARM_UP_COVERAGE} × N requests (every id asked for; {}). The service's static stylesheet, served by the same process, is the floor of its HTTP \
         stack; the server's peak memory includes the cache of N records.\n",
        first.wrk_version,
        first.threads,
        first.connections,
        first.seconds,
        result
            .runs
            .iter()
            .map(|run| format!("{} with {} letters: {} s", run.engine, run.letters, run.warm_up_seconds))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        o,
        "| engine | letters | address | requests/s | p50 | p99 | requests | errors | share of the static floor | server peak |"
    );
    let _ = writeln!(o, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for run in &result.runs {
        let floor = run.floor();
        for page in &run.runs {
            let share = floor
                .map(|f| format!("{:.0} %", page.requests_per_second / f * 100.0))
                .unwrap_or_else(|| "—".into());
            let _ = writeln!(
                o,
                "| {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {} | {share} | {:.0} MiB |",
                run.engine,
                run.letters,
                page.label,
                page.requests_per_second,
                page.p50_ms,
                page.p99_ms,
                page.requests,
                page.errors,
                run.server_peak_mib
            );
        }
    }
    let _ = writeln!(o);
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
