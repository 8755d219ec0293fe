//! Incoming letters: a village's reply registered with its scan and an agenda number,
//! disposed by the Kepala Dinas to the Kepala Bidang (who sees it in "Tugas saya"),
//! and its answers applied to the candidates of the confirmation letter it answers:
//! ticked, a replacement proposed and checked, a filled list uploaded. Both engines.

use axum::http::StatusCode;
use naskah::{
    audit::Actor,
    beneficiaries::{
        Error,
        candidates::{self, Status},
        import::{self, Upload},
        replies::{self, Answer, Replacement},
    },
    departments,
    distribution::batches,
    incoming::{self, DispositionInput, IncomingInput, Scan},
    workflow::{self, batch::NewBatch},
};

use crate::{
    support::{self, DEMO_PASSPHRASE},
    workflow::Demo,
};

const P3KE: &str = include_str!("../data/candidates/p3ke.csv");

/// The confirmation letters of one kecamatan (or all, with "") made by the drafter from
/// the candidates not yet on a list, as the batch page does.
pub async fn batch_from_data(d: &Demo, scope: &str) -> (workflow::batch::Batch, Vec<workflow::Letter>) {
    let db = &d.flow.db;
    let manifest = d.flow.catalogue.get("surat-konfirmasi-desa").unwrap().clone();
    let per_village = manifest.per_village.clone().unwrap();
    let table = manifest.field(&per_village.rows_field).unwrap();
    let waiting = candidates::awaiting_list(db, 1, scope).await.unwrap();
    let plan = batches::plan(db, 1, scope, batches::rows_from_candidates(&waiting, table))
        .await
        .unwrap();
    let shared = serde_json::json!({ "hal": "Konfirmasi Data Calon Penerima", "batas_waktu": crate::support::days_from_today(14) });
    let new = NewBatch {
        template_id: manifest.id.clone(),
        scope: plan.scope.clone(),
        scope_label: plan.scope_label.clone(),
        shared_data: shared.clone(),
        source_name: "data calon penerima".into(),
        source_rows: plan.total_rows as i64,
        rows_used: plan.letters.iter().map(|l| l.rows.len() as i64).sum(),
    };
    let drafts = batches::drafts(&per_village, &plan, &shared, true);
    d.flow.create_batch(&d.user("konseptor").await, &new, drafts).await.unwrap()
}

/// The P3KE file imported and the confirmation letters of one kecamatan made from it,
/// the first of them signed.
pub async fn signed_confirmation(d: &Demo, scope: &str) -> workflow::Letter {
    let db = &d.flow.db;
    let actor = Actor::System("uji");
    let department = departments::get(db, 1).await.unwrap();
    let checked = import::check(
        db,
        &actor,
        &department,
        Upload {
            file_name: "p3ke.csv",
            content: naskah::beneficiaries::import::Content::Bytes(P3KE.as_bytes()),
            source: "",
            mapping: None,
        },
    )
    .await
    .unwrap();
    import::apply(db, &actor, &department, checked.id, &|_, _| {}).await.unwrap();
    let (_, letters) = batch_from_data(d, scope).await;
    let letter = letters.into_iter().next().unwrap();
    let letter = d.flow.submit(&d.user("konseptor").await, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    d.through_chain(letter, 1, DEMO_PASSPHRASE).await
}

story! {
    #[tokio::test]
    async fn a_village_reply_is_registered_disposed_and_applied(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let db = &state.db;
        let department = departments::get(db, 1).await.unwrap();
        let letter = signed_confirmation(&d, "64.09.01").await;
        let on_list = replies::list_of_letter(db, 1, letter.id).await.unwrap();
        assert!(on_list.len() >= 3, "{label}");
        assert!(on_list.iter().all(|c| c.status() == Status::OnList));

        // Registering: the staff, with the scan; a non-PDF and a future date are refused.
        let staf = d.user("staf").await;
        let input = IncomingInput {
            received_on: "2026-11-20".into(),
            sender: String::new(),
            letter_number: "140/77/Kel-PJL/XI/2026".into(),
            letter_date: "2026-11-19".into(),
            subject: "Hasil konfirmasi calon penerima".into(),
            reply_to_letter_id: Some(letter.id),
        };
        let refused = incoming::register(
            db,
            &staf,
            &department,
            IncomingInput {
                letter_date: "2099-01-01".into(),
                ..input.clone()
            },
            Some(Scan {
                name: "x.pdf",
                bytes: b"GIF89a",
            }),
        )
        .await;
        let Err(incoming::Error::Invalid(errors)) = refused else {
            panic!("{label}: refused")
        };
        assert!(
            errors.get("berkas").is_some() && errors.get("tanggal_surat").is_some(),
            "{errors:?}"
        );
        let kadis = d.user("kadis").await;
        assert!(matches!(
            incoming::register(db, &kadis, &department, input.clone(), None).await,
            Err(incoming::Error::Forbidden(_))
        ));
        let reply = incoming::register(
            db,
            &staf,
            &department,
            input.clone(),
            Some(Scan {
                name: "balasan.pdf",
                bytes: b"%PDF-1.4\n%scan\n",
            }),
        )
        .await
        .unwrap();
        assert_eq!(reply.agenda_number(), "SM/0001/2026", "{label}");
        assert!(!reply.sender.is_empty(), "{label}: the village's name filled in");
        let second = incoming::register(
            db,
            &staf,
            &department,
            IncomingInput {
                reply_to_letter_id: None,
                sender: "BPJS".into(),
                ..input.clone()
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!(second.agenda_number(), "SM/0002/2026");

        // The disposition: only the Kepala Dinas; the Kepala Bidang sees it and closes it.
        let kabid = d.user("kabid").await;
        let order = DispositionInput {
            to: Some(incoming::Target::User(kabid.id)),
            instructions: "Perbarui data calon sesuai balasan".into(),
            due_on: "2099-12-31".into(),
        };
        assert!(matches!(
            incoming::dispose(db, &staf, &department, reply.id, order.clone()).await,
            Err(incoming::Error::Forbidden(_))
        ));
        let disposition = incoming::dispose(db, &kadis, &department, reply.id, order).await.unwrap();
        assert_eq!(incoming::get(db, 1, reply.id).await.unwrap().status, "didisposisi");
        let tasks = incoming::open_tasks(db, 1, kabid.id).await.unwrap();
        assert_eq!(tasks.len(), 1, "{label}");

        // To a unit: each member sees it, anyone else can neither see nor close it.
        let (unit,): (i64,) = sqlx::query_as(
            "SELECT p.unit_id FROM users u JOIN officials o ON o.id = u.official_id JOIN positions p ON p.id = o.position_id WHERE u.id = $1",
        )
        .bind(kabid.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let to_unit = incoming::dispose(
            db,
            &kadis,
            &department,
            second.id,
            DispositionInput {
                to: Some(incoming::Target::Unit(unit)),
                instructions: "Siapkan pengecekan BPJS".into(),
                due_on: "2099-12-31".into(),
            },
        )
        .await
        .unwrap();
        assert!(!to_unit.to_name.is_empty() && to_unit.to_user_id.is_none(), "{to_unit:?}");
        assert_eq!(incoming::open_tasks(db, 1, kabid.id).await.unwrap().len(), 2, "{label}");
        let agendaris = d.user("agendaris").await;
        assert!(incoming::open_tasks(db, 1, agendaris.id).await.unwrap().is_empty());
        assert!(matches!(
            incoming::complete(db, &agendaris, 1, to_unit.id, "").await,
            Err(incoming::Error::Forbidden(_))
        ));
        incoming::complete(db, &kabid, 1, to_unit.id, "sudah").await.unwrap();
        let bad_unit = incoming::dispose(
            db,
            &kadis,
            &department,
            second.id,
            DispositionInput {
                to: Some(incoming::Target::Unit(999_999)),
                instructions: "x".into(),
                due_on: "2099-12-31".into(),
            },
        )
        .await;
        assert!(matches!(bad_unit, Err(incoming::Error::Invalid(_))), "{label}");

        // Answers: two confirmed, one rejected with its replacement; a rejection without
        // a reason, a candidate of another letter, and an unsound replacement refuse all.
        let actor = Actor::System("uji");
        let (a, b, c) = (&on_list[0], &on_list[1], &on_list[2]);
        let bad = replies::apply(db, &actor, &department, &reply, &[(a.id, Answer::Rejected(" ".into()))], &[]).await;
        assert!(matches!(bad, Err(Error::Invalid(_))), "{label}");
        let unsound = Replacement {
            replaces: c.id,
            nik: "6409014205660000".into(),
            name: "Pengganti".into(),
            sex: "P".into(),
            birth_date: "1966-05-02".into(),
            ..Replacement::default()
        };
        let bad = replies::apply(
            db,
            &actor,
            &department,
            &reply,
            &[(c.id, Answer::Rejected("pindah domisili".into()))],
            &[unsound],
        )
        .await;
        let Err(Error::Invalid(errors)) = bad else {
            panic!("{label}: serial 0000 refused")
        };
        assert!(errors.0.iter().any(|e| e.message.contains("0000")), "{errors:?}");
        assert_eq!(
            candidates::get(db, 1, c.id).await.unwrap().status(),
            Status::OnList,
            "{label}: nothing applied"
        );

        let replacement = Replacement {
            replaces: c.id,
            nik: "6409015507880003".into(),
            name: "  siti   aminah ".into(),
            sex: "P".into(),
            birth_date: "1988-07-15".into(),
            occupation: "Pedagang".into(),
            address: "RT 004".into(),
        };
        let applied = replies::apply(
            db,
            &actor,
            &department,
            &reply,
            &[
                (a.id, Answer::Confirmed),
                (b.id, Answer::Confirmed),
                (c.id, Answer::Rejected("pindah domisili".into())),
            ],
            &[replacement],
        )
        .await
        .unwrap();
        assert_eq!((applied.confirmed, applied.rejected, applied.replacements), (2, 1, 1), "{label}");
        let rejected = candidates::get(db, 1, c.id).await.unwrap();
        assert_eq!(rejected.status(), Status::Rejected);
        assert!(
            rejected.status_reason.starts_with("pindah domisili — "),
            "{}",
            rejected.status_reason
        );
        let new = candidates::by_nik(db, 1, "6409015507880003").await.unwrap().unwrap();
        assert_eq!(
            (
                new.name.as_str(),
                new.status(),
                new.replaces_id,
                new.letter_id,
                new.region_code.as_str()
            ),
            (
                "SITI AMINAH",
                Status::Confirmed,
                Some(c.id),
                Some(letter.id),
                c.region_code.as_str()
            ),
            "{label}"
        );
        let history = candidates::history(db, a.id).await.unwrap();
        assert_eq!(
            history.last().unwrap().incoming_id,
            Some(reply.id),
            "{label}: the reply is on the record"
        );
        assert!(incoming::get(db, 1, reply.id).await.unwrap().applied_at.is_some());

        // The filled list: the rest confirmed by file, one line wrong refuses the file.
        let rest: Vec<_> = on_list.iter().skip(3).collect();
        let mut csv = String::from("No,NIK,Nama,Hasil,Alasan\n");
        for (i, c) in rest.iter().enumerate() {
            csv.push_str(&format!("{},'{},{},Sesuai,\n", i + 1, c.nik, c.name));
        }
        let with_error = format!("{csv}99,6409019999990001,X,sesuai,\n");
        let now_list = replies::list_of_letter(db, 1, letter.id).await.unwrap();
        assert!(matches!(
            replies::read_filled_list(with_error.as_bytes(), &now_list),
            Err(Error::Invalid(_))
        ));
        let filled = replies::read_filled_list(csv.as_bytes(), &now_list).unwrap();
        assert_eq!((filled.answers.len(), filled.replacements.len()), (rest.len(), 0));
        replies::apply(db, &actor, &department, &reply, &filled.answers, &filled.replacements)
            .await
            .unwrap();
        let after = replies::list_of_letter(db, 1, letter.id).await.unwrap();
        assert_eq!(
            after.iter().filter(|c| c.status() == Status::Confirmed).count(),
            on_list.len() - 1 + 1,
            "{label}"
        );

        incoming::complete(db, &kabid, 1, disposition.id, "data diperbarui").await.unwrap();
        assert!(incoming::open_tasks(db, 1, kabid.id).await.unwrap().is_empty());
        assert_eq!(incoming::get(db, 1, reply.id).await.unwrap().status, "selesai");
    }
}

#[tokio::test]
async fn the_incoming_pages_register_dispose_and_tick() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = Demo::over(&state);
    let letter = signed_confirmation(&d, "64.09.02").await;
    let mut staff = support::logged_in(&state, "staf").await;
    let csrf = staff.csrf_of("/surat-masuk").await;
    let boundary = "batas";
    let mut body = String::new();
    for (name, value) in [
        ("csrf", csrf.as_str()),
        ("diterima", "2026-11-20"),
        ("balasan_untuk", &letter.id.to_string()),
        ("nomor_surat", "140/12/DS/2026"),
        ("tanggal_surat", "2026-11-19"),
        ("hal", "Balasan <konfirmasi>"),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; filename=\"balasan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 pindaian\r\n--{boundary}--\r\n"
    ));
    let reply = staff
        .send(
            "POST",
            "/surat-masuk",
            Some(&format!("multipart/form-data; boundary={boundary}")),
            body.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page_url = reply.location().split('?').next().unwrap().to_string();
    let page = staff.get(&page_url).await;
    assert!(
        page.body.contains("Balasan &#60;konfirmasi&#62;") || page.body.contains("Balasan &lt;konfirmasi&gt;"),
        "escaped"
    );
    assert!(page.body.contains("id=\"catat-hasil\""));
    // The agendaris, who may not read the candidate pages, reads no names here either.
    let first_name = replies::list_of_letter(&state.db, 1, letter.id).await.unwrap()[0].name.clone();
    assert!(page.body.contains(&first_name));
    let mut agendaris = support::logged_in(&state, "agendaris").await;
    let theirs = agendaris.get(&page_url).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(
        !theirs.body.contains(&first_name) && theirs.body.contains("hanya dapat dibaca oleh pengolah data"),
        "{}",
        theirs.body
    );
    assert_eq!(agendaris.get("/calon").await.status, StatusCode::FORBIDDEN);
    let scan = staff.get(&format!("{page_url}/pindaian")).await;
    assert_eq!(scan.headers["content-type"], "application/pdf");
    let list = staff.get(&format!("{page_url}/daftar-isian.csv")).await;
    assert!(list.body.contains("diunduh oleh"), "stamped");

    // Ticking one row: the candidate is confirmed.
    let on_list = replies::list_of_letter(&state.db, 1, letter.id).await.unwrap();
    let first = &on_list[0];
    let done = staff
        .post_form(
            &format!("{page_url}/jawaban"),
            &[("csrf", &csrf), (&format!("hasil_{}", first.id), "sesuai")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(candidates::get(&state.db, 1, first.id).await.unwrap().status(), Status::Confirmed);
    // A rejection without reason comes back with the message.
    // Every other row's answer and reason stay as typed, the faulty row is marked, and
    // nothing is applied.
    let second = &on_list[1];
    let third = &on_list[2];
    let refused = staff
        .post_form(
            &format!("{page_url}/jawaban"),
            &[
                ("csrf", &csrf),
                (&format!("hasil_{}", second.id), "tidak"),
                (&format!("hasil_{}", third.id), "tidak"),
                (&format!("alasan_{}", third.id), "Sudah pindah ke luar daerah"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("isi alasan penolakan"));
    let row_of = |id: i64| {
        let start = refused.body.find(&format!(r#"id="hasil-{id}""#)).unwrap();
        let end = refused.body[start..].find("</tr>").unwrap();
        refused.body[start..start + end].to_string()
    };
    let (second_row, third_row) = (row_of(second.id), row_of(third.id));
    assert!(
        second_row.contains(r#"<option value="tidak" selected>"#) && second_row.contains(r#"aria-invalid="true""#),
        "{second_row}"
    );
    assert!(
        third_row.contains(r#"<option value="tidak" selected>"#) && third_row.contains(r#"value="Sudah pindah ke luar daerah""#),
        "{third_row}"
    );
    assert_eq!(candidates::get(&state.db, 1, third.id).await.unwrap().status(), Status::OnList);

    // The Kepala Dinas disposes; the Kepala Bidang finds it in "Tugas saya".
    let mut kadis = support::logged_in(&state, "kadis").await;
    let kabid_id = d.user("kabid").await.id.to_string();
    let csrf_kadis = kadis.csrf_of(&page_url).await;
    let disposed = kadis
        .post_form(
            &format!("{page_url}/disposisi"),
            &[
                ("csrf", &csrf_kadis),
                ("kepada", &format!("o:{kabid_id}")),
                ("instruksi", "Tindak lanjuti"),
                ("batas", "2099-01-31"),
            ],
        )
        .await;
    assert_eq!(disposed.status, StatusCode::SEE_OTHER, "{}", disposed.body);
    let mut kabid = support::logged_in(&state, "kabid").await;
    let home = kabid.get("/").await;
    assert!(
        home.body.contains("Disposisi dari") && home.body.contains("Tindak lanjuti"),
        "{}",
        home.body
    );
}

story! {
    /// The SOP of the seed document from the two candidate files to a signed SK, for the
    /// villages of one kecamatan: import both files, one confirmation letter per village
    /// from the data, each signed; every village replies (one rejection with a replacement
    /// in the first), the replies applied; BPJS's answer (two already insured) applied;
    /// the SK drafted from the final list and signed. Its attachment lists exactly the
    /// valid, confirmed, not-insured candidates.
    #[tokio::test]
    async fn from_the_candidate_files_to_a_signed_sk(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let db = &state.db;
        let actor = Actor::System("uji");
        let department = departments::get(db, 1).await.unwrap();
        for (name, text) in [("p3ke.csv", P3KE), ("dtks.csv", include_str!("../data/candidates/dtks.csv"))] {
            let checked = import::check(
                db,
                &actor,
                &department,
                Upload {
                    file_name: name,
                    content: naskah::beneficiaries::import::Content::Bytes(text.as_bytes()),
                    source: "",
                    mapping: None,
                },
            )
            .await
            .unwrap();
            import::apply(db, &actor, &department, checked.id, &|_, _| {}).await.unwrap();
        }
        // Waru: the smallest kecamatan.
        let scope = "64.09.02";
        let (batch, _) = batch_from_data(&d, scope).await;
        for username in ["konseptor", "staf"] {
            d.flow.submit_batch(&d.user(username).await, batch.id).await.unwrap();
        }
        let mut letters = Vec::new();
        for letter in workflow::batch_letters(db, 1, batch.id).await.unwrap() {
            letters.push(d.through_chain(letter, 1, DEMO_PASSPHRASE).await);
        }

        // Every village replies; the first rejects its first candidate and proposes another.
        let staf = d.user("staf").await;
        let mut expected: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for (i, letter) in letters.iter().enumerate() {
            let reply = incoming::register(
                db,
                &staf,
                &department,
                IncomingInput {
                    received_on: "2026-11-20".into(),
                    letter_number: format!("140/{i}/2026"),
                    letter_date: "2026-11-19".into(),
                    subject: "Hasil konfirmasi".into(),
                    reply_to_letter_id: Some(letter.id),
                    ..IncomingInput::default()
                },
                None,
            )
            .await
            .unwrap();
            let list = replies::list_of_letter(db, 1, letter.id).await.unwrap();
            let mut answers: Vec<(i64, Answer)> = list.iter().map(|c| (c.id, Answer::Confirmed)).collect();
            let mut replacements = Vec::new();
            if i == 0 {
                answers[0].1 = Answer::Rejected("meninggal dunia".into());
                replacements.push(Replacement {
                    replaces: list[0].id,
                    nik: "6409025507880003".into(),
                    name: "Siti Aminah".into(),
                    sex: "P".into(),
                    birth_date: "1988-07-15".into(),
                    occupation: "Pedagang".into(),
                    address: "RT 004".into(),
                });
                expected.insert("6409025507880003".into());
            }
            for (c, a) in list.iter().zip(&answers) {
                if a.1 == Answer::Confirmed {
                    expected.insert(c.nik.clone());
                }
            }
            replies::apply(db, &actor, &department, &reply, &answers, &replacements)
                .await
                .unwrap();
        }

        // BPJS: the exported workbook read back with two members found.
        let waiting = naskah::beneficiaries::bpjs::awaiting_check(db, 1).await.unwrap();
        assert_eq!(waiting.len(), expected.len(), "{label}");
        let villages = import::Villages::load(db, "64.09", "Kabupaten Penajam Paser Utara").await.unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        let rows = naskah::beneficiaries::bpjs::write_export(db, 1, &villages, "Diekspor oleh uji", file.path())
            .await
            .unwrap();
        assert_eq!(rows as usize, waiting.len(), "{label}");
        let xlsx = std::fs::read(file.path()).unwrap();
        let table = naskah::beneficiaries::reader::Table::open(&xlsx).unwrap();
        assert_eq!(table.headers[1], "NIK");
        let mut answer = String::from("NIK,STATUS_KEPESERTAAN,KETERANGAN\n");
        let mut records = table.records();
        let mut n = 0;
        while let Some((_, record)) = records.next_record() {
            let nik = record.unwrap()[1].to_string();
            let insured = n < 2;
            answer.push_str(&format!("{nik},{},\n", if insured { "TERDAFTAR" } else { "TIDAK TERDAFTAR" }));
            if insured {
                expected.remove(&nik);
            }
            n += 1;
        }
        let answers = naskah::beneficiaries::bpjs::read_answer(answer.as_bytes(), &waiting).unwrap();
        let applied = naskah::beneficiaries::bpjs::apply_answer(db, &actor, &department, "jawaban.csv", &answers, None)
            .await
            .unwrap();
        assert_eq!((applied.insured, applied.final_), (2, expected.len()), "{label}");
        support::assert_candidate_counts_kept(db, label).await;

        // The SK from the final list, signed.
        let konseptor = d.user("konseptor").await;
        let (letter, count) = naskah::cases::decree::draft(&d.flow, &konseptor, &department).await.unwrap();
        assert_eq!(count, expected.len());
        // Its list is the final list's and stays so: a revision cannot change it.
        let current = workflow::revision(db, letter.id, 1).await.unwrap().fields();
        let mut typed = current.clone();
        typed["penerima"][0]["nama"] = serde_json::json!("ORANG TAMBAHAN");
        let refused = d.flow.revise(&konseptor, letter.id, letter.version, &typed, "").await;
        assert!(
            matches!(&refused, Err(workflow::Error::Invalid(e)) if e.to_string().contains("SK perubahan")),
            "{label}: {refused:?}"
        );
        let mut without_list = current.clone();
        without_list.as_object_mut().unwrap().remove("penerima");
        without_list["memperhatikan"] = serde_json::json!("Berita acara verifikasi data.");
        let letter = d.flow.revise(&konseptor, letter.id, letter.version, &without_list, "").await.unwrap();
        let kept = workflow::revision(db, letter.id, 2).await.unwrap().fields();
        assert_eq!(kept["penerima"], current["penerima"], "{label}: the list is kept");
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        let letter = d.flow.submit(&staf, letter.id, letter.version).await.unwrap();
        let signed = d.through_chain(letter, 2, DEMO_PASSPHRASE).await;
        assert!(signed.number.is_some(), "{label}");
        let revision = workflow::revision(db, signed.id, 2).await.unwrap();
        let stored: serde_json::Value = serde_json::from_str(&revision.data).unwrap();
        let listed: std::collections::BTreeSet<String> = stored["penerima"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["nik"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(listed, expected, "{label}: exactly the valid, confirmed, not-insured candidates");
        assert_eq!(stored["iuran_per_bulan"], 16_800);

        // A final beneficiary's record tells the whole way.
        let person = candidates::by_nik(db, 1, expected.iter().next().unwrap()).await.unwrap().unwrap();
        let steps: Vec<String> = candidates::history(db, person.id)
            .await
            .unwrap()
            .iter()
            .filter(|h| h.kind != "digabung")
            .map(|h| h.status_to.clone())
            .collect();
        assert_eq!(steps, ["kandidat", "sementara", "dikonfirmasi", "final"], "{label}");

        // The public sees the record and a copy with masked NIKs, never the full list.
        let mut anon = support::Client::new(&state);
        let v = signed.verification_id.clone().unwrap();
        let page = anon.get(&format!("/v/{v}")).await;
        assert!(page.body.contains("id=\"salinan-umum\""), "{label}");
        assert_eq!(anon.get(&format!("/v/{v}/pdf")).await.status, StatusCode::FORBIDDEN);
        let copy = anon.get(&format!("/v/{v}/salinan-umum.pdf")).await;
        assert_eq!(copy.status, StatusCode::OK, "{label}");
        assert!(copy.bytes.starts_with(b"%PDF"));
        assert_eq!(
            copy.headers.get("cache-control").unwrap(),
            "no-store",
            "{label}: revocation must not leave the copy in a cache"
        );
        if let Some(text) = crate::letters::pdf_text(&copy.bytes) {
            let nik = expected.iter().next().unwrap();
            assert!(!text.contains(nik.as_str()), "{label}: no full NIK in the public copy");
            assert!(
                text.contains(&naskah::beneficiaries::nik::masked(nik)),
                "{label}: masked NIK listed"
            );
            assert!(text.contains(signed.number.as_deref().unwrap()), "{label}: the number");
            let pages = lopdf::Document::load_mem(&copy.bytes).unwrap().get_pages().len();
            assert!(
                text.matches("SALINAN UNTUK UMUM").count() >= pages,
                "{label}: every page says it is the public copy"
            );
        }
        let official = workflow::final_pdf(db, signed.id).await.unwrap().unwrap();
        if let Some(text) = crate::letters::pdf_text(&official) {
            assert!(
                text.contains(expected.iter().next().unwrap().as_str()),
                "{label}: full NIKs in the signed PDF"
            );
        }

        // After the SK, BPJS finds one beneficiary insured; the village proposes a
        // replacement, BPJS clears them; an amending decree replaces the SK.
        let number = signed.number.clone().unwrap();
        let insured_nik = expected.iter().next().unwrap().clone();
        let answerable = naskah::beneficiaries::bpjs::answerable(db, 1).await.unwrap();
        let late =
            naskah::beneficiaries::bpjs::read_answer(format!("NIK,STATUS\n{insured_nik},TERDAFTAR\n").as_bytes(), &answerable).unwrap();
        naskah::beneficiaries::bpjs::apply_answer(db, &actor, &department, "susulan.csv", &late, None)
            .await
            .unwrap();
        let gone = candidates::by_nik(db, 1, &insured_nik).await.unwrap().unwrap();
        assert_eq!(gone.status(), Status::Insured, "{label}");
        let village_letter = gone.letter_id.unwrap();
        let reply = incoming::register(
            db,
            &staf,
            &department,
            IncomingInput {
                received_on: "2026-11-21".into(),
                letter_number: "140/99/2026".into(),
                letter_date: "2026-11-21".into(),
                subject: "Usulan pengganti".into(),
                reply_to_letter_id: Some(village_letter),
                ..IncomingInput::default()
            },
            None,
        )
        .await
        .unwrap();
        let newcomer = format!("{}4107900007", &gone.nik[..6]);
        replies::apply(
            db,
            &actor,
            &department,
            &reply,
            &[],
            &[Replacement {
                replaces: gone.id,
                nik: newcomer.clone(),
                name: "Rina Wati".into(),
                sex: "P".into(),
                birth_date: "1990-07-01".into(),
                ..Replacement::default()
            }],
        )
        .await
        .unwrap();
        let waiting = naskah::beneficiaries::bpjs::awaiting_check(db, 1).await.unwrap();
        let cleared =
            naskah::beneficiaries::bpjs::read_answer(format!("NIK,STATUS\n{newcomer},TIDAK TERDAFTAR\n").as_bytes(), &waiting).unwrap();
        naskah::beneficiaries::bpjs::apply_answer(db, &actor, &department, "susulan-2.csv", &cleared, None)
            .await
            .unwrap();
        let (data, changes) = naskah::beneficiaries::decree::amendment_data(db, &department, &stored, &number)
            .await
            .unwrap();
        assert_eq!((changes.leaving.len(), changes.joining.len()), (1, 1), "{label}");
        assert!(
            data["tentang"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Perubahan atas Keputusan Kepala Dinas Nomor {number}"))
        );
        let amendment = d.flow.start_amendment(&konseptor, signed.id, &data).await.unwrap();
        let amendment = d.flow.submit(&konseptor, amendment.id, amendment.version).await.unwrap();
        let amendment = d.flow.submit(&staf, amendment.id, amendment.version).await.unwrap();
        let amendment = d.through_chain(amendment, 1, DEMO_PASSPHRASE).await;
        assert_ne!(amendment.number, signed.number);
        let original = workflow::get(db, 1, signed.id).await.unwrap();
        assert_eq!(original.superseded_by, Some(amendment.id), "{label}: the SK is replaced");
        let amended: serde_json::Value = serde_json::from_str(&workflow::revision(db, amendment.id, 1).await.unwrap().data).unwrap();
        let now: std::collections::BTreeSet<String> = amended["penerima"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["nik"].as_str().unwrap().to_string())
            .collect();
        let mut wanted = expected.clone();
        wanted.remove(&insured_nik);
        wanted.insert(newcomer);
        assert_eq!(now, wanted, "{label}");
        assert!(
            naskah::beneficiaries::decree::amendment_data(db, &department, &amended, "x")
                .await
                .is_err(),
            "nothing left to amend"
        );
    }
}

story! {
    /// Agenda numbers of simultaneous registrations are all taken, none twice.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn simultaneous_registrations_get_consecutive_agenda_numbers(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let staf = d.user("staf").await;
        let department = departments::get(&state.db, 1).await.unwrap();
        let mut registrations = Vec::new();
        for i in 0..12 {
            let (db, staf, department) = (state.db.clone(), staf.clone(), department.clone());
            registrations.push(async move {
                incoming::register(
                    &db,
                    &staf,
                    &department,
                    IncomingInput {
                        received_on: "2026-11-20".into(),
                        sender: format!("Desa {i}"),
                        letter_number: format!("140/{i}"),
                        letter_date: "2026-11-19".into(),
                        subject: "Balasan".into(),
                        reply_to_letter_id: None,
                    },
                    None,
                )
                .await
            });
        }
        let mut serials: Vec<i64> = support::at_once(registrations)
            .await
            .into_iter()
            .map(|done| done.unwrap_or_else(|e| panic!("{label}: {e}")).agenda_serial)
            .collect();
        serials.sort();
        assert_eq!(serials, (1..=12).collect::<Vec<i64>>(), "{label}");
    }
}
