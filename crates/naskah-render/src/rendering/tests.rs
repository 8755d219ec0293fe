//! Renderer tests on the small templates of `testdata/`, independent of the real letter
//! templates.

use std::process::Command;

use chrono::NaiveDate;
use serde_json::json;

use super::*;

macro_rules! testdata {
    ($($name:literal),* $(,)?) => {
        vec![$((concat!("/t/", $name).to_string(), include_bytes!(concat!("testdata/", $name)).to_vec())),*]
    };
}

fn renderer() -> Renderer {
    Renderer::from_files(
        testdata![
            "value.typ",
            "letter.typ",
            "read_passwd.typ",
            "import_package.typ",
            "syntax_error.typ",
            "unknown_var.typ",
            "escape_root.typ",
            "include_data.typ",
            "request_files.typ",
            "today.typ",
        ],
        2,
    )
}

pub(super) fn letter_data(rows: usize) -> serde_json::Value {
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
            "nik": format!("6409{:012}", i),
            "village": "Sotek",
        })).collect::<Vec<_>>(),
    })
}

/// The PDF's text layer via poppler's `pdftotext`; `None` (test skipped) when it is not
/// installed, except under CI where that fails the test.
pub(crate) fn pdf_text(pdf: &[u8]) -> Option<String> {
    pdftotext(pdf, &[])
}

/// [`pdf_text`] with `-layout`: a table's row reads as one line, in page order.
pub(crate) fn pdf_layout_text(pdf: &[u8]) -> Option<String> {
    pdftotext(pdf, &["-layout"])
}

fn pdftotext(pdf: &[u8], options: &[&str]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.pdf");
    std::fs::write(&path, pdf).unwrap();
    // The crop box far larger than the page keeps text that overflows it (a 2,000-letter
    // word runs off the right edge: Typst does not break inside a word).
    let crop = ["-x", "0", "-y", "0", "-W", "100000", "-H", "100000"];
    match Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .args(options)
        .args(crop)
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(output) => {
            assert!(
                output.status.success(),
                "pdftotext failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            Some(String::from_utf8(output.stdout).unwrap())
        }
        Err(err) => {
            if std::env::var_os("CI").is_some() {
                panic!("pdftotext (Debian package poppler-utils) is required under CI: {err}");
            }
            eprintln!("skipped: pdftotext not installed (apt-get install poppler-utils): {err}");
            None
        }
    }
}

/// Text without whitespace and without the bidirectional controls pdftotext adds around
/// right-to-left runs.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

fn template_error(result: Result<Rendered, RenderError>) -> (Option<String>, Option<usize>, Option<usize>, String, String) {
    match result {
        Err(err @ RenderError::Template { .. }) => {
            let display = err.to_string();
            let RenderError::Template {
                file,
                line,
                column,
                message,
                ..
            } = err
            else {
                unreachable!()
            };
            (file, line, column, message, display)
        }
        other => panic!("expected a template error, got {other:?}"),
    }
}

#[test]
fn field_values_render_literally_and_are_never_code() {
    let renderer = renderer();
    let long_word = "a".repeat(2000);
    let values = [
        "#read(\"/etc/passwd\")",
        "#import \"@preview/x:0.1.0\"",
        "]",
        "$",
        "*",
        "\\",
        "<",
        "//",
        "= heading",
        "#{panic()} [*tebal*] $x^2$ <label> @ref `raw` _miring_ ~",
        long_word.as_str(),
        "بسم الله",
        "السلام عليكم",
        "ꦲꦏ꧀ꦱꦫꦗꦮ",
        "Halo 👋🇮🇩 selesai 😀",
        "漢字 and 🦀",
    ];
    for value in values {
        let job = RenderJob::new("/t/value.typ", json!({ "value": value }));
        let rendered = renderer
            .render_pdf_blocking(&job)
            .unwrap_or_else(|err| panic!("{value:?} failed: {err:?}"));
        assert!(rendered.pages >= 1);
        let Some(text) = pdf_text(&rendered.pdf) else { return };
        let text = squeeze(&text);
        // poppler reverses the text of a right-to-left ligature glyph: the PDF maps the
        // "lillah" ligature of الله to the right letters, pdftotext prints them as اهلل.
        // A mostly right-to-left paragraph comes out in right-to-left order, so the value
        // and its surroundings are looked for separately.
        let expected = squeeze(value).replace("الله", "اهلل");
        assert!(
            text.contains(&expected) && text.contains("Awal.") && text.contains("Akhir."),
            "{value:?} not found literally in the PDF text: {text:?}"
        );
        assert!(!text.contains("root:"), "{value:?} leaked /etc/passwd");
    }
}

#[test]
fn same_job_gives_byte_identical_pdf() {
    let job = RenderJob {
        today: NaiveDate::from_ymd_opt(2025, 3, 17),
        document_id: Some("surat-42-r1".into()),
        ..RenderJob::new("/t/letter.typ", letter_data(5))
    };
    let first = renderer().render_pdf_blocking(&job).unwrap();
    let second = renderer().render_pdf_blocking(&job).unwrap();
    let third = renderer().render_pdf_blocking(&job).unwrap();
    assert_eq!(first.pages, 1);
    assert!(first.pdf.starts_with(b"%PDF-"));
    assert!(
        first.pdf == second.pdf && second.pdf == third.pdf,
        "PDF output is not deterministic"
    );

    // The date and the document id are part of the output.
    let other_day = RenderJob {
        today: NaiveDate::from_ymd_opt(2025, 3, 18),
        ..job.clone()
    };
    assert_ne!(renderer().render_pdf_blocking(&other_day).unwrap().pdf, first.pdf);
    let other_id = RenderJob {
        document_id: Some("surat-42-r2".into()),
        ..job
    };
    assert_ne!(renderer().render_pdf_blocking(&other_id).unwrap().pdf, first.pdf);
}

#[test]
fn warm_caches_never_change_the_output() {
    // An ordinary letter leaves the memoised work it used for the next job; whatever ran
    // before, a job gives the bytes it gives in a cold process.
    let renderer = renderer();
    let a = RenderJob::new("/t/letter.typ", letter_data(3));
    let mut other = letter_data(4);
    other["subject"] = json!("Undangan rapat koordinasi");
    let b = RenderJob::new("/t/letter.typ", other);
    let cold = renderer.render_pdf_blocking(&a).unwrap();
    assert_ne!(renderer.render_pdf_blocking(&b).unwrap().pdf, cold.pdf);
    assert_eq!(renderer.render_pdf_blocking(&a).unwrap().pdf, cold.pdf);
    typst::comemo::evict(0);
    assert_eq!(renderer.render_pdf_blocking(&a).unwrap().pdf, cold.pdf);
}

#[test]
fn long_jobs_drop_every_cache_and_letters_keep_theirs() {
    let renderer = renderer();
    let letter = renderer.world(&RenderJob::new("/t/letter.typ", letter_data(3))).unwrap();
    assert_eq!(Cache::after(&letter), Cache::KeepRecent);
    let long = renderer.world(&RenderJob::new("/t/letter.typ", letter_data(2_000))).unwrap();
    assert!(long.data.len() > WARM_DATA_BYTES);
    assert_eq!(Cache::after(&long), Cache::DropAll);
}

#[test]
fn today_is_the_jobs_date_or_the_constant() {
    let renderer = renderer();
    let mut job = RenderJob::new("/t/today.typ", json!({}));
    if let Some(text) = pdf_text(&renderer.render_pdf_blocking(&job).unwrap().pdf) {
        assert_eq!(text.trim(), "2000-01-01");
    }
    job.today = NaiveDate::from_ymd_opt(2025, 8, 17);
    if let Some(text) = pdf_text(&renderer.render_pdf_blocking(&job).unwrap().pdf) {
        assert_eq!(text.trim(), "2025-08-17");
    }
}

#[test]
fn template_reading_outside_the_folder_fails_cleanly() {
    let renderer = renderer();
    let (file, line, _, message, display) = template_error(renderer.render_pdf_blocking(&RenderJob::new("/t/read_passwd.typ", json!({}))));
    assert_eq!(file.as_deref(), Some("/t/read_passwd.typ"));
    assert_eq!(line, Some(1));
    assert!(message.contains("file not found"), "{message}");
    assert!(display.starts_with("Templat /t/read_passwd.typ baris 1 kolom "), "{display}");
    assert!(!display.contains("root:"));

    let (file, _, _, message, display) = template_error(renderer.render_pdf_blocking(&RenderJob::new("/t/escape_root.typ", json!({}))));
    assert_eq!(file.as_deref(), Some("/t/escape_root.typ"));
    assert!(message.contains("escape the project root"), "{message}");
    // Typst's hint about the command line's `--root` means nothing here.
    assert!(!display.contains("--root"), "{display}");
}

#[test]
fn package_import_fails_cleanly() {
    let (file, line, _, message, display) =
        template_error(renderer().render_pdf_blocking(&RenderJob::new("/t/import_package.typ", json!({}))));
    assert_eq!(file.as_deref(), Some("/t/import_package.typ"));
    assert_eq!(line, Some(1));
    assert!(message.contains("paket @preview/example:0.1.0 tidak tersedia"), "{message}");
    assert!(display.contains("@preview/example:0.1.0"), "{display}");
}

#[test]
fn errors_name_file_line_and_column() {
    let renderer = renderer();
    let (file, line, column, message, display) =
        template_error(renderer.render_pdf_blocking(&RenderJob::new("/t/unknown_var.typ", json!({}))));
    assert_eq!(file.as_deref(), Some("/t/unknown_var.typ"));
    assert_eq!((line, column), (Some(4), Some(9)));
    assert_eq!(message, "unknown variable: foo");
    assert_eq!(display, "Templat /t/unknown_var.typ baris 4 kolom 9: unknown variable: foo");

    let (file, line, _, message, display) = template_error(renderer.render_pdf_blocking(&RenderJob::new("/t/syntax_error.typ", json!({}))));
    assert_eq!(file.as_deref(), Some("/t/syntax_error.typ"));
    assert_eq!(line, Some(4), "{display}");
    assert!(message.contains("unclosed"), "{message}");
}

#[test]
fn job_data_are_not_typst_source() {
    let job = RenderJob::new("/t/include_data.typ", json!({ "value": "#read(\"/etc/passwd\")" }));
    let (_, line, _, message, _) = template_error(renderer().render_pdf_blocking(&job));
    assert_eq!(line, Some(1));
    assert!(message.contains("not a Typst source file"), "{message}");
}

#[test]
fn request_files_use_the_fixed_paths_only() {
    let renderer = renderer();
    let qr = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#.to_vec();
    let mut job = RenderJob::new("/t/request_files.typ", json!({}));
    job.files = vec![
        ("/qr.svg".into(), qr.clone()),
        ("/attachment.csv".into(), b"nik;nama\n1;Ani\n".to_vec()),
    ];
    let rendered = renderer.render_pdf_blocking(&job).unwrap();
    if let Some(text) = pdf_text(&rendered.pdf) {
        assert!(text.contains("nik;nama"), "{text}");
    }

    for path in ["/evil.svg", "/data.json", "/t/value.typ", "/qr.svg/../x", "../qr.svg/x"] {
        job.files = vec![(path.into(), qr.clone())];
        match renderer.render_pdf_blocking(&job) {
            Err(RenderError::InvalidJob(message)) => assert!(message.contains("tidak diizinkan"), "{message}"),
            other => panic!("{path}: expected InvalidJob, got {other:?}"),
        }
    }
    job.files = vec![("/qr.svg".into(), qr.clone()), ("qr.svg".into(), qr)];
    assert!(matches!(renderer.render_pdf_blocking(&job), Err(RenderError::InvalidJob(_))));

    // Without the file the template fails like any missing file.
    job.files.clear();
    let (_, line, _, message, _) = template_error(renderer.render_pdf_blocking(&job));
    assert_eq!(line, Some(2));
    assert!(message.contains("file not found"), "{message}");
}

#[test]
fn unknown_template_and_bad_page() {
    let renderer = renderer();
    assert!(matches!(
        renderer.render_pdf_blocking(&RenderJob::new("/t/none.typ", json!({}))),
        Err(RenderError::UnknownTemplate(_))
    ));
    assert!(matches!(
        renderer.render_pdf_blocking(&RenderJob::new("/../etc/passwd", json!({}))),
        Err(RenderError::UnknownTemplate(_))
    ));
    let job = RenderJob::new("/t/letter.typ", letter_data(3));
    assert!(matches!(
        renderer.render_png_blocking(&job, 5, 1.0),
        Err(RenderError::PageOutOfRange { page: 5, pages: 1 })
    ));
    assert!(matches!(
        renderer.render_png_blocking(&job, 0, 100.0),
        Err(RenderError::InvalidJob(_))
    ));
    assert!(matches!(
        renderer.render_png_blocking(&job, 0, f32::NAN),
        Err(RenderError::InvalidJob(_))
    ));
}

#[test]
fn png_of_a_page() {
    let job = RenderJob::new("/t/letter.typ", letter_data(5));
    let png = renderer().render_png_blocking(&job, 0, 1.0).unwrap();
    assert!(png.png.starts_with(b"\x89PNG\r\n\x1a\n"));
    // A4 is 595.28 × 841.89 pt.
    assert_eq!((png.width, png.height, png.pages), (595, 842, 1));
    let same = renderer().render_png_blocking(&job, 0, 1.0).unwrap();
    assert_eq!(png.png, same.png);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_renders_run_concurrently_behind_the_limit() {
    let renderer = renderer();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let renderer = renderer.clone();
        tasks.push(tokio::spawn(async move {
            let job = RenderJob::new("/t/letter.typ", letter_data(5 + i));
            if i % 2 == 0 {
                renderer.render_pdf(job).await.map(|r| r.pages)
            } else {
                renderer
                    .render_pdf_and_png(job, 0, 0.5)
                    .await
                    .map(|(r, png)| r.pages.min(png.pages))
            }
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 1);
    }
    let err = renderer
        .render_pdf(RenderJob::new("/t/unknown_var.typ", json!({})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("baris 4"));
}

#[test]
fn a_panic_becomes_an_internal_error() {
    let result: Result<(), RenderError> = guarded("/t/x.typ", Cache::KeepRecent, || panic!("boom"));
    match result {
        Err(err @ RenderError::Internal(_)) => {
            assert!(format!("{err:?}").contains("boom"));
            assert_eq!(err.to_string(), "Terjadi kesalahan internal saat menyusun dokumen.");
        }
        other => panic!("expected an internal error, got {other:?}"),
    }
}

#[tokio::test]
async fn async_work_runs_on_the_render_threads_and_survives_a_panic() {
    let renderer = renderer();
    let name = renderer
        .spawn(|| Ok(std::thread::current().name().unwrap_or_default().to_owned()))
        .await
        .unwrap();
    assert!(name.starts_with("naskah-render-"), "ran on {name:?}");
    // A panic outside Typst's own work, on a pool thread, would otherwise abort the process.
    let err = renderer.spawn(|| -> Result<(), RenderError> { panic!("boom") }).await.unwrap_err();
    assert!(matches!(err, RenderError::Internal(_)), "{err:?}");
    // The permit came back and the pool still works.
    assert_eq!(renderer.permits.available_permits(), 2);
    let rendered = renderer.render_pdf(RenderJob::new("/t/letter.typ", letter_data(3))).await.unwrap();
    assert_eq!(rendered.pages, 1);
}

#[test]
fn loads_a_folder_without_its_fonts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("surat/bagian")).unwrap();
    std::fs::create_dir_all(dir.path().join("fonts")).unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join("surat/template.typ"), "#import \"bagian/kop.typ\": kop\n#kop").unwrap();
    std::fs::write(dir.path().join("surat/bagian/kop.typ"), "#let kop = [KOP SURAT]").unwrap();
    std::fs::write(dir.path().join("fonts/x.ttf"), "not loaded").unwrap();
    std::fs::write(dir.path().join(".git/config"), "not loaded").unwrap();
    let renderer = Renderer::load(dir.path(), 1).unwrap();
    assert_eq!(renderer.paths(), vec!["/surat/bagian/kop.typ", "/surat/template.typ"]);
    assert!(renderer.has_file("surat/template.typ"));
    let rendered = renderer
        .render_pdf_blocking(&RenderJob::new("/surat/template.typ", json!({})))
        .unwrap();
    if let Some(text) = pdf_text(&rendered.pdf) {
        assert!(text.contains("KOP SURAT"), "{text}");
    }
}

#[test]
fn the_real_template_folder_loads() {
    let renderer = Renderer::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../letter_templates")), 1).unwrap();
    assert!(!renderer.paths().iter().any(|p| p.starts_with("/fonts/")));
}

#[test]
fn embedded_fonts_are_all_there() {
    let families = families();
    for family in [
        "Liberation Sans",
        "TeX Gyre Bonum",
        "Noto Naskh Arabic",
        "Noto Sans Javanese",
        "Naskah Fallback",
    ] {
        assert!(families.iter().any(|f| f == family), "{family} missing from {families:?}");
    }
    // Four styles each of the two letter families, one each of the three fallbacks.
    assert_eq!(fonts::FONTS.fonts.len(), 11);
}
