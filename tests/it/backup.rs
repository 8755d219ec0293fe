//! `naskah backup`: a consistent copy of the SQLite database taken while letters are
//! being signed restores to a verifiable state: the audit chains hold, every signed
//! letter in the copy has its statements, its number and its final PDF whose hash is
//! the one recorded, and the register has no gap. PostgreSQL refuses and names pg_dump.

use naskah::{
    audit,
    db::Db,
    workflow::{self, Decision, statement::sha256_hex},
};

use crate::{
    support::{self, DEMO_PASSPHRASE},
    workflow::{Demo, drafted_and_typed, request},
};

const LETTERS: usize = 10;

story! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backup_taken_during_signing_restores_to_a_verifiable_state(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let folder = tempfile::tempdir().unwrap();
        let copy = folder.path().join("cadangan.sqlite3");
        if state.db.backend == naskah::db::Backend::Postgres {
            let refused = state.db.backup_to(&copy).await.unwrap_err().to_string();
            assert!(refused.contains("pg_dump"), "{label}: {refused}");
            return;
        }
        let mut ready = Vec::new();
        for i in 0..LETTERS {
            let letter = drafted_and_typed(&d, &format!("Cadangan {i}")).await;
            let mut letter = letter;
            for username in ["kabid", "sekdis"] {
                letter = d
                    .flow
                    .decide(&d.user(username).await, letter.id, &request(Decision::Paraf, letter.revision), DEMO_PASSPHRASE)
                    .await
                    .unwrap();
            }
            ready.push(letter);
        }
        // The Kepala Dinas signs them one after another while the copy is taken.
        let (signed_tx, mut signed_rx) = tokio::sync::mpsc::unbounded_channel();
        let signer = {
            let flow = d.flow.clone();
            let kadis = d.user("kadis").await;
            let ready = ready.clone();
            tokio::spawn(async move {
                for letter in ready {
                    flow.decide(&kadis, letter.id, &request(Decision::TandaTangan, letter.revision), DEMO_PASSPHRASE)
                        .await
                        .unwrap();
                    let _ = signed_tx.send(letter.id);
                }
            })
        };
        for _ in 0..3 {
            signed_rx.recv().await.unwrap();
        }
        let bytes = state.db.backup_to(&copy).await.unwrap();
        signer.await.unwrap();
        assert!(bytes > 0, "{label}");
        assert!(state.db.backup_to(&copy).await.is_err(), "an existing file is never overwritten");

        // The copy, opened as a database of its own.
        let restored = Db::open(&format!("sqlite://{}", copy.display()), 2).await.unwrap();
        for chain in audit::verify::verify_all(&restored).await.unwrap() {
            assert!(chain.holds(), "{label}: audit chain {}: {:?}", chain.chain, chain.problems);
        }
        // The keys came with it: with the same master key the copy signs again (the
        // official's key under the passphrase, the QR-token and CA keys under the master).
        let keys = support::test_store(&restored);
        assert!(keys.check_master().await.unwrap() >= 2, "{label}");
        let kadis = naskah::accounts::find_by_username(&restored, "kadis").await.unwrap().unwrap();
        naskah::keys::unlock(&restored, &keys, kadis.official_id.unwrap(), support::DEMO_PASSPHRASE)
            .await
            .unwrap();
        let root = naskah::keys::authority::current(&restored, 1).await.unwrap().unwrap();
        naskah::keys::revocation::issue(&restored, &keys, &root).await.unwrap();
        let mut numbers = Vec::new();
        let mut signed = 0;
        for letter in &ready {
            let copied = workflow::get(&restored, 1, letter.id).await.unwrap();
            for check in workflow::verify_chain(&restored, letter.id).await.unwrap() {
                assert!(check.problems.is_empty(), "{label}: letter {}: {:?}", letter.id, check.problems);
            }
            match (&copied.number, &copied.final_sha256) {
                (Some(number), Some(sha)) => {
                    let pdf = workflow::final_pdf(&restored, letter.id).await.unwrap().expect("the final PDF");
                    assert_eq!(&sha256_hex(&pdf), sha, "{label}: the stored PDF is the one signed");
                    assert_eq!(copied.state, workflow::state::DITANDATANGANI);
                    numbers.push(number.clone());
                    signed += 1;
                }
                (None, None) => assert_ne!(copied.state, workflow::state::DITANDATANGANI, "{label}: half a signature"),
                other => panic!("{label}: letter {} copied half-signed: {other:?}", letter.id),
            }
        }
        assert!((3..=LETTERS).contains(&signed), "{label}: {signed} signed in the copy");
        // The register of the copy: one line per signed letter, serials without a gap.
        let serials: Vec<(i64,)> = sqlx::query_as("SELECT serial FROM register ORDER BY serial")
            .fetch_all(&restored.pool)
            .await
            .unwrap();
        let serials: Vec<i64> = serials.into_iter().map(|(s,)| s).collect();
        assert_eq!(serials.len(), signed, "{label}: {numbers:?}");
        assert!(serials.windows(2).all(|w| w[1] == w[0] + 1), "{label}: {serials:?}");
    }
}
