//! Timing and memory probe of the Typst renderer.
//!
//! ```sh
//! cargo run --release -p naskah-bench --example render_probe            # timings, peak memory, PDF hash
//! cargo run --release -p naskah-bench --example render_probe -- out     # also writes out/letter.pdf, .png
//! ```
//!
//! It renders the test letter of `crates/naskah-render/src/rendering/testdata/letter.typ` (a letterhead, three
//! paragraphs and a table of 5 rows, one A4 page) warm, then the same template with a
//! 1000-row table, then the 1000-row document 30 times while watching the process's
//! resident memory, which stays flat because the renderer evicts Typst's caches after
//! every job.

use std::time::{Duration, Instant};

use naskah::rendering::{RenderJob, Renderer};
use serde_json::json;
use sha2::{Digest, Sha256};

fn letter_data(rows: usize) -> serde_json::Value {
    json!({
        "number": "500.15/123/Disnaker",
        "subject": "Permohonan data pekerja rentan",
        "recipient": "Kepala Desa Sotek",
        "signer": "Dr. H. Contoh Nama, S.E., M.Si.",
        "paragraphs": [
            "Dalam rangka pelaksanaan program perlindungan jaminan sosial ketenagakerjaan bagi pekerja rentan di Kabupaten Penajam Paser Utara, kami mohon bantuan Saudara untuk menyampaikan data pekerja rentan di wilayah desa Saudara.",
            "Data tersebut akan digunakan sebagai dasar penetapan penerima bantuan iuran BPJS Ketenagakerjaan tahun anggaran berjalan. Mohon data disampaikan paling lambat empat belas hari sejak surat ini diterima.",
            "Demikian disampaikan, atas perhatian dan kerja samanya diucapkan terima kasih.",
        ],
        "rows": (0..rows).map(|i| json!({
            "name": format!("Pekerja Nomor {i}"),
            "nik": format!("6409{i:012}"),
            "village": "Sotek",
        })).collect::<Vec<_>>(),
    })
}

/// (current, peak) resident set size in MiB, from /proc (Linux only).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn summary(mut times: Vec<Duration>) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    format!(
        "n={} min {:.1} ms, median {:.1} ms, mean {:.1} ms, max {:.1} ms",
        times.len(),
        ms(times[0]),
        ms(times[times.len() / 2]),
        mean,
        ms(times[times.len() - 1])
    )
}

fn main() {
    let out_dir = std::env::args().nth(1);
    let renderer = Renderer::from_files(
        vec![(
            "/probe/letter.typ".into(),
            include_bytes!("../../naskah-render/src/rendering/testdata/letter.typ").to_vec(),
        )],
        2,
    );
    let job = |rows| RenderJob {
        today: chrono::NaiveDate::from_ymd_opt(2025, 3, 17),
        document_id: Some("probe".into()),
        ..RenderJob::new("/probe/letter.typ", letter_data(rows))
    };

    let letter = job(5);
    let started = Instant::now();
    let first = renderer.render_pdf_blocking(&letter).expect("letter renders");
    println!(
        "letter (5 rows): first render {:.1} ms, {} page(s), {} bytes, sha256 {}",
        started.elapsed().as_secs_f64() * 1000.0,
        first.pages,
        first.pdf.len(),
        hex::encode(Sha256::digest(&first.pdf))
    );
    let times: Vec<Duration> = (0..100)
        .map(|_| {
            let started = Instant::now();
            let rendered = renderer.render_pdf_blocking(&letter).expect("letter renders");
            assert_eq!(rendered.pdf, first.pdf, "output changed between renders");
            started.elapsed()
        })
        .collect();
    println!("letter (5 rows), warm PDF: {}", summary(times));
    let times: Vec<Duration> = (0..20)
        .map(|_| {
            let started = Instant::now();
            renderer.render_png_blocking(&letter, 0, 2.0).expect("png renders");
            started.elapsed()
        })
        .collect();
    println!("letter (5 rows), warm PNG at 2 px/pt: {}", summary(times));

    if let Some(dir) = &out_dir {
        std::fs::create_dir_all(dir).expect("output folder");
        std::fs::write(format!("{dir}/letter.pdf"), &first.pdf).expect("write pdf");
        let png = renderer.render_png_blocking(&letter, 0, 2.0).expect("png renders");
        std::fs::write(format!("{dir}/letter.png"), &png.png).expect("write png");
        println!("wrote {dir}/letter.pdf and {dir}/letter.png ({}×{} px)", png.width, png.height);
    }

    let big = job(1000);
    let (rss_before, _) = rss_mib();
    let mut times = Vec::new();
    let mut pages = 0;
    for i in 1..=30 {
        let started = Instant::now();
        let rendered = renderer.render_pdf_blocking(&big).expect("1000 rows render");
        times.push(started.elapsed());
        pages = rendered.pages;
        if i == 1 || i % 5 == 0 {
            let (rss, peak) = rss_mib();
            println!(
                "1000 rows, render {i:2}: {:.0} ms, RSS {rss:.0} MiB, peak {peak:.0} MiB",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
    let (rss_after, peak) = rss_mib();
    println!("1000 rows ({pages} pages) PDF: {}", summary(times));
    println!("memory: RSS {rss_before:.0} MiB before the 30 renders, {rss_after:.0} MiB after, peak {peak:.0} MiB");
}
