//! The report: the machine, the figures side by side, BENCHMARKS.md.

use super::*;

/// The machine the numbers were taken on.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) memory_gib: f64,
    pub(crate) kernel: String,
    pub(crate) load: String,
}

impl Machine {
    pub(crate) fn read() -> Machine {
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

pub(crate) fn today_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(crate) struct Report {
    pub(crate) date: String,
    pub(crate) machine: Machine,
    pub(crate) quick: bool,
    pub(crate) sizes: Sizes,
    pub(crate) ours_letter: LetterResult,
    pub(crate) ours_batch: BatchResult,
    pub(crate) ours_sk: SkResult,
    pub(crate) ours_sk_whole: SkResult,
    pub(crate) ours_memory: MemoryResult,
    pub(crate) finalise: service::FinaliseResult,
    pub(crate) verify_page: verify::VerifyPageResult,
    pub(crate) long_term: trust::LongTermResult,
    pub(crate) upload_check: trust::UploadCheckResult,
    pub(crate) imports: Vec<import::ImportResult>,
    pub(crate) import_peers: Vec<Result<import::PeerResult, String>>,
    pub(crate) import_elapsed: Duration,
    pub(crate) hostile: hostile::Hostile,
    pub(crate) lists: lists::ListsResult,
    pub(crate) peers: peers::Results,
    pub(crate) elapsed: Duration,
}

pub(crate) fn yes(met: bool) -> &'static str {
    if met { "**yes**" } else { "**no**" }
}

pub(crate) fn ratio(peer: f64, ours: f64) -> String {
    if peer.is_finite() && ours > 0.0 {
        format!("{:.1}×", peer / ours)
    } else {
        "—".into()
    }
}

pub(crate) fn outcome_cell(outcome: &peers::Outcome) -> (String, String, Option<f64>) {
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
    pub(crate) fn markdown(&self) -> String {
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
            "Written by `naskah-bench`; do not edit by hand. Run it again with\n\n```sh\ncargo run --profile dist -p naskah-bench\n```\n\n\
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
        let _ = writeln!(
            o,
            "- **naskah:** in-process Typst 0.15 (`dist` build: release with fat LTO), embedded fonts"
        );
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
            "| the same batch: ≥ {TARGET_BATCH_VS_CLI:.0}× faster than the Typst CLI started once per letter, two at a time | {} | {} |",
            ratio(cli_batch, self.ours_batch.seconds),
            measured(
                cli_batch / self.ours_batch.seconds,
                cli_batch / self.ours_batch.seconds >= TARGET_BATCH_VS_CLI
            )
        );
        let _ = writeln!(
            o,
            "| {} mixed documents in one process (section 4): ≤ {TARGET_MEMORY_MIB:.0} MiB resident | peak {:.0} MiB | {} |",
            s.memory_letters,
            self.ours_memory.peak_mib,
            yes(self.ours_memory.peak_mib <= TARGET_MEMORY_MIB)
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
        o.push_str(&service::target_rows(&self.finalise));
        o.push_str(&verify::target_rows(&self.verify_page));
        o.push_str(&trust::target_rows(&self.long_term, &self.upload_check));
        o.push_str(&import::target_row(&self.imports));
        o.push_str(&hostile::target_rows(&self.hostile));
        o.push_str(&lists::target_rows(&self.lists));
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
             (`render_pdf_blocking`, with the same cache eviction as in production: every four ordinary letters, what those letters did not use is dropped, so the next ones reuse the parsed template and shared parts; section 4 shows that memory stays flat).\n",
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
             candidates each (deterministic NIK, names, dates). naskah: the service's path, every letter handed to `Renderer::render_pdf` \
             at once as a batch job does, {} compiling at a time (the renderer's permits) on its own threads; {} letters, {} pages in all. Typst CLI: two processes at a time, one per letter. \
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
             header repeated on every page. naskah renders it in a child process of its own (`naskah-bench --only sk`), \
             which reports the render's wall time and the process's peak resident memory (`VmHWM`, including the \
             loaded renderer and fonts: {:.0} MiB before the render started).\n\n\
             **naskah's path for long lists** (`letters::parts::render_pdf_blocking`, above {} rows): the decree and each \
             desa's stretch of the attachment are compiled as separate parts on 2 threads \
             (`Renderer::render_joined_pdf_blocking`; after each part Typst's caches drop what no part has used since the previous one, \
             and all of them once the document is written), their pages joined, and \
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
            "One process (`naskah-bench --only memory`) renders {} data-request letters, each with its own subject and \
             addressees, on 2 threads, plus a 40-row confirmation letter after every tenth and a 1,500-row SK (one \
             compile, below the parts threshold) after every thousandth, with production's cache eviction (by age \
             every four letters, entirely after a long document). Its resident set (`VmRSS`) at checkpoints; {:.0} MiB before the first document, peak {:.0} MiB, \
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

        o.push_str(&service::section(&self.finalise));
        o.push_str(&verify::section(6, &self.verify_page));
        o.push_str(&import::section(7, &self.imports, &self.import_peers, self.import_elapsed));
        o.push_str(&trust::sections(&self.long_term, &self.upload_check, 8));
        o.push_str(&hostile::section(10, &self.hostile));
        o.push_str(&lists::section(super::LISTS_SECTION, &self.lists));

        // How.
        let _ = writeln!(o, "## How it is measured\n");
        let _ = writeln!(
            o,
            "- **Same documents.** naskah builds every job through its public API (`letters::draft_job` with \
             `demo::department()` and `demo::DEMO_LOGO_SVG`). For the Typst peers each job is exported as a folder \
             holding the template's folder, `_shared/`, the job's `/data.json` and `/logo.svg`, compiled with \
             `typst compile --root <folder> --font-path letter_templates/fonts --ignore-system-fonts`, so the CLI \
             compiles the identical template, data and fonts. WeasyPrint converts an HTML + CSS equivalent generated \
             from the same `/data.json` (`crates/naskah-bench/src/html.rs`: letterhead with logo and double rule, heading table, \
             addressees, body, signature block with the QR placeholder, KONSEP watermark, \"Halaman x dari y\" footer, \
             landscape attachment, grouped SK table with a repeating header) with the same font files.\n\
             - **Warm** means the producer is already loaded: naskah's `Renderer` and WeasyPrint's module in a \
             running process. \"One process per document\" includes process start, font loading and compile.\n\
             - naskah runs with mimalloc as its global allocator (`src/main.rs`), like the binary that serves, built in this repository's `dist` profile (the release profile with fat LTO and one codegen unit: `Cargo.toml`); the Typst CLI is built as `cargo install typst-cli` builds it (its default release profile, no LTO).\n\
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

pub(crate) fn fmt_ms(v: f64) -> String {
    if v.is_finite() { format!("{v:.2} ms") } else { "—".into() }
}

pub(crate) fn fmt_s(v: f64) -> String {
    if v.is_finite() { format!("{v:.2} s") } else { "—".into() }
}

/// Writes one section (`## {number}. …` up to the next) and its target rows into an
/// existing report at `path`, for a benchmark run on its own (`naskah-bench --only
/// {only}`): the section then names this run's date and machine; the rest of the report
/// stays as its own run wrote it. The old target rows (`is_row`) give way to `rows`.
pub(crate) fn splice(
    path: &Path,
    number: usize,
    section: &str,
    rows: &str,
    is_row: impl Fn(&str) -> bool,
    only: &str,
) -> anyhow::Result<()> {
    let report = std::fs::read_to_string(path).with_context(|| format!("{} cannot be read", path.display()))?;
    let heading = format!("## {number}. ");
    // A section the report does not have yet goes at its end.
    let start = report.find(&heading).unwrap_or(report.len());
    let end = report[start..].find("\n## ").map_or(report.len(), |i| start + i + 1);
    let m = Machine::read();
    let note = format!(
        "(This section and its target rows were measured in a run of their own, `naskah-bench --only {only}`, on {} on \
         {} × {}, load average at start {}.)\n\n",
        today_utc(),
        m.cores,
        m.cpu,
        m.load
    );
    let separator = if start == report.len() && !report.ends_with("\n\n") {
        "\n"
    } else {
        ""
    };
    let updated = format!("{}{separator}{section}{note}{}", &report[..start], &report[end..]);
    let mut lines: Vec<&str> = updated.lines().collect();
    let first = lines.iter().position(|l| is_row(l));
    lines.retain(|l| !is_row(l));
    // New rows go at the end of the targets table.
    let at = first.or_else(|| {
        let targets = lines.iter().position(|l| l.starts_with("## Targets"))?;
        let table = targets + lines[targets..].iter().position(|l| l.starts_with('|'))?;
        Some(table + lines[table..].iter().take_while(|l| l.starts_with('|')).count())
    });
    if let Some(at) = at {
        for (i, row) in rows.lines().enumerate() {
            lines.insert(at + i, row);
        }
    }
    std::fs::write(path, lines.join("\n") + "\n").with_context(|| format!("{} cannot be written", path.display()))?;
    eprintln!("Section {number} of {} rewritten.", path.display());
    Ok(())
}
