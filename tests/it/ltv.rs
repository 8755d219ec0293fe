//! Long-term signatures: a real timestamp authority (`openssl ts -reply` behind
//! tests/tools/tsa_server.py), the durable job that raises a signed letter to B-T,
//! B-LT and B-LTA after the signing transaction, the authority's CRL at the address in
//! every certificate, and pyHanko's verdicts, also at a moment after the signer's
//! certificate was revoked and after it expired.

use std::{
    io::BufRead,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use naskah::{
    audit::Actor,
    keys::authority,
    signing::{crl::Crl, ltv::Level, pades, timestamp::HttpAuthority, x509::Certificate},
    workflow::{self, Workflow, longterm},
};
use serde_json::{Value, json};
use sqlx::Any;

use crate::{
    support::{self, DEMO_PASSPHRASE, TestDb},
    workflow::Demo,
};

/// The test TSA, stopped when dropped.
pub(crate) struct Tsa {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tsa {
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn root_pem(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }
}

fn tool_missing(tool: &str, error: impl std::fmt::Display) -> Option<Tsa> {
    assert!(!support::in_ci(), "{tool} is required under CI: {error}");
    eprintln!("{tool} missing: the long-term signature checks are skipped ({error})");
    None
}

/// Starts the TSA on `port` (0: any) with its keys in `dir`; `None` (outside CI) when
/// python3 or openssl is missing.
pub(crate) fn start_tsa(dir: &Path, port: u16) -> Option<Tsa> {
    if let Err(e) = Command::new("openssl").arg("version").output() {
        return tool_missing("openssl", e);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/tsa_server.py");
    let mut child = match Command::new("python3")
        .arg(script)
        .arg(dir)
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return tool_missing("python3", e),
    };
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| panic!("the TSA did not start: {line:?}"));
    Some(Tsa {
        child,
        port,
        dir: dir.to_path_buf(),
    })
}

fn pyhanko_available() -> bool {
    match Command::new("python3")
        .args(["-c", "import pyhanko, pyhanko_certvalidator"])
        .output()
    {
        Ok(out) if out.status.success() => true,
        Ok(out) => tool_missing("pyHanko", String::from_utf8_lossy(&out.stderr)).is_some(),
        Err(e) => tool_missing("python3", e).is_some(),
    }
}

/// pyHanko's long-term findings (tests/tools/pyhanko_ltv.py).
fn pyhanko_ltv(dir: &Path, pdf: &[u8], root_pem: &str, tsa_root: &Path, at: Option<&str>, known_crls: &[PathBuf]) -> Value {
    let pdf_path = dir.join("naskah-ltv.pdf");
    let root_path = dir.join("root.pem");
    std::fs::write(&pdf_path, pdf).unwrap();
    std::fs::write(&root_path, root_pem).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/pyhanko_ltv.py");
    let mut command = Command::new("python3");
    command.arg(script).arg(&pdf_path).arg(&root_path).arg(tsa_root);
    if let Some(at) = at {
        command.arg(at).args(known_crls);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "pyhanko_ltv.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every file in `pdfs` is a long-term signature for pyHanko (one process for all:
/// the signature and its timestamp valid and trusted, revocation required and found in
/// the DSS) and, for its P-256 signature, for pdfsig with the department's root trusted.
pub(crate) fn assert_long_term_in_pyhanko_and_pdfsig(pdfs: &[PathBuf], root_pem: &Path, tsa: &Tsa) {
    let pem = std::fs::read_to_string(root_pem).unwrap();
    if pyhanko_available() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/pyhanko_ltv.py");
        let out = Command::new("python3")
            .arg(script)
            .arg("--many")
            .arg(root_pem)
            .arg(tsa.root_pem())
            .args(pdfs)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pyhanko_ltv.py --many: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report.len(), pdfs.len());
        for file in &report {
            assert!(
                file["dss"]["crls"].as_i64().unwrap() >= 2,
                "the department's and the TSA's CRL: {file}"
            );
            let signatures = file["signatures"].as_array().unwrap();
            assert_eq!(signatures.len(), 1, "{file}");
            let one = &signatures[0];
            assert_eq!(one["bottom_line"], true, "{file}");
            assert_eq!(one["timestamp"]["valid"], true, "{file}");
            assert_eq!(one["timestamp"]["trusted"], true, "{file}");
        }
        eprintln!(
            "pyHanko: {} of {} walkthrough PDFs valid long-term signatures",
            report.len(),
            pdfs.len()
        );
    }
    let der = {
        use base64::Engine;
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD.decode(body).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    for pdf in pdfs {
        let bytes = std::fs::read(pdf).unwrap();
        if let Some(report) = crate::pades::pdfsig(dir.path(), &bytes, &der) {
            assert!(
                report.contains("Signature Validation: Signature is Valid."),
                "{}: {report}",
                pdf.display()
            );
            assert!(
                report.contains("Certificate Validation: Certificate is Trusted."),
                "{}: {report}",
                pdf.display()
            );
        }
    }
}

/// The demo with a TSA configured, the department set to `level` (`None`: default).
async fn demo_with_timestamps(test_db: &TestDb, level: Option<Level>) -> (naskah::web::AppState, Demo) {
    let state = support::demo_state(test_db).await;
    let mut d = Demo::over(&state);
    d.flow = Workflow {
        timestamping: true,
        ..d.flow.clone()
    };
    longterm::set_level(&state.db, &Actor::System("uji"), d.department_id, level)
        .await
        .unwrap();
    (state, d)
}

async fn signed_letter(d: &Demo) -> workflow::Letter {
    let konseptor = d.user("konseptor").await;
    let data = json!({ "hal": "Permohonan data calon penerima bantuan iuran", "batas_waktu": "2026-12-05" });
    let letter = d.flow.create(&konseptor, "surat-permintaan-data", &data, "").await.unwrap();
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    d.through_chain(letter, 1, DEMO_PASSPHRASE).await
}

fn augmenter(state: &naskah::web::AppState, url: &str, retry_base: i64) -> longterm::Augmenter {
    let tsa = HttpAuthority::new(url, Duration::from_secs(5)).unwrap();
    longterm::Augmenter::new(state.db.clone(), state.keys.clone(), Arc::new(tsa), retry_base)
}

async fn final_file(state: &naskah::web::AppState, letter_id: i64) -> (Vec<u8>, String) {
    sqlx::query_as::<Any, (Vec<u8>, String)>(
        "SELECT f.pdf, l.final_sha256 FROM letters l JOIN letter_files f ON f.letter_id = l.id WHERE l.id = $1",
    )
    .bind(letter_id)
    .fetch_one(&state.db.pool)
    .await
    .unwrap()
}

async fn audit_count(state: &naskah::web::AppState, action: &str) -> i64 {
    sqlx::query_as::<Any, (i64,)>("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .0
}

fn sha256_hex(bytes: &[u8]) -> String {
    naskah::workflow::statement::sha256_hex(bytes)
}

#[tokio::test]
async fn a_signed_letter_becomes_b_lta_and_stays_valid_after_revocation_and_expiry() {
    let tsa_dir = tempfile::tempdir().unwrap();
    let Some(tsa) = start_tsa(tsa_dir.path(), 0) else { return };
    let test_db = support::sqlite().await;
    let (state, d) = demo_with_timestamps(&test_db, Some(Level::Lta)).await;
    let letter = signed_letter(&d).await;
    let (base, base_sha) = final_file(&state, letter.id).await;

    // Signed and numbered by the transaction; the timestamps are a job for later.
    let job = longterm::of_letter(&state.db, letter.id)
        .await
        .unwrap()
        .expect("a job per signed letter");
    assert_eq!(
        (job.status.as_str(), job.reached(), job.target()),
        ("pending", Level::B, Level::Lta)
    );
    assert_eq!(job.base_sha256, base_sha);
    assert!(job.summary().contains("Stempel waktu tertunda"), "{}", job.summary());

    let run = augmenter(&state, &tsa.url(), 1).run_once().await.unwrap();
    assert_eq!((run.completed, run.delayed, run.failed), (1, 0, 0));
    let job = longterm::of_letter(&state.db, letter.id).await.unwrap().unwrap();
    assert_eq!((job.status.as_str(), job.reached()), ("done", Level::Lta), "{job:?}");
    let (pdf, sha) = final_file(&state, letter.id).await;
    assert_eq!(sha, sha256_hex(&pdf));
    assert_ne!(sha, base_sha);
    assert_eq!(audit_count(&state, "letter.signature_augmented").await, 1);
    // The signed revision is the same bytes: only /Contents (outside the byte range)
    // and the appended updates differ.
    let range_end = pdf.windows(10).position(|w| w == b"/ByteRange").unwrap();
    assert_eq!(&pdf[..range_end], &base[..range_end]);

    // Our own reader: the signature covers everything but validation data.
    let root = authority::current(&state.db, d.department_id).await.unwrap().unwrap();
    let found = pades::inspect(&pdf, std::slice::from_ref(&root.certificate));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].valid() && found[0].covers_whole_file, "{:?}", found[0]);
    assert!(found[1].document_timestamp && found[1].intact, "{:?}", found[1]);
    assert!(matches!(pades::verdict(&found), pades::Verdict::Valid(_, _)));

    // The certificate names the regency and points to the CRL and the root.
    let (fingerprint,): (String,) = sqlx::query_as::<Any, (String,)>("SELECT signature_certificate FROM letters WHERE id = $1")
        .bind(letter.id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let (certificate,): (Vec<u8>,) =
        sqlx::query_as::<Any, (Vec<u8>,)>("SELECT certificate FROM official_certificates WHERE fingerprint = $1")
            .bind(&fingerprint)
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    let parsed = Certificate::parse(&certificate).unwrap();
    assert_eq!(
        parsed.organization().as_deref(),
        Some("Dinas Tenaga Kerja Kabupaten Penajam Paser Utara")
    );
    let crl_url = authority::crl_address(&d.flow.base_url, &root.fingerprint);
    assert!(certificate.windows(crl_url.len()).any(|w| w == crl_url.as_bytes()));

    if !pyhanko_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = pyhanko_ltv(dir.path(), &pdf, &root.pem(), &tsa.root_pem(), None, &[]);
    let signature = &report["signatures"][0];
    assert_eq!(
        (&signature["intact"], &signature["valid"], &signature["trusted"]),
        (&json!(true), &json!(true), &json!(true)),
        "{report}"
    );
    assert_eq!(signature["timestamp"]["valid"], true, "signature timestamp: {report}");
    assert_eq!(signature["timestamp"]["trusted"], true, "signature timestamp: {report}");
    assert!(report["dss"]["crls"].as_u64().unwrap() >= 1, "revocation data embedded: {report}");
    assert!(report["dss"]["certificates"].as_u64().unwrap() >= 2, "{report}");
    let stamp = &report["document_timestamps"][0];
    assert_eq!(
        (&stamp["valid"], &stamp["trusted"]),
        (&json!(true), &json!(true)),
        "document timestamp: {report}"
    );
    assert_eq!(report["ades"][0]["bottom_line"], true, "AdES long-term validation now: {report}");

    // The official's key is replaced: the certificate is revoked and the next CRL lists it.
    let kadis = d.user("kadis").await;
    naskah::keys::rotate(
        &state.db,
        &state.keys,
        &Actor::System("uji"),
        d.department_id,
        kadis.official_id.unwrap(),
        "frasa sandi baru kadis",
    )
    .await
    .unwrap();
    assert_eq!(naskah::keys::revocation::refresh(&state.db, &state.keys).await.unwrap(), 1);
    let latest = naskah::keys::revocation::latest(&state.db, &root.fingerprint)
        .await
        .unwrap()
        .unwrap();
    let listed = Crl::parse(&latest.crl).unwrap();
    assert!(listed.signed_by(&Certificate::parse(&root.certificate).unwrap()));
    assert!(listed.revocation_of(&parsed).is_some(), "the retired key's certificate is revoked");

    // Validated a day after the revocation and after the certificate expired: the
    // timestamps prove the signature existed while the certificate was good.
    let after_revocation = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let report = pyhanko_ltv(dir.path(), &pdf, &root.pem(), &tsa.root_pem(), Some(&after_revocation), &[]);
    assert_eq!(report["ades"][0]["bottom_line"], true, "after revocation: {report}");
    // Years later the signer's certificate has expired; the TSA's has not, so a
    // validator then fetches the TSA's CRL of that day (the test TSA issues it).
    let expiry_plus_day = parsed.not_after + 86_400;
    let after_expiry = chrono::DateTime::from_timestamp(expiry_plus_day, 0).unwrap().to_rfc3339();
    let tsa_crl = dir.path().join("tsa-then.crl");
    let fetched = ureq::get(&format!("{}akar.crl?pada={expiry_plus_day}", tsa.url()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    std::fs::write(&tsa_crl, fetched).unwrap();
    let report = pyhanko_ltv(
        dir.path(),
        &pdf,
        &root.pem(),
        &tsa.root_pem(),
        Some(&after_expiry),
        std::slice::from_ref(&tsa_crl),
    );
    assert_eq!(report["ades"][0]["bottom_line"], true, "after expiry: {report}");

    // Without the timestamps (the B-B file), the same moment after expiry is not proven.
    let report = pyhanko_ltv(
        dir.path(),
        &base,
        &root.pem(),
        &tsa.root_pem(),
        Some(&after_expiry),
        std::slice::from_ref(&tsa_crl),
    );
    assert_eq!(report["ades"][0]["bottom_line"], false, "B-B after expiry: {report}");
    assert!(
        report["ades"][0]["error"].is_null() && report["ades"][0]["indication"] != "PASSED",
        "{report}"
    );
}

story! {
    #[tokio::test]
    async fn a_tsa_that_is_down_delays_the_timestamp_and_never_the_signature(test_db: support::TestDb) {
        let label = test_db.label;
        let (state, d) = demo_with_timestamps(&test_db, None).await;
        // Nobody listens on this port yet.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/");
        let letter = signed_letter(&d).await;
        assert_eq!(letter.state, workflow::state::DITANDATANGANI, "{label}");
        let (_, base_sha) = final_file(&state, letter.id).await;

        let worker = augmenter(&state, &url, 3);
        let run = worker.run_once().await.unwrap();
        assert_eq!((run.completed, run.delayed, run.failed), (0, 1, 0), "{label}");
        // Not due again before its back-off: a second pass leaves it alone.
        let run = worker.run_once().await.unwrap();
        assert_eq!(run, longterm::AugmentRun::default(), "{label}");
        let job = longterm::of_letter(&state.db, letter.id).await.unwrap().unwrap();
        assert_eq!(
            (job.status.as_str(), job.reached(), job.target(), job.attempts),
            ("pending", Level::B, Level::Lt, 1),
            "{label}"
        );
        assert!(
            !job.last_error.is_empty() && job.next_attempt_at.unwrap() > naskah::db::now() - 1,
            "{label}: {job:?}"
        );
        assert!(job.summary().starts_with("Stempel waktu tertunda"), "{label}: {}", job.summary());
        let (_, sha) = final_file(&state, letter.id).await;
        assert_eq!(sha, base_sha, "{label}: the signed letter is untouched");
        let page = support::logged_in(&state, "konseptor")
            .await
            .get(&format!("/surat/{}", letter.id))
            .await;
        assert!(page.body.contains("Stempel waktu tertunda"), "{label}: the letter's page says so");

        // The TSA comes back on that address; after the back-off the job finishes.
        let tsa_dir = tempfile::tempdir().unwrap();
        let Some(_tsa) = start_tsa(tsa_dir.path(), port) else { return };
        let wait = job.next_attempt_at.unwrap() - naskah::db::now() + 1;
        tokio::time::sleep(Duration::from_secs(wait.max(0) as u64)).await;
        let run = worker.run_once().await.unwrap();
        assert_eq!((run.completed, run.delayed, run.failed), (1, 0, 0), "{label}");
        let job = longterm::of_letter(&state.db, letter.id).await.unwrap().unwrap();
        assert_eq!(
            (job.status.as_str(), job.reached(), job.attempts),
            ("done", Level::Lt, 2),
            "{label}"
        );
        let (pdf, sha) = final_file(&state, letter.id).await;
        assert_eq!(sha, sha256_hex(&pdf), "{label}");
        assert!(naskah::signing::ltv::has_signature_timestamp(&pdf), "{label}");
        assert_eq!(audit_count(&state, "letter.signature_augmentation_failed").await, 1, "{label}");
        assert_eq!(audit_count(&state, "letter.signature_augmented").await, 1, "{label}");
    }
}

#[tokio::test]
async fn without_a_tsa_letters_stay_b_b_and_the_crl_is_published_at_the_certificates_address() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = Demo::over(&state);
    let letter = signed_letter(&d).await;
    assert!(
        longterm::of_letter(&state.db, letter.id).await.unwrap().is_none(),
        "no TSA: B-B, no job"
    );

    let root = authority::current(&state.db, d.department_id).await.unwrap().unwrap();
    // The public addresses need no login.
    let mut client = support::Client::new(&state);
    let reply = client.get(&format!("/ca/{}.crl", root.fingerprint)).await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.headers["content-type"], "application/pkix-crl");
    let crl = reply.bytes;
    let parsed = Crl::parse(&crl).unwrap();
    assert!(parsed.signed_by(&Certificate::parse(&root.certificate).unwrap()) && parsed.revoked.is_empty());
    assert!(parsed.next_update > naskah::db::now() + 3 * 86_400);
    let reply = client.get(&format!("/ca/{}.crt", root.fingerprint)).await;
    assert_eq!(reply.bytes, root.certificate);
    for bad in [
        "/ca/..%2F..%2Fetc%2Fpasswd.crl",
        "/ca/abc.crl",
        &format!("/ca/{}.pem", root.fingerprint),
    ] {
        assert_eq!(client.get(bad).await.status.as_u16(), 404, "{bad}");
    }
    let unknown = format!("/ca/{}.crl", "0".repeat(64));
    assert_eq!(client.get(&unknown).await.status.as_u16(), 404);

    // openssl agrees the CRL is the root's and lists nothing yet.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crl"), &crl).unwrap();
    std::fs::write(dir.path().join("root.pem"), root.pem()).unwrap();
    match Command::new("openssl")
        .args(["crl", "-inform", "DER", "-in"])
        .arg(dir.path().join("ca.crl"))
        .arg("-CAfile")
        .arg(dir.path().join("root.pem"))
        .args(["-noout", "-text"])
        .output()
    {
        Ok(out) => {
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(text.contains("verify OK"), "{text}");
            assert!(text.contains("No Revoked Certificates"), "{text}");
            assert!(text.contains("Kabupaten Penajam Paser Utara"), "{text}");
        }
        Err(e) => {
            tool_missing("openssl", e);
        }
    }
}
