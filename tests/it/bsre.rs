//! Certified signatures through BSrE, against a local server that follows the published
//! esign client API v2 and really signs (PAdES, with a test certification authority
//! standing in for BSrE's): the status checks before the switch and before the chain
//! reaches the signer, a refused passphrase, HTTP 500 on a bad PDF, a 40-second answer
//! against a 2-second limit (outcome unknown, never retried by itself), its resolution
//! by BSrE's verify/pdf or by an explicit new attempt, and one number throughout.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use naskah::{
    audit::Actor,
    departments::identity::set_official_nik,
    signing::{
        LocalSigner, pades,
        remote::Credential,
        x509::{self, Certificate, Name, PrivateKey, Template},
    },
    web::AppState,
    workflow::{
        self, Decision, Error,
        remote::{self, CREDENTIAL_FIELD, settings::SettingsInput},
    },
};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::{
    support::{self, DEMO_PASSPHRASE, TestDb},
    workflow::{Demo, drafted_and_typed, request},
};

const KADIS_NIK: &str = "6409010507700001";
const KADIS_NAME: &str = "Drs. Bambang Sutrisno, M.Si.";
const BSRE_PASSPHRASE: &str = "passphrase-bsre-kadis";
const CLIENT_USER: &str = "klien-naskah";
const CLIENT_PASSWORD: &str = "sandi-klien-rahasia-uji";

/// A registered BSrE user: status, passphrase and the certificate BSrE holds for them.
struct User {
    status: &'static str,
    passphrase: String,
    signer: Arc<LocalSigner>,
    name: String,
}

struct FakeState {
    authorization: String,
    root: (PrivateKey, Vec<u8>),
    users: Mutex<HashMap<String, User>>,
    /// How long the sign call waits, after signing, before it answers.
    delay: Mutex<Duration>,
    /// Answer every sign call with HTTP 500, as BSrE does for a PDF it cannot read.
    broken_pdf: AtomicBool,
    sign_calls: AtomicUsize,
    status_calls: AtomicUsize,
    verify_calls: AtomicUsize,
    last_signed: Mutex<Option<Vec<u8>>>,
}

pub struct FakeBsre {
    addr: SocketAddr,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBsre {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn authority() -> (PrivateKey, Vec<u8>) {
    let key = PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap());
    let name = Name {
        common_name: "Balai Sertifikasi Elektronik Uji".into(),
        organization: "BSSN Uji".into(),
        ..Default::default()
    }
    .to_der();
    let public = key.public();
    let certificate = x509::issue(
        &Template {
            serial: x509::random_serial(),
            issuer: &name,
            subject: &name,
            not_before: 1_600_000_000,
            not_after: 2_500_000_000,
            subject_key: &public,
            issuer_key_identifier: &public.key_identifier(),
            authority: true,
            links: None,
        },
        &key,
    );
    (key, certificate)
}

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

impl FakeBsre {
    pub async fn start() -> FakeBsre {
        let state = Arc::new(FakeState {
            authorization: format!("Basic {}", STANDARD.encode(format!("{CLIENT_USER}:{CLIENT_PASSWORD}"))),
            root: authority(),
            users: Mutex::new(HashMap::new()),
            delay: Mutex::new(Duration::ZERO),
            broken_pdf: AtomicBool::new(false),
            sign_calls: AtomicUsize::new(0),
            status_calls: AtomicUsize::new(0),
            verify_calls: AtomicUsize::new(0),
            last_signed: Mutex::new(None),
        });
        let router = Router::new()
            .route("/api/v2/user/check/status", post(check_status))
            .route("/api/v2/sign/pdf", post(sign_pdf))
            .route("/api/v2/verify/pdf", post(verify_pdf))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        FakeBsre { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn root_der(&self) -> Vec<u8> {
        self.state.root.1.clone()
    }

    /// Registers (or changes) a user; `status` is what check/status answers.
    fn register(&self, nik: &str, name: &str, status: &'static str) {
        let key = PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[11; 32]).unwrap());
        let root = Certificate::parse(&self.state.root.1).unwrap();
        let subject = Name {
            common_name: name.into(),
            organization: "Pemerintah Kabupaten Uji".into(),
            ..Default::default()
        }
        .to_der();
        let public = key.public();
        let certificate = x509::issue(
            &Template {
                serial: x509::random_serial(),
                issuer: root.subject,
                subject: &subject,
                not_before: 1_600_000_000,
                not_after: 2_400_000_000,
                subject_key: &public,
                issuer_key_identifier: &self.state.root.0.public().key_identifier(),
                authority: false,
                links: None,
            },
            &self.state.root.0,
        );
        let signer = Arc::new(LocalSigner {
            key,
            certificate,
            chain: vec![self.state.root.1.clone()],
        });
        self.state.users.lock().unwrap().insert(
            nik.into(),
            User {
                status,
                passphrase: BSRE_PASSPHRASE.into(),
                signer,
                name: name.into(),
            },
        );
    }

    fn set_status(&self, nik: &str, status: &'static str) {
        self.state.users.lock().unwrap().get_mut(nik).unwrap().status = status;
    }

    fn sign_calls(&self) -> usize {
        self.state.sign_calls.load(Ordering::SeqCst)
    }
}

/// The 401 answer for a request without the client's Basic credentials.
fn unauthorised(state: &FakeState, headers: &HeaderMap, path: &str) -> Option<Response> {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(state.authorization.as_str()) {
        return None;
    }
    Some(
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "timestamp": "2026-12-03T10:00:00.000+00:00", "status": 401, "error": "Unauthorized", "path": path })),
        )
            .into_response(),
    )
}

fn server_error(path: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "timestamp": "2026-12-03T10:00:00.000+00:00", "status": 500, "error": "Internal Server Error", "path": path })),
    )
        .into_response()
}

async fn check_status(State(state): State<Arc<FakeState>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(refused) = unauthorised(&state, &headers, "/api/v2/user/check/status") {
        return refused;
    }
    state.status_calls.fetch_add(1, Ordering::SeqCst);
    let nik = body["nik"].as_str().unwrap_or_default();
    let status = state.users.lock().unwrap().get(nik).map(|u| u.status).unwrap_or("NOT_REGISTERED");
    let (code, message) = match status {
        "ISSUE" => (1111, "Sertifikat aktif"),
        "NO_CERTIFICATE" => (2021, "Pengguna tidak memiliki sertifikat"),
        _ => (2011, "Pengguna tidak terdaftar"),
    };
    Json(json!({ "status_code": code, "message": message, "status": status })).into_response()
}

async fn sign_pdf(State(state): State<Arc<FakeState>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(refused) = unauthorised(&state, &headers, "/api/v2/sign/pdf") {
        return refused;
    }
    state.sign_calls.fetch_add(1, Ordering::SeqCst);
    let nik = body["nik"].as_str().unwrap_or_default();
    let user = state
        .users
        .lock()
        .unwrap()
        .get(nik)
        .map(|u| (u.status, u.passphrase.clone(), u.signer.clone(), u.name.clone()));
    let Some((status, passphrase, signer, name)) = user else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "status_code": 2011, "error": "Pengguna tidak terdaftar" })),
        )
            .into_response();
    };
    if status != "ISSUE" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "status_code": 2021, "error": "Sertifikat tidak aktif" })),
        )
            .into_response();
    }
    if body["passphrase"].as_str() != Some(passphrase.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "status_code": 2031, "error": "Passphrase anda salah" })),
        )
            .into_response();
    }
    let properties = &body["signatureProperties"][0];
    assert_eq!(properties["tampilan"], "INVISIBLE", "the QR code is already in the document");
    let pdf = match body["file"][0].as_str().and_then(|f| STANDARD.decode(f).ok()) {
        Some(pdf) if pdf.starts_with(b"%PDF-") && !state.broken_pdf.load(Ordering::SeqCst) => pdf,
        _ => return server_error("/api/v2/sign/pdf"),
    };
    let signed = pades::sign(
        &pdf,
        signer.as_ref(),
        &pades::Details {
            name: &name,
            reason: properties["reason"].as_str().unwrap_or_default(),
            location: properties["location"].as_str().unwrap_or_default(),
            signed_at: chrono::Utc::now().fixed_offset(),
        },
    )
    .unwrap();
    *state.last_signed.lock().unwrap() = Some(signed.clone());
    let delay = *state.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    Json(json!({ "time": 862, "file": [STANDARD.encode(&signed)] })).into_response()
}

async fn verify_pdf(State(state): State<Arc<FakeState>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(refused) = unauthorised(&state, &headers, "/api/v2/verify/pdf") {
        return refused;
    }
    state.verify_calls.fetch_add(1, Ordering::SeqCst);
    let Some(pdf) = body["file"]
        .as_str()
        .and_then(|f| STANDARD.decode(f).ok())
        .filter(|p| p.starts_with(b"%PDF-"))
    else {
        return server_error("/api/v2/verify/pdf");
    };
    let found = pades::inspect(&pdf, std::slice::from_ref(&state.root.1));
    let conclusion = match pades::verdict(&found) {
        pades::Verdict::Valid(..) => "VALID",
        pades::Verdict::Missing => "NO_SIGNATURE",
        _ => "INVALID",
    };
    let informations: Vec<Value> = found
        .iter()
        .map(|f| {
            json!({
                "signerName": f.signer, "integrityValid": f.intact, "certificateTrusted": f.trusted,
                "signatureFormat": "PAdES-BASELINE-B", "timestampInfomation": null, "lastSignature": false,
            })
        })
        .collect();
    Json(json!({ "signatureCount": found.len(), "conclusion": conclusion, "description": "", "signatureInformations": informations }))
        .into_response()
}

/// The demo department signing through the fake BSrE, with the Kepala Dinas registered.
async fn bsre_demo(test_db: &TestDb) -> (AppState, Demo, FakeBsre) {
    let state = support::demo_state(test_db).await;
    let d = Demo::over(&state);
    let fake = FakeBsre::start().await;
    fake.register(KADIS_NIK, KADIS_NAME, "ISSUE");
    let kadis = d.user("kadis").await;
    set_official_nik(
        &state.db,
        &Actor::System("uji"),
        d.department_id,
        kadis.official_id.unwrap(),
        KADIS_NIK,
    )
    .await
    .unwrap();
    d.flow
        .save_signing_settings(&Actor::System("uji"), d.department_id, &settings_input(&fake))
        .await
        .unwrap();
    (state, d, fake)
}

fn settings_input(fake: &FakeBsre) -> SettingsInput {
    SettingsInput {
        backend: "bsre".into(),
        base_url: fake.url(),
        username: CLIENT_USER.into(),
        password: Zeroizing::new(CLIENT_PASSWORD.into()),
        timeout_seconds: "2".into(),
    }
}

fn passphrase(text: &str) -> Credential {
    Credential::Passphrase(Zeroizing::new(text.into()))
}

/// A letter initialled by the Kepala Bidang and the Sekretaris, waiting for the Kepala
/// Dinas' signature.
async fn at_signature(d: &Demo, subject: &str) -> workflow::Letter {
    let mut letter = drafted_and_typed(d, subject).await;
    for username in ["kabid", "sekdis"] {
        letter = d
            .flow
            .decide(&d.user(username).await, letter.id, &request(Decision::Paraf, 1), DEMO_PASSPHRASE)
            .await
            .unwrap_or_else(|e| panic!("{username}: {e}"));
    }
    letter
}

async fn register_numbers(state: &AppState, letter_id: i64) -> Vec<String> {
    sqlx::query_as::<sqlx::Any, (String,)>("SELECT number FROM register WHERE letter_id = $1")
        .bind(letter_id)
        .fetch_all(&state.db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(n,)| n)
        .collect()
}

async fn sign(d: &Demo, letter_id: i64, bsre: &str, send_again: bool) -> Result<workflow::Letter, Error> {
    d.flow
        .sign_remotely(
            &d.user("kadis").await,
            letter_id,
            &request(Decision::TandaTangan, 1),
            DEMO_PASSPHRASE,
            &passphrase(bsre),
            send_again,
        )
        .await
}

story! {
    #[tokio::test]
    async fn a_certified_signature_keeps_its_number_through_refusals_and_validates(test_db: support::TestDb) {
        let label = test_db.label;
        let (state, d, fake) = bsre_demo(&test_db).await;
        let letter = at_signature(&d, "Permohonan data calon penerima (BSrE)").await;

        // The local path is closed to a BSrE department.
        let local = d
            .flow
            .decide(
                &d.user("kadis").await,
                letter.id,
                &request(Decision::TandaTangan, 1),
                DEMO_PASSPHRASE,
            )
            .await;
        assert!(
            matches!(&local, Err(Error::Invalid(e)) if e.get(CREDENTIAL_FIELD).is_some()),
            "{label}: {local:?}"
        );
        assert!(
            register_numbers(&state, letter.id).await.is_empty(),
            "{label}: no number without BSrE"
        );

        // A refused passphrase: the number is stamped and stays; nothing is signed.
        let refused = sign(&d, letter.id, "passphrase keliru", false).await;
        match &refused {
            Err(Error::Invalid(e)) => assert!(e.get(CREDENTIAL_FIELD).unwrap().contains("Passphrase anda salah"), "{label}: {e:?}"),
            other => panic!("{label}: {other:?}"),
        }
        let numbers = register_numbers(&state, letter.id).await;
        assert_eq!(numbers.len(), 1, "{label}");
        let number = numbers[0].clone();
        let pending = remote::status_of(&state.db, letter.id).await.unwrap().unwrap();
        assert_eq!(
            (pending.status.as_str(), pending.attempts, pending.number.as_str()),
            (remote::status::SIAP, 1, number.as_str())
        );
        let now = workflow::get(&state.db, d.department_id, letter.id).await.unwrap();
        assert_eq!(
            (now.state.as_str(), now.number.as_deref()),
            (workflow::state::PROSES, None),
            "{label}"
        );
        assert!(
            workflow::get_by_verification_id(&state.db, &now.verification_id.clone().unwrap_or_default())
                .await
                .unwrap()
                .is_none()
        );

        // A stamped letter cannot go back to the drafter: its number would be lost.
        let mut back = request(Decision::Kembalikan, 1);
        back.note = "perbaiki".into();
        let returned = d.flow.decide(&d.user("kadis").await, letter.id, &back, DEMO_PASSPHRASE).await;
        assert!(
            matches!(&returned, Err(Error::Conflict(m)) if m.contains(&number)),
            "{label}: {returned:?}"
        );

        // BSrE cannot read the PDF: HTTP 500, a clear message, the number stays.
        fake.state.broken_pdf.store(true, Ordering::SeqCst);
        let broken = sign(&d, letter.id, BSRE_PASSPHRASE, false).await;
        assert!(
            matches!(&broken, Err(Error::Unresolved(m)) if m.contains("HTTP 500") && m.contains(&number)),
            "{label}: {broken:?}"
        );
        fake.state.broken_pdf.store(false, Ordering::SeqCst);

        let signed = sign(&d, letter.id, BSRE_PASSPHRASE, false).await.unwrap();
        assert_eq!(signed.state, workflow::state::DITANDATANGANI, "{label}");
        assert_eq!(signed.number.as_deref(), Some(number.as_str()), "{label}: the stamped number");
        assert_eq!(
            register_numbers(&state, letter.id).await,
            vec![number.clone()],
            "{label}: issued once"
        );
        assert_eq!(fake.sign_calls(), 3, "{label}");
        assert_eq!(
            remote::status_of(&state.db, letter.id).await.unwrap().unwrap().status,
            remote::status::SELESAI
        );
        // Public from now on.
        assert!(
            workflow::get_by_verification_id(&state.db, signed.verification_id.as_deref().unwrap())
                .await
                .unwrap()
                .is_some()
        );

        let pdf = workflow::final_pdf(&state.db, letter.id).await.unwrap().unwrap();
        let found = pades::inspect(&pdf, &[fake.root_der()]);
        assert_eq!(found.len(), 1, "{label}");
        assert!(found[0].valid() && found[0].covers_whole_file, "{label}: {:?}", found[0]);
        assert_eq!(found[0].signer.as_deref(), Some(KADIS_NAME));
        assert_eq!(
            signed.final_sha256.as_deref(),
            Some(naskah::workflow::statement::sha256_hex(&pdf).as_str())
        );
        if label == "sqlite" {
            let dir = tempfile::tempdir().unwrap();
            if let Some(report) = crate::pades::pyhanko(dir.path(), &pdf, &pem(&fake.root_der())) {
                let one = &report[0];
                assert_eq!(one["subfilter"], "/ETSI.CAdES.detached", "{one}");
                assert_eq!(
                    (&one["intact"], &one["trusted"], &one["bottom_line"]),
                    (&json!(true), &json!(true), &json!(true)),
                    "{one}"
                );
                assert_eq!(one["coverage"], "ENTIRE_FILE", "{one}");
            }
            if let Some(report) = crate::pades::pdfsig(dir.path(), &pdf, &fake.root_der()) {
                assert!(report.contains("Signature Validation: Signature is Valid."), "{report}");
                assert!(report.contains("Certificate Validation: Certificate is Trusted."), "{report}");
            }
        }
        // The passphrases and the client password are in no audit entry.
        let audit: Vec<(String,)> = sqlx::query_as::<sqlx::Any, (String,)>("SELECT details FROM audit_log")
            .fetch_all(&state.db.pool)
            .await
            .unwrap();
        assert!(
            audit.iter().any(|(d,)| d.contains("Passphrase anda salah")),
            "{label}: the refusal is recorded"
        );
        for (details,) in &audit {
            for secret in [BSRE_PASSPHRASE, CLIENT_PASSWORD, DEMO_PASSPHRASE, KADIS_NIK] {
                assert!(!details.contains(secret), "{label}: {details}");
            }
        }
    }
}

story! {
    #[tokio::test]
    async fn a_late_answer_is_an_unknown_outcome_that_is_never_sent_again_by_itself(test_db: support::TestDb) {
        let label = test_db.label;
        let (state, d, fake) = bsre_demo(&test_db).await;
        let letter = at_signature(&d, "Permohonan data (jawaban BSrE terlambat)").await;

        // BSrE signs but answers after 40 s; the client gives up after 2 s.
        *fake.state.delay.lock().unwrap() = Duration::from_secs(40);
        let started = Instant::now();
        let late = sign(&d, letter.id, BSRE_PASSPHRASE, false).await;
        assert!(started.elapsed() < Duration::from_secs(20), "{label}: {:?}", started.elapsed());
        assert!(
            matches!(&late, Err(Error::Conflict(m)) if m.contains("tidak diketahui")),
            "{label}: {late:?}"
        );
        let pending = remote::status_of(&state.db, letter.id).await.unwrap().unwrap();
        assert_eq!(pending.status, remote::status::TIDAK_DIKETAHUI, "{label}");
        assert_eq!(fake.sign_calls(), 1);

        // Asking again without saying so sends nothing.
        let again = sign(&d, letter.id, BSRE_PASSPHRASE, false).await;
        assert!(
            matches!(&again, Err(Error::Conflict(m)) if m.contains("kirim ulang")),
            "{label}: {again:?}"
        );
        assert_eq!(fake.sign_calls(), 1, "{label}: never retried automatically");

        // A PDF that is not this letter's stamped document is refused before BSrE.
        let kadis = d.user("kadis").await;
        let stranger = b"%PDF-1.7\n% bukan surat ini\n".to_vec();
        let refused = d
            .flow
            .resolve_with_signed_pdf(&kadis, letter.id, &request(Decision::TandaTangan, 1), DEMO_PASSPHRASE, stranger)
            .await;
        assert!(
            matches!(&refused, Err(Error::Invalid(e)) if e.get("pdf").is_some()),
            "{label}: {refused:?}"
        );
        assert_eq!(fake.state.verify_calls.load(Ordering::SeqCst), 0);

        // BSrE's answer found (here: what the server signed): verify/pdf accepts it.
        let answer = fake.state.last_signed.lock().unwrap().clone().unwrap();
        let resolved = d
            .flow
            .resolve_with_signed_pdf(
                &kadis,
                letter.id,
                &request(Decision::TandaTangan, 1),
                DEMO_PASSPHRASE,
                answer.clone(),
            )
            .await
            .unwrap();
        assert_eq!(resolved.state, workflow::state::DITANDATANGANI, "{label}");
        assert_eq!(resolved.number.as_deref(), Some(pending.number.as_str()));
        assert_eq!(fake.state.verify_calls.load(Ordering::SeqCst), 1);
        assert_eq!(workflow::final_pdf(&state.db, letter.id).await.unwrap().unwrap(), answer);
        assert_eq!(register_numbers(&state, letter.id).await, vec![pending.number.clone()]);

        // Another letter: the signer decides to ask again; the same number is signed.
        let second = at_signature(&d, "Permohonan data (dikirim ulang)").await;
        assert!(sign(&d, second.id, BSRE_PASSPHRASE, false).await.is_err());
        let stamped = remote::status_of(&state.db, second.id).await.unwrap().unwrap();
        *fake.state.delay.lock().unwrap() = Duration::ZERO;
        let signed = sign(&d, second.id, BSRE_PASSPHRASE, true).await.unwrap();
        assert_eq!(signed.number.as_deref(), Some(stamped.number.as_str()), "{label}");
        assert_eq!(register_numbers(&state, second.id).await, vec![stamped.number.clone()]);
        assert_eq!(fake.sign_calls(), 3, "{label}: one call per deliberate attempt");
        let pdf = workflow::final_pdf(&state.db, second.id).await.unwrap().unwrap();
        assert!(pades::inspect(&pdf, &[fake.root_der()])[0].valid(), "{label}");
    }
}

story! {
    #[tokio::test]
    async fn switching_to_bsre_and_reaching_the_signer_check_the_signer_at_bsre(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let fake = FakeBsre::start().await;
        let actor = Actor::System("uji");
        let (flow, department_id, actor_ref, fake_ref) = (&d.flow, d.department_id, &actor, &fake);
        let switch = move || async move {
            flow.save_signing_settings(actor_ref, department_id, &settings_input(fake_ref))
                .await
        };

        let no_nik = switch().await;
        assert!(
            matches!(&no_nik, Err(Error::Unresolved(m)) if m.contains(KADIS_NAME) && m.contains("NIK")),
            "{label}: {no_nik:?}"
        );
        let kadis = d.user("kadis").await;
        set_official_nik(&state.db, &actor, d.department_id, kadis.official_id.unwrap(), KADIS_NIK)
            .await
            .unwrap();
        let unknown = switch().await;
        assert!(
            matches!(&unknown, Err(Error::Unresolved(m)) if m.contains(KADIS_NAME) && m.contains("belum terdaftar") && m.contains("6409********0001")),
            "{label}: {unknown:?}"
        );
        fake.register(KADIS_NIK, KADIS_NAME, "NO_CERTIFICATE");
        let no_certificate = switch().await;
        assert!(
            matches!(&no_certificate, Err(Error::Unresolved(m)) if m.contains(KADIS_NAME) && m.contains("belum memiliki sertifikat")),
            "{label}: {no_certificate:?}"
        );
        assert!(!remote::settings::load(&state.db, d.department_id).await.unwrap().uses_bsre());
        fake.set_status(KADIS_NIK, "ISSUE");
        switch().await.unwrap();
        assert!(remote::settings::load(&state.db, d.department_id).await.unwrap().uses_bsre());

        // The Sekretaris' paraf would pass the letter to the Kepala Dinas: checked then.
        let mut letter = drafted_and_typed(&d, "Permohonan data (status BSrE)").await;
        letter = d
            .flow
            .decide(&d.user("kabid").await, letter.id, &request(Decision::Paraf, 1), DEMO_PASSPHRASE)
            .await
            .unwrap();
        let checks_before = fake.state.status_calls.load(Ordering::SeqCst);
        fake.set_status(KADIS_NIK, "NOT_REGISTERED");
        let sekdis = d.user("sekdis").await;
        let held = d
            .flow
            .decide(&sekdis, letter.id, &request(Decision::Paraf, 1), DEMO_PASSPHRASE)
            .await;
        assert!(
            matches!(&held, Err(Error::Unresolved(m)) if m.contains(KADIS_NAME) && m.contains("tahap tanda tangan")),
            "{label}: {held:?}"
        );
        assert!(fake.state.status_calls.load(Ordering::SeqCst) > checks_before);
        let unchanged = workflow::get(&state.db, d.department_id, letter.id).await.unwrap();
        assert_eq!(unchanged.stage, letter.stage, "{label}: the letter did not move");
        fake.set_status(KADIS_NIK, "ISSUE");
        d.flow
            .decide(&sekdis, letter.id, &request(Decision::Paraf, 1), DEMO_PASSPHRASE)
            .await
            .unwrap();

        // The client password is sealed under the master key, in no record in clear.
        let stored: Vec<(String,)> = sqlx::query_as::<sqlx::Any, (String,)>("SELECT details FROM audit_log")
            .fetch_all(&state.db.pool)
            .await
            .unwrap();
        assert!(stored.iter().all(|(d,)| !d.contains(CLIENT_PASSWORD) && !d.contains(KADIS_NIK)));
        let sealed: Vec<(String, String)> =
            sqlx::query_as::<sqlx::Any, (String, String)>("SELECT sealed_with, envelope FROM key_secrets WHERE name LIKE 'bsre-client:%'")
                .fetch_all(&state.db.pool)
                .await
                .unwrap();
        assert_eq!(sealed.len(), 1);
        assert_eq!(sealed[0].0, state.keys.master().id());
        assert!(!sealed[0].1.contains(CLIENT_PASSWORD));
    }
}

#[tokio::test]
async fn the_pages_hide_the_secrets_and_ask_the_signer_for_the_bsre_passphrase() {
    let test_db = support::sqlite().await;
    let (state, d, _fake) = bsre_demo(&test_db).await;
    let letter = at_signature(&d, "Permohonan data (halaman BSrE)").await;

    let mut admin = support::logged_in(&state, "agendaris").await;
    let page = admin.get("/pengaturan/bsre").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains(CLIENT_PASSWORD));
    assert!(page.body.contains("6409********0001") && !page.body.contains(KADIS_NIK));
    assert!(page.body.contains(CLIENT_USER));

    let mut kadis = support::logged_in(&state, "kadis").await;
    let page = kadis.get(&format!("/surat/{}", letter.id)).await;
    assert!(
        page.body.contains(&format!("name=\"{CREDENTIAL_FIELD}\"")),
        "the signer is asked for the BSrE passphrase"
    );
    let csrf = page.csrf();
    let reply = kadis
        .post_form(
            &format!("/surat/{}/keputusan", letter.id),
            &[
                ("csrf", &csrf),
                ("keputusan", "tanda_tangan"),
                ("revisi", "1"),
                ("frasa_sandi", DEMO_PASSPHRASE),
                (CREDENTIAL_FIELD, "passphrase keliru"),
            ],
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("Passphrase anda salah"));
    assert!(reply.body.contains("Nomor sudah dicap"), "the page says the number waits for BSrE");
    let reply = kadis
        .post_form(
            &format!("/surat/{}/keputusan", letter.id),
            &[
                ("csrf", &csrf),
                ("keputusan", "tanda_tangan"),
                ("revisi", "1"),
                ("frasa_sandi", DEMO_PASSPHRASE),
                (CREDENTIAL_FIELD, BSRE_PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let signed = workflow::get(&state.db, d.department_id, letter.id).await.unwrap();
    assert_eq!(signed.state, workflow::state::DITANDATANGANI);
}
