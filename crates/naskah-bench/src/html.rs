//! The HTML + CSS equivalents of the benchmarked documents, for the HTML-to-PDF peer.
//!
//! Each is built from the very JSON the Typst template receives (`/data.json`) and
//! follows the template's layout: letterhead with logo and double rule, place and date,
//! the heading table (Nomor, Sifat, Lampiran, Hal), addressees, paragraphs, signature
//! block with the QR placeholder, copies, the KONSEP watermark and the page footer
//! "Halaman x dari y"; the confirmation letter's landscape attachment; the decree with its
//! attachment grouped by kecamatan and desa with subtotals and a repeating table header.

use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use serde_json::Value;

use crate::text;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// `2026-11-28` → `28 November 2026`.
fn date(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d").map(text::date_long).unwrap_or_default()
}

/// Blank lines separate paragraphs; single line breaks stay.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|p| format!("<p>{}</p>", p.split('\n').map(esc).collect::<Vec<_>>().join("<br>")))
        .collect()
}

fn slot(label: &str) -> String {
    format!("<span class=\"slot\">[{}]</span>", esc(label))
}

/// The stylesheet: fonts from the template folder, A4 pages with the template's margins.
fn css(fonts_dir: &Path, serif: bool) -> String {
    let font = |family: &str, file: &str, weight: &str, style: &str| {
        format!(
            "@font-face {{ font-family: \"{family}\"; src: url(\"file://{}\"); font-weight: {weight}; font-style: {style}; }}\n",
            fonts_dir.join(file).display()
        )
    };
    // Only the family the document uses, as the Typst template does.
    let mut css = String::new();
    let family = if serif {
        css += &font("TeX Gyre Bonum", "texgyrebonum-regular.otf", "normal", "normal");
        css += &font("TeX Gyre Bonum", "texgyrebonum-bold.otf", "bold", "normal");
        css += &font("TeX Gyre Bonum", "texgyrebonum-italic.otf", "normal", "italic");
        "TeX Gyre Bonum"
    } else {
        css += &font("Liberation Sans", "LiberationSans-Regular.ttf", "normal", "normal");
        css += &font("Liberation Sans", "LiberationSans-Bold.ttf", "bold", "normal");
        css += &font("Liberation Sans", "LiberationSans-Italic.ttf", "normal", "italic");
        "Liberation Sans"
    };
    css += &format!(
        r#"
@page {{ size: A4; margin: 2cm 2cm 2.4cm 2.5cm;
  @bottom-left {{ content: element(kaki); vertical-align: top; width: 80%; }}
  @bottom-right {{ content: "Halaman " counter(page) " dari " counter(pages); font: 7.5pt "{family}"; color: #3c3c3c; vertical-align: top; padding-top: 4pt; border-top: 0.4pt solid #969696; }}
}}
@page lampiran {{ size: A4 landscape; margin: 1.8cm 1.8cm 2.2cm 1.8cm; }}
html {{ font: 12pt/1.3 "{family}"; }}
body {{ margin: 0; }}
p {{ margin: 0 0 0.9em 0; text-align: justify; }}
.kaki {{ position: running(kaki); font-size: 7.5pt; color: #3c3c3c; border-top: 0.4pt solid #969696; padding-top: 4pt; }}
.watermark {{ position: fixed; top: 40%; left: 0; width: 100%; text-align: center; transform: rotate(-40deg); font-size: 96pt; font-weight: bold; color: rgba(200, 200, 200, 0.43); z-index: -1; }}
.kop {{ width: 100%; border-collapse: collapse; }}
.kop td {{ vertical-align: middle; text-align: center; padding: 0; }}
.kop .logo {{ width: 2.3cm; }} .kop .logo img {{ height: 2.5cm; }} .kop .pad {{ width: 0.6cm; }}
.kop .l1 {{ font-size: 13pt; font-weight: bold; line-height: 1.2; }}
.kop .l2 {{ font-size: 15pt; font-weight: bold; line-height: 1.2; }}
.kop .l3 {{ font-size: 9.5pt; line-height: 1.2; }}
.rule {{ border-top: 2.2pt solid black; border-bottom: 0.6pt solid black; height: 2pt; margin: 0.1em 0 0.5em 0; }}
.right {{ text-align: right; }}
.kepala {{ border-collapse: collapse; margin: 0.2em 0 0.8em 0; }}
.kepala td {{ padding: 0 0 0.2em 0; vertical-align: top; }}
.kepala td.k {{ width: 2.4cm; }} .kepala td.c {{ width: 0.4cm; }}
.yth {{ text-align: left; margin-bottom: 0.8em; }}
.slot {{ color: #9a6700; font-style: italic; }}
.ttd {{ width: 8.2cm; margin: 1em 0 0 auto; page-break-inside: avoid; line-height: 1.25; }}
.qr {{ width: 2.6cm; height: 2.6cm; border: 1pt dashed #9a6700; color: #9a6700; font-size: 7.5pt; display: flex; align-items: center; justify-content: center; text-align: center; margin: 0.3em 0; box-sizing: border-box; padding: 4pt; }}
.tembusan {{ font-size: 10.5pt; margin-top: 1em; }}
.lampiran {{ page: lampiran; page-break-before: always; font-size: 9.5pt; }}
.kepala-lampiran {{ width: 10cm; margin-left: auto; font-size: 10.5pt; border-collapse: collapse; }}
.kepala-lampiran td {{ padding: 0 0 0.2em 0; vertical-align: top; }}
.judul {{ text-align: center; font-size: 11pt; font-weight: bold; text-transform: uppercase; margin: 0.6em 0 0.4em 0; }}
table.data {{ width: 100%; border-collapse: collapse; table-layout: fixed; }}
table.data th, table.data td {{ border: 0.5pt solid black; padding: 3.5pt; vertical-align: top; }}
table.data th {{ text-align: center; vertical-align: middle; }}
.lampiran table.data th, .lampiran table.data td {{ padding: 4pt; }}
table.data thead {{ display: table-header-group; }}
table.data tr {{ page-break-inside: avoid; }}
.r {{ text-align: right; }} .c {{ text-align: center; }}
.kec td {{ background: #e1e1e1; font-weight: bold; }} .desa td {{ background: #f5f5f5; font-weight: bold; }}
.sub td {{ font-weight: bold; }}
.bagian {{ border-collapse: collapse; width: 100%; margin-bottom: 0.5em; }}
.bagian > tbody > tr > td {{ vertical-align: top; padding: 0; }}
.bagian td.k {{ width: 3.2cm; }} .bagian td.c {{ width: 0.4cm; }}
.butir {{ border-collapse: collapse; width: 100%; }} .butir td {{ vertical-align: top; padding: 0 0 0.6em 0; }} .butir td.m {{ width: 0.8cm; }}
.butir p {{ margin: 0; }}
"#
    );
    css
}

/// Document head, watermark, running footer.
fn open(data: &Value, fonts_dir: &Path, serif: bool) -> String {
    let konsep = data.pointer("/slot/konsep").and_then(Value::as_bool).unwrap_or(true);
    let mut h = format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\"><title>{}</title><style>{}</style></head><body>",
        esc(s(data, "judul")),
        css(fonts_dir, serif)
    );
    if konsep {
        h += "<div class=\"watermark\">KONSEP</div><div class=\"kaki\">KONSEP — belum ditandatangani. Nomor, tanggal, kode QR dan catatan tanda tangan elektronik diisi saat penandatanganan.</div>";
    }
    h
}

fn kop(data: &Value) -> String {
    let d = &data["dinas"];
    let mut line1 = s(d, "alamat").to_string();
    if !s(d, "kode_pos").is_empty() {
        line1 += " ";
        line1 += s(d, "kode_pos");
    }
    if !s(d, "telepon").is_empty() {
        line1 += ", Telepon ";
        line1 += s(d, "telepon");
    }
    let mut contact = Vec::new();
    if !s(d, "email").is_empty() {
        contact.push(format!("Pos-el: {}", s(d, "email")));
    }
    if !s(d, "laman").is_empty() {
        contact.push(format!("Laman: {}", s(d, "laman")));
    }
    let logo = if s(d, "logo") == "svg" { "<img src=\"logo.svg\">" } else { "" };
    format!(
        "<table class=\"kop\"><tr><td class=\"logo\">{logo}</td><td><div class=\"l1\">PEMERINTAH {}</div><div class=\"l2\">{}</div><div class=\"l3\">{}</div><div class=\"l3\">{}</div></td><td class=\"pad\"></td></tr></table><div class=\"rule\"></div>",
        esc(&s(d, "pemerintah").to_uppercase()),
        esc(&s(d, "nama").to_uppercase()),
        esc(&line1),
        esc(&contact.join("  ·  "))
    )
}

fn number_slot() -> String {
    slot("nomor diberikan saat ditandatangani")
}

fn place_date(data: &Value) -> String {
    format!("<p class=\"right\">{}, {}</p>", esc(s(&data["dinas"], "kota")), slot("tanggal"))
}

fn heading(isian: &Value, lampiran: &str) -> String {
    format!(
        "<table class=\"kepala\"><tr><td class=\"k\">Nomor</td><td class=\"c\">:</td><td>{}</td></tr><tr><td class=\"k\">Sifat</td><td class=\"c\">:</td><td>{}</td></tr><tr><td class=\"k\">Lampiran</td><td class=\"c\">:</td><td>{}</td></tr><tr><td class=\"k\">Hal</td><td class=\"c\">:</td><td><b>{}</b></td></tr></table>",
        number_slot(),
        esc(s(isian, "sifat")),
        esc(lampiran),
        esc(s(isian, "hal"))
    )
}

fn addressees(names: &[String], place: &str) -> String {
    let mut h = String::from("<p class=\"yth\">Yth.");
    if names.len() == 1 {
        let _ = write!(h, " {}", esc(&names[0]));
    } else {
        for (i, name) in names.iter().enumerate() {
            let _ = write!(h, "<br>{}. {}", i + 1, esc(name));
        }
    }
    if !place.is_empty() {
        let _ = write!(h, "<br>di {}", esc(place));
    }
    h + "</p>"
}

fn signature() -> String {
    format!(
        "<div class=\"ttd\">{}<div class=\"qr\">Kode QR tanda tangan elektronik</div>{}</div>",
        slot("jabatan penandatangan"),
        slot("nama penandatangan")
    )
}

fn copies(title: &str, list: &[Value]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut h = format!("<div class=\"tembusan\">{title}");
    for (i, t) in list.iter().enumerate() {
        let _ = write!(h, "<br>{}. {}", i + 1, esc(s(t, "nama")));
    }
    h + "</div>"
}

fn names(list: &[Value]) -> Vec<String> {
    list.iter().map(|p| s(p, "nama").to_string()).collect()
}

/// The data-request letter (`surat-permintaan-data`).
pub(super) fn letter(data: &Value, fonts_dir: &Path) -> String {
    let isian = &data["isian"];
    let mut h = open(data, fonts_dir, false);
    h += &kop(data);
    h += &place_date(data);
    h += &heading(isian, s(isian, "lampiran"));
    h += &addressees(&names(list(isian, "penerima")), s(isian, "tempat_tujuan"));
    h += &paragraphs(s(isian, "isi"));
    if !s(isian, "batas_waktu").is_empty() {
        let _ = write!(
            h,
            "<p>Data tersebut kami harapkan dapat kami terima paling lambat tanggal {}.</p>",
            date(s(isian, "batas_waktu"))
        );
    }
    h += &paragraphs(s(isian, "penutup"));
    h += &signature();
    h += &copies("Tembusan:", list(isian, "tembusan"));
    h + "</body></html>"
}

/// The confirmation letter (`surat-konfirmasi-desa`) with its landscape attachment.
pub(super) fn confirmation(data: &Value, fonts_dir: &Path) -> String {
    let isian = &data["isian"];
    let dinas = &data["dinas"];
    let desa = s(isian, "desa");
    let kepala = if s(isian, "jenis_wilayah") == "Kelurahan" {
        format!("Lurah {desa}")
    } else {
        format!("Kepala Desa {desa}")
    };
    let calon = list(isian, "calon");
    let mut h = open(data, fonts_dir, false);
    h += &kop(data);
    h += &place_date(data);
    h += &heading(isian, if calon.is_empty() { "-" } else { "1 (satu) berkas" });
    h += &addressees(std::slice::from_ref(&kepala), &format!("Kecamatan {}", s(isian, "kecamatan")));
    h += &paragraphs(s(isian, "isi"));
    if !s(isian, "batas_waktu").is_empty() {
        let _ = write!(
            h,
            "<p>Jawaban beserta daftar yang telah diisi kami harapkan dapat kami terima paling lambat tanggal {}.</p>",
            date(s(isian, "batas_waktu"))
        );
    }
    h += &paragraphs(s(isian, "penutup"));
    h += &signature();
    h += &copies("Tembusan:", list(isian, "tembusan"));
    if !calon.is_empty() {
        h += "<section class=\"lampiran\">";
        h += &attachment_head(
            &format!("Lampiran surat Kepala {} {}", s(dinas, "nama"), s(dinas, "pemerintah")),
            s(isian, "hal"),
        );
        let _ = write!(
            h,
            "<div class=\"judul\">Daftar sementara calon penerima bantuan iuran jaminan sosial ketenagakerjaan bagi pekerja rentan<br>{} {} kecamatan {}</div>",
            esc(s(isian, "jenis_wilayah")),
            esc(desa),
            esc(s(isian, "kecamatan"))
        );
        h += "<table class=\"data\"><colgroup><col style=\"width:0.9cm\"><col style=\"width:3.3cm\"><col><col style=\"width:3cm\"><col style=\"width:0.95cm\"><col><col style=\"width:2.6cm\"><col style=\"width:1.5cm\"><col style=\"width:2.3cm\"><col style=\"width:2.6cm\"></colgroup><thead><tr><th>No</th><th>NIK</th><th>Nama</th><th>Tgl Lahir</th><th>L/P</th><th>Alamat</th><th>Pekerjaan</th><th>Sumber</th><th>Hasil Konfirmasi (Sesuai/Tidak)</th><th>Alasan</th></tr></thead><tbody>";
        for (i, c) in calon.iter().enumerate() {
            let _ = write!(
                h,
                "<tr><td class=\"r\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"c\">{}</td><td>{}</td><td>{}</td><td class=\"c\">{}</td><td></td><td></td></tr>",
                i + 1,
                esc(s(c, "nik")),
                esc(s(c, "nama")),
                date(s(c, "tanggal_lahir")),
                esc(s(c, "jenis_kelamin")),
                esc(s(c, "alamat")),
                esc(s(c, "pekerjaan")),
                esc(s(c, "sumber"))
            );
        }
        h += "</tbody></table><p style=\"margin-top:0.8em\"><b>Usulan pengganti</b></p>";
        h += "<table class=\"data\"><thead><tr><th style=\"width:0.9cm\">No</th><th style=\"width:3.3cm\">NIK</th><th>Nama</th><th style=\"width:3cm\">Tgl Lahir</th><th style=\"width:0.95cm\">L/P</th><th>Alamat</th><th style=\"width:2.6cm\">Pekerjaan</th></tr></thead><tbody>";
        for i in 1..=3 {
            let _ = write!(
                h,
                "<tr style=\"height:0.9cm\"><td class=\"r\">{i}</td><td></td><td></td><td></td><td></td><td></td><td></td></tr>"
            );
        }
        let _ = write!(
            h,
            "</tbody></table><div class=\"ttd\" style=\"text-align:center\">..................., ....................... 2026<br>{},<div style=\"height:2cm\"></div>(.......................................)</div></section>",
            esc(&kepala)
        );
    }
    h + "</body></html>"
}

fn attachment_head(kind: &str, hal: &str) -> String {
    format!(
        "<table class=\"kepala-lampiran\"><tr><td colspan=\"3\">{}</td></tr><tr><td style=\"width:2.3cm\">Nomor</td><td style=\"width:0.35cm\">:</td><td>{}</td></tr><tr><td>Tanggal</td><td>:</td><td>{}</td></tr><tr><td>Hal</td><td>:</td><td>{}</td></tr></table>",
        esc(&kind.to_uppercase()),
        number_slot(),
        slot("tanggal"),
        esc(hal)
    )
}

fn items(text: &str, marker: impl Fn(usize) -> String) -> String {
    let mut h = String::from("<table class=\"butir\">");
    for (i, t) in text.split("\n\n").filter(|t| !t.trim().is_empty()).enumerate() {
        let _ = write!(h, "<tr><td class=\"m\">{}</td><td>{}</td></tr>", marker(i), paragraphs(t.trim()));
    }
    h + "</table>"
}

fn part(title: &str, body: &str) -> String {
    format!("<table class=\"bagian\"><tr><td class=\"k\">{title}</td><td class=\"c\">:</td><td>{body}</td></tr></table>")
}

/// The decree (`sk-penerima-bantuan-iuran`) with its attachment.
pub(super) fn sk(data: &Value, fonts_dir: &Path) -> String {
    let isian = &data["isian"];
    let dinas = &data["dinas"];
    let penetap = if s(isian, "penetap") == "Bupati" {
        format!("Bupati {}", s(dinas, "pemerintah").replace("Kabupaten ", ""))
    } else {
        format!("Kepala {} {}", s(dinas, "nama"), s(dinas, "pemerintah"))
    };
    let people = list(isian, "penerima");
    let count = people.len() as i64;
    let per_month = n(isian, "iuran_per_bulan");
    let months = n(isian, "jumlah_bulan");
    let year = n(isian, "tahun_anggaran");
    let masked = s(isian, "tampilan_nik") == "Disamarkan";
    let mut h = open(data, fonts_dir, true);
    if s(isian, "penetap") == "Kepala Dinas" {
        h += &kop(data);
    }
    let _ = write!(
        h,
        "<div style=\"text-align:center;font-weight:bold;margin:0.6em 0\">KEPUTUSAN {}<br>NOMOR <span style=\"font-weight:normal\">{}</span><br><br>TENTANG<br>{}<br><br>{},</div>",
        esc(&penetap.to_uppercase()),
        number_slot(),
        esc(&s(isian, "tentang").to_uppercase()),
        esc(&penetap.to_uppercase())
    );
    h += &part(
        "Menimbang",
        &items(s(isian, "menimbang"), |i| format!("{}.", (b'a' + (i % 26) as u8) as char)),
    );
    h += &part("Mengingat", &items(s(isian, "mengingat"), |i| format!("{}.", i + 1)));
    if !s(isian, "memperhatikan").is_empty() {
        h += &part("Memperhatikan", &items(s(isian, "memperhatikan"), |i| format!("{}.", i + 1)));
    }
    h += "<p style=\"text-align:center;font-weight:bold\">MEMUTUSKAN:</p>";
    h += &part(
        "Menetapkan",
        &format!(
            "<b>{}.</b>",
            esc(&format!("KEPUTUSAN {} TENTANG {}", penetap, s(isian, "tentang")).to_uppercase())
        ),
    );
    let diktum = [
        (
            "KESATU",
            format!(
                "Menetapkan Penerima Bantuan Iuran Jaminan Sosial Ketenagakerjaan bagi Pekerja Rentan Tahun Anggaran {year} sebanyak {} ({}) orang sebagaimana tercantum dalam Lampiran yang merupakan bagian tidak terpisahkan dari Keputusan ini.",
                text::thousands(count),
                text::terbilang(count)
            ),
        ),
        (
            "KEDUA",
            format!(
                "Bantuan iuran sebagaimana dimaksud dalam Diktum KESATU sebesar {} ({} rupiah) per orang per bulan untuk program Jaminan Kecelakaan Kerja dan Jaminan Kematian, dibayarkan selama {months} ({}) bulan.",
                text::rupiah(per_month),
                text::terbilang(per_month),
                text::terbilang(months)
            ),
        ),
        (
            "KETIGA",
            format!(
                "Segala biaya yang timbul akibat ditetapkannya Keputusan ini dibebankan pada Anggaran Pendapatan dan Belanja Daerah {} Tahun Anggaran {year} pada Dokumen Pelaksanaan Anggaran {} {}.",
                s(dinas, "pemerintah"),
                s(dinas, "nama"),
                s(dinas, "pemerintah")
            ),
        ),
        (
            "KEEMPAT",
            "Penggantian penerima sebagaimana dimaksud dalam Diktum KESATU ditetapkan dengan Keputusan perubahan.".to_string(),
        ),
        ("KELIMA", "Keputusan ini mulai berlaku pada tanggal ditetapkan.".to_string()),
    ];
    h += "<table class=\"bagian\">";
    for (d, text) in diktum {
        let _ = write!(
            h,
            "<tr><td class=\"k\"><b>{d}</b></td><td class=\"c\">:</td><td><p>{}</p></td></tr>",
            esc(&text)
        );
    }
    h += "</table>";
    let _ = write!(
        h,
        "<div class=\"ttd\"><table><tr><td style=\"width:3.2cm\">Ditetapkan di</td><td>:</td><td>{}</td></tr><tr><td>pada tanggal</td><td>:</td><td>{}</td></tr></table>{}<div class=\"qr\">Kode QR tanda tangan elektronik</div>{}</div>",
        esc(s(dinas, "kota")),
        slot("tanggal"),
        slot("jabatan penandatangan"),
        slot("nama penandatangan")
    );
    h += &copies(
        "<span style=\"font-size:11pt\">Salinan Keputusan ini disampaikan kepada Yth.:</span>",
        list(isian, "salinan"),
    );

    // The attachment.
    h += "<section style=\"page-break-before:always;font-size:9pt\">";
    h += &attachment_head(&format!("Lampiran keputusan {penetap}"), s(isian, "tentang"));
    let _ = write!(
        h,
        "<div class=\"judul\">Daftar penerima bantuan iuran jaminan sosial ketenagakerjaan bagi pekerja rentan tahun anggaran {year}</div>"
    );
    let mut sorted: Vec<&Value> = people.iter().collect();
    sorted.sort_by(|a, b| (s(a, "kecamatan"), s(a, "desa"), s(a, "nama")).cmp(&(s(b, "kecamatan"), s(b, "desa"), s(b, "nama"))));
    let _ = write!(
        h,
        "<table class=\"data\" style=\"font-size:8pt\"><colgroup><col style=\"width:1cm\"><col style=\"width:3.1cm\"><col><col style=\"width:0.85cm\"><col style=\"width:2.4cm\"><col style=\"width:2.05cm\"><col style=\"width:2.55cm\"></colgroup><thead><tr><th>No</th><th>NIK</th><th>Nama</th><th>L/P</th><th>Pekerjaan</th><th>Iuran per bulan (Rp)</th><th>Iuran {months} bulan (Rp)</th></tr></thead><tbody>"
    );
    let fee = text::thousands(per_month);
    let fee_all = text::thousands(per_month * months);
    let subtotal = |h: &mut String, label: &str, k: i64| {
        let _ = write!(
            h,
            "<tr class=\"sub\"><td colspan=\"4\" class=\"r\">{}</td><td>{} orang</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr>",
            esc(label),
            text::thousands(k),
            text::thousands(k * per_month),
            text::thousands(k * per_month * months)
        );
    };
    let (mut kec, mut desa): (Option<&str>, Option<&str>) = (None, None);
    let (mut in_desa, mut in_kec) = (0i64, 0i64);
    for (i, p) in sorted.iter().enumerate() {
        let (pk, pd) = (s(p, "kecamatan"), s(p, "desa"));
        if Some(pd) != desa || Some(pk) != kec {
            if let Some(d) = desa {
                subtotal(&mut h, &format!("Jumlah {d}"), in_desa);
            }
            if Some(pk) != kec {
                if let Some(k) = kec {
                    subtotal(&mut h, &format!("Jumlah Kecamatan {k}"), in_kec);
                }
                let _ = write!(h, "<tr class=\"kec\"><td colspan=\"7\">Kecamatan {}</td></tr>", esc(pk));
                kec = Some(pk);
                in_kec = 0;
            }
            let _ = write!(h, "<tr class=\"desa\"><td colspan=\"7\">Desa/Kelurahan {}</td></tr>", esc(pd));
            desa = Some(pd);
            in_desa = 0;
        }
        in_desa += 1;
        in_kec += 1;
        let nik = s(p, "nik");
        let nik = if masked && nik.len() == 16 {
            format!("{}********{}", &nik[..4], &nik[12..])
        } else {
            nik.to_string()
        };
        let _ = write!(
            h,
            "<tr><td class=\"r\">{}</td><td>{}</td><td>{}</td><td class=\"c\">{}</td><td>{}</td><td class=\"r\">{fee}</td><td class=\"r\">{fee_all}</td></tr>",
            i + 1,
            esc(&nik),
            esc(s(p, "nama")),
            esc(s(p, "jenis_kelamin")),
            esc(s(p, "pekerjaan"))
        );
    }
    if let Some(d) = desa {
        subtotal(&mut h, &format!("Jumlah {d}"), in_desa);
    }
    if let Some(k) = kec {
        subtotal(&mut h, &format!("Jumlah Kecamatan {k}"), in_kec);
    }
    let total = count * per_month * months;
    let _ = write!(
        h,
        "<tr class=\"sub\"><td colspan=\"4\" class=\"r\">JUMLAH SELURUHNYA</td><td>{} orang</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr></tbody></table>",
        text::thousands(count),
        text::thousands(count * per_month),
        text::thousands(total)
    );
    let _ = write!(
        h,
        "<p style=\"margin-top:0.5em\">Jumlah bantuan iuran selama {months} bulan: <b>{}</b> (<i>{} rupiah</i>).</p>{}</section>",
        text::rupiah(total),
        text::terbilang(total),
        signature()
    );
    h + "</body></html>"
}
