//! Faults injected into the database in the middle of the work, as a full disk or a
//! broken connection would strike: a trigger that fails the N-th write. An import is
//! all or nothing, and a signature that fails after its number was taken leaves no gap
//! in the register. Both engines.

use naskah::{
    audit::Actor,
    beneficiaries::{
        candidates,
        import::{self, Upload},
    },
    departments,
    workflow::{self, Decision},
};

use crate::{
    support,
    workflow::{Demo, drafted_and_typed, request},
};

const P3KE: &str = include_str!("../data/candidates/p3ke.csv");

/// Makes every write to `table` fail once `condition` (SQL over the table) holds.
async fn fail_writes(test_db: &support::TestDb, table: &str, condition: &str) {
    let statements = if test_db.label == "postgres" {
        vec![
            format!(
                "CREATE FUNCTION injected_fault() RETURNS trigger AS $$ BEGIN \
                 IF {condition} THEN RAISE EXCEPTION 'gangguan uji'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            format!("CREATE TRIGGER injected_fault BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION injected_fault()"),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER injected_fault BEFORE INSERT ON {table} WHEN {condition} BEGIN SELECT RAISE(ABORT, 'gangguan uji'); END"
        )]
    };
    // The table and condition are the tests' own constants.
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&test_db.db.pool).await.unwrap();
    }
}

async fn heal(test_db: &support::TestDb, table: &str) {
    let sql = if test_db.label == "postgres" {
        format!("DROP TRIGGER injected_fault ON {table}")
    } else {
        "DROP TRIGGER injected_fault".to_string()
    };
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&test_db.db.pool).await.unwrap();
}

async fn count(test_db: &support::TestDb, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&test_db.db.pool)
        .await
        .unwrap()
}

story! {
    /// The disk fills after 700 of 1,432 people were written: nothing of the import is
    /// kept, it can be applied again once the fault is gone, and then it is whole.
    #[tokio::test]
    async fn an_import_failing_midway_leaves_nothing_and_can_be_applied_again(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let db = &state.db;
        let actor = Actor::System("uji");
        let department = departments::get(db, 1).await.unwrap();
        let upload = Upload {
            file_name: "p3ke.csv",
            content: naskah::beneficiaries::import::Content::Bytes(P3KE.as_bytes()),
            source: "",
            mapping: None,
        };
        let checked = import::check(db, &actor, &department, upload).await.unwrap();
        assert!(checked.rows_valid > 1000, "{label}");
        fail_writes(&test_db, "candidates", "(SELECT count(*) FROM candidates) >= 700").await;

        let failed = import::apply(db, &actor, &department, checked.id, &|_, _| {}).await;
        assert!(failed.is_err(), "{label}: the injected fault reaches the caller");
        for table in ["candidates", "candidate_sources", "candidate_events"] {
            assert_eq!(count(&test_db, &format!("SELECT count(*) FROM {table}")).await, 0, "{label}: {table} kept rows of a failed import");
        }
        assert_eq!(import::get(db, 1, checked.id).await.unwrap().status, "checked", "{label}: still to be applied");

        heal(&test_db, "candidates").await;
        let done = import::apply(db, &actor, &department, checked.id, &|_, _| {}).await.unwrap();
        assert_eq!((done.status.as_str(), done.rows_new), ("imported", checked.rows_valid), "{label}");
        let kept: i64 = candidates::counts(db, 1).await.unwrap().iter().map(|(_, n)| n).sum();
        assert_eq!(kept, checked.rows_valid, "{label}");
    }
}

story! {
    /// The register line, the last write of a signature, fails after the serial was
    /// taken, the PDF stamped and signed: the letter stays unsigned, and the next
    /// signature takes the same serial, so the register has no gap.
    #[tokio::test]
    async fn a_signature_failing_after_its_number_leaves_no_gap(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let (kabid, sekdis, kadis) = (d.user("kabid").await, d.user("sekdis").await, d.user("kadis").await);
        let mut waiting = Vec::new();
        for subject in ["Gagal di tengah", "Berikutnya"] {
            let letter = drafted_and_typed(&d, subject).await;
            for who in [&kabid, &sekdis] {
                d.flow.decide(who, letter.id, &request(Decision::Paraf, 1), support::DEMO_PASSPHRASE).await.unwrap();
            }
            waiting.push(letter.id);
        }
        fail_writes(&test_db, "register", "1 = 1").await;
        let sign = |id: i64| {
            let (flow, kadis) = (d.flow.clone(), kadis.clone());
            async move {
                flow.decide(&kadis, id, &request(Decision::TandaTangan, 1), support::DEMO_PASSPHRASE)
                    .await
            }
        };
        assert!(sign(waiting[0]).await.is_err(), "{label}: the injected fault reaches the signer");
        let failed = workflow::get(&state.db, 1, waiting[0]).await.unwrap();
        assert!(failed.number.is_none() && failed.final_sha256.is_none(), "{label}: {failed:?}");
        assert_eq!(count(&test_db, "SELECT count(*) FROM register").await, 0, "{label}");
        assert_eq!(
            count(&test_db, "SELECT COALESCE(MAX(last_serial), 0) FROM number_series").await,
            0,
            "{label}: the serial taken was given back"
        );
        let signatures = workflow::statements(&state.db, waiting[0]).await.unwrap();
        assert!(signatures.iter().all(|s| s.decision != "tanda_tangan"), "{label}: no signature statement kept");

        heal(&test_db, "register").await;
        let next = sign(waiting[1]).await.unwrap();
        let again = sign(waiting[0]).await.unwrap();
        let serials: Vec<i64> = sqlx::query_scalar("SELECT serial FROM register ORDER BY serial")
            .fetch_all(&state.db.pool)
            .await
            .unwrap();
        assert_eq!(serials, [1, 2], "{label}: no gap");
        assert_ne!(next.number, again.number, "{label}");
    }
}
