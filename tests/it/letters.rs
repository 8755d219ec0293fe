//! Every template rendered with its example data: the text is extracted from the PDF and
//! checked for the letterhead, names, placeholders and totals; the Typst helpers agree
//! with the Rust ones; filled slots replace the placeholders.

use std::process::Command;

use naskah::{
    demo,
    letters::{self, Catalogue, Signer, Slots},
    rendering::Renderer,
    text,
};
use serde_json::{Value, json};

fn renderer() -> Renderer {
    Renderer::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("letter_templates"), 2).unwrap()
}

fn example(id: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("letter_templates")
        .join(id)
        .join("contoh.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn logo() -> Option<(Vec<u8>, String)> {
    Some((demo::DEMO_LOGO_SVG.to_vec(), "image/svg+xml".into()))
}

/// The PDF's text with runs of white space folded, or None when pdftotext is missing
/// on a developer's machine (under CI its absence fails).
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    pdftotext(pdf, &[]).map(|text| fold(&text))
}

/// The text with `-layout`, line by line, white space folded: a table's row reads as
/// one line, its cells in order.
fn pdf_layout_lines(pdf: &[u8]) -> Option<Vec<String>> {
    pdftotext(pdf, &["-layout"]).map(|text| text.lines().map(fold).collect())
}

fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pdftotext(pdf: &[u8], options: &[&str]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("naskah.pdf");
    std::fs::write(&path, pdf).unwrap();
    match Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .args(options)
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) => {
            assert!(!crate::support::in_ci(), "pdftotext (poppler-utils) is required under CI: {e}");
            eprintln!("pdftotext missing: text checks skipped");
            None
        }
    }
}

fn render(id: &str, data: &Value, slots: &Slots) -> (naskah::rendering::Rendered, Option<String>) {
    let rendered = render_with(&renderer(), id, data, slots);
    let text = pdf_text(&rendered.pdf);
    (rendered, text)
}

/// Template `id` with the demo department, its data checked first, rendered by `renderer`.
fn render_with(renderer: &Renderer, id: &str, data: &Value, slots: &Slots) -> naskah::rendering::Rendered {
    let catalogue = Catalogue::from_renderer(renderer).unwrap();
    let manifest = catalogue.get(id).unwrap();
    let fields = manifest
        .validate(&letters::with_defaults(manifest, data))
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    let job = letters::job(
        manifest,
        &demo::department().letterhead(),
        logo(),
        &fields,
        slots,
        Some(format!("uji-{id}")),
    );
    renderer.render_pdf_blocking(&job).unwrap_or_else(|e| panic!("{id}: {e}"))
}

#[test]
fn the_catalogue_has_the_four_sop_documents() {
    let catalogue = Catalogue::from_renderer(&renderer()).unwrap();
    let ids: Vec<&str> = catalogue.templates.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "sk-penerima-bantuan-iuran",
            "surat-dinas",
            "surat-konfirmasi-desa",
            "surat-permintaan-data"
        ]
    );
    assert_eq!(
        catalogue.get("sk-penerima-bantuan-iuran").unwrap().kind,
        letters::DocumentKind::Keputusan
    );
    // Every example validates against its manifest.
    for t in &catalogue.templates {
        t.validate(&letters::with_defaults(t, &example(&t.id)))
            .unwrap_or_else(|e| panic!("{}: {e}", t.id));
    }
}

#[test]
fn drafts_show_letterhead_placeholders_and_watermark() {
    for id in [
        "surat-permintaan-data",
        "surat-dinas",
        "surat-konfirmasi-desa",
        "sk-penerima-bantuan-iuran",
    ] {
        let (rendered, text) = render(id, &example(id), &Slots::default());
        assert!(rendered.pdf.starts_with(b"%PDF"), "{id}");
        let Some(text) = text else { return };
        for expected in [
            "PEMERINTAH KABUPATEN PENAJAM PASER UTARA",
            "DINAS TENAGA KERJA",
            "[nomor diberikan saat ditandatangani]",
            "[nama penandatangan]",
            "KONSEP",
        ] {
            assert!(text.contains(expected), "{id}: '{expected}' missing in: {text}");
        }
    }
}

#[test]
fn data_request_letter_carries_its_fields() {
    let (rendered, text) = render("surat-permintaan-data", &example("surat-permintaan-data"), &Slots::default());
    assert_eq!(rendered.pages, 1);
    let Some(text) = text else { return };
    for expected in [
        "Kepala Dinas Sosial Kabupaten Penajam Paser Utara",
        "Kepala Badan Pusat Statistik Kabupaten Penajam Paser Utara",
        "paling lambat tanggal 28 November 2026",
        "Permintaan Data Calon Penerima Bantuan Iuran Jaminan Sosial Ketenagakerjaan bagi Pekerja Rentan",
        "Tembusan: 1. Bupati Penajam Paser Utara (sebagai laporan)",
        "Nomor Sifat Lampiran Hal : [nomor diberikan saat ditandatangani] : Penting",
    ] {
        assert!(text.contains(expected), "'{expected}' missing in: {text}");
    }
}

#[test]
fn confirmation_letter_lists_the_villages_candidates() {
    let data = example("surat-konfirmasi-desa");
    let (rendered, text) = render("surat-konfirmasi-desa", &data, &Slots::default());
    assert!(rendered.pages >= 2, "letter plus attachment");
    let Some(text) = text else { return };
    assert!(text.contains("Yth. Lurah Pejala"), "{text}");
    assert!(text.contains("DAFTAR SEMENTARA CALON PENERIMA"));
    assert!(text.contains("KELURAHAN PEJALA KECAMATAN PENAJAM"));
    for c in data["calon"].as_array().unwrap() {
        assert!(text.contains(c["nik"].as_str().unwrap()), "{c}");
        assert!(text.contains(c["nama"].as_str().unwrap()), "{c}");
    }
    assert!(text.contains("Usulan pengganti"));
}

#[test]
fn sk_totals_subtotals_and_words() {
    let data = example("sk-penerima-bantuan-iuran");
    let people = data["penerima"].as_array().unwrap();
    let n = people.len() as i64;
    let (rendered, text) = render("sk-penerima-bantuan-iuran", &data, &Slots::default());
    let (Some(text), Some(lines)) = (text, pdf_layout_lines(&rendered.pdf)) else {
        return;
    };
    for diktum in [
        "Menimbang",
        "Mengingat",
        "MEMUTUSKAN:",
        "Menetapkan",
        "KESATU",
        "KEDUA",
        "KETIGA",
        "KEEMPAT",
        "KELIMA",
    ] {
        assert!(text.contains(diktum), "{diktum}");
    }
    let yearly = n * 16_800 * 12;
    assert!(text.contains(&format!("sebanyak {} ({}) orang", n, text::terbilang(n))), "{text}");
    assert!(text.contains(&format!("{} orang", text::thousands(n))));
    // The table's amounts are whole rupiah under "(Rp)" headers; the sentence below it
    // gives the total in rupiah and in words.
    assert!(text.contains("Iuran per bulan (Rp)"), "{text}");
    let row = |line: String| assert!(lines.contains(&line), "row '{line}' missing from {lines:#?}");
    row(format!(
        "JUMLAH SELURUHNYA {} orang {} {}",
        text::thousands(n),
        text::thousands(n * 16_800),
        text::thousands(yearly)
    ));
    assert!(text.contains(&text::rupiah(yearly)), "yearly total");
    assert!(
        text.contains(&text::terbilang_rupiah(yearly)),
        "total in words: {}",
        text::terbilang_rupiah(yearly)
    );
    assert!(text.contains("Rp16.800,00 (enam belas ribu delapan ratus rupiah) per orang per bulan"));
    // One subtotal per village and per kecamatan.
    let mut villages: Vec<(String, String)> = people
        .iter()
        .map(|p| (p["kecamatan"].as_str().unwrap().into(), p["desa"].as_str().unwrap().into()))
        .collect();
    villages.sort();
    villages.dedup();
    for (kecamatan, desa) in &villages {
        let count = people
            .iter()
            .filter(|p| p["desa"] == desa.as_str() && p["kecamatan"] == kecamatan.as_str())
            .count() as i64;
        row(format!(
            "Jumlah {desa} {} orang {} {}",
            text::thousands(count),
            text::thousands(count * 16_800),
            text::thousands(count * 16_800 * 12)
        ));
        assert!(text.contains(&format!("Kecamatan {kecamatan}")));
    }
    let mut kecamatan: Vec<&str> = villages.iter().map(|(k, _)| k.as_str()).collect();
    kecamatan.dedup();
    for k in kecamatan {
        let count = people.iter().filter(|p| p["kecamatan"] == k).count() as i64;
        row(format!(
            "Jumlah Kecamatan {k} {} orang {} {}",
            text::thousands(count),
            text::thousands(count * 16_800),
            text::thousands(count * 16_800 * 12)
        ));
    }
    // Full NIKs on the file copy; masked when asked.
    let first_nik = people[0]["nik"].as_str().unwrap();
    assert!(text.contains(first_nik));
    let mut public = data.clone();
    public["tampilan_nik"] = json!("Disamarkan");
    let (_, masked) = render("sk-penerima-bantuan-iuran", &public, &Slots::default());
    let masked = masked.unwrap();
    assert!(!masked.contains(first_nik));
    assert!(masked.contains(&format!("{}********{}", &first_nik[..4], &first_nik[12..])));
}

fn signer() -> Signer {
    Signer {
        jabatan: "Kepala Dinas Tenaga Kerja Kabupaten Penajam Paser Utara".into(),
        atas_nama: None,
        sebutan: None,
        nama: "Drs. Bambang Sutrisno, M.Si.".into(),
        nama_tanpa_gelar: "Bambang Sutrisno".into(),
        pangkat: "Pembina Utama Muda (IV/c)".into(),
        nip: "19700512 199803 1 004".into(),
    }
}

fn filled() -> Slots {
    Slots {
        number: Some("500.15.16/0123/Disnaker/2026".into()),
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 21),
        qr_svg: Some("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><rect width=\"10\" height=\"10\"/></svg>".into()),
        signer: Some(signer()),
        footer: Some("Dokumen ini ditandatangani secara elektronik.".into()),
        verification_url: Some("https://naskah.example.go.id/v/0123456789abcdef0123456789abcdef".into()),
    }
}

#[test]
fn filled_slots_replace_the_placeholders() {
    let (_, letter) = render("surat-dinas", &example("surat-dinas"), &filled());
    let Some(letter) = letter else { return };
    assert!(letter.contains("Hal : 500.15.16/0123/Disnaker/2026 : Biasa"), "{letter}");
    assert!(letter.contains("Penajam, 21 November 2026"));
    assert!(letter.contains("Drs. Bambang Sutrisno, M.Si."), "letters print academic titles");
    assert!(letter.contains("NIP. 19700512 199803 1 004"));
    assert!(!letter.contains("[nomor") && !letter.contains("KONSEP") && !letter.contains("[nama penandatangan]"));
    let (_, decree) = render("sk-penerima-bantuan-iuran", &example("sk-penerima-bantuan-iuran"), &filled());
    let decree = decree.unwrap();
    assert!(decree.contains("BAMBANG SUTRISNO") || decree.contains("Bambang Sutrisno"));
    assert!(!decree.contains("Drs. Bambang"), "decrees print names without titles");
    assert!(decree.contains("pada tanggal : 21 November 2026"));
    // Acting officials: Plh. and a.n. lines.
    let mut acting = filled();
    acting.signer = Some(Signer {
        sebutan: Some("Plh.".into()),
        ..signer()
    });
    let (_, plh) = render("surat-dinas", &example("surat-dinas"), &acting);
    assert!(plh.unwrap().contains("Plh. Kepala Dinas Tenaga Kerja"));
    acting.signer = Some(Signer {
        atas_nama: Some("Kepala Dinas Tenaga Kerja".into()),
        jabatan: "Sekretaris Dinas".into(),
        ..signer()
    });
    let (_, an) = render("surat-dinas", &example("surat-dinas"), &acting);
    assert!(an.unwrap().contains("a.n. Kepala Dinas Tenaga Kerja, Sekretaris Dinas"));
}

#[test]
fn bad_data_is_reported_per_field_before_compiling() {
    let r = renderer();
    let catalogue = Catalogue::from_renderer(&r).unwrap();
    let manifest = catalogue.get("surat-dinas").unwrap();
    let err = letters::draft_job(
        manifest,
        &demo::department().letterhead(),
        logo(),
        &json!({ "sifat": "Kilat", "hal": "" }),
    )
    .unwrap_err();
    let letters::Error::Invalid(errors) = err else { panic!("{err}") };
    for field in ["sifat", "hal", "penerima", "isi"] {
        assert!(errors.get(field).is_some(), "{field}: {errors:?}");
    }
}

/// The Typst helpers in _shared/format.typ and the Rust helpers in src/text.rs agree.
#[test]
fn typst_and_rust_helpers_agree() {
    let format = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("letter_templates/_shared/format.typ")).unwrap();
    let numbers: Vec<i64> = vec![
        0,
        1,
        10,
        11,
        12,
        19,
        20,
        99,
        100,
        101,
        111,
        999,
        1_000,
        1_001,
        1_100,
        11_000,
        16_800,
        100_000,
        201_600,
        1_000_000,
        1_001_000,
        11_000_000,
        302_400_000,
        1_000_000_000,
        2_419_200_000,
        1_000_000_000_000,
    ];
    let template = b"#import \"/_shared/format.typ\": *\n#set page(width: 40cm, height: auto)\n#let data = json(\"/data.json\")\n#for n in data.numbers [#n=#terbilang(n)=#rupiah(n)=#ribuan(n)|\n]\n#tanggal(\"2026-11-21\")=#tanggal(\"2027-01-01\")\n".to_vec();
    let r = Renderer::from_files(vec![("/_shared/format.typ".into(), format), ("/t/main.typ".into(), template)], 1);
    let job = naskah::rendering::RenderJob::new("/t/main.typ", json!({ "numbers": numbers }));
    let Some(text) = pdf_text(&r.render_pdf_blocking(&job).unwrap().pdf) else {
        return;
    };
    for n in &numbers {
        let expected = format!("{n}={}={}={}|", text::terbilang(*n), text::rupiah(*n), text::thousands(*n));
        assert!(text.contains(&expected), "'{expected}' not in {text}");
    }
    let day = |y, m, d| text::date_long(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap());
    assert!(text.contains(&format!("{}={}", day(2026, 11, 21), day(2027, 1, 1))));
}

/// Markup and code typed into a real template's fields print as typed.
#[test]
fn typed_markup_prints_literally_in_real_templates() {
    let hostile = [
        r#"#read("/etc/passwd")"#,
        r#"#import "@preview/x:0.1.0""#,
        "] $x$ *tebal* \\ <label> // komentar",
        "= Judul palsu",
        "بسم الله",
        "ꦲꦏ꧀ꦱꦫꦗꦮ",
    ];
    let data = json!({
        "hal": hostile[0],
        "penerima": [hostile[1], hostile[2]],
        "isi": hostile.join("\n\n"),
        "tempat_tujuan": "}",
    });
    let (_, text) = render("surat-dinas", &data, &Slots::default());
    let Some(text) = text else { return };
    assert!(!text.contains("root:"), "file contents leaked");
    for h in [
        "#read(\"/etc/passwd\")",
        "#import \"@preview/x:0.1.0\"",
        "$x$ *tebal* \\ <label> // komentar",
        "= Judul palsu",
        "ꦲꦏ꧀ꦱꦫꦗꦮ",
    ] {
        assert!(text.contains(h), "'{h}' missing in {text}");
    }
}

/// A renderer of a copy of the templates in which template `id` lacks `line` (which it
/// must have), with the folder it reads.
fn renderer_without_line(id: &str, line: &str) -> (Renderer, tempfile::TempDir) {
    renderer_with_line_replaced(id, line, "")
}

/// A renderer whose template `id` has `line` replaced by `replacement`.
fn renderer_with_line_replaced(id: &str, line: &str, replacement: &str) -> (Renderer, tempfile::TempDir) {
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("letter_templates");
    let variant = tempfile::tempdir().unwrap();
    copy_tree(&templates, variant.path());
    let path = variant.path().join(id).join("template.typ");
    let source = std::fs::read_to_string(&path).unwrap();
    assert!(source.contains(line), "{id} no longer has '{}'; update this test", line.trim());
    std::fs::write(&path, source.replace(line, replacement)).unwrap();
    (Renderer::load(variant.path(), 2).unwrap(), variant)
}

/// Copies a folder tree (the templates, for a variant of one of them).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The SK's attachment gives Typst each person's row height in advance (measured from the
/// name and job) so that it lays out each cell once. The heights must be exactly those
/// Typst would find itself: with names that wrap, scripts from the fallback fonts, markup
/// and a job over three lines (none of them at a page break, where an `auto` row could
/// split), the PDF is byte for byte that of the same template with `auto` rows.
#[test]
fn sk_rows_sized_in_advance_lay_out_as_auto_rows() {
    let (auto_rows, _variant) = renderer_without_line(
        "sk-penerima-bantuan-iuran",
        "    rows: (auto, ..baris-tinggi.slice(0, ekor), auto),\n",
    );
    let mut data = example("sk-penerima-bantuan-iuran");
    let people = data["penerima"].as_array_mut().unwrap();
    let odd = [
        ("nama", "Andi Muhammad Rahmat Hidayatullah Syahputra Daeng Matutu Bin Abdul Rahman"),
        ("nama", "محمد عبد الرحمن"),
        ("nama", "ꦲꦤ꧀ꦢꦶ ꦱꦸꦠꦺꦗ 😀"),
        ("nama", "#read(\"/etc/passwd\") ] $ * \\ < //"),
        ("nama", &"W".repeat(60)),
        ("pekerjaan", "Pekerja Rumah Tangga Paruh Waktu Musiman Lepas"),
    ];
    for (i, (field, value)) in odd.iter().enumerate() {
        people[i * 3][*field] = json!(value);
    }

    let sized = render_with(&renderer(), "sk-penerima-bantuan-iuran", &data, &Slots::default());
    let auto = render_with(&auto_rows, "sk-penerima-bantuan-iuran", &data, &Slots::default());
    assert!(sized.pages >= 4, "{} pages", sized.pages);
    assert_same_pdf_as_auto_rows(&sized, &auto);
}

fn assert_same_pdf_as_auto_rows(sized: &naskah::rendering::Rendered, auto: &naskah::rendering::Rendered) {
    assert!(
        sized.pdf == auto.pdf,
        "row sizes differ from auto rows ({} vs {} bytes)",
        sized.pdf.len(),
        auto.pdf.len()
    );
}

/// The confirmation letter's row heights are Typst's own too. Its NIK column is measured
/// only when some NIK can break: a list of digits (and masked asterisks) is one line a
/// row and not measured, a NIK with spaces that wraps is. Either way, with a name that
/// wraps, a missing birth date and markup, the PDF is byte for byte that of the same
/// template with `auto` rows.
#[test]
fn confirmation_rows_sized_in_advance_lay_out_as_auto_rows() {
    let (auto_rows, _variant) = renderer_without_line(
        "surat-konfirmasi-desa",
        "      rows: (auto, auto, ..tinggi.slice(0, badan), auto),\n",
    );
    let mut digits_only = example("surat-konfirmasi-desa");
    let people = digits_only["calon"].as_array_mut().unwrap();
    people[1]["nik"] = json!("6409********8780");
    people[2]["nama"] = json!("Andi Muhammad Rahmat Hidayatullah Syahputra Daeng Matutu Bin Abdul Rahman");
    people[3]["tanggal_lahir"] = json!("");
    people[4]["alamat"] = json!("#read(\"/etc/passwd\") ] $ * \\ < // Jalan Poros Penajam Kilometer Dua Puluh Tiga");
    let mut one_wraps = digits_only.clone();
    one_wraps["calon"][5]["nik"] = json!("WWWWW WWWWW WWWW");

    let sized_renderer = renderer();
    let mut measured = None;
    for data in [&digits_only, &one_wraps] {
        let sized = render_with(&sized_renderer, "surat-konfirmasi-desa", data, &Slots::default());
        let auto = render_with(&auto_rows, "surat-konfirmasi-desa", data, &Slots::default());
        assert_same_pdf_as_auto_rows(&sized, &auto);
        measured = Some(sized);
    }
    // The wrapping NIK needs its column measured: never measuring it gives another PDF,
    // so the comparison above did check the measured path.
    let (nik_never_measured, _variant) = renderer_with_line_replaced(
        "surat-konfirmasi-desa",
        "  let diukur = if nik-sebaris { (2, 3, 5, 6, 7) } else { (1, 2, 3, 5, 6, 7) }\n",
        "  let diukur = (2, 3, 5, 6, 7)\n",
    );
    let unmeasured = render_with(&nik_never_measured, "surat-konfirmasi-desa", &one_wraps, &Slots::default());
    assert!(
        unmeasured.pdf != measured.unwrap().pdf,
        "a wrapping NIK did not change the row heights"
    );
}

/// The confirmation letter's rows get their heights in advance too, and such a row is
/// never split across pages: with 60 candidates, some with a four-line address, one of
/// them falls on a page break; `auto` rows would leave the end of that address alone on
/// the next page (checked, so that this test cannot pass by missing the break), sized
/// rows keep the candidate whole.
#[test]
fn confirmation_rows_are_never_split_across_pages() {
    const ADDRESS: &str = "Jalan Poros Penajam Kilometer Dua Puluh Tiga RT 004 RW 002 Dusun Sidomulyo Ujung";
    let mut data = example("surat-konfirmasi-desa");
    // Every row with the long address, so that pages end next to one, whatever the
    // layout above the list.
    let mut candidates = data["calon"].as_array().unwrap().clone();
    for candidate in &mut candidates {
        candidate["alamat"] = json!(ADDRESS);
    }

    let (auto_rows, _variant) = renderer_without_line(
        "surat-konfirmasi-desa",
        "      rows: (auto, auto, ..tinggi.slice(0, badan), auto),\n",
    );

    // Per page: how many addresses begin and how many end there.
    let ends_per_page = |renderer: &Renderer, data: &serde_json::Value| -> Option<Vec<(usize, usize)>> {
        let rendered = render_with(renderer, "surat-konfirmasi-desa", data, &Slots::default());
        (1..=rendered.pages)
            .map(|page| {
                let page = page.to_string();
                pdftotext(&rendered.pdf, &["-f", &page, "-l", &page])
                    .map(|text| (text.matches("Jalan Poros Penajam").count(), text.matches("Ujung").count()))
            })
            .collect()
    };
    data["calon"] = json!((0..3).flat_map(|_| candidates.iter().cloned()).collect::<Vec<_>>());
    let rows = data["calon"].as_array().unwrap().len();
    let Some(sized) = ends_per_page(&renderer(), &data) else { return };
    let auto = ends_per_page(&auto_rows, &data).unwrap();
    assert_eq!(sized.iter().map(|(begin, _)| begin).sum::<usize>(), rows, "{sized:?}");
    assert!(
        auto.iter().any(|(begin, end)| begin != end),
        "no address met a page break in auto rows: {auto:?}"
    );
    assert!(
        sized.iter().all(|(begin, end)| begin == end),
        "an address is split across pages: {sized:?}"
    );
}

/// Every template prints a person's name in a column no narrower than the import allows,
/// so an imported name never blocks a letter (and a wider one would let the import drift).
#[test]
fn every_name_column_has_the_import_limit() {
    let renderer = naskah::rendering::Renderer::load(std::path::Path::new("letter_templates"), 1).unwrap();
    let catalogue = naskah::letters::Catalogue::from_renderer(&renderer).unwrap();
    let mut columns = 0;
    for manifest in &catalogue.templates {
        for field in &manifest.fields {
            for column in field.columns.iter().filter(|c| c.name == "nama") {
                assert_eq!(
                    column.max_length,
                    Some(naskah::letters::manifest::PERSON_NAME_MAX_CHARS),
                    "{} {}",
                    manifest.id,
                    field.name
                );
                columns += 1;
            }
        }
    }
    assert!(columns >= 2, "{columns}");
}

/// A bidirectional control in a letter field is refused with a message, not printed.
#[test]
fn bidirectional_controls_are_refused_in_letter_fields() {
    let renderer = naskah::rendering::Renderer::load(std::path::Path::new("letter_templates"), 1).unwrap();
    let catalogue = naskah::letters::Catalogue::from_renderer(&renderer).unwrap();
    let manifest = catalogue.get("surat-permintaan-data").unwrap();
    let data = serde_json::json!({ "hal": "Permohonan data \u{202E}fdp.exe", "batas_waktu": crate::support::days_from_today(14) });
    let errors = manifest.validate(&naskah::letters::with_defaults(manifest, &data)).unwrap_err();
    assert!(errors.to_string().contains("pembalik arah teks"), "{errors}");
}
