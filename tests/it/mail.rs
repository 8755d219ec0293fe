//! E-mail through a real SMTP server (aiosmtpd, started here): the 54 village letters of
//! one batch go out with their signed PDF, verification address and receipt link;
//! nothing is lost while the server is down or refusing, a permanent refusal is marked
//! failed and can be sent again to another address; a village confirms through its
//! one-time receipt link.

use std::{
    collections::HashSet,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use axum::http::StatusCode;
use base64::Engine;
use naskah::{
    audit::Actor,
    config::MailConfig,
    demo,
    distribution::{
        batches,
        deliveries::{self, Change},
        mail::{Outbox, OutboxRun},
    },
    workflow::{self, Decision, batch::NewBatch},
};
use serde_json::json;

use crate::{
    support::{self, DEMO_PASSPHRASE, all_of},
    workflow::Demo,
};

/// The SMTP server of the tests; stopped (stdin closed, then killed) when dropped.
pub struct SmtpSink {
    child: Child,
    pub dir: PathBuf,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        std::thread::sleep(Duration::from_millis(100));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
    pub fn refuse(&self, refuse: bool) {
        let flag = self.dir.join("refuse");
        if refuse {
            std::fs::write(flag, b"").unwrap();
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }
}

/// Whether Python's aiosmtpd is here; under CI its absence is a failure.
pub fn aiosmtpd_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!support::in_ci(), "CI: aiosmtpd is missing (pip install aiosmtpd)");
        eprintln!("aiosmtpd not installed: SMTP tests skipped");
    }
    ok
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the server on `port`, writing messages to `dir`.
pub fn start_sink(port: u16, dir: &Path) -> SmtpSink {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/smtp_sink.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "smtp sink did not start");
    let _ = child.stdin.as_mut().unwrap().flush();
    SmtpSink {
        child,
        dir: dir.to_path_buf(),
    }
}

pub fn mail_config(port: u16, max_attempts: i64) -> MailConfig {
    MailConfig {
        smtp_url: naskah::config::Secret::new(format!("smtp+plain://127.0.0.1:{port}")),
        from: "Disnaker PPU <naskah@disnaker.penajamkab.go.id>".into(),
        retry_base_seconds: 60,
        max_attempts,
        digest_minutes: 60,
    }
}

/// Makes every queued e-mail due now (instead of waiting for its back-off).
async fn make_due(db: &naskah::db::Db) {
    sqlx::query("UPDATE deliveries SET next_attempt_at = 0 WHERE channel = 'email' AND status = 'queued'")
        .execute(&db.pool)
        .await
        .unwrap();
}

/// Every village gets an address; the batch of 54 letters is made and signed.
pub async fn signed_village_batch(d: &Demo) -> Vec<workflow::Letter> {
    let (batch_id, all) = village_batch_awaiting_signature(d).await;
    let results = naskah::cases::bulk::run(&d.flow, &d.user("kadis").await, &all, Decision::TandaTangan, false, DEMO_PASSPHRASE)
        .await
        .unwrap();
    assert!(results.failed.is_empty());
    workflow::batch_letters(&d.flow.db, d.department_id, batch_id).await.unwrap()
}

/// Every village gets an address; the batch of 54 letters is made and initialled, up
/// to the Kepala Dinas' signature. Returns the batch and its (letter, revision) pairs.
pub async fn village_batch_awaiting_signature(d: &Demo) -> (i64, Vec<(i64, i64)>) {
    sqlx::query(
        "UPDATE recipients SET email = LOWER(REPLACE(name, ' ', '.')) || '@desa.penajamkab.go.id' WHERE kind IN ('desa', 'kelurahan')",
    )
    .execute(&d.flow.db.pool)
    .await
    .unwrap();
    let csv = demo::candidates_csv(&d.flow.db, d.department_id).await.unwrap();
    let manifest = d.flow.catalogue.get("surat-konfirmasi-desa").unwrap().clone();
    let per_village = manifest.per_village.clone().unwrap();
    let rows = batches::parse_candidates(&csv, manifest.field("calon").unwrap()).unwrap();
    let plan = batches::plan(&d.flow.db, d.department_id, "", rows).await.unwrap();
    let shared = json!({ "hal": "Konfirmasi Data Calon Penerima Bantuan Iuran" });
    let new = NewBatch {
        template_id: manifest.id.clone(),
        scope: String::new(),
        scope_label: plan.scope_label.clone(),
        shared_data: shared.clone(),
        source_name: "calon.csv".into(),
        source_rows: plan.total_rows as i64,
        rows_used: plan.total_rows as i64,
    };
    let (batch, letters) = d
        .flow
        .create_batch(
            &d.user("konseptor").await,
            &new,
            batches::drafts(&per_village, &plan, &shared, true),
        )
        .await
        .unwrap();
    for username in ["konseptor", "staf"] {
        d.flow.submit_batch(&d.user(username).await, batch.id).await.unwrap();
    }
    let all: Vec<(i64, i64)> = letters.iter().map(|l| (l.id, 1)).collect();
    for username in ["kabid", "sekdis"] {
        let results = naskah::cases::bulk::run(&d.flow, &d.user(username).await, &all, Decision::Paraf, false, DEMO_PASSPHRASE)
            .await
            .unwrap();
        assert!(results.failed.is_empty());
    }
    (batch.id, all)
}

/// Quoted-printable text as written (soft line breaks joined, =XX decoded).
pub fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The text part (decoded) and the attached PDF of a received message.
pub fn parts(message: &str) -> (String, Vec<u8>) {
    let unfolded = message.replace("\r\n", "\n");
    let text_start = unfolded.find("Yth.").expect("text part");
    let text = unquote(unfolded[text_start..].split("\n--").next().unwrap());
    let pdf_header = unfolded.find("Content-Type: application/pdf").expect("PDF attached");
    let body_start = pdf_header + unfolded[pdf_header..].find("\n\n").unwrap() + 2;
    let encoded: String = unfolded[body_start..]
        .split("\n--")
        .next()
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    (text, base64::engine::general_purpose::STANDARD.decode(encoded).unwrap())
}

story! {
    #[tokio::test]
    async fn village_letters_are_mailed_and_nothing_is_lost_across_an_outage(test_db: support::TestDb) {
        if !aiosmtpd_available() {
            return;
        }
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let db = &d.flow.db;
        let letters = signed_village_batch(&d).await;
        assert_eq!(letters.len(), 54, "{label}");

        let port = free_port();
        let outbox = Outbox::from_config(db, &mail_config(port, 4), "https://naskah.example.go.id")
            .unwrap()
            .unwrap();
        // The server is down: every village's e-mail waits, with the reason shown.
        let run = outbox.run_once().await.unwrap();
        assert_eq!(
            run,
            OutboxRun {
                sent: 0,
                retrying: 54,
                failed: 0
            },
            "{label}"
        );
        let waiting = deliveries::for_letter(db, 1, letters[0].id).await.unwrap();
        let email = waiting.iter().find(|x| x.channel == "email").unwrap();
        assert_eq!((email.status.as_str(), email.attempts), ("queued", 1), "{label}");
        assert!(
            !email.last_error.is_empty() && email.next_attempt_at.unwrap() > naskah::db::now() + 30,
            "{label}: back-off"
        );
        // Not due yet: nothing is tried again.
        assert_eq!(outbox.run_once().await.unwrap(), OutboxRun::default(), "{label}");

        // The server is up but refusing for now (451): still nothing lost.
        let folder = tempfile::tempdir().unwrap();
        let sink = start_sink(port, folder.path());
        sink.refuse(true);
        make_due(db).await;
        assert_eq!(outbox.run_once().await.unwrap().retrying, 54, "{label}");
        assert!(sink.messages().is_empty());

        // It recovers: every village's letter arrives exactly once.
        sink.refuse(false);
        make_due(db).await;
        assert_eq!(
            outbox.run_once().await.unwrap(),
            OutboxRun {
                sent: 54,
                retrying: 0,
                failed: 0
            },
            "{label}"
        );
        make_due(db).await;
        assert_eq!(outbox.run_once().await.unwrap(), OutboxRun::default(), "{label}: sent once");
        let messages = sink.messages();
        assert_eq!(messages.len(), 54, "{label}");
        let recipients: HashSet<String> = messages
            .iter()
            .filter_map(|m| m.lines().find(|l| l.starts_with("To: ")).map(str::to_string))
            .collect();
        assert_eq!(recipients.len(), 54, "{label}: each village once");

        // Each message: the village's own signed PDF, its verification address, a receipt link.
        let pejala = letters.iter().find(|l| l.subject.ends_with("Kelurahan Pejala")).unwrap();
        let message = messages
            .iter()
            .find(|m| m.contains("kelurahan.pejala@desa.penajamkab.go.id"))
            .expect("Pejala's message");
        let (text, pdf) = parts(message);
        assert_eq!(
            naskah::workflow::statement::sha256_hex(&pdf),
            pejala.final_sha256.clone().unwrap(),
            "{label}: the signed PDF itself"
        );
        let verification = format!("https://naskah.example.go.id/v/{}", pejala.verification_id.clone().unwrap());
        assert!(
            text.contains(&verification) && text.contains(pejala.number.as_deref().unwrap()),
            "{label}: {text}"
        );
        let token = text
            .split("https://naskah.example.go.id/tanda-terima/")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("receipt link")
            .to_string();
        let stored = deliveries::for_letter(db, 1, pejala.id).await.unwrap();
        let to_pejala = stored.iter().find(|x| x.channel == "email").unwrap();
        assert_eq!((to_pejala.status.as_str(), to_pejala.attempts), ("sent", 3), "{label}");
        assert_ne!(to_pejala.receipt_hash.as_deref(), Some(token.as_str()), "only the hash is stored");

        // The village confirms through its link; a second confirmation changes nothing.
        let (acknowledged, first) = deliveries::acknowledge(db, &token, "Sekdes Pejala").await.unwrap();
        assert!(first && acknowledged.status == "acknowledged" && acknowledged.receiver_name == "Sekdes Pejala");
        let (again, first) = deliveries::acknowledge(db, &token, "Orang lain").await.unwrap();
        assert!(!first && again.receiver_name == "Sekdes Pejala" && again.acknowledged_at == acknowledged.acknowledged_at);
        assert!(
            deliveries::acknowledge(db, "bukan-token-yang-berlaku-sama-sekali", "")
                .await
                .is_err()
        );
        let progress = naskah::distribution::progress::page(db, 1, &all_of(None), 100, 0).await.unwrap().0;
        assert_eq!(progress.iter().map(|p| p.acknowledged).sum::<i64>(), 1, "{label}");

        // A permanent refusal (550) fails at once; another address, sent again, arrives.
        let other = letters.iter().find(|l| l.id != pejala.id).unwrap();
        let target = deliveries::for_letter(db, 1, other.id)
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.channel == "email")
            .unwrap();
        let agendaris = Actor::System("uji agendaris");
        deliveries::change(
            db,
            &agendaris,
            1,
            target.id,
            Change::Channel {
                channel: "email".into(),
                address: "tolak@desa.penajamkab.go.id".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(outbox.run_once().await.unwrap().failed, 1, "{label}");
        let failed = deliveries::get(db, 1, target.id).await.unwrap();
        assert_eq!(failed.status, "failed", "{label}");
        assert!(failed.last_error.contains("550"), "{label}: {}", failed.last_error);
        deliveries::change(
            db,
            &agendaris,
            1,
            target.id,
            Change::Channel {
                channel: "email".into(),
                address: "kades.baru@desa.penajamkab.go.id".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(outbox.run_once().await.unwrap().sent, 1, "{label}");
        assert!(sink.messages().last().unwrap().contains("kades.baru@desa.penajamkab.go.id"));

        // A mailbox that stays full (452) is tried up to the limit, then marked failed.
        deliveries::change(
            db,
            &agendaris,
            1,
            target.id,
            Change::Channel {
                channel: "email".into(),
                address: "penuh@desa.penajamkab.go.id".into(),
            },
        )
        .await
        .unwrap();
        for attempt in 1..=4 {
            make_due(db).await;
            let run = outbox.run_once().await.unwrap();
            let expected = if attempt < 4 { (1, 0) } else { (0, 1) };
            assert_eq!((run.retrying, run.failed), expected, "{label}: attempt {attempt}");
        }
    }
}

#[tokio::test]
async fn the_service_sends_by_itself_and_the_receipt_page_confirms_once() {
    if !aiosmtpd_available() {
        return;
    }
    let test_db = support::sqlite().await;
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let sink = start_sink(port, folder.path());
    let mut state = support::demo_state(&test_db).await;
    let mut config = (*state.config).clone();
    config.mail = mail_config(port, 8);
    state.config = std::sync::Arc::new(config);
    let d = Demo::over(&state);
    let letters = signed_village_batch(&d).await;
    let app = support::spawn_app(state.clone()).await;
    // The running service's sender delivers them without anyone asking.
    let mut waited = 0;
    while sink.messages().len() < letters.len() && waited < 300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(sink.messages().len(), 54);
    let (text, _) = parts(&sink.messages()[0]);
    let link = text.split_whitespace().find(|w| w.contains("/tanda-terima/")).unwrap().to_string();
    let path = &link[link.find("/tanda-terima/").unwrap()..];

    let mut visitor = support::Client::new(&state);
    let shown = visitor.get(path).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Konfirmasi penerimaan surat") && shown.body.contains("Konfirmasi: surat sudah kami terima"));
    // Opening the link confirms nothing (mail scanners open links).
    let progress = naskah::distribution::progress::page(&state.db, 1, &all_of(None), 100, 0)
        .await
        .unwrap()
        .0;
    assert_eq!(progress.iter().map(|p| p.acknowledged).sum::<i64>(), 0);
    let confirmed = visitor.post_form(path, &[("nama", "Kepala <Desa>")]).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert!(confirmed.body.contains("Penerimaan sudah dikonfirmasi"), "{}", confirmed.body);
    assert!(
        confirmed.body.contains("Kepala &#60;Desa&#62;") || confirmed.body.contains("Kepala &lt;Desa&gt;"),
        "escaped"
    );
    let progress = naskah::distribution::progress::page(&state.db, 1, &all_of(None), 100, 0)
        .await
        .unwrap()
        .0;
    assert_eq!(progress.iter().map(|p| p.acknowledged).sum::<i64>(), 1);
    let unknown = visitor.get("/tanda-terima/tidak-ada-tanda-terima-seperti-ini").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("Tanda terima tidak berlaku"));
    drop(app);
}
