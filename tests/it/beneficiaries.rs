//! Candidate data: the two test exports (P3KE and DTKS layouts) checked against every
//! defect class they carry, imported, merged by NIK; messier files (XLSX, `;`, BOM,
//! CRLF, quoted line breaks, Windows-1252), custom mappings, and imports that fail
//! without leaving a trace. Both engines.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use naskah::{
    audit::Actor,
    beneficiaries::{
        Error,
        candidates::{self, Filter, Status},
        import::{self, Mapping, Upload},
    },
    departments,
    distribution::batches,
    workflow::batch::NewBatch,
};

use crate::support;

pub const P3KE: &str = include_str!("../data/candidates/p3ke.csv");
const DTKS: &str = include_str!("../data/candidates/dtks.csv");
const DEFECTS: &str = include_str!("../data/candidates/defects.json");

/// Defect classes under which the row is still imported, cleaned, with a note.
const CLEANED: [&str; 2] = ["whitespace", "nik_apostrophe"];

fn defects(file: &str) -> BTreeMap<i64, String> {
    let all: serde_json::Value = serde_json::from_str(DEFECTS).unwrap();
    all["defects"][file]
        .as_object()
        .unwrap()
        .iter()
        .map(|(line, class)| (line.parse().unwrap(), class.as_str().unwrap().to_string()))
        .collect()
}

fn upload<'a>(name: &'a str, text: &'a str) -> Upload<'a> {
    Upload {
        file_name: name,
        content: naskah::beneficiaries::import::Content::Bytes(text.as_bytes()),
        source: "",
        mapping: None,
    }
}

fn no_progress(_: usize, _: usize) {}

/// Every defect line carries a problem (or, for cleaned classes, a note) of its class,
/// and no other line carries anything.
async fn assert_report_matches(db: &naskah::db::Db, import_id: i64, file: &str, label: &str) -> HashSet<i64> {
    let report = import::report(db, import_id).await.unwrap();
    let expected = defects(file);
    for (line, class) in &expected {
        let of_line: Vec<_> = report.iter().filter(|p| p.line == *line).collect();
        let matching = of_line.iter().find(|p| p.code == *class);
        assert!(matching.is_some(), "{label} {file}: line {line} ({class}) reported as {of_line:?}");
        let refused = of_line.iter().any(|p| p.refused);
        assert_eq!(
            refused,
            !CLEANED.contains(&class.as_str()),
            "{label} {file}: line {line} {class}: {of_line:?}"
        );
        for p in &of_line {
            assert!(!p.message.is_empty() && !p.column_name.is_empty(), "{label}: {p:?}");
        }
    }
    let unexpected: Vec<_> = report.iter().filter(|p| !expected.contains_key(&p.line)).collect();
    assert!(unexpected.is_empty(), "{label} {file}: sound lines reported: {unexpected:?}");
    report.iter().filter(|p| p.refused).map(|p| p.line).collect()
}

story! {
    #[tokio::test]
    async fn both_test_exports_are_checked_per_defect_class_imported_and_merged_by_nik(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let db = &state.db;
        let actor = Actor::System("uji");
        let department = departments::get(db, 1).await.unwrap();

        let p3ke = import::check(db, &actor, &department, upload("p3ke.csv", P3KE)).await.unwrap();
        assert_eq!(
            (p3ke.source.as_str(), p3ke.mapping_name.as_str()),
            ("P3KE", "Ekspor P3KE"),
            "{label}"
        );
        assert_eq!(p3ke.rows_total, 1500, "{label}");
        let refused_p3ke = assert_report_matches(db, p3ke.id, "p3ke", label).await;
        assert_eq!(p3ke.rows_refused as usize, refused_p3ke.len(), "{label}");
        assert_eq!(p3ke.rows_valid, 1500 - p3ke.rows_refused, "{label}");
        // Checking stores nothing but the report.
        assert_eq!(
            candidates::counts(db, 1).await.unwrap().iter().map(|(_, n)| n).sum::<i64>(),
            0,
            "{label}"
        );

        let done = import::apply(db, &actor, &department, p3ke.id, &no_progress).await.unwrap();
        assert_eq!(
            (done.status.as_str(), done.rows_new, done.rows_merged),
            ("imported", p3ke.rows_valid, 0),
            "{label}"
        );
        assert!(matches!(
            import::apply(db, &actor, &department, p3ke.id, &no_progress).await,
            Err(Error::Conflict(_))
        ));

        let dtks = import::check(db, &actor, &department, upload("dtks.csv", DTKS)).await.unwrap();
        assert_eq!((dtks.source.as_str(), dtks.rows_total), ("DTKS", 800), "{label}");
        let refused_dtks = assert_report_matches(db, dtks.id, "dtks", label).await;
        let done = import::apply(db, &actor, &department, dtks.id, &no_progress).await.unwrap();

        // The NIKs of the valid rows of each file, read independently of the importer.
        let valid_niks = |text: &str, refused: &HashSet<i64>| -> BTreeSet<String> {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let nik_at = reader.headers().unwrap().iter().position(|h| h == "NIK").unwrap();
            reader
                .records()
                .enumerate()
                .filter(|(i, _)| !refused.contains(&(*i as i64 + 2)))
                .map(|(_, r)| r.unwrap()[nik_at].trim_start_matches('\'').to_string())
                .collect()
        };
        let (a, b) = (valid_niks(P3KE, &refused_p3ke), valid_niks(DTKS, &refused_dtks));
        let both = a.intersection(&b).count() as i64;
        assert!(both > 150, "{label}: most of the 200 shared NIKs are valid in both ({both})");
        assert_eq!((done.rows_new, done.rows_merged), (b.len() as i64 - both, both), "{label}");
        let (all, total) = candidates::list(db, 1, &Filter::default(), 10, 0).await.unwrap();
        assert_eq!(total, a.union(&b).count() as i64, "{label}");
        assert!(all.iter().all(|c| c.status() == Status::Candidate));

        // Every page of the list, the ones read backwards from the end included, and the
        // export's batches read after a cursor give the same rows in the same order.
        let mut whole = Vec::new();
        loop {
            let batch = candidates::after(db, 1, &Filter::default(), whole.last(), 37).await.unwrap();
            let done = batch.len() < 37;
            whole.extend(batch);
            if done {
                break;
            }
        }
        assert_eq!(whole.len() as i64, total, "{label}");
        support::assert_candidate_counts_kept(db, label).await;
        for offset in [0, 40, total / 2, total / 2 + 1, total - 41, total - 3, total] {
            let page = candidates::list_page(db, 1, &Filter::default(), 40, offset).await.unwrap();
            assert_eq!(page.total, total, "{label}");
            let ids: Vec<i64> = page.rows.iter().map(|c| c.id).collect();
            let expected: Vec<i64> = whole.iter().skip(offset as usize).take(40).map(|c| c.id).collect();
            assert_eq!(ids, expected, "{label}: page from {offset}");
        }

        // A merged person keeps both sources and the history says where each came from.
        let shared = a.intersection(&b).next().unwrap();
        let person = candidates::by_nik(db, 1, shared).await.unwrap().unwrap();
        let sources = candidates::sources(db, person.id).await.unwrap();
        assert_eq!(
            sources.iter().map(|s| s.source.as_str()).collect::<Vec<_>>(),
            ["P3KE", "DTKS"],
            "{label}"
        );
        let history = candidates::history(db, person.id).await.unwrap();
        assert_eq!(history.iter().map(|h| h.kind.as_str()).collect::<Vec<_>>(), ["diimpor", "digabung"]);
        assert!(history[0].reason.starts_with("P3KE p3ke.csv baris "), "{:?}", history[0]);

        // Cleaned rows: the name as the register would print it, the NIK without its marker.
        let whitespace_line = *defects("p3ke").iter().find(|(_, c)| *c == "whitespace").unwrap().0;
        let raw: Vec<&str> = P3KE.lines().nth(whitespace_line as usize - 1).unwrap().split(',').collect();
        let cleaned = candidates::by_nik(db, 1, raw[10]).await.unwrap().unwrap();
        assert_eq!(cleaned.name, raw[9].split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase());

        // Searching by part of a name and by kecamatan.
        let (found, _) = candidates::list(
            db,
            1,
            &Filter {
                text: cleaned.name.to_lowercase(),
                region_prefix: cleaned.region_code[..8].to_string(),
                ..Filter::default()
            },
            50,
            0,
        )
        .await
        .unwrap();
        assert!(found.iter().any(|c| c.id == cleaned.id), "{label}");

        // A search matching many is counted only to the cap or to the end of the page
        // asked for, and every page still reads the same rows and links on.
        let many = Filter {
            text: "a".into(),
            ..Filter::default()
        };
        let (_, matching) = candidates::list(db, 1, &many, 1, 0).await.unwrap();
        assert!(matching > 100, "{label}: {matching} names with an A");
        for (offset, counted_to, capped) in [(0, 20, true), (40, 60, true), (matching - 5, matching + 15, false)] {
            let page = candidates::list_page_counting_to(db, 1, &many, 20, offset, 10).await.unwrap();
            assert_eq!((page.counted_to, page.capped), (counted_to, capped), "{label}: from {offset}");
            assert_eq!(page.total, if capped { counted_to + 1 } else { matching }, "{label}: from {offset}");
            let (expected, _) = candidates::list(db, 1, &many, 20, offset).await.unwrap();
            let ids = |rows: &[candidates::Candidate]| rows.iter().map(|c| c.id).collect::<Vec<_>>();
            assert_eq!(ids(&page.rows), ids(&expected), "{label}: from {offset}");
        }

        // Viewing the full NIK leaves a trace.
        let full = candidates::reveal_nik(db, &actor, 1, cleaned.id, "pemeriksaan").await.unwrap();
        assert_eq!(full, cleaned.nik);
        assert_eq!(cleaned.masked_nik().len(), 16);
        assert!(!cleaned.masked_nik().contains(&cleaned.nik[6..12]));
        let last = candidates::history(db, cleaned.id).await.unwrap().pop().unwrap();
        assert_eq!((last.kind.as_str(), last.reason.as_str()), ("nik_dilihat", "pemeriksaan"));
    }
}

/// A P3KE-like file as a real export might come: `;`, BOM, CRLF, a quoted address with
/// a line break, a NIK with spaces, Windows-1252 accents.
fn messy_p3ke() -> Vec<u8> {
    let mut text = String::from("\u{feff}");
    let header = P3KE.lines().next().unwrap().replace(',', ";");
    text.push_str(&header);
    text.push_str("\r\n");
    for line in P3KE.lines().skip(1).take(60) {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        cells[7] = format!("\"{}\r\nGang Mawar\"", cells[7]);
        text.push_str(&cells.join(";"));
        text.push_str("\r\n");
    }
    text.into_bytes()
}

story! {
    #[tokio::test]
    async fn messy_files_xlsx_and_custom_mappings(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let db = &state.db;
        let actor = Actor::System("uji");
        let department = departments::get(db, 1).await.unwrap();

        let messy = messy_p3ke();
        let checked = import::check(
            db,
            &actor,
            &department,
            Upload {
                file_name: "p3ke-excel.csv",
                content: naskah::beneficiaries::import::Content::Bytes(&messy),
                source: "",
                mapping: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(checked.layout, "CSV, UTF-8 dengan BOM, pemisah ';', akhir baris CRLF", "{label}");
        assert_eq!(checked.rows_total, 60, "{label}");
        let report = import::report(db, checked.id).await.unwrap();
        let expected: Vec<i64> = defects("p3ke").into_keys().filter(|l| *l <= 61).collect();
        // Every address here has a line break: each row gets that note, and the defects are
        // named on their own lines.
        let reported: BTreeSet<i64> = report.iter().filter(|p| p.code != "multiline").map(|p| p.line).collect();
        assert_eq!(
            reported.into_iter().collect::<Vec<_>>(),
            expected,
            "{label}: line numbers survive line breaks"
        );
        let noted: BTreeSet<i64> = report.iter().filter(|p| p.code == "multiline").map(|p| p.line).collect();
        assert_eq!(noted.len(), 60, "{label}: each multi-line address is noted");
        assert!(report.iter().filter(|p| p.code == "multiline").all(|p| !p.refused), "{label}");
        let done = import::apply(db, &actor, &department, checked.id, &no_progress).await.unwrap();
        let (rows, _) = candidates::list(db, 1, &Filter::default(), 100, 0).await.unwrap();
        assert_eq!(rows.len() as i64, done.rows_new);
        assert!(rows.iter().all(|c| c.address.contains("Gang Mawar")), "{label}");

        // A DTSEN-like export with headers of its own: no preset fits, so the guess is
        // offered; an explicit mapping is saved and then found for the next file.
        let dtsen = "ID_DTSEN,NO_KK,NIK_ART,NAMA_ART,JNS_KEL,TGL_LHR,KDDESA,DESIL\r\n\
                     D1,6409010101010001,6409014205668780,Nur Daeng,2,02/05/1966,6409011005,1\r\n\
                     D2,6409010101010002,6409011305657105,Darmawan,1,13/05/1965,6409011006,2\r\n";
        let unmapped = import::check(db, &actor, &department, upload("dtsen.csv", dtsen)).await.unwrap();
        assert_eq!((unmapped.status.as_str(), unmapped.rows_total), ("unmapped", 0), "{label}");
        assert_eq!(import::headers(db, 1, unmapped.id).await.unwrap()[2], "NIK_ART");
        let mapping: Mapping = [
            ("nik", "NIK_ART"),
            ("nama", "NAMA_ART"),
            ("jenis_kelamin", "JNS_KEL"),
            ("tanggal_lahir", "TGL_LHR"),
            ("kode_wilayah", "KDDESA"),
            ("id_sumber", "ID_DTSEN"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let mut partial = mapping.clone();
        partial.remove("nik");
        let refused = import::remap(db, &actor, &department, unmapped.id, "DTSEN", &partial, None).await;
        assert!(
            matches!(&refused, Err(Error::Mapping(p)) if p.iter().any(|m| m.contains("NIK"))),
            "{label}: {:?}",
            refused.err()
        );
        let remapped = import::remap(
            db,
            &actor,
            &department,
            unmapped.id,
            "DTSEN",
            &mapping,
            Some("Ekspor DTSEN Bappeda"),
        )
        .await
        .unwrap();
        assert_eq!((remapped.status.as_str(), remapped.rows_valid), ("checked", 2), "{label}");
        import::cancel(db, &actor, 1, remapped.id).await.unwrap();
        let checked = import::check(db, &actor, &department, upload("dtsen.csv", dtsen)).await.unwrap();
        assert_eq!(
            (checked.source.as_str(), checked.mapping_name.as_str(), checked.rows_valid),
            ("DTSEN", "Ekspor DTSEN Bappeda", 2),
            "{label}"
        );

        // The same data as a workbook.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (row, line) in dtsen.lines().enumerate() {
            for (col, cell) in line.split(',').enumerate() {
                sheet.write_string(row as u32, col as u16, cell).unwrap();
            }
        }
        let bytes = book.save_to_buffer().unwrap();
        let checked = import::check(
            db,
            &actor,
            &department,
            Upload {
                file_name: "dtsen.xlsx",
                content: naskah::beneficiaries::import::Content::Bytes(&bytes),
                source: "",
                mapping: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (checked.layout.as_str(), checked.rows_valid),
            ("XLSX, lembar \"Sheet1\"", 2),
            "{label}"
        );
        import::cancel(db, &actor, 1, checked.id).await.unwrap();
        assert!(import::apply(db, &actor, &department, checked.id, &no_progress).await.is_err());

        // Windows-1252 and a village given by name only.
        let latin = b"NIK;Nama;Desa;Kecamatan;Jenis Kelamin\n6409016812680516;Andr\xe9 Ningsih;Pejala;Penajam;P\n";
        let checked = import::check(
            db,
            &actor,
            &department,
            Upload {
                file_name: "latin.csv",
                content: naskah::beneficiaries::import::Content::Bytes(latin),
                source: "LAIN",
                mapping: None,
            },
        )
        .await
        .unwrap();
        assert!(checked.layout.contains("Windows-1252"), "{label}");
        import::apply(db, &actor, &department, checked.id, &no_progress).await.unwrap();
        let andre = candidates::by_nik(db, 1, "6409016812680516").await.unwrap().unwrap();
        assert_eq!(
            (andre.name.as_str(), andre.region_code.as_str()),
            ("ANDRÉ NINGSIH", "64.09.01.1005")
        );

        // Unreadable files and unknown villages are refused without a trace.
        let before = import::list(db, 1, 100).await.unwrap().len();
        for bad in ["", "NIK,Nama\n", "\u{feff}\r\n"] {
            assert!(
                import::check(db, &actor, &department, upload("x.csv", bad)).await.is_err(),
                "{label}: {bad:?}"
            );
        }
        assert_eq!(import::list(db, 1, 100).await.unwrap().len(), before, "{label}");
        let elsewhere = "NIK,Nama,Kode Wilayah\n6409016812680516,X,6471011001\n";
        let checked = import::check(db, &actor, &department, upload("y.csv", elsewhere)).await.unwrap();
        let report = import::report(db, checked.id).await.unwrap();
        assert_eq!(checked.rows_valid, 0);
        assert!(
            report[0].message.contains("bukan desa/kelurahan di Kabupaten Penajam Paser Utara"),
            "{report:?}"
        );
    }
}

pub fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "batasunggah";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").into_bytes());
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes(),
    );
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_import_pages_check_report_import_and_mask() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut staff = support::logged_in(&state, "staf").await;
    let csrf = staff.csrf_of("/calon/impor").await;

    // Each upload route takes its own limit: a file over the directory import's 2 MB is
    // refused there, before it is read, naming the limit; the candidate import takes it.
    let (content_type, body) = multipart(&[("csrf", &csrf)], "besar.csv", &vec![b'x'; 2 * 1024 * 1024 + 1024]);
    let declared = body.len().to_string();
    let big = staff
        .send(
            "POST",
            "/penerima/impor",
            Some(&content_type),
            body.clone(),
            &[("content-length", &declared)],
        )
        .await;
    assert_eq!(big.status, axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    assert!(big.body.contains("lebih dari 2 MB, batas formulir ini"), "{}", big.body);
    let big = staff
        .send("POST", "/calon/impor", Some(&content_type), body, &[("content-length", &declared)])
        .await;
    assert_eq!(
        big.status,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "read, then refused as no table: {}",
        big.body
    );

    // A file that is not a table is refused on the form, nothing kept.
    let (content_type, body) = multipart(&[("csrf", &csrf)], "kosong.csv", b"");
    let reply = staff.send("POST", "/calon/impor", Some(&content_type), body, &[]).await;
    assert_eq!(reply.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("Pilih berkas CSV atau XLSX"), "{}", reply.body);

    let (content_type, body) = multipart(&[("csrf", &csrf)], "p3ke.csv", P3KE.as_bytes());
    let reply = staff.send("POST", "/calon/impor", Some(&content_type), body, &[]).await;
    assert_eq!(reply.status, axum::http::StatusCode::SEE_OTHER, "{}", reply.body);
    let page_url = reply.location().to_string();
    let page = staff.get(&page_url).await;
    assert!(page.body.contains("Ekspor P3KE"), "{}", page.body);
    assert!(page.body.contains("Impor "), "import button");
    // Each defect is listed with its line; the message is escaped text.
    assert!(page.body.contains("data-code=\"nik_scientific\""));
    assert!(page.body.contains("sudah diubah spreadsheet menjadi angka"));
    let report = staff.get(&format!("{page_url}/laporan.csv")).await;
    assert!(
        report.body.trim_start_matches('"').starts_with("Laporan pemeriksaan p3ke.csv"),
        "stamped: {}",
        &report.body[..80]
    );
    assert!(report.body.contains("diunduh oleh"));
    let refused_lines: BTreeSet<&str> = report
        .body
        .lines()
        .filter(|l| l.contains(",ditolak,"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let expected = defects("p3ke").values().filter(|c| !CLEANED.contains(&c.as_str())).count();
    assert_eq!(refused_lines.len(), expected);

    // Importing runs in the background; the page shows progress, then the outcome.
    let reply = staff.post_form(&format!("{page_url}/impor"), &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, axum::http::StatusCode::SEE_OTHER);
    let mut done = String::new();
    for _ in 0..200 {
        let page = staff.get(&page_url).await;
        if page.body.contains("id=\"hasil-impor\"") {
            done = page.body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(done.contains("orang baru"), "import finished: {done}");

    // The list masks NIKs; the full one is shown on request and logged.
    let list = staff.get("/calon?status=kandidat").await;
    assert!(list.body.contains("6409********"), "masked");
    let (rows, _) = candidates::list(&state.db, 1, &Filter::default(), 1, 0).await.unwrap();
    let person = &rows[0];
    assert!(!list.body.contains(&person.nik), "no full NIK in the list");
    let page = staff.get(&format!("/calon/{}", person.id)).await;
    assert!(!page.body.contains(&person.nik));
    assert!(page.body.contains("p3ke.csv</a>, baris"), "source shown");
    let shown = staff
        .post_form(
            &format!("/calon/{}/nik", person.id),
            &[("csrf", &csrf), ("keperluan", "konfirmasi desa")],
        )
        .await;
    assert!(shown.body.contains(&person.nik), "full NIK on request");
    assert!(shown.body.contains("NIK lengkap dilihat (konfirmasi desa)"));

    // The list as CSV: every candidate the filter keeps, NIKs masked, the export logged.
    let total = candidates::count(&state.db, 1, &Filter::default()).await.unwrap();
    let exported = staff.get("/calon.csv?status=kandidat").await;
    assert_eq!(exported.status, axum::http::StatusCode::OK);
    assert!(exported.body.starts_with("nik_disamarkan,nama,"), "{}", &exported.body[..80]);
    assert_eq!(exported.body.lines().count() as i64, total + 1, "a header and a line per candidate");
    assert!(exported.body.contains("6409********") && !exported.body.contains(&person.nik));
    let (logged,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'candidates.exported' AND details LIKE '%\"csv\"%'")
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    assert_eq!(logged, 1);
    let one_village = staff.get(&format!("/calon.csv?wilayah={}", person.region_code)).await;
    assert!(one_village.body.lines().skip(1).all(|l| l.contains(&person.region_code)));
    let odd = staff
        .post_form(&format!("/calon/{}/nik", person.id), &[("csrf", &csrf), ("keperluan", "iseng")])
        .await;
    assert_eq!(odd.status, axum::http::StatusCode::BAD_REQUEST);

    // The agendaris has no business with the data; without the token nothing happens.
    let mut agendaris = support::logged_in(&state, "agendaris").await;
    assert_eq!(agendaris.get("/calon").await.status, axum::http::StatusCode::FORBIDDEN);
    assert_eq!(agendaris.get("/calon.csv").await.status, axum::http::StatusCode::FORBIDDEN);
    assert_eq!(agendaris.get(&page_url).await.status, axum::http::StatusCode::FORBIDDEN);
    let no_token = staff
        .post_form(&format!("/calon/{}/nik", person.id), &[("keperluan", "konfirmasi desa")])
        .await;
    assert_eq!(no_token.status, axum::http::StatusCode::FORBIDDEN);
    // The department head reads the list, masked, but cannot reveal.
    let mut kadis = support::logged_in(&state, "kadis").await;
    assert_eq!(kadis.get("/calon").await.status, axum::http::StatusCode::OK);
    let csrf_kadis = kadis.csrf_of("/calon").await;
    let denied = kadis
        .post_form(
            &format!("/calon/{}/nik", person.id),
            &[("csrf", &csrf_kadis), ("keperluan", "konfirmasi desa")],
        )
        .await;
    assert_eq!(denied.status, axum::http::StatusCode::FORBIDDEN);
}

story! {
    #[tokio::test]
    async fn a_batch_from_the_candidate_data_puts_each_on_its_village_list(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = crate::workflow::Demo::over(&state);
        let db = &state.db;
        let actor = Actor::System("uji");
        let department = departments::get(db, 1).await.unwrap();
        let checked = import::check(db, &actor, &department, upload("p3ke.csv", P3KE)).await.unwrap();
        import::apply(db, &actor, &department, checked.id, &no_progress).await.unwrap();

        let scope = "64.09.01";
        let waiting = candidates::awaiting_list(db, 1, scope).await.unwrap();
        assert!(waiting.len() > 100, "{label}");
        assert!(
            waiting
                .iter()
                .all(|(c, sources)| c.region_code.starts_with("64.09.01.") && sources == "P3KE")
        );
        let manifest = d.flow.catalogue.get("surat-konfirmasi-desa").unwrap().clone();
        let per_village = manifest.per_village.clone().unwrap();
        let table = manifest.field(&per_village.rows_field).unwrap();
        let rows = batches::rows_from_candidates(&waiting, table);
        let plan = batches::plan(db, 1, scope, rows).await.unwrap();
        let shared = serde_json::json!({ "hal": "Konfirmasi Data Calon Penerima", "batas_waktu": crate::support::days_from_today(14) });
        let drafts = batches::drafts(&per_village, &plan, &shared, true);
        let new = NewBatch {
            template_id: manifest.id.clone(),
            scope: plan.scope.clone(),
            scope_label: plan.scope_label.clone(),
            shared_data: shared.clone(),
            source_name: "data calon penerima".into(),
            source_rows: plan.total_rows as i64,
            rows_used: plan.letters.iter().map(|l| l.rows.len() as i64).sum(),
        };
        let (_, letters) = d.flow.create_batch(&d.user("konseptor").await, &new, drafts).await.unwrap();
        assert_eq!(letters.len(), plan.letters.len(), "{label}");

        // Every candidate of the scope is on the list of its own village's letter.
        let (on_list, total) = candidates::list(
            db,
            1,
            &Filter {
                status: Some(Status::OnList),
                ..Filter::default()
            },
            10_000,
            0,
        )
        .await
        .unwrap();
        assert_eq!(total as usize, waiting.len(), "{label}");
        for c in &on_list {
            let letter = letters.iter().find(|l| Some(l.id) == c.letter_id).expect("on a letter");
            let planned = plan.letters.iter().find(|p| Some(p.recipient.id) == letter.recipient_id).unwrap();
            assert_eq!(planned.recipient.region_code.as_deref(), Some(c.region_code.as_str()), "{label}");
            assert!(planned.candidate_ids.contains(&c.id));
        }
        let last = candidates::history(db, on_list[0].id).await.unwrap().pop().unwrap();
        assert_eq!((last.status_from.as_str(), last.status_to.as_str()), ("kandidat", "sementara"));
        assert_eq!(last.letter_id, on_list[0].letter_id);
        assert!(last.actor.contains("konseptor"), "{last:?}");
        // Nobody is listed twice: the scope has no one waiting any more.
        assert!(candidates::awaiting_list(db, 1, scope).await.unwrap().is_empty());
        assert!(
            !candidates::awaiting_list(db, 1, "").await.unwrap().is_empty(),
            "other kecamatan still wait"
        );
    }
}

#[tokio::test]
async fn the_programme_rules_are_settings_used_by_the_checks() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let db = &state.db;
    let actor = Actor::System("uji");
    let department = departments::get(db, 1).await.unwrap();
    assert_eq!(naskah::beneficiaries::Settings::load(db, 1).await.unwrap().monthly_rupiah, 16_800);
    let bad = naskah::beneficiaries::Settings {
        min_age: 40,
        max_age: 30,
        monthly_rupiah: 0,
        months: 13,
    }
    .save(db, &actor, 1)
    .await;
    let Err(Error::Invalid(errors)) = bad else { panic!("refused") };
    assert_eq!(errors.0.len(), 3, "{errors:?}");
    let default_check = import::check(db, &actor, &department, upload("p3ke.csv", P3KE)).await.unwrap();
    naskah::beneficiaries::Settings {
        min_age: 30,
        max_age: 64,
        monthly_rupiah: 20_000,
        months: 6,
    }
    .save(db, &actor, 1)
    .await
    .unwrap();
    let stricter = import::check(db, &actor, &department, upload("p3ke.csv", P3KE)).await.unwrap();
    assert!(stricter.rows_valid < default_check.rows_valid, "younger than 30 refused");
    let report = import::report(db, stricter.id).await.unwrap();
    assert!(report.iter().any(|p| p.code == "age_out_of_range" && p.message.contains("30–64")));

    // Only an administrator changes them, through the settings page.
    let mut admin = support::logged_in(&state, "agendaris").await;
    let csrf = admin.csrf_of("/pengaturan/bantuan").await;
    let refused = admin
        .post_form(
            "/pengaturan/bantuan",
            &[
                ("csrf", &csrf),
                ("umur_min", "delapan belas"),
                ("umur_max", "64"),
                ("iuran", "16.800"),
                ("bulan", "12"),
            ],
        )
        .await;
    assert_eq!(refused.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("bilangan bulat"));
    let saved = admin
        .post_form(
            "/pengaturan/bantuan",
            &[
                ("csrf", &csrf),
                ("umur_min", "18"),
                ("umur_max", "64"),
                ("iuran", "16.800"),
                ("bulan", "12"),
            ],
        )
        .await;
    assert_eq!(saved.status, axum::http::StatusCode::SEE_OTHER);
    assert_eq!(naskah::beneficiaries::Settings::load(db, 1).await.unwrap().monthly_rupiah, 16_800);
    let mut staff = support::logged_in(&state, "staf").await;
    assert_eq!(staff.get("/pengaturan/bantuan").await.status, axum::http::StatusCode::FORBIDDEN);
}

/// A file past the reader's limits is refused on the form with the reason, quickly, and
/// nothing of it is kept (the reader's own tests hold the workbook bombs).
#[tokio::test]
async fn a_hostile_table_is_refused_on_the_form_and_nothing_is_kept() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut staff = support::logged_in(&state, "konseptor").await;
    let csrf = staff.csrf_of("/calon/impor").await;
    let wide = "kolom,".repeat(1_000_000);
    let long_rows = format!("NIK\n{}", "6409014205668780\n".repeat(1_048_576));
    for (name, file, reason) in [
        ("lebar.csv", wide.as_str(), "paling banyak 256 kolom"),
        ("panjang.csv", long_rows.as_str(), "lebih dari 1.048.576 baris"),
    ] {
        let (content_type, body) = multipart(&[("csrf", &csrf)], name, file.as_bytes());
        let started = std::time::Instant::now();
        let reply = staff.send("POST", "/calon/impor", Some(&content_type), body, &[]).await;
        assert_eq!(reply.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(reply.body.contains(reason), "{name}: {}", reply.body);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{name}: {:?}",
            started.elapsed()
        );
        let list = staff.get("/calon/impor").await;
        assert!(!list.body.contains(name), "{name} was kept");
    }
}

story! {
    #[tokio::test]
    async fn names_too_long_for_the_letters_are_refused_and_odd_cells_get_a_note(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let db = &state.db;
        let department = departments::get(db, 1).await.unwrap();
        let mut lines = P3KE.lines();
        let header = lines.next().unwrap();
        let sound: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
        let row = |name: &str, nik: &str, address: &str| {
            let mut cells = sound.clone();
            cells[7] = format!("\"{address}\"");
            cells[9] = format!("\"{name}\"");
            cells[10] = nik.to_string();
            cells.join(",")
        };
        let nik = sound[10].clone();
        let spaced = format!("{} {} {} {}", &nik[..4], &nik[4..8], &nik[8..12], &nik[12..]);
        let text = [
            header.to_string(),
            row(&"A".repeat(206), &nik, "RT 1"),
            row("=HYPERLINK(\"http://contoh\")", &nik, "RT 2"),
            row("SITI", &spaced, "RT 3"),
            row("NUR", &nik, "RT 4\nDesa Pejala"),
            row("ANDI\u{202E}RAHMAN", &nik, "RT 5"),
        ]
        .join("\n");
        let checked = import::check(db, &Actor::System("uji"), &department, upload("catatan.csv", &text)).await.unwrap();
        let report = import::report(db, checked.id).await.unwrap();
        let of = |line: i64| -> Vec<(String, bool)> {
            report.iter().filter(|p| p.line == line).map(|p| (p.code.clone(), p.refused)).collect()
        };
        assert!(of(2).contains(&("nama_panjang".to_string(), true)), "{label}: {report:?}");
        assert!(of(3).contains(&("formula".to_string(), false)), "{label}: {report:?}");
        assert!(of(4).contains(&("nik_spaces".to_string(), false)), "{label}: {report:?}");
        assert!(of(5).contains(&("multiline".to_string(), false)), "{label}: {report:?}");
        assert!(of(6).contains(&("bidi".to_string(), false)), "{label}: {report:?}");
        let message = &report.iter().find(|p| p.code == "nama_panjang").unwrap().message;
        assert!(message.contains("150"), "{label}: {message}");
    }
}
