//! The peers of `naskah-bench`, measured on the same documents: the Typst command line
//! (one process per document), PyPI's `typst`, and WeasyPrint on an HTML equivalent.
//!
//! For the Typst peers every document is exported as a folder of its own that mirrors
//! what the renderer sees: the template's folder and `_shared/`, the job's data at
//! `/data.json` and its files (`/logo.svg`), compiled with `--root` at that folder and
//! only the fonts of `letter_templates/fonts`.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use super::{Options, Sizes, Timings, html, ms};
use crate::rendering::{RenderJob, Renderer};

/// The Python side of the peers, written next to the documents.
const PEER_PY: &str = include_str!("../../../benches/peer.py");
/// The installer of the peers.
const PEERS_SH: &str = include_str!("../../../benches/peers.sh");

const DEFAULT_VENV: &str = "/var/tmp/naskah-bench-venv";
const DEFAULT_TOOLS: &str = "/var/tmp/naskah-bench-tools";

pub(super) struct Input<'a> {
    pub(super) options: &'a Options,
    pub(super) sizes: Sizes,
    pub(super) renderer: &'a Renderer,
    pub(super) letter: &'a RenderJob,
    pub(super) batch: &'a [RenderJob],
    pub(super) sk: &'a RenderJob,
}

/// What happened to one long run of a peer.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    Done {
        seconds: f64,
        peak_mib: Option<f64>,
        pages: Option<usize>,
    },
    TimedOut {
        after: f64,
    },
    Failed(String),
}

/// A batch run: `documents` converted in `seconds` over two workers.
#[derive(Debug, Clone)]
pub(super) struct Batch {
    pub(super) documents: usize,
    pub(super) seconds: f64,
}

impl Batch {
    /// The time for `total` documents at the measured rate.
    pub(super) fn scaled(&self, total: usize) -> f64 {
        self.seconds * total as f64 / self.documents.max(1) as f64
    }
}

#[derive(Debug, Clone)]
pub(super) struct TypstCli {
    pub(super) version: String,
    pub(super) letter: Timings,
    pub(super) letter_pages: Option<usize>,
    pub(super) batch: Option<Batch>,
    pub(super) sk: Outcome,
}

#[derive(Debug, Clone)]
pub(super) struct TypstPy {
    pub(super) version: String,
    /// One Python process per document (interpreter, import, compile).
    pub(super) one_process: Timings,
    /// Warm, in one Python process.
    pub(super) in_process: Timings,
}

#[derive(Debug, Clone)]
pub(super) struct Weasy {
    pub(super) version: String,
    pub(super) import_ms: f64,
    pub(super) first_ms: f64,
    pub(super) warm: Timings,
    pub(super) pages: usize,
    /// One whole process for one letter (interpreter, import, conversion).
    pub(super) cold_process_ms: Option<f64>,
    pub(super) batch: Option<Batch>,
    pub(super) sk: Outcome,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Results {
    pub(super) notes: Vec<String>,
    pub(super) typst_cli: Option<TypstCli>,
    pub(super) typst_py: Option<TypstPy>,
    pub(super) weasy: Option<Weasy>,
}

impl Results {
    pub(super) fn skipped(why: &str) -> Results {
        Results {
            notes: vec![format!("Peers not measured: {why}.")],
            ..Results::default()
        }
    }
}

/// Measures every peer that is installed; a missing or failing peer becomes a note.
pub(super) fn measure(input: &Input<'_>) -> Results {
    let mut results = Results::default();
    if input.options.install_peers {
        install(&mut results.notes);
    }
    let work = std::env::temp_dir().join(format!("naskah-bench-{}", std::process::id()));
    if let Err(err) = std::fs::create_dir_all(&work) {
        results
            .notes
            .push(format!("Cannot create the work folder {}: {err}.", work.display()));
        return results;
    }
    let fonts = match std::fs::canonicalize(input.options.templates_dir.join("fonts")) {
        Ok(path) => path,
        Err(err) => {
            results.notes.push(format!("The fonts folder is missing: {err}."));
            return results;
        }
    };
    let python = python();
    let peer_py = work.join("peer.py");
    let have_peer_py = std::fs::write(&peer_py, PEER_PY).is_ok();

    match typst_binary() {
        Some((bin, version)) => {
            eprintln!("· Typst CLI ({version}) …");
            match typst_cli(
                input,
                &work,
                &fonts,
                &bin,
                version,
                python.as_deref().filter(|_| have_peer_py),
                &peer_py,
            ) {
                Ok(r) => results.typst_cli = Some(r),
                Err(err) => results.notes.push(format!("Typst CLI could not be measured: {err:#}.")),
            }
        }
        None => results.notes.push(format!(
            "Typst CLI not found (NASKAH_BENCH_TYPST, {DEFAULT_TOOLS}/bin/typst, or `typst` on PATH); skipped. Run benches/peers.sh."
        )),
    }

    match python.as_deref().filter(|_| have_peer_py) {
        None => results.notes.push(format!(
            "The peers' Python venv was not found ({DEFAULT_VENV} or NASKAH_BENCH_VENV); PyPI typst and WeasyPrint skipped. Run benches/peers.sh."
        )),
        Some(python) => {
            match module_version(python, "typst") {
                Some(version) => {
                    eprintln!("· PyPI typst ({version}) …");
                    match typst_py(input, &work, &fonts, python, &peer_py, version) {
                        Ok(r) => results.typst_py = Some(r),
                        Err(err) => results.notes.push(format!("PyPI typst could not be measured: {err:#}.")),
                    }
                }
                None => results.notes.push("PyPI `typst` is not installed in the venv; skipped.".into()),
            }
            match module_version(python, "weasyprint") {
                Some(version) => {
                    eprintln!("· WeasyPrint ({version}) …");
                    match weasy(input, &work, &fonts, python, &peer_py, version) {
                        Ok(r) => results.weasy = Some(r),
                        Err(err) => results.notes.push(format!("WeasyPrint could not be measured: {err:#}.")),
                    }
                }
                None => results.notes.push("WeasyPrint is not installed in the venv (or Pango is missing); skipped.".into()),
            }
        }
    }
    if std::env::var_os("NASKAH_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        results.notes.push(format!("Work files kept in {}.", work.display()));
    }
    results
}

/// Runs `benches/peers.sh` (embedded) to install what is missing.
fn install(notes: &mut Vec<String>) {
    eprintln!("· installing missing peers (benches/peers.sh) …");
    let status = Command::new("sh")
        .arg("-c")
        .arg(PEERS_SH)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => notes.push(format!("benches/peers.sh ended with {status}.")),
        Err(err) => notes.push(format!("benches/peers.sh could not run: {err}.")),
    }
}

pub(super) fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("NASKAH_BENCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| DEFAULT_VENV.into());
    let python = venv.join("bin/python");
    python.is_file().then_some(python)
}

pub(super) fn module_version(python: &Path, module: &str) -> Option<String> {
    let output = Command::new(python)
        .args([
            "-c",
            &format!("import importlib.metadata, {module}; print(importlib.metadata.version('{module}'))"),
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The Typst command line and its version line.
fn typst_binary() -> Option<(PathBuf, String)> {
    let candidates = [
        std::env::var_os("NASKAH_BENCH_TYPST").map(PathBuf::from),
        std::env::var_os("NASKAH_BENCH_TOOLS").map(|t| PathBuf::from(t).join("bin/typst")),
        Some(PathBuf::from(DEFAULT_TOOLS).join("bin/typst")),
        Some(PathBuf::from("typst")),
    ];
    candidates.into_iter().flatten().find_map(|bin| {
        let output = Command::new(&bin).arg("--version").stderr(Stdio::null()).output().ok()?;
        output
            .status
            .success()
            .then(|| (bin, String::from_utf8_lossy(&output.stdout).trim().to_string()))
    })
}

/// Writes what the renderer sees for `job` into `dir`; returns the main file's path.
fn export(renderer: &Renderer, job: &RenderJob, dir: &Path) -> anyhow::Result<PathBuf> {
    let template = job.main.trim_start_matches('/').split('/').next().context("empty template path")?;
    let wanted = [format!("/{template}/"), "/_shared/".to_string()];
    for path in renderer.paths() {
        if wanted.iter().any(|prefix| path.starts_with(prefix.as_str())) {
            write(dir, path, renderer.file(path).unwrap_or_default())?;
        }
    }
    write(dir, crate::rendering::DATA_PATH, &serde_json::to_vec(&job.data)?)?;
    for (path, bytes) in &job.files {
        write(dir, path, bytes)?;
    }
    Ok(dir.join(job.main.trim_start_matches('/')))
}

fn write(dir: &Path, virtual_path: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(virtual_path.trim_start_matches('/'));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Pages of a PDF as written by Typst or WeasyPrint (uncompressed page dictionaries).
pub(super) fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type";
    let mut count = 0;
    let mut i = 0;
    while let Some(pos) = pdf[i..].windows(needle.len()).position(|w| w == needle) {
        let mut j = i + pos + needle.len();
        while j < pdf.len() && pdf[j].is_ascii_whitespace() {
            j += 1;
        }
        if pdf[j..].starts_with(b"/Page") && !pdf[j + 5..].starts_with(b"s") {
            count += 1;
        }
        i = j;
    }
    count
}

/// Runs `command`, killing it after `timeout`; `None` when it timed out.
fn run_with_timeout(mut command: Command, timeout: Duration) -> anyhow::Result<Option<(std::process::ExitStatus, String, String)>> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start the process")?;
    let mut stdout = child.stdout.take().context("stdout")?;
    let mut stderr = child.stderr.take().context("stderr")?;
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    Ok(status.map(|status| (status, out, err)))
}

/// The last JSON object a peer printed.
fn json_line(stdout: &str) -> anyhow::Result<Value> {
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("unreadable output: {}", stdout.chars().take(300).collect::<String>()))
}

fn run_json(command: Command, timeout: Duration) -> anyhow::Result<Option<Value>> {
    match run_with_timeout(command, timeout)? {
        None => Ok(None),
        Some((status, out, err)) if status.success() => json_line(&out)
            .map(Some)
            .with_context(|| err.chars().rev().take(500).collect::<String>().chars().rev().collect::<String>()),
        Some((status, _, err)) => bail!("{status}: {}", err.lines().last().unwrap_or_default()),
    }
}

fn f(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn times(v: &Value, key: &str) -> Timings {
    Timings::from_ms(
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default(),
    )
}

fn typst_command(bin: &Path, root: &Path, fonts: &Path, main: &Path, out: &Path) -> Command {
    let mut command = Command::new(bin);
    command
        .arg("compile")
        .arg("--root")
        .arg(root)
        .arg("--font-path")
        .arg(fonts)
        .arg("--ignore-system-fonts")
        .arg(main)
        .arg(out);
    command
}

/// Runs `command` to completion, timing it; fails on a non-zero exit.
fn timed(mut command: Command) -> anyhow::Result<f64> {
    let started = Instant::now();
    let output = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).output()?;
    let elapsed = ms(started.elapsed());
    if !output.status.success() {
        bail!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).lines().next().unwrap_or_default()
        );
    }
    Ok(elapsed)
}

/// Runs `make(i)` for `i` in `0..count` on `workers` threads; total seconds.
fn parallel(count: usize, workers: usize, make: impl Fn(usize) -> Command + Sync) -> anyhow::Result<f64> {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return Ok(());
                        }
                        timed(make(i))?;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().map_err(|_| anyhow::anyhow!("a worker panicked"))??;
        }
        Ok(())
    })?;
    Ok(started.elapsed().as_secs_f64())
}

fn typst_cli(
    input: &Input<'_>,
    work: &Path,
    fonts: &Path,
    bin: &Path,
    version: String,
    python: Option<&Path>,
    peer_py: &Path,
) -> anyhow::Result<TypstCli> {
    let sizes = input.sizes;
    // The one-page letter.
    let root = work.join("typst-letter");
    let main = export(input.renderer, input.letter, &root)?;
    let out = root.join("out.pdf");
    timed(typst_command(bin, &root, fonts, &main, &out))?; // file cache warm, like ours
    let letter_pages = std::fs::read(&out).ok().map(|pdf| pdf_pages(&pdf));
    let mut letter = Vec::new();
    for _ in 0..sizes.cli_letter_runs {
        letter.push(timed(typst_command(bin, &root, fonts, &main, &out))?);
    }

    // The batch, one process per letter, two at a time.
    let count = sizes.cli_batch_letters.min(input.batch.len());
    let mut mains = Vec::with_capacity(count);
    for (i, job) in input.batch.iter().take(count).enumerate() {
        let root = work.join(format!("typst-batch/{i:03}"));
        mains.push((export(input.renderer, job, &root)?, root));
    }
    eprintln!("  {count} letters, one process per letter …");
    let seconds = parallel(count, sizes.workers, |i| {
        let (main, root) = &mains[i];
        typst_command(bin, root, fonts, main, &root.join("out.pdf"))
    })?;
    let batch = Some(Batch { documents: count, seconds });

    // The SK, once, with the peak memory of the process.
    eprintln!("  SK …");
    let root = work.join("typst-sk");
    let main = export(input.renderer, input.sk, &root)?;
    let out = root.join("out.pdf");
    let command = typst_command(bin, &root, fonts, &main, &out);
    let sk = match python {
        Some(python) => {
            let mut wrapped = Command::new(python);
            wrapped
                .arg(peer_py)
                .arg("measure")
                .arg("--")
                .arg(command.get_program())
                .args(command.get_args());
            match run_json(wrapped, sizes.cli_sk_timeout) {
                Ok(Some(v)) if v.get("returncode").and_then(Value::as_i64) == Some(0) => Outcome::Done {
                    seconds: f(&v, "seconds"),
                    peak_mib: Some(f(&v, "peak_kib") / 1024.0),
                    pages: std::fs::read(&out).ok().map(|pdf| pdf_pages(&pdf)),
                },
                Ok(Some(v)) => Outcome::Failed(v.get("stderr").and_then(Value::as_str).unwrap_or_default().to_string()),
                Ok(None) => Outcome::TimedOut {
                    after: sizes.cli_sk_timeout.as_secs_f64(),
                },
                Err(err) => Outcome::Failed(format!("{err:#}")),
            }
        }
        None => match run_with_timeout(command, sizes.cli_sk_timeout) {
            Ok(Some((status, _, _))) if status.success() => Outcome::Done {
                seconds: f64::NAN,
                peak_mib: None,
                pages: None,
            },
            Ok(Some((status, _, err))) => Outcome::Failed(format!("{status}: {err}")),
            Ok(None) => Outcome::TimedOut {
                after: sizes.cli_sk_timeout.as_secs_f64(),
            },
            Err(err) => Outcome::Failed(format!("{err:#}")),
        },
    };
    Ok(TypstCli {
        version,
        letter: Timings::from_ms(letter),
        letter_pages,
        batch,
        sk,
    })
}

fn typst_py(input: &Input<'_>, work: &Path, fonts: &Path, python: &Path, peer_py: &Path, version: String) -> anyhow::Result<TypstPy> {
    let root = work.join("typst-py-letter");
    let main = export(input.renderer, input.letter, &root)?;
    let out = root.join("out.pdf");
    let one = || {
        let mut command = Command::new(python);
        command.arg(peer_py).arg("typst-one").arg(&main).arg(&out).arg(&root).arg(fonts);
        command
    };
    timed(one())?;
    let mut one_process = Vec::new();
    for _ in 0..input.sizes.cli_letter_runs {
        one_process.push(timed(one())?);
    }
    let mut command = Command::new(python);
    command
        .arg(peer_py)
        .arg("typst-warm")
        .arg(&main)
        .arg(&root)
        .arg(fonts)
        .arg(input.sizes.warm_runs.to_string());
    let warm = run_json(command, Duration::from_secs(300))?.context("PyPI typst timed out")?;
    Ok(TypstPy {
        version,
        one_process: Timings::from_ms(one_process),
        in_process: times(&warm, "times_ms"),
    })
}

fn weasy(input: &Input<'_>, work: &Path, fonts: &Path, python: &Path, peer_py: &Path, version: String) -> anyhow::Result<Weasy> {
    let sizes = input.sizes;
    let dir = work.join("weasyprint");
    std::fs::create_dir_all(dir.join("batch"))?;
    let logo = input
        .letter
        .files
        .iter()
        .find(|(path, _)| path == "/logo.svg")
        .map(|(_, bytes)| bytes.clone())
        .unwrap_or_default();
    std::fs::write(dir.join("logo.svg"), &logo)?;
    std::fs::write(dir.join("batch/logo.svg"), &logo)?;

    // The one-page letter, warm in one process.
    let letter = dir.join("letter.html");
    std::fs::write(&letter, html::letter(&input.letter.data, fonts))?;
    let mut command = Command::new(python);
    command
        .arg(peer_py)
        .arg("warm")
        .arg(&letter)
        .arg(sizes.weasy_letter_runs.to_string());
    let warm = run_json(command, Duration::from_secs(600))?.context("WeasyPrint timed out")?;
    // And once as a process of its own.
    let mut command = Command::new(python);
    command.arg(peer_py).arg("one").arg(&letter).arg(dir.join("letter.pdf"));
    let cold_process_ms = timed(command).ok();

    // The batch over two worker processes.
    let count = sizes.weasy_batch_letters.min(input.batch.len());
    let mut files = Vec::with_capacity(count);
    for (i, job) in input.batch.iter().take(count).enumerate() {
        let path = dir.join(format!("batch/{i:03}.html"));
        std::fs::write(&path, html::confirmation(&job.data, fonts))?;
        files.push(path);
    }
    eprintln!("  {count} letters, {} processes …", sizes.workers);
    let mut command = Command::new(python);
    command.arg(peer_py).arg("batch").arg(sizes.workers.to_string()).args(&files);
    let batch = match run_json(command, Duration::from_secs(900)) {
        Ok(Some(v)) => Some(Batch {
            documents: count,
            seconds: f(&v, "seconds"),
        }),
        _ => None,
    };

    // The SK, once, with a time limit.
    eprintln!("  SK (time limit {} s) …", sizes.weasy_sk_timeout.as_secs());
    let sk_html = dir.join("sk.html");
    std::fs::write(&sk_html, html::sk(&input.sk.data, fonts))?;
    let mut command = Command::new(python);
    command.arg(peer_py).arg("one").arg(&sk_html).arg(dir.join("sk.pdf"));
    let sk = match run_json(command, sizes.weasy_sk_timeout) {
        Ok(Some(v)) => Outcome::Done {
            seconds: f(&v, "seconds"),
            peak_mib: Some(f(&v, "peak_kib") / 1024.0),
            pages: v.get("pages").and_then(Value::as_u64).map(|p| p as usize),
        },
        Ok(None) => Outcome::TimedOut {
            after: sizes.weasy_sk_timeout.as_secs_f64(),
        },
        Err(err) => Outcome::Failed(format!("{err:#}")),
    };

    Ok(Weasy {
        version,
        import_ms: f(&warm, "import_ms"),
        first_ms: f(&warm, "first_ms"),
        warm: times(&warm, "times_ms"),
        pages: warm.get("pages").and_then(Value::as_u64).unwrap_or(0) as usize,
        cold_process_ms,
        batch,
        sk,
    })
}
