//! A deadline before the letter's date ("paling lambat" a day already past): drafting
//! warns, and the signature needs the signer's confirmation, in the domain, through the
//! JSON API and on the letter page.

use axum::http::StatusCode;
use naskah::workflow::{Decision, Error, state};
use serde_json::json;

use crate::{
    support,
    workflow::{PASSPHRASE, demo, request},
};

/// A date `days` before today in the demo department's time zone, as `YYYY-MM-DD`.
fn days_ago(days: u64) -> String {
    (naskah::demo::department().tz().today() - chrono::Days::new(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn long_date(iso: &str) -> String {
    naskah::text::date_long_iso(iso)
}

story! {
    #[tokio::test]
    async fn a_past_deadline_is_signed_only_with_the_signers_confirmation(test_db: support::TestDb) {
        let d = demo(&test_db).await;
        let label = test_db.label;
        let (konseptor, staf) = (d.user("konseptor").await, d.user("staf").await);
        let past = days_ago(5);
        let letter = d
            .flow
            .create(
                &konseptor,
                "surat-permintaan-data",
                &json!({ "hal": "Permintaan data terlambat", "batas_waktu": past }),
                "",
            )
            .await
            .unwrap();
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        let letter = d.flow.submit(&staf, letter.id, letter.version).await.unwrap();
        let passed = d.flow.passed_deadlines(&letter, &naskah::demo::department()).await.unwrap();
        assert_eq!(passed.passed.len(), 1, "{label}");
        assert_eq!(passed.passed[0].field, "batas_waktu");

        // Paraf needs no confirmation; the signature does, and without it nothing changes.
        for username in ["kabid", "sekdis"] {
            d.flow
                .decide(&d.user(username).await, letter.id, &request(Decision::Paraf, 1), PASSPHRASE)
                .await
                .unwrap_or_else(|e| panic!("{label} {username}: {e}"));
        }
        let kadis = d.user("kadis").await;
        let refused = d
            .flow
            .decide(&kadis, letter.id, &request(Decision::TandaTangan, 1), PASSPHRASE)
            .await;
        let Err(Error::NeedsConfirmation(message)) = refused else {
            panic!("{label}: signed without confirmation: {refused:?}")
        };
        assert!(
            message.contains(&format!("Batas waktu penyampaian data ({}) sudah lewat", long_date(&past))),
            "{label}: {message}"
        );
        let unchanged = naskah::workflow::get(&d.flow.db, d.department_id, letter.id).await.unwrap();
        assert_eq!(
            (unchanged.state.as_str(), unchanged.number.is_none()),
            (state::PROSES, true),
            "{label}"
        );

        let mut confirmed = request(Decision::TandaTangan, 1);
        confirmed.deadline_warning_accepted = true;
        let signed = d.flow.decide(&kadis, letter.id, &confirmed, PASSPHRASE).await.unwrap();
        assert_eq!(signed.state, state::DITANDATANGANI, "{label}");

        // A deadline of today is still in time: signed without being asked.
        let today = days_ago(0);
        let letter = d
            .flow
            .create(
                &konseptor,
                "surat-permintaan-data",
                &json!({ "hal": "Tepat waktu", "batas_waktu": today }),
                "",
            )
            .await
            .unwrap();
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        let letter = d.flow.submit(&staf, letter.id, letter.version).await.unwrap();
        let signed = d.through_chain(letter, 1, PASSPHRASE).await;
        assert_eq!(signed.state, state::DITANDATANGANI, "{label}");
    }
}

#[tokio::test]
async fn drafting_warns_and_the_api_and_the_sign_form_ask_to_confirm() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let past = days_ago(5);
    let warning = format!("Batas waktu penyampaian data ({}) sudah lewat", long_date(&past));

    // The drafting preview says so before anything is saved.
    let mut drafter = support::logged_in(&state, "konseptor").await;
    let csrf = drafter.csrf_of("/templat/surat-permintaan-data").await;
    let preview = drafter
        .post_form(
            "/templat/surat-permintaan-data/pratinjau",
            &[
                ("csrf", &csrf),
                ("sifat", "Penting"),
                ("hal", "Permintaan data"),
                ("penerima", "Kepala Dinas Sosial"),
                ("isi", "Mohon data."),
                ("batas_waktu", &past),
                ("format", "png"),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains(&warning), "{}", preview.body);

    let mut konseptor = support::api_client(&state, "konseptor").await;
    let mut staf = support::api_client(&state, "staf").await;
    let created = konseptor
        .json(
            "POST",
            "/api/v1/letters",
            json!({ "template": "surat-permintaan-data", "data": { "hal": "Data terlambat", "batas_waktu": past } }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["letter"]["id"].as_i64().unwrap();

    // The draft's page warns its drafter.
    let draft = drafter.get(&format!("/surat/{id}")).await;
    assert!(
        draft.body.contains("Batas waktu sudah lewat") && draft.body.contains(&warning),
        "{}",
        draft.body
    );

    let r = konseptor
        .json("POST", &format!("/api/v1/letters/{id}/submit"), json!({ "version": 1 }))
        .await;
    let version = r.json()["letter"]["version"].as_i64().unwrap();
    let r = staf
        .json("POST", &format!("/api/v1/letters/{id}/submit"), json!({ "version": version }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let decision = |decision: &str, accept: bool| json!({ "decision": decision, "revision": 1, "passphrase": support::DEMO_PASSPHRASE, "accept_deadline_warning": accept });
    for username in ["kabid", "sekdis"] {
        let mut approver = support::api_client(&state, username).await;
        let r = approver
            .json("POST", &format!("/api/v1/letters/{id}/decision"), decision("paraf", false))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{username}: {}", r.body);
    }

    // The signer's form carries the confirmation; sent without it, the page says why.
    let mut page = support::logged_in(&state, "kadis").await;
    let view = page.get(&format!("/surat/{id}")).await;
    assert!(view.body.contains("name=\"terima_batas_waktu\""), "{}", view.body);
    assert!(
        view.body.contains(&format!(
            "Saya tahu batas waktu sudah lewat (Batas waktu penyampaian data: {}) dan tetap menandatangani.",
            long_date(&past)
        )),
        "{}",
        view.body
    );
    let csrf = view.csrf();
    let without = page
        .post_form(
            &format!("/surat/{id}/keputusan"),
            &[
                ("csrf", &csrf),
                ("keputusan", "tanda_tangan"),
                ("revisi", "1"),
                ("frasa_sandi", support::DEMO_PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED, "{}", without.body);
    assert!(without.body.contains(&warning), "{}", without.body);

    // The API refuses the same way, then signs with the confirmation.
    let mut kadis = support::api_client(&state, "kadis").await;
    let refused = kadis
        .json("POST", &format!("/api/v1/letters/{id}/decision"), decision("tanda_tangan", false))
        .await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_REQUIRED, "{}", refused.body);
    assert!(
        refused.json()["error"]["message"].as_str().unwrap().contains(&warning),
        "{}",
        refused.body
    );
    let signed = kadis
        .json("POST", &format!("/api/v1/letters/{id}/decision"), decision("tanda_tangan", true))
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(signed.json()["letter"]["state"], "ditandatangani");
    // Once signed, the letter carries its date: no more warning on its page.
    let after = page.get(&format!("/surat/{id}")).await;
    assert!(!after.body.contains("Batas waktu sudah lewat"), "{}", after.body);
}
