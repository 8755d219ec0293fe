//! One draft, one letter per village: the confirmation letter typed once for every
//! village of the demo regency becomes 54 letters, each with its own village, Camat and
//! candidates, passed on together and signed in one bulk action, each with its own
//! number and QR code; a faulty file makes none; a kecamatan's scope makes only its own.

use std::collections::HashSet;

use axum::http::StatusCode;
use naskah::{
    demo,
    distribution::{self, batches},
    workflow::{self, Decision, batch::NewBatch},
};
use serde_json::{Value, json};

use crate::{
    support::{self, DEMO_PASSPHRASE, all_of},
    workflow::Demo,
};

const TEMPLATE: &str = "surat-konfirmasi-desa";

fn shared() -> Value {
    json!({
        "hal": "Konfirmasi Data Calon Penerima Bantuan Iuran",
        "batas_waktu": crate::support::days_from_today(14),
        "tembusan": [{ "nama": "Bupati Penajam Paser Utara (sebagai laporan)" }],
    })
}

async fn make_batch(d: &Demo, csv: &str, scope: &str) -> Result<(workflow::batch::Batch, Vec<workflow::Letter>), String> {
    let manifest = d.flow.catalogue.get(TEMPLATE).unwrap().clone();
    let per_village = manifest.per_village.clone().unwrap();
    let table = manifest.field(&per_village.rows_field).unwrap();
    let rows = batches::parse_candidates(csv, table).map_err(|e| e.to_string())?;
    let plan = batches::plan(&d.flow.db, d.department_id, scope, rows)
        .await
        .map_err(|e| e.to_string())?;
    let drafts = batches::drafts(&per_village, &plan, &shared(), true);
    let new = NewBatch {
        template_id: TEMPLATE.into(),
        scope: plan.scope.clone(),
        scope_label: plan.scope_label.clone(),
        shared_data: shared(),
        source_name: "calon.csv".into(),
        source_rows: plan.total_rows as i64,
        rows_used: plan.letters.iter().map(|l| l.rows.len() as i64).sum(),
    };
    d.flow
        .create_batch(&d.user("konseptor").await, &new, drafts)
        .await
        .map_err(|e| e.to_string())
}

async fn count(d: &Demo, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&d.flow.db.pool)
        .await
        .unwrap();
    n
}

story! {
    #[tokio::test]
    async fn one_draft_becomes_a_signed_letter_for_every_village(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let csv = demo::candidates_csv(&d.flow.db, d.department_id).await.unwrap();

        // A file with one faulty line makes no letter at all, and says which line.
        let mut faulty = csv.clone();
        faulty.push_str("64090112345,Tanpa NIK Benar,1990-01-01,L,RT 1,Petani,P3KE,6409011005\n");
        let lines = faulty.lines().count();
        let refused = make_batch(&d, &faulty, "").await.unwrap_err();
        assert!(
            refused.contains(&format!("baris {lines}")) && refused.contains("16 angka"),
            "{label}: {refused}"
        );
        let unknown = format!("{csv}6409011305657105,Orang Luar,1965-05-13,L,RT 1,Petani,DTKS,6409019999\n");
        let refused = make_batch(&d, &unknown, "").await.unwrap_err();
        assert!(
            refused.contains("64.09.01.9999 tidak ada dalam daftar penerima"),
            "{label}: {refused}"
        );
        assert_eq!(count(&d, "letters").await, 0, "{label}: nothing stored");
        assert_eq!(count(&d, "letter_batches").await, 0, "{label}");

        let (batch, letters) = make_batch(&d, &csv, "").await.unwrap();
        assert_eq!(letters.len(), 54, "{label}: one letter per village of the demo regency");
        assert_eq!(batch.source_rows, batch.rows_used, "{label}: every row used");
        let recipients: HashSet<i64> = letters.iter().filter_map(|l| l.recipient_id).collect();
        assert_eq!(recipients.len(), 54, "{label}: each letter its own village");
        let subjects: HashSet<&str> = letters.iter().map(|l| l.subject.as_str()).collect();
        assert_eq!(subjects.len(), 54, "{label}: subjects tell the letters apart");
        assert!(
            subjects.contains("Konfirmasi Data Calon Penerima Bantuan Iuran — Kelurahan Pejala"),
            "{label}"
        );

        // Each letter carries its own village, its Camat as a copy and only its own rows.
        let pejala = letters.iter().find(|l| l.subject.ends_with("Kelurahan Pejala")).unwrap();
        let fields = workflow::revision(&d.flow.db, pejala.id, 1).await.unwrap().fields();
        assert_eq!(
            (
                fields["desa"].as_str(),
                fields["kecamatan"].as_str(),
                fields["jenis_wilayah"].as_str()
            ),
            (Some("Pejala"), Some("Penajam"), Some("Kelurahan"))
        );
        let copies: Vec<&str> = fields["tembusan"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["nama"].as_str())
            .collect();
        assert_eq!(copies, ["Bupati Penajam Paser Utara (sebagai laporan)", "Camat Penajam"], "{label}");
        let expected: Vec<&str> = csv.lines().filter(|l| l.ends_with(",6409011005")).map(|l| &l[..16]).collect();
        let got: Vec<&str> = fields["calon"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["nik"].as_str())
            .collect();
        assert_eq!(got, expected, "{label}: Pejala's own candidates, in file order");
        assert!(!expected.is_empty());

        // Passed on together by the drafter and the typist, initialled and signed in bulk.
        for username in ["konseptor", "staf"] {
            let outcome = d.flow.submit_batch(&d.user(username).await, batch.id).await.unwrap();
            assert_eq!((outcome.done.len(), outcome.failed.len()), (54, 0), "{label}: {username}");
        }
        let all: Vec<(i64, i64)> = letters.iter().map(|l| (l.id, l.revision)).collect();
        for (username, decision) in [
            ("kabid", Decision::Paraf),
            ("sekdis", Decision::Paraf),
            ("kadis", Decision::TandaTangan),
        ] {
            let results = naskah::cases::bulk::run(&d.flow, &d.user(username).await, &all, decision, false, DEMO_PASSPHRASE)
                .await
                .unwrap();
            assert!(results.failed.is_empty(), "{label}: {username}");
        }
        let signed = workflow::batch_letters(&d.flow.db, d.department_id, batch.id).await.unwrap();
        assert!(signed.iter().all(|l| l.state == workflow::state::DITANDATANGANI), "{label}");
        let numbers: HashSet<&str> = signed.iter().filter_map(|l| l.number.as_deref()).collect();
        let codes: HashSet<&str> = signed.iter().filter_map(|l| l.verification_id.as_deref()).collect();
        assert_eq!((numbers.len(), codes.len()), (54, 54), "{label}: own number and QR code each");
        // Each letter's delivery list: its village, the Bupati and its Camat as copies.
        let list = naskah::distribution::deliveries::for_letter(&d.flow.db, d.department_id, pejala.id)
            .await
            .unwrap();
        let names: Vec<(&str, &str)> = list.iter().map(|x| (x.role.as_str(), x.name.as_str())).collect();
        assert_eq!(
            names,
            [
                ("kepada", "Lurah Pejala"),
                ("tembusan", "Bupati Penajam Paser Utara (sebagai laporan)"),
                ("tembusan", "Camat Penajam")
            ],
            "{label}"
        );
        assert!(list.iter().all(|x| x.recipient_id.is_some()), "{label}");
        let progress = naskah::distribution::progress::page(&d.flow.db, d.department_id, &all_of(Some(batch.id)), 100, 0)
            .await
            .unwrap()
            .0;
        assert_eq!(progress.len(), 54, "{label}");
        assert!(progress.iter().all(|p| p.total == 3 && p.out == 0), "{label}");
        let pdf = workflow::final_pdf(&d.flow.db, pejala.id).await.unwrap().unwrap();
        assert!(pdf.starts_with(b"%PDF"), "{label}");

        // A kecamatan's scope gives only its villages; the rest of the file is left out.
        let manifest = d.flow.catalogue.get(TEMPLATE).unwrap();
        let table = manifest.field("calon").unwrap();
        let rows = batches::parse_candidates(&csv, table).unwrap();
        let total = rows.len();
        let plan = batches::plan(&d.flow.db, d.department_id, "64.09.04", rows).await.unwrap();
        assert!(!plan.letters.is_empty() && plan.letters.len() < 54, "{label}");
        assert!(
            plan.letters
                .iter()
                .all(|l| l.recipient.region_code.as_deref().unwrap().starts_with("64.09.04.") && l.district_name == "Sepaku"),
            "{label}"
        );
        let used: usize = plan.letters.iter().map(|l| l.rows.len()).sum();
        assert_eq!(used + plan.outside_scope, total, "{label}");
        let unknown_scope = batches::plan(&d.flow.db, d.department_id, "64.09.99", vec![]).await;
        assert!(matches!(unknown_scope, Err(distribution::Error::Conflict(_))), "{label}");
    }
}

fn upload(fields: &[(String, String)], file: &str) -> (String, Vec<u8>) {
    let boundary = "batasunggah";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; filename=\"calon.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    (format!("multipart/form-data; boundary={boundary}"), body.into_bytes())
}

#[tokio::test]
async fn the_batch_pages_make_pass_on_and_lead_to_the_bulk_signature() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let csv = demo::candidates_csv(&state.db, 1).await.unwrap();
    let mut drafter = support::logged_in(&state, "konseptor").await;
    let form = drafter.get("/kumpulan/baru?templat=surat-konfirmasi-desa").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("Kecamatan Sepaku") && form.body.contains("Camat setempat"),
        "{}",
        form.body
    );
    let csrf = form.csrf();
    let fields = |csrf: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("cakupan".into(), "64.09.04".into()),
            ("sifat".into(), "Penting".into()),
            ("hal".into(), "Konfirmasi Data Calon <Penerima>".into()),
            ("isi".into(), "Mohon diperiksa.".into()),
            ("tembusan_camat".into(), "ya".into()),
        ]
    };

    // A faulty file: the form again with the line named; the typed text kept, escaped.
    let (kind, body) = upload(&fields(&csrf), &format!("{csv}123,Salah,,,,,,6409042001\n"));
    let refused = drafter
        .send("POST", "/kumpulan/baru?templat=surat-konfirmasi-desa", Some(&kind), body, &[])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("tidak ada surat yang dibuat") && refused.body.contains("harus 16 angka"),
        "{}",
        refused.body
    );
    let typed = refused.body.find("Konfirmasi Data Calon").map(|at| &refused.body[at..at + 40]);
    assert!(
        typed.is_some_and(|t| t.contains("&lt;Penerima&gt;") || t.contains("&#60;Penerima&#62;")),
        "{typed:?}"
    );
    assert!(!refused.body.contains("<Penerima>"));
    // A wrong token is refused before the file is read.
    let (kind, body) = upload(&fields("salah"), &csv);
    let forged = drafter
        .send("POST", "/kumpulan/baru?templat=surat-konfirmasi-desa", Some(&kind), body, &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Someone who does not draft cannot make a batch.
    let mut signer = support::logged_in(&state, "kadis").await;
    let (kind, body) = upload(&fields(&signer.csrf_of("/kumpulan").await), &csv);
    let denied = signer
        .send("POST", "/kumpulan/baru?templat=surat-konfirmasi-desa", Some(&kind), body, &[])
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM letters")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);

    let (kind, body) = upload(&fields(&csrf), &csv);
    let made = drafter
        .send("POST", "/kumpulan/baru?templat=surat-konfirmasi-desa", Some(&kind), body, &[])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let address = made.location().to_string();
    let page = drafter.get(&address).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("desa/kelurahan di Kecamatan Sepaku") && page.body.contains("Desa Binuang"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Kelurahan Pejala"), "other kecamatan left out");
    let id = address.trim_start_matches("/kumpulan/").split('?').next().unwrap().to_string();
    let letters = workflow::batch_letters(&state.db, 1, id.parse().unwrap()).await.unwrap();
    assert!(!letters.is_empty());
    assert!(drafter.get("/kumpulan").await.body.contains(&format!("{} Konsep", letters.len())));

    // No list to carry before anything is signed.
    let early = drafter.get(&format!("/kumpulan/{id}/daftar-pengiriman.pdf")).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.body.contains("Belum ada pengiriman"));

    // Passed on by the drafter and the typist from the batch's page.
    for username in ["konseptor", "staf"] {
        let mut user = support::logged_in(&state, username).await;
        let csrf = user.csrf_of(&format!("/kumpulan/{id}")).await;
        let done = user.post_form(&format!("/kumpulan/{id}/teruskan"), &[("csrf", &csrf)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{username}: {}", done.body);
    }
    // Nothing left for the typist: said, not an error page.
    let mut typist = support::logged_in(&state, "staf").await;
    let csrf = typist.csrf_of(&format!("/kumpulan/{id}")).await;
    let again = typist.post_form(&format!("/kumpulan/{id}/teruskan"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body.contains("Tidak ada surat dalam kumpulan ini"));

    // The Kepala Bidang's bulk page for this batch lists exactly its letters.
    let mut kabid = support::logged_in(&state, "kabid").await;
    let bulk = kabid.get(&format!("/surat/massal?kumpulan={id}")).await;
    assert_eq!(bulk.status, StatusCode::OK);
    assert!(
        bulk.body.contains(&format!("{} surat dari kumpulan ini", letters.len())),
        "{}",
        bulk.body
    );
    for letter in &letters {
        assert!(bulk.body.contains(&format!("value=\"{}:1\"", letter.id)));
    }
    // Another department's user, or an unknown batch: not found.
    assert_eq!(kabid.get("/kumpulan/999999").await.status, StatusCode::NOT_FOUND);
}
