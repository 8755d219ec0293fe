//! Storage tests: the same story against SQLite always and PostgreSQL when
//! `NASKAH_TEST_POSTGRES_URL` is set (CI sets it and fails without it).

use std::sync::Arc;

use naskah::{
    accounts::{self, LoginError, Role, UserInput},
    audit::{self, Actor},
    config::{SessionConfig, ThrottleConfig},
    db::{Db, DbError},
    departments::{self, Error, OfficialInput, PositionInput, UnitInput},
    regions,
};

use crate::support::{self, DEMO_PASSWORD};

fn actor() -> Actor {
    Actor::System("test")
}

story! {
    #[tokio::test]
    async fn migrations_are_current_and_refuse_a_newer_schema(t: support::TestDb) {
        let state = t.db.schema_state().await.unwrap();
        assert!(state.is_current(), "{}: {state:?}", t.label);
        assert!(t.db.migrate().await.unwrap().is_empty(), "{}: second run applies nothing", t.label);
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (999, 'future', 'x', 0)")
            .execute(&t.db.pool)
            .await
            .unwrap();
        let err = Db::open(&t.url, 1).await.unwrap_err();
        assert!(matches!(err, DbError::SchemaTooNew { database: 999, .. }), "{}: {err}", t.label);
        assert!(err.to_string().contains("lebih baru"), "{err}");
    }
}

/// Service processes starting together against one PostgreSQL: one migrates, the
/// others wait for it and find the schema current.
#[tokio::test]
async fn concurrent_start_ups_migrate_once() {
    let Some((url, _guard)) = support::postgres_empty().await else {
        return;
    };
    let opens = (0..4).map(|_| {
        let url = url.clone();
        async move { Db::open(&url, 2).await }
    });
    for result in futures_join_all(opens).await {
        assert!(result.unwrap().schema_state().await.unwrap().is_current());
    }
}

async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let err = Db::connect("postgres://naskah@127.0.0.1:1/naskah", 1).await.unwrap_err();
    assert!(matches!(err, DbError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("tidak dapat dihubungi"), "{err}");
    let err = Db::connect("mysql://x@y/z", 1).await.unwrap_err();
    assert!(matches!(err, DbError::UnsupportedUrl));
}

story! {
    #[tokio::test]
    async fn department_organisation_story(t: support::TestDb) {
        let db = &t.db;
        let dept = departments::create(db, &actor(), "dinsos-ppu", naskah::demo::letterhead())
            .await
            .unwrap();
        assert_eq!(dept.tz().abbreviation(), "WITA");
        let dup = departments::create(db, &actor(), "dinsos-ppu", naskah::demo::letterhead())
            .await
            .unwrap_err();
        assert!(matches!(dup, Error::Conflict(_)), "{}: {dup:?}", t.label);

        let mut bad = naskah::demo::letterhead();
        bad.email = "bukan email".into();
        bad.timezone = "Europe/Berlin".into();
        bad.name = " ".into();
        let Error::Invalid(errors) = departments::update(db, &actor(), dept.id, bad).await.unwrap_err() else {
            panic!()
        };
        assert!(
            errors.get("email").is_some() && errors.get("timezone").is_some() && errors.get("name").is_some(),
            "{errors:?}"
        );

        let sek = departments::create_unit(
            db,
            &actor(),
            dept.id,
            UnitInput {
                code: "SEK".into(),
                name: "Sekretariat".into(),
                kind: "sekretariat".into(),
                parent_id: None,
            },
        )
        .await
        .unwrap();
        let prog = departments::create_unit(
            db,
            &actor(),
            dept.id,
            UnitInput {
                code: "PROG".into(),
                name: "Sub Bagian Program".into(),
                kind: "sub_bagian".into(),
                parent_id: Some(sek.id),
            },
        )
        .await
        .unwrap();
        assert_eq!(prog.parent_id, Some(sek.id));
        let again = departments::create_unit(
            db,
            &actor(),
            dept.id,
            UnitInput {
                code: "PROG".into(),
                name: "Lain".into(),
                kind: "bidang".into(),
                parent_id: None,
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(again, Error::Conflict(_)), "{}: {again:?}", t.label);

        let head = departments::create_position(
            db,
            &actor(),
            dept.id,
            PositionInput {
                title: "Kepala Dinas Sosial".into(),
                kind: "kepala_dinas".into(),
                unit_id: None,
            },
        )
        .await
        .unwrap();
        let official = OfficialInput {
            name: "Budi Santoso".into(),
            title_prefix: "Dr.".into(),
            title_suffix: "S.Sos., M.Si.".into(),
            nip: "19700512 199803 1 004".into(),
            rank: "Pembina Utama Muda".into(),
            grade: "IV/c".into(),
            position_id: Some(head.id),
        };
        let budi = departments::create_official(db, &actor(), dept.id, official.clone()).await.unwrap();
        assert_eq!(budi.nip, "197005121998031004");
        assert_eq!(budi.full_name(), "Dr. Budi Santoso, S.Sos., M.Si.");
        assert_eq!(budi.rank_line(), "Pembina Utama Muda (IV/c)");

        // The same NIP again is a conflict; a second holder of a single-holder post too.
        let dup_nip = departments::create_official(
            db,
            &actor(),
            dept.id,
            OfficialInput {
                position_id: None,
                ..official.clone()
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(dup_nip, Error::Conflict(ref m) if m.contains("NIP")),
            "{}: {dup_nip:?}",
            t.label
        );
        let second = OfficialInput {
            nip: "198001012005011002".into(),
            name: "Ani".into(),
            ..official.clone()
        };
        let taken = departments::create_official(db, &actor(), dept.id, second).await.unwrap_err();
        assert!(
            matches!(taken, Error::Conflict(ref m) if m.contains("sudah dijabat")),
            "{}: {taken:?}",
            t.label
        );
        let bad_nip = OfficialInput {
            nip: "197002301998031004".into(),
            position_id: None,
            ..official.clone()
        };
        let Error::Invalid(errors) = departments::create_official(db, &actor(), dept.id, bad_nip).await.unwrap_err() else {
            panic!()
        };
        assert!(errors.get("nip").unwrap().contains("Tanggal lahir"));

        // Another department cannot see or change this one's data.
        let other = departments::create(db, &actor(), "lain", naskah::demo::letterhead()).await.unwrap();
        assert!(matches!(
            departments::get_official(db, other.id, budi.id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            departments::delete_unit(db, &actor(), other.id, prog.id).await,
            Err(Error::NotFound)
        ));

        departments::delete_position(db, &actor(), dept.id, head.id).await.unwrap();
        assert_eq!(departments::get_official(db, dept.id, budi.id).await.unwrap().position_id, None);

        departments::set_logo(db, &actor(), dept.id, naskah::demo::DEMO_LOGO_SVG)
            .await
            .unwrap();
        let (bytes, mime) = departments::logo(db, dept.id).await.unwrap().unwrap();
        // An SVG is stored as usvg rewrote it.
        let redrawn = naskah::rendering::svg::clean_svg(naskah::demo::DEMO_LOGO_SVG).unwrap();
        assert_eq!((bytes, mime.as_str()), (redrawn, "image/svg+xml"));
        let refused = departments::set_logo(db, &actor(), dept.id, b"<svg onload=alert(1)></svg>")
            .await
            .unwrap_err();
        assert!(matches!(refused, Error::Invalid(_)));

        // department, two units, position, official, position removed, logo.
        assert_eq!(audit::verify_chain(db, Some(dept.id)).await.unwrap(), Ok(7), "{}", t.label);
    }
}

story! {
    #[tokio::test]
    async fn accounts_sessions_tokens_story(t: support::TestDb) {
        let db = &t.db;
        support::demo_state(&t).await;
        let dept = departments::get_by_slug(db, naskah::demo::DEMO_SLUG).await.unwrap();
        let users = accounts::list(db, dept.id).await.unwrap();
        assert_eq!(users.len(), 6);
        let kadis = users.iter().find(|u| u.username == "kadis").unwrap();
        assert_eq!(kadis.roles, vec![Role::Signer]);

        let input = UserInput {
            username: "Operator.Satu".into(),
            display_name: "Operator Satu".into(),
            roles: vec![Role::Typist],
            ..Default::default()
        };
        let op = accounts::create(db, &actor(), dept.id, input.clone(), "sandi-yang-panjang", true)
            .await
            .unwrap();
        assert_eq!(op.username, "operator.satu");
        assert!(op.must_change_password);
        let dup = accounts::create(db, &actor(), dept.id, input, "sandi-yang-panjang", true)
            .await
            .unwrap_err();
        assert!(matches!(dup, accounts::Error::Conflict(_)), "{}: {dup:?}", t.label);
        let short = UserInput {
            username: "dua".into(),
            display_name: "Dua".into(),
            ..Default::default()
        };
        assert!(matches!(
            accounts::create(db, &actor(), dept.id, short, "pendek", false).await,
            Err(accounts::Error::Invalid(_))
        ));

        // The last administrator cannot drop the role.
        let admin = users.iter().find(|u| u.username == "agendaris").unwrap();
        let demote = UserInput {
            username: admin.username.clone(),
            display_name: admin.display_name.clone(),
            roles: vec![Role::Agendaris],
            official_id: admin.official_id,
            ..Default::default()
        };
        assert!(matches!(
            accounts::update(db, &actor(), dept.id, admin.id, demote).await,
            Err(accounts::Error::Conflict(_))
        ));

        // Login, session lookup, idle expiry.
        let throttle = ThrottleConfig {
            per_account: 3,
            per_address: 100,
            window_minutes: 15,
            trust_forwarded_for: false,
        };
        let session_cfg = SessionConfig::default();
        let (token, session, user) = accounts::login(db, &throttle, &session_cfg, "KADIS", DEMO_PASSWORD, "10.0.0.1")
            .await
            .unwrap();
        assert_eq!(user.username, "kadis");
        let (found, _) = accounts::session_user(db, &token, &session_cfg).await.unwrap().unwrap();
        assert_eq!(found.id, user.id);
        assert!(accounts::session_user(db, "palsu", &session_cfg).await.unwrap().is_none());
        sqlx::query("UPDATE sessions SET last_seen_at = $1")
            .bind(session.last_seen_at - 31 * 60)
            .execute(&db.pool)
            .await
            .unwrap();
        assert!(
            accounts::session_user(db, &token, &session_cfg).await.unwrap().is_none(),
            "idle session must end"
        );

        // Throttling per account: after 3 failures even the right password waits.
        for _ in 0..3 {
            assert!(matches!(
                accounts::login(db, &throttle, &session_cfg, "kabid", "salah-salah-salah", "10.0.0.2").await,
                Err(LoginError::InvalidCredentials)
            ));
        }
        let locked = accounts::login(db, &throttle, &session_cfg, "kabid", DEMO_PASSWORD, "10.0.0.2")
            .await
            .unwrap_err();
        assert!(
            matches!(locked, LoginError::Throttled { minutes } if (1..=15).contains(&minutes)),
            "{locked:?}"
        );
        assert!(locked.to_string().contains("coba lagi dalam"));
        // ... and per address, across accounts.
        let per_address = ThrottleConfig {
            per_account: 100,
            per_address: 2,
            ..throttle.clone()
        };
        for name in ["staf", "sekdis"] {
            let _ = accounts::login(db, &per_address, &session_cfg, name, "salah-salah-salah", "10.9.9.9").await;
        }
        assert!(matches!(
            accounts::login(db, &per_address, &session_cfg, "konseptor", DEMO_PASSWORD, "10.9.9.9").await,
            Err(LoginError::Throttled { .. })
        ));
        assert!(
            accounts::login(db, &per_address, &session_cfg, "konseptor", DEMO_PASSWORD, "10.9.9.10")
                .await
                .is_ok()
        );

        // Tokens: stored hashed, revocable.
        let new = accounts::create_token(db, kadis, "integrasi").await.unwrap();
        assert!(new.secret.starts_with("nsk_"));
        let (stored,): (String,) = sqlx::query_as("SELECT token_hash FROM api_tokens WHERE id = $1")
            .bind(new.token.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_ne!(stored, new.secret);
        assert_eq!(accounts::token_user(db, &new.secret).await.unwrap().unwrap().id, kadis.id);
        accounts::revoke_token(db, kadis, kadis, new.token.id).await.unwrap();
        assert!(accounts::token_user(db, &new.secret).await.unwrap().is_none());

        // Password change needs the current password and ends other sessions.
        let (other_token, _, _) = accounts::login(db, &throttle, &session_cfg, "staf", DEMO_PASSWORD, "10.0.0.3")
            .await
            .unwrap();
        let staf = accounts::find_by_username(db, "staf").await.unwrap().unwrap();
        assert!(matches!(
            accounts::change_own_password(db, &staf, "salah", "kata-sandi-baru-1", None).await,
            Err(accounts::Error::WrongPassword)
        ));
        accounts::change_own_password(db, &staf, DEMO_PASSWORD, "kata-sandi-baru-1", None)
            .await
            .unwrap();
        assert!(accounts::session_user(db, &other_token, &session_cfg).await.unwrap().is_none());
        assert!(
            accounts::login(db, &throttle, &session_cfg, "staf", "kata-sandi-baru-1", "10.0.0.3")
                .await
                .is_ok()
        );

        assert!(audit::verify_chain(db, Some(dept.id)).await.unwrap().is_ok(), "{}", t.label);
    }
}

story! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn audit_chain_survives_concurrency_and_detects_tampering(t: support::TestDb) {
        let db = &t.db;
        let dept = departments::create(db, &actor(), "audit", naskah::demo::letterhead())
            .await
            .unwrap();
        let mut units = Vec::new();
        for i in 0..40 {
            let db = db.clone();
            units.push(async move {
                departments::create_unit(
                    &db,
                    &Actor::System("test"),
                    dept.id,
                    UnitInput {
                        code: format!("U{i}"),
                        name: format!("Unit {i}"),
                        kind: "seksi".into(),
                        parent_id: None,
                    },
                )
                .await
            });
        }
        for created in support::at_once(units).await {
            created.unwrap();
        }
        assert_eq!(audit::verify_chain(db, Some(dept.id)).await.unwrap(), Ok(41), "{}", t.label);
        sqlx::query("UPDATE audit_log SET details = '{}' WHERE chain = $1 AND seq = 7")
            .bind(format!("department:{}", dept.id))
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(audit::verify_chain(db, Some(dept.id)).await.unwrap(), Err(7), "{}", t.label);
    }
}

story! {
    #[tokio::test]
    async fn regions_import_is_idempotent(t: support::TestDb) {
        let parsed = regions::parse_csv(regions::DEMO_REGENCY_CSV).unwrap();
        assert_eq!(regions::import(&t.db, &parsed).await.unwrap(), 60);
        regions::import(&t.db, &parsed).await.unwrap();
        let under = regions::within_regency(&t.db, "64.09").await.unwrap();
        assert_eq!(under.iter().filter(|r| r.level == 3).count(), 4, "{}", t.label);
        assert_eq!(under.iter().filter(|r| r.level == 4).count(), 54, "{}", t.label);
        let penajam = regions::children(&t.db, "64.09.01").await.unwrap();
        assert!(penajam.iter().all(|r| r.parent_code.as_deref() == Some("64.09.01")));
        assert_eq!(
            regions::get(&t.db, "64.09").await.unwrap().unwrap().name,
            "Kabupaten Penajam Paser Utara"
        );
    }
}

story! {
    #[tokio::test]
    async fn api_tokens_end_with_a_password_change_a_reset_and_deactivation(t: support::TestDb) {
        let db = &t.db;
        support::demo_state(&t).await;
        let kabid = accounts::find_by_username(db, "kabid").await.unwrap().unwrap();
        let alive = |secret: String| async move { accounts::token_user(db, &secret).await.unwrap().is_some() };

        // The user changes their own password: the token taken before ends.
        let before = accounts::create_token(db, &kabid, "integrasi").await.unwrap().secret;
        assert!(alive(before.clone()).await);
        accounts::change_own_password(db, &kabid, DEMO_PASSWORD, "sandi-baru-yang-panjang", None)
            .await
            .unwrap();
        assert!(!alive(before).await, "{}: a password change", t.label);

        // An administrator resets it: the same.
        let before = accounts::create_token(db, &kabid, "integrasi").await.unwrap().secret;
        accounts::set_password(db, &actor(), &kabid, "sandi-atur-ulang-1", true, None)
            .await
            .unwrap();
        assert!(!alive(before).await, "{}: a reset", t.label);

        // Deactivation ends the tokens, and reactivation does not bring them back.
        let before = accounts::create_token(db, &kabid, "integrasi").await.unwrap().secret;
        let input = |active: bool| UserInput {
            username: kabid.username.clone(),
            display_name: kabid.display_name.clone(),
            email: kabid.email.clone(),
            roles: kabid.roles.clone(),
            official_id: kabid.official_id,
            active: Some(active),
        };
        accounts::update(db, &actor(), kabid.department_id, kabid.id, input(false)).await.unwrap();
        accounts::update(db, &actor(), kabid.department_id, kabid.id, input(true)).await.unwrap();
        assert!(!alive(before).await, "{}: deactivation", t.label);
        let listed = accounts::list_tokens(db, kabid.id).await.unwrap();
        assert_eq!(listed.len(), 3);
        assert!(listed.iter().all(|token| token.revoked_at.is_some()), "{}: {listed:?}", t.label);
        // A token made afterwards works.
        let after = accounts::create_token(db, &kabid, "baru").await.unwrap().secret;
        assert!(alive(after).await, "{}", t.label);
    }
}

story! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn forty_parallel_wrong_attempts_test_at_most_the_limit(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let db = t.db.clone();
        let throttle = ThrottleConfig {
            per_account: 5,
            per_address: 20,
            window_minutes: 15,
            trust_forwarded_for: false,
        };
        // Forty wrong passwords at once from one address: each attempt is counted before
        // Argon2 tests it, so no more than the limit are tested.
        let start = Arc::new(tokio::sync::Barrier::new(40));
        let mut logins = Vec::new();
        for _ in 0..40 {
            let (db, throttle, start) = (db.clone(), throttle.clone(), start.clone());
            logins.push(tokio::spawn(async move {
                start.wait().await;
                accounts::login(&db, &throttle, &SessionConfig::default(), "kadis", "salah-salah-salah", "10.6.6.6").await
            }));
        }
        let mut tested = 0;
        for login in logins {
            match login.await.unwrap() {
                Err(LoginError::InvalidCredentials) => tested += 1,
                Err(LoginError::Throttled { .. }) => {}
                other => panic!("{}: {other:?}", t.label),
            }
        }
        assert!((1..=5).contains(&tested), "{}: {tested} passwords tested", t.label);
        // The stranger locked kadis out of 10.6.6.6 only: from the office it works.
        assert!(
            accounts::login(&db, &throttle, &SessionConfig::default(), "kadis", DEMO_PASSWORD, "10.6.6.6").await.is_err(),
            "{}",
            t.label
        );
        accounts::login(&db, &throttle, &SessionConfig::default(), "kadis", DEMO_PASSWORD, "10.0.0.1")
            .await
            .unwrap_or_else(|e| panic!("{}: the owner is locked out: {e}", t.label));

        // Forty wrong signing passphrases at once: the same for the key.
        let kabid = accounts::find_by_username(&db, "kabid").await.unwrap().unwrap();
        let official = kabid.official_id.unwrap();
        let start = Arc::new(tokio::sync::Barrier::new(40));
        let mut unlocks = Vec::new();
        for _ in 0..40 {
            let (db, keys, start) = (db.clone(), state.keys.clone(), start.clone());
            unlocks.push(tokio::spawn(async move {
                start.wait().await;
                naskah::keys::unlock(&db, &keys, official, "frasa-yang-salah-sekali").await.map(|_| ())
            }));
        }
        let mut tested = 0;
        for unlock in unlocks {
            match unlock.await.unwrap() {
                Err(naskah::keys::Error::WrongPassphrase) => tested += 1,
                Err(naskah::keys::Error::Throttled { .. }) => {}
                other => panic!("{}: {other:?}", t.label),
            }
        }
        assert!(
            (1..=naskah::keys::PASSPHRASE_LIMIT).contains(&tested),
            "{}: {tested} passphrases tested",
            t.label
        );
    }
}
