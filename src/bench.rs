//! `naskah bench`: the benchmarks of the renderer, measured side by side in one run with
//! the same documents produced by the Typst command line (one process per document) and
//! by an HTML-to-PDF peer (WeasyPrint). The results go to `BENCHMARKS.md`.
//!
//! ```sh
//! cargo run --release -- bench            # full run (~5–10 min), writes BENCHMARKS.md
//! cargo run --release -- bench --quick    # smaller counts, writes nothing unless --out
//! ```
//!
//! The peers are installed by `benches/peers.sh` (a venv under `/var/tmp/naskah-bench-venv`
//! with PyPI's `typst` and `weasyprint`, and the `typst` command line from crates.io under
//! `/var/tmp/naskah-bench-tools`), which the command runs first unless `--no-install`. A
//! peer that is missing is skipped with a note; no number is ever made up.
//!
//! The documents, built through the public API (`letters::draft_job` with the demo
//! department and its logo):
//!
//! - the one-page data-request letter (`surat-permintaan-data`) with its `contoh.json`;
//! - 300 confirmation letters (`surat-konfirmasi-desa`), one per village in turn, each with
//!   a 40-row attachment of synthetic, deterministic candidates;
//! - the SK (`sk-penerima-bantuan-iuran`) with 10,000 synthetic beneficiaries spread over
//!   the 54 villages of the demo regency.
//!
//! The SK is rendered in a child process (`naskah bench --only sk`) so that its peak
//! resident memory (`VmHWM`) is that of a process doing only that render: through
//! `letters::parts::render_pdf_blocking` (in parts, as a long list is rendered), and once
//! more in one compile (`--only sk-whole`) for comparison.

mod html;
mod import;
mod peers;
mod service;
mod trust;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    demo, letters,
    regions::{self, Region},
    rendering::{RenderJob, Rendered, Renderer},
};

/// The one-page data-request letter.
pub const LETTER: &str = "surat-permintaan-data";
/// The confirmation letter to one village, with its attachment.
pub const CONFIRMATION: &str = "surat-konfirmasi-desa";
/// The decree with the full list of beneficiaries.
pub const SK: &str = "sk-penerima-bantuan-iuran";

/// Targets from the issue.
const TARGET_LETTER_MS: f64 = 6.0;
const TARGET_LETTER_VS_CLI: f64 = 3.0;
const TARGET_LETTER_VS_WEASY: f64 = 40.0;
const TARGET_BATCH_S: f64 = 10.0;
const TARGET_SK_S: f64 = 2.0;
/// What the issue says the straightforward table takes on its machine.
const TARGET_SK_REFERENCE_S: f64 = 4.0;
const TARGET_SK_MIB: f64 = 400.0;

/// What `naskah bench` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The template folder (`letter_templates/`).
    pub templates_dir: PathBuf,
    /// Smaller counts, for a smoke test.
    pub quick: bool,
    /// Where to write the report; `BENCHMARKS.md` for a full run when `None`, nowhere
    /// for a quick one.
    pub out: Option<PathBuf>,
    /// Measure the peers (Typst command line, WeasyPrint) too.
    pub peers: bool,
    /// Run `benches/peers.sh` first to install missing peers.
    pub install_peers: bool,
    /// Internal: `sk` renders only the SK and prints its time and peak memory as JSON
    /// (the parent runs this in a child process).
    pub only: Option<String>,
}

/// How many of everything.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    warm_up: usize,
    warm_runs: usize,
    batch_letters: usize,
    batch_rows: usize,
    workers: usize,
    sk_rows: usize,
    sk_runs: usize,
    cli_letter_runs: usize,
    cli_batch_letters: usize,
    weasy_letter_runs: usize,
    weasy_batch_letters: usize,
    weasy_sk_timeout: Duration,
    cli_sk_timeout: Duration,
    memory_letters: usize,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        if quick {
            Sizes {
                warm_up: 10,
                warm_runs: 50,
                batch_letters: 300,
                batch_rows: 40,
                workers: 2,
                sk_rows: 10_000,
                sk_runs: 1,
                cli_letter_runs: 10,
                cli_batch_letters: 40,
                weasy_letter_runs: 10,
                weasy_batch_letters: 20,
                weasy_sk_timeout: Duration::from_secs(60),
                cli_sk_timeout: Duration::from_secs(120),
                memory_letters: 5_000,
            }
        } else {
            Sizes {
                warm_up: 20,
                warm_runs: 200,
                batch_letters: 300,
                batch_rows: 40,
                workers: 2,
                sk_rows: 10_000,
                sk_runs: 3,
                cli_letter_runs: 30,
                cli_batch_letters: 300,
                weasy_letter_runs: 30,
                weasy_batch_letters: 300,
                weasy_sk_timeout: Duration::from_secs(300),
                cli_sk_timeout: Duration::from_secs(300),
                memory_letters: 5_000,
            }
        }
    }
}

/// Runs the benchmarks (or, with `only`, one part of them in this process).
pub fn run(options: &Options) -> anyhow::Result<()> {
    let renderer = Renderer::load(&options.templates_dir, 2)
        .with_context(|| format!("cannot load the templates in {}", options.templates_dir.display()))?;
    let docs = Documents::new(&renderer)?;
    let sizes = Sizes::new(options.quick);
    match options.only.as_deref() {
        Some(only @ ("sk" | "sk-whole")) => {
            let (result, pdf) = sk_in_this_process(&renderer, &docs, sizes.sk_rows, only == "sk")?;
            if let Some(path) = &options.out {
                std::fs::write(path, pdf).with_context(|| format!("{} cannot be written", path.display()))?;
            }
            println!("{}", serde_json::to_string(&result)?);
            return Ok(());
        }
        Some("letter") => {
            let result = warm_letter(&renderer, &docs.letter()?, sizes)?;
            println!("{}", serde_json::to_string(&result.timings)?);
            return Ok(());
        }
        Some("memory") => {
            let result = memory_in_this_process(&renderer, &docs, sizes.memory_letters)?;
            println!("{}", serde_json::to_string(&result)?);
            return Ok(());
        }
        Some(only @ ("finalise" | "verify-page")) => {
            println!("{}", service::child(only, &options.templates_dir, options.quick)?);
            return Ok(());
        }
        Some(only @ ("longterm" | "upload-check")) => {
            println!("{}", trust::child(only, &options.templates_dir, options.quick)?);
            return Ok(());
        }
        Some(only) if only.starts_with("import-") => {
            let rows: usize = only["import-".len()..].parse().context("--only import-N: N rows")?;
            println!("{}", import::child(rows)?);
            return Ok(());
        }
        Some(other) => {
            bail!(
                "--only {other}: only 'sk', 'sk-whole', 'letter', 'memory', 'finalise', 'verify-page', 'longterm', 'upload-check' and 'import-N' are known"
            )
        }
        None => {}
    }

    let started = Instant::now();
    let machine = Machine::read();
    eprintln!(
        "naskah bench: {} ({} cores), {} run",
        machine.cpu,
        machine.cores,
        if options.quick { "quick" } else { "full" }
    );

    // Ours.
    eprintln!("· one-page letter, warm ({} renders) …", sizes.warm_runs);
    let letter_job = docs.letter()?;
    let ours_letter = warm_letter(&renderer, &letter_job, sizes)?;
    eprintln!("  median {:.2} ms", ours_letter.median_ms);
    eprintln!(
        "· {} confirmation letters × {} rows, {} workers …",
        sizes.batch_letters, sizes.batch_rows, sizes.workers
    );
    let batch_jobs = docs.confirmations(sizes.batch_letters, sizes.batch_rows)?;
    let ours_batch = batch(&renderer, &batch_jobs, sizes.workers)?;
    eprintln!("  {:.2} s", ours_batch.seconds);
    eprintln!("· SK with {} rows, in a child process ({} runs) …", sizes.sk_rows, sizes.sk_runs);
    let ours_sk = sk_in_children(&options.templates_dir, "sk", sizes.sk_runs)?;
    eprintln!("  {:.2} s, peak {:.0} MiB", ours_sk.seconds, ours_sk.peak_mib);
    eprintln!("· SK {} rows in one compile (for comparison) …", sizes.sk_rows);
    let ours_sk_whole = sk_in_children(&options.templates_dir, "sk-whole", 1)?;
    eprintln!("  {:.2} s, peak {:.0} MiB", ours_sk_whole.seconds, ours_sk_whole.peak_mib);
    eprintln!("· memory over {} different documents, in a child process …", sizes.memory_letters);
    let ours_memory = memory_in_child(&options.templates_dir)?;
    if let (Some(first), Some(last)) = (ours_memory.checkpoints.first(), ours_memory.checkpoints.last()) {
        eprintln!(
            "  {:.0} MiB after {}, {:.0} MiB after {}",
            first.rss_mib, first.documents, last.rss_mib, last.documents
        );
    }

    eprintln!("· finalising one-page letters (signature, number, render, PDF signature, commit), in a child process …");
    let finalise: service::FinaliseResult = in_child_quick(&options.templates_dir, "finalise", options.quick)?;
    eprintln!("  median {:.1} ms", finalise.finalise.median_ms);
    eprintln!("· the public verification page under wrk, against naskah serve …");
    let verify_page: service::VerifyPageResult = in_child_quick(&options.templates_dir, "verify-page", options.quick)?;
    for run in &verify_page.runs {
        eprintln!("  {}: {:.0} req/s, p99 {:.2} ms", run.label, run.requests_per_second, run.p99_ms);
    }

    eprintln!("· finalising at B-LT with a local TSA, in a child process …");
    let long_term: trust::LongTermResult = in_child_quick(&options.templates_dir, "longterm", options.quick)?;
    for run in &long_term.runs {
        eprintln!(
            "  {}: median {:.1} ms in all, {:.1} ms without the TSA",
            run.engine, run.total.median_ms, run.own.median_ms
        );
    }
    eprintln!("· the public check of an uploaded signed PDF, in a child process …");
    let upload_check: trust::UploadCheckResult = in_child_quick(&options.templates_dir, "upload-check", options.quick)?;
    for run in &upload_check.runs {
        eprintln!("  {}: median {:.1} ms", run.engine, run.check.median_ms);
    }

    eprintln!("· importing candidate files, in child processes …");
    let import_started = Instant::now();
    let mut imports: Vec<import::ImportResult> = Vec::new();
    let mut import_peers = Vec::new();
    for rows in import::SIZES {
        let result: import::ImportResult = in_child(&options.templates_dir, &format!("import-{rows}"))?;
        eprintln!(
            "  {rows} rows: check {:.2} s + import {:.2} s, peak {:.0} MiB",
            result.check_s, result.import_s, result.peak_mib
        );
        imports.push(result);
        if options.peers {
            let peer = import::peer(rows).map_err(|e| e.to_string());
            if let Ok(p) = &peer {
                eprintln!("  Python peer: {:.2} s, peak {:.0} MiB", p.seconds, p.peak_mib);
            }
            import_peers.push(peer);
        }
    }
    let import_elapsed = import_started.elapsed();

    // Peers, same documents.
    let peers = if options.peers {
        let sk_job = docs.sk(sizes.sk_rows)?;
        peers::measure(&peers::Input {
            options,
            sizes,
            renderer: &renderer,
            letter: &letter_job,
            batch: &batch_jobs,
            sk: &sk_job,
        })
    } else {
        peers::Results::skipped("--no-peers")
    };

    let report = Report {
        date: today_utc(),
        machine,
        quick: options.quick,
        sizes,
        ours_letter,
        ours_batch,
        ours_sk,
        ours_sk_whole,
        ours_memory,
        finalise,
        verify_page,
        long_term,
        upload_check,
        imports,
        import_peers,
        import_elapsed,
        peers,
        elapsed: started.elapsed(),
    };
    let text = report.markdown();
    let out = match (&options.out, options.quick) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(PathBuf::from("BENCHMARKS.md")),
        (None, true) => None,
    };
    match out {
        Some(path) => {
            std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("Results written to {}.", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The documents.

/// The catalogue and the shared parts of every job.
struct Documents {
    catalogue: letters::Catalogue,
    department: crate::departments::Department,
    villages: Vec<Village>,
    examples: BTreeMap<String, Value>,
}

/// One desa or kelurahan of the demo regency.
#[derive(Debug, Clone)]
struct Village {
    name: String,
    kelurahan: bool,
    kecamatan: String,
    /// `640901`: the first six digits of a NIK issued there.
    nik_prefix: String,
}

const FIRST_NAMES: &[&str] = &[
    "Ahmad",
    "Siti",
    "Budi",
    "Nur",
    "Rahmat",
    "Dewi",
    "Agus",
    "Sri",
    "Muhammad",
    "Fitri",
    "Hendra",
    "Yuliani",
    "Andi",
    "Kartini",
    "Joko",
    "Rina",
    "Bambang",
    "Wahyuni",
    "Syamsul",
    "Hasnah",
    "Juwita",
    "Jumadi",
    "Rahmawati",
    "Irwan",
];
const LAST_NAMES: &[&str] = &[
    "Saputra",
    "Hasanuddin",
    "Lestari",
    "Daeng Matutu",
    "Effendi",
    "Pratama",
    "Mappa",
    "Kurniawan",
    "Wijaya",
    "Rahman",
    "Setiawan",
    "Sulaiman",
    "Hidayat",
    "Gunawan",
    "Aco",
    "Syahrir",
    "Baso",
    "Ramadhani",
];
const JOBS: &[&str] = &[
    "Nelayan/perikanan",
    "Petani/pekebun",
    "Pedagang",
    "Peternak",
    "Tukang Batu",
    "Pekerja Rumah Tangga",
    "Guru Ngaji",
    "Buruh Harian Lepas",
    "Tukang Ojek",
    "Marbot",
];
const SOURCES: &[&str] = &["DTKS", "P3KE", "DTSEN"];

/// A deterministic pseudo-random number for `i` (SplitMix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One synthetic person, the `i`-th of the whole run, living in `village`.
struct Person {
    nik: String,
    nama: String,
    tanggal_lahir: String,
    jenis_kelamin: &'static str,
    pekerjaan: &'static str,
    sumber: &'static str,
}

impl Person {
    fn new(i: u64, village: &Village) -> Self {
        let r = mix(i);
        let female = r & 1 == 1;
        let day = 1 + (r >> 8) % 28;
        let month = 1 + (r >> 16) % 12;
        let year = 1961 + (r >> 24) % 45;
        let first = FIRST_NAMES[((r >> 32) % FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[((r >> 40) % LAST_NAMES.len() as u64) as usize];
        let nik_day = if female { day + 40 } else { day };
        Person {
            nik: format!("{}{nik_day:02}{month:02}{:02}{:04}", village.nik_prefix, year % 100, i % 10_000),
            nama: format!("{first} {last}"),
            tanggal_lahir: format!("{year}-{month:02}-{day:02}"),
            jenis_kelamin: if female { "P" } else { "L" },
            pekerjaan: JOBS[((r >> 48) % JOBS.len() as u64) as usize],
            sumber: SOURCES[((r >> 56) % SOURCES.len() as u64) as usize],
        }
    }
}

impl Documents {
    fn new(renderer: &Renderer) -> anyhow::Result<Self> {
        let catalogue = letters::Catalogue::from_renderer(renderer)?;
        let regions = regions::parse_csv(regions::DEMO_REGENCY_CSV)?;
        let villages = villages(&regions);
        if villages.is_empty() {
            bail!("the demo regency has no villages");
        }
        let mut examples = BTreeMap::new();
        for id in [LETTER, CONFIRMATION, SK] {
            catalogue.get(id)?;
            let bytes = renderer
                .file(&format!("/{id}/contoh.json"))
                .with_context(|| format!("{id}/contoh.json is missing"))?;
            let value: Value = serde_json::from_slice(bytes).with_context(|| format!("{id}/contoh.json is not valid JSON"))?;
            examples.insert(id.to_string(), value);
        }
        Ok(Documents {
            catalogue,
            department: demo::department(),
            villages,
            examples,
        })
    }

    /// A draft job for template `id` with `data` overlaid on its example and defaults.
    fn job(&self, id: &str, overlay: Value) -> anyhow::Result<RenderJob> {
        let manifest = self.catalogue.get(id)?;
        let mut data = self.examples.get(id).cloned().unwrap_or_else(|| json!({}));
        if let (Some(target), Some(given)) = (data.as_object_mut(), overlay.as_object()) {
            for (k, v) in given {
                target.insert(k.clone(), v.clone());
            }
        }
        let logo = Some((demo::DEMO_LOGO_SVG.to_vec(), "image/svg+xml".to_string()));
        match letters::draft_job(manifest, &self.department, logo, &letters::with_defaults(manifest, &data)) {
            Ok(job) => Ok(job),
            Err(letters::Error::Invalid(errors)) => {
                let first = errors.0.first().map(|e| format!("{}: {}", e.field, e.message)).unwrap_or_default();
                bail!("the data for {id} were refused ({} problems, e.g. {first})", errors.0.len())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The one-page data-request letter, as in its `contoh.json`.
    fn letter(&self) -> anyhow::Result<RenderJob> {
        self.job(LETTER, json!({}))
    }

    /// `count` confirmation letters, one village after another, `rows` candidates each.
    fn confirmations(&self, count: usize, rows: usize) -> anyhow::Result<Vec<RenderJob>> {
        (0..count)
            .map(|k| {
                let village = &self.villages[k % self.villages.len()];
                let calon: Vec<Value> = (0..rows)
                    .map(|j| {
                        let i = (k * rows + j) as u64;
                        let p = Person::new(i, village);
                        json!({
                            "nik": p.nik,
                            "nama": p.nama,
                            "tanggal_lahir": p.tanggal_lahir,
                            "jenis_kelamin": p.jenis_kelamin,
                            "alamat": format!("RT {:03} {}", 1 + mix(i ^ 0x5eed) % 30, village.name),
                            "pekerjaan": p.pekerjaan,
                            "sumber": p.sumber,
                        })
                    })
                    .collect();
                self.job(
                    CONFIRMATION,
                    json!({
                        "desa": village.name,
                        "kecamatan": village.kecamatan,
                        "jenis_wilayah": if village.kelurahan { "Kelurahan" } else { "Desa" },
                        "tembusan": [{ "nama": format!("Camat {}", village.kecamatan) }],
                        "calon": calon,
                    }),
                )
            })
            .collect()
    }

    /// The SK with `rows` beneficiaries spread over every village of the regency.
    fn sk(&self, rows: usize) -> anyhow::Result<RenderJob> {
        let penerima: Vec<Value> = (0..rows as u64)
            .map(|i| {
                let village = &self.villages[(mix(i ^ 0xd15a) % self.villages.len() as u64) as usize];
                let p = Person::new(1_000_000 + i, village);
                json!({
                    "nik": p.nik,
                    "nama": p.nama,
                    "jenis_kelamin": p.jenis_kelamin,
                    "pekerjaan": p.pekerjaan,
                    "desa": village.name,
                    "kecamatan": village.kecamatan,
                })
            })
            .collect();
        self.job(SK, json!({ "penerima": penerima }))
    }
}

/// The villages of the regency, with their kecamatan.
fn villages(regions: &[Region]) -> Vec<Village> {
    let kecamatan: BTreeMap<&str, &str> = regions
        .iter()
        .filter(|r| r.level == 3)
        .map(|r| (r.code.as_str(), r.name.as_str()))
        .collect();
    regions
        .iter()
        .filter(|r| r.level == 4)
        .filter_map(|r| {
            let parent = r.parent_code.as_deref()?;
            Some(Village {
                name: r.name.clone(),
                kelurahan: r.kind == "kelurahan",
                kecamatan: kecamatan.get(parent)?.to_string(),
                nik_prefix: parent.replace('.', ""),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Our side.

/// Timings of one repeated measurement, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Timings {
    pub(crate) runs: usize,
    pub(crate) median_ms: f64,
    pub(crate) p90_ms: f64,
    pub(crate) min_ms: f64,
    pub(crate) mean_ms: f64,
}

impl Timings {
    pub(crate) fn from_ms(mut ms: Vec<f64>) -> Timings {
        if ms.is_empty() {
            return Timings::default();
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        Timings {
            runs: ms.len(),
            median_ms: at(0.5),
            p90_ms: at(0.9),
            min_ms: ms[0],
            mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
        }
    }
}

/// The warm one-page letter.
#[derive(Debug, Clone)]
struct LetterResult {
    timings: Timings,
    median_ms: f64,
    /// The first render in this process (fonts and library already loaded by
    /// `Renderer::load`).
    first_ms: f64,
    pages: usize,
    bytes: usize,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn render(renderer: &Renderer, job: &RenderJob) -> anyhow::Result<Rendered> {
    renderer
        .render_pdf_blocking(job)
        .with_context(|| format!("cannot render {}", job.main))
}

fn warm_letter(renderer: &Renderer, job: &RenderJob, sizes: Sizes) -> anyhow::Result<LetterResult> {
    let started = Instant::now();
    let first = render(renderer, job)?;
    let first_ms = ms(started.elapsed());
    for _ in 0..sizes.warm_up {
        render(renderer, job)?;
    }
    let mut times = Vec::with_capacity(sizes.warm_runs);
    for _ in 0..sizes.warm_runs {
        let started = Instant::now();
        let rendered = render(renderer, job)?;
        times.push(ms(started.elapsed()));
        std::hint::black_box(rendered);
    }
    let timings = Timings::from_ms(times);
    Ok(LetterResult {
        median_ms: timings.median_ms,
        timings,
        first_ms,
        pages: first.pages,
        bytes: first.pdf.len(),
    })
}

/// The batch of confirmation letters.
#[derive(Debug, Clone)]
struct BatchResult {
    letters: usize,
    seconds: f64,
    pages: usize,
}

fn batch(renderer: &Renderer, jobs: &[RenderJob], workers: usize) -> anyhow::Result<BatchResult> {
    let next = AtomicUsize::new(0);
    let pages = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { return Ok(()) };
                        let rendered = render(renderer, job)?;
                        pages.fetch_add(rendered.pages, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().map_err(|_| anyhow::anyhow!("a batch worker panicked"))??;
        }
        Ok(())
    })?;
    Ok(BatchResult {
        letters: jobs.len(),
        seconds: started.elapsed().as_secs_f64(),
        pages: pages.into_inner(),
    })
}

/// The SK, measured in a process of its own.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SkResult {
    seconds: f64,
    /// Peak resident memory of the whole process (`VmHWM`).
    peak_mib: f64,
    /// Peak resident memory before the render started (renderer loaded, data built).
    before_mib: f64,
    pages: usize,
    bytes: usize,
    /// Every run's seconds (the parent's summary).
    #[serde(default)]
    runs: Vec<f64>,
}

/// `VmHWM` of this process, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    proc_status_kib("VmHWM:").map_or(f64::NAN, |kib| kib / 1024.0)
}

fn proc_status_kib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
}

fn sk_in_this_process(renderer: &Renderer, docs: &Documents, rows: usize, in_parts: bool) -> anyhow::Result<(SkResult, Vec<u8>)> {
    let job = docs.sk(rows)?;
    let before_mib = peak_rss_mib();
    let started = Instant::now();
    let rendered = if in_parts {
        letters::parts::render_pdf_blocking(renderer, &job).context("cannot render the SK in parts")?
    } else {
        render(renderer, &job)?
    };
    let seconds = started.elapsed().as_secs_f64();
    let result = SkResult {
        seconds,
        peak_mib: peak_rss_mib(),
        before_mib,
        pages: rendered.pages,
        bytes: rendered.pdf.len(),
        runs: vec![seconds],
    };
    Ok((result, rendered.pdf))
}

/// Resident memory while one process renders many different documents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MemoryResult {
    /// Before the first document (renderer loaded, data built).
    start_mib: f64,
    checkpoints: Vec<MemoryCheckpoint>,
    /// The largest resident set seen (`VmHWM`).
    peak_mib: f64,
    seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MemoryCheckpoint {
    documents: usize,
    rss_mib: f64,
}

/// What production does over a day: `letters` different data-request letters (each with
/// its own subject and addressees), a confirmation letter with 40 candidates after every
/// tenth, and an SK with 1,500 rows after every thousandth, on two threads; the
/// resident set (`VmRSS`) is read at checkpoints. With flat memory it stops growing after
/// the first few hundred.
fn memory_in_this_process(renderer: &Renderer, docs: &Documents, letters: usize) -> anyhow::Result<MemoryResult> {
    let confirmations = docs.confirmations(letters / 10 + 1, 40)?;
    let sk = docs.sk(1_500)?;
    let start_mib = proc_status_kib("VmRSS:").map_or(f64::NAN, |kib| kib / 1024.0);
    let marks: Vec<usize> = [100, 250, 500, 1_000, 2_000, 3_000, 4_000, 5_000]
        .into_iter()
        .filter(|&n| n <= letters)
        .collect();
    let next = AtomicUsize::new(0);
    let checkpoints = std::sync::Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= letters {
                            return Ok(());
                        }
                        let letter = docs.job(
                            LETTER,
                            json!({
                                "hal": format!("Permintaan data nomor {i} untuk verifikasi calon penerima"),
                                "penerima": [{ "nama": format!("Kepala Dinas Sosial ({i})") }, { "nama": format!("Kepala Bappeda ({})", i * 7) }],
                            }),
                        )?;
                        render(renderer, &letter)?;
                        if i % 10 == 9 {
                            render(renderer, &confirmations[i / 10])?;
                        }
                        if i % 1_000 == 999 {
                            letters::parts::render_pdf_blocking(renderer, &sk).context("cannot render the SK")?;
                        }
                        if marks.contains(&(i + 1)) {
                            let rss_mib = proc_status_kib("VmRSS:").map_or(f64::NAN, |kib| kib / 1024.0);
                            checkpoints
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(MemoryCheckpoint { documents: i + 1, rss_mib });
                        }
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().map_err(|_| anyhow::anyhow!("a memory worker panicked"))??;
        }
        Ok(())
    })?;
    let mut checkpoints = checkpoints.into_inner().unwrap_or_else(|e| e.into_inner());
    checkpoints.sort_by_key(|c| c.documents);
    Ok(MemoryResult {
        start_mib,
        checkpoints,
        peak_mib: peak_rss_mib(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn memory_in_child(templates_dir: &Path) -> anyhow::Result<MemoryResult> {
    in_child(templates_dir, "memory")
}

/// Runs `naskah bench --only <only>` in a process of its own and reads the JSON line it
/// prints last.
fn in_child<T: serde::de::DeserializeOwned>(templates_dir: &Path, only: &str) -> anyhow::Result<T> {
    in_child_quick(templates_dir, only, false)
}

/// [`in_child`], passing `--quick` on.
fn in_child_quick<T: serde::de::DeserializeOwned>(templates_dir: &Path, only: &str, quick: bool) -> anyhow::Result<T> {
    let exe = std::env::current_exe().context("cannot find the naskah executable")?;
    let mut args = vec!["bench", "--only", only, "--no-install"];
    if quick {
        args.push("--quick");
    }
    let output = std::process::Command::new(&exe)
        .args(&args)
        .env("NASKAH_TEMPLATES_DIR", templates_dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run the {only} child process"))?;
    if !output.status.success() {
        bail!("the {only} child process failed ({})", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("cannot read the {only} child process's output: {stdout}"))
}

/// Runs `naskah bench --only <only>` `runs` times; the median time, the largest peak.
fn sk_in_children(templates_dir: &Path, only: &str, runs: usize) -> anyhow::Result<SkResult> {
    let results: Vec<SkResult> = (0..runs.max(1))
        .map(|_| in_child(templates_dir, only))
        .collect::<anyhow::Result<_>>()?;
    let mut seconds: Vec<f64> = results.iter().map(|r| r.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    let first = results[0].clone();
    Ok(SkResult {
        seconds: median,
        peak_mib: results.iter().map(|r| r.peak_mib).fold(0.0, f64::max),
        before_mib: first.before_mib,
        pages: first.pages,
        bytes: first.bytes,
        runs: results.iter().map(|r| r.seconds).collect(),
    })
}

// ---------------------------------------------------------------------------------------
// The report.

/// The machine the numbers were taken on.
#[derive(Debug, Clone)]
struct Machine {
    cpu: String,
    cores: usize,
    memory_gib: f64,
    kernel: String,
    load: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            memory_gib: memory_kib / 1024.0 / 1024.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_string(),
            load: std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

fn today_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

struct Report {
    date: String,
    machine: Machine,
    quick: bool,
    sizes: Sizes,
    ours_letter: LetterResult,
    ours_batch: BatchResult,
    ours_sk: SkResult,
    ours_sk_whole: SkResult,
    ours_memory: MemoryResult,
    finalise: service::FinaliseResult,
    verify_page: service::VerifyPageResult,
    long_term: trust::LongTermResult,
    upload_check: trust::UploadCheckResult,
    imports: Vec<import::ImportResult>,
    import_peers: Vec<Result<import::PeerResult, String>>,
    import_elapsed: Duration,
    peers: peers::Results,
    elapsed: Duration,
}

fn yes(met: bool) -> &'static str {
    if met { "**yes**" } else { "**no**" }
}

fn ratio(peer: f64, ours: f64) -> String {
    if peer.is_finite() && ours > 0.0 {
        format!("{:.1}×", peer / ours)
    } else {
        "—".into()
    }
}

fn outcome_cell(outcome: &peers::Outcome) -> (String, String, Option<f64>) {
    match outcome {
        peers::Outcome::Done { seconds, peak_mib, .. } => (
            format!("{seconds:.2} s"),
            peak_mib.map_or("—".into(), |m| format!("{m:.0} MiB")),
            Some(*seconds),
        ),
        peers::Outcome::TimedOut { after } => (format!("> {after:.0} s (stopped)"), "—".into(), None),
        peers::Outcome::Failed(why) => (format!("failed: {}", why.lines().last().unwrap_or_default()), "—".into(), None),
    }
}

impl Report {
    fn markdown(&self) -> String {
        let m = &self.machine;
        let s = &self.sizes;
        let p = &self.peers;
        let cli = p.typst_cli.as_ref();
        let py = p.typst_py.as_ref();
        let weasy = p.weasy.as_ref();
        let mut o = String::new();
        let _ = writeln!(o, "# Benchmarks\n");
        let _ = writeln!(
            o,
            "Written by `naskah bench`; do not edit by hand. Run it again with\n\n```sh\ncargo run --release -- bench\n```\n\n\
             (`--quick` for a smoke run with smaller peer counts, which prints instead of writing this file; \
             `--no-peers` to measure only naskah; `--no-install` not to run `benches/peers.sh`). \
             The peers are installed by `benches/peers.sh`, which the command runs first: a venv in \
             `/var/tmp/naskah-bench-venv` with PyPI's `typst`, `weasyprint` and `pyhanko`, and the Typst command line \
             (`typst-cli` from crates.io, the same Typst version as the renderer) in `/var/tmp/naskah-bench-tools`.\n"
        );
        let _ = writeln!(o, "- **Date:** {}{}", self.date, if self.quick { " (quick run)" } else { "" });
        let _ = writeln!(
            o,
            "- **Machine:** {} × {} (`nproc` {}), {:.1} GiB RAM, Linux {}; load average at start {}",
            m.cores, m.cpu, m.cores, m.memory_gib, m.kernel, m.load
        );
        let _ = writeln!(o, "- **naskah:** in-process Typst 0.15 (release build), embedded fonts");
        let _ = writeln!(
            o,
            "- **Peers:** {}; {}; {}",
            cli.map_or("Typst CLI: not measured".into(), |c| format!("Typst CLI `{}`", c.version)),
            py.map_or("PyPI typst: not measured".into(), |t| format!("PyPI `typst` {}", t.version)),
            weasy.map_or("WeasyPrint: not measured".into(), |w| format!("WeasyPrint {}", w.version)),
        );
        let _ = writeln!(o, "- **Whole run:** {:.0} s\n", self.elapsed.as_secs_f64());
        let _ = writeln!(
            o,
            "Absolute times move with the machine's load (this is a shared 2-core machine); the ratios, \
             measured in the same run on the same documents, are the numbers to compare.\n"
        );

        // Summary.
        let letter = self.ours_letter.median_ms;
        let cli_letter = cli.map_or(f64::NAN, |c| c.letter.median_ms);
        let weasy_letter = weasy.map_or(f64::NAN, |w| w.warm.median_ms);
        let batch_total = s.batch_letters;
        let cli_batch = cli.and_then(|c| c.batch.as_ref()).map_or(f64::NAN, |b| b.scaled(batch_total));
        let weasy_batch = weasy.and_then(|w| w.batch.as_ref()).map_or(f64::NAN, |b| b.scaled(batch_total));
        let (cli_sk, cli_sk_mem, cli_sk_s) = cli.map_or(("—".into(), "—".into(), None), |c| outcome_cell(&c.sk));
        let (weasy_sk, weasy_sk_mem, weasy_sk_s) = weasy.map_or(("—".into(), "—".into(), None), |w| outcome_cell(&w.sk));
        let sk = &self.ours_sk;
        let vs_cli = cli_letter / letter;
        let vs_weasy = weasy_letter / letter;
        let measured = |v: f64, met: bool| if v.is_finite() { yes(met) } else { "not measured" };
        let _ = writeln!(o, "## Targets\n");
        let _ = writeln!(o, "| target (from the issue) | measured | met |");
        let _ = writeln!(o, "|---|---:|---|");
        let _ = writeln!(
            o,
            "| one-page letter, warm: ≤ {TARGET_LETTER_MS} ms per letter (median) | {letter:.2} ms | {} |",
            yes(letter <= TARGET_LETTER_MS)
        );
        let _ = writeln!(
            o,
            "| one-page letter: ≥ {TARGET_LETTER_VS_CLI}× faster than the Typst CLI, one process per document | {} | {} |",
            ratio(cli_letter, letter),
            measured(vs_cli, vs_cli >= TARGET_LETTER_VS_CLI)
        );
        let _ = writeln!(
            o,
            "| one-page letter: ≥ {TARGET_LETTER_VS_WEASY}× faster than WeasyPrint | {} | {} |",
            ratio(weasy_letter, letter),
            measured(vs_weasy, vs_weasy >= TARGET_LETTER_VS_WEASY)
        );
        let _ = writeln!(
            o,
            "| {batch_total} confirmation letters with {}-row attachments, one batch on 2 cores: ≤ {TARGET_BATCH_S} s | {:.2} s | {} |",
            s.batch_rows,
            self.ours_batch.seconds,
            yes(self.ours_batch.seconds <= TARGET_BATCH_S)
        );
        let _ = writeln!(
            o,
            "| SK with {} rows: ≤ {TARGET_SK_S} s | {:.2} s | {} |",
            s.sk_rows,
            sk.seconds,
            yes(sk.seconds <= TARGET_SK_S)
        );
        // The issue puts the straightforward table at about 4 s "here" against the 2 s
        // target; on a slower or busier machine the same ratio is the fair reading.
        let cli_sk_seconds = cli_sk_s.unwrap_or(f64::NAN);
        let _ = writeln!(
            o,
            "| SK with {} rows, the same target read as a ratio (issue: the straightforward table ~{TARGET_SK_REFERENCE_S} s, target ≤ {TARGET_SK_S} s): ≥ {:.0}× faster than the Typst CLI's one compile, here {} | {} | {} |",
            s.sk_rows,
            TARGET_SK_REFERENCE_S / TARGET_SK_S,
            fmt_s(cli_sk_seconds),
            ratio(cli_sk_seconds, sk.seconds),
            measured(
                cli_sk_seconds / sk.seconds,
                cli_sk_seconds / sk.seconds >= TARGET_SK_REFERENCE_S / TARGET_SK_S
            )
        );
        let _ = writeln!(
            o,
            "| SK with {} rows: ≤ {TARGET_SK_MIB} MiB peak memory | {:.0} MiB | {} |",
            s.sk_rows,
            sk.peak_mib,
            yes(sk.peak_mib <= TARGET_SK_MIB)
        );
        o.push_str(&service::target_rows(&self.finalise, &self.verify_page));
        o.push_str(&trust::target_rows(&self.long_term, &self.upload_check));
        o.push_str(&import::target_row(&self.imports));
        o.push('\n');
        let _ = writeln!(o, "## Side by side\n");
        let _ = writeln!(
            o,
            "| benchmark | naskah | Typst CLI, one process per document | WeasyPrint | naskah faster than Typst CLI | naskah faster than WeasyPrint |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            o,
            "| one-page letter, warm (median) | {letter:.2} ms | {} | {} | **{}** | **{}** |",
            fmt_ms(cli_letter),
            fmt_ms(weasy_letter),
            ratio(cli_letter, letter),
            ratio(weasy_letter, letter),
        );
        let _ = writeln!(
            o,
            "| {} confirmation letters × {} rows, 2 workers | {:.2} s | {} | {} | **{}** | **{}** |",
            batch_total,
            s.batch_rows,
            self.ours_batch.seconds,
            fmt_s(cli_batch),
            fmt_s(weasy_batch),
            ratio(cli_batch, self.ours_batch.seconds),
            ratio(weasy_batch, self.ours_batch.seconds),
        );
        let _ = writeln!(
            o,
            "| SK with {} rows: time | {:.2} s | {cli_sk} | {weasy_sk} | **{}** | **{}** |",
            s.sk_rows,
            sk.seconds,
            cli_sk_s.map_or("—".into(), |c| ratio(c, sk.seconds)),
            weasy_sk_s.map_or("—".into(), |w| ratio(w, sk.seconds)),
        );
        let _ = writeln!(
            o,
            "| SK with {} rows: peak memory | {:.0} MiB | {cli_sk_mem} | {weasy_sk_mem} | | |\n",
            s.sk_rows, sk.peak_mib,
        );
        if cli.and_then(|c| c.batch.as_ref()).is_some_and(|b| b.documents < batch_total)
            || weasy.and_then(|w| w.batch.as_ref()).is_some_and(|b| b.documents < batch_total)
        {
            let _ = writeln!(
                o,
                "Peer batch times marked \"scaled\" below were measured on fewer letters and scaled linearly to {batch_total}.\n"
            );
        }

        // 1. The letter.
        let l = &self.ours_letter;
        let _ = writeln!(o, "## 1. One-page data-request letter, warm\n");
        let _ = writeln!(
            o,
            "`surat-permintaan-data` with its `contoh.json`, the demo department and its SVG logo: {} page(s), {} bytes of PDF. \
             naskah renders it {} times after {} warm-up renders in one process, each a complete compile and PDF export \
             (`render_pdf_blocking`, with the same cache eviction after every job as in production: an ordinary letter keeps only the memoised work it used, so the next one reuses the parsed template and shared parts; section 4 shows that memory stays flat).\n",
            l.pages, l.bytes, l.timings.runs, s.warm_up
        );
        let _ = writeln!(o, "| producer | runs | median | p90 | min | vs naskah (median) |");
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
        let row = |o: &mut String, name: &str, t: &Timings| {
            let _ = writeln!(
                o,
                "| {name} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
                t.runs,
                t.median_ms,
                t.p90_ms,
                t.min_ms,
                ratio(t.median_ms, l.median_ms)
            );
        };
        row(&mut o, "**naskah**, warm, in process", &l.timings);
        if let Some(c) = cli {
            row(&mut o, "Typst CLI, one process per document", &c.letter);
        }
        if let Some(t) = py {
            row(&mut o, "PyPI `typst`, one Python process per document", &t.one_process);
            row(&mut o, "PyPI `typst`, warm, in one Python process (for reference)", &t.in_process);
        }
        if let Some(w) = weasy {
            row(&mut o, "WeasyPrint, warm, in one Python process", &w.warm);
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "- naskah's first render in a fresh process (fonts and library already loaded by `Renderer::load`): {:.1} ms.",
            l.first_ms
        );
        if let Some(c) = cli {
            let _ = writeln!(
                o,
                "- Typst CLI output: {} page(s) (naskah: {}).",
                c.letter_pages.map_or("?".into(), |p| p.to_string()),
                l.pages
            );
        }
        if let Some(w) = weasy {
            let _ = writeln!(
                o,
                "- WeasyPrint: {} page(s); importing it takes {:.0} ms, its first conversion in a process {:.0} ms, and one whole \
                 process for one letter (interpreter, import, conversion) {}.",
                w.pages,
                w.import_ms,
                w.first_ms,
                w.cold_process_ms.map_or("—".into(), |t| format!("{t:.0} ms"))
            );
        }
        let _ = writeln!(o);

        // 2. The batch.
        let b = &self.ours_batch;
        let _ = writeln!(
            o,
            "## 2. {} confirmation letters, each with a {}-row attachment, as one batch on 2 cores\n",
            batch_total, s.batch_rows
        );
        let _ = writeln!(
            o,
            "`surat-konfirmasi-desa`, one letter per village in turn (54 villages of the demo regency), 40 synthetic \
             candidates each (deterministic NIK, names, dates). naskah: {} worker threads each calling `render_pdf_blocking` \
             on the next letter; {} letters, {} pages in all. Typst CLI: two processes at a time, one per letter. \
             WeasyPrint: a pool of two warmed worker processes.\n",
            s.workers, b.letters, b.pages
        );
        let _ = writeln!(
            o,
            "| producer | letters measured | seconds | for {batch_total} letters | per letter | vs naskah |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            o,
            "| **naskah** | {} | {:.2} s | {:.2} s | {:.1} ms | 1.0× |",
            b.letters,
            b.seconds,
            b.seconds,
            b.seconds * 1000.0 / b.letters.max(1) as f64
        );
        let peer_batch = |o: &mut String, name: &str, batch: Option<&peers::Batch>| match batch {
            Some(pb) => {
                let total = pb.scaled(batch_total);
                let _ = writeln!(
                    o,
                    "| {name} | {} | {:.2} s | {:.2} s{} | {:.1} ms | {} |",
                    pb.documents,
                    pb.seconds,
                    total,
                    if pb.documents < batch_total { " (scaled)" } else { "" },
                    total * 1000.0 / batch_total as f64,
                    ratio(total, b.seconds)
                );
            }
            None => {
                let _ = writeln!(o, "| {name} | — | not measured | | | |");
            }
        };
        if cli.is_some() {
            peer_batch(&mut o, "Typst CLI, one process per letter", cli.and_then(|c| c.batch.as_ref()));
        }
        if weasy.is_some() {
            peer_batch(&mut o, "WeasyPrint, 2 processes", weasy.and_then(|w| w.batch.as_ref()));
        }
        let _ = writeln!(o);

        // 3. The SK.
        let _ = writeln!(o, "## 3. The SK with a {}-row attachment\n", s.sk_rows);
        let whole = &self.ours_sk_whole;
        let _ = writeln!(
            o,
            "`sk-penerima-bantuan-iuran` with {} synthetic beneficiaries spread over the 54 villages of 4 kecamatan: \
             the decree, then the attachment grouped by kecamatan and desa with subtotals, the grand total and the table \
             header repeated on every page. naskah renders it in a child process of its own (`naskah bench --only sk`), \
             which reports the render's wall time and the process's peak resident memory (`VmHWM`, including the \
             loaded renderer and fonts: {:.0} MiB before the render started).\n\n\
             **naskah's path for long lists** (`letters::parts::render_pdf_blocking`, above {} rows): the decree and each \
             desa's stretch of the attachment are compiled as separate parts on 2 threads \
             (`Renderer::render_joined_pdf_blocking`, Typst's caches dropped after each part), their pages joined, and \
             the page furniture (KONSEP watermark, \"Halaman x dari y\") drawn by one more part once the page count is \
             known. Each desa therefore starts on a new page ({} pages instead of {}), and the joined PDF is not tagged \
             ({:.1} MB instead of {:.1} MB). The same template in one compile, as the Typst CLI does it, is shown for \
             comparison (its time includes dropping Typst's caches afterwards, as every naskah render does). Runs in parts: {}.\n",
            s.sk_rows,
            sk.before_mib,
            letters::parts::PART_THRESHOLD,
            sk.pages,
            whole.pages,
            sk.bytes as f64 / 1e6,
            whole.bytes as f64 / 1e6,
            sk.runs.iter().map(|r| format!("{r:.2} s")).collect::<Vec<_>>().join(", ")
        );
        let _ = writeln!(o, "| producer | wall time | peak memory | pages | vs naskah (time) |");
        let _ = writeln!(o, "|---|---:|---:|---:|---:|");
        let _ = writeln!(
            o,
            "| **naskah, in parts** (median of {}) | {:.2} s | {:.0} MiB | {} | 1.0× |",
            sk.runs.len(),
            sk.seconds,
            sk.peak_mib,
            sk.pages
        );
        let _ = writeln!(
            o,
            "| naskah, one compile (for comparison) | {:.2} s | {:.0} MiB | {} | {} |",
            whole.seconds,
            whole.peak_mib,
            whole.pages,
            ratio(whole.seconds, sk.seconds)
        );
        let sk_row = |o: &mut String, name: &str, outcome: &peers::Outcome| {
            let (time, mem, secs) = outcome_cell(outcome);
            let pages = match outcome {
                peers::Outcome::Done { pages: Some(p), .. } => p.to_string(),
                _ => "—".into(),
            };
            let _ = writeln!(
                o,
                "| {name} | {time} | {mem} | {pages} | {} |",
                secs.map_or("—".into(), |t| ratio(t, sk.seconds))
            );
        };
        if let Some(c) = cli {
            sk_row(&mut o, "Typst CLI, one process (whole process)", &c.sk);
        }
        if let Some(w) = weasy {
            sk_row(&mut o, "WeasyPrint (conversion only, one process)", &w.sk);
        }
        let _ = writeln!(o);

        // 4. Memory.
        let mem = &self.ours_memory;
        let _ = writeln!(o, "## 4. Memory over many different documents\n");
        let _ = writeln!(
            o,
            "One process (`naskah bench --only memory`) renders {} data-request letters, each with its own subject and \
             addressees, on 2 threads, plus a 40-row confirmation letter after every tenth and a 1,500-row SK (one \
             compile, below the parts threshold) after every thousandth, with production's cache eviction after each \
             job. Its resident set (`VmRSS`) at checkpoints; {:.0} MiB before the first document, peak {:.0} MiB, \
             {:.1} s in all. The step after the first SK is the allocator keeping the pages that SK used for the next \
             long document; after it the resident set no longer grows with the number of documents.\n",
            s.memory_letters, mem.start_mib, mem.peak_mib, mem.seconds
        );
        let _ = writeln!(o, "| letters rendered | resident memory |");
        let _ = writeln!(o, "|---:|---:|");
        for c in &mem.checkpoints {
            let _ = writeln!(o, "| {} | {:.0} MiB |", c.documents, c.rss_mib);
        }
        let _ = writeln!(o);

        o.push_str(&service::sections(&self.finalise, &self.verify_page));
        o.push_str(&import::section(7, &self.imports, &self.import_peers, self.import_elapsed));
        o.push_str(&trust::sections(&self.long_term, &self.upload_check, 8));

        // How.
        let _ = writeln!(o, "## How it is measured\n");
        let _ = writeln!(
            o,
            "- **Same documents.** naskah builds every job through its public API (`letters::draft_job` with \
             `demo::department()` and `demo::DEMO_LOGO_SVG`). For the Typst peers each job is exported as a folder \
             holding the template's folder, `_shared/`, the job's `/data.json` and `/logo.svg`, compiled with \
             `typst compile --root <folder> --font-path letter_templates/fonts --ignore-system-fonts`, so the CLI \
             compiles the identical template, data and fonts. WeasyPrint converts an HTML + CSS equivalent generated \
             from the same `/data.json` (`src/bench/html.rs`: letterhead with logo and double rule, heading table, \
             addressees, body, signature block with the QR placeholder, KONSEP watermark, \"Halaman x dari y\" footer, \
             landscape attachment, grouped SK table with a repeating header) with the same font files.\n\
             - **Warm** means the producer is already loaded: naskah's `Renderer` and WeasyPrint's module in a \
             running process. \"One process per document\" includes process start, font loading and compile.\n\
             - naskah runs with mimalloc as its global allocator (`src/main.rs`), like the binary that serves.\n\
             - **Peak memory** is the peak resident set size of the process doing only that document \
             (`VmHWM` for naskah, `getrusage` for the peers).\n\
             - Counts: naskah {} warm letters; Typst CLI and PyPI typst {} letters; WeasyPrint {} warm letters; \
             batch: naskah {} letters, Typst CLI {}, WeasyPrint {}; SK: naskah {} run(s), peers one run each \
             (time limit {} s for WeasyPrint).\n",
            s.warm_runs,
            s.cli_letter_runs,
            s.weasy_letter_runs,
            s.batch_letters,
            s.cli_batch_letters,
            s.weasy_batch_letters,
            s.sk_runs,
            s.weasy_sk_timeout.as_secs()
        );
        if !p.notes.is_empty() {
            let _ = writeln!(o, "## Notes\n");
            for note in &p.notes {
                let _ = writeln!(o, "- {note}");
            }
            let _ = writeln!(o);
        }
        o
    }
}

fn fmt_ms(v: f64) -> String {
    if v.is_finite() { format!("{v:.2} ms") } else { "—".into() }
}

fn fmt_s(v: f64) -> String {
    if v.is_finite() { format!("{v:.2} s") } else { "—".into() }
}
