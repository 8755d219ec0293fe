//! Keys in the database (issue 20, point 1): an older store's key files move in with
//! `naskah keys migrate`, after which a node with an empty key folder signs; the master
//! key seals the service's own secrets, a node given another one refuses to start, and
//! the master key can be rotated.

use naskah::{
    audit::{self, Actor},
    keys::{self, KeyStore, MasterKey},
};

use crate::{
    cli::{naskah, run, run_with_stdin},
    support::{self, DEMO_PASSPHRASE, DEMO_PASSWORD},
};

const OTHER_MASTER: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const ROTATED_MASTER: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// Writes the key store as the older service kept it on disk (`dinas-N/…`) from what
/// the database holds, then empties the database's store: an older deployment.
async fn as_an_older_deployment(db: &naskah::db::Db, dir: &std::path::Path) -> usize {
    let rows: Vec<(String, String)> = sqlx::query_as::<sqlx::Any, (String, String)>("SELECT name, envelope FROM key_secrets")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let folder = dir.join("dinas-1");
    std::fs::create_dir_all(&folder).unwrap();
    let master = MasterKey::parse(support::TEST_MASTER_KEY).unwrap();
    for (name, envelope) in &rows {
        let (kind, id) = name.split_once(':').unwrap();
        match kind {
            "official" => {
                let pretty = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(envelope).unwrap()).unwrap();
                std::fs::write(folder.join(format!("{id}.json")), pretty).unwrap()
            }
            "department" | "authority" => {
                let sealed = master.open(name, envelope).unwrap();
                assert_eq!(sealed.len(), 32);
                let file = if kind == "department" {
                    format!("dinas-{id}.kunci")
                } else {
                    format!("ca-{}.kunci", &id[..16])
                };
                std::fs::write(folder.join(file), hex::encode(&sealed[..])).unwrap()
            }
            other => panic!("unexpected secret {other}"),
        }
    }
    std::fs::write(folder.join("bsre-klien.rahasia"), "sandi-klien-lama").unwrap();
    std::fs::write(folder.join("catatan.txt"), "bukan kunci").unwrap();
    sqlx::query("DELETE FROM key_secrets").execute(&db.pool).await.unwrap();
    rows.len() + 1
}

story! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_older_key_folder_moves_into_the_database_and_signs_from_there(test_db: support::TestDb) {
        let label = test_db.label;
        let db = &test_db.db;
        naskah::demo::seed(db, Some(DEMO_PASSWORD)).await.unwrap();
        let first = support::test_store(db);
        naskah::demo::seed_keys(db, &first, Some(DEMO_PASSPHRASE)).await.unwrap();
        let department = naskah::departments::list(db).await.unwrap().remove(0);
        let (qr_before, _) = keys::department::ensure(db, &first, &Actor::System("uji"), department.id).await.unwrap();

        let work = tempfile::tempdir().unwrap();
        let legacy = work.path().join("kunci-lama");
        let files = as_an_older_deployment(db, &legacy).await;
        assert_eq!(files, 6, "{label}: three officials, the QR-token key, the CA key, the BSrE password");

        // A node will not start over key files it cannot use.
        let serve = |keys_dir: &std::path::Path, master: &str| {
            let mut cmd = naskah(work.path());
            cmd.arg("serve")
                .env("NASKAH_DATABASE_URL", &test_db.url)
                .env("NASKAH_KEYS_DIR", keys_dir)
                .env("NASKAH_MASTER_KEY", master)
                .env("NASKAH_LISTEN", "127.0.0.1:0");
            cmd
        };
        let (ok, _, err) = run(&mut serve(&legacy, OTHER_MASTER));
        assert!(!ok && err.contains("naskah keys migrate"), "{label}: {err}");

        let migrate = |master: &str| {
            let mut cmd = naskah(work.path());
            cmd.args(["keys", "migrate"])
                .env("NASKAH_DATABASE_URL", &test_db.url)
                .env("NASKAH_KEYS_DIR", &legacy)
                .env("NASKAH_MASTER_KEY", master);
            cmd
        };
        let (ok, out, err) = run(&mut migrate(OTHER_MASTER));
        assert!(ok, "{label}: {err}");
        assert!(out.contains("6 rahasia dipindahkan ke basis data, 0 sudah ada, 1 berkas dibiarkan"), "{label}: {out}");
        assert!(out.contains("catatan.txt (bukan berkas kunci naskah)"), "{label}: {out}");
        let left: Vec<_> = std::fs::read_dir(legacy.join("dinas-1")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("catatan.txt")], "{label}: moved files are removed");
        // Again: nothing more to move.
        let (ok, out, _) = run(&mut migrate(OTHER_MASTER));
        assert!(ok && out.contains("0 rahasia dipindahkan"), "{label}: {out}");

        // Under the migrating node's master key, everything signs from the database.
        let moved = KeyStore::new(db.clone(), MasterKey::parse(OTHER_MASTER).unwrap());
        assert_eq!(moved.check_master().await.unwrap(), 3, "{label}: QR key, CA key, BSrE password");
        let kadis = naskah::accounts::find_by_username(db, "kadis").await.unwrap().unwrap();
        let unlocked = keys::unlock(db, &moved, kadis.official_id.unwrap(), DEMO_PASSPHRASE).await.unwrap();
        assert!(matches!(
            keys::unlock(db, &moved, kadis.official_id.unwrap(), "frasa sandi keliru").await,
            Err(keys::Error::WrongPassphrase)
        ));
        let (qr_after, _) = keys::department::ensure(db, &moved, &Actor::System("uji"), department.id).await.unwrap();
        assert_eq!(qr_after.key_id, qr_before.key_id, "{label}: the same QR-token key, not a new one");
        let root = keys::authority::current(db, department.id).await.unwrap().unwrap();
        keys::revocation::issue(db, &moved, &root).await.unwrap();
        let (_, certificate) = keys::authority::signer(
            db,
            &moved,
            "https://naskah.example.go.id",
            &root,
            &department,
            &naskah::departments::get_official(db, department.id, kadis.official_id.unwrap()).await.unwrap(),
            &unlocked,
            naskah::signing::Algorithm::P256,
        )
        .await
        .unwrap();
        assert!(!certificate.is_empty());
        assert!(naskah::workflow::remote::settings::has_password(&moved, department.id).await.unwrap());

        // A node given another master key stops at start-up and says why.
        let empty = work.path().join("kosong");
        let (ok, _, err) = run(&mut serve(&empty, support::TEST_MASTER_KEY));
        assert!(!ok && err.contains("kunci induk yang diberikan"), "{label}: {err}");

        // Rotation: every secret re-sealed under the new key, the old one opens nothing.
        let mut rotate = naskah(work.path());
        rotate
            .args(["keys", "master-key", "--rotate"])
            .env("NASKAH_DATABASE_URL", &test_db.url)
            .env("NASKAH_KEYS_DIR", &empty)
            .env("NASKAH_MASTER_KEY", OTHER_MASTER);
        let (ok, out, err) = run_with_stdin(&mut rotate, &format!("{ROTATED_MASTER}\n"));
        assert!(ok && out.contains("3 rahasia disegel ulang"), "{label}: {out} {err}");
        assert!(matches!(moved.check_master().await, Err(keys::Error::MasterMismatch { .. })));
        let rotated = KeyStore::new(db.clone(), MasterKey::parse(ROTATED_MASTER).unwrap());
        let (qr_rotated, _) = keys::department::ensure(db, &rotated, &Actor::System("uji"), department.id).await.unwrap();
        assert_eq!(qr_rotated.key_id, qr_before.key_id);
        assert!(std::fs::read_dir(&empty).map(|d| d.count()).unwrap_or(0) == 0, "{label}: a configured node writes no key file");

        for chain in audit::verify::verify_all(db).await.unwrap() {
            assert!(chain.holds(), "{label}: audit chain {}: {:?}", chain.chain, chain.problems);
        }
    }
}

#[test]
fn a_new_master_key_is_printed_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(naskah(dir.path()).args(["keys", "master-key"]));
    assert!(ok, "{err}");
    let line = out.trim();
    assert_eq!(line.len(), 64, "{out}");
    assert!(MasterKey::parse(line).is_ok());
    assert!(!dir.path().join("data").exists(), "no database was made");
}
