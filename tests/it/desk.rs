//! "Tugas saya" holds everything that waits on a person, whatever its kind: a returned
//! draft with its note on top, a batch's drafts as one row with "Teruskan semua", the
//! Kepala Dinas's disposition to give, the disposition to carry out, the agendaris's
//! deliveries, the reply to apply and the import to finish; an empty inbox offers
//! what the role starts with. The same list on the home page and in the API. Both
//! engines.

use naskah::{
    audit::Actor,
    beneficiaries::import::{self, Upload},
    cases::desk::{self, Kind},
    departments,
    incoming::{self, DispositionInput, IncomingInput, Target},
    workflow::Decision,
};

use crate::{
    incoming::signed_confirmation,
    support::{self, DEMO_PASSPHRASE},
    workflow::{Demo, letter_data, request},
};

const P3KE: &str = include_str!("../data/candidates/p3ke.csv");

/// The whole desk, checked against the home page's reading a page at a time (counted in
/// the database, only the page's letters read): the same rows in the same order, pages
/// of two read from the front and, past the middle, from the end, and the same counts.
async fn desk_of(d: &Demo, username: &str) -> desk::Desk {
    let department = departments::get(&d.flow.db, 1).await.unwrap();
    let user = d.user(username).await;
    let whole = desk::for_user(&d.flow, &user, &department).await.unwrap();
    let row = |i: &desk::Item| {
        (
            i.kind,
            i.title.clone(),
            i.detail.clone(),
            i.count,
            i.since,
            i.overdue_minutes,
            i.acting_as.clone(),
            i.batch_id,
        )
    };
    let expected: Vec<_> = whole.items.iter().map(row).collect();
    let counts = |c: &[desk::Count]| c.iter().map(|c| (c.kind, c.count, c.overdue)).collect::<Vec<_>>();
    let mut paged = Vec::new();
    for page in 0..whole.items.len().div_ceil(2).max(1) {
        let part = naskah::cases::desk_page::page_for_user(&d.flow, &user, &department, page, 2)
            .await
            .unwrap();
        assert_eq!(part.total_items, whole.items.len(), "{username}");
        assert_eq!(counts(&part.desk.counts), counts(&whole.counts), "{username}: counts");
        paged.extend(part.desk.items.iter().map(row));
    }
    assert_eq!(paged, expected, "{username}: pages of two");
    whole
}

async fn created(d: &Demo, konseptor: &naskah::accounts::User, subject: &str) -> naskah::workflow::Letter {
    d.flow
        .create(konseptor, "surat-permintaan-data", &letter_data(subject), "konsep")
        .await
        .unwrap()
}

fn kinds(desk: &desk::Desk) -> Vec<(Kind, i64)> {
    desk.counts.iter().map(|c| (c.kind, c.count)).collect()
}

story! {
    #[tokio::test]
    async fn every_kind_of_work_reaches_the_person_it_waits_on(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let db = &d.flow.db;
        let department = departments::get(db, 1).await.unwrap();

        // Nothing yet: the drafter is offered to start a letter, the agendaris to
        // register an incoming one.
        let empty = desk_of(&d, "konseptor").await;
        assert!(empty.items.is_empty(), "{label}: {:?}", empty.items);
        assert_eq!(empty.suggestions[0].label, "Buat surat");
        let mut konseptor_page = support::logged_in(&state, "konseptor").await;
        let home = konseptor_page.get("/").await;
        assert!(
            home.body.contains("Tidak ada yang menunggu Anda") && home.body.contains(r#"href="/templat">Buat surat</a>"#),
            "{label}: {}",
            home.body
        );

        // A confirmation batch: the first letter signed, the others wait on the drafter,
        // as one row.
        let signed = signed_confirmation(&d, "64.09.01").await;
        let batch = signed.batch_id.unwrap();
        let konseptor_desk = desk_of(&d, "konseptor").await;
        let row = konseptor_desk.items.iter().find(|i| i.batch_id == Some(batch)).unwrap();
        assert_eq!(row.kind, Kind::Draft, "{label}");
        assert!(row.count >= 2, "{label}: {row:?}");
        assert_eq!((row.action.as_str(), row.action_href.as_str()), ("Teruskan semua", format!("/kumpulan/{batch}").as_str()));
        assert_eq!(
            konseptor_desk.items.iter().filter(|i| i.batch_id == Some(batch)).count(),
            1,
            "{label}: one row for the batch"
        );

        // The signed letter's deliveries wait on the agendaris (and the staff).
        let agendaris = desk_of(&d, "agendaris").await;
        let deliveries = agendaris.items.iter().find(|i| i.kind == Kind::Delivery).expect("deliveries");
        assert!(deliveries.count >= 1 && deliveries.action == "Catat pengiriman", "{label}: {deliveries:?}");
        assert!(desk_of(&d, "kadis").await.items.iter().all(|i| i.kind != Kind::Delivery));

        // The village's reply: the Kepala Dinas must dispose of it, the staff apply it.
        let staf = d.user("staf").await;
        let reply = incoming::register(
            db,
            &staf,
            &department,
            IncomingInput {
                received_on: support::days_from_today(0),
                sender: String::new(),
                letter_number: "140/77/Kel/2026".into(),
                letter_date: support::days_from_today(0),
                subject: "Hasil konfirmasi calon penerima".into(),
                reply_to_letter_id: Some(signed.id),
            },
            None,
        )
        .await
        .unwrap();
        let kadis = desk_of(&d, "kadis").await;
        let dispose = kadis.items.iter().find(|i| i.kind == Kind::Disposition).expect("disposition to give");
        assert_eq!(dispose.action, "Beri disposisi");
        assert_eq!(dispose.href, format!("/surat-masuk/{}", reply.id));
        let staf_desk = desk_of(&d, "staf").await;
        assert!(staf_desk.items.iter().any(|i| i.kind == Kind::Reply && i.href == dispose.href), "{label}");
        assert!(desk_of(&d, "kabid").await.items.iter().all(|i| i.kind != Kind::Disposition));

        // Disposed to the Kepala Bidang: it leaves the head's inbox and reaches his.
        incoming::dispose(
            db,
            &d.user("kadis").await,
            &department,
            reply.id,
            DispositionInput {
                to: Some(Target::User(d.user("kabid").await.id)),
                instructions: "Periksa dan laporkan".into(),
                due_on: support::days_from_today(3),
            },
        )
        .await
        .unwrap();
        assert!(desk_of(&d, "kadis").await.items.iter().all(|i| i.kind != Kind::Disposition), "{label}");
        let kabid = desk_of(&d, "kabid").await;
        let follow = kabid.items.iter().find(|i| i.kind == Kind::FollowUp).expect("disposition to carry out");
        assert!(follow.detail.contains("Periksa dan laporkan") && follow.overdue_minutes.is_none(), "{follow:?}");

        // A letter returned with a note: the drafter sees it as returned, the note on it.
        let konseptor = d.user("konseptor").await;
        let letter = d
            .flow
            .create(&konseptor, "surat-permintaan-data", &letter_data("Permintaan data uji kotak masuk"), "konsep")
            .await
            .unwrap();
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        let letter = d.flow.submit(&staf, letter.id, letter.version).await.unwrap();
        let mut back = request(Decision::Kembalikan, letter.revision);
        back.note = "Lampiran belum sesuai format; perbaiki tabelnya.".into();
        d.flow.decide(&d.user("kabid").await, letter.id, &back, DEMO_PASSPHRASE).await.unwrap();
        let konseptor_desk = desk_of(&d, "konseptor").await;
        let returned = konseptor_desk.items.iter().find(|i| i.href == format!("/surat/{}", letter.id)).unwrap();
        assert_eq!((returned.kind, returned.action.as_str()), (Kind::Returned, "Perbaiki"), "{label}");
        let note = returned.returned.as_ref().unwrap();
        assert_eq!(note.note, back.note);
        assert!(note.returned_by.contains("Bidang") || note.position_title.contains("Bidang"), "{note:?}");
        let home = konseptor_page.get("/").await;
        let at_note = home.body.find("Lampiran belum sesuai format").expect("the note on the home page");
        let at_title = home.body[at_note..].find("Permintaan data uji kotak masuk");
        assert!(at_title.is_some(), "{label}: the note stands above its letter");
        assert!(home.body.contains("Dikembalikan oleh"), "{label}");
        // The letter's own page says it first, above the form.
        let page = konseptor_page.get(&format!("/surat/{}", letter.id)).await;
        let at_note = page.body.find(r#"id="catatan-pengembalian""#).expect("the return note on the letter page");
        assert!(page.body[at_note..].contains("Lampiran belum sesuai format; perbaiki tabelnya."), "{label}");
        assert!(at_note < page.body.find("Ubah dan teruskan konsep").unwrap(), "{label}: above the form");

        // An import checked and not finished waits on those who manage the data.
        import::check(
            db,
            &Actor::System("uji"),
            &department,
            Upload {
                file_name: "p3ke-lagi.csv",
                content: naskah::beneficiaries::import::Content::Bytes(P3KE.as_bytes()),
                source: "",
                mapping: None,
            },
        )
        .await
        .unwrap();
        let staf_desk = desk_of(&d, "staf").await;
        assert!(staf_desk.items.iter().any(|i| i.kind == Kind::Import), "{label}: {:?}", kinds(&staf_desk));
        assert!(desk_of(&d, "agendaris").await.items.iter().all(|i| i.kind != Kind::Import));

        // Oldest first, and the counts add up to the rows they stand for.
        let konseptor_desk = desk_of(&d, "konseptor").await;
        assert!(konseptor_desk.items.windows(2).all(|w| w[0].since <= w[1].since), "{label}");
        for count in &konseptor_desk.counts {
            let sum: i64 = konseptor_desk.items.iter().filter(|i| i.kind == count.kind).map(|i| i.count).sum();
            assert_eq!(sum, count.count, "{label}: {:?}", count.kind);
        }

        // The API gives the same rows.
        let mut api = support::api_client(&state, "kabid").await;
        let inbox = api.get("/api/v1/inbox").await.json();
        let items = inbox["items"].as_array().unwrap();
        assert!(items.iter().any(|i| i["kind"] == "follow_up"), "{label}: {inbox}");
        assert!(inbox["counts"].as_array().unwrap().iter().any(|c| c["kind"] == "follow_up" && c["count"] == 1));
    }
}

story! {
    /// "Simpan dan teruskan": what was typed is saved before the letter moves on; with
    /// nothing changed it only moves on; a refused form keeps every value typed, the
    /// revision note included, and moves nothing.
    #[tokio::test]
    async fn saving_and_passing_on_is_one_step_and_a_refusal_keeps_the_input(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let db = &d.flow.db;
        let konseptor = d.user("konseptor").await;
        // Edited and passed on at once: revision 2 is what the typist receives.
        let letter = created(&d, &konseptor, "Permintaan data simpan dan teruskan").await;
        let mut data = naskah::workflow::revision(db, letter.id, 1).await.unwrap().fields();
        data["hal"] = "Permintaan data yang sudah diperbaiki".into();
        let moved = d.flow.save_and_submit(&konseptor, letter.id, letter.version, &data, "hal diperbaiki").await.unwrap();
        assert_eq!((moved.revision, moved.stage), (2, 1), "{label}");
        assert_eq!(moved.subject, "Permintaan data yang sudah diperbaiki");
        // Nothing changed: no empty revision, only passed on.
        let other = created(&d, &konseptor, "Permintaan data tanpa perubahan").await;
        let same = naskah::workflow::revision(db, other.id, 1).await.unwrap().fields();
        let moved = d.flow.save_and_submit(&konseptor, other.id, other.version, &same, "").await.unwrap();
        assert_eq!((moved.revision, moved.stage), (1, 1), "{label}");
        // A stale page passes nothing on.
        let third = created(&d, &konseptor, "Permintaan data halaman lama").await;
        let data = naskah::workflow::revision(db, third.id, 1).await.unwrap().fields();
        let stale = d.flow.save_and_submit(&konseptor, third.id, third.version - 1, &data, "").await;
        assert!(matches!(stale, Err(naskah::workflow::Error::Conflict(_))), "{label}: {stale:?}");

        // Through the page, with the required "Isi surat" left empty: refused, nothing
        // saved or moved, every typed value back in the form.
        let mut page = support::logged_in(&state, "konseptor").await;
        let view = page.get(&format!("/surat/{}", third.id)).await;
        assert!(view.body.contains(r#"name="lanjut" value="teruskan">Simpan dan teruskan ke"#), "{}", view.body);
        assert!(!view.body.contains(&format!(r#"action="/surat/{}/teruskan""#, third.id)), "no separate pass-on form");
        let refused = page
            .post_form(
                &format!("/surat/{}/revisi", third.id),
                &[
                    ("csrf", &view.csrf()),
                    ("versi", &third.version.to_string()),
                    ("hal", "Hal yang saya ketik sendiri"),
                    ("isi", ""),
                    ("catatan_revisi", "Catatan revisi saya"),
                    ("lanjut", "teruskan"),
                ],
            )
            .await;
        assert_eq!(refused.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        assert!(refused.body.contains(r#"value="Hal yang saya ketik sendiri""#), "{}", refused.body);
        assert!(refused.body.contains(">Catatan revisi saya</textarea>"), "{label}");
        let after = naskah::workflow::get(db, 1, third.id).await.unwrap();
        assert_eq!((after.revision, after.stage, after.version), (1, 0, third.version), "{label}");
    }
}

story! {
    /// A courier's round recorded at once from the batch's distribution: every row
    /// chosen is delivered with its own receiver, event and audit record; a row without
    /// a receiver refuses the whole round, names the recipient and keeps what was typed.
    #[tokio::test]
    async fn a_courier_round_is_recorded_at_once(test_db: support::TestDb) {
        use axum::http::StatusCode;
        use naskah::distribution::deliveries;
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let db = &d.flow.db;
        let signed = signed_confirmation(&d, "64.09.01").await;
        let batch = signed.batch_id.unwrap();
        let open: Vec<_> = deliveries::for_letter(db, 1, signed.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|x| x.channel == "hand")
            .collect();
        assert!(open.len() >= 2, "{label}: {open:?}");
        let (first, second) = (&open[0], &open[1]);

        // Only those who distribute.
        let mut kabid = support::logged_in(&state, "kabid").await;
        assert_eq!(kabid.get(&format!("/distribusi/catat?kumpulan={batch}")).await.status, StatusCode::FORBIDDEN);

        let mut agendaris = support::logged_in(&state, "agendaris").await;
        let page = agendaris.get(&format!("/distribusi/catat?kumpulan={batch}")).await;
        assert_eq!(page.status, StatusCode::OK, "{label}");
        assert!(page.body.contains(r#"data-select="all""#) && page.body.contains(&format!(r#"name="pengiriman" value="{}""#, first.id)));
        let csrf = page.csrf();
        let (first_id, second_id) = (first.id.to_string(), second.id.to_string());
        let refused = agendaris
            .post_form(
                "/distribusi/catat",
                &[
                    ("csrf", &csrf),
                    ("kumpulan", &batch.to_string()),
                    ("tindakan", "diterima"),
                    ("tanggal", &support::days_from_today(0)),
                    ("pengiriman", &first_id),
                    ("pengiriman", &second_id),
                    (&format!("penerima_{first_id}"), "Siti Aminah"),
                    ("penerima_semua", ""),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {}", refused.body);
        assert!(refused.body.contains(&format!("Pengiriman kepada {}", second.name)), "{}", refused.body);
        assert!(refused.body.contains(r#"value="Siti Aminah""#), "typed receiver kept");
        assert!(refused.body.contains(&format!(r#"name="pengiriman" value="{first_id}" checked"#)), "choice kept");
        for x in [first, second] {
            assert_eq!(deliveries::get(db, 1, x.id).await.unwrap().status, "queued", "{label}: all or none");
        }

        let done = agendaris
            .post_form(
                "/distribusi/catat",
                &[
                    ("csrf", &csrf),
                    ("kumpulan", &batch.to_string()),
                    ("tindakan", "diterima"),
                    ("tanggal", &support::days_from_today(0)),
                    ("pengiriman", &first_id),
                    ("pengiriman", &second_id),
                    (&format!("penerima_{first_id}"), "Siti Aminah"),
                    ("penerima_semua", "Petugas Kecamatan"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{label}: {}", done.body);
        assert_eq!(done.location(), format!("/distribusi?kumpulan={batch}&ok=pengiriman-sekaligus"));
        let a = deliveries::get(db, 1, first.id).await.unwrap();
        let b = deliveries::get(db, 1, second.id).await.unwrap();
        assert_eq!((a.status.as_str(), a.receiver_name.as_str()), ("delivered", "Siti Aminah"), "{label}");
        assert_eq!((b.status.as_str(), b.receiver_name.as_str()), ("delivered", "Petugas Kecamatan"), "{label}");
        let events = deliveries::events(db, signed.id).await.unwrap();
        for x in [first, second] {
            assert!(events.iter().any(|e| e.delivery_id == x.id && e.status == "delivered"), "{label}: event of {}", x.id);
        }
        let (audited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'delivery.changed'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(audited, 2, "{label}");
        // They left the agendaris's inbox count.
        let desk = desk_of(&d, "agendaris").await;
        let waiting: i64 = desk.items.iter().filter(|i| i.kind == Kind::Delivery).map(|i| i.count).sum();
        let open_after = deliveries::for_letter(db, 1, signed.id)
            .await
            .unwrap()
            .iter()
            .filter(|x| x.channel != "email" && !matches!(x.status.as_str(), "delivered" | "acknowledged"))
            .count() as i64;
        assert_eq!(waiting, open_after, "{label}");
    }
}

story! {
    /// A refused decision keeps the choice and the note; the passphrase field says how
    /// many tries are left before the lock and, once locked, until when, and the lock's
    /// message stands at that field.
    #[tokio::test]
    async fn a_wrong_passphrase_keeps_the_decision_and_counts_down_to_the_lock(test_db: support::TestDb) {
        use axum::http::StatusCode;
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let konseptor = d.user("konseptor").await;
        let letter = created(&d, &konseptor, "Permintaan data uji frasa sandi").await;
        let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
        let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
        let mut kabid = support::logged_in(&state, "kabid").await;
        let path = format!("/surat/{}", letter.id);
        let page = kabid.get(&path).await;
        assert!(page.body.contains("Frasa sandi membuka kunci tanda tangan Anda"), "{label}");
        let csrf = page.csrf();
        let revision = letter.revision.to_string();
        let attempt = |passphrase: &'static str| {
            [
                ("csrf", csrf.clone()),
                ("revisi", revision.clone()),
                ("keputusan", "kembalikan".to_string()),
                ("catatan", "Tabel lampiran belum lengkap.".to_string()),
                ("frasa_sandi", passphrase.to_string()),
            ]
        };
        let pairs = attempt("salah sekali ini");
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let wrong = kabid.post_form(&format!("{path}/keputusan"), &pairs).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        assert!(wrong.body.contains("Frasa sandi salah."));
        assert!(wrong.body.contains("Sisa 4 kali percobaan"), "{}", wrong.body);
        assert!(wrong.body.contains(r#"<option value="kembalikan" selected>"#), "the decision chosen stays chosen");
        assert!(wrong.body.contains(">Tabel lampiran belum lengkap.</textarea>"), "the note stays");
        for _ in 0..4 {
            let _ = kabid.post_form(&format!("{path}/keputusan"), &pairs).await;
        }
        let locked = kabid.post_form(&format!("{path}/keputusan"), &pairs).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{label}");
        assert!(locked.body.contains("Terlalu banyak frasa sandi salah"), "{}", locked.body);
        assert!(locked.body.contains(r#"id="frasa_sandi-galat""#), "the message marks the field");
        let page = kabid.get(&path).await;
        assert!(page.body.contains("Kunci Anda ditahan karena 5 kali frasa sandi salah, sampai"), "{}", page.body);
    }
}

story! {
    /// Reminders through the real SMTP server of the tests: the Kepala Dinas, who has an
    /// address, receives a digest when an incoming letter waits on his disposition, no
    /// second digest within the interval, one reminder when it passes its standard time
    /// (5 minutes), and nothing once he switches reminders off on his account page.
    #[tokio::test]
    async fn reminders_reach_the_official_by_mail_once_and_can_be_switched_off(test_db: support::TestDb) {
        use crate::mail::{aiosmtpd_available, free_port, mail_config, start_sink, unquote};
        use naskah::notifications::{self, sender::ReminderSender};
        if !aiosmtpd_available() {
            return;
        }
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let db = &d.flow.db;
        let department = departments::get(db, 1).await.unwrap();
        sqlx::query("UPDATE users SET email = '' WHERE department_id = 1").execute(&db.pool).await.unwrap();
        sqlx::query("UPDATE users SET email = 'kadis@disnaker.penajamkab.go.id' WHERE username = 'kadis'")
            .execute(&db.pool)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let sink = start_sink(port, dir.path());
        let sender = ReminderSender::from_config(db, &mail_config(port, 3)).unwrap().unwrap();
        let base = "https://naskah.example.go.id";
        let hour = 3600;

        // Nothing waits: nothing is sent.
        assert_eq!(notifications::plan(&d.flow, base, hour).await.unwrap().messages, 0, "{label}");
        let reply = incoming::register(
            db,
            &d.user("staf").await,
            &department,
            IncomingInput {
                received_on: support::days_from_today(0),
                sender: "Kepala Desa Sotek".into(),
                letter_number: "140/12/2026".into(),
                letter_date: support::days_from_today(0),
                subject: "Balasan konfirmasi calon penerima".into(),
                reply_to_letter_id: None,
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!(notifications::plan(&d.flow, base, hour).await.unwrap().messages, 1, "{label}");
        assert_eq!(sender.run_once().await.unwrap().sent, 1, "{label}");
        let messages = sink.messages();
        assert_eq!(messages.len(), 1, "{label}");
        let digest = &unquote(&messages[0]);
        assert!(digest.contains("kadis@disnaker.penajamkab.go.id"), "{digest}");
        assert!(digest.contains("Balasan konfirmasi calon penerima") && digest.contains("Beri disposisi"), "{digest}");
        assert!(digest.contains(&format!("{base}/surat-masuk/{}#disposisi", reply.id)), "{digest}");
        // Within the interval: no second digest.
        assert_eq!(notifications::plan(&d.flow, base, hour).await.unwrap().messages, 0, "{label}");

        // Past its standard time (5 minutes): one reminder at once, then never again.
        sqlx::query("UPDATE incoming_letters SET registered_at = registered_at - 600 WHERE id = $1")
            .bind(reply.id)
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(notifications::plan(&d.flow, base, hour).await.unwrap().messages, 1, "{label}");
        assert_eq!(sender.run_once().await.unwrap().sent, 1);
        let late = unquote(&sink.messages().pop().unwrap());
        assert!(late.contains("Melewati waktu baku SOP") && late.contains("Terlambat"), "{late}");
        assert_eq!(notifications::plan(&d.flow, base, hour).await.unwrap().messages, 0, "{label}: once");

        // Switched off on the account page: nothing more, even for new work.
        let mut kadis = support::logged_in(&state, "kadis").await;
        let page = kadis.get("/akun").await;
        assert!(page.body.contains(r#"name="pengingat" value="ya" checked"#), "{}", page.body);
        let off = kadis.post_form("/akun/pengingat", &[("csrf", &page.csrf())]).await;
        assert_eq!(off.location(), "/akun?ok=pengingat");
        assert!(!notifications::enabled(db, d.user("kadis").await.id).await.unwrap());
        sqlx::query("UPDATE users SET last_digest_at = 0 WHERE username = 'kadis'").execute(&db.pool).await.unwrap();
        assert_eq!(notifications::plan(&d.flow, base, hour).await.unwrap().messages, 0, "{label}: switched off");
        assert_eq!(sink.messages().len(), 2);
    }
}
