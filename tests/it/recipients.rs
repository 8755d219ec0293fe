//! The recipients' directory: villages, kelurahan and kecamatan from the region codes,
//! the SOP's agencies, edits, and the CSV export and import, on both engines and through
//! the pages.

use axum::http::StatusCode;
use naskah::{
    audit::Actor,
    departments,
    distribution::{
        Error,
        recipients::{self, Filter},
    },
};

use crate::support;

story! {
    #[tokio::test]
    async fn the_directory_from_the_region_codes_with_edits_and_csv(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let db = &state.db;
        let actor = Actor::System("uji");
        let all = recipients::list(db, 1, &Filter::default()).await.unwrap();
        let count = |kind: &str| all.iter().filter(|r| r.kind == kind).count();
        assert_eq!(count("desa") + count("kelurahan"), 54, "{label}: every village of the demo regency");
        assert_eq!(count("kecamatan"), 4, "{label}");
        assert_eq!(count("instansi"), 4, "{label}");
        assert_eq!(count("pejabat"), 1, "{label}");
        let tanjung = all.iter().find(|r| r.region_code.as_deref() == Some("64.09.01.1001")).unwrap();
        assert_eq!(
            (tanjung.name.as_str(), tanjung.head_title.as_str()),
            ("Kelurahan Tanjung Tengah", "Lurah Tanjung Tengah")
        );
        assert!(
            all.iter()
                .any(|r| r.head_title == "Kepala Dinas Sosial Kabupaten Penajam Paser Utara"),
            "{label}"
        );
        // Syncing again adds nothing and keeps what was filled in.
        let department = departments::get(db, 1).await.unwrap();
        let mut input = recipients::RecipientInput {
            kind: tanjung.kind.clone(),
            region_code: tanjung.region_code.clone().unwrap(),
            name: tanjung.name.clone(),
            head_title: tanjung.head_title.clone(),
            head_name: "  Hj.   Rahmawati  ".into(),
            email: "kel.tanjungtengah@penajamkab.go.id".into(),
            phone: "0542 7210001".into(),
            address: String::new(),
            active: true,
        };
        let updated = recipients::update(db, &actor, 1, tanjung.id, input.clone()).await.unwrap();
        assert_eq!(updated.head_name, "Hj. Rahmawati", "{label}: spaces folded");
        assert_eq!(recipients::sync_from_regions(db, &actor, &department).await.unwrap(), 0, "{label}");
        assert_eq!(
            recipients::get(db, 1, tanjung.id).await.unwrap().email,
            "kel.tanjungtengah@penajamkab.go.id"
        );

        // Bad input is refused with the field named; nothing changes.
        input.email = "bukan surel".into();
        let refused = recipients::update(db, &actor, 1, tanjung.id, input.clone()).await;
        assert!(
            matches!(&refused, Err(Error::Invalid(e)) if e.get("email").is_some()),
            "{label}: {refused:?}"
        );
        let twice = recipients::create(
            db,
            &actor,
            1,
            recipients::RecipientInput {
                kind: "desa".into(),
                region_code: "64.09.01.1001".into(),
                name: "Desa Kembar".into(),
                active: true,
                ..Default::default()
            },
        )
        .await;
        assert!(
            matches!(&twice, Err(Error::Conflict(m)) if m.contains("64.09.01.1001")),
            "{label}: {twice:?}"
        );

        // A kecamatan's filter gives its villages and itself.
        let penajam = recipients::list(
            db,
            1,
            &Filter {
                kecamatan: "64.09.01".into(),
                ..Filter::default()
            },
        )
        .await
        .unwrap();
        assert!(
            penajam.iter().all(|r| r.region_code.as_deref().unwrap().starts_with("64.09.01")),
            "{label}"
        );
        assert!(penajam.iter().any(|r| r.kind == "kecamatan") && penajam.len() > 2, "{label}");

        // CSV: export, change one row, add one; import updates and adds in one go.
        let csv = String::from_utf8(recipients::to_csv(&all).unwrap()).unwrap();
        assert_eq!(csv.lines().count(), all.len() + 1, "{label}");
        let rows = recipients::parse_csv(
            "jenis,kode_wilayah,nama,jabatan,nama_pejabat,surel,telepon,alamat,aktif\n\
             kelurahan,64.09.01.1001,Kelurahan Tanjung Tengah,Lurah Tanjung Tengah,Hj. Rahmawati,lurah.tt@penajamkab.go.id,,,ya\n\
             instansi,,Inspektorat Kabupaten Penajam Paser Utara,Inspektur,,inspektorat@penajamkab.go.id,,,ya\n",
        )
        .unwrap();
        let outcome = recipients::import(db, &actor, 1, &rows).await.unwrap();
        assert_eq!((outcome.added, outcome.updated), (1, 1), "{label}");
        assert_eq!(recipients::get(db, 1, tanjung.id).await.unwrap().email, "lurah.tt@penajamkab.go.id");
        assert_eq!(
            recipients::list(db, 1, &Filter::default()).await.unwrap().len(),
            all.len() + 1,
            "{label}"
        );
    }
}

story! {
    #[tokio::test]
    async fn the_directory_pages(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;

        // Staff read it; only the agendaris and administrators change it.
        let mut konseptor = support::logged_in(&state, "konseptor").await;
        let page = konseptor.get("/penerima").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("Kelurahan Tanjung Tengah") && !page.body.contains("Tambah penerima"),
            "{}",
            page.body
        );
        assert_eq!(konseptor.get("/penerima/baru").await.status, StatusCode::FORBIDDEN);
        let csrf = konseptor.csrf_of("/penerima").await;
        let denied = konseptor
            .post_form("/penerima/baru", &[("csrf", &csrf), ("kind", "instansi"), ("name", "X")])
            .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        let csv = konseptor.get("/penerima.csv").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.body
                .starts_with("jenis,kode_wilayah,nama,jabatan,nama_pejabat,surel,telepon,alamat,aktif")
        );

        let mut agendaris = support::logged_in(&state, "agendaris").await;
        let csrf = agendaris.csrf_of("/penerima/baru").await;
        // Without the token nothing is saved.
        let forged = agendaris
            .post_form("/penerima/baru", &[("kind", "instansi"), ("name", "Palsu")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let bad = agendaris
            .post_form(
                "/penerima/baru",
                &[
                    ("csrf", &csrf),
                    ("kind", "instansi"),
                    ("name", "Inspektorat <b>PPU</b>"),
                    ("email", "salah@"),
                    ("active", "ya"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Alamat e-mail tidak valid"), "{}", bad.body);
        assert!(
            bad.body.contains("Inspektorat &lt;b&gt;PPU&lt;/b&gt;") || bad.body.contains("Inspektorat &#60;b&#62;PPU"),
            "input kept, escaped"
        );
        let good = agendaris
            .post_form(
                "/penerima/baru",
                &[
                    ("csrf", &csrf),
                    ("kind", "instansi"),
                    ("name", "Inspektorat PPU"),
                    ("email", "inspektorat@penajamkab.go.id"),
                    ("active", "ya"),
                ],
            )
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.body);
        let before = recipients::list(&state.db, 1, &Filter::default()).await.unwrap();

        // An import with a faulty row saves nothing and names the row.
        let upload = |text: &str, csrf: &str| {
            let boundary = "batasimpor";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; filename=\"p.csv\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n--{boundary}--\r\n"
            );
            (format!("multipart/form-data; boundary={boundary}"), body.into_bytes())
        };
        let csrf = agendaris.csrf_of("/penerima").await;
        let (kind, body) = upload(
            "jenis,nama,surel\ninstansi,Satpol PP,satpol@penajamkab.go.id\nplanet,Mars,\n",
            &csrf,
        );
        let refused = agendaris.send("POST", "/penerima/impor", Some(&kind), body, &[]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("tidak ada yang disimpan") && refused.body.contains("baris 3: Pilih jenis"),
            "{}",
            refused.body
        );
        assert_eq!(
            recipients::list(&state.db, 1, &Filter::default()).await.unwrap(),
            before,
            "nothing stored"
        );
        let (kind, body) = upload("jenis,nama,surel\ninstansi,Satpol PP,satpol@penajamkab.go.id\n", "salah");
        assert_eq!(
            agendaris.send("POST", "/penerima/impor", Some(&kind), body, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        let (kind, body) = upload("jenis,nama,surel\ninstansi,Satpol PP,satpol@penajamkab.go.id\n", &csrf);
        let imported = agendaris.send("POST", "/penerima/impor", Some(&kind), body, &[]).await;
        assert_eq!(imported.status, StatusCode::SEE_OTHER, "{}", imported.body);
        assert_eq!(
            recipients::list(&state.db, 1, &Filter::default()).await.unwrap().len(),
            before.len() + 1
        );
        let listed = agendaris.get("/penerima?jenis=instansi").await.body;
        assert!(listed.contains("Satpol PP") && listed.contains("Inspektorat PPU") && !listed.contains("Kelurahan Tanjung Tengah"));
    }
}
