//! Measuring in this process and in child processes: times, peak memory.

use super::*;

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
pub(crate) struct LetterResult {
    pub(crate) timings: Timings,
    pub(crate) median_ms: f64,
    /// The first render in this process (fonts and library already loaded by
    /// `Renderer::load`).
    pub(crate) first_ms: f64,
    pub(crate) pages: usize,
    pub(crate) bytes: usize,
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn render(renderer: &Renderer, job: &RenderJob) -> anyhow::Result<Rendered> {
    renderer
        .render_pdf_blocking(job)
        .with_context(|| format!("cannot render {}", job.main))
}

pub(crate) fn warm_letter(renderer: &Renderer, job: &RenderJob, sizes: Sizes) -> anyhow::Result<LetterResult> {
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
pub(crate) struct BatchResult {
    pub(crate) letters: usize,
    pub(crate) seconds: f64,
    pub(crate) pages: usize,
}

/// The batch as the service renders one (`Workflow::create_batch`): every letter handed
/// to [`Renderer::render_pdf`] at once; the renderer's permits (`workers`, set when it was
/// loaded) bound how many compile at a time, on its own threads.
pub(crate) fn batch(renderer: &Renderer, jobs: &[RenderJob]) -> anyhow::Result<BatchResult> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let started = Instant::now();
    let pages = runtime.block_on(async {
        let mut rendering = tokio::task::JoinSet::new();
        for job in jobs {
            let (renderer, job) = (renderer.clone(), job.clone());
            rendering.spawn(async move {
                let main = job.main.clone();
                renderer.render_pdf(job).await.with_context(|| format!("cannot render {main}"))
            });
        }
        let mut pages = 0;
        while let Some(joined) = rendering.join_next().await {
            pages += joined.context("a batch task was lost")??.pages;
        }
        anyhow::Ok(pages)
    })?;
    Ok(BatchResult {
        letters: jobs.len(),
        seconds: started.elapsed().as_secs_f64(),
        pages,
    })
}

/// The SK, measured in a process of its own.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SkResult {
    pub(crate) seconds: f64,
    /// Peak resident memory of the whole process (`VmHWM`).
    pub(crate) peak_mib: f64,
    /// Peak resident memory before the render started (renderer loaded, data built).
    pub(crate) before_mib: f64,
    pub(crate) pages: usize,
    pub(crate) bytes: usize,
    /// Every run's seconds (the parent's summary).
    #[serde(default)]
    pub(crate) runs: Vec<f64>,
}

/// `VmHWM` of this process, in MiB (Linux).
pub(crate) fn peak_rss_mib() -> f64 {
    proc_status_kib("VmHWM:").map_or(f64::NAN, |kib| kib / 1024.0)
}

pub(crate) fn proc_status_kib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
}

pub(crate) fn sk_in_this_process(
    renderer: &Renderer,
    docs: &Documents,
    rows: usize,
    in_parts: bool,
) -> anyhow::Result<(SkResult, Vec<u8>)> {
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
pub(crate) struct MemoryResult {
    /// Before the first document (renderer loaded, data built).
    pub(crate) start_mib: f64,
    pub(crate) checkpoints: Vec<MemoryCheckpoint>,
    /// The largest resident set seen (`VmHWM`).
    pub(crate) peak_mib: f64,
    pub(crate) seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct MemoryCheckpoint {
    pub(crate) documents: usize,
    pub(crate) rss_mib: f64,
}

/// What production does over a day: `letters` different data-request letters (each with
/// its own subject and addressees), a confirmation letter with 40 candidates after every
/// tenth, and an SK with 1,500 rows after every thousandth, on two threads; the
/// resident set (`VmRSS`) is read at checkpoints. With flat memory it stops growing after
/// the first few hundred.
pub(crate) fn memory_in_this_process(renderer: &Renderer, docs: &Documents, letters: usize) -> anyhow::Result<MemoryResult> {
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

pub(crate) fn memory_in_child(templates_dir: &Path) -> anyhow::Result<MemoryResult> {
    in_child(templates_dir, "memory")
}

/// Runs `naskah-bench --only <only>` in a process of its own and reads the JSON line it
/// prints last.
pub(crate) fn in_child<T: serde::de::DeserializeOwned>(templates_dir: &Path, only: &str) -> anyhow::Result<T> {
    in_child_quick(templates_dir, only, false)
}

/// [`in_child`], passing `--quick` on.
pub(crate) fn in_child_quick<T: serde::de::DeserializeOwned>(templates_dir: &Path, only: &str, quick: bool) -> anyhow::Result<T> {
    let exe = std::env::current_exe().context("cannot find the naskah-bench executable")?;
    let mut args = vec!["--only", only, "--no-install"];
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

/// Runs `naskah-bench --only <only>` `runs` times; the median time, the largest peak.
pub(crate) fn sk_in_children(templates_dir: &Path, only: &str, runs: usize) -> anyhow::Result<SkResult> {
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
