//! Authorization: each role reaches only what it may; every state-changing form needs
//! the session's CSRF token; departments cannot see each other's data.

use axum::http::StatusCode;
use naskah::{audit::Actor, departments};
use serde_json::json;

use crate::support::{self, Client};

const ACCOUNTS: [&str; 6] = ["kadis", "sekdis", "kabid", "konseptor", "staf", "agendaris"];
const ADMIN_PAGES: [&str; 9] = [
    "/delegasi",
    "/pengaturan/penomoran",
    "/pengaturan/tanda-tangan",
    "/pengaturan/rantai/surat",
    "/pengaturan",
    "/pengaturan/unit",
    "/pengaturan/jabatan",
    "/pengaturan/pejabat",
    "/pengguna",
];

story! {
    #[tokio::test]
    async fn pages_by_role(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        for username in ACCOUNTS {
            let mut client = support::logged_in(&state, username).await;
            let is_admin = username == "agendaris";
            for path in [
                "/",
                "/akun",
                "/surat",
                "/kunci",
                "/surat/massal",
                "/laporan/waktu",
                "/agenda",
                "/agenda.csv",
                "/agenda.xlsx",
                "/penerima",
                "/kumpulan",
                "/distribusi",
            ] {
                assert_eq!(client.get(path).await.status, StatusCode::OK, "{username} {path}");
            }
            for path in ADMIN_PAGES {
                let expected = if is_admin { StatusCode::OK } else { StatusCode::FORBIDDEN };
                let reply = client.get(path).await;
                assert_eq!(reply.status, expected, "{username} {path}");
                if !is_admin {
                    assert!(reply.body.contains("Anda tidak berwenang"), "{username} {path}");
                }
            }
            // The navigation offers only what the role may open.
            let home = client.get("/").await.body;
            assert_eq!(home.contains("href=\"/pengguna\""), is_admin, "{username}");
            // A forbidden change is refused even with a valid CSRF token.
            let csrf = client.csrf_of("/akun").await;
            let reply = client
                .post_form(
                    "/pengaturan/unit",
                    &[("csrf", &csrf), ("code", "X"), ("name", "Unit X"), ("kind", "seksi")],
                )
                .await;
            let expected = if is_admin { StatusCode::SEE_OTHER } else { StatusCode::FORBIDDEN };
            assert_eq!(reply.status, expected, "{username}");
        }
    }
}

story! {
    #[tokio::test]
    async fn anonymous_visitors_are_sent_to_login_and_api_answers_401(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut anon = Client::new(&state);
        for path in [
            "/",
            "/akun",
            "/surat",
            "/surat/1",
            "/surat/1/pdf",
            "/surat/massal",
            "/kunci",
            "/laporan/waktu",
            "/agenda",
            "/agenda.csv",
            "/penerima",
            "/kumpulan",
            "/kumpulan/baru",
            "/kumpulan/1",
            "/distribusi",
        ]
        .into_iter()
        .chain(ADMIN_PAGES)
        {
            let reply = anon.get(path).await;
            assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, "/masuk"), "{path}");
        }
        for path in [
            "/api/v1/me",
            "/api/v1/department",
            "/api/v1/units",
            "/api/v1/users",
            "/api/v1/tokens",
            "/api/v1/inbox",
            "/api/v1/letters",
            "/api/v1/letters/1",
            "/api/v1/letters/1/statements",
        ] {
            let reply = anon.get(path).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(reply.json()["error"]["code"], "unauthenticated");
        }
        let mut forged = Client::new(&state);
        forged.bearer = Some("nsk_palsu".into());
        assert_eq!(forged.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
        // Public by design: login page, health, the OpenAPI document.
        for path in ["/masuk", "/healthz", "/readyz", "/api/v1/openapi.json", "/static/naskah.css"] {
            assert_eq!(anon.get(path).await.status, StatusCode::OK, "{path}");
        }
    }
}

story! {
    #[tokio::test]
    async fn api_by_role(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        for username in ACCOUNTS {
            let mut api = support::api_client(&state, username).await;
            let is_admin = username == "agendaris";
            let admin_only = |s: StatusCode| if is_admin { s } else { StatusCode::FORBIDDEN };
            assert_eq!(api.get("/api/v1/me").await.status, StatusCode::OK);
            assert_eq!(api.get("/api/v1/department").await.status, StatusCode::OK);
            assert_eq!(api.get("/api/v1/officials").await.status, StatusCode::OK);
            assert_eq!(api.get("/api/v1/users").await.status, admin_only(StatusCode::OK), "{username}");
            let unit = api
                .json(
                    "POST",
                    "/api/v1/units",
                    json!({ "code": format!("U-{username}"), "name": format!("Unit {username}"), "kind": "seksi" }),
                )
                .await;
            assert_eq!(unit.status, admin_only(StatusCode::CREATED), "{username}: {}", unit.body);
            let dept = api
                .json(
                    "PUT",
                    "/api/v1/department",
                    serde_json::to_value(naskah::demo::letterhead()).unwrap(),
                )
                .await;
            assert_eq!(dept.status, admin_only(StatusCode::OK), "{username}");
            assert_eq!(
                api.send("POST", "/api/v1/users/1/password", None, vec![], &[]).await.status,
                admin_only(StatusCode::OK)
            );
        }
    }
}

story! {
    #[tokio::test]
    async fn forms_without_valid_csrf_are_refused(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut admin = support::logged_in(&state, "agendaris").await;
        let fields = [("code", "X1"), ("name", "Unit X1"), ("kind", "seksi")];
        let missing = admin.post_form("/pengaturan/unit", &fields).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN);
        assert!(missing.body.contains("kedaluwarsa"), "{}", missing.body);
        let mut wrong: Vec<(&str, &str)> = fields.to_vec();
        wrong.push(("csrf", "bukan-token-ini"));
        assert_eq!(admin.post_form("/pengaturan/unit", &wrong).await.status, StatusCode::FORBIDDEN);
        // Another user's token is not this session's token.
        let other_csrf = support::logged_in(&state, "kadis").await.csrf_of("/akun").await;
        let mut foreign: Vec<(&str, &str)> = fields.to_vec();
        foreign.push(("csrf", &other_csrf));
        assert_eq!(admin.post_form("/pengaturan/unit", &foreign).await.status, StatusCode::FORBIDDEN);
        let units_before = departments::list_units(&state.db, 1).await.unwrap().len();
        assert_eq!(
            departments::list_units(&state.db, 1).await.unwrap().len(),
            units_before,
            "nothing changed"
        );
        // The logo upload checks the token inside the multipart body.
        let boundary = "batas";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nsalah\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"l.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>\r\n--{boundary}--\r\n"
        );
        let reply = admin
            .send(
                "POST",
                "/pengaturan/logo",
                Some(&format!("multipart/form-data; boundary={boundary}")),
                body.into_bytes(),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        // The login form has its own token.
        let mut anon = Client::new(&state);
        let reply = anon
            .post_form("/masuk", &[("username", "kadis"), ("password", support::DEMO_PASSWORD)])
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(!anon.cookies.contains_key("naskah_sesi"));
        // The API with a browser session needs the header token for changes.
        let no_header = admin
            .json(
                "POST",
                "/api/v1/units",
                json!({ "code": "API", "name": "Lewat API", "kind": "seksi" }),
            )
            .await;
        assert_eq!(no_header.status, StatusCode::FORBIDDEN);
        let csrf = admin.csrf_of("/akun").await;
        let with_header = admin
            .send(
                "POST",
                "/api/v1/units",
                Some("application/json"),
                json!({ "code": "API", "name": "Lewat API", "kind": "seksi" })
                    .to_string()
                    .into_bytes(),
                &[("x-csrf-token", &csrf)],
            )
            .await;
        assert_eq!(with_header.status, StatusCode::CREATED, "{}", with_header.body);
    }
}

story! {
    #[tokio::test]
    async fn departments_are_isolated(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let actor = Actor::System("test");
        let other = departments::create(&state.db, &actor, "dinsos", naskah::demo::letterhead())
            .await
            .unwrap();
        let foreign_unit = departments::create_unit(
            &state.db,
            &actor,
            other.id,
            departments::UnitInput {
                code: "S".into(),
                name: "Seksi Lain".into(),
                kind: "seksi".into(),
                parent_id: None,
            },
        )
        .await
        .unwrap();
        let mut admin = support::logged_in(&state, "agendaris").await;
        assert_eq!(
            admin.get(&format!("/pengaturan/unit/{}", foreign_unit.id)).await.status,
            StatusCode::NOT_FOUND
        );
        let csrf = admin.csrf_of("/akun").await;
        assert_eq!(
            admin
                .post_form(&format!("/pengaturan/unit/{}/hapus", foreign_unit.id), &[("csrf", &csrf)])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let mut api = support::api_client(&state, "agendaris").await;
        assert_eq!(
            api.get(&format!("/api/v1/units/{}", foreign_unit.id)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            api.send("DELETE", &format!("/api/v1/units/{}", foreign_unit.id), None, vec![], &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert!(departments::get_unit(&state.db, other.id, foreign_unit.id).await.is_ok());
    }
}

story! {
    /// Who holds a drafting step is one rule (`workflow::may_hold_drafting_step`): a user the
    /// typing step was assigned to, without the typist role, may edit the letter in the
    /// domain, so the letter page shows them the form and their inbox lists the letter; a
    /// user who holds nothing sees neither. On both engines.
    #[tokio::test]
    async fn the_page_and_the_inbox_follow_the_domain_on_who_may_edit_a_draft(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = crate::workflow::Demo::over(&state);
        let konseptor = d.user("konseptor").await;
        let kabid = d.user("kabid").await;
        let data = json!({ "hal": "Undangan rapat", "batas_waktu": support::days_from_today(14) });
        let letter = d.flow.create(&konseptor, "surat-permintaan-data", &data, "").await.unwrap();
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        // The typing stage assigned to the Kepala Bidang, who is no typist.
        assert!(!kabid.has(naskah::accounts::Role::Typist));
        sqlx::query("UPDATE letter_steps SET assignee_user_id = $1 WHERE letter_id = $2 AND kind = 'ketik'")
            .bind(kabid.id)
            .bind(letter.id)
            .execute(&state.db.pool)
            .await
            .unwrap();
        let today = chrono::Utc::now().date_naive();
        let tasks = naskah::workflow::inbox(&d.flow, &kabid, today).await.unwrap();
        assert!(tasks.iter().any(|t| t.letter.id == letter.id), "{label}: in the assignee's inbox");
        let mut page = support::logged_in(&state, "kabid").await;
        let shown = page.get(&format!("/surat/{}", letter.id)).await;
        assert!(shown.body.contains("Ubah dan teruskan konsep"), "{label}: the assignee is shown the form");
        let mut changed = data.clone();
        changed["hal"] = json!("Undangan rapat koordinasi");
        let revised = d.flow.revise(&kabid, letter.id, letter.version, &changed, "diketik").await;
        assert!(revised.is_ok(), "{label}: the domain lets the assignee edit: {revised:?}");

        // The Sekretaris holds no step of it: no form, not in the inbox, refused below.
        let sekdis = d.user("sekdis").await;
        let tasks = naskah::workflow::inbox(&d.flow, &sekdis, today).await.unwrap();
        assert!(!tasks.iter().any(|t| t.letter.id == letter.id), "{label}");
        let mut other = support::logged_in(&state, "sekdis").await;
        assert!(
            !other.get(&format!("/surat/{}", letter.id)).await.body.contains("Ubah dan teruskan konsep"),
            "{label}"
        );
        let current = naskah::workflow::get(&state.db, 1, letter.id).await.unwrap();
        assert!(
            d.flow.revise(&sekdis, letter.id, current.version, &data, "").await.is_err(),
            "{label}"
        );
    }
}

story! {
    /// Staff pages, exports, the API and errors are never cached (a shared computer, a proxy);
    /// only what its handler marks as public is: the stylesheet, the icon, the published keys.
    #[tokio::test]
    async fn staff_content_is_not_stored_and_public_assets_may_be(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut staff = support::logged_in(&state, "agendaris").await;
        let mut drafter = support::logged_in(&state, "konseptor").await;
        let mut checked = 0;
        for (drafts, path) in [
            (false, "/"),
            (false, "/agenda"),
            (false, "/agenda.csv"),
            (false, "/agenda.xlsx"),
            (false, "/penerima"),
            (false, "/penerima.csv"),
            (false, "/surat-masuk"),
            (false, "/pengguna"),
            (false, "/surat/999999"),
            (true, "/calon"),
            (true, "/calon.csv"),
            (true, "/calon/impor"),
            (true, "/calon/bpjs"),
            (true, "/calon/bpjs.xlsx"),
            (true, "/masuk"),
        ] {
            let client = if drafts { &mut drafter } else { &mut staff };
            let reply = client.get(path).await;
            let caching = reply.headers.get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(caching.contains("no-store"), "{path} ({}): cache-control {caching:?}", reply.status);
            checked += 1;
        }
        let mut api = support::api_client(&state, "kabid").await;
        for path in ["/api/v1/me", "/api/v1/letters", "/api/v1/users/1"] {
            let reply = api.get(path).await;
            assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store", "{path}");
        }
        let mut anyone = Client::new(&state);
        for path in ["/static/naskah.css", "/static/favicon.svg"] {
            let reply = anyone.get(path).await;
            assert!(
                reply.headers.get("cache-control").unwrap().to_str().unwrap().starts_with("public"),
                "{path}"
            );
        }
        assert_eq!(checked, 15);
    }
}

/// Every route the web crate declares (`.route("…"` in its source, the JSON API apart:
/// it checks bearer tokens), with each `{parameter}` filled: the table a new route joins
/// by being written.
fn declared_page_routes() -> Vec<String> {
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                walk(&path, found);
            } else if name.ends_with(".rs") && !name.starts_with("api") {
                let source = std::fs::read_to_string(&path).unwrap();
                for after in source.split(".route(").skip(1) {
                    let after = after.trim_start();
                    if let Some(rest) = after.strip_prefix('"') {
                        found.push(rest.split('"').next().unwrap().to_string());
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/naskah-web/src"),
        &mut found,
    );
    found
        .iter()
        .map(|route| {
            route
                .split('/')
                .map(|segment| if segment.starts_with('{') { "1" } else { segment })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

fn is_csrf_refusal(reply: &support::Reply) -> bool {
    reply.status == StatusCode::FORBIDDEN && reply.body.contains("kedaluwarsa") && !reply.body.contains("tidak berwenang")
}

story! {
    /// One layer refuses every state-changing request of a session that lacks its token,
    /// on every declared route and method, before any role or record is looked at; with
    /// the token, a role that may not is refused as such, never as a stale form.
    #[tokio::test]
    async fn every_state_changing_route_needs_the_csrf_token(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let mut konseptor = support::logged_in(&state, "konseptor").await;
        let routes = declared_page_routes();
        assert!(routes.len() >= 90, "the source walk found the routes: {routes:?}");
        let mut refused = Vec::new();
        for path in &routes {
            for method in ["POST", "PUT", "PATCH", "DELETE"] {
                let reply = konseptor
                    .send(method, path, Some("application/x-www-form-urlencoded"), b"name=x".to_vec(), &[])
                    .await;
                if reply.status == StatusCode::METHOD_NOT_ALLOWED {
                    continue;
                }
                let sessionless = matches!(path.as_str(), "/masuk" | "/v/1/periksa" | "/tanda-terima/1");
                if sessionless {
                    // Left to themselves by the layer (the login has its own token).
                    continue;
                }
                assert!(
                    is_csrf_refusal(&reply),
                    "{method} {path} without a token: {} {}",
                    reply.status,
                    &reply.body[..reply.body.len().min(300)]
                );
                refused.push(format!("{method} {path}"));
            }
        }
        // The routes the hand-written list used to miss are among them.
        for expected in ["POST /calon/impor", "POST /calon/sk", "POST /calon/bpjs/jawaban", "POST /surat-masuk", "POST /akun/token/1/cabut", "POST /penerima/1", "POST /keluar"] {
            assert!(refused.iter().any(|r| r == expected), "{expected} not walked: {refused:?}");
        }
        assert!(refused.len() >= 80, "{}: {refused:?}", refused.len());

        // With the token, the role decides: an administrator's form is a role refusal.
        let csrf = konseptor.csrf_of("/akun").await;
        let role = konseptor
            .post_form("/pengaturan/unit", &[("csrf", &csrf), ("code", "X"), ("name", "Unit X"), ("kind", "seksi")])
            .await;
        assert_eq!(role.status, StatusCode::FORBIDDEN);
        assert!(role.body.contains("tidak berwenang") && !is_csrf_refusal(&role), "{}", role.body);
        // The same in a multipart body, the token read by the layer from its part.
        let boundary = "batas";
        let multipart = |token: &str| {
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"l.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n--{boundary}--\r\n"
            )
            .into_bytes()
        };
        let kind = format!("multipart/form-data; boundary={boundary}");
        let stale = konseptor.send("POST", "/pengaturan/logo", Some(&kind), multipart("salah"), &[]).await;
        assert!(is_csrf_refusal(&stale), "{}", stale.body);
        let role = konseptor.send("POST", "/pengaturan/logo", Some(&kind), multipart(&csrf), &[]).await;
        assert_eq!(role.status, StatusCode::FORBIDDEN);
        assert!(!is_csrf_refusal(&role), "{}", role.body);
        // The header serves scripts as well as the field serves forms.
        let header = konseptor
            .send("POST", "/pengaturan/unit", Some("application/x-www-form-urlencoded"), b"code=Y".to_vec(), &[("x-csrf-token", &csrf)])
            .await;
        assert!(!is_csrf_refusal(&header), "{}", header.body);
    }
}
