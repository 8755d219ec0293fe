//! The public copy of a signed decree (NIKs masked): made once and stored with its hash,
//! sealed with the department's own P-256 seal certificate from its root, which pyHanko
//! and pdfsig validate; recognised by the upload check ("salinan umum resmi dari naskah
//! ini") and by `naskah verify --offline`; withdrawn at once by revocation and never
//! cached. On both engines.

use axum::http::StatusCode;
use naskah::{
    keys::authority,
    verification::{self, offline},
    workflow,
};
use sqlx::Any;

use crate::{
    register::{signed, sk_example},
    support::{self, Client},
    verification::multipart,
    workflow::Demo,
};

async fn count(db: &naskah::db::Db, action: &str, subject: &str) -> i64 {
    sqlx::query_as::<Any, (i64,)>("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND subject = $2")
        .bind(action)
        .bind(subject)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .0
}

story! {
    #[tokio::test]
    async fn the_public_copy_is_made_once_sealed_recognised_and_withdrawn_by_revocation(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let db = &state.db;
        let d = Demo::over(&state);
        let decree = signed(&d, "sk-penerima-bantuan-iuran", &sk_example()).await;
        let v = decree.verification_id.clone().unwrap();
        let subject = format!("letter:{}", decree.id);
        let mut anon = Client::new(&state);
        let mut other = Client::new(&state);

        let page = anon.get(&format!("/v/{v}")).await;
        assert!(page.body.contains("id=\"salinan-umum\""), "{label}");
        assert!(
            workflow::public_copy::stored(db, decree.id).await.unwrap().is_none(),
            "{label}: made on first request"
        );

        // Two readers at once get the same bytes; it is made, sealed and stored once.
        let path = format!("/v/{v}/salinan-umum.pdf");
        let (first, second) = tokio::join!(anon.get(&path), other.get(&path));
        assert_eq!((first.status, second.status), (StatusCode::OK, StatusCode::OK), "{label}");
        assert_eq!(first.bytes, second.bytes, "{label}: one copy for everyone");
        assert_eq!(first.headers.get("cache-control").unwrap(), "no-store", "{label}");
        let copy = first.bytes;
        let again = anon.get(&path).await;
        assert_eq!(again.bytes, copy, "{label}: served from storage afterwards");
        let stored = workflow::public_copy::stored(db, decree.id).await.unwrap().unwrap();
        assert_eq!(stored.pdf, copy, "{label}");
        assert_eq!(stored.sha256, workflow::statement::sha256_hex(&copy), "{label}");
        assert_eq!(count(db, "letter.public_copy_made", &subject).await, 1, "{label}");
        let json = anon.get(&format!("/v/{v}.json")).await.json();
        assert_eq!(json["salinan_umum"]["sha256"], stored.sha256, "{label}");
        assert_ne!(
            copy,
            workflow::final_pdf(db, decree.id).await.unwrap().unwrap(),
            "{label}: not the signed original"
        );

        // Its own signature is the department's seal, valid for outside validators.
        let root = authority::current(db, 1).await.unwrap().unwrap();
        let found = naskah::signing::pades::inspect(&copy, std::slice::from_ref(&root.certificate));
        assert_eq!(found.len(), 1, "{label}");
        assert!(found[0].valid() && found[0].covers_whole_file, "{label}: {:?}", found[0]);
        let seal_name = found[0].signer.clone().unwrap();
        assert!(
            seal_name.starts_with("Segel Elektronik Dinas Tenaga Kerja Kabupaten Penajam Paser Utara"),
            "{label}: {seal_name}"
        );
        assert_eq!(found[0].algorithm, Some("ECDSA P-256 (SHA-256)"), "{label}");
        let dir = tempfile::tempdir().unwrap();
        if let Some(report) = crate::pades::pyhanko(dir.path(), &copy, &root.pem()) {
            assert_eq!(report.len(), 1, "{label}: {report:?}");
            let seal = &report[0];
            for key in ["intact", "valid", "trusted", "bottom_line"] {
                assert_eq!(seal[key], true, "{label}: {key} {seal}");
            }
            assert_eq!(seal["coverage"], "ENTIRE_FILE", "{label}: {seal}");
            assert!(seal["signer"].as_str().unwrap().contains("Segel Elektronik"), "{label}: {seal}");
        }
        if let Some(report) = crate::pades::pdfsig(dir.path(), &copy, &root.certificate) {
            assert!(report.contains("Signature Validation: Signature is Valid."), "{label}: {report}");
            assert!(
                report.contains("Certificate Validation: Certificate is Trusted."),
                "{label}: {report}"
            );
            assert!(report.contains("Segel Elektronik"), "{label}: {report}");
        }

        // The upload check recognises it; a changed byte is not the copy.
        let check = format!("/v/{v}/periksa");
        let (kind, body) = multipart(&copy);
        let recognised = anon.send("POST", &check, Some(&kind), body, &[]).await;
        assert!(
            recognised.body.contains("<h1 id=\"status\">SAH</h1>"),
            "{label}: {}",
            recognised.body
        );
        assert!(
            recognised.body.contains("salinan umum resmi dari naskah ini"),
            "{label}: {}",
            recognised.body
        );
        let mut changed = copy.clone();
        let middle = changed.len() / 2;
        changed[middle] ^= 0x01;
        let (kind, body) = multipart(&changed);
        let refused = anon.send("POST", &check, Some(&kind), body, &[]).await;
        assert!(
            refused.body.contains("<h1 id=\"status\">TIDAK SAH</h1>"),
            "{label}: {}",
            refused.body
        );
        assert!(!refused.body.contains("salinan umum resmi"), "{label}");

        // Offline, the copy says what it is: sealed, valid, not the original.
        let published = verification::published_keys(db).await.unwrap();
        let report = offline::check(offline::Input::Pdf(&copy), &published).unwrap();
        let line = report.embedded.unwrap();
        assert!(line.starts_with("PDF ini SALINAN UNTUK UMUM"), "{label}: {line}");
        assert_eq!(report.number.as_deref(), decree.number.as_deref(), "{label}");
        assert!(offline::check(offline::Input::Pdf(&changed), &published).is_err(), "{label}");

        // Nothing that revocation changes may be kept by a shared cache.
        let keys = anon.get("/.well-known/naskah-keys.json").await;
        assert_eq!(keys.headers.get("cache-control").unwrap(), "no-cache", "{label}");
        let crl = anon.get(&format!("/ca/{}.crl", root.fingerprint)).await;
        assert_eq!(crl.status, StatusCode::OK, "{label}");
        assert_eq!(crl.headers.get("cache-control").unwrap(), "no-cache", "{label}");

        // Revocation withdraws the copy at once; the stored copy is still recognised, under
        // the DICABUT verdict.
        d.flow
            .revoke(&d.user("kadis").await, decree.id, "Keputusan dicabut untuk uji")
            .await
            .unwrap();
        let gone = anon.get(&path).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{label}");
        assert_eq!(gone.headers.get("cache-control").unwrap(), "no-store", "{label}");
        let page = anon.get(&format!("/v/{v}")).await;
        assert!(!page.body.contains("id=\"salinan-umum\""), "{label}");
        let (kind, body) = multipart(&copy);
        let revoked = anon.send("POST", &check, Some(&kind), body, &[]).await;
        assert!(revoked.body.contains("<h1 id=\"status\">DICABUT</h1>"), "{label}: {}", revoked.body);
    }
}
