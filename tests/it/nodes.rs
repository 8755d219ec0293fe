//! Two service nodes behind a real load balancer (Debian's HAProxy, round robin) on one
//! PostgreSQL, each with a folder of its own that holds no key: a session made on one
//! is good on the other; a letter is drafted, initialled and signed through it; a bulk
//! signature of the 54 village letters loses its node half-way and its owner finishes it
//! on the other; a candidate import runs; the e-mail outbox, with the SMTP server down
//! while both nodes run it, sends every letter once when the server is back; the public
//! record answers. Then: no duplicate or missing number, one signature per letter, the
//! audit chains hold (issue 20, point 2).

use std::{
    collections::{BTreeSet, HashSet},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use naskah::{accounts, audit, db::Db};
use serde_json::{Value, json};

use crate::{
    beneficiaries::{P3KE, multipart},
    jobs::{Session, job_row, time_passes},
    mail::{aiosmtpd_available, free_port, start_sink, village_batch_awaiting_signature},
    numbering::{Server, assert_register_complete, start_server_with},
    support::{self, DEMO_PASSPHRASE},
    workflow::{Demo, letter_data},
};

/// The load balancer; stopped when dropped.
struct Balancer {
    child: Child,
    base: String,
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether HAProxy is here; under CI its absence is a failure.
fn haproxy_available() -> bool {
    let found = Command::new("haproxy").arg("-v").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(!support::in_ci(), "CI: haproxy is missing (apt-get install -y haproxy)");
        eprintln!("haproxy not installed: the two-node test is skipped");
    }
    found
}

/// HAProxy on a free port in front of the nodes, round robin, checking `/healthz`; a
/// node that stops answering is taken out at once and a refused connection is retried
/// on the other. Each answer names its node in `X-Node`.
fn start_balancer(dir: &std::path::Path, nodes: &[u16]) -> Balancer {
    let port = free_port();
    let servers: String = nodes
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server node{} 127.0.0.1:{p} check inter 300ms fall 1 rise 1\n", i + 1))
        .collect();
    let config = format!(
        "global\n    maxconn 512\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 180s\n    timeout server 180s\n    retries 3\n    option redispatch\n\
         frontend naskah\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\
         backend nodes\n    balance roundrobin\n    option httpchk GET /healthz\n    http-response set-header X-Node %[srv_name]\n{servers}"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, config).unwrap();
    let check = Command::new("haproxy").arg("-c").arg("-f").arg(&path).output().unwrap();
    assert!(check.status.success(), "haproxy.cfg: {}", String::from_utf8_lossy(&check.stderr));
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ureq::get(&format!("{base}/healthz")).call().is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "haproxy did not come up at {base}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Balancer { child, base }
}

/// One JSON API call with a bearer token (no cookie): the node that answers is HAProxy's
/// choice.
fn api(base: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(120)))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let url = format!("{base}{path}");
    let auth = format!("Bearer {token}");
    let response = match (method, body) {
        ("GET", _) => agent.get(&url).header("authorization", &auth).call(),
        (_, body) => agent
            .post(&url)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .send(body.unwrap_or(json!({})).to_string()),
    };
    let mut response = response.unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Drafted, typed, initialled and signed through the balancer, each call answered by
/// whichever node; returns the letter's JSON.
fn one_letter_through(base: &str, tokens: &[(&str, String)]) -> Value {
    let token = |who: &str| tokens.iter().find(|(name, _)| *name == who).unwrap().1.clone();
    let (status, created) = api(
        base,
        &token("konseptor"),
        "POST",
        "/api/v1/letters",
        Some(json!({ "template": "surat-permintaan-data", "data": letter_data("Lewat dua node"), "note": "awal" })),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["letter"]["id"].as_i64().unwrap();
    let mut version = created["letter"]["version"].as_i64().unwrap();
    for who in ["konseptor", "staf"] {
        let (status, body) = api(
            base,
            &token(who),
            "POST",
            &format!("/api/v1/letters/{id}/submit"),
            Some(json!({ "version": version })),
        );
        assert_eq!(status, 200, "{who}: {body}");
        version = body["letter"]["version"].as_i64().unwrap();
    }
    for (who, decision) in [("kabid", "paraf"), ("sekdis", "paraf"), ("kadis", "tanda_tangan")] {
        let (status, body) = api(
            base,
            &token(who),
            "POST",
            &format!("/api/v1/letters/{id}/decision"),
            Some(json!({ "decision": decision, "revision": 1, "passphrase": DEMO_PASSPHRASE, "note": "" })),
        );
        assert_eq!(status, 200, "{who} {decision}: {body}");
    }
    let (status, letter) = api(base, &token("kadis"), "GET", &format!("/api/v1/letters/{id}"), None);
    assert_eq!(status, 200, "{letter}");
    letter["letter"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_behind_haproxy_on_one_postgres() {
    if !haproxy_available() || !aiosmtpd_available() {
        return;
    }
    let Some((url, _guard)) = support::postgres_empty().await else {
        return;
    };
    let db = Db::open(&url, 5).await.unwrap();
    let d = Demo::seeded(&db).await;
    let (_batch, village_letters) = village_batch_awaiting_signature(&d).await;
    assert_eq!(village_letters.len(), 54);
    let mut tokens = Vec::new();
    for who in ["konseptor", "staf", "kabid", "sekdis", "kadis"] {
        let user = d.user(who).await;
        tokens.push((who, accounts::create_token(&db, &user, "uji dua node").await.unwrap().secret));
    }

    // The SMTP server is down from the start; both nodes run the outbox against it.
    let smtp_port = free_port();
    let smtp_url = format!("smtp+plain://127.0.0.1:{smtp_port}");
    let settings = [
        ("NASKAH_NODES", "2"),
        ("NASKAH_SMTP_URL", smtp_url.as_str()),
        ("NASKAH_MAIL_RETRY_BASE_SECONDS", "1"),
        ("NASKAH_MAIL_MAX_ATTEMPTS", "100"),
        ("NASKAH_BASE_URL", "https://naskah.example.go.id"),
    ];
    let work = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let mut nodes: Vec<Server> = ports
        .iter()
        .map(|port| start_server_with(&url, work.path(), *port, &settings))
        .collect();
    let balancer = start_balancer(work.path(), &ports);
    let base = balancer.base.clone();

    // Login on one node, the session good on both; a letter through the whole chain.
    let (single, session) = {
        let base = base.clone();
        let tokens = tokens.clone();
        tokio::task::spawn_blocking(move || {
            let mut kadis = Session::new(&base);
            kadis.log_in("kadis");
            let served: BTreeSet<String> = (0..6)
                .map(|_| {
                    let page = kadis.send("/", None);
                    assert_eq!(page.status, 200, "{}", page.body);
                    assert!(page.body.contains("Keluar"), "still logged in: {}", page.body);
                    page.node
                })
                .collect();
            assert_eq!(served.len(), 2, "both nodes served the same session: {served:?}");
            (one_letter_through(&base, &tokens), kadis)
        })
        .await
        .unwrap()
    };
    assert_eq!(single["state"], "ditandatangani", "{single}");

    // The bulk signature of the 54 village letters; its node is killed half-way.
    let chosen: Vec<String> = village_letters.iter().map(|(id, rev)| format!("{id}:{rev}")).collect();
    let (job_path, mut session) = tokio::task::spawn_blocking(move || {
        let mut s = session;
        (s.start_bulk_signature(&chosen), s)
    })
    .await
    .unwrap();
    let public_id = job_path.rsplit('/').next().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(180);
    while job_row(&db, &public_id).await.1 < 5 {
        assert!(Instant::now() < deadline, "the bulk signature made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (claimed_by,): (String,) = sqlx::query_as("SELECT claimed_by FROM jobs WHERE public_id = $1")
        .bind(&public_id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let pid = claimed_by.split(':').nth(1).unwrap().parse::<u32>().unwrap();
    let running = nodes
        .iter()
        .position(|n| n.child.id() == pid)
        .expect("the job runs on one of the nodes");
    nodes[running].child.kill().unwrap();
    nodes[running].child.wait().unwrap();
    let (state, done, total) = job_row(&db, &public_id).await;
    assert!(
        state == naskah::jobs::RUNNING && done < total,
        "ended ({state}, {done}) before the kill"
    );
    time_passes(&db, &public_id).await;

    // The owner finishes it through the balancer: only the other node answers now.
    let finished = tokio::task::spawn_blocking(move || {
        let page = session.send(&job_path, None);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains(&format!("Terhenti pada {done} dari {total} surat")),
            "{}",
            page.body
        );
        let csrf = Session::csrf(&page.body);
        let resumed = session.send(
            &format!("{job_path}/lanjutkan"),
            Some(&[("csrf", &csrf), ("frasa_sandi", DEMO_PASSPHRASE)]),
        );
        assert_eq!(resumed.status, 303, "{}", resumed.body);
        let mut last = String::new();
        wait_for("the continued bulk signature", Duration::from_secs(300), || {
            last = session.send(&job_path, None).body;
            !last.contains("Sedang diproses")
        });
        last
    })
    .await
    .unwrap();
    assert!(finished.contains("Selesai: semua 54 surat berhasil."), "{finished}");

    // The killed node comes back (same port): HAProxy takes it in again.
    nodes[running] = start_server_with(&url, work.path(), ports[running], &settings);

    // An import through the balancer, checked and imported on whichever node.
    let imported = {
        let base = base.clone();
        tokio::task::spawn_blocking(move || {
            let mut staf = Session::new(&base);
            staf.log_in("staf");
            let form = staf.send("/calon/impor", None);
            let csrf = Session::csrf(&form.body);
            let (content_type, body) = multipart(&[("csrf", &csrf)], "p3ke.csv", P3KE.as_bytes());
            let checked = staf.send_body("/calon/impor", Some((content_type, body)));
            assert_eq!(checked.status, 303, "{}", checked.body);
            let page_url = checked.location.clone();
            let started = staf.send(&format!("{page_url}/impor"), Some(&[("csrf", &csrf)]));
            assert_eq!(started.status, 303, "{}", started.body);
            let mut last = String::new();
            wait_for("the import", Duration::from_secs(120), || {
                last = staf.send(&page_url, None).body;
                last.contains("id=\"hasil-impor\"")
            });
            last
        })
        .await
        .unwrap()
    };
    assert!(imported.contains("orang baru"), "{imported}");
    let (candidates,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM candidates").fetch_one(&db.pool).await.unwrap();
    assert!(candidates > 0);

    // Both nodes have been trying the outbox against the stopped server; now it starts.
    let (tried,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE channel = 'email' AND attempts > 0")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(tried > 0, "the outbox tried while the server was down");
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = start_sink(smtp_port, mail_dir.path());
    let expected = {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE channel = 'email'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        n as usize
    };
    assert!(expected >= 54, "every village has an e-mail delivery: {expected}");
    let deadline = Instant::now() + Duration::from_secs(180);
    while sink.messages().len() < expected {
        assert!(Instant::now() < deadline, "{} of {expected} e-mails arrived", sink.messages().len());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Both nodes keep running the outbox a while longer: nothing goes twice.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), expected, "each e-mail once");
    let recipients: HashSet<String> = messages
        .iter()
        .filter_map(|m| m.lines().find(|l| l.starts_with("To: ")).map(str::to_string))
        .collect();
    assert_eq!(recipients.len(), expected, "each village once");
    let (unsent,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE channel = 'email' AND status <> 'sent'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(unsent, 0);

    // The public record, through the balancer, from either node.
    let verification_id = single["verification_id"].as_str().unwrap().to_string();
    let answered = {
        let base = base.clone();
        tokio::task::spawn_blocking(move || {
            let mut public = Session::new(&base);
            (0..4)
                .map(|_| {
                    let page = public.send(&format!("/v/{verification_id}.json"), None);
                    assert_eq!(page.status, 200, "{}", page.body);
                    let record: Value = serde_json::from_str(&page.body).unwrap();
                    assert_eq!(record["status"], "SAH", "{record}");
                    page.node
                })
                .collect::<BTreeSet<String>>()
        })
        .await
        .unwrap()
    };
    assert_eq!(answered.len(), 2, "both nodes answer the public record: {answered:?}");

    // No duplicate or missing number, each letter signed once, the audit chains hold,
    // and no node's folder holds a key.
    let mut ids: Vec<i64> = village_letters.iter().map(|(id, _)| *id).collect();
    ids.push(single["id"].as_i64().unwrap());
    for id in &ids {
        let (signatures,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM letter_statements WHERE letter_id = $1 AND decision = 'tanda_tangan'")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(signatures, 1, "letter {id}");
    }
    assert_register_complete(&db, 1, &ids, "postgres").await;
    for chain in audit::verify::verify_all(&db).await.unwrap() {
        assert!(chain.holds(), "audit chain {}: {:?}", chain.chain, chain.problems);
    }
    for node in &nodes {
        let files = std::fs::read_dir(&node.keys_dir).map(|d| d.count()).unwrap_or(0);
        assert_eq!(files, 0, "{}: a node keeps no key on its disk", node.keys_dir.display());
    }
    drop(sink);
    drop(balancer);
    drop(nodes);
    db.pool.close().await;
}
