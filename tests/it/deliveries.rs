//! The delivery log: planned in the signing transaction for every addressee and copy,
//! matched to the recipients' directory (e-mail where an address is known, else by
//! hand); changes recorded by staff with their history and audit; the dashboard against
//! the SOP's days; and the same through the pages.

use axum::http::StatusCode;
use naskah::{
    audit::Actor,
    distribution::{
        self,
        deliveries::{self, Change},
        recipients::{self, Filter},
    },
    workflow,
};

use crate::{
    support::{self, DEMO_PASSPHRASE, all_of},
    workflow::Demo,
};

/// The data-request letter, signed, with Dinas Sosial given an e-mail address first.
async fn signed_request(d: &Demo) -> workflow::Letter {
    let directory = recipients::list(&d.flow.db, d.department_id, &Filter::default()).await.unwrap();
    let dinsos = directory.iter().find(|r| r.name.starts_with("Dinas Sosial")).unwrap();
    let mut input = recipients::RecipientInput {
        kind: dinsos.kind.clone(),
        region_code: String::new(),
        name: dinsos.name.clone(),
        head_title: dinsos.head_title.clone(),
        head_name: String::new(),
        email: "dinsos@penajamkab.go.id".into(),
        phone: String::new(),
        address: String::new(),
        active: true,
    };
    input.email = "dinsos@penajamkab.go.id".into();
    recipients::update(&d.flow.db, &Actor::System("uji"), d.department_id, dinsos.id, input)
        .await
        .unwrap();
    let konseptor = d.user("konseptor").await;
    let letter = d
        .flow
        .create(&konseptor, "surat-permintaan-data", &serde_json::json!({}), "uji")
        .await
        .unwrap();
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    d.through_chain(letter, 1, DEMO_PASSPHRASE).await
}

story! {
    #[tokio::test]
    async fn deliveries_are_planned_at_signature_and_recorded_with_history(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let db = &d.flow.db;
        let letter = signed_request(&d).await;
        let list = deliveries::for_letter(db, 1, letter.id).await.unwrap();
        let summary: Vec<(&str, &str, &str, &str)> = list
            .iter()
            .map(|x| (x.role.as_str(), x.name.as_str(), x.channel.as_str(), x.status.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("kepada", "Kepala Dinas Sosial Kabupaten Penajam Paser Utara", "email", "queued"),
                (
                    "kepada",
                    "Kepala Badan Pusat Statistik Kabupaten Penajam Paser Utara",
                    "hand",
                    "queued"
                ),
                (
                    "kepada",
                    "Kepala Badan Perencanaan Pembangunan Daerah Kabupaten Penajam Paser Utara",
                    "hand",
                    "queued"
                ),
                ("tembusan", "Bupati Penajam Paser Utara (sebagai laporan)", "hand", "queued"),
            ],
            "{label}"
        );
        assert!(
            list.iter().all(|x| x.recipient_id.is_some()),
            "{label}: every name found in the directory"
        );
        assert_eq!(list[0].address, "dinsos@penajamkab.go.id");
        assert!(
            list[0].next_attempt_at.is_some() && list[1].next_attempt_at.is_none(),
            "{label}: e-mail due at once"
        );

        let agendaris = d.user("agendaris").await.actor();
        // Bad input changes nothing.
        let no_name = deliveries::change(
            db,
            &agendaris,
            1,
            list[1].id,
            Change::Delivered {
                receiver: "  ".into(),
                at: None,
            },
        )
        .await;
        assert!(matches!(no_name, Err(distribution::Error::Invalid(_))), "{label}");
        let bad_email = deliveries::change(
            db,
            &agendaris,
            1,
            list[2].id,
            Change::Channel {
                channel: "email".into(),
                address: "bukan surel".into(),
            },
        )
        .await;
        assert!(matches!(bad_email, Err(distribution::Error::Invalid(_))), "{label}");
        assert_eq!(deliveries::get(db, 1, list[2].id).await.unwrap().channel, "hand");
        // Another department's delivery is not found.
        assert!(matches!(
            deliveries::change(db, &agendaris, 2, list[1].id, Change::Resend).await,
            Err(distribution::Error::NotFound)
        ));

        let handed = deliveries::change(
            db,
            &agendaris,
            1,
            list[1].id,
            Change::Delivered {
                receiver: " Rina  Marlina ".into(),
                at: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (handed.status.as_str(), handed.receiver_name.as_str()),
            ("delivered", "Rina Marlina")
        );
        assert!(handed.delivered_at.is_some() && handed.sent_at.is_some());
        let lost = deliveries::change(
            db,
            &agendaris,
            1,
            list[3].id,
            Change::Failed {
                reason: "kantor tutup".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(lost.status, "failed");
        let again = deliveries::change(db, &agendaris, 1, list[3].id, Change::Resend).await.unwrap();
        assert_eq!((again.status.as_str(), again.last_error.as_str()), ("queued", ""));
        let confirmed = deliveries::change(db, &agendaris, 1, list[1].id, Change::Acknowledged { note: "telepon".into() })
            .await
            .unwrap();
        assert_eq!(confirmed.status, "acknowledged");
        let history = deliveries::events(db, letter.id).await.unwrap();
        assert_eq!(history.len(), 4 + 4, "{label}: planned ×4, then four changes");
        assert!(
            history
                .iter()
                .any(|e| e.note == "diterima oleh Rina Marlina" && e.actor.contains("agendaris"))
        );
        let (audited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'delivery.changed'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(audited, 4, "{label}");

        // The dashboard: one letter, one of four confirmed, due a day after signature.
        let progress = naskah::distribution::progress::page(db, 1, &all_of(None), 100, 0).await.unwrap().0;
        assert_eq!(progress.len(), 1, "{label}");
        let p = &progress[0];
        assert_eq!((p.total, p.out, p.received, p.acknowledged), (4, 1, 1, 1), "{label}");
        assert_eq!(p.pending.len(), 3);
        assert_eq!(p.due_at, letter.signed_at.unwrap() + 86_400);
        assert!(!p.late(p.signed_at + 3600) && p.late(p.signed_at + 2 * 86_400), "{label}");
        // The figures over all letters agree, the SOP's time per template included.
        use naskah::distribution::progress::{self, ProgressQuery};
        let signed = p.signed_at;
        let soon = progress::summary(db, 1, &all_of(None), signed + 3600).await.unwrap();
        assert_eq!((soon.letters, soon.undistributed, soon.late, soon.not_received), (1, 1, 0, 3), "{label}");
        assert_eq!(progress::summary(db, 1, &all_of(None), signed + 2 * 86_400).await.unwrap().late, 1, "{label}");
        let five_days = ProgressQuery {
            days: vec![(p.template_id.clone(), 5)],
            ..all_of(None)
        };
        assert_eq!(progress::summary(db, 1, &five_days, signed + 2 * 86_400).await.unwrap().late, 0, "{label}");
        assert_eq!(progress::summary(db, 1, &five_days, signed + 6 * 86_400).await.unwrap().late, 1, "{label}");
        // Another batch lists nothing; the open letters' list holds it until all four have it.
        assert_eq!(progress::page(db, 1, &all_of(Some(999)), 100, 0).await.unwrap().1, 0, "{label}");
        let open = ProgressQuery {
            include_complete: false,
            ..all_of(None)
        };
        assert_eq!(progress::page(db, 1, &open, 100, 0).await.unwrap().1, 1, "{label}");
    }
}

story! {
    #[tokio::test]
    async fn the_letter_page_and_the_dashboard(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let letter = signed_request(&d).await;
        let list = deliveries::for_letter(&state.db, 1, letter.id).await.unwrap();

        let mut agendaris = support::logged_in(&state, "agendaris").await;
        let page = agendaris.get(&format!("/surat/{}", letter.id)).await;
        assert!(
            page.body.contains("id=\"pengiriman\"") && page.body.contains("0 dari 4 penerima sudah dikirimi"),
            "{}",
            page.body
        );
        assert!(page.body.contains(&format!("/pengiriman/{}/diterima", list[1].id)));
        let csrf = page.csrf();
        let done = agendaris
            .post_form(
                &format!("/pengiriman/{}/diterima", list[1].id),
                &[("csrf", &csrf), ("penerima", "Rina <b>Marlina</b>")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let page = agendaris.get(&format!("/surat/{}", letter.id)).await.body;
        assert!(
            page.contains("diterima oleh Rina &lt;b&gt;Marlina&lt;/b&gt;") || page.contains("Rina &#60;b&#62;"),
            "escaped"
        );
        // Bad input: the letter page again, with the reason.
        let refused = agendaris
            .post_form(&format!("/pengiriman/{}/gagal", list[2].id), &[("csrf", &csrf), ("alasan", "")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Tuliskan mengapa pengiriman gagal"));
        // Only those who distribute record deliveries; the token is checked.
        let mut drafter = support::logged_in(&state, "konseptor").await;
        let csrf_d = drafter.csrf_of("/distribusi").await;
        let denied = drafter
            .post_form(&format!("/pengiriman/{}/ulang", list[1].id), &[("csrf", &csrf_d)])
            .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert!(!drafter.get(&format!("/surat/{}", letter.id)).await.body.contains("/pengiriman/"));

        // The distribution list for the courier: letterhead, the letter's number, each
        // recipient carried by hand with room for a signature; e-mail ones only on request.
        let list = drafter.get(&format!("/surat/{}/daftar-pengiriman.pdf", letter.id)).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.bytes.starts_with(b"%PDF"));
        if let Some(text) = crate::letters::pdf_text(&list.bytes) {
            assert!(text.contains("DAFTAR PENGIRIMAN SURAT") && text.contains("Tanda tangan"), "{text}");
            assert!(
                text.replace(' ', "").contains(letter.number.as_deref().unwrap()) && text.contains("Bupati Penajam Paser Utara"),
                "{text}"
            );
            assert!(text.contains("Rina <b>Marlina</b>"), "the receiver already recorded: {text}");
            assert!(
                !text.contains("dinsos@penajamkab.go.id"),
                "e-mail deliveries are not carried: {text}"
            );
            assert!(!text.contains("KONSEP"), "{text}");
        }
        let everything = drafter.get(&format!("/surat/{}/daftar-pengiriman.pdf?semua=1", letter.id)).await;
        if let Some(text) = crate::letters::pdf_text(&everything.bytes) {
            assert!(text.contains("surel: dinsos@penajamkab.go.id"), "{text}");
        }

        let board = drafter.get("/distribusi").await;
        assert_eq!(board.status, StatusCode::OK);
        assert!(
            board.body.contains("1 surat ditandatangani") && board.body.contains("3 penerima belum tercatat menerima"),
            "{}",
            board.body
        );
        assert!(
            board
                .body
                .contains("Bupati Penajam Paser Utara (sebagai laporan) (menunggu dikirim)")
        );
        assert!(board.body.contains("Dalam pengiriman"));
    }
}
