//! The approval chain on both backends: the SOP's chain with a return for revision,
//! out-of-turn and concurrent actions, wrong passphrases, delegation, bulk decisions of
//! 300 letters, and tampering detected by the statement check.

use std::sync::Arc;

use naskah::{
    accounts::{self, User},
    audit::Actor,
    cases, demo, departments, keys,
    letters::Catalogue,
    rendering::Renderer,
    workflow::{self, Decision, DecisionRequest, Error, Workflow, delegation, state},
};
use serde_json::{Value, json};

use crate::support::{self, DEMO_PASSWORD, TestDb};

pub const PASSPHRASE: &str = "frasa sandi uji 2026";

/// The demo department with keys for its three approvers and signer.
pub struct Demo {
    pub flow: Workflow,
    pub department_id: i64,
}

impl Demo {
    /// The demo over an application state (its key store holds the demo keys under
    /// `support::DEMO_PASSPHRASE`).
    pub fn over(state: &naskah::web::AppState) -> Demo {
        Demo {
            flow: state.workflow(),
            department_id: 1,
        }
    }

    /// Paraf by the Kepala Bidang and the Sekretaris, then the Kepala Dinas' signature,
    /// all on `revision`.
    pub async fn through_chain(&self, letter: workflow::Letter, revision: i64, passphrase: &str) -> workflow::Letter {
        let mut letter = letter;
        for (username, decision) in [
            ("kabid", Decision::Paraf),
            ("sekdis", Decision::Paraf),
            ("kadis", Decision::TandaTangan),
        ] {
            letter = self
                .flow
                .decide(&self.user(username).await, letter.id, &request(decision, revision), passphrase)
                .await
                .unwrap_or_else(|e| panic!("{username} {decision:?}: {e}"));
        }
        letter
    }

    pub async fn user(&self, username: &str) -> User {
        accounts::find_by_username(&self.flow.db, username).await.unwrap().unwrap()
    }
}

impl Demo {
    /// The demo department and its keys seeded into the empty database `db`.
    pub async fn seeded(db: &naskah::db::Db) -> Demo {
        naskah::demo::seed(db, Some(DEMO_PASSWORD)).await.unwrap();
        naskah::demo::seed_keys(db, &support::test_store(db), Some(support::DEMO_PASSPHRASE))
            .await
            .unwrap();
        Demo::over_db(db)
    }

    /// The demo over `db` with its keys in the database (seeded by the caller).
    pub fn over_db(db: &naskah::db::Db) -> Demo {
        let renderer = renderer();
        Demo {
            flow: Workflow {
                db: db.clone(),
                catalogue: Arc::new(Catalogue::from_renderer(&renderer).unwrap()),
                renderer,
                keys: support::test_store(db),
                base_url: "https://naskah.example.go.id".into(),
                timestamping: false,
                distribution: Arc::new(naskah::distribution::deliveries::DirectoryPlanner),
            },
            department_id: 1,
        }
    }
}

pub fn renderer() -> Renderer {
    Renderer::load(std::path::Path::new("letter_templates"), 2).unwrap()
}

pub async fn demo(test_db: &TestDb) -> Demo {
    demo::seed(&test_db.db, Some(DEMO_PASSWORD)).await.unwrap();
    let renderer = renderer();
    let flow = Workflow {
        db: test_db.db.clone(),
        catalogue: Arc::new(Catalogue::from_renderer(&renderer).unwrap()),
        renderer,
        keys: support::test_store(&test_db.db),
        base_url: "https://naskah.example.go.id".into(),
        timestamping: false,
        distribution: Arc::new(naskah::distribution::deliveries::DirectoryPlanner),
    };
    let department_id = departments::list(&test_db.db).await.unwrap()[0].id;
    let demo = Demo { flow, department_id };
    for username in ["kabid", "sekdis", "kadis"] {
        let user = demo.user(username).await;
        keys::generate(
            &demo.flow.db,
            &demo.flow.keys,
            &Actor::System("test"),
            department_id,
            user.official_id.unwrap(),
            PASSPHRASE,
        )
        .await
        .unwrap();
    }
    demo
}

pub fn request(decision: Decision, revision: i64) -> DecisionRequest {
    DecisionRequest {
        decision,
        note: String::new(),
        expected_revision: revision,
        budget_warning_accepted: false,
        deadline_warning_accepted: false,
    }
}

pub fn letter_data(subject: &str) -> Value {
    json!({ "hal": subject, "batas_waktu": crate::support::days_from_today(14) })
}

/// Drafts a data-request letter and takes it through drafting and typing.
pub async fn drafted_and_typed(d: &Demo, subject: &str) -> workflow::Letter {
    let konseptor = d.user("konseptor").await;
    let staf = d.user("staf").await;
    let letter = d
        .flow
        .create(&konseptor, "surat-permintaan-data", &letter_data(subject), "konsep awal")
        .await
        .unwrap();
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    d.flow.submit(&staf, letter.id, letter.version).await.unwrap()
}

/// A decision that must succeed.
pub async fn decided(d: &Demo, user: &User, letter_id: i64, decision: Decision, revision: i64) -> workflow::Letter {
    d.flow
        .decide(user, letter_id, &request(decision, revision), PASSPHRASE)
        .await
        .unwrap_or_else(|e| panic!("{} {decision:?}: {e}", user.username))
}

pub async fn statement_count(d: &Demo, letter_id: i64) -> usize {
    workflow::statements(&d.flow.db, letter_id).await.unwrap().len()
}

story! {
    #[tokio::test]
    async fn the_sop_chain_runs_with_a_return_restarting_it(test_db: support::TestDb) {
        let d = demo(&test_db).await;
        let label = test_db.label;
        let (konseptor, staf, kabid, sekdis, kadis) = (
            d.user("konseptor").await,
            d.user("staf").await,
            d.user("kabid").await,
            d.user("sekdis").await,
            d.user("kadis").await,
        );

        // Only a drafter creates; the form's data are checked first.
        let refused = d.flow.create(&staf, "surat-permintaan-data", &letter_data("x"), "").await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{label}");
        let invalid = d
            .flow
            .create(&konseptor, "surat-permintaan-data", &json!({"batas_waktu": "kemarin"}), "")
            .await;
        assert!(matches!(invalid, Err(Error::Invalid(_))), "{label}: {invalid:?}");

        let letter = d
            .flow
            .create(
                &konseptor,
                "surat-permintaan-data",
                &letter_data("Permohonan Data Calon Penerima"),
                "konsep awal",
            )
            .await
            .unwrap();
        assert_eq!((letter.state.as_str(), letter.revision, letter.round), (state::KONSEP, 1, 1));
        assert_eq!(letter.subject, "Permohonan Data Calon Penerima");

        // The typist cannot act before the drafter hands over; the drafter edits.
        let early = d.flow.submit(&staf, letter.id, letter.version).await;
        assert!(matches!(early, Err(Error::NotYourTurn(_))), "{label}: {early:?}");
        let letter = d
            .flow
            .revise(
                &konseptor,
                letter.id,
                letter.version,
                &letter_data("Permohonan Data Calon Penerima BPU"),
                "judul",
            )
            .await
            .unwrap();
        assert_eq!(letter.revision, 2);
        // Saving from a stale page is refused and loses nothing.
        let stale = d
            .flow
            .revise(&konseptor, letter.id, letter.version - 1, &letter_data("lama"), "")
            .await;
        assert!(matches!(stale, Err(Error::Conflict(_))), "{label}: {stale:?}");
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        let letter = d
            .flow
            .revise(
                &staf,
                letter.id,
                letter.version,
                &letter_data("Permohonan Data Calon Penerima BPU 2026"),
                "ketik",
            )
            .await
            .unwrap();
        let letter = d.flow.submit(&staf, letter.id, letter.version).await.unwrap();
        assert_eq!(letter.state, state::PROSES, "{label}");

        // Out of turn: the Sekretaris and the Kepala Dinas wait for the Kepala Bidang.
        for early in [&sekdis, &kadis] {
            let r = d.flow.decide(early, letter.id, &request(Decision::Paraf, 3), PASSPHRASE).await;
            assert!(matches!(r, Err(Error::NotYourTurn(_))), "{label}: {r:?}");
        }
        let r = d
            .flow
            .decide(&kabid, letter.id, &request(Decision::TandaTangan, 3), PASSPHRASE)
            .await;
        assert!(
            matches!(r, Err(Error::NotYourTurn(_))),
            "{label}: a paraf step is not signed: {r:?}"
        );
        // The drafter cannot edit any more.
        let r = d
            .flow
            .revise(&konseptor, letter.id, letter.version, &letter_data("diam-diam"), "")
            .await;
        assert!(matches!(r, Err(Error::NotYourTurn(_))), "{label}: {r:?}");

        // A wrong passphrase records nothing.
        let before = workflow::get(&d.flow.db, d.department_id, letter.id).await.unwrap();
        let r = d
            .flow
            .decide(&kabid, letter.id, &request(Decision::Paraf, 3), "bukan frasa sandinya")
            .await;
        assert!(matches!(r, Err(Error::Key(keys::Error::WrongPassphrase))), "{label}: {r:?}");
        let after = workflow::get(&d.flow.db, d.department_id, letter.id).await.unwrap();
        assert_eq!((before.version, before.stage), (after.version, after.stage));
        assert_eq!(statement_count(&d, letter.id).await, 0);

        // A decision on an older revision than the current one is refused.
        let r = d.flow.decide(&kabid, letter.id, &request(Decision::Paraf, 2), PASSPHRASE).await;
        assert!(matches!(r, Err(Error::Conflict(_))), "{label}: {r:?}");

        let letter = decided(&d, &kabid, letter.id, Decision::Paraf, 3).await;
        assert_eq!(letter.state, state::PROSES);

        // A return needs a note, then goes back to the drafter in a new round.
        let r = d
            .flow
            .decide(&sekdis, letter.id, &request(Decision::Kembalikan, 3), PASSPHRASE)
            .await;
        assert!(matches!(r, Err(Error::Invalid(_))), "{label}: {r:?}");
        let mut back = request(Decision::Kembalikan, 3);
        back.note = "Batas waktu terlalu singkat; beri 14 hari.".into();
        let letter = d.flow.decide(&sekdis, letter.id, &back, PASSPHRASE).await.unwrap();
        assert_eq!(
            (letter.state.as_str(), letter.round, letter.stage),
            (state::KONSEP, 2, 0),
            "{label}"
        );
        // The Kepala Bidang's paraf of round 1 no longer counts: after the fix the chain
        // starts again from the first paraf.
        let letter = d
            .flow
            .revise(
                &konseptor,
                letter.id,
                letter.version,
                &json!({ "hal": "Permohonan Data Calon Penerima BPU 2026", "batas_waktu": crate::support::days_from_today(21) }),
                "batas waktu 14 hari",
            )
            .await
            .unwrap();
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        let letter = d.flow.submit(&staf, letter.id, letter.version).await.unwrap();
        let r = d.flow.decide(&sekdis, letter.id, &request(Decision::Paraf, 4), PASSPHRASE).await;
        assert!(
            matches!(r, Err(Error::NotYourTurn(_))),
            "{label}: round 2 starts at the Kepala Bidang: {r:?}"
        );
        let letter = decided(&d, &kabid, letter.id, Decision::Paraf, 4).await;
        let letter = decided(&d, &sekdis, letter.id, Decision::Paraf, 4).await;
        let letter = decided(&d, &kadis, letter.id, Decision::TandaTangan, 4).await;
        assert_eq!(letter.state, state::DITANDATANGANI, "{label}");

        // Five statements (paraf, return, paraf, paraf, signature), all holding.
        let checks = workflow::verify_chain(&d.flow.db, letter.id).await.unwrap();
        let decisions: Vec<&str> = checks.iter().map(|c| c.decision.as_str()).collect();
        assert_eq!(decisions, ["paraf", "kembalikan", "paraf", "paraf", "tanda_tangan"], "{label}");
        assert!(checks.iter().all(|c| c.problems.is_empty()), "{label}: {checks:?}");

        // Revisions kept with their authors; any two compare field by field.
        let revisions = workflow::revisions(&d.flow.db, letter.id).await.unwrap();
        assert_eq!(revisions.len(), 4);
        assert_eq!(revisions[2].author, staf.display_name);
        let changes = workflow::compare(&d.flow.db, letter.id, 3, 4, &[]).await.unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "batas_waktu");
        assert_eq!(changes[0].before, Some(json!(crate::support::days_from_today(14))));
        assert_eq!(changes[0].after, Some(json!(crate::support::days_from_today(21))));

        // Nothing more can happen to a signed letter.
        let r = d
            .flow
            .decide(&kadis, letter.id, &request(Decision::TandaTangan, 4), PASSPHRASE)
            .await;
        assert!(matches!(r, Err(Error::NotYourTurn(_))), "{label}: {r:?}");

        // Every change is in the audit log, whose chain holds.
        let entries = naskah::audit::recent(&d.flow.db, d.department_id, 200).await.unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        for expected in [
            "letter.created",
            "letter.revised",
            "letter.submitted",
            "letter.initialled",
            "letter.returned",
            "letter.signed",
        ] {
            assert!(actions.contains(&expected), "{label}: {expected} missing from {actions:?}");
        }
        assert!(
            naskah::audit::verify_chain(&d.flow.db, Some(d.department_id))
                .await
                .unwrap()
                .is_ok()
        );
    }
}

/// Two decisions on one letter, each on a task of its own, released at one barrier.
async fn two_at_once(
    d: &Demo,
    users: [&User; 2],
    letter_id: i64,
    request: &DecisionRequest,
) -> (Result<workflow::Letter, Error>, Result<workflow::Letter, Error>) {
    let decisions = users
        .map(|user| {
            let (flow, user, request) = (d.flow.clone(), user.clone(), request.clone());
            async move { flow.decide(&user, letter_id, &request, PASSPHRASE).await }
        })
        .into_iter()
        .collect();
    let mut answers = support::at_once(decisions).await.into_iter();
    (answers.next().unwrap(), answers.next().unwrap())
}

story! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_decisions_resolve_to_exactly_one(test_db: support::TestDb) {
        let d = demo(&test_db).await;
        let label = test_db.label;
        let kabid = d.user("kabid").await;
        // The Sekretaris is also Plh. Kepala Bidang today: two people may act on one step.
        let sekdis = d.user("sekdis").await;
        let kabid_position = departments::get_official(&d.flow.db, d.department_id, kabid.official_id.unwrap())
            .await
            .unwrap()
            .position_id
            .unwrap();
        let today = chrono::Utc::now().date_naive();
        delegation::create(
            &d.flow.db,
            &Actor::System("test"),
            d.department_id,
            delegation::DelegationInput {
                position_id: kabid_position,
                official_id: sekdis.official_id.unwrap(),
                kind: "plh".into(),
                starts_on: (today - chrono::Days::new(1)).to_string(),
                ends_on: (today + chrono::Days::new(1)).to_string(),
                basis: "Surat Perintah 800/12/Disnaker".into(),
            },
        )
        .await
        .unwrap();

        for round in 0..3 {
            let letter = drafted_and_typed(&d, &format!("Serentak {round}")).await;
            let paraf = request(Decision::Paraf, letter.revision);
            let (a, b) = two_at_once(&d, [&kabid, &sekdis], letter.id, &paraf).await;
            let ok = [&a, &b].iter().filter(|r| r.is_ok()).count();
            assert_eq!(ok, 1, "{label}: exactly one succeeds: {a:?} / {b:?}");
            let loser = if a.is_ok() { &b } else { &a };
            match loser {
                Err(Error::Conflict(m) | Error::NotYourTurn(m)) => assert!(!m.is_empty()),
                other => panic!("{label}: the other gets a clear message, not {other:?}"),
            }
            assert_eq!(statement_count(&d, letter.id).await, 1, "{label}");
            let checks = workflow::verify_chain(&d.flow.db, letter.id).await.unwrap();
            assert!(checks.iter().all(|c| c.problems.is_empty()), "{checks:?}");
        }

        // The same person twice at once (two tabs): one paraf, not two.
        let letter = drafted_and_typed(&d, "Dua tab").await;
        let paraf = request(Decision::Paraf, letter.revision);
        let (a, b) = two_at_once(&d, [&kabid, &kabid], letter.id, &paraf).await;
        assert_eq!([&a, &b].iter().filter(|r| r.is_ok()).count(), 1, "{label}: {a:?} / {b:?}");
        assert_eq!(statement_count(&d, letter.id).await, 1);
    }
}

#[tokio::test]
async fn a_plh_signs_a_budget_decree_only_after_the_warning() {
    let test_db = support::sqlite().await;
    let d = demo(&test_db).await;
    let (konseptor, staf, kabid, sekdis) = (
        d.user("konseptor").await,
        d.user("staf").await,
        d.user("kabid").await,
        d.user("sekdis").await,
    );
    let kadis = d.user("kadis").await;
    let kadis_position = departments::get_official(&d.flow.db, d.department_id, kadis.official_id.unwrap())
        .await
        .unwrap()
        .position_id
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    // An assignment that ended yesterday gives no right to sign.
    let expired = delegation::create(
        &d.flow.db,
        &Actor::System("test"),
        d.department_id,
        delegation::DelegationInput {
            position_id: kadis_position,
            official_id: sekdis.official_id.unwrap(),
            kind: "plh".into(),
            starts_on: (today - chrono::Days::new(10)).to_string(),
            ends_on: (today - chrono::Days::new(2)).to_string(),
            basis: String::new(),
        },
    )
    .await
    .unwrap();
    assert_eq!(expired.sebutan(), "Plh.");

    let example: Value =
        serde_json::from_str(&std::fs::read_to_string("letter_templates/sk-penerima-bantuan-iuran/contoh.json").unwrap()).unwrap();
    let letter = d
        .flow
        .create_from_source(&konseptor, "sk-penerima-bantuan-iuran", &example, "")
        .await
        .unwrap();
    assert_eq!(letter.document_kind, "keputusan");
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&staf, letter.id, letter.version).await.unwrap();
    let letter = decided(&d, &kabid, letter.id, Decision::Paraf, 1).await;
    // The optional paraf koordinasi has no position in the demo: skipped.
    let letter = decided(&d, &sekdis, letter.id, Decision::Paraf, 1).await;
    let r = d
        .flow
        .decide(&sekdis, letter.id, &request(Decision::TandaTangan, 1), PASSPHRASE)
        .await;
    assert!(matches!(r, Err(Error::NotYourTurn(_))), "expired assignment: {r:?}");

    delegation::create(
        &d.flow.db,
        &Actor::System("test"),
        d.department_id,
        delegation::DelegationInput {
            position_id: kadis_position,
            official_id: sekdis.official_id.unwrap(),
            kind: "plh".into(),
            starts_on: today.to_string(),
            ends_on: (today + chrono::Days::new(3)).to_string(),
            basis: "Surat Perintah Plh.".into(),
        },
    )
    .await
    .unwrap();
    let r = d
        .flow
        .decide(&sekdis, letter.id, &request(Decision::TandaTangan, 1), PASSPHRASE)
        .await;
    match r {
        Err(Error::NeedsConfirmation(message)) => assert!(message.contains("Plh.") && message.contains("anggaran"), "{message}"),
        other => panic!("a Plh. signing a budget decree is warned first, got {other:?}"),
    }
    assert_eq!(statement_count(&d, letter.id).await, 2, "the warning records nothing");
    let mut accepted = request(Decision::TandaTangan, 1);
    accepted.budget_warning_accepted = true;
    let letter = d.flow.decide(&sekdis, letter.id, &accepted, PASSPHRASE).await.unwrap();
    assert_eq!(letter.state, state::DITANDATANGANI);
    let steps = workflow::steps(&d.flow.db, letter.id).await.unwrap();
    let signature = steps.iter().find(|s| s.kind == "tanda_tangan").unwrap();
    assert_eq!(signature.acting_as, "Plh.");
    assert_eq!(signature.acted_by_official, sekdis.official_id);
    let statements = workflow::statements(&d.flow.db, letter.id).await.unwrap();
    assert!(statements.last().unwrap().statement.contains("\"sebagai\":\"Plh.\""));
    // The signature block names the delegate as Plh. of the Kepala Dinas.
    let block = workflow::signer_block(&d.flow.db, &letter).await.unwrap().unwrap();
    assert_eq!(block.sebutan.as_deref(), Some("Plh."));
    assert_eq!(block.jabatan, "Kepala Dinas Tenaga Kerja Kabupaten Penajam Paser Utara");
    assert_eq!(block.nama_tanpa_gelar, "Siti Rahmawati");
    assert_eq!(block.nip, "19740823 200003 2 002");
    assert!(block.atas_nama.is_none());
    assert!(
        workflow::verify_chain(&d.flow.db, letter.id)
            .await
            .unwrap()
            .iter()
            .all(|c| c.problems.is_empty())
    );
}

story! {
    #[tokio::test]
    async fn bulk_paraf_and_signature_of_300_letters_with_one_failure_reported(test_db: support::TestDb) {
        let d = demo(&test_db).await;
        let label = test_db.label;
        let (kabid, sekdis, kadis) = (d.user("kabid").await, d.user("sekdis").await, d.user("kadis").await);
        let mut ids = Vec::new();
        for i in 0..300 {
            ids.push(drafted_and_typed(&d, &format!("Konfirmasi desa {i:03}")).await.id);
        }
        let batch: Vec<(i64, i64)> = ids.iter().map(|id| (*id, 1)).collect();
        let results = cases::bulk::run(&d.flow, &kabid, &batch, Decision::Paraf, false, PASSPHRASE)
            .await
            .unwrap();
        // The job's stored progress counted every letter.
        let job = cases::bulk::progress(&d.flow, &kabid, &results.job).await.unwrap().unwrap().job;
        assert_eq!((job.done, job.total), (300, 300));
        assert_eq!(results.done, 300);
        assert!(results.failed.is_empty(), "{label}");

        // One letter is returned before the Sekretaris' bulk paraf reaches it.
        let mut back = request(Decision::Kembalikan, 1);
        back.note = "Nama desa salah.".into();
        d.flow.decide(&sekdis, ids[150], &back, PASSPHRASE).await.unwrap();
        let results = cases::bulk::run(&d.flow, &sekdis, &batch, Decision::Paraf, false, PASSPHRASE)
            .await
            .unwrap();
        let failed: Vec<i64> = results.failed.iter().map(|f| f.id).collect();
        assert_eq!(failed, [ids[150]], "{label}: only the returned letter fails");
        let results = cases::bulk::run(&d.flow, &kadis, &batch, Decision::TandaTangan, false, PASSPHRASE)
            .await
            .unwrap();
        let mut signed = 0;
        for id in &ids {
            if workflow::get(&d.flow.db, d.department_id, *id).await.unwrap().state == state::DITANDATANGANI {
                signed += 1;
            }
        }
        assert_eq!((signed, results.done), (299, 299), "{label}");
        let failure = &results.failed[0];
        assert_eq!((results.failed.len(), failure.id), (1, ids[150]));
        assert!(failure.message.contains("konsep"), "{failure:?}");
        let returned = workflow::get(&d.flow.db, d.department_id, ids[150]).await.unwrap();
        assert_eq!((returned.state.as_str(), returned.round), (state::KONSEP, 2));
        for id in [ids[0], ids[299]] {
            let checks = workflow::verify_chain(&d.flow.db, id).await.unwrap();
            assert_eq!(checks.len(), 3);
            assert!(checks.iter().all(|c| c.problems.is_empty()), "{checks:?}");
        }

        // A wrong passphrase stops the whole batch before anything is done.
        let more = drafted_and_typed(&d, "Satu lagi").await;
        let r = cases::bulk::run(&d.flow, &kabid, &[(more.id, 1)], Decision::Paraf, false, "salah sama sekali").await;
        assert!(matches!(
            r,
            Err(cases::Error::Workflow(Error::Key(keys::Error::WrongPassphrase)))
        ));
        assert_eq!(statement_count(&d, more.id).await, 0);
    }
}

#[tokio::test]
async fn a_tampered_statement_or_revision_is_detected_and_named() {
    let test_db = support::sqlite().await;
    let d = demo(&test_db).await;
    let (kabid, sekdis, kadis) = (d.user("kabid").await, d.user("sekdis").await, d.user("kadis").await);
    let mut signed = Vec::new();
    for i in 0..5 {
        let letter = drafted_and_typed(&d, &format!("Surat {i}")).await;
        decided(&d, &kabid, letter.id, Decision::Paraf, 1).await;
        decided(&d, &sekdis, letter.id, Decision::Paraf, 1).await;
        decided(&d, &kadis, letter.id, Decision::TandaTangan, 1).await;
        signed.push(letter.id);
    }
    let problems = |checks: Vec<workflow::StatementCheck>| -> Vec<(i64, String)> {
        checks
            .into_iter()
            .flat_map(|c| c.problems.into_iter().map(move |p| (c.seq, p)))
            .collect()
    };
    let db = &d.flow.db;
    let exec = |sql: String| async move {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&db.pool).await.unwrap();
    };

    // 1. The signed text edited (the hash recomputed to hide it): the signature fails.
    let s = workflow::statements(db, signed[0]).await.unwrap();
    let edited = s[1].statement.replace("\"keputusan\":\"paraf\"", "\"keputusan\":\"tolak\"");
    let hash = naskah::workflow::statement::sha256_hex(edited.as_bytes());
    exec(format!(
        "UPDATE letter_statements SET statement = '{edited}', hash = '{hash}' WHERE id = {}",
        s[1].id
    ))
    .await;
    let found = problems(workflow::verify_chain(db, signed[0]).await.unwrap());
    assert!(
        found.iter().any(|(seq, p)| *seq == 2 && p.contains("tanda tangan Ed25519")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(seq, p)| *seq == 3 && p.contains("tidak tersambung")),
        "{found:?}"
    );

    // 2. A statement deleted.
    let s = workflow::statements(db, signed[1]).await.unwrap();
    exec(format!("DELETE FROM letter_statements WHERE id = {}", s[1].id)).await;
    let found = problems(workflow::verify_chain(db, signed[1]).await.unwrap());
    assert!(found.iter().any(|(seq, p)| *seq == 3 && p.contains("urutan 2")), "{found:?}");
    assert!(found.iter().any(|(_, p)| p.contains("tanpa pernyataan")), "{found:?}");

    // 3. The approved draft swapped after the paraf.
    exec(format!(
        "UPDATE letter_revisions SET data = replace(data, 'Surat 2', 'Surat palsu') WHERE letter_id = {}",
        signed[2]
    ))
    .await;
    let found = problems(workflow::verify_chain(db, signed[2]).await.unwrap());
    assert!(found.iter().filter(|(_, p)| p.contains("data revisi 1")).count() == 3, "{found:?}");

    // 4. The decision column changed without touching the signed text.
    exec(format!(
        "UPDATE letter_statements SET decision = 'tolak' WHERE letter_id = {} AND seq = 3",
        signed[3]
    ))
    .await;
    let found = problems(workflow::verify_chain(db, signed[3]).await.unwrap());
    assert!(found.iter().any(|(seq, p)| *seq == 3 && p.contains("kolom")), "{found:?}");

    // 5. A signature moved from another letter.
    let donor = workflow::statements(db, signed[0]).await.unwrap();
    exec(format!(
        "UPDATE letter_statements SET signature = '{}' WHERE letter_id = {} AND seq = 1",
        donor[0].signature, signed[4]
    ))
    .await;
    let found = problems(workflow::verify_chain(db, signed[4]).await.unwrap());
    assert!(found.iter().any(|(seq, p)| *seq == 1 && p.contains("Ed25519")), "{found:?}");
}

#[tokio::test]
async fn keys_lock_after_wrong_passphrases_and_rotation_keeps_old_signatures_valid() {
    let test_db = support::sqlite().await;
    let d = demo(&test_db).await;
    let kabid = d.user("kabid").await;
    let official = kabid.official_id.unwrap();
    let letter = drafted_and_typed(&d, "Sebelum rotasi").await;
    decided(&d, &kabid, letter.id, Decision::Paraf, 1).await;

    // Passphrase change: the old one stops working, the key stays the same.
    let before = keys::active_key(&d.flow.db, official).await.unwrap().unwrap();
    let short = keys::change_passphrase(&d.flow.db, &d.flow.keys, &Actor::System("test"), official, PASSPHRASE, "pendek").await;
    assert!(matches!(short, Err(keys::Error::Invalid(_))));
    keys::change_passphrase(
        &d.flow.db,
        &d.flow.keys,
        &Actor::System("test"),
        official,
        PASSPHRASE,
        "frasa sandi kedua 99",
    )
    .await
    .unwrap();
    assert!(matches!(
        keys::unlock(&d.flow.db, &d.flow.keys, official, PASSPHRASE).await,
        Err(keys::Error::WrongPassphrase)
    ));
    let unlocked = keys::unlock(&d.flow.db, &d.flow.keys, official, "frasa sandi kedua 99")
        .await
        .unwrap();
    assert_eq!(unlocked.info.key_id, before.key_id);

    // Rotation: a new key; the old one is retired but still verifies what it signed.
    let rotated = keys::rotate(
        &d.flow.db,
        &d.flow.keys,
        &Actor::System("test"),
        d.department_id,
        official,
        "frasa sandi ketiga 77",
    )
    .await
    .unwrap();
    assert_ne!(rotated.key_id, before.key_id);
    let all = keys::list(&d.flow.db, d.department_id).await.unwrap();
    assert!(all.iter().any(|k| k.key_id == before.key_id && k.retired_at.is_some()));
    let checks = workflow::verify_chain(&d.flow.db, letter.id).await.unwrap();
    assert!(checks.iter().all(|c| c.problems.is_empty()), "{checks:?}");
    let again = keys::generate(
        &d.flow.db,
        &d.flow.keys,
        &Actor::System("test"),
        d.department_id,
        official,
        "frasa sandi lagi 55",
    )
    .await;
    assert!(matches!(again, Err(keys::Error::AlreadyHasKey(_))));

    // Five wrong passphrases lock the key, even against the right one.
    for _ in 0..keys::PASSPHRASE_LIMIT {
        let r = keys::unlock(&d.flow.db, &d.flow.keys, official, "salah salah salah").await;
        assert!(matches!(r, Err(keys::Error::WrongPassphrase)));
    }
    let r = keys::unlock(&d.flow.db, &d.flow.keys, official, "frasa sandi ketiga 77").await;
    match r {
        Err(e @ keys::Error::Throttled { .. }) => assert!(e.to_string().contains("menit")),
        other => panic!("expected the lock, got {:?}", other.map(|u| u.info)),
    }
    // Another official is not affected.
    let sekdis = d.user("sekdis").await;
    keys::unlock(&d.flow.db, &d.flow.keys, sekdis.official_id.unwrap(), PASSPHRASE)
        .await
        .unwrap();
}
