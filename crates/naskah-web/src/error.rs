//! The one place where domain errors become HTTP answers: JSON for the API, an
//! Indonesian HTML page for people. Internal details are logged, never shown.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde_json::json;

use crate::{accounts, db::DbError, departments, regions, validation::FieldErrors};

/// What went wrong, independent of how it is shown.
#[derive(Debug)]
pub enum Failure {
    /// Not logged in (pages redirect to the login form).
    Unauthenticated,
    Forbidden,
    /// Refused, with the reason (e.g. not this user's turn in the chain).
    Denied(String),
    /// The action needs the user to confirm a warning first.
    NeedsConfirmation(String),
    NotFound,
    Invalid(FieldErrors),
    BadRequest(String),
    Conflict(String),
    /// Well-formed but cannot be processed, with a message for the user.
    Unprocessable(String),
    /// Over the route's limit (in bytes, when known).
    TooLarge(Option<usize>),
    Throttled(String),
    Csrf,
    /// The database cannot be reached now; nothing was changed.
    Unavailable(String),
    Internal(String),
}

impl Failure {
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::Unauthenticated => StatusCode::UNAUTHORIZED,
            Failure::Forbidden | Failure::Csrf | Failure::Denied(_) => StatusCode::FORBIDDEN,
            Failure::NeedsConfirmation(_) => StatusCode::PRECONDITION_REQUIRED,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::Invalid(_) | Failure::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::BadRequest(_) => StatusCode::BAD_REQUEST,
            Failure::Conflict(_) => StatusCode::CONFLICT,
            Failure::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Failure::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Failure::Unauthenticated => "unauthenticated",
            Failure::Forbidden | Failure::Denied(_) => "forbidden",
            Failure::NeedsConfirmation(_) => "confirmation_required",
            Failure::Csrf => "csrf",
            Failure::NotFound => "not_found",
            Failure::Invalid(_) => "invalid",
            Failure::BadRequest(_) => "bad_request",
            Failure::Conflict(_) => "conflict",
            Failure::Unprocessable(_) => "unprocessable",
            Failure::TooLarge(_) => "too_large",
            Failure::Throttled(_) => "throttled",
            Failure::Unavailable(_) => "unavailable",
            Failure::Internal(_) => "internal",
        }
    }

    /// The Indonesian message a person sees.
    pub fn message(&self) -> String {
        match self {
            Failure::Unauthenticated => "Silakan masuk terlebih dahulu.".into(),
            Failure::Forbidden => "Anda tidak berwenang membuka halaman atau melakukan tindakan ini.".into(),
            Failure::Csrf => "Formulir ini sudah kedaluwarsa atau tidak sah. Muat ulang halaman lalu kirim lagi.".into(),
            Failure::NotFound => "Halaman atau data yang Anda cari tidak ditemukan.".into(),
            Failure::Invalid(errors) => {
                let parts: Vec<&str> = errors.0.iter().map(|e| e.message.as_str()).collect();
                format!("Data belum benar: {}", parts.join(" "))
            }
            Failure::BadRequest(m)
            | Failure::Conflict(m)
            | Failure::Throttled(m)
            | Failure::Unprocessable(m)
            | Failure::Denied(m)
            | Failure::NeedsConfirmation(m) => m.clone(),
            Failure::TooLarge(limit) => format!(
                "Data yang dikirim {}. Kembali ke formulir (isian Anda masih ada di sana), lalu pilih berkas yang lebih kecil \
                 atau bagi berkasnya.",
                match limit {
                    Some(bytes) => format!("lebih dari {}, batas formulir ini", crate::uploads::megabytes(*bytes)),
                    None => "melebihi batas formulir ini".to_string(),
                }
            ),
            Failure::Unavailable(_) => "Basis data sedang tidak dapat dihubungi, jadi tidak ada yang disimpan. \
                                        Coba lagi sebentar lagi; bila berulang, hubungi administrator."
                .into(),
            Failure::Internal(_) => "Terjadi kesalahan pada server. Coba lagi; bila berulang, hubungi administrator.".into(),
        }
    }

    fn log(&self) {
        match self {
            Failure::Internal(detail) => tracing::error!(detail = %detail, "kesalahan internal"),
            Failure::Unavailable(detail) => tracing::warn!(detail = %detail, "basis data tidak terjangkau"),
            _ => {}
        }
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sqlx(e) => e.into(),
            DbError::Unreachable { .. } => Failure::Unavailable(e.to_string()),
            other => Failure::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        // No connection to be had, or the one in hand broke: the database is away, not wrong.
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Failure::Unavailable(e.to_string())
            }
            other => Failure::Internal(other.to_string()),
        }
    }
}

impl From<departments::Error> for Failure {
    fn from(e: departments::Error) -> Self {
        match e {
            departments::Error::Invalid(f) => Failure::Invalid(f),
            departments::Error::NotFound => Failure::NotFound,
            departments::Error::Conflict(m) => Failure::Conflict(m),
            departments::Error::Db(e) => e.into(),
        }
    }
}

impl From<accounts::Error> for Failure {
    fn from(e: accounts::Error) -> Self {
        match e {
            accounts::Error::Invalid(f) => Failure::Invalid(f),
            accounts::Error::NotFound => Failure::NotFound,
            accounts::Error::Conflict(m) => Failure::Conflict(m),
            accounts::Error::WrongPassword => Failure::Invalid(FieldErrors::single("current_password", "Kata sandi saat ini salah.")),
            accounts::Error::Db(e) => e.into(),
        }
    }
}

impl From<accounts::LoginError> for Failure {
    fn from(e: accounts::LoginError) -> Self {
        match e {
            accounts::LoginError::InvalidCredentials => Failure::BadRequest(e.to_string()),
            accounts::LoginError::Throttled { .. } => Failure::Throttled(e.to_string()),
            accounts::LoginError::Db(e) => e.into(),
        }
    }
}

impl From<crate::rendering::RenderError> for Failure {
    fn from(e: crate::rendering::RenderError) -> Self {
        use crate::rendering::RenderError;
        match e {
            // A template that does not compile: the user sees file, line and message.
            RenderError::Template { .. } | RenderError::PageOutOfRange { .. } => Failure::Unprocessable(e.to_string()),
            RenderError::UnknownTemplate(_) => Failure::NotFound,
            RenderError::InvalidJob(detail) | RenderError::Internal(detail) => Failure::Internal(detail),
        }
    }
}

impl From<crate::letters::Error> for Failure {
    fn from(e: crate::letters::Error) -> Self {
        use crate::letters::Error;
        match e {
            Error::UnknownTemplate(_) => Failure::NotFound,
            Error::Invalid(fields) => Failure::Invalid(fields),
            Error::Render(r) => r.into(),
            Error::BadManifest { .. } => Failure::Internal(e.to_string()),
        }
    }
}

impl From<crate::keys::Error> for Failure {
    fn from(e: crate::keys::Error) -> Self {
        use crate::keys::Error;
        match e {
            Error::WrongPassphrase => Failure::Invalid(FieldErrors::single("passphrase", "Frasa sandi salah.")),
            Error::Throttled { .. } => Failure::Throttled(e.to_string()),
            Error::Invalid(fields) => Failure::Invalid(fields),
            Error::NoKey => Failure::Unprocessable(e.to_string()),
            Error::AlreadyHasKey(_) => Failure::Conflict(e.to_string()),
            Error::UnknownKey(_) => Failure::NotFound,
            Error::SecretMissing(_) | Error::MasterMismatch { .. } | Error::Corrupt { .. } | Error::Io { .. } => {
                Failure::Internal(e.to_string())
            }
            Error::Db(e) => e.into(),
        }
    }
}

impl From<crate::workflow::Error> for Failure {
    fn from(e: crate::workflow::Error) -> Self {
        use crate::workflow::Error;
        match e {
            Error::NotFound => Failure::NotFound,
            Error::Invalid(fields) => Failure::Invalid(fields),
            Error::Forbidden(m) | Error::NotYourTurn(m) => Failure::Denied(m),
            Error::Conflict(m) => Failure::Conflict(m),
            Error::NeedsConfirmation(m) => Failure::NeedsConfirmation(m),
            Error::BadChain(_) | Error::Unresolved(_) => Failure::Unprocessable(e.to_string()),
            Error::Key(k) => k.into(),
            Error::Render(r) => r.into(),
            Error::Letters(l) => l.into(),
            Error::Department(d) => d.into(),
            Error::Numbering(n) => n.into(),
            // Our own PDF or certificate that cannot be signed is a fault of the service.
            Error::Sign(s) => Failure::Internal(s.to_string()),
            Error::Db(d) => d.into(),
            Error::Internal(m) => Failure::Internal(m),
        }
    }
}

impl From<crate::cases::Error> for Failure {
    fn from(e: crate::cases::Error) -> Self {
        use crate::cases::Error;
        match e {
            Error::Workflow(e) => e.into(),
            Error::Distribution(e) => e.into(),
            Error::Accounts(e) => e.into(),
            Error::Departments(e) => e.into(),
            Error::Numbering(e) => e.into(),
            Error::Beneficiaries(e) => e.into(),
            Error::Incoming(e) => e.into(),
            Error::Denied(m) => Failure::Denied(m),
        }
    }
}

impl From<crate::distribution::Error> for Failure {
    fn from(e: crate::distribution::Error) -> Self {
        use crate::distribution::Error;
        match e {
            Error::NotFound => Failure::NotFound,
            Error::Invalid(fields) => Failure::Invalid(fields),
            Error::Conflict(m) => Failure::Conflict(m),
            Error::Csv(_) | Error::Rows(_) => Failure::Unprocessable(e.to_string()),
            Error::Db(e) => e.into(),
            Error::Internal(m) => Failure::Internal(m),
        }
    }
}

impl From<crate::beneficiaries::Error> for Failure {
    fn from(e: crate::beneficiaries::Error) -> Self {
        use crate::beneficiaries::Error;
        match e {
            Error::NotFound => Failure::NotFound,
            Error::Invalid(fields) => Failure::Invalid(fields),
            Error::Conflict(m) => Failure::Conflict(m),
            Error::Denied(m) => Failure::Denied(m),
            Error::Unreadable(_) | Error::Mapping(_) => Failure::Unprocessable(e.to_string()),
            Error::Db(e) => e.into(),
        }
    }
}

impl From<crate::incoming::Error> for Failure {
    fn from(e: crate::incoming::Error) -> Self {
        use crate::incoming::Error;
        match e {
            Error::NotFound => Failure::NotFound,
            Error::Invalid(fields) => Failure::Invalid(fields),
            Error::Conflict(m) => Failure::Conflict(m),
            Error::Forbidden(m) => Failure::Denied(m),
            Error::Db(e) => e.into(),
        }
    }
}

impl From<crate::numbering::Error> for Failure {
    fn from(e: crate::numbering::Error) -> Self {
        use crate::numbering::Error;
        match e {
            Error::Invalid(fields) => Failure::Invalid(fields),
            Error::NotFound => Failure::NotFound,
            Error::Conflict(m) => Failure::Conflict(m),
            Error::Db(e) => e.into(),
        }
    }
}

impl From<regions::Error> for Failure {
    fn from(e: regions::Error) -> Self {
        match e {
            regions::Error::Db(e) => e.into(),
            other => Failure::BadRequest(other.to_string()),
        }
    }
}

/// An error answered as JSON: `{"error": {"code", "message", "fields"?}}`.
#[derive(Debug)]
pub struct ApiError(pub Failure);

impl<E: Into<Failure>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let mut body = json!({ "error": { "code": self.0.code(), "message": self.0.message() } });
        if let Failure::Invalid(fields) = &self.0 {
            body["error"]["fields"] = json!(fields.0);
        }
        (self.0.status(), Json(body)).into_response()
    }
}

/// An error answered as an HTML page (or a redirect to the login form).
#[derive(Debug)]
pub struct PageError(pub Failure);

impl<E: Into<Failure>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        if let Failure::Unauthenticated = self.0 {
            return Redirect::to("/masuk").into_response();
        }
        super::view::error_page(self.0.status(), &self.0.message())
    }
}
