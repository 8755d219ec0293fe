//! One batch of village letters through the SOP in the browser using only what "Tugas
//! saya" offers each role: the konseptor and the typist pass the batch on with one
//! button, the Kepala Bidang, the Sekretaris and the Kepala Dinas take it from their
//! row to the bulk page (the Kepala Bidang first types a wrong passphrase: the page
//! comes back with his choice kept), and the agendaris records the courier's round at
//! once from the deliveries row.

use super::driver::*;
use crate::support;

/// Opens the first row of Tugas saya whose text holds `what` through its action button.
fn act_on_row(s: &Session, what: &str, action: &str) {
    s.wait_for_page("/", "Tugas saya");
    let clicked = s.script(&format!(
        "const row = [...document.querySelectorAll('ol.desk li.task')].find(li => li.textContent.includes({what:?})); \
         if (!row) return 'no row'; \
         const button = [...row.querySelectorAll('a.button')].find(a => a.textContent.trim() === {action:?}); \
         if (!button) return 'no button ' + row.textContent; \
         button.click(); return 'ok';"
    ));
    assert_eq!(clicked.as_str(), Some("ok"), "Tugas saya: {what:?} → {action:?}: {}", s.body_text());
}

fn notice(s: &Session, text: &str) {
    s.wait_for(&format!("the notice {text:?}"), |s| Ok(s.try_text("p.notice")?.contains(text)));
}

fn log_out(s: &Session) {
    s.click("form[action=\"/keluar\"] button[type=\"submit\"]");
    s.wait_for_page("/masuk", "Masuk ke naskah");
}

/// Takes the batch's letters through the bulk page with the role's passphrase.
fn decide_all(s: &Session, passphrase: &str) {
    s.wait_for("the bulk page", |s| {
        Ok(s.path()? == "/surat/massal" && s.try_find("#f-frasa_sandi").is_ok())
    });
    s.fill("#f-frasa_sandi", passphrase);
    s.click("form[action=\"/surat/massal\"] button[type=\"submit\"]");
    s.wait_for("the job's end", |s| Ok(s.body_text().contains("Selesai: semua")));
    s.click("a.button.primary[href=\"/\"]");
}

pub(super) fn batch_flow(browser: Browser, app: support::App, subject: String, letters: usize) {
    let (s, driver, _dir) = open_session(&browser);

    for role in ["konseptor", "staf"] {
        s.log_in(&app, role, support::DEMO_PASSWORD);
        act_on_row(&s, &subject, "Teruskan semua");
        s.wait_for("the batch page", |s| Ok(s.path()?.starts_with("/kumpulan/")));
        s.click("form[action$=\"/teruskan\"] button[type=\"submit\"]");
        notice(&s, "Semua surat yang menunggu Anda sudah diteruskan");
        log_out(&s);
    }

    // The Kepala Bidang: a wrong passphrase first; the page keeps the decision and the
    // letters chosen (one unticked), then the right one.
    s.log_in(&app, "kabid", support::DEMO_PASSWORD);
    act_on_row(&s, &subject, "Paraf semua");
    s.wait_for("the bulk page", |s| Ok(s.try_find("#f-frasa_sandi").is_ok()));
    assert!(
        s.body_text().contains(&format!("{letters} surat dari kumpulan ini")),
        "{}",
        s.body_text()
    );
    s.click("button[data-select=\"none\"]");
    s.click("button[data-select=\"all\"]");
    s.script("document.querySelectorAll('input[name=surat]')[0].checked = false; return true;");
    s.fill("#f-frasa_sandi", "bukan frasa sandinya");
    s.click("form[action=\"/surat/massal\"] button[type=\"submit\"]");
    s.wait_for("the refusal", |s| Ok(s.body_text().contains("Frasa sandi salah.")));
    let ticked = s.script("return [...document.querySelectorAll('input[name=surat]')].map(b => b.checked)");
    let ticked: Vec<bool> = ticked.as_array().unwrap().iter().map(|b| b.as_bool().unwrap()).collect();
    assert_eq!(ticked.len(), letters);
    assert!(!ticked[0] && ticked[1..].iter().all(|t| *t), "the choice is kept: {ticked:?}");
    assert!(s.body_text().contains("Sisa 4 kali percobaan"), "{}", s.body_text());
    s.script("document.querySelectorAll('input[name=surat]')[0].checked = true; return true;");
    decide_all(&s, support::DEMO_PASSPHRASE);
    log_out(&s);

    s.log_in(&app, "sekdis", support::DEMO_PASSWORD);
    act_on_row(&s, &subject, "Paraf semua");
    decide_all(&s, support::DEMO_PASSPHRASE);
    log_out(&s);

    s.log_in(&app, "kadis", support::DEMO_PASSWORD);
    act_on_row(&s, &subject, "Tanda tangani semua");
    decide_all(&s, support::DEMO_PASSPHRASE);
    log_out(&s);

    // The agendaris: the batch's deliveries are one row; the round recorded at once.
    s.log_in(&app, "agendaris", support::DEMO_PASSWORD);
    act_on_row(&s, &subject, "Catat pengiriman");
    s.wait_for("the batch's distribution", |s| Ok(s.path()? == "/distribusi"));
    s.click("a[href^=\"/distribusi/catat\"]");
    s.wait_for_page("/distribusi/catat", "Catat pengiriman sekaligus");
    s.click("button[data-select=\"all\"]");
    s.fill("#f-penerima-semua", "Petugas Kecamatan Penajam");
    s.click("form[action=\"/distribusi/catat\"] button[type=\"submit\"]");
    notice(&s, "Pengiriman yang dipilih tercatat");
    s.goto(&app.url("/"));
    s.wait_for_page("/", "Tugas saya");
    assert!(
        !s.body_text().contains("Catat pengiriman"),
        "nothing left to record: {}",
        s.body_text()
    );
    drop(s);
    drop(driver);
}
