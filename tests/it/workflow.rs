//! The approval chain on both backends: the SOP's chain with a return for revision,
//! out-of-turn and concurrent actions, wrong passphrases, delegation, bulk decisions of
//! 300 letters, and tampering detected by the statement check.

use std::sync::Arc;

use naskah::{
    accounts::{self, User},
    audit::Actor,
    demo, departments,
    keys::{self, KeyStore},
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
    pub _keys: tempfile::TempDir,
}

impl Demo {
    /// The demo over an application state (its key store holds the demo keys under
    /// `support::DEMO_PASSPHRASE`).
    pub fn over(state: &naskah::web::AppState) -> Demo {
        Demo {
            flow: state.workflow(),
            department_id: 1,
            _keys: tempfile::tempdir().unwrap(),
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

pub fn renderer() -> Renderer {
    Renderer::load(std::path::Path::new("letter_templates"), 2).unwrap()
}

pub async fn demo(test_db: &TestDb) -> Demo {
    demo::seed(&test_db.db, Some(DEMO_PASSWORD)).await.unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let renderer = renderer();
    let flow = Workflow {
        db: test_db.db.clone(),
        catalogue: Arc::new(Catalogue::from_renderer(&renderer).unwrap()),
        renderer,
        keys: KeyStore::new(keys_dir.path()),
        base_url: "https://naskah.example.go.id".into(),
        timestamping: false,
    };
    let department_id = departments::list(&test_db.db).await.unwrap()[0].id;
    let demo = Demo {
        flow,
        department_id,
        _keys: keys_dir,
    };
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

fn letter_data(subject: &str) -> Value {
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
async fn decided(d: &Demo, user: &User, letter_id: i64, decision: Decision, revision: i64) -> workflow::Letter {
    d.flow
        .decide(user, letter_id, &request(decision, revision), PASSPHRASE)
        .await
        .unwrap_or_else(|e| panic!("{} {decision:?}: {e}", user.username))
}

async fn statement_count(d: &Demo, letter_id: i64) -> usize {
    workflow::statements(&d.flow.db, letter_id).await.unwrap().len()
}

#[tokio::test]
async fn the_sop_chain_runs_with_a_return_restarting_it() {
    for test_db in support::backends().await {
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

#[tokio::test]
async fn concurrent_decisions_resolve_to_exactly_one() {
    for test_db in support::backends().await {
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
            let (a, b) = tokio::join!(
                d.flow.decide(&kabid, letter.id, &paraf, PASSPHRASE),
                d.flow.decide(&sekdis, letter.id, &paraf, PASSPHRASE),
            );
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
        let (a, b) = tokio::join!(
            d.flow.decide(&kabid, letter.id, &paraf, PASSPHRASE),
            d.flow.decide(&kabid, letter.id, &paraf, PASSPHRASE),
        );
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
    let letter = d.flow.create(&konseptor, "sk-penerima-bantuan-iuran", &example, "").await.unwrap();
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

#[tokio::test]
async fn bulk_paraf_and_signature_of_300_letters_with_one_failure_reported() {
    for test_db in support::backends().await {
        let d = demo(&test_db).await;
        let label = test_db.label;
        let (kabid, sekdis, kadis) = (d.user("kabid").await, d.user("sekdis").await, d.user("kadis").await);
        let mut ids = Vec::new();
        for i in 0..300 {
            ids.push(drafted_and_typed(&d, &format!("Konfirmasi desa {i:03}")).await.id);
        }
        let batch: Vec<(i64, i64)> = ids.iter().map(|id| (*id, 1)).collect();
        let mut calls = 0;
        let results = d
            .flow
            .decide_many(&kabid, &batch, &request(Decision::Paraf, 1), PASSPHRASE, |done, total| {
                calls += 1;
                assert_eq!(total, 300);
                assert_eq!(done, calls);
            })
            .await
            .unwrap();
        assert_eq!(calls, 300);
        assert!(results.iter().all(|(_, r)| r.is_ok()), "{label}");

        // One letter is returned before the Sekretaris' bulk paraf reaches it.
        let mut back = request(Decision::Kembalikan, 1);
        back.note = "Nama desa salah.".into();
        d.flow.decide(&sekdis, ids[150], &back, PASSPHRASE).await.unwrap();
        let results = d
            .flow
            .decide_many(&sekdis, &batch, &request(Decision::Paraf, 1), PASSPHRASE, |_, _| {})
            .await
            .unwrap();
        let failed: Vec<i64> = results.iter().filter(|(_, r)| r.is_err()).map(|(id, _)| *id).collect();
        assert_eq!(failed, [ids[150]], "{label}: only the returned letter fails");
        let results = d
            .flow
            .decide_many(&kadis, &batch, &request(Decision::TandaTangan, 1), PASSPHRASE, |_, _| {})
            .await
            .unwrap();
        let signed = results
            .iter()
            .filter(|(_, r)| matches!(r, Ok(l) if l.state == state::DITANDATANGANI))
            .count();
        assert_eq!(signed, 299, "{label}");
        let (id, failure) = results.iter().find(|(_, r)| r.is_err()).unwrap();
        assert_eq!(*id, ids[150]);
        assert!(failure.as_ref().unwrap_err().to_string().contains("konsep"), "{failure:?}");
        let returned = workflow::get(&d.flow.db, d.department_id, ids[150]).await.unwrap();
        assert_eq!((returned.state.as_str(), returned.round), (state::KONSEP, 2));
        for id in [ids[0], ids[299]] {
            let checks = workflow::verify_chain(&d.flow.db, id).await.unwrap();
            assert_eq!(checks.len(), 3);
            assert!(checks.iter().all(|c| c.problems.is_empty()), "{checks:?}");
        }

        // A wrong passphrase stops the whole batch before anything is done.
        let more = drafted_and_typed(&d, "Satu lagi").await;
        let r = d
            .flow
            .decide_many(
                &kabid,
                &[(more.id, 1)],
                &request(Decision::Paraf, 1),
                "salah sama sekali",
                |_, _| {},
            )
            .await;
        assert!(matches!(r, Err(Error::Key(keys::Error::WrongPassphrase))));
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
        let created = konseptor
            .json("POST", "/api/v1/letters", json!({ "template": template, "data": example }))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{template}: {}", created.body);
        let id = created.json()["letter"]["id"].as_i64().unwrap();
        let mut version = created.json()["letter"]["version"].as_i64().unwrap();
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
    let wrong = kabid
        .post_form(
            "/surat/massal",
            &[
                ("csrf", &csrf),
                ("surat", &a),
                ("surat", &b),
                ("keputusan", "paraf"),
                ("frasa_sandi", "salah sekali ya"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("Frasa sandi salah."));
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
        let created = konseptor
            .json("POST", "/api/v1/letters", json!({ "template": template, "data": example }))
            .await
            .json();
        let id = created["letter"]["id"].as_i64().unwrap();
        let mut version = created["letter"]["version"].as_i64().unwrap();
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
        let root = naskah::signing::authority::current(&state.db, 1).await.unwrap().unwrap();
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
