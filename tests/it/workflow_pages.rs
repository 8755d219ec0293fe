//! The approval chain over HTTP: the JSON API and the pages (letter, keys, delegation,
//! report, bulk paraf, chain settings), on both backends.

use naskah::{
    accounts::{self},
    audit::Actor,
    departments,
    workflow::{self, Decision, Error, state},
};
use serde_json::{Value, json};

use crate::{
    support::{self, DEMO_PASSWORD},
    workflow::{Demo, PASSPHRASE, decided, demo, drafted_and_typed, letter_data, request, statement_count},
};

/// The chain through the JSON API and the pages: status codes and Indonesian messages
/// for refusals, the forms for whoever's turn it is, and another department's letter
/// out of sight.
#[tokio::test]
async fn the_chain_over_http_api_and_pages() {
    use axum::http::StatusCode;
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut konseptor = support::api_client(&state, "konseptor").await;
    let mut staf = support::api_client(&state, "staf").await;
    let mut kabid = support::api_client(&state, "kabid").await;
    let mut sekdis = support::api_client(&state, "sekdis").await;

    let created = konseptor
        .json(
            "POST",
            "/api/v1/letters",
            json!({ "template": "surat-permintaan-data", "data": letter_data("Lewat API"), "note": "awal" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let letter = created.json()["letter"].clone();
    let id = letter["id"].as_i64().unwrap();
    let refused = staf
        .json(
            "POST",
            "/api/v1/letters",
            json!({ "template": "surat-permintaan-data", "data": {} }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let invalid = konseptor
        .json(
            "POST",
            "/api/v1/letters",
            json!({ "template": "surat-permintaan-data", "data": {"batas_waktu": "besok"} }),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.json()["error"]["fields"].to_string().contains("batas_waktu"));

    let r = konseptor
        .json("POST", &format!("/api/v1/letters/{id}/submit"), json!({ "version": 1 }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let version = r.json()["letter"]["version"].as_i64().unwrap();
    let stale = staf
        .json("POST", &format!("/api/v1/letters/{id}/submit"), json!({ "version": 1 }))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let r = staf
        .json("POST", &format!("/api/v1/letters/{id}/submit"), json!({ "version": version }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let inbox = kabid.get("/api/v1/inbox").await.json();
    assert_eq!(inbox["tasks"][0]["letter"]["id"], id, "{inbox}");
    let decision = |passphrase: &str, decision: &str, note: &str| json!({ "decision": decision, "revision": 1, "passphrase": passphrase, "note": note });
    let early = sekdis
        .json(
            "POST",
            &format!("/api/v1/letters/{id}/decision"),
            decision(support::DEMO_PASSPHRASE, "paraf", ""),
        )
        .await;
    assert_eq!(early.status, StatusCode::FORBIDDEN, "{}", early.body);
    assert!(early.json()["error"]["message"].as_str().unwrap().contains("menunggu pejabat lain"));
    let wrong = kabid
        .json(
            "POST",
            &format!("/api/v1/letters/{id}/decision"),
            decision("salah sama sekali", "paraf", ""),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.json()["error"]["fields"][0]["field"], "passphrase");
    let ok = kabid
        .json(
            "POST",
            &format!("/api/v1/letters/{id}/decision"),
            decision(support::DEMO_PASSPHRASE, "paraf", ""),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // The Sekretaris' page offers the decision form with the passphrase field.
    let mut page = support::logged_in(&state, "sekdis").await;
    let view = page.get(&format!("/surat/{id}")).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(view.body.contains("Paraf Sekretaris Dinas — keputusan Anda"), "{}", view.body);
    assert!(view.body.contains("name=\"frasa_sandi\""));
    let csrf = view.csrf();
    let no_note = page
        .post_form(
            &format!("/surat/{id}/keputusan"),
            &[
                ("csrf", &csrf),
                ("keputusan", "kembalikan"),
                ("revisi", "1"),
                ("frasa_sandi", support::DEMO_PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(no_note.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_note.body.contains("Tuliskan apa yang harus diperbaiki."), "{}", no_note.body);
    let returned = page
        .post_form(
            &format!("/surat/{id}/keputusan"),
            &[
                ("csrf", &csrf),
                ("keputusan", "kembalikan"),
                ("revisi", "1"),
                ("catatan", "Lengkapi <tembusan> & perbaiki hal."),
                ("frasa_sandi", support::DEMO_PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(
        (returned.status, returned.location()),
        (StatusCode::SEE_OTHER, &*format!("/surat/{id}?ok=kembalikan"))
    );
    let after = page.get(&format!("/surat/{id}?ok=kembalikan")).await.body;
    assert!(after.contains("dikembalikan ke konseptor"));
    assert!(!after.contains("<tembusan>"), "the note is escaped");
    let shown = after.find("Lengkapi").map(|i| &after[i..i + 60]).unwrap_or_default();
    assert!(
        shown.starts_with("Lengkapi &#60;tembusan&#62; &#38; perbaiki hal.")
            || shown.starts_with("Lengkapi &lt;tembusan&gt; &amp; perbaiki hal."),
        "{shown}"
    );
    assert!(!after.contains("name=\"frasa_sandi\""), "no decision form once it is not her turn");

    // The konseptor sees the edit form again; the statements hold.
    let mut drafter = support::logged_in(&state, "konseptor").await;
    let view = drafter.get(&format!("/surat/{id}")).await.body;
    assert!(view.contains(&format!("action=\"/surat/{id}/revisi\"")), "{view}");
    let home = drafter.get("/").await.body;
    assert!(home.contains(&format!("href=\"/surat/{id}\"")), "the inbox lists it");
    let statements = konseptor.get(&format!("/api/v1/letters/{id}/statements")).await.json();
    assert_eq!(statements["valid"], true, "{statements}");
    assert_eq!(statements["statements"].as_array().unwrap().len(), 2);

    // The revision PDF and page image are served to the department only.
    let pdf = drafter.get(&format!("/surat/{id}/revisi/1/pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with("%PDF"));
    let png = drafter.get(&format!("/surat/{id}/revisi/1/halaman/1")).await;
    assert_eq!(png.headers.get("content-type").unwrap(), "image/png");
    let other = departments::create(
        &state.db,
        &Actor::System("test"),
        "dinsos-ppu",
        departments::DepartmentInput {
            name: "Dinas Sosial".into(),
            regency_name: "Kabupaten Penajam Paser Utara".into(),
            timezone: "Asia/Makassar".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let outsider = accounts::create(
        &state.db,
        &Actor::System("test"),
        other.id,
        accounts::UserInput {
            username: "dinsos".into(),
            display_name: "Orang Dinsos".into(),
            roles: vec![accounts::Role::Drafter, accounts::Role::Approver],
            active: Some(true),
            ..Default::default()
        },
        DEMO_PASSWORD,
        false,
    )
    .await
    .unwrap();
    assert_eq!(outsider.department_id, other.id);
    let mut outsider = support::logged_in(&state, "dinsos").await;
    for path in [
        format!("/surat/{id}"),
        format!("/surat/{id}/revisi/1/pdf"),
        format!("/surat/{id}/banding?a=1&b=1"),
    ] {
        assert_eq!(outsider.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let mut outsider_api = support::api_client(&state, "dinsos").await;
    assert_eq!(
        outsider_api.get(&format!("/api/v1/letters/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

/// All three SOP documents run the chain through the API to the signature, and a
/// department's chain can be changed through the API: here with two parallel paraf at
/// one stage, both required.
#[tokio::test]
async fn all_three_documents_through_the_api_and_a_parallel_stage() {
    use axum::http::StatusCode;
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut clients = std::collections::HashMap::new();
    for username in ["konseptor", "staf", "kabid", "sekdis", "kadis", "agendaris"] {
        clients.insert(username, support::api_client(&state, username).await);
    }
    let mut api = |username: &'static str| clients.remove(username).unwrap();
    let (mut konseptor, mut staf, mut kabid, mut sekdis, mut kadis, mut admin) = (
        api("konseptor"),
        api("staf"),
        api("kabid"),
        api("sekdis"),
        api("kadis"),
        api("agendaris"),
    );

    // Letters: Kepala Bidang and Sekretaris in parallel at one stage.
    let chain = admin.get("/api/v1/chains/surat").await.json()["chain"].clone();
    let mut stages = chain["stages"].as_array().unwrap().clone();
    assert_eq!(stages.len(), 5);
    stages[2]["label"] = json!("Paraf Kepala Bidang dan Sekretaris");
    stages[2]["positions"] = json!(["kepala_bidang", "sekretaris"]);
    stages.remove(3);
    let refused = konseptor.json("PUT", "/api/v1/chains/surat", json!({ "stages": stages })).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let mut broken = stages.clone();
    broken.pop();
    let bad = admin.json("PUT", "/api/v1/chains/surat", json!({ "stages": broken })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("tanda tangan"), "{}", bad.body);
    let set = admin.json("PUT", "/api/v1/chains/surat", json!({ "stages": stages })).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    for template in ["surat-permintaan-data", "surat-konfirmasi-desa", "sk-penerima-bantuan-iuran"] {
        let mut example: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("letter_templates/{template}/contoh.json")).unwrap()).unwrap();
        // The examples' fixed deadlines pass; a past one would ask the signer to confirm.
        if example.get("batas_waktu").is_some() {
            example["batas_waktu"] = json!(crate::support::days_from_today(14));
        }
        let (id, mut version) = created(&state, &mut konseptor, template, &example).await;
        for client in [&mut konseptor, &mut staf] {
            let r = client
                .json("POST", &format!("/api/v1/letters/{id}/submit"), json!({ "version": version }))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{template}: {}", r.body);
            version = r.json()["letter"]["version"].as_i64().unwrap();
        }
        let decide = |decision: &str| json!({ "decision": decision, "revision": 1, "passphrase": support::DEMO_PASSPHRASE });
        let is_letter = template != "sk-penerima-bantuan-iuran";
        let r = kabid.json("POST", &format!("/api/v1/letters/{id}/decision"), decide("paraf")).await;
        assert_eq!(r.status, StatusCode::OK, "{template}: {}", r.body);
        if is_letter {
            // The parallel stage waits for the Sekretaris too: the Kepala Dinas cannot sign yet.
            let r = kadis
                .json("POST", &format!("/api/v1/letters/{id}/decision"), decide("tanda_tangan"))
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{template}: {}", r.body);
        }
        let r = sekdis
            .json("POST", &format!("/api/v1/letters/{id}/decision"), decide("paraf"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{template}: {}", r.body);
        let r = kadis
            .json("POST", &format!("/api/v1/letters/{id}/decision"), decide("tanda_tangan"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{template}: {}", r.body);
        assert_eq!(r.json()["letter"]["state"], "ditandatangani", "{template}");
        let one = konseptor.get(&format!("/api/v1/letters/{id}")).await.json();
        let stages: Vec<i64> = one["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "paraf")
            .map(|s| s["stage"].as_i64().unwrap())
            .collect();
        if is_letter {
            assert_eq!(stages, [2, 2], "{template}: two paraf rows at one stage");
        } else {
            assert_eq!(stages, [2, 4], "{template}: the decree keeps the SOP chain");
        }
        let statements = konseptor.get(&format!("/api/v1/letters/{id}/statements")).await.json();
        assert_eq!(statements["valid"], true, "{template}: {statements}");
    }
}

/// Posts one of the key forms: current passphrase, new one, the new one again.
async fn key_form(client: &mut support::Client, path: &str, csrf: &str, [current, new, again]: [&str; 3]) -> support::Reply {
    client
        .post_form(path, &[("csrf", csrf), ("lama", current), ("frasa_sandi", new), ("ulang", again)])
        .await
}

/// The pages around the chain: the signing key (passphrase change and rotation), Plh./Plt.
/// assignments and the standard-time report.
#[tokio::test]
async fn key_delegation_and_report_pages() {
    use axum::http::StatusCode;
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut kabid = support::logged_in(&state, "kabid").await;
    let page = kabid.get("/kunci").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Ganti frasa sandi") && page.body.contains("aktif"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let wrong = key_form(
        &mut kabid,
        "/kunci/frasa-sandi",
        &csrf,
        ["bukan ini sama sekali", "frasa baru kabid 9", "frasa baru kabid 9"],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("Frasa sandi sekarang salah."));
    let mismatch = key_form(
        &mut kabid,
        "/kunci/frasa-sandi",
        &csrf,
        [support::DEMO_PASSPHRASE, "frasa baru kabid 9", "frasa lain"],
    )
    .await;
    assert!(mismatch.body.contains("Kedua frasa sandi tidak sama."));
    let changed = key_form(
        &mut kabid,
        "/kunci/frasa-sandi",
        &csrf,
        [support::DEMO_PASSPHRASE, "frasa baru kabid 9", "frasa baru kabid 9"],
    )
    .await;
    assert_eq!((changed.status, changed.location()), (StatusCode::SEE_OTHER, "/kunci?ok=kunci"));
    let rotated = key_form(
        &mut kabid,
        "/kunci/rotasi",
        &csrf,
        ["frasa baru kabid 9", "frasa kunci kedua 1", "frasa kunci kedua 1"],
    )
    .await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER, "{}", rotated.body);
    let page = kabid.get("/kunci").await.body;
    assert_eq!(page.matches("dipensiunkan").count(), 1, "{page}");

    // Plh./Plt.: the administrator assigns; a wrong period is refused with a message.
    let mut admin = support::logged_in(&state, "agendaris").await;
    let page = admin.get("/delegasi").await;
    let csrf = page.csrf();
    let kabid_user = accounts::find_by_username(&state.db, "kabid").await.unwrap().unwrap();
    let sekdis_user = accounts::find_by_username(&state.db, "sekdis").await.unwrap().unwrap();
    let position = departments::get_official(&state.db, 1, kabid_user.official_id.unwrap())
        .await
        .unwrap()
        .position_id
        .unwrap()
        .to_string();
    let official = sekdis_user.official_id.unwrap().to_string();
    let backwards = admin
        .post_form(
            "/delegasi",
            &[
                ("csrf", &csrf),
                ("kind", "plh"),
                ("position_id", &position),
                ("official_id", &official),
                ("starts_on", "2026-12-10"),
                ("ends_on", "2026-12-01"),
            ],
        )
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(backwards.body.contains("Tanggal selesai sebelum tanggal mulai."));
    assert!(backwards.body.contains("value=\"2026-12-10\""), "the typed dates are kept");
    let created = admin
        .post_form(
            "/delegasi",
            &[
                ("csrf", &csrf),
                ("kind", "plh"),
                ("position_id", &position),
                ("official_id", &official),
                ("starts_on", "2026-12-01"),
                ("ends_on", "2026-12-10"),
                ("basis", "Sprin 800/1"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let list = admin.get("/delegasi").await.body;
    assert!(list.contains("Plh. Kepala Bidang") && list.contains("Siti Rahmawati"), "{list}");

    // The report: a letter through two steps gives a row per step with its standard.
    let d = Demo::over(&state);
    let letter = drafted_and_typed(&d, "Untuk laporan").await;
    // (The Kepala Bidang's key was rotated above, under a new passphrase.)
    d.flow
        .decide(
            &d.user("kabid").await,
            letter.id,
            &request(Decision::Paraf, 1),
            "frasa kunci kedua 1",
        )
        .await
        .unwrap();
    let report = admin.get("/laporan/waktu").await.body;
    for expected in [
        "Konsep (Sub Bagian Program)",
        "Pengetikan (Staf)",
        "Paraf Kepala Bidang",
        "15 menit",
    ] {
        assert!(report.contains(expected), "{expected} missing from the report:\n{report}");
    }
    let bad = admin.get("/laporan/waktu?dari=kemarin&sampai=").await.body;
    assert!(bad.contains("Tanggal tidak sah"), "{bad}");
}

/// Signing "a.n.": a chain where the Sekretaris signs on behalf of the Kepala Dinas; the
/// signature block carries both lines.
#[tokio::test]
async fn a_chain_signed_atas_nama_shows_both_positions() {
    let test_db = support::sqlite().await;
    let d = demo(&test_db).await;
    let mut chain = workflow::ChainSpec::sop_default(naskah::letters::DocumentKind::Surat);
    chain.stages.remove(3);
    let last = chain.stages.last_mut().unwrap();
    last.label = "Tanda tangan Sekretaris a.n. Kepala Dinas".into();
    last.positions = vec!["sekretaris".into()];
    last.atas_nama = Some("kepala_dinas".into());
    workflow::chain::set_for_kind(
        &d.flow.db,
        &Actor::System("test"),
        d.department_id,
        naskah::letters::DocumentKind::Surat,
        &chain,
    )
    .await
    .unwrap();
    let (kabid, sekdis, kadis) = (d.user("kabid").await, d.user("sekdis").await, d.user("kadis").await);
    let letter = drafted_and_typed(&d, "Atas nama").await;
    decided(&d, &kabid, letter.id, Decision::Paraf, 1).await;
    let r = d
        .flow
        .decide(&kadis, letter.id, &request(Decision::TandaTangan, 1), PASSPHRASE)
        .await;
    assert!(
        matches!(r, Err(Error::NotYourTurn(_))),
        "the Kepala Dinas is not in this chain: {r:?}"
    );
    let letter = decided(&d, &sekdis, letter.id, Decision::TandaTangan, 1).await;
    assert_eq!(letter.state, state::DITANDATANGANI);
    let block = workflow::signer_block(&d.flow.db, &letter).await.unwrap().unwrap();
    assert_eq!(
        block.atas_nama.as_deref(),
        Some("Kepala Dinas Tenaga Kerja Kabupaten Penajam Paser Utara")
    );
    assert_eq!(block.jabatan, "Sekretaris Dinas Tenaga Kerja Kabupaten Penajam Paser Utara");
    assert_eq!(block.sebutan, None);
    assert_eq!(block.nama, "Siti Rahmawati, S.E., M.M.");
}

/// Bulk paraf from the page: the list of waiting letters, one passphrase, a progress
/// page that ends with the outcome; a wrong passphrase is answered on the form at once.
#[tokio::test]
async fn bulk_paraf_from_the_page_with_progress() {
    use axum::http::StatusCode;
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = Demo::over(&state);
    let first = drafted_and_typed(&d, "Massal satu").await;
    let second = drafted_and_typed(&d, "Massal dua").await;
    let mut kabid = support::logged_in(&state, "kabid").await;
    let home = kabid.get("/").await.body;
    assert!(home.contains("href=\"/surat/massal\""), "two waiting letters offer the bulk page");
    let page = kabid.get("/surat/massal").await;
    assert!(page.body.contains("Massal satu") && page.body.contains("Massal dua"));
    let csrf = page.csrf();
    let (a, b) = (format!("{}:1", first.id), format!("{}:1", second.id));
    // Each row opens its letter, a preview in place; select all or none.
    for id in [first.id, second.id] {
        assert!(page.body.contains(&format!(r#"<a href="/surat/{id}">Buka surat</a>"#)));
        assert!(page.body.contains(&format!(r#"src="/surat/{id}/revisi/1/halaman/1""#)));
    }
    assert!(page.body.contains(r#"data-select="all""#) && page.body.contains(r#"data-select="none""#));
    assert!(page.body.contains("<title>Paraf dan tanda tangan sekaligus · naskah</title>"));
    // A refusal keeps the choice made: only the first letter stays ticked.
    let wrong = kabid
        .post_form(
            "/surat/massal",
            &[
                ("csrf", &csrf),
                ("surat", &a),
                ("keputusan", "paraf"),
                ("frasa_sandi", "salah sekali ya"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("Frasa sandi salah."));
    assert!(wrong.body.contains(&format!(r#"value="{a}" checked>"#)), "{}", wrong.body);
    assert!(wrong.body.contains(&format!(r#"value="{b}">"#)), "the second stays unticked");
    assert!(wrong.body.contains(r#"value="paraf" checked>"#));
    let none = kabid
        .post_form(
            "/surat/massal",
            &[("csrf", &csrf), ("keputusan", "paraf"), ("frasa_sandi", support::DEMO_PASSPHRASE)],
        )
        .await;
    assert!(none.body.contains("Pilih paling sedikit satu surat."));
    let started = kabid
        .post_form(
            "/surat/massal",
            &[
                ("csrf", &csrf),
                ("surat", &a),
                ("surat", &b),
                ("keputusan", "paraf"),
                ("frasa_sandi", support::DEMO_PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let progress = started.location().to_string();
    assert!(progress.starts_with("/surat/massal/"));
    let mut body = String::new();
    for _ in 0..100 {
        body = kabid.get(&progress).await.body;
        if body.contains("Selesai") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(body.contains("Selesai: semua 2 surat berhasil."), "{body}");
    assert!(
        body.contains(r#"<a class="button primary" href="/">Kembali to Tugas saya</a>"#.replace(" to ", " ke ").as_str()),
        "the finished page leads on"
    );
    assert!(body.contains("<progress") && body.contains("value=\"2\""));
    // Another user cannot look at the job.
    let mut sekdis = support::logged_in(&state, "sekdis").await;
    assert_eq!(sekdis.get(&progress).await.status, StatusCode::NOT_FOUND);
    for letter in [first.id, second.id] {
        assert_eq!(statement_count(&d, letter).await, 1);
    }
}

/// The administrator changes a chain in the settings pages: the decree is signed by the
/// Sekretaris a.n. the Kepala Dinas; a chain without a final signature is refused with a
/// message; "Pakai rantai SOP" restores the default.
#[tokio::test]
async fn the_chain_settings_page() {
    use axum::http::StatusCode;
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut kabid = support::logged_in(&state, "kabid").await;
    assert_eq!(kabid.get("/pengaturan/rantai/keputusan").await.status, StatusCode::FORBIDDEN);
    let mut admin = support::logged_in(&state, "agendaris").await;
    let page = admin.get("/pengaturan/rantai/keputusan").await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "Paraf koordinasi (Bagian Hukum)",
        "Tanda tangan Kepala Dinas",
        "Kepala Bidang",
        "opsional",
    ] {
        assert!(page.body.contains(expected), "{expected}:\n{}", page.body);
    }
    assert_eq!(admin.get("/pengaturan/rantai/memo").await.status, StatusCode::NOT_FOUND);
    let csrf = page.csrf();
    let stages = [
        ("konsep", "Konsep", "", "", "30"),
        ("ketik", "Pengetikan", "", "", "30"),
        ("paraf", "Paraf Kepala Bidang", "kepala_bidang", "", "15"),
        (
            "tanda_tangan",
            "Tanda tangan Sekretaris a.n. Kepala Dinas",
            "sekretaris",
            "kepala_dinas",
            "60",
        ),
        ("", "", "", "", ""),
    ];
    let mut pairs: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
    for (i, (kind, name, positions, an, minutes)) in stages.iter().enumerate() {
        for (field, value) in [
            ("jenis", kind),
            ("nama", name),
            ("jabatan", positions),
            ("an", an),
            ("menit", minutes),
        ] {
            pairs.push((format!("{field}{i}"), value.to_string()));
        }
    }
    let saved_pairs = pairs;
    let borrowed: Vec<(&str, &str)> = saved_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = admin.post_form("/pengaturan/rantai/keputusan", &borrowed).await;
    assert_eq!(
        (saved.status, saved.location()),
        (StatusCode::SEE_OTHER, "/pengaturan/rantai/keputusan?ok=tersimpan"),
        "{}",
        saved.body
    );
    let chain = workflow::chain::for_kind(&state.db, 1, naskah::letters::DocumentKind::Keputusan)
        .await
        .unwrap();
    assert_eq!(chain.stages.len(), 4);
    assert_eq!(chain.stages[3].positions, ["sekretaris"]);
    assert_eq!(chain.stages[3].atas_nama.as_deref(), Some("kepala_dinas"));
    assert_eq!(chain.stages[3].standard_minutes, 60);

    // Without a signature at the end: refused, nothing stored.
    let mut broken = saved_pairs.clone();
    for (k, v) in broken.iter_mut() {
        if k == "jenis3" {
            v.clear();
        }
    }
    let borrowed: Vec<(&str, &str)> = broken.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = admin.post_form("/pengaturan/rantai/keputusan", &borrowed).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Rantai belum benar: tahap terakhir harus tanda tangan."),
        "{}",
        refused.body
    );
    let mut no_minutes = saved_pairs.clone();
    for (k, v) in no_minutes.iter_mut() {
        if k == "menit2" {
            *v = "lima belas".into();
        }
    }
    let borrowed: Vec<(&str, &str)> = no_minutes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = admin.post_form("/pengaturan/rantai/keputusan", &borrowed).await;
    assert!(refused.body.contains("Isi waktu baku dalam menit"), "{}", refused.body);
    assert_eq!(
        workflow::chain::for_kind(&state.db, 1, naskah::letters::DocumentKind::Keputusan)
            .await
            .unwrap(),
        chain
    );

    let reset = admin.post_form("/pengaturan/rantai/keputusan/sop", &[("csrf", &csrf)]).await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    assert_eq!(
        workflow::chain::for_kind(&state.db, 1, naskah::letters::DocumentKind::Keputusan)
            .await
            .unwrap(),
        workflow::ChainSpec::sop_default(naskah::letters::DocumentKind::Keputusan)
    );
}

/// Each of the three SOP documents is initialled and signed through the letter pages,
/// whose preview image renders at every step.
#[tokio::test]
async fn all_three_documents_through_the_pages() {
    use axum::http::StatusCode;
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut konseptor = support::api_client(&state, "konseptor").await;
    let mut staf = support::api_client(&state, "staf").await;
    let mut pages = std::collections::HashMap::new();
    for username in ["kabid", "sekdis", "kadis"] {
        pages.insert(username, support::logged_in(&state, username).await);
    }
    for template in ["surat-permintaan-data", "surat-konfirmasi-desa", "sk-penerima-bantuan-iuran"] {
        let mut example: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("letter_templates/{template}/contoh.json")).unwrap()).unwrap();
        // The examples' fixed deadlines pass; a past one would ask the signer to confirm.
        if example.get("batas_waktu").is_some() {
            example["batas_waktu"] = json!(crate::support::days_from_today(14));
        }
        let (id, mut version) = created(&state, &mut konseptor, template, &example).await;
        for client in [&mut konseptor, &mut staf] {
            let r = client
                .json("POST", &format!("/api/v1/letters/{id}/submit"), json!({ "version": version }))
                .await;
            version = r.json()["letter"]["version"].as_i64().unwrap();
        }
        for (username, decision, notice) in [
            ("kabid", "paraf", "Paraf tercatat"),
            ("sekdis", "paraf", "Paraf tercatat"),
            ("kadis", "tanda_tangan", "Surat ditandatangani."),
        ] {
            let client = pages.get_mut(username).unwrap();
            let view = client.get(&format!("/surat/{id}")).await;
            assert_eq!(view.status, StatusCode::OK, "{template} {username}");
            assert!(
                view.body.contains(&format!("action=\"/surat/{id}/keputusan\"")),
                "{template}: {username}'s form"
            );
            let png = client.get(&format!("/surat/{id}/revisi/1/halaman/1")).await;
            assert_eq!(png.status, StatusCode::OK, "{template}: {}", png.body);
            let csrf = view.csrf();
            let done = client
                .post_form(
                    &format!("/surat/{id}/keputusan"),
                    &[
                        ("csrf", &csrf),
                        ("keputusan", decision),
                        ("revisi", "1"),
                        ("frasa_sandi", support::DEMO_PASSPHRASE),
                    ],
                )
                .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{template} {username}: {}", done.body);
            let after = client.get(done.location()).await.body;
            assert!(after.contains(notice), "{template} {username}");
        }
        let signed = pages.get_mut("kadis").unwrap().get(&format!("/surat/{id}")).await.body;
        if template == "sk-penerima-bantuan-iuran" {
            let at = signed.find("halaman 1 dari").unwrap_or(0);
            assert!(
                !signed.contains("halaman 1 dari 1\n") && signed.contains("?halaman=2\">berikutnya"),
                "the decree pages through its preview: {}",
                &signed[at..(at + 300).min(signed.len())]
            );
        }
        assert!(signed.contains("Ditandatangani oleh Drs. Bambang Sutrisno, M.Si."), "{template}");
        let letter = workflow::get(&state.db, 1, id).await.unwrap();
        let printed =
            naskah::text::date_long(chrono::NaiveDate::parse_from_str(letter.letter_date.as_deref().unwrap(), "%Y-%m-%d").unwrap());
        assert!(
            signed.contains(&format!("Nomor <strong>{}</strong>, tanggal {printed}", letter.number.unwrap())),
            "{template}"
        );
        // The PDF the signer downloads carries the signer's embedded signature, valid
        // under the department's root (pyHanko and pdfsig check the same kind of file
        // in tests/it/pades.rs).
        let pdf = pages.get_mut("kadis").unwrap().get(&format!("/surat/{id}/pdf")).await;
        assert_eq!(pdf.status, StatusCode::OK, "{template}");
        let root = naskah::keys::authority::current(&state.db, 1).await.unwrap().unwrap();
        let found = naskah::signing::pades::inspect(&pdf.bytes, std::slice::from_ref(&root.certificate));
        // The same file through pyHanko and pdfsig, as a reader would check it.
        let dir = tempfile::tempdir().unwrap();
        if let Some(report) = crate::pades::pyhanko(dir.path(), &pdf.bytes, &root.pem()) {
            assert_eq!(report[0]["bottom_line"], true, "{template}: {report:?}");
        }
        if let Some(report) = crate::pades::pdfsig(dir.path(), &pdf.bytes, &root.certificate) {
            assert!(
                report.contains("Signature is Valid.") && report.contains("Certificate is Trusted."),
                "{template}: {report}"
            );
        }
        assert!(
            found.len() == 1 && found[0].valid() && found[0].covers_whole_file,
            "{template}: {found:?}"
        );
        assert_eq!(found[0].signer.as_deref(), Some("Drs. Bambang Sutrisno, M.Si."), "{template}");
    }
}

/// A letter drafted through the API; the SK, whose list only the service fills in, is
/// refused there by name and drafted as the decree use case would, from its data.
async fn created(state: &naskah::web::AppState, konseptor: &mut support::Client, template: &str, example: &Value) -> (i64, i64) {
    let reply = konseptor
        .json("POST", "/api/v1/letters", json!({ "template": template, "data": example }))
        .await;
    if template != "sk-penerima-bantuan-iuran" {
        assert_eq!(reply.status, axum::http::StatusCode::CREATED, "{template}: {}", reply.body);
        let letter = &reply.json()["letter"];
        return (letter["id"].as_i64().unwrap(), letter["version"].as_i64().unwrap());
    }
    assert_eq!(reply.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.json()["error"]["fields"][0]["field"], "penerima", "{}", reply.body);
    let user = naskah::accounts::find_by_username(&state.db, "konseptor").await.unwrap().unwrap();
    let letter = state.workflow().create_from_source(&user, template, example, "").await.unwrap();
    (letter.id, letter.version)
}
