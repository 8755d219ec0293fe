//! A signing backend beside the local PAdES path: a service that receives the whole
//! PDF (already stamped with number, date and QR code) and returns it signed, such as
//! the state CA's signing service (BSrE, [`super::bsre`]). The calls block; callers run
//! them off the async threads. A sign call is never retried automatically: a timeout
//! after the request left is [`RemoteError::OutcomeUnknown`].

use zeroize::Zeroizing;

/// How the signer proves themself to the service for one signature.
#[derive(Clone)]
pub enum Credential {
    /// The passphrase of the signer's certificate at the service.
    Passphrase(Zeroizing<String>),
    /// A one-time code from the service's mobile app.
    Totp(Zeroizing<String>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::Passphrase(_) => "Passphrase(***)",
            Credential::Totp(_) => "Totp(***)",
        })
    }
}

/// One PDF to sign, invisibly: the visible part (QR code, signature block) is already
/// in the document.
pub struct SignRequest<'a> {
    /// The signer's national identity number, by which the service knows them.
    pub nik: &'a str,
    pub credential: &'a Credential,
    pub pdf: &'a [u8],
    pub location: &'a str,
    pub reason: &'a str,
}

/// What the service says of a signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserStatus {
    /// Registered, with a certificate that can sign.
    Issued,
    NotRegistered,
    /// Registered without a (valid) certificate.
    NoCertificate,
    /// Any other status the service names.
    Other(String),
}

/// The service's verdict on a signed PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteVerification {
    /// E.g. `VALID`, `NO_SIGNATURE`, `INVALID`.
    pub conclusion: String,
    pub signatures: Vec<RemoteSignatureInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSignatureInfo {
    pub signer_name: String,
    pub integrity_valid: bool,
    pub certificate_trusted: bool,
    /// E.g. `PAdES-BASELINE-T`.
    pub signature_format: String,
}

impl RemoteVerification {
    /// Valid as a whole, with every signature intact and trusted.
    pub fn valid(&self) -> bool {
        self.conclusion == "VALID"
            && !self.signatures.is_empty()
            && self.signatures.iter().all(|s| s.integrity_valid && s.certificate_trusted)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The passphrase or one-time code was refused; the signer may try again.
    #[error("{0}")]
    WrongCredential(String),
    /// The service refused the request (HTTP 4xx) for another reason.
    #[error("BSrE menolak permintaan (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    /// The client's own credentials were refused.
    #[error("BSrE menolak akun klien aplikasi (HTTP 401); periksa nama pengguna dan kata sandi klien di Pengaturan → BSrE")]
    Unauthorized,
    /// The service answered with an error of its own (HTTP 5xx), e.g. for a PDF it
    /// cannot read. It answered, so nothing was signed.
    #[error("BSrE gagal memproses permintaan (HTTP {status}){}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Server { status: u16, message: String },
    /// The request never reached the service (no connection): safe to try again.
    #[error("BSrE tidak dapat dihubungi: {0}")]
    NotSent(String),
    /// The request was sent and no answer came in time, or the connection broke: the
    /// service may or may not have signed.
    #[error("BSrE tidak menjawab dalam batas waktu; hasil penandatanganan tidak diketahui ({0})")]
    OutcomeUnknown(String),
    /// An answer that does not follow the contract.
    #[error("jawaban BSrE tidak dapat dibaca: {0}")]
    BadAnswer(String),
}

/// A service that signs whole PDFs for a registered signer.
pub trait RemoteSigner: Send + Sync {
    /// Whether the signer identified by `nik` can sign now.
    fn user_status(&self, nik: &str) -> Result<UserStatus, RemoteError>;
    /// The PDF signed by the service (an incremental update of `request.pdf`).
    fn sign_pdf(&self, request: &SignRequest<'_>) -> Result<Vec<u8>, RemoteError>;
    /// The service's check of a signed PDF.
    fn verify_pdf(&self, pdf: &[u8]) -> Result<RemoteVerification, RemoteError>;
}
