//! The use cases both front ends call, tested without HTTP: who may do what with a
//! letter at each step (the rules the page's forms and the API's `actions` both come
//! from), and that the page and the API show the same thing.

use naskah::{
    accounts::User,
    cases::{
        self,
        letter::{Actions, LetterView},
    },
    departments,
    workflow::{self, Decision},
};

use crate::{
    support,
    workflow::{Demo, decided, demo, drafted_and_typed, letter_data},
};

async fn view(d: &Demo, user: &User, id: i64) -> LetterView {
    let department = departments::get(&d.flow.db, d.department_id).await.unwrap();
    cases::letter::view(&d.flow, user, &department, id).await.unwrap()
}

async fn actions(d: &Demo, username: &str, id: i64) -> Actions {
    view(d, &d.user(username).await, id).await.actions
}

/// (edit_draft, decide, revoke, correct) for each user.
async fn who_may(d: &Demo, id: i64) -> Vec<(&'static str, bool, bool, bool, bool)> {
    let mut out = Vec::new();
    for username in ["konseptor", "staf", "kabid", "sekdis", "kadis", "agendaris"] {
        let a = actions(d, username, id).await;
        out.push((username, a.edit_draft, a.decide.is_some(), a.revoke, a.correct));
    }
    out
}

story! {
    #[tokio::test]
    async fn each_step_opens_its_actions_to_its_holder_only(test_db: support::TestDb) {
        let d = demo(&test_db).await;
        let label = test_db.label;
        let konseptor = d.user("konseptor").await;
        let letter = d
            .flow
            .create(&konseptor, "surat-permintaan-data", &letter_data("Permintaan data"), "konsep awal")
            .await
            .unwrap();
        // Drafting: only its drafter edits; the next step is named.
        assert_eq!(
            who_may(&d, letter.id).await,
            [
                ("konseptor", true, false, false, false),
                ("staf", false, false, false, false),
                ("kabid", false, false, false, false),
                ("sekdis", false, false, false, false),
                ("kadis", false, false, false, false),
                ("agendaris", false, false, false, false),
            ],
            "{label}: drafting"
        );
        let drafting = actions(&d, "konseptor", letter.id).await;
        assert!(drafting.submit_to.is_some_and(|s| !s.is_empty()), "{label}");
        assert!(!drafting.classification_codes.is_empty(), "{label}: the codes to choose from");

        // Typing: any typist edits, the drafter no longer does.
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        let typing = who_may(&d, letter.id).await;
        assert_eq!((typing[0].1, typing[1].1), (false, true), "{label}: typing");

        // Paraf: the head of section decides, with paraf first; nobody edits.
        let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
        let kabid = actions(&d, "kabid", letter.id).await;
        let offer = kabid.decide.expect("kabid holds the paraf step");
        assert!(!offer.signs && offer.acting_as.is_empty(), "{label}");
        assert_eq!(offer.choices, [Decision::Paraf, Decision::Kembalikan, Decision::Tolak]);
        assert!(!kabid.edit_draft);
        for other in ["sekdis", "kadis", "konseptor", "staf"] {
            assert!(actions(&d, other, letter.id).await.decide.is_none(), "{label}: {other} at kabid's step");
        }

        // Signature: the department head signs.
        decided(&d, &d.user("kabid").await, letter.id, Decision::Paraf, 1).await;
        decided(&d, &d.user("sekdis").await, letter.id, Decision::Paraf, 1).await;
        let offer = actions(&d, "kadis", letter.id).await.decide.expect("kadis signs");
        assert!(offer.signs && !offer.bsre_passphrase, "{label}");
        assert_eq!(offer.choices[0], Decision::TandaTangan);

        // Signed: its signer and an administrator may revoke or correct; nobody else.
        decided(&d, &d.user("kadis").await, letter.id, Decision::TandaTangan, 1).await;
        assert_eq!(
            who_may(&d, letter.id).await,
            [
                ("konseptor", false, false, false, false),
                ("staf", false, false, false, false),
                ("kabid", false, false, false, false),
                ("sekdis", false, false, false, false),
                ("kadis", false, false, true, true),
                ("agendaris", false, false, true, true),
            ],
            "{label}: signed"
        );
        // Deliveries: the agendaris and the typist record them, the approvers do not.
        for (username, may) in [("agendaris", true), ("staf", true), ("kabid", false), ("kadis", false)] {
            assert_eq!(actions(&d, username, letter.id).await.record_deliveries, may, "{label}: {username}");
        }
        let signed = view(&d, &d.user("kadis").await, letter.id).await;
        assert!(signed.signed_by.starts_with("Ditandatangani oleh "), "{label}: {}", signed.signed_by);
        assert!(signed.distribution.is_some() && signed.waiting.is_none(), "{label}");
        assert_eq!(signed.chain.iter().filter(|s| s.decision == "Paraf").count(), 2, "{label}");
        assert!(signed.timeline.iter().any(|t| t.what == "Ditandatangani"), "{label}");

        // Revoked: the correction stays open, the revocation does not.
        d.flow.revoke(&d.user("kadis").await, letter.id, "Salah alamat.").await.unwrap();
        let revoked = actions(&d, "kadis", letter.id).await;
        assert_eq!((revoked.revoke, revoked.correct), (false, true), "{label}");
    }
}

story! {
    #[tokio::test]
    async fn a_letter_of_another_department_has_no_view(test_db: support::TestDb) {
        let d = demo(&test_db).await;
        let letter = drafted_and_typed(&d, "Surat").await;
        let mut other = departments::get(&d.flow.db, d.department_id).await.unwrap();
        other.id += 1000;
        let err = cases::letter::view(&d.flow, &d.user("kabid").await, &other, letter.id).await;
        assert!(
            matches!(err, Err(cases::Error::Workflow(workflow::Error::NotFound))),
            "{}: {err:?}",
            test_db.label
        );
    }
}

/// The page shows a form exactly for each action the API reports, for each user.
#[tokio::test]
async fn the_page_and_the_api_offer_the_same_actions() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = Demo::over_db(&state.db);
    let letter = drafted_and_typed(&d, "Permintaan data").await;
    for username in ["konseptor", "staf", "kabid", "kadis"] {
        let mut api = support::api_client(&state, username).await;
        let reply = api.get(&format!("/api/v1/letters/{}", letter.id)).await;
        assert_eq!(reply.status, axum::http::StatusCode::OK, "{}", reply.body);
        let body = reply.json();
        let decides = !body["actions"]["decide"].is_null();
        let edits = body["actions"]["edit_draft"] == true;
        assert_eq!(body["steps"].as_array().map(Vec::len), body["chain"].as_array().map(Vec::len));
        let mut page = support::logged_in(&state, username).await;
        let html = page.get(&format!("/surat/{}", letter.id)).await.body;
        assert_eq!(html.contains("/keputusan\""), decides, "{username}: decision form");
        assert_eq!(html.contains("/revisi\""), edits, "{username}: draft editor");
        assert_eq!(decides, username == "kabid", "{username}");
    }
}
