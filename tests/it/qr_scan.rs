//! Reading a letter's QR code from paper, as a phone or a scanner would: the signature page
//! rendered by poppler at 100 dpi, and a photocopy-like copy (150 dpi, blurred, 5°
//! askew, JPEG at quality 50, made by ImageMagick), decoded by decoders this project
//! did not write: rqrr (Rust) and zxing-cpp (Python), when installed.

use std::{path::Path, process::Command};

/// The ways a page reaches the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// A 100 dpi greyscale scan.
    Scan100,
    /// 150 dpi, Gaussian blur, rotated 5°, JPEG quality 50.
    Photocopy,
}

impl Condition {
    pub const ALL: [Condition; 2] = [Condition::Scan100, Condition::Photocopy];

    pub fn label(self) -> &'static str {
        match self {
            Condition::Scan100 => "100 dpi",
            Condition::Photocopy => "fotokopi (150 dpi, blur, 5°, JPEG 50)",
        }
    }
}

fn tool(ok: bool, name: &str) -> bool {
    assert!(ok || !crate::support::in_ci(), "{name} is required under CI");
    ok
}

/// Whether poppler and ImageMagick are here (required under CI).
pub fn tools_available() -> bool {
    let poppler = Command::new("pdftoppm").arg("-v").output().is_ok();
    let magick = Command::new("convert").arg("-version").output().is_ok_and(|o| {
        // Some machines carry a stand-in `convert` that is not ImageMagick.
        String::from_utf8_lossy(&o.stdout).contains("ImageMagick")
    });
    tool(poppler, "pdftoppm (poppler-utils)") && tool(magick, "ImageMagick (imagemagick)")
}

pub fn zxing_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import zxingcpp"])
        .output()
        .is_ok_and(|o| o.status.success());
    tool(ok, "zxing-cpp (pip install zxing-cpp)")
}

fn page_count(pdf: &Path) -> usize {
    let out = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a page count")
}

/// The page that carries the signature block and its QR code (the last page of a
/// letter, before its attachment).
fn signature_page(pdf: &Path) -> usize {
    (1..=page_count(pdf))
        .find(|page| {
            let page = page.to_string();
            let out = Command::new("pdftotext")
                .args(["-f", &page, "-l", &page])
                .arg(pdf)
                .arg("-")
                .output()
                .expect("pdftotext");
            String::from_utf8_lossy(&out.stdout).contains("Ditandatangani secara elektronik oleh")
        })
        .expect("a page with the signature block")
}

/// Renders the page of `pdf` with its QR code under `condition` to a PNG in `dir`.
pub fn signature_page_image(pdf: &Path, dir: &Path, condition: Condition) -> std::path::PathBuf {
    let page = signature_page(pdf).to_string();
    let stem = dir.join(format!(
        "{}-{}",
        pdf.file_stem().unwrap().to_string_lossy(),
        if condition == Condition::Scan100 { "100" } else { "copy" }
    ));
    let dpi = if condition == Condition::Scan100 { "100" } else { "150" };
    let rendered = Command::new("pdftoppm")
        .args(["-gray", "-png", "-singlefile", "-r", dpi, "-f", &page, "-l", &page])
        .arg(pdf)
        .arg(&stem)
        .status()
        .expect("pdftoppm");
    assert!(rendered.success());
    // Numbers in the names have dots: append the extension, as pdftoppm does.
    let png = std::path::PathBuf::from(format!("{}.png", stem.display()));
    if condition == Condition::Photocopy {
        let jpeg = std::path::PathBuf::from(format!("{}.jpg", stem.display()));
        let degraded = Command::new("convert")
            .arg(&png)
            .args(["-background", "white", "-rotate", "5", "-gaussian-blur", "0x1", "-quality", "50"])
            .arg(&jpeg)
            .status()
            .expect("convert");
        assert!(degraded.success());
        let back = Command::new("convert").arg(&jpeg).arg(&png).status().expect("convert");
        assert!(back.success());
    }
    png
}

/// The texts rqrr decodes from a greyscale or RGB PNG.
pub fn rqrr_decode(png: &Path) -> Vec<String> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let luma = |x: usize, y: usize| buffer[(y * width + x) * channels];
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

/// The texts zxing-cpp decodes from each image (one Python process for all).
pub fn zxing_decode(pngs: &[std::path::PathBuf]) -> Vec<Vec<String>> {
    let script = "import sys, json, zxingcpp\nfrom PIL import Image\n\
                  print(json.dumps([[r.text for r in zxingcpp.read_barcodes(Image.open(p))] for p in sys.argv[1:]]))";
    let out = Command::new("python3").args(["-c", script]).args(pngs).output().expect("python3");
    assert!(out.status.success(), "zxing-cpp: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Decodes the QR code on the signature page of every PDF under every condition, with rqrr
/// and zxing-cpp, prints the decode rate per condition and decoder, and requires zxing-cpp
/// (the decoder phones' scanner apps are built on) to read every code and find the token
/// the PDF carries.
pub fn assert_every_qr_code_reads(pdfs: &[std::path::PathBuf]) {
    if !tools_available() {
        eprintln!("poppler or ImageMagick missing: the QR codes are not scanned");
        return;
    }
    let zxing = zxing_available();
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    let mut misses = Vec::new();
    for condition in Condition::ALL {
        let mut images = Vec::new();
        let mut expected = Vec::new();
        for pdf in pdfs {
            let token = naskah::verification::offline::token_in_pdf(&std::fs::read(pdf).unwrap()).expect("a signed PDF carries its token");
            expected.push(format!("/V/{token}"));
            images.push(signature_page_image(pdf, dir.path(), condition));
        }
        let read = |texts: &[String], want: &str| texts.iter().any(|t| t.starts_with("HTTP") && t.ends_with(want));
        let by_rqrr: Vec<bool> = images
            .iter()
            .zip(&expected)
            .map(|(image, want)| read(&rqrr_decode(image), want))
            .collect();
        let mut rates = format!(
            "{:<40} rqrr {}/{}",
            condition.label(),
            by_rqrr.iter().filter(|ok| **ok).count(),
            pdfs.len()
        );
        if zxing {
            let by_zxing: Vec<bool> = zxing_decode(&images)
                .iter()
                .zip(&expected)
                .map(|(texts, want)| read(texts, want))
                .collect();
            rates.push_str(&format!("  zxing-cpp {}/{}", by_zxing.iter().filter(|ok| **ok).count(), pdfs.len()));
            misses.extend(
                pdfs.iter()
                    .zip(&by_zxing)
                    .filter(|(_, ok)| !**ok)
                    .map(|(p, _)| format!("zxing-cpp {condition:?} {}", p.display())),
            );
        }
        // rqrr (quirc's algorithm) wants about 4 pixels a module and reads few codes at
        // 100 dpi: its rate is reported; zxing-cpp's must be 100 %.
        lines.push(rates);
    }
    eprintln!("QR codes read from the signature page:\n{}", lines.join("\n"));
    assert!(misses.is_empty(), "QR codes not read:\n{}\n{}", misses.join("\n"), lines.join("\n"));
}

/// The walkthrough covers three templates; the general letter (surat dinas) is signed
/// here and its QR code read from paper the same way.
#[tokio::test]
async fn the_general_letters_qr_code_reads_from_paper() {
    let test_db = crate::support::sqlite().await;
    let state = crate::support::demo_state(&test_db).await;
    let d = crate::workflow::Demo::over(&state);
    let konseptor = d.user("konseptor").await;
    let data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/letter_templates/surat-dinas/contoh.json")).unwrap())
            .unwrap();
    let letter = d.flow.create(&konseptor, "surat-dinas", &data, "").await.unwrap();
    // A general letter has no classification of its own: the drafter picks one.
    let letter = d
        .flow
        .set_classification(&konseptor, letter.id, letter.version, "500.15.16")
        .await
        .unwrap();
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    let letter = d.through_chain(letter, 1, crate::support::DEMO_PASSPHRASE).await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("surat-dinas.pdf");
    std::fs::write(&pdf, naskah::workflow::final_pdf(&state.db, letter.id).await.unwrap().unwrap()).unwrap();
    assert_every_qr_code_reads(&[pdf]);
}
