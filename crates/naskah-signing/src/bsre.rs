//! The client of the state CA's signing service, BSrE "esign client API v2" (BSSN), as
//! published and reported by integrators: HTTP Basic auth with the application's client
//! account; `POST /api/v2/sign/pdf` (`nik`, `passphrase` or `totp`,
//! `signatureProperties[]`, `file[]` in base64 → `{time, file: [base64]}`);
//! `POST /api/v2/user/check/status` (→ `ISSUE`, `NOT_REGISTERED`, `NO_CERTIFICATE`);
//! `POST /api/v2/verify/pdf` (→ `conclusion`, `signatureInformations[]`). A bad or
//! empty PDF is answered with HTTP 500; verifying a large file takes ~40 s.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::remote::{Credential, RemoteError, RemoteSignatureInfo, RemoteSigner, RemoteVerification, SignRequest, UserStatus};

/// The largest answer read: a signed PDF in base64 within JSON.
const MAX_ANSWER_BYTES: u64 = 96 * 1024 * 1024;
/// Verification of a large, many-times-signed file takes about 40 s at BSrE.
const MIN_VERIFY_TIMEOUT: Duration = Duration::from_secs(120);
/// BSrE's application code for a refused passphrase (esign client API).
const WRONG_PASSPHRASE_CODE: i64 = 2031;

/// Where and as whom the application reaches BSrE.
pub struct BsreSettings {
    /// E.g. `https://esign.example.go.id`, without `/api/...`.
    pub base_url: String,
    pub username: String,
    pub password: Zeroizing<String>,
    /// How long a sign or status call may take before its outcome counts as unknown.
    pub timeout: Duration,
}

impl std::fmt::Debug for BsreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BsreSettings")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("password", &"***")
            .field("timeout", &self.timeout)
            .finish()
    }
}

pub struct BsreClient {
    base_url: String,
    authorization: Zeroizing<String>,
    agent: ureq::Agent,
    verify_agent: ureq::Agent,
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        // A connection that cannot be made is "not sent", which may be tried again; it
        // must fail before the whole call's time is up.
        .timeout_connect(Some(timeout.min(Duration::from_secs(10)) / 2))
        .http_status_as_error(false)
        .user_agent("naskah")
        .build()
        .new_agent()
}

impl BsreClient {
    pub fn new(settings: &BsreSettings) -> Result<Self, RemoteError> {
        let base = settings.base_url.trim().trim_end_matches('/');
        let parsed = url::Url::parse(base).map_err(|_| RemoteError::NotSent(format!("alamat BSrE \"{base}\" bukan URL")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(RemoteError::NotSent(format!("alamat BSrE \"{base}\" harus http:// atau https://")));
        }
        if settings.timeout.is_zero() {
            return Err(RemoteError::NotSent("batas waktu BSrE harus lebih dari 0 detik".into()));
        }
        let credentials = Zeroizing::new(format!("{}:{}", settings.username, settings.password.as_str()));
        Ok(Self {
            base_url: base.to_string(),
            authorization: Zeroizing::new(format!("Basic {}", STANDARD.encode(credentials.as_bytes()))),
            agent: agent(settings.timeout),
            verify_agent: agent(settings.timeout.max(MIN_VERIFY_TIMEOUT)),
        })
    }

    /// Posts a JSON body and returns the HTTP status with the answer parsed as JSON
    /// (`Value::Null` when the answer is not JSON).
    fn post(&self, agent: &ureq::Agent, path: &str, body: &[u8]) -> Result<(u16, Value), RemoteError> {
        let mut response = agent
            .post(format!("{}{path}", self.base_url))
            .header("Authorization", self.authorization.as_str())
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(body)
            .map_err(transport)?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(transport)?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }
}

/// A transport failure: before the connection existed the request was not sent;
/// after, its outcome is unknown.
fn transport(e: ureq::Error) -> RemoteError {
    use ureq::{Error, Timeout};
    match e {
        Error::HostNotFound
        | Error::ConnectionFailed
        | Error::BadUri(_)
        | Error::Timeout(Timeout::Resolve | Timeout::Connect)
        | Error::Tls(_)
        | Error::Rustls(_)
        | Error::TlsRequired
        | Error::RequireHttpsOnly(_)
        | Error::ConnectProxyFailed(_) => RemoteError::NotSent(e.to_string()),
        Error::Io(ref io) if io.kind() == std::io::ErrorKind::ConnectionRefused => RemoteError::NotSent(e.to_string()),
        Error::BodyExceedsLimit(_) => RemoteError::BadAnswer(e.to_string()),
        other => RemoteError::OutcomeUnknown(other.to_string()),
    }
}

/// The message of an error answer: `error`, `message` or the HTTP reason.
fn message_of(answer: &Value) -> String {
    ["error", "message", "description"]
        .iter()
        .find_map(|k| answer.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// Maps an answer that is not a success.
fn failure(status: u16, answer: &Value) -> RemoteError {
    let message = message_of(answer);
    let code = answer
        .get("status_code")
        .and_then(|c| c.as_i64().or_else(|| c.as_str()?.parse().ok()));
    match status {
        401 => RemoteError::Unauthorized,
        _ if code == Some(WRONG_PASSPHRASE_CODE) || message.to_lowercase().contains("passphrase") => {
            RemoteError::WrongCredential(if message.is_empty() { "Passphrase salah".into() } else { message })
        }
        500.. => RemoteError::Server { status, message },
        _ => RemoteError::Refused { status, message },
    }
}

impl RemoteSigner for BsreClient {
    fn user_status(&self, nik: &str) -> Result<UserStatus, RemoteError> {
        let body = json!({ "nik": nik }).to_string();
        let (status, answer) = self.post(&self.agent, "/api/v2/user/check/status", body.as_bytes())?;
        if status != 200 {
            return Err(failure(status, &answer));
        }
        match answer.get("status").and_then(Value::as_str) {
            Some("ISSUE") => Ok(UserStatus::Issued),
            Some("NOT_REGISTERED") => Ok(UserStatus::NotRegistered),
            Some("NO_CERTIFICATE") => Ok(UserStatus::NoCertificate),
            Some(other) => Ok(UserStatus::Other(other.chars().take(60).collect())),
            None => Err(RemoteError::BadAnswer("status pengguna tidak ada dalam jawaban".into())),
        }
    }

    fn sign_pdf(&self, request: &SignRequest<'_>) -> Result<Vec<u8>, RemoteError> {
        let mut body = json!({
            "nik": request.nik,
            "signatureProperties": [{
                "tampilan": "INVISIBLE",
                "location": request.location,
                "reason": request.reason,
            }],
            "file": [STANDARD.encode(request.pdf)],
        });
        match request.credential {
            Credential::Passphrase(p) => body["passphrase"] = Value::String(p.as_str().to_string()),
            Credential::Totp(t) => body["totp"] = Value::String(t.as_str().to_string()),
        }
        // The request text is zeroed when dropped; the value holding the credential is
        // dropped at once.
        let text = Zeroizing::new(body.to_string());
        drop(body);
        let (status, answer) = self.post(&self.agent, "/api/v2/sign/pdf", text.as_bytes())?;
        if status != 200 {
            return Err(failure(status, &answer));
        }
        let first = answer
            .get("file")
            .and_then(Value::as_array)
            .and_then(|files| files.first())
            .and_then(Value::as_str)
            .ok_or_else(|| RemoteError::BadAnswer("berkas bertanda tangan tidak ada dalam jawaban".into()))?;
        let pdf = STANDARD
            .decode(first)
            .map_err(|_| RemoteError::BadAnswer("berkas bertanda tangan bukan base64".into()))?;
        if !pdf.starts_with(b"%PDF-") {
            return Err(RemoteError::BadAnswer("berkas bertanda tangan bukan PDF".into()));
        }
        Ok(pdf)
    }

    fn verify_pdf(&self, pdf: &[u8]) -> Result<RemoteVerification, RemoteError> {
        let body = json!({ "file": STANDARD.encode(pdf) }).to_string();
        let (status, answer) = self.post(&self.verify_agent, "/api/v2/verify/pdf", body.as_bytes())?;
        if status != 200 {
            return Err(failure(status, &answer));
        }
        let conclusion = answer
            .get("conclusion")
            .and_then(Value::as_str)
            .ok_or_else(|| RemoteError::BadAnswer("kesimpulan verifikasi tidak ada dalam jawaban".into()))?
            .to_string();
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let flag = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let signatures = answer
            .get("signatureInformations")
            .and_then(Value::as_array)
            .map(|all| {
                all.iter()
                    .map(|s| RemoteSignatureInfo {
                        signer_name: text(s, "signerName"),
                        integrity_valid: flag(s, "integrityValid"),
                        certificate_trusted: flag(s, "certificateTrusted"),
                        signature_format: text(s, "signatureFormat"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(RemoteVerification { conclusion, signatures })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_map_to_what_the_signer_can_do() {
        let wrong = failure(400, &json!({ "status_code": 2031, "error": "Passphrase anda salah" }));
        assert!(
            matches!(wrong, RemoteError::WrongCredential(ref m) if m == "Passphrase anda salah"),
            "{wrong:?}"
        );
        assert!(matches!(failure(401, &json!({ "status": 401 })), RemoteError::Unauthorized));
        let server = failure(
            500,
            &json!({ "status": 500, "error": "Internal Server Error", "path": "/api/v2/sign/pdf" }),
        );
        assert!(matches!(server, RemoteError::Server { status: 500, .. }), "{server:?}");
        assert!(matches!(failure(400, &Value::Null), RemoteError::Refused { status: 400, .. }));
    }

    #[test]
    fn settings_and_client_never_show_the_password() {
        let settings = BsreSettings {
            base_url: "https://esign.example.go.id/".into(),
            username: "klien".into(),
            password: Zeroizing::new("rahasia-sekali".into()),
            timeout: Duration::from_secs(5),
        };
        assert!(!format!("{settings:?}").contains("rahasia"));
        let client = BsreClient::new(&settings).unwrap();
        assert_eq!(client.base_url, "https://esign.example.go.id");
        let credential = Credential::Passphrase(Zeroizing::new("rahasia-sekali".into()));
        assert!(!format!("{credential:?}").contains("rahasia"));
        for bad in ["esign.example.go.id", "ftp://esign.example.go.id", ""] {
            let settings = BsreSettings {
                base_url: bad.into(),
                ..settings_like(&settings)
            };
            assert!(BsreClient::new(&settings).is_err(), "{bad}");
        }
    }

    fn settings_like(s: &BsreSettings) -> BsreSettings {
        BsreSettings {
            base_url: s.base_url.clone(),
            username: s.username.clone(),
            password: s.password.clone(),
            timeout: s.timeout,
        }
    }

    #[test]
    fn a_closed_port_is_not_sent() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = BsreClient::new(&BsreSettings {
            base_url: format!("http://127.0.0.1:{port}"),
            username: "klien".into(),
            password: Zeroizing::new("x".into()),
            timeout: Duration::from_secs(2),
        })
        .unwrap();
        let outcome = client.user_status("6409010101010001");
        assert!(matches!(outcome, Err(RemoteError::NotSent(_))), "{outcome:?}");
    }
}
