//! Browser tests: headless Chromium driven over WebDriver (the W3C protocol as plain
//! JSON over HTTP), against the real application at phone width.
//!
//! Needs `chromedriver` and `chromium` (`NASKAH_CHROMEDRIVER`, `NASKAH_CHROMIUM`, or the
//! Debian paths). Without them the test is skipped locally and fails under CI.

mod desk;
mod driver;
mod phone;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::support;
use driver::*;

fn browser_flow(browser: Browser, app: support::App) {
    let (mut s, driver, _dir) = open_session(&browser);

    // The login page, at phone width.
    s.goto(&app.url("/masuk"));
    s.wait_for_page("/masuk", "Masuk ke naskah");
    let title = s.title();
    assert!(title.starts_with("Masuk"), "login page title: {title:?}");
    assert_eq!(s.script("return document.documentElement.lang"), json!("id"), "page language");
    s.assert_no_horizontal_scroll("the login page");

    // A wrong password: the form comes back with the Indonesian message.
    s.log_in(&app, "konseptor", "bukan-kata-sandinya");
    s.wait_for("the wrong-password message", |s| {
        Ok(s.path()? == "/masuk" && s.try_text(".error-summary")?.contains("Nama pengguna atau kata sandi salah."))
    });
    assert!(s.body_text().contains("Nama pengguna atau kata sandi salah."));
    assert_eq!(s.value("#f-username"), "konseptor", "the username is kept after a failed login");
    assert_eq!(s.value("#f-password"), "", "the password is never sent back");
    s.assert_no_horizontal_scroll("the login page with an error");
    s.screenshot("browser-login-error");

    // The right password: the home page of Nur Aini, who is not an administrator.
    s.log_in(&app, "konseptor", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    let text = s.body_text();
    assert!(text.contains("Nur Aini"), "the home page names the user:\n{text}");
    s.open_menu();
    let nav = s.text("nav[aria-label=\"Navigasi utama\"]");
    assert!(nav.contains("Tugas saya"), "navigation: {nav:?}");
    assert!(
        !nav.contains("Pengguna"),
        "a konseptor must not see the user administration link: {nav:?}"
    );
    assert!(
        !nav.contains("Pengaturan dinas"),
        "a konseptor must not see the settings link: {nav:?}"
    );
    assert!(
        !text.contains("Ringkasan dinas"),
        "the department summary is for administrators only"
    );
    s.assert_no_horizontal_scroll("the home page");
    s.screenshot("browser-home");

    // Log out with the header's button.
    s.click("form[action=\"/keluar\"] button[type=\"submit\"]");
    s.wait_for_page("/masuk", "Masuk ke naskah");
    s.goto(&app.url("/"));
    s.wait_for("the home page to send a logged-out visitor to the login page", |s| {
        Ok(s.path()? == "/masuk")
    });

    // The agendaris administers the department: settings through the navigation.
    s.log_in(&app, "agendaris", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.open_menu();
    let nav = s.text("nav[aria-label=\"Navigasi utama\"]");
    assert!(
        nav.contains("Pengguna") && nav.contains("Pengaturan dinas"),
        "administrator navigation: {nav:?}"
    );
    s.click("nav[aria-label=\"Navigasi utama\"] a[href=\"/pengaturan\"]");
    s.wait_for_page("/pengaturan", "Pengaturan dinas");
    assert_eq!(s.value("#f-name"), "Dinas Tenaga Kerja", "the department name in the settings form");
    s.assert_no_horizontal_scroll("the settings page");
    s.screenshot("browser-settings");
    s.click("nav.tabs a[href=\"/pengaturan/rantai/surat\"]");
    s.wait_for_page("/pengaturan/rantai/surat", "Rantai persetujuan surat");
    s.assert_no_horizontal_scroll("the chain settings page");
    s.screenshot("browser-chain-settings");

    // Drafting: a template's generated form, then the KONSEP preview as an image.
    s.open_menu();
    s.click("nav[aria-label=\"Navigasi utama\"] a[href=\"/templat\"]");
    s.wait_for_page("/templat", "Templat naskah");
    s.click("a[href=\"/templat/surat-dinas\"]");
    s.wait_for_page("/templat/surat-dinas", "Surat Dinas");
    s.fill("#f-hal", "Undangan rapat koordinasi");
    s.fill("#f-penerima", "Camat Penajam");
    s.fill("#f-isi", "Mohon hadir pada rapat koordinasi.");
    s.click("button[value=\"png\"]");
    s.wait_for("the preview image", |s| Ok(s.try_find("p.preview img").is_ok()));
    let loaded = s.script("const i = document.querySelector('p.preview img'); return i.complete && i.naturalWidth > 500");
    assert_eq!(loaded, json!(true), "the preview image is a rendered page");
    assert_eq!(
        s.value("#f-hal"),
        "Undangan rapat koordinasi",
        "the form keeps the input under the preview"
    );
    s.assert_no_horizontal_scroll("the preview page");
    s.screenshot("browser-preview");

    for shot in &s.shots {
        eprintln!("screenshot: {}", shot.display());
    }
    drop(s);
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_user_logs_in_and_sees_home_page() {
    let Some(browser) = find_browser() else {
        return;
    };
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let app = support::spawn_app(state).await;
    run_flow(move || browser_flow(browser, app)).await;
}

/// One letter from draft to signature through the pages, as five users, with one
/// return for revision by the Sekretaris.
fn chain_flow(browser: Browser, app: support::App) -> i64 {
    let (mut s, driver, _dir) = open_session(&browser);
    let log_out = |s: &Session| {
        s.click("form[action=\"/keluar\"] button[type=\"submit\"]");
        s.wait_for_page("/masuk", "Masuk ke naskah");
    };
    let notice = |s: &Session, text: &str| {
        s.wait_for(&format!("the notice {text:?}"), |s| Ok(s.try_text("p.notice")?.contains(text)));
    };
    let open_task = |s: &Session, id: i64| {
        s.wait_for_page("/", "Tugas saya");
        let link = format!("ol.desk a[href=\"/surat/{id}\"]");
        s.click(&link);
        s.wait_for("the letter page", |s| {
            Ok(s.path()? == format!("/surat/{id}") && s.try_find("h1").is_ok())
        });
    };
    let pass_on = |s: &Session, id: i64| {
        s.click(&format!("form[action=\"/surat/{id}/revisi\"] button[name=\"lanjut\"]"));
        notice(s, "Surat diteruskan");
    };
    let decide = |s: &Session, id: i64, decision: &str, note: &str, expected: &str| {
        s.script(&format!("document.querySelector('#f-keputusan').value = '{decision}'"));
        if !note.is_empty() {
            s.fill("#f-catatan", note);
        }
        s.fill("#f-frasa_sandi", support::DEMO_PASSPHRASE);
        s.click(&format!("form[action=\"/surat/{id}/keputusan\"] button[type=\"submit\"]"));
        notice(s, expected);
    };

    // 1. The konseptor drafts from the template form and saves.
    s.log_in(&app, "konseptor", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.goto(&app.url("/templat/surat-permintaan-data"));
    s.wait_for("the drafting form", |s| Ok(s.try_find("#f-hal").is_ok()));
    s.fill("#f-hal", "Permohonan Data Calon Penerima Bantuan Iuran");
    s.click("button[value=\"simpan\"]");
    s.wait_for("the new letter's page", |s| {
        Ok(s.path()?.starts_with("/surat/") && s.try_find("h1").is_ok())
    });
    let id: i64 = s.path().unwrap().trim_start_matches("/surat/").parse().unwrap();
    assert!(s.body_text().contains("Menunggu tahap Konsep"), "{}", s.body_text());
    s.assert_no_horizontal_scroll("the letter page");
    s.screenshot("browser-letter-draft");
    pass_on(&s, id);
    log_out(&s);

    // 2. The typist corrects the subject and passes it on.
    s.log_in(&app, "staf", support::DEMO_PASSWORD);
    open_task(&s, id);
    s.fill("#f-hal", "Permohonan Data Calon Penerima Bantuan Iuran BPJS Ketenagakerjaan");
    s.click(&format!("form[action=\"/surat/{id}/revisi\"] button[type=\"submit\"]"));
    notice(&s, "Revisi baru tersimpan");
    pass_on(&s, id);
    log_out(&s);

    // 3. The Kepala Bidang initials with the passphrase.
    s.log_in(&app, "kabid", support::DEMO_PASSWORD);
    open_task(&s, id);
    // A wrong passphrase: the form says so and nothing is recorded.
    s.fill("#f-frasa_sandi", "bukan frasa sandinya");
    s.click(&format!("form[action=\"/surat/{id}/keputusan\"] button[type=\"submit\"]"));
    s.wait_for("the wrong-passphrase message", |s| Ok(s.body_text().contains("Frasa sandi salah.")));
    decide(&s, id, "paraf", "", "Paraf tercatat");
    log_out(&s);

    // 4. The Sekretaris returns it with a note.
    s.log_in(&app, "sekdis", support::DEMO_PASSWORD);
    open_task(&s, id);
    s.screenshot("browser-letter-decision");
    decide(&s, id, "kembalikan", "Cantumkan batas waktu 14 hari.", "dikembalikan ke konseptor");
    log_out(&s);

    // 5. Back with the konseptor: fix, then through the chain again from the first paraf.
    s.log_in(&app, "konseptor", support::DEMO_PASSWORD);
    open_task(&s, id);
    assert!(s.body_text().contains("Cantumkan batas waktu 14 hari."), "the return note is shown");
    s.script(&format!(
        "document.querySelector('#f-batas_waktu').value = '{}'",
        support::days_from_today(14)
    ));
    s.click(&format!("form[action=\"/surat/{id}/revisi\"] button[type=\"submit\"]"));
    notice(&s, "Revisi baru tersimpan");
    pass_on(&s, id);
    log_out(&s);
    s.log_in(&app, "staf", support::DEMO_PASSWORD);
    open_task(&s, id);
    pass_on(&s, id);
    log_out(&s);
    for approver in ["kabid", "sekdis"] {
        s.log_in(&app, approver, support::DEMO_PASSWORD);
        open_task(&s, id);
        decide(&s, id, "paraf", "", "Paraf tercatat");
        log_out(&s);
    }

    // 6. The Kepala Dinas signs.
    s.log_in(&app, "kadis", support::DEMO_PASSWORD);
    open_task(&s, id);
    decide(&s, id, "tanda_tangan", "", "Surat ditandatangani");
    let text = s.body_text();
    assert!(text.contains("Ditandatangani"), "{text}");
    assert!(
        text.contains("Dikembalikan untuk perbaikan"),
        "the timeline shows the return:\n{text}"
    );
    s.assert_no_horizontal_scroll("the signed letter");
    s.screenshot("browser-letter-signed");

    // What a village sees when it scans the QR code: the public page, without login.
    let verification = s.script("return document.querySelector('#verifikasi').getAttribute('href')");
    let verification = verification.as_str().unwrap().to_string();
    log_out(&s);
    s.goto(&app.url(&verification));
    s.wait_for_page(&verification, "SAH");
    let text = s.body_text();
    assert!(text.contains("Drs. Bambang Sutrisno, M.Si.") && text.contains("Paraf"), "{text}");
    s.assert_no_horizontal_scroll("the public verification page");
    s.screenshot("browser-verification");
    for shot in &s.shots {
        eprintln!("screenshot: {}", shot.display());
    }
    drop(s);
    drop(driver);
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_walks_the_chain_in_the_browser_with_one_return() {
    let Some(browser) = find_browser() else {
        return;
    };
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let app = support::spawn_app(state).await;
    let id = run_flow(move || chain_flow(browser, app)).await;
    let checks = naskah::workflow::verify_chain(&test_db.db, id).await.unwrap();
    let decisions: Vec<&str> = checks.iter().map(|c| c.decision.as_str()).collect();
    assert_eq!(decisions, ["paraf", "kembalikan", "paraf", "paraf", "tanda_tangan"]);
    assert!(checks.iter().all(|c| c.problems.is_empty()), "{checks:?}");
}

/// Issue 6's browser test: the drafter makes the confirmation letters of one kecamatan
/// from a CSV in the browser; once signed (in bulk, outside the browser) the running
/// service e-mails them; one village confirms through the receipt link in its e-mail,
/// in the browser; the agendaris's dashboard shows that one confirmed and the rest
/// pending.
fn distribution_flow(browser: Browser, app: support::App, csv: PathBuf) -> String {
    let (mut s, driver, _dir) = open_session(&browser);
    s.log_in(&app, "konseptor", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.goto(&app.url("/kumpulan/baru?templat=surat-konfirmasi-desa"));
    s.wait_for_page("/kumpulan/baru", "Kumpulan baru: Surat Konfirmasi kepada Desa/Kelurahan");
    s.script("document.querySelector('#f-cakupan').value = '64.09.04'; return true;");
    s.fill("#f-batas_waktu", "");
    let file = s.find("#f-berkas");
    s.cmd(
        "POST",
        &format!("/element/{file}/value"),
        Some(json!({ "text": csv.display().to_string() })),
    );
    s.assert_no_horizontal_scroll("the new batch form");
    s.click("form[action^=\"/kumpulan/baru\"] button[type=\"submit\"]");
    s.wait_for("the batch page", |s| {
        Ok(s.path()?.starts_with("/kumpulan/") && s.body_text().contains("Surat dalam kumpulan"))
    });
    let batch_path = s.path().unwrap();
    let text = s.body_text();
    assert!(
        text.contains("desa/kelurahan di Kecamatan Sepaku") && text.contains("Desa Binuang"),
        "{text}"
    );
    s.screenshot("browser-batch");
    drop(s);
    drop(driver);
    batch_path
}

fn receipt_and_dashboard_flow(browser: Browser, app: support::App, receipt: String, batch_id: i64, letters: usize) {
    let (mut s, driver, _dir) = open_session(&browser);
    // The village, not logged in, opens the link from its e-mail and confirms.
    s.goto(&receipt);
    s.wait_for("the receipt page", |s| Ok(s.try_text("h1")? == "Konfirmasi penerimaan surat"));
    s.assert_no_horizontal_scroll("the receipt page");
    s.fill("#nama", "Sekretaris Desa");
    s.click("form[action^=\"/tanda-terima/\"] button[type=\"submit\"]");
    s.wait_for("the confirmation", |s| Ok(s.try_text("h1")? == "Penerimaan sudah dikonfirmasi"));
    assert!(s.body_text().contains("Sekretaris Desa"));
    s.screenshot("browser-receipt");

    s.log_in(&app, "agendaris", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.goto(&app.url(&format!("/distribusi?kumpulan={batch_id}")));
    s.wait_for_page("/distribusi", "Distribusi surat");
    let text = s.body_text();
    // Each letter: its village by e-mail (sent), the Camat as a copy by hand.
    let pending = letters * 2 - 1;
    assert!(
        text.contains(&format!("{letters} surat ditandatangani dalam kumpulan ini"))
            && text.contains(&format!("{pending} penerima belum tercatat menerima")),
        "{text}"
    );
    assert!(
        text.contains("(terkirim)") && text.contains("Camat Sepaku (menunggu dikirim)"),
        "{text}"
    );
    s.screenshot("browser-distribution");
    for shot in &s.shots {
        eprintln!("screenshot: {}", shot.display());
    }
    drop(s);
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn village_letters_go_out_one_village_confirms_and_the_dashboard_shows_the_rest() {
    let Some(browser) = find_browser() else {
        return;
    };
    if !crate::mail::aiosmtpd_available() {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let port = crate::mail::free_port();
    let sink = crate::mail::start_sink(port, &folder.path().join("kotak"));
    let test_db = support::sqlite().await;
    let mut state = support::demo_state(&test_db).await;
    let mut config = (*state.config).clone();
    config.mail = crate::mail::mail_config(port, 8);
    config.max_body_bytes = 4 * 1024 * 1024;
    state.config = std::sync::Arc::new(config);
    sqlx::query("UPDATE recipients SET email = LOWER(REPLACE(name, ' ', '.')) || '@desa.example' WHERE kind IN ('desa', 'kelurahan')")
        .execute(&state.db.pool)
        .await
        .unwrap();
    let csv = folder.path().join("calon.csv");
    std::fs::write(&csv, naskah::demo::candidates_csv(&state.db, 1).await.unwrap()).unwrap();
    let app = support::spawn_app(state.clone()).await;
    let browser_again = browser.clone();
    let batch_path = run_flow(move || distribution_flow(browser, app, csv)).await;
    let batch_id: i64 = batch_path.trim_start_matches("/kumpulan/").parse().unwrap();

    // Passed on and signed in bulk (the chain in the browser is another test's).
    let letters = signed_in_bulk(&state, batch_id).await;
    // The running service e-mails them by itself.
    let app = support::spawn_app(state.clone()).await;
    let started = Instant::now();
    while sink.messages().len() < letters.len() && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let messages = sink.messages();
    assert_eq!(messages.len(), letters.len());
    let (text, _) = crate::mail::parts(&messages[0]);
    let link = text.split_whitespace().find(|w| w.contains("/tanda-terima/")).unwrap();
    let receipt = app.url(&link[link.find("/tanda-terima/").unwrap()..]);
    let count = letters.len();
    run_flow(move || receipt_and_dashboard_flow(browser_again, app, receipt, batch_id, count)).await;
}

/// A batch passed on by the drafter and the typist, then initialled and signed in bulk.
async fn signed_in_bulk(state: &naskah::web::AppState, batch_id: i64) -> Vec<naskah::workflow::Letter> {
    let d = crate::workflow::Demo::over(state);
    for username in ["konseptor", "staf"] {
        d.flow.submit_batch(&d.user(username).await, batch_id).await.unwrap();
    }
    let letters = naskah::workflow::batch_letters(&state.db, 1, batch_id).await.unwrap();
    let all: Vec<(i64, i64)> = letters.iter().map(|l| (l.id, 1)).collect();
    for (username, decision) in [
        ("kabid", naskah::workflow::Decision::Paraf),
        ("sekdis", naskah::workflow::Decision::Paraf),
        ("kadis", naskah::workflow::Decision::TandaTangan),
    ] {
        let results = naskah::cases::bulk::run(&d.flow, &d.user(username).await, &all, decision, false, support::DEMO_PASSPHRASE)
            .await
            .unwrap();
        assert!(results.failed.is_empty());
    }
    naskah::workflow::batch_letters(&state.db, 1, batch_id).await.unwrap()
}

fn log_out(s: &Session) {
    s.click("form[action=\"/keluar\"] button[type=\"submit\"]");
    s.wait_for_page("/masuk", "Masuk ke naskah");
}

fn upload_file(s: &Session, css: &str, path: &Path) {
    let file = s.find(css);
    s.cmd(
        "POST",
        &format!("/element/{file}/value"),
        Some(json!({ "text": path.display().to_string() })),
    );
}

/// The staff imports the P3KE export through the page (report, import with progress);
/// the drafter makes the confirmation letters of one kecamatan from the data.
fn import_and_batch_flow(browser: Browser, app: support::App, p3ke: PathBuf) -> String {
    let (mut s, driver, _dir) = open_session(&browser);
    s.log_in(&app, "staf", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.goto(&app.url("/calon/impor"));
    s.wait_for_page("/calon/impor", "Impor data calon penerima");
    // A file over the form's limit is named before anything is sent, and the form stays.
    let big_dir = tempfile::tempdir().unwrap();
    let big = big_dir.path().join("ekspor-sekabupaten.csv");
    std::fs::File::create(&big).unwrap().set_len(257 * 1024 * 1024).unwrap();
    upload_file(&s, "#f-berkas", &big);
    s.wait_for("the size warning", |s| {
        Ok(s.try_text("#f-berkas-ukuran")?.contains("lebih dari batas 256 MB"))
    });
    s.click("form[action=\"/calon/impor\"] button[type=\"submit\"]");
    assert_eq!(s.path().unwrap(), "/calon/impor", "nothing was sent");
    assert_eq!(s.text("h1"), "Impor data calon penerima");
    s.screenshot("browser-import-too-large");
    upload_file(&s, "#f-berkas", &p3ke);
    s.wait_for("the warning gone", |s| Ok(s.try_text("#f-berkas-ukuran")?.is_empty()));
    s.click("form[action=\"/calon/impor\"] button[type=\"submit\"]");
    s.wait_for("the import's report", |s| {
        Ok(s.path()?.starts_with("/calon/impor/") && s.try_text("h1")? == "Impor p3ke.csv")
    });
    let text = s.body_text();
    assert!(
        text.contains("Ekspor P3KE") && text.contains("1432 sah") && text.contains("68 ditolak"),
        "{text}"
    );
    assert!(
        text.contains("sudah diubah spreadsheet menjadi angka"),
        "the scientific NIK explained"
    );
    s.assert_no_horizontal_scroll("the import report");
    s.screenshot("browser-import-report");
    s.click("#impor");
    s.wait_for("the import's outcome", |s| {
        Ok(s.try_text("#hasil-impor")?.contains("1432 orang baru"))
    });
    s.goto(&app.url("/calon?wilayah=64.09.02"));
    s.wait_for_page("/calon", "Calon penerima bantuan iuran");
    let list = s.body_text();
    assert!(list.contains("6409********") && list.contains("Calon"), "masked list");
    s.screenshot("browser-candidates");
    log_out(&s);

    s.log_in(&app, "konseptor", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.goto(&app.url("/kumpulan/baru?templat=surat-konfirmasi-desa"));
    s.wait_for_page("/kumpulan/baru", "Kumpulan baru: Surat Konfirmasi kepada Desa/Kelurahan");
    assert_eq!(s.value("#f-lampiran"), "data", "the data are the default source");
    s.script("document.querySelector('#f-cakupan').value = '64.09.02'; return true;");
    s.fill("#f-batas_waktu", "");
    s.click("form[action^=\"/kumpulan/baru\"] button[type=\"submit\"]");
    s.wait_for("the batch page", |s| {
        Ok(s.path()?.starts_with("/kumpulan/") && s.body_text().contains("Surat dalam kumpulan"))
    });
    let batch_path = s.path().unwrap();
    drop(s);
    drop(driver);
    batch_path
}

/// A village's reply registered by the staff and ticked row by row.
fn reply_flow(browser: Browser, app: support::App, letter_id: i64) {
    let (mut s, driver, _dir) = open_session(&browser);
    s.log_in(&app, "staf", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.goto(&app.url("/surat-masuk"));
    s.wait_for_page("/surat-masuk", "Surat masuk");
    s.script(&format!(
        "document.querySelector('#f-balasan_untuk').value = '{letter_id}'; return true;"
    ));
    s.fill("#f-nomor_surat", "140/21/DS-BD/XI/2026");
    s.script("document.querySelector('#f-tanggal_surat').value = '2026-11-19'; return true;");
    s.fill("#f-hal", "Hasil konfirmasi calon penerima");
    s.click("form[action=\"/surat-masuk\"] button[type=\"submit\"]");
    s.wait_for("the incoming letter", |s| {
        Ok(s.path()?.starts_with("/surat-masuk/") && s.try_text("h1")?.starts_with("SM/0001/"))
    });
    s.script("document.querySelectorAll('table.answers select').forEach(e => e.value = 'sesuai'); return true;");
    s.click("#catat-hasil");
    s.wait_for("the answers applied", |s| {
        Ok(s.body_text().contains("Dikonfirmasi desa") && !s.body_text().contains("Daftar sementara desa"))
    });
    s.assert_no_horizontal_scroll("the incoming letter");
    s.screenshot("browser-reply");
    drop(s);
    drop(driver);
}

/// BPJS's answer uploaded; the drafter drafts the SK from the final list.
fn bpjs_and_sk_flow(browser: Browser, app: support::App, answer: PathBuf) -> String {
    let (mut s, driver, _dir) = open_session(&browser);
    s.log_in(&app, "staf", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.goto(&app.url("/calon/bpjs"));
    s.wait_for_page("/calon/bpjs", "Pengecekan BPJS Ketenagakerjaan dan SK");
    upload_file(&s, "#f-berkas", &answer);
    s.click("form[action=\"/calon/bpjs/jawaban\"] button[type=\"submit\"]");
    s.wait_for("the answer applied", |s| {
        Ok(s.try_text("p.notice")?.contains("Perubahan tersimpan"))
    });
    let text = s.body_text();
    assert!(text.contains("1 ternyata sudah peserta BPJS"), "{text}");
    log_out(&s);
    s.log_in(&app, "konseptor", support::DEMO_PASSWORD);
    s.wait_for_page("/", "Tugas saya");
    s.goto(&app.url("/calon/bpjs"));
    s.wait_for_page("/calon/bpjs", "Pengecekan BPJS Ketenagakerjaan dan SK");
    s.screenshot("browser-bpjs");
    s.click("form[action=\"/calon/sk\"] button[type=\"submit\"]");
    s.wait_for("the SK draft", |s| {
        Ok(s.path()?.starts_with("/surat/") && s.body_text().contains("SK Penetapan"))
    });
    let path = s.path().unwrap();
    drop(s);
    drop(driver);
    path
}

fn public_copy_flow(browser: Browser, app: support::App, verification: String) {
    let (mut s, driver, _dir) = open_session(&browser);
    s.goto(&app.url(&format!("/v/{verification}")));
    s.wait_for("the verification page", |s| {
        Ok(s.try_text("#salinan-umum")?.contains("NIK disamarkan"))
    });
    s.assert_no_horizontal_scroll("the verification page of the SK");
    s.screenshot("browser-sk-verification");
    drop(s);
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_the_candidate_file_to_a_signed_sk_in_the_browser() {
    let Some(browser) = find_browser() else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let test_db = support::sqlite().await;
    let mut state = support::demo_state(&test_db).await;
    let mut config = (*state.config).clone();
    config.max_body_bytes = 4 * 1024 * 1024;
    state.config = std::sync::Arc::new(config);
    let p3ke = folder.path().join("p3ke.csv");
    std::fs::write(&p3ke, include_str!("../../data/candidates/p3ke.csv")).unwrap();
    let app = support::spawn_app(state.clone()).await;
    let b = browser.clone();
    let batch_path = run_flow(move || import_and_batch_flow(b, app, p3ke)).await;
    let batch_id: i64 = batch_path.trim_start_matches("/kumpulan/").parse().unwrap();

    // Passed on and signed in bulk (the chain in the browser is another test's).
    let d = crate::workflow::Demo::over(&state);
    let db = &state.db;
    let letters = signed_in_bulk(&state, batch_id).await;
    let app = support::spawn_app(state.clone()).await;
    let (b, first) = (browser.clone(), letters[0].id);
    run_flow(move || reply_flow(b, app, first)).await;

    // The other villages answer through the domain: everyone confirmed.
    use naskah::beneficiaries::replies;
    let department = naskah::departments::get(db, 1).await.unwrap();
    let staf = d.user("staf").await;
    for letter in &letters[1..] {
        let reply = naskah::incoming::register(
            db,
            &staf,
            &department,
            naskah::incoming::IncomingInput {
                received_on: "2026-11-20".into(),
                letter_number: format!("140/{}", letter.id),
                letter_date: "2026-11-19".into(),
                subject: "Hasil konfirmasi".into(),
                reply_to_letter_id: Some(letter.id),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
        let answers: Vec<_> = replies::list_of_letter(db, 1, letter.id)
            .await
            .unwrap()
            .iter()
            .map(|c| (c.id, replies::Answer::Confirmed))
            .collect();
        replies::apply(db, &staf.actor(), &department, &reply, &answers, &[]).await.unwrap();
    }
    // BPJS's answer: the first one already a member.
    let waiting = naskah::beneficiaries::bpjs::awaiting_check(db, 1).await.unwrap();
    let mut answer = String::from("NIK;STATUS_KEPESERTAAN\r\n");
    for (i, c) in waiting.iter().enumerate() {
        answer.push_str(&format!("{};{}\r\n", c.nik, if i == 0 { "TERDAFTAR" } else { "TIDAK TERDAFTAR" }));
    }
    let answer_path = folder.path().join("jawaban-bpjs.csv");
    std::fs::write(&answer_path, answer).unwrap();
    let app = support::spawn_app(state.clone()).await;
    let b = browser.clone();
    let sk_path = run_flow(move || bpjs_and_sk_flow(b, app, answer_path)).await;
    let sk_id: i64 = sk_path.trim_start_matches("/surat/").parse().unwrap();

    let sk = naskah::workflow::get(db, 1, sk_id).await.unwrap();
    let sk = d.flow.submit(&d.user("konseptor").await, sk.id, sk.version).await.unwrap();
    let sk = d.flow.submit(&d.user("staf").await, sk.id, sk.version).await.unwrap();
    let sk = d.through_chain(sk, 1, support::DEMO_PASSPHRASE).await;
    let stored: Value = serde_json::from_str(&naskah::workflow::revision(db, sk.id, 1).await.unwrap().data).unwrap();
    assert_eq!(
        stored["penerima"].as_array().unwrap().len(),
        waiting.len() - 1,
        "everyone but the member"
    );
    let app = support::spawn_app(state.clone()).await;
    let verification = sk.verification_id.clone().unwrap();
    run_flow(move || public_copy_flow(browser, app, verification)).await;
}

/// Every page of every role at 360 px: no sideways scroll, no tap target under 44 px,
/// no serious or critical axe-core violation. The department holds one of everything
/// first: a signed village batch with its deliveries, a reply waiting on the Kepala
/// Dinas, a letter returned with a note, an import waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_every_role_fits_a_phone_and_passes_axe() {
    let Some(browser) = find_browser() else {
        return;
    };
    let Some(axe) = phone::axe_source() else {
        return;
    };
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = crate::workflow::Demo::over(&state);
    let db = &state.db;
    let department = naskah::departments::get(db, 1).await.unwrap();
    let signed = crate::incoming::signed_confirmation(&d, "64.09.01").await;
    let staf = d.user("staf").await;
    naskah::incoming::register(
        db,
        &staf,
        &department,
        naskah::incoming::IncomingInput {
            received_on: support::days_from_today(0),
            letter_number: "140/1/2026".into(),
            letter_date: support::days_from_today(0),
            subject: "Hasil konfirmasi calon penerima".into(),
            reply_to_letter_id: Some(signed.id),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let konseptor = d.user("konseptor").await;
    let letter = d
        .flow
        .create(
            &konseptor,
            "surat-permintaan-data",
            &crate::workflow::letter_data("Permintaan data"),
            "konsep",
        )
        .await
        .unwrap();
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&staf, letter.id, letter.version).await.unwrap();
    let mut back = crate::workflow::request(naskah::workflow::Decision::Kembalikan, letter.revision);
    back.note = "Perbaiki lampirannya.".into();
    d.flow
        .decide(&d.user("kabid").await, letter.id, &back, support::DEMO_PASSPHRASE)
        .await
        .unwrap();
    let app = support::spawn_app(state.clone()).await;
    let problems = run_flow(move || phone::phone_walk(browser, app, axe)).await;
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// One batch through the SOP using only Tugas saya (see `desk.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_goes_through_the_sop_from_tugas_saya_alone() {
    let Some(browser) = find_browser() else {
        return;
    };
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = crate::workflow::Demo::over(&state);
    let department = naskah::departments::get(&state.db, 1).await.unwrap();
    let actor = naskah::audit::Actor::System("uji");
    let checked = naskah::beneficiaries::import::check(
        &state.db,
        &actor,
        &department,
        naskah::beneficiaries::import::Upload {
            file_name: "p3ke.csv",
            content: naskah::beneficiaries::import::Content::Bytes(include_str!("../../data/candidates/p3ke.csv").as_bytes()),
            source: "",
            mapping: None,
        },
    )
    .await
    .unwrap();
    naskah::beneficiaries::import::apply(&state.db, &actor, &department, checked.id, &|_, _| {})
        .await
        .unwrap();
    let (_, letters) = crate::incoming::batch_from_data(&d, "64.09.01").await;
    let subject = letters[0].subject.clone();
    let app = support::spawn_app(state.clone()).await;
    run_flow(move || desk::batch_flow(browser, app, subject, letters.len())).await;
}
