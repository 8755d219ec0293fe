//! The public records' cache across nodes: two services over one database, each with a
//! cache of its own that serves without reading the letter while it hears every change
//! (PostgreSQL: LISTEN/NOTIFY; SQLite: the `public_changes` table read every 10 ms). A
//! revocation made through one shows on the other at once; on PostgreSQL a node goes on
//! hearing after its listener's connection is cut. Without the follower (the router
//! alone, as in `verification.rs`) every request checks the letter's row.

use std::time::{Duration, Instant};

use naskah::{db::Backend, verification, web::AppState};
use serde_json::json;

use crate::{
    support::{self, Client},
    verification::signed,
    workflow::Demo,
};

/// A second service (node) over the same database, with its own caches.
fn node(of: &AppState) -> AppState {
    AppState::new(of.db.clone(), support::test_config()).unwrap()
}

/// Waits until `done` holds, for at most `limit`; whether it did.
async fn within(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done().await
}

async fn status_on(client: &mut Client, verification_id: &str) -> String {
    client.get(&format!("/v/{verification_id}.json")).await.json()["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

story! {
    #[tokio::test]
    async fn a_revocation_on_one_node_shows_on_the_other(test_db: support::TestDb) {
        let first = support::demo_state(&test_db).await;
        let second = node(&first);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        for state in [&first, &second] {
            tokio::spawn(verification::follow_changes(state.db.clone(), state.public_records.clone(), stopped.clone()));
        }
        let postgres = test_db.db.backend == Backend::Postgres;
        for state in [&first, &second] {
            assert!(
                within(Duration::from_secs(10), async || state.public_records.hears_changes()).await,
                "each node hears changes"
            );
        }

        let d = Demo::over(&first);
        let kadis = d.user("kadis").await;
        let one = signed(&d, "surat-permintaan-data", json!({ "hal": "Dicabut lewat simpul pertama" })).await;
        let two = signed(&d, "surat-permintaan-data", json!({ "hal": "Dicabut setelah pendengar terputus" })).await;
        let (one_id, two_id) = (one.verification_id.clone().unwrap(), two.verification_id.clone().unwrap());
        let mut reader = Client::new(&second);
        // Seen on the second node: its record is now cached there.
        assert_eq!(status_on(&mut reader, &one_id).await, "SAH");
        assert_eq!(status_on(&mut reader, &two_id).await, "SAH");

        // Long-term validation data added to the official file change its hash (and
        // nothing else of the row): the page shows the new hash.
        let augmented = "a".repeat(64);
        sqlx::query("UPDATE letters SET final_sha256 = $1 WHERE id = $2")
            .bind(&augmented)
            .bind(one.id)
            .execute(&test_db.db.pool)
            .await
            .unwrap();
        assert!(
            within(Duration::from_millis(500), async || {
                reader.get(&format!("/v/{one_id}.json")).await.json()["sha256"] == augmented.as_str()
            })
            .await,
            "the second node shows the new hash"
        );

        d.flow.revoke(&kadis, one.id, "Dicabut lewat simpul pertama").await.unwrap();
        assert!(
            within(Duration::from_millis(500), async || status_on(&mut reader, &one_id).await == "DICABUT").await,
            "the second node shows the revocation"
        );
        assert_eq!(status_on(&mut reader, &two_id).await, "SAH", "another letter's record is untouched");

        if postgres {
            // The listener's connection cut: the node stops hearing, connects again and hears.
            let cut: Vec<(bool,)> =
                sqlx::query_as("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
                    .fetch_all(&test_db.db.pool)
                    .await
                    .unwrap();
            assert_eq!(cut.len(), 2, "one listener per node");
            assert!(
                within(Duration::from_secs(10), async || second.public_records.hears_changes()).await,
                "the second node hears again"
            );
            assert_eq!(status_on(&mut reader, &two_id).await, "SAH");
            // Heard again only once subscribed: a change now reaches it.
            assert!(
                within(Duration::from_secs(10), async || {
                    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
                        .fetch_one(&test_db.db.pool)
                        .await
                        .unwrap();
                    n == 2
                })
                .await
            );
        }
        d.flow.revoke(&kadis, two.id, "Dicabut setelah pendengar terputus").await.unwrap();
        assert!(
            within(Duration::from_secs(1), async || status_on(&mut reader, &two_id).await == "DICABUT").await,
            "the second node shows the second revocation"
        );
        let _ = stop.send(true);
    }
}
