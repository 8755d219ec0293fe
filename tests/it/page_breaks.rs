//! Page breaks that keep a document official: no page ends with a heading, no page holds
//! a signature or the village head's reply block without the text it closes, a decree's
//! group continued on the next page repeats its heading with "(lanjutan)", and every page
//! of a village's list says whose list it is and which letter it belongs to. Checked on
//! the text of each page (`pdftotext -layout`) of village letters with 0 to 60
//! candidates (so that the breaks fall at every position) and of decrees of 1,630 and
//! 10,000 rows (the second rendered in parts).

use std::process::Command;

use naskah::{
    demo,
    letters::{self, Catalogue, Signer, Slots},
    rendering::Renderer,
};
use serde_json::{Value, json};

fn renderer() -> Renderer {
    Renderer::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("letter_templates"), 2).unwrap()
}

const FOOTER: &str = "Dokumen ini ditandatangani secara elektronik.";

/// Signed-looking slots: no watermark, whose rotated letters would mix into the text.
fn signed() -> Slots {
    Slots {
        number: Some("500.15.16/0123/Disnaker/2026".into()),
        date: chrono::NaiveDate::from_ymd_opt(2026, 12, 3),
        qr_svg: Some("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><rect width=\"10\" height=\"10\"/></svg>".into()),
        signer: Some(Signer {
            jabatan: "Kepala Dinas Tenaga Kerja Kabupaten Penajam Paser Utara".into(),
            atas_nama: None,
            sebutan: None,
            nama: "Drs. Bambang Sutrisno, M.Si.".into(),
            nama_tanpa_gelar: "Bambang Sutrisno".into(),
            pangkat: "Pembina Utama Muda (IV/c)".into(),
            nip: "19700512 199803 1 004".into(),
        }),
        footer: Some(FOOTER.into()),
        verification_url: Some("https://naskah.example.go.id/v/0123456789abcdef0123456789abcdef".into()),
    }
}

/// The template's PDF for `data` (checked against its manifest first), in parts when
/// it is long, as the service renders it.
fn render(renderer: &Renderer, id: &str, data: &Value) -> Vec<u8> {
    let catalogue = Catalogue::from_renderer(renderer).unwrap();
    let manifest = catalogue.get(id).unwrap();
    let fields = manifest
        .validate(&letters::with_defaults(manifest, data))
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    let logo = Some((demo::DEMO_LOGO_SVG.to_vec(), "image/svg+xml".to_string()));
    let job = letters::job(
        manifest,
        &demo::department().letterhead(),
        logo,
        &fields,
        &signed(),
        Some(format!("uji-{id}")),
    );
    letters::parts::render_pdf_blocking(renderer, &job)
        .unwrap_or_else(|e| panic!("{id}: {e}"))
        .pdf
}

/// Each page's lines (`-layout`, white space folded, blank lines and the footer left
/// out); `None` when pdftotext is missing on a developer's machine (under CI that fails).
fn pages(pdf: &[u8]) -> Option<Vec<Vec<String>>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("naskah.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = match Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout"])
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(!crate::support::in_ci(), "pdftotext (poppler-utils) is required under CI: {e}");
            eprintln!("pdftotext missing: page break checks skipped");
            return None;
        }
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pages: Vec<Vec<String>> = text
        .split('\u{c}')
        .map(|page| {
            let lines: Vec<String> = page
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|l| !l.is_empty())
                .collect();
            let end = lines.iter().position(|l| l.contains(FOOTER)).unwrap_or(lines.len());
            lines[..end].to_vec()
        })
        .collect();
    // pdftotext ends its output with a form feed.
    if pages.last().is_some_and(Vec::is_empty) {
        pages.pop();
    }
    Some(pages)
}

/// A line that must not end a page: a heading or column headings.
fn is_heading(line: &str) -> bool {
    line.starts_with("Kecamatan ")
        || line.starts_with("Desa/Kelurahan ")
        || line.starts_with("MEMUTUSKAN")
        || line.starts_with("Menetapkan")
        || line.starts_with("Usulan pengganti")
        || line.starts_with("No NIK Nama")
        || line.contains("(Rp)")
        || line.contains("(Sesuai/Tidak)")
        || line.ends_with("(lanjutan)")
        || line.contains("— lampiran surat nomor")
}

/// The 16-digit NIK a table row starts with (after its number), if the line is one.
fn nik_of(line: &str) -> Option<&str> {
    let mut words = line.split(' ');
    let number = words.next()?;
    let nik = words.next()?;
    (number.chars().all(|c| c.is_ascii_digit()) && nik.len() == 16 && nik.chars().all(|c| c.is_ascii_digit())).then_some(nik)
}

fn nik(n: usize) -> String {
    format!("6409{:012}", n)
}

fn page_with(pages: &[Vec<String>], needle: &str) -> usize {
    pages
        .iter()
        .position(|p| p.iter().any(|l| l.contains(needle)))
        .unwrap_or_else(|| panic!("'{needle}' on no page"))
}

const ADDRESS: &str = "Jalan Poros Penajam Kilometer Dua Puluh Tiga RT 004 RW 002 Dusun Sidomulyo Ujung";

/// A village letter with `n` candidates; `variant` changes addresses, names and copies
/// so that breaks fall at other heights.
fn village_letter(n: usize, variant: usize) -> Value {
    let candidates: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "nik": nik(1000 + i),
                "nama": if (i + variant).is_multiple_of(7) { "Andi Muhammad Rahmat Hidayatullah Syahputra Daeng Matutu" } else { "Sri Pratama" },
                "tanggal_lahir": "1980-05-02",
                "jenis_kelamin": if i.is_multiple_of(2) { "L" } else { "P" },
                "alamat": if (i * 3 + variant).is_multiple_of(5) { ADDRESS } else { "RT 012 Pejala" },
                "pekerjaan": "Nelayan/perikanan",
                "sumber": "P3KE",
            })
        })
        .collect();
    let copies: Vec<Value> = (0..variant % 3).map(|i| json!({ "nama": format!("Camat Penajam {i}") })).collect();
    json!({
        "desa": "Pejala",
        "kecamatan": "Penajam",
        "jenis_wilayah": if variant.is_multiple_of(2) { "Desa" } else { "Kelurahan" },
        "batas_waktu": "2026-12-10",
        "tembusan": copies,
        "calon": candidates,
    })
}

/// The checks on one village letter; `Err` says what is wrong, with the pages.
fn check_village_letter(n: usize, pages: &[Vec<String>]) -> Result<(), String> {
    let show = || format!("{n} candidates, pages: {pages:#?}");
    for (i, page) in pages.iter().enumerate() {
        if let Some(last) = page.last()
            && is_heading(last)
        {
            return Err(format!("page {} ends with the heading '{last}'; {}", i + 1, show()));
        }
    }
    // The signature shares its page with the closing paragraph.
    let signature = page_with(pages, "NIP. 19700512");
    if !pages[signature].iter().any(|l| l.contains("Demikian kami sampaikan")) {
        return Err(format!("the signature is on a page without the letter's text; {}", show()));
    }
    if n == 0 {
        return if pages.len() == 1 {
            Ok(())
        } else {
            Err(format!("no list, yet {} pages", pages.len()))
        };
    }
    // Every candidate once, on the attachment's pages.
    let rows: Vec<(usize, &str)> = pages
        .iter()
        .enumerate()
        .flat_map(|(p, lines)| lines.iter().filter_map(move |l| nik_of(l).map(|k| (p, k))))
        .collect();
    let expected: Vec<String> = (0..n).map(|i| nik(1000 + i)).collect();
    if rows.iter().map(|(_, k)| k.to_string()).collect::<Vec<_>>() != expected {
        return Err(format!("the list's rows are not all there in order; {}", show()));
    }
    // The reply block, the replacement table and the list's last row share one page.
    let reply = page_with(pages, "(…");
    let replacements = page_with(pages, "Usulan pengganti");
    let last_row = rows.last().unwrap().0;
    if reply != replacements || reply != last_row {
        return Err(format!(
            "reply block on page {}, 'Usulan pengganti' on {}, the list's last row on {}; {}",
            reply + 1,
            replacements + 1,
            last_row + 1,
            show()
        ));
    }
    // Every page of the list says whose list it is and which letter it belongs to.
    let first_list_page = rows.first().unwrap().0;
    for (p, page) in pages.iter().enumerate().take(last_row + 1).skip(first_list_page) {
        if !page.iter().any(|l| l.contains("Pejala, Kecamatan Penajam — lampiran surat nomor")) {
            return Err(format!("page {} of the list does not say whose list it is; {}", p + 1, show()));
        }
    }
    Ok(())
}

#[test]
fn village_letters_keep_headings_lists_and_reply_blocks_together() {
    let renderer = renderer();
    let mut failures = Vec::new();
    let mut most_pages = 0;
    for n in 0..=60 {
        let variant = n % 6;
        let pdf = render(&renderer, "surat-konfirmasi-desa", &village_letter(n, variant));
        let Some(pages) = pages(&pdf) else { return };
        most_pages = most_pages.max(pages.len());
        if let Err(e) = check_village_letter(n, &pages) {
            failures.push(e);
        }
    }
    // The lists run over several pages, so breaks fall inside and after them.
    assert!(most_pages >= 4, "at most {most_pages} pages");
    assert!(
        failures.is_empty(),
        "{} of 61 letters break badly; the first: {}",
        failures.len(),
        failures[0]
    );
}

const DISTRICTS: [&str; 4] = ["Babulu", "Penajam", "Sepaku", "Waru"];

/// A decree listing `rows` people in 54 villages of four kecamatan, the villages of
/// uneven size (a fixed pseudo-random spread), some names over two lines.
fn decree(rows: usize) -> (Value, Vec<(String, String)>) {
    let mut seed: u64 = 0x5eed_1630 ^ rows as u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let weights: Vec<usize> = (0..54).map(|_| 1 + next() % 12).collect();
    let total: usize = weights.iter().sum();
    let mut people = Vec::with_capacity(rows);
    let mut village_of = Vec::with_capacity(rows);
    let mut given = 0;
    for (v, w) in weights.iter().enumerate() {
        let count = if v == 53 {
            rows - given
        } else {
            (rows * w / total).min(rows - given)
        };
        given += count;
        // Villages in the template's order (kecamatan, then desa): NIKs follow the rows.
        let district = DISTRICTS[v * DISTRICTS.len() / weights.len()];
        let village = format!("Nomor {v:02}");
        for i in 0..count {
            let k = people.len();
            // The template sorts by kecamatan, desa and name: names sort in row order.
            let name = if next() % 9 == 0 {
                format!("Warga {k:05} Muhammad Rahmat Hidayatullah Syahputra Daeng Matutu Bin Abdul Rahman")
            } else {
                format!("Warga {k:05}")
            };
            people.push(json!({
                "nik": nik(k),
                "nama": name,
                "jenis_kelamin": if i % 2 == 0 { "L" } else { "P" },
                "pekerjaan": "Nelayan/perikanan",
                "desa": village,
                "kecamatan": district,
            }));
            village_of.push((district.to_string(), village.clone()));
        }
    }
    assert_eq!(people.len(), rows);
    let mut data: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("letter_templates/sk-penerima-bantuan-iuran/contoh.json"),
        )
        .unwrap(),
    )
    .unwrap();
    data["penerima"] = Value::Array(people);
    data["tampilan_nik"] = json!("Lengkap");
    (data, village_of)
}

/// The checks on a decree; `village_of[k]` is the kecamatan and desa of NIK `nik(k)`.
fn check_decree(pages: &[Vec<String>], village_of: &[(String, String)]) -> Result<(), String> {
    let rows = village_of.len();
    let at = |p: usize| format!("page {} of the {rows}-row decree: {:#?}", p + 1, pages[p]);
    for (p, page) in pages.iter().enumerate() {
        if let Some(last) = page.last()
            && is_heading(last)
        {
            return Err(format!("ends with the heading '{last}'; {}", at(p)));
        }
    }
    // "MEMUTUSKAN:" with "Menetapkan" and the first diktum; the decree's signature with
    // its last diktum.
    let decides = page_with(pages, "MEMUTUSKAN:");
    if !pages[decides].iter().any(|l| l.starts_with("Menetapkan")) || !pages[decides].iter().any(|l| l.contains("KESATU")) {
        return Err(format!("'MEMUTUSKAN:' without 'Menetapkan' and KESATU; {}", at(decides)));
    }
    let ends = page_with(pages, "pada tanggal");
    if !pages[ends].iter().any(|l| l.contains("KELIMA")) {
        return Err(format!("the decree's signature without its last diktum; {}", at(ends)));
    }
    // The attachment: every person once, in order; each page of people names the
    // kecamatan and desa of its first row, "(lanjutan)" when the previous page had
    // people of that desa.
    let index = |nik: &str| nik[4..].parse::<usize>().unwrap();
    let mut seen = 0;
    let mut previous_desa: Option<&(String, String)> = None;
    for (p, page) in pages.iter().enumerate() {
        let people: Vec<(usize, usize)> = page
            .iter()
            .enumerate()
            .filter_map(|(i, l)| nik_of(l).map(|k| (i, index(k))))
            .collect();
        let Some(&(first_line, first)) = people.first() else { continue };
        for &(_, k) in &people {
            if k != seen {
                return Err(format!("row of NIK {} where {} was due; {}", nik(k), nik(seen), at(p)));
            }
            seen += 1;
        }
        let (district, village) = &village_of[first];
        let goes_on = previous_desa == Some(&village_of[first]);
        let suffix = if goes_on { " (lanjutan)" } else { "" };
        let before = &page[..first_line];
        let district_heading = format!("Kecamatan {district}");
        let village_heading = format!("Desa/Kelurahan {village}{suffix}");
        if !before.iter().any(|l| l.starts_with(&district_heading)) || !before.contains(&village_heading) {
            return Err(format!(
                "the first row lacks '{district_heading}' and '{village_heading}' above it; {}",
                at(p)
            ));
        }
        previous_desa = Some(&village_of[people.last().unwrap().1]);
    }
    if seen != rows {
        return Err(format!("{seen} of {rows} rows found"));
    }
    // The attachment's signature with its last rows and the grand total.
    let signature = page_with(pages, "Jumlah bantuan iuran selama");
    let page = &pages[signature];
    if !page.iter().any(|l| l.contains("JUMLAH SELURUHNYA")) || !page.iter().any(|l| nik_of(l).is_some()) {
        return Err(format!("the attachment's signature without its last rows; {}", at(signature)));
    }
    Ok(())
}

#[test]
fn decrees_keep_headings_with_rows_and_repeat_them_on_the_next_page() {
    let renderer = renderer();
    for rows in [1_630, 10_000] {
        let (data, village_of) = decree(rows);
        let pdf = render(&renderer, "sk-penerima-bantuan-iuran", &data);
        let Some(pages) = pages(&pdf) else { return };
        assert!(pages.len() > rows / 60, "{} pages for {rows} rows", pages.len());
        if let Err(e) = check_decree(&pages, &village_of) {
            panic!("{e}");
        }
    }
}
