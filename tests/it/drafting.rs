//! Drafting from templates over HTTP: forms generated from manifests, per-field errors
//! before compiling, previews as image and PDF, and the same through the API.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{self, Client};

story! {
    #[tokio::test]
    async fn drafting_form_and_preview(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut user = support::logged_in(&state, "konseptor").await;
        let list = user.get("/templat").await;
        assert_eq!(list.status, StatusCode::OK);
        for title in [
            "Surat Dinas",
            "Surat Permintaan Data Calon Penerima",
            "Surat Konfirmasi kepada Desa/Kelurahan",
            "SK Penetapan Penerima Bantuan Iuran",
        ] {
            assert!(list.body.contains(title), "{title}");
        }
        let form = user.get("/templat/surat-dinas").await;
        assert!(
            form.body
                .contains("<label for=\"f-hal\">Hal <span class=\"req\">(wajib)</span></label>"),
            "{}",
            form.body
        );
        assert!(form.body.contains("<textarea id=\"f-penerima\""));
        assert!(form.body.contains("Satu penerima per baris."));
        let csrf = form.csrf();

        // Missing fields: 422, a message per field, and what was typed is kept.
        let bad = user
            .post_form(
                "/templat/surat-dinas/pratinjau",
                &[
                    ("csrf", &csrf),
                    ("sifat", "Biasa"),
                    ("hal", ""),
                    ("isi", "Isi <b>tetap</b> ada"),
                    ("format", "png"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Hal wajib diisi.") && bad.body.contains("Kepada (Yth.) wajib diisi."));
        assert!(bad.body.contains("Isi &#60;b&#62;tetap&#60;/b&#62; ada") || bad.body.contains("Isi &lt;b&gt;tetap&lt;/b&gt; ada"));

        let fields = [
            ("csrf", csrf.as_str()),
            ("sifat", "Segera"),
            ("hal", "Rapat koordinasi"),
            ("penerima", "Camat Penajam\nCamat Waru"),
            ("isi", "Mohon hadir."),
            ("penutup", "Terima kasih."),
        ];
        let mut png = fields.to_vec();
        png.push(("format", "png"));
        let shown = user.post_form("/templat/surat-dinas/pratinjau", &png).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
        assert!(shown.body.contains("src=\"data:image/png;base64,iVBOR"));
        assert!(shown.body.contains("Pratinjau halaman 1 dari 1"));
        assert!(shown.body.contains("Camat Penajam\nCamat Waru"), "the form keeps the input");
        let mut pdf = fields.to_vec();
        pdf.push(("format", "pdf"));
        let file = user.post_form("/templat/surat-dinas/pratinjau", &pdf).await;
        assert_eq!(file.headers.get("content-type").unwrap(), "application/pdf");
        assert!(file.body.starts_with("%PDF"));

        // Rows typed as lines with semicolons.
        let csrf = user.csrf_of("/templat/surat-konfirmasi-desa").await;
        let rows = user
            .post_form(
                "/templat/surat-konfirmasi-desa/pratinjau",
                &[("csrf", &csrf), ("sifat", "Penting"), ("hal", "Konfirmasi"), ("jenis_wilayah", "Desa"), ("desa", "Babulu Laut"), ("kecamatan", "Babulu"), ("isi", "Mohon dikonfirmasi."), ("calon", "6409024107800001; Siti Aminah; 1980-07-01; P; RT 1; Petani; P3KE\n6409021207850002; Ahmad; 1985-07-12; L; RT 2; Nelayan; DTKS"), ("format", "png"), ("halaman", "2")],
            )
            .await;
        assert_eq!(rows.status, StatusCode::OK, "{}", rows.body);
        assert!(rows.body.contains("Pratinjau halaman 2 dari"));
        let bad_row = user
            .post_form(
                "/templat/surat-konfirmasi-desa/pratinjau",
                &[
                    ("csrf", &csrf),
                    ("sifat", "Penting"),
                    ("hal", "K"),
                    ("jenis_wilayah", "Desa"),
                    ("desa", "B"),
                    ("kecamatan", "B"),
                    ("isi", "x"),
                    ("calon", "6409; Siti; 1980-02-30; X"),
                    ("format", "png"),
                ],
            )
            .await;
        assert_eq!(bad_row.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_row.body.contains("Tanggal lahir harus tanggal yang valid"), "{}", bad_row.body);

        // Unknown template, missing CSRF, anonymous visitor.
        assert_eq!(user.get("/templat/tidak-ada").await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            user.post_form("/templat/surat-dinas/pratinjau", &fields[1..]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(Client::new(&state).get("/templat").await.location(), "/masuk");
    }
}

story! {
    #[tokio::test]
    async fn templates_through_the_api(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut api = support::api_client(&state, "konseptor").await;
        let list = api.get("/api/v1/templates").await.json();
        assert_eq!(list.as_array().unwrap().len(), 4);
        let sk = api.get("/api/v1/templates/sk-penerima-bantuan-iuran").await.json();
        assert_eq!(sk["kind"], "keputusan");
        assert_eq!(sk["defaults"]["iuran_per_bulan"], 16800);
        let bad = api
            .json(
                "POST",
                "/api/v1/templates/surat-dinas/validate",
                json!({ "sifat": "Kilat", "tidak_ada": 1 }),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<String> = bad.json()["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_string())
            .collect();
        for f in ["tidak_ada", "sifat", "hal", "penerima", "isi"] {
            assert!(fields.contains(&f.to_string()), "{f}: {fields:?}");
        }
        let body = json!({ "hal": "Uji", "penerima": ["Camat Sepaku"], "isi": "Isi surat." });
        let ok = api.json("POST", "/api/v1/templates/surat-dinas/validate", body.clone()).await;
        assert_eq!(ok.json()["data"]["penerima"][0]["nama"], "Camat Sepaku");
        let pdf = api.json("POST", "/api/v1/templates/surat-dinas/preview", body.clone()).await;
        assert_eq!(pdf.headers.get("content-type").unwrap(), "application/pdf");
        let png = api
            .json("POST", "/api/v1/templates/surat-dinas/preview?format=png&page=1", body.clone())
            .await;
        assert_eq!(png.headers.get("content-type").unwrap(), "image/png");
        let missing_page = api
            .json("POST", "/api/v1/templates/surat-dinas/preview?format=png&page=9", body)
            .await;
        assert_eq!(missing_page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            missing_page.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Halaman 9 tidak ada")
        );
        let mut anon = Client::new(&state);
        assert_eq!(anon.get("/api/v1/templates").await.status, StatusCode::UNAUTHORIZED);
    }
}
