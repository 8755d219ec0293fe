//! The in-process Typst renderer: template + JSON data → PDF, or PNG of one page.
//!
//! A [`Renderer`] is built once. It reads every file of the template folder
//! (`letter_templates/`, except its `fonts/`) into memory; a compile then sees only
//!
//! - that preloaded folder, at virtual paths like `/surat-dinas/template.typ`;
//! - the job's data, as JSON at the fixed path [`DATA_PATH`] (`/data.json`); a template
//!   reads it with `#let data = json("/data.json")`;
//! - the job's own files (logo, QR code, …), each at one of the fixed paths of
//!   [`REQUEST_FILES`];
//! - the embedded fonts of [`fonts`] (no system font is ever looked at);
//! - the job's date as `datetime.today()`.
//!
//! No disk, no network, no packages (`#import "@preview/…"` fails with a clear error),
//! no system fonts. Values never become Typst code: they travel as JSON and a template
//! prints them as text (`#data.perihal`), so `*`, `#read(..)`, `]` or `= judul` in a field
//! show literally.
//!
//! **Rules for template authors.** Never `eval` a data value, and never pass a data value
//! as a path (`read(data.x)`, `image(data.x)`): Typst interns every distinct file path for
//! the life of the process (at most 2^16), which is also why a job's own files use a small
//! fixed set of paths instead of fresh names.
//!
//! **Output.** The same job gives the same PDF bytes: the PDF's creation date is the job's
//! date, its `/ID` comes from [`RenderJob::document_id`] (or the template path), and the
//! producer is `naskah`.
//!
//! **Memory.** Typst memoises layout and evaluation in process-wide caches (comemo) that
//! grow by tens of MiB per long document and never shrink on their own, so jobs evict
//! ([`Cache`]). Ordinary letters (data up to [`WARM_DATA_BYTES`]) evict by age: every
//! [`EVICT_EVERY`] letters what the letters since the previous eviction did not use is
//! dropped (`evict(1)`), so the next letters reuse the parsed template, shared parts and
//! font work, and what stays is bounded by a few letters' worth. After a long document (a
//! decree with thousands of rows) everything is dropped (`evict(0)`); after each part of
//! a document in parts what no part has used since the previous part is dropped
//! (`evict(1)`), and everything once the joined document is written. Either way memory
//! stays flat over thousands of documents; `naskah-bench` measures it (BENCHMARKS.md,
//! section 4).
//!
//! **Concurrency.** [`Renderer::render_pdf`] and [`Renderer::render_png`] take one of
//! `max_concurrent` permits and run the compile on the renderer's own thread pool (rayon,
//! one thread per core). Typst lays out pages and writes the PDF with rayon too: on a
//! thread of that pool its parallel work is shared out by work stealing, where from any
//! other thread it is handed to a pool and the thread sleeps until it is done (a batch of
//! 300 letters took ~8 % more time and twice the system time that way). The `*_blocking`
//! variants run on the calling thread, for the command line, and take no permit (the
//! parts of a document in parts still compile on the renderer's threads).

pub mod fonts;
mod join;
pub mod svg;
mod world;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use tokio::sync::Semaphore;
use typst::diag::{SourceDiagnostic, Warned};
use typst::foundations::{Datetime, Smart};
use typst::syntax::{DiagSpan, FileId, VirtualRoot};
use typst::{World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

pub use fonts::{FONT_FILES, families};
pub use join::page_count;

use world::{JobWorld, TemplateFile, Templates};

/// Where a job's data appear to the template, as JSON.
pub const DATA_PATH: &str = "/data.json";

/// The only paths a job may give its own files. Each is interned once per process; a
/// template reads them with e.g. `image("/qr.svg")` or `read("/qr.svg", encoding: none)`.
/// A job file shadows a template-folder file of the same path for that job, so a default
/// `/logo.png` in the folder can be replaced per letter. Add a path here rather than
/// inventing one per request.
pub const REQUEST_FILES: &[&str] = &[
    "/logo.svg",
    "/logo.png",
    "/logo.jpg",
    "/qr.svg",
    "/qr.png",
    "/signature.svg",
    "/signature.png",
    "/stamp.svg",
    "/stamp.png",
    "/photo.jpg",
    "/photo.png",
    "/attachment.csv",
    "/attachment.json",
];

/// `datetime.today()` of a job that gives no date: a constant, so output stays
/// reproducible, and an implausible one, so a forgotten date shows.
pub const DEFAULT_TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(date) => date,
    None => panic!("valid date"),
};

/// The folder of the template folder that holds the fonts; not loaded as templates.
const FONTS_DIR: &str = "fonts";

/// Largest PNG the renderer will draw, in pixels (an A4 page at 8 px/pt is ~32 Mpx).
const MAX_PNG_PIXELS: f64 = 40_000_000.0;
/// Accepted pixels per point for PNG output.
const SCALE_RANGE: std::ops::RangeInclusive<f32> = 0.1..=8.0;

/// One document to render.
#[derive(Debug, Clone, Default)]
pub struct RenderJob {
    /// Virtual path of the template's main file, e.g. `/surat-dinas/template.typ`.
    pub main: String,
    /// The data, seen by the template as `json("/data.json")`.
    pub data: serde_json::Value,
    /// The job's own files, each at one of [`REQUEST_FILES`], e.g. `("/qr.svg", svg)`.
    pub files: Vec<(String, Vec<u8>)>,
    /// `datetime.today()` for this job; [`DEFAULT_TODAY`] when `None`. Also the PDF's
    /// creation date.
    pub today: Option<NaiveDate>,
    /// A stable identifier of the document (e.g. the letter's id and revision), hashed
    /// into the PDF's `/ID`; the template path when `None`.
    pub document_id: Option<String>,
}

impl RenderJob {
    /// A job for `main` with `data`, no files, the default date.
    pub fn new(main: impl Into<String>, data: serde_json::Value) -> Self {
        Self {
            main: main.into(),
            data,
            ..Self::default()
        }
    }
}

/// A rendered PDF.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    pub pages: usize,
}

/// One page rendered as PNG.
#[derive(Debug, Clone)]
pub struct RenderedPng {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Pages in the whole document.
    pub pages: usize,
}

/// Why a render failed. `Display` is meant for the user, in Indonesian; no variant carries
/// a backtrace.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    /// The template does not compile (or its output cannot be exported). The first error
    /// Typst reports, with its place: `file` is the virtual path, `line` and `column`
    /// count from 1 (column in characters). They are `None` when Typst gives no place.
    #[error("{}", template_message(file.as_deref(), *line, *column, message, hints))]
    Template {
        file: Option<String>,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
        hints: Vec<String>,
    },
    /// No template file at the job's `main` path.
    #[error("Templat {0} tidak ditemukan.")]
    UnknownTemplate(String),
    /// The job itself is malformed (a file at a path not in [`REQUEST_FILES`], a bad date,
    /// a bad scale); a programming error of the caller.
    #[error("Permintaan render tidak sah: {0}")]
    InvalidJob(String),
    /// The page asked for does not exist (`page` counts from 0).
    #[error("Halaman {} tidak ada; dokumen ini {pages} halaman.", page + 1)]
    PageOutOfRange { page: usize, pages: usize },
    /// A bug, caught: Typst panicked, the blocking task was lost, PNG encoding failed.
    /// The detail is for the log, not the user.
    #[error("Terjadi kesalahan internal saat menyusun dokumen.")]
    Internal(String),
}

fn template_message(file: Option<&str>, line: Option<usize>, column: Option<usize>, message: &str, hints: &[String]) -> String {
    let mut out = String::from("Templat");
    if let Some(file) = file {
        out.push(' ');
        out.push_str(file);
    }
    if let Some(line) = line {
        out.push_str(&format!(" baris {line}"));
        if let Some(column) = column {
            out.push_str(&format!(" kolom {column}"));
        }
    }
    out.push_str(": ");
    out.push_str(message);
    for hint in hints {
        out.push_str(" (petunjuk: ");
        out.push_str(hint);
        out.push(')');
    }
    out
}

/// Could not read the template folder. The message leaves the I/O error to the
/// `source` chain, which `{:#}` prints once.
#[derive(Debug, thiserror::Error)]
#[error("{} tidak dapat dibaca", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The renderer: the preloaded template folder, a concurrency limit and the threads that
/// compile. Cheap to clone.
#[derive(Clone)]
pub struct Renderer {
    templates: Arc<Templates>,
    permits: Arc<Semaphore>,
    pool: Arc<rayon::ThreadPool>,
}

/// Stack of each compiling thread. A thread that waits for its share of parallel work may
/// meanwhile run another job's compile on top of its own stack, so there may be as many
/// compiles on one stack as there are permits; reserved, not committed, memory.
const RENDER_THREAD_STACK: usize = 64 << 20;

fn render_pool() -> rayon::ThreadPool {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(RENDER_THREAD_STACK)
        .thread_name(|i| format!("naskah-render-{i}"))
        .build()
        // Fails only when the system cannot start a thread at all, at start-up, where
        // nothing else could run either.
        .expect("cannot start the render threads")
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("files", &self.templates.by_path.len())
            .field("available_permits", &self.permits.available_permits())
            .finish()
    }
}

impl Renderer {
    /// Reads every file under `templates_dir` (except `fonts/`, hidden entries and
    /// symbolic links) into memory. At most `max_concurrent` (≥ 1) async renders run at
    /// once.
    pub fn load(templates_dir: &Path, max_concurrent: usize) -> Result<Self, LoadError> {
        let mut files = Vec::new();
        read_tree(templates_dir, templates_dir, &mut files)?;
        Ok(Self::from_files(files, max_concurrent))
    }

    /// A renderer over an in-memory folder: `(virtual path, bytes)` pairs such as
    /// `("/surat/template.typ", …)`. Paths that escape the root are skipped.
    pub fn from_files(files: Vec<(String, Vec<u8>)>, max_concurrent: usize) -> Self {
        let mut templates = Templates {
            files: HashMap::new(),
            by_path: HashMap::new(),
        };
        for (path, bytes) in files {
            let Some(normalised) = world::normalise(&path) else {
                tracing::warn!(path, "template file path escapes the root; skipped");
                continue;
            };
            if normalised == DATA_PATH {
                tracing::warn!(path, "a template file may not be called /data.json; skipped");
                continue;
            }
            let Some(id) = world::project_id(&normalised) else { continue };
            templates.files.insert(id, TemplateFile::new(bytes));
            templates.by_path.insert(normalised, id);
        }
        // Parse the fonts and build the standard library now, not in the first request.
        world::warm_up();
        Self {
            templates: Arc::new(templates),
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            pool: Arc::new(render_pool()),
        }
    }

    /// Whether the folder has a file at this virtual path.
    pub fn has_file(&self, path: &str) -> bool {
        self.file(path).is_some()
    }

    /// A preloaded file's bytes (e.g. a template's `manifest.toml`).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        let normalised = world::normalise(path)?;
        let id = self.templates.by_path.get(&normalised)?;
        Some(self.templates.files.get(id)?.bytes.as_slice())
    }

    /// The virtual paths of all preloaded files, sorted.
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.templates.by_path.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }

    /// Renders the job to PDF on the renderer's threads, waiting for a permit first.
    pub async fn render_pdf(&self, job: RenderJob) -> Result<Rendered, RenderError> {
        let this = self.clone();
        self.spawn(move || this.render_pdf_blocking(&job)).await
    }

    /// Renders page `page` (from 0) of the job to PNG at `scale` pixels per point
    /// (1.0 = 72 dpi; 2.0 suits a screen preview), on the renderer's threads.
    pub async fn render_png(&self, job: RenderJob, page: usize, scale: f32) -> Result<RenderedPng, RenderError> {
        let this = self.clone();
        self.spawn(move || this.render_png_blocking(&job, page, scale)).await
    }

    /// Renders the job once and returns both the PDF and page `page` as PNG.
    pub async fn render_pdf_and_png(&self, job: RenderJob, page: usize, scale: f32) -> Result<(Rendered, RenderedPng), RenderError> {
        let this = self.clone();
        self.spawn(move || this.render_pdf_and_png_blocking(&job, page, scale)).await
    }

    /// [`render_pdf`](Self::render_pdf) on the calling thread, without a permit.
    pub fn render_pdf_blocking(&self, job: &RenderJob) -> Result<Rendered, RenderError> {
        self.with_document(job, |world, doc| pdf(world, doc, job, Tagged::Yes))
    }

    /// [`render_png`](Self::render_png) on the calling thread, without a permit.
    pub fn render_png_blocking(&self, job: &RenderJob, page: usize, scale: f32) -> Result<RenderedPng, RenderError> {
        check_scale(scale)?;
        self.with_document(job, |_, doc| png(doc, page, scale))
    }

    /// [`render_pdf_and_png`](Self::render_pdf_and_png) on the calling thread, without a
    /// permit.
    pub fn render_pdf_and_png_blocking(&self, job: &RenderJob, page: usize, scale: f32) -> Result<(Rendered, RenderedPng), RenderError> {
        check_scale(scale)?;
        self.with_document(job, |world, doc| Ok((pdf(world, doc, job, Tagged::Yes)?, png(doc, page, scale)?)))
    }

    async fn spawn<T: Send + 'static>(&self, work: impl FnOnce() -> Result<T, RenderError> + Send + 'static) -> Result<T, RenderError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| RenderError::Internal("render semaphore closed".into()))?;
        // The permit moves into the task: a caller that gives up does not free it before
        // the compile it started has finished.
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            // A panic on a pool thread would abort the process; Typst's own are caught in
            // `guarded`, this catches the rest.
            let result = catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| Err(RenderError::Internal("render task panicked".into())));
            // Freed before the caller hears of the result, so that it can count on it.
            drop(permit);
            let _ = done.send(result);
        });
        outcome
            .await
            .map_err(|err| RenderError::Internal(format!("render task lost: {err}")))?
    }

    /// Compiles the job and hands the document to `then`; turns Typst's errors and any
    /// panic into a [`RenderError`]; drops Typst's caches afterwards.
    fn with_document<T>(
        &self,
        job: &RenderJob,
        then: impl FnOnce(&JobWorld<'_>, &PagedDocument) -> Result<T, RenderError>,
    ) -> Result<T, RenderError> {
        let world = self.world(job)?;
        let started = std::time::Instant::now();
        let result = guarded(&job.main, Cache::after(&world), || {
            let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
            for warning in &warnings {
                tracing::debug!(template = %job.main, warning = %describe(&world, warning), "typst warning");
            }
            let document = output.map_err(|errors| template_error(&world, &errors))?;
            then(&world, &document)
        });
        tracing::debug!(template = %job.main, elapsed_ms = started.elapsed().as_millis() as u64, ok = result.is_ok(), "rendered");
        result
    }

    /// Checks the job and builds its world.
    fn world(&self, job: &RenderJob) -> Result<JobWorld<'_>, RenderError> {
        let main = world::normalise(&job.main)
            .and_then(|path| self.templates.by_path.get(&path).copied())
            .ok_or_else(|| RenderError::UnknownTemplate(job.main.clone()))?;
        let mut request_files: Vec<(FileId, typst::foundations::Bytes)> = Vec::with_capacity(job.files.len());
        for (path, bytes) in &job.files {
            let id = world::normalise(path).and_then(|p| world::request_id(&p)).ok_or_else(|| {
                RenderError::InvalidJob(format!(
                    "berkas {path:?} tidak diizinkan; gunakan salah satu dari {}",
                    REQUEST_FILES.join(", ")
                ))
            })?;
            if request_files.iter().any(|(other, _)| *other == id) {
                return Err(RenderError::InvalidJob(format!("berkas {path:?} diberikan dua kali")));
            }
            request_files.push((id, typst::foundations::Bytes::new(bytes.clone())));
        }
        let data =
            serde_json::to_vec(&job.data).map_err(|err| RenderError::InvalidJob(format!("data tidak dapat dijadikan JSON: {err}")))?;
        Ok(JobWorld {
            templates: &self.templates,
            main,
            data: typst::foundations::Bytes::new(data),
            request_files,
            today: typst_date(job.today.unwrap_or(DEFAULT_TODAY))?,
        })
    }
}

/// A job whose data, as JSON, are at most this long is an ordinary letter: the caches it
/// used stay warm for the next job. The data-request letter is about 2 KiB, a
/// confirmation letter with 40 candidates about 12 KiB; a decree with 2,000 rows is
/// about 600 KiB.
pub const WARM_DATA_BYTES: usize = 64 * 1024;

/// What a job leaves of Typst's memoisation caches when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cache {
    /// Keep what the last few jobs used (what the letters of a batch share: the parsed
    /// template, the letterhead, the shared paragraphs, font work); drop the rest every
    /// [`EVICT_EVERY`] jobs.
    KeepRecent,
    /// Drop everything: the job was long, its entries are large and unlikely to recur.
    DropAll,
    /// Drop what was neither created nor used since the previous eviction (`evict(1)`):
    /// for the parts of a long document, compiled side by side, so that a part ending
    /// does not also drop what the part beside it has laid out so far (which would then
    /// be laid out again); each part's entries are gone two evictions later.
    AgeOut,
}

/// Ordinary jobs between two evictions. Each eviction keeps the entries created or hit
/// since the one before, so what stays is bounded by about twice this many letters'
/// worth, and a batch's letters find what the previous ones laid out. (Evicting after
/// every letter also swept every cache 300 times for 300 letters.)
pub const EVICT_EVERY: u64 = 4;

/// Ordinary jobs finished in this process, for [`EVICT_EVERY`].
static ORDINARY_JOBS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Cache {
    fn after(world: &JobWorld<'_>) -> Cache {
        if world.data.len() <= WARM_DATA_BYTES {
            Cache::KeepRecent
        } else {
            Cache::DropAll
        }
    }

    fn evict(self) {
        match self {
            Cache::KeepRecent => {
                let finished = ORDINARY_JOBS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if finished.is_multiple_of(EVICT_EVERY) {
                    // comemo ages every entry by one per eviction and resets the age on
                    // a hit; `evict(1)` keeps what was created or hit since the last one.
                    typst::comemo::evict(1);
                }
            }
            Cache::DropAll => typst::comemo::evict(0),
            Cache::AgeOut => typst::comemo::evict(1),
        }
    }
}

/// Runs one job's Typst work: a panic becomes [`RenderError::Internal`] (logged, never
/// shown), and Typst's memoisation caches are evicted afterwards as `cache` says,
/// whatever happened (after a panic, entirely); a long job also starts with none.
fn guarded<T>(template: &str, cache: Cache, work: impl FnOnce() -> Result<T, RenderError>) -> Result<T, RenderError> {
    if cache == Cache::DropAll {
        // A long document uses nothing the letters before it kept: dropped first, it does
        // not stack its own working set on theirs (the process's peak).
        typst::comemo::evict(0);
    }
    let outcome = catch_unwind(AssertUnwindSafe(work));
    if outcome.is_ok() { cache } else { Cache::DropAll }.evict();
    outcome.unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        tracing::error!(template, panic = %detail, "typst panicked while rendering");
        Err(RenderError::Internal(format!("typst panicked: {detail}")))
    })
}

fn typst_date(date: NaiveDate) -> Result<Datetime, RenderError> {
    u8::try_from(date.month())
        .ok()
        .zip(u8::try_from(date.day()).ok())
        .and_then(|(month, day)| Datetime::from_ymd(date.year(), month, day))
        .ok_or_else(|| RenderError::InvalidJob(format!("tanggal {date} di luar jangkauan")))
}

fn check_scale(scale: f32) -> Result<(), RenderError> {
    if SCALE_RANGE.contains(&scale) {
        Ok(())
    } else {
        Err(RenderError::InvalidJob(format!(
            "skala {scale} piksel per poin di luar {}–{}",
            SCALE_RANGE.start(),
            SCALE_RANGE.end()
        )))
    }
}

/// Whether a PDF carries its structure tree (tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tagged {
    Yes,
    /// For documents joined from parts, whose tags would not form one tree.
    No,
}

fn pdf(world: &JobWorld<'_>, document: &PagedDocument, job: &RenderJob, tagged: Tagged) -> Result<Rendered, RenderError> {
    let options = PdfOptions {
        ident: Smart::Custom(job.document_id.clone().unwrap_or_else(|| job.main.clone())),
        creator: Smart::Custom(Some("naskah".into())),
        timestamp: Some(Timestamp::new_utc(world.today)),
        tagged: tagged == Tagged::Yes,
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(document, &options).map_err(|errors| template_error(world, &errors))?;
    Ok(Rendered {
        pdf,
        pages: document.pages().len(),
    })
}

fn png(document: &PagedDocument, page: usize, scale: f32) -> Result<RenderedPng, RenderError> {
    let pages = document.pages().len();
    let the_page = document.pages().get(page).ok_or(RenderError::PageOutOfRange { page, pages })?;
    let size = the_page.frame.size();
    let pixels = size.x.to_pt() * size.y.to_pt() * f64::from(scale) * f64::from(scale);
    if !pixels.is_finite() || pixels > MAX_PNG_PIXELS {
        return Err(RenderError::InvalidJob(format!(
            "halaman {} terlalu besar untuk skala {scale}",
            page + 1
        )));
    }
    let options = typst_render::RenderOptions {
        pixel_per_pt: typst::utils::Scalar::new(f64::from(scale)),
        render_bleed: false,
    };
    let pixmap = typst_render::render(the_page, &options);
    let png = pixmap
        .encode_png()
        .map_err(|err| RenderError::Internal(format!("PNG encoding failed: {err}")))?;
    Ok(RenderedPng {
        png,
        width: pixmap.width(),
        height: pixmap.height(),
        pages,
    })
}

/// The first error, located.
fn template_error(world: &JobWorld<'_>, errors: &[SourceDiagnostic]) -> RenderError {
    let Some(first) = errors.first() else {
        return RenderError::Internal("typst failed without a diagnostic".into());
    };
    for other in &errors[1..] {
        tracing::debug!(error = %describe(world, other), "further typst error");
    }
    let (file, line, column) = locate(world, first.span);
    RenderError::Template {
        file,
        line,
        column,
        message: first.message.to_string(),
        hints: hints(first),
    }
}

/// The hints of a diagnostic, less those that speak of the Typst command line
/// (`--root`, `--font-path`, …), which mean nothing here.
fn hints(diagnostic: &SourceDiagnostic) -> Vec<String> {
    diagnostic
        .hints
        .iter()
        .map(|hint| hint.v.to_string())
        .filter(|hint| !hint.contains("`--"))
        .collect()
}

/// File, line and column (from 1) of a diagnostic span, as far as they are known.
fn locate(world: &JobWorld<'_>, span: DiagSpan) -> (Option<String>, Option<usize>, Option<usize>) {
    let Some(id) = span.id() else { return (None, None, None) };
    let file = match id.root() {
        VirtualRoot::Project => id.vpath().get_with_slash().to_string(),
        VirtualRoot::Package(spec) => format!("{spec}{}", id.vpath().get_with_slash()),
    };
    let place = world.range(span).and_then(|range| {
        let lines = match world.source(id) {
            Ok(source) => source.lines().clone(),
            Err(_) => world.file(id).ok()?.lines().ok()?,
        };
        lines.byte_to_line_column(range.start)
    });
    match place {
        Some((line, column)) => (Some(file), Some(line + 1), Some(column + 1)),
        None => (Some(file), None, None),
    }
}

/// One diagnostic as a log line.
fn describe(world: &JobWorld<'_>, diagnostic: &SourceDiagnostic) -> String {
    let (file, line, column) = locate(world, diagnostic.span);
    template_message(file.as_deref(), line, column, &diagnostic.message, &hints(diagnostic))
}

/// Collects `(virtual path, bytes)` of every regular file under `dir`.
fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> Result<(), LoadError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError { path, source }
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err(dir))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            tracing::warn!(path = %path.display(), "template file name is not UTF-8; skipped");
            continue;
        };
        if name.starts_with('.') || (dir == root && name == FONTS_DIR) {
            continue;
        }
        let kind = entry.file_type().map_err(io_err(&path))?;
        if kind.is_dir() {
            read_tree(root, &path, out)?;
        } else if kind.is_file() {
            let bytes = std::fs::read(&path).map_err(io_err(&path))?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let virtual_path: Vec<&str> = relative.components().filter_map(|c| c.as_os_str().to_str()).collect();
            out.push((format!("/{}", virtual_path.join("/")), bytes));
        } else {
            tracing::warn!(path = %path.display(), "symbolic link or special file in the template folder; skipped");
        }
    }
    Ok(())
}
