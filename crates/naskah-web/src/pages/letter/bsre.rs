//! The BSrE outcome of a stamped letter checked against the signed PDF BSrE returned.

use axum::{
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::letter_page;
use crate::{
    AppState,
    auth::SessionUser,
    error::{Failure, PageError},
    pages::{form_failure, read_upload},
    validation::FieldErrors,
    workflow::{Decision, DecisionRequest},
};

/// A signed PDF uploaded to resolve an unknown outcome.
const MAX_SIGNED_PDF: usize = 20 * 1024 * 1024;

pub(super) async fn resolve(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let (form, _, pdf) = read_upload(multipart, "pdf").await?;
    let outcome = if pdf.is_empty() {
        Err(Failure::Invalid(FieldErrors::single("pdf", "Pilih berkas PDF.")))
    } else if pdf.len() > MAX_SIGNED_PDF {
        Err(Failure::Invalid(FieldErrors::single("pdf", "Berkas PDF paling besar 20 MB.")))
    } else {
        let request = DecisionRequest {
            decision: Decision::TandaTangan,
            note: String::new(),
            expected_revision: form.get("revisi").parse().unwrap_or(-1),
            budget_warning_accepted: true,
            // The letter was stamped (after any warning was accepted) before BSrE was asked.
            deadline_warning_accepted: true,
        };
        state
            .workflow()
            .resolve_with_signed_pdf(&user.user, id, &request, &form.get("frasa_sandi"), pdf)
            .await
            .map_err(Failure::from)
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=tanda_tangan")).into_response()),
        Err(failure) => {
            let (errors, status) = form_failure(failure).or_else(|e| match e.0 {
                Failure::Denied(m) => Ok((FieldErrors::single("_", m), StatusCode::FORBIDDEN)),
                other => Err(PageError(other)),
            })?;
            let page = letter_page(&state, &user, id, 1, None, errors, String::new()).await?;
            Ok(super::render(status, &page))
        }
    }
}
