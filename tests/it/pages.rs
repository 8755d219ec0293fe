//! The web pages through the real router: login, forms that keep their input on
//! errors, escaping, uploads, operations endpoints.

use axum::http::StatusCode;
use naskah::departments;

use crate::support::{self, Client};

story! {
    #[tokio::test]
    async fn login_logout_and_messages_in_indonesian(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut client = Client::new(&state);
        let page = client.get("/masuk").await;
        assert!(page.body.contains("<html lang=\"id\">") && page.body.contains("Masuk ke naskah"));
        let cookie = page.headers.get("set-cookie").unwrap().to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"),
            "{cookie}"
        );

        let wrong = client.login("kadis", "bukan-sandinya").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("Nama pengguna atau kata sandi salah."));
        assert!(wrong.body.contains("value=\"kadis\""), "the user name is kept");

        let ok = client.login("kadis", support::DEMO_PASSWORD).await;
        assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/"));
        let session_cookie = ok
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("naskah_sesi="))
            .unwrap();
        assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
        let home = client.get("/").await;
        assert!(
            home.body.contains("<h1>Tugas saya</h1>") && home.body.contains("Tidak ada yang menunggu Anda"),
            "{}",
            home.body
        );
        assert!(home.body.contains("Drs. Bambang Sutrisno, M.Si."));

        let csrf = home.csrf();
        let out = client.post_form("/keluar", &[("csrf", &csrf)]).await;
        assert_eq!(out.location(), "/masuk");
        assert_eq!(client.get("/").await.location(), "/masuk");
    }
}

story! {
    #[tokio::test]
    async fn secure_cookies_when_configured(t: support::TestDb) {
        let mut state = support::demo_state(&t).await;
        let mut config = (*state.config).clone();
        config.session.secure_cookies = true;
        state.config = std::sync::Arc::new(config);
        let mut client = Client::new(&state);
        let reply = client.login("kadis", support::DEMO_PASSWORD).await;
        assert!(
            reply
                .headers
                .get_all("set-cookie")
                .iter()
                .all(|c| c.to_str().unwrap().contains("; Secure"))
        );
    }
}

story! {
    #[tokio::test]
    async fn repeated_failures_are_throttled_with_a_clear_message(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut client = Client::new(&state);
        for _ in 0..5 {
            assert_eq!(client.login("kabid", "salah-terus-salah").await.status, StatusCode::UNAUTHORIZED);
        }
        let locked = client.login("kabid", support::DEMO_PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.body.contains("Terlalu banyak percobaan masuk yang gagal"), "{}", locked.body);
        // Other accounts are unaffected.
        assert_eq!(client.login("kadis", support::DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER);
    }
}

story! {
    #[tokio::test]
    async fn settings_form_keeps_input_on_errors_and_escapes_everything(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut admin = support::logged_in(&state, "agendaris").await;
        let csrf = admin.csrf_of("/pengaturan").await;
        let bad = admin
            .post_form(
                "/pengaturan",
                &[
                    ("csrf", &csrf),
                    ("name", "Dinas <b>Baru</b>"),
                    ("regency_name", "Kabupaten Penajam Paser Utara"),
                    ("email", "salah@"),
                    ("postal_code", "761"),
                    ("timezone", "Asia/Makassar"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Alamat e-mail tidak valid"));
        assert!(bad.body.contains("Kode pos harus 5 angka."));
        assert!(bad.body.contains("aria-invalid=\"true\""));
        assert!(
            bad.body.contains("value=\"Dinas &#60;b&#62;Baru&#60;/b&#62;\"") || bad.body.contains("value=\"Dinas &lt;b&gt;Baru&lt;/b&gt;\""),
            "input kept and escaped"
        );
        assert!(!bad.body.contains("<b>Baru</b>"));
        assert_eq!(
            departments::get(&state.db, 1).await.unwrap().name,
            "Dinas Tenaga Kerja",
            "nothing saved"
        );

        let good = admin
            .post_form(
                "/pengaturan",
                &[
                    ("csrf", &csrf),
                    ("name", "Dinas Tenaga Kerja"),
                    ("regency_name", "Kabupaten Penajam Paser Utara"),
                    ("city", "Penajam"),
                    ("timezone", "Asia/Jakarta"),
                ],
            )
            .await;
        assert_eq!(good.location(), "/pengaturan?ok=tersimpan");
        let page = admin.get("/pengaturan?ok=tersimpan").await;
        assert!(page.body.contains("Perubahan tersimpan."));
        assert_eq!(departments::get(&state.db, 1).await.unwrap().timezone, "Asia/Jakarta");

        // A unit whose name is markup is shown as text.
        let reply = admin
            .post_form(
                "/pengaturan/unit",
                &[
                    ("csrf", &csrf),
                    ("code", "XSS"),
                    ("name", "<script>alert(1)</script>"),
                    ("kind", "seksi"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        let list = admin.get("/pengaturan/unit").await.body;
        assert!(!list.contains("<script>alert(1)</script>"));
        // A notice parameter is never echoed.
        assert!(!admin.get("/pengaturan/unit?ok=%3Cscript%3E").await.body.contains("<script>"));
    }
}

story! {
    #[tokio::test]
    async fn officials_page_checks_nip_and_conflicts(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut admin = support::logged_in(&state, "agendaris").await;
        let csrf = admin.csrf_of("/pengaturan/pejabat").await;
        let bad = admin
            .post_form(
                "/pengaturan/pejabat",
                &[("csrf", &csrf), ("name", "Yusuf"), ("nip", "19801332 200501 1 003")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Tanggal lahir dalam NIP"));
        assert!(bad.body.contains("value=\"19801332 200501 1 003\""), "the typed NIP is kept");
        // The Kepala Dinas post is taken by the demo's head.
        let positions = departments::list_positions(&state.db, 1).await.unwrap();
        let head = positions.iter().find(|p| p.kind == "kepala_dinas").unwrap().id.to_string();
        let taken = admin
            .post_form(
                "/pengaturan/pejabat",
                &[
                    ("csrf", &csrf),
                    ("name", "Yusuf"),
                    ("nip", "198011132005011003"),
                    ("position_id", &head),
                ],
            )
            .await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        assert!(taken.body.contains("sudah dijabat oleh Bambang Sutrisno"));
        let ok = admin
            .post_form(
                "/pengaturan/pejabat",
                &[("csrf", &csrf), ("name", "Yusuf"), ("nip", "198011132005011003")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let list = admin.get("/pengaturan/pejabat").await.body;
        assert!(list.contains("19801113 200501 1 003"), "NIP shown in its printed form");
    }
}

story! {
    #[tokio::test]
    async fn users_page_creates_accounts_and_shows_password_once(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut admin = support::logged_in(&state, "agendaris").await;
        let csrf = admin.csrf_of("/pengguna").await;
        let created = admin
            .post_form(
                "/pengguna",
                &[
                    ("csrf", &csrf),
                    ("username", "operator"),
                    ("display_name", "Operator Baru"),
                    ("roles", "typist"),
                    ("roles", "agendaris"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::OK);
        assert!(created.body.contains("Kata sandi awalnya"));
        let start = created.body.find("<code id=\"rahasia\">").unwrap() + "<code id=\"rahasia\">".len();
        let password = created.body[start..].split('<').next().unwrap().to_string();
        let user = naskah::accounts::find_by_username(&state.db, "operator").await.unwrap().unwrap();
        assert_eq!(user.roles, vec![naskah::accounts::Role::Typist, naskah::accounts::Role::Agendaris]);
        let mut operator = Client::new(&state);
        let login = operator.login("operator", &password).await;
        assert_eq!(login.location(), "/akun?ok=ganti-sandi", "a new account must change its password");
        let dup = admin
            .post_form("/pengguna", &[("csrf", &csrf), ("username", "operator"), ("display_name", "Lagi")])
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert!(dup.body.contains("Nama pengguna itu sudah dipakai."));
    }
}

story! {
    #[tokio::test]
    async fn logo_upload_through_the_form(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut admin = support::logged_in(&state, "agendaris").await;
        let csrf = admin.csrf_of("/pengaturan").await;
        let png: &[u8] = b"\x89PNG\r\n\x1a\n0000IHDR";
        let boundary = "batas123";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
        body.extend_from_slice(png);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let reply = admin
            .send(
                "POST",
                "/pengaturan/logo",
                Some(&format!("multipart/form-data; boundary={boundary}")),
                body,
                &[],
            )
            .await;
        assert_eq!(reply.location(), "/pengaturan?ok=logo", "{}", reply.body);
        let logo = admin.get("/logo/1").await;
        assert_eq!(logo.headers.get("content-type").unwrap(), "image/png");
        assert!(
            logo.headers
                .get("content-security-policy")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("sandbox")
        );

        let text = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"x.png\"\r\n\r\nbukan gambar\r\n--{boundary}--\r\n"
        );
        let refused = admin
            .send(
                "POST",
                "/pengaturan/logo",
                Some(&format!("multipart/form-data; boundary={boundary}")),
                text.into_bytes(),
                &[],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Logo harus berupa gambar PNG, JPEG atau SVG."));
    }
}

story! {
    #[tokio::test]
    async fn own_password_change(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut user = support::logged_in(&state, "staf").await;
        let csrf = user.csrf_of("/akun").await;
        let mismatch = user
            .post_form(
                "/akun/sandi",
                &[
                    ("csrf", &csrf),
                    ("current_password", support::DEMO_PASSWORD),
                    ("password", "baru-sekali-123"),
                    ("password_again", "lain-sekali-123"),
                ],
            )
            .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(mismatch.body.contains("Kedua kata sandi baru tidak sama."));
        let wrong = user
            .post_form(
                "/akun/sandi",
                &[
                    ("csrf", &csrf),
                    ("current_password", "salah"),
                    ("password", "baru-sekali-123"),
                    ("password_again", "baru-sekali-123"),
                ],
            )
            .await;
        assert!(wrong.body.contains("Kata sandi saat ini salah."));
        let ok = user
            .post_form(
                "/akun/sandi",
                &[
                    ("csrf", &csrf),
                    ("current_password", support::DEMO_PASSWORD),
                    ("password", "baru-sekali-123"),
                    ("password_again", "baru-sekali-123"),
                ],
            )
            .await;
        assert_eq!(ok.location(), "/akun?ok=sandi");
        assert_eq!(user.get("/akun").await.status, StatusCode::OK, "the current session stays");
        let mut again = Client::new(&state);
        assert_eq!(again.login("staf", "baru-sekali-123").await.status, StatusCode::SEE_OTHER);
    }
}

story! {
    #[tokio::test]
    async fn operations_endpoints_and_error_pages(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut client = Client::new(&state);
        assert_eq!(client.get("/healthz").await.body, "ok");
        let ready = client.get("/readyz").await;
        assert_eq!(ready.status, StatusCode::OK);
        client.get("/masuk").await;
        let metrics = client.get("/metrics").await.body;
        assert!(
            metrics.contains("naskah_http_requests_total{method=\"GET\",route=\"/masuk\",status=\"200\"}"),
            "{metrics}"
        );
        assert!(metrics.contains("naskah_http_request_duration_seconds_bucket{route=\"/masuk\",le=\"+Inf\"}"));
        assert!(metrics.contains("naskah_db_pool_connections"));

        let missing = client.get("/tidak/ada").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("Halaman tidak ditemukan") && missing.body.contains("lang=\"id\""));
        assert!(missing.headers.get("content-security-policy").is_some());
        assert_eq!(missing.headers.get("x-frame-options").unwrap(), "DENY");

        let big = vec![b'a'; 70 * 1024];
        let too_large = client
            .send("POST", "/masuk", Some("application/x-www-form-urlencoded"), big, &[])
            .await;
        assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            too_large.body.contains("Data yang dikirim lebih dari 64 KB, batas formulir ini"),
            "{}",
            too_large.body
        );

        // A database that lost its schema is not ready.
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (999, 'x', 'x', 0)")
            .execute(&state.db.pool)
            .await
            .unwrap();
        assert_eq!(client.get("/readyz").await.status, StatusCode::SERVICE_UNAVAILABLE);
        state.db.pool.close().await;
        assert_eq!(client.get("/readyz").await.status, StatusCode::SERVICE_UNAVAILABLE);
    }
}

story! {
    /// Every upload route takes the limit its page promises, whatever the forms' limit (64 KB
    /// in tests): a declared length over it is refused before reading, naming the limit; a
    /// body over it without a declared length is cut while read; just under it is read.
    #[tokio::test]
    async fn each_upload_route_takes_its_own_limit(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let mut staff = support::logged_in(&state, "agendaris").await;
        let megabytes = |n: usize| n * 1024 * 1024;
        for (path, limit, shown) in [
            ("/calon/impor", megabytes(256), "256 MB"),
            ("/calon/bpjs/jawaban", megabytes(32), "32 MB"),
            ("/v/0123456789abcdef0123456789abcdef/periksa", megabytes(30), "30 MB"),
            ("/surat-masuk", megabytes(10) + 64 * 1024, "10,1 MB"),
            ("/surat-masuk/1/daftar-isian", megabytes(8), "8 MB"),
            ("/kumpulan/baru", megabytes(8), "8 MB"),
            ("/penerima/impor", megabytes(2), "2 MB"),
        ] {
            let content_type = Some("multipart/form-data; boundary=batas");
            let over = (limit + 1).to_string();
            let refused = staff
                .send("POST", path, content_type, vec![b'x'; 16], &[("content-length", &over)])
                .await;
            assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
            assert!(refused.body.contains(&format!("lebih dari {shown}")), "{path}: {}", refused.body);
            // Under the limit the guard lets it through to the page (which then judges it).
            let under = staff.send("POST", path, content_type, vec![b'x'; limit - 1024], &[]).await;
            assert_ne!(under.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {}", under.body);
        }
        // A form route keeps the configured limit.
        let big = staff
            .send(
                "POST",
                "/penerima/baru",
                Some("application/x-www-form-urlencoded"),
                vec![b'x'; 65 * 1024],
                &[],
            )
            .await;
        assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
