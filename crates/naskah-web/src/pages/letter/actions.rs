//! What the letter page's forms post: a new revision, passing the draft on, the
//! classification, revocation and correction, and the paraf or signature decision.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use serde_json::Value;

use super::letter_page;
use crate::{
    AppState,
    auth::{PageForm, SessionUser},
    cases,
    error::{Failure, PageError},
    pages::{FormData, data_from_form, form_failure, render},
    signing::remote::Credential,
    validation::FieldErrors,
    workflow::{self, Decision, DecisionRequest},
};

pub(super) async fn revise(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let manifest = state.catalogue.get(&letter.template_id)?.clone();
    let data = data_from_form(&manifest, &form);
    let version = form.get("versi").parse::<i64>().unwrap_or(-1);
    let note = form.get("catatan_revisi");
    let pass_on = form.get("lanjut") == "teruskan";
    let flow = state.workflow();
    let outcome = if pass_on {
        flow.save_and_submit(&user.user, id, version, &data, &note).await
    } else {
        flow.revise(&user.user, id, version, &data, &note).await
    };
    match outcome {
        Ok(_) if pass_on => Ok(Redirect::to(&format!("/surat/{id}?ok=diteruskan")).into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=revisi")).into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e)).or_else(denied_as_message)?;
            // The page keeps everything typed, the revision note included.
            let mut typed = data.clone();
            if let Some(fields) = typed.as_object_mut() {
                fields.insert("catatan_revisi".into(), Value::String(note));
            }
            let page = letter_page(&state, &user, id, 1, Some(&typed), errors, String::new()).await?;
            Ok(render(status, &page))
        }
    }
}

/// The domain names the fields of a decision in English; the forms in Indonesian.
pub(super) fn form_field_names(errors: &mut FieldErrors) {
    for error in &mut errors.0 {
        match error.field.as_str() {
            "note" => error.field = "catatan".into(),
            "passphrase" => error.field = "frasa_sandi".into(),
            _ => {}
        }
    }
}

/// A refusal (e.g. not this user's turn any more) shown on the letter page instead of
/// an error page, so the user sees where the letter is now.
pub(super) fn denied_as_message(e: PageError) -> Result<(FieldErrors, StatusCode), PageError> {
    match e.0 {
        Failure::Denied(m) => Ok((FieldErrors::single("_", m), StatusCode::FORBIDDEN)),
        // The lock belongs to the passphrase: its message stands at that field.
        Failure::Throttled(m) => Ok((FieldErrors::single("frasa_sandi", m), StatusCode::TOO_MANY_REQUESTS)),
        other => Err(PageError(other)),
    }
}

pub(super) async fn classify(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let version = form.get("versi").parse::<i64>().unwrap_or(-1);
    match state
        .workflow()
        .set_classification(&user.user, id, version, &form.get("kode_klasifikasi"))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=tersimpan")).into_response()),
        Err(e) => letter_page_with_failure(&state, &user, id, e).await,
    }
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let typed = serde_json::json!({ "alasan": form.get("alasan"), "paham": form.get("paham") });
    // Revocation cannot be undone: the page asks for the consequences to be confirmed.
    let outcome = if form.get("paham") != "ya" {
        Err(Failure::Invalid(FieldErrors::single(
            "paham",
            "Centang pernyataan bahwa Anda mengerti akibat pencabutan.",
        )))
    } else {
        state
            .workflow()
            .revoke(&user.user, id, &form.get("alasan"))
            .await
            .map_err(Failure::from)
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=dicabut-surat")).into_response()),
        Err(failure) => {
            let (errors, status) = form_failure(failure).or_else(denied_as_message)?;
            let page = letter_page(&state, &user, id, 1, Some(&typed), errors, String::new()).await?;
            Ok(render(status, &page))
        }
    }
}

pub(super) async fn correct(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(_form): PageForm<FormData>,
) -> Result<Response, PageError> {
    match state.workflow().start_correction(&user.user, id).await {
        Ok(correction) => Ok(Redirect::to(&format!("/surat/{}", correction.id)).into_response()),
        Err(e) => letter_page_with_failure(&state, &user, id, e).await,
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let version = form.get("versi").parse::<i64>().unwrap_or(-1);
    match state.workflow().submit(&user.user, id, version).await {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{id}?ok=diteruskan")).into_response()),
        Err(e) => letter_page_with_failure(&state, &user, id, e).await,
    }
}

fn decision_request(form: &FormData) -> Result<DecisionRequest, FieldErrors> {
    let decision = Decision::parse(&form.get("keputusan")).ok_or_else(|| FieldErrors::single("keputusan", "Pilih keputusan."))?;
    Ok(DecisionRequest {
        decision,
        note: form.get("catatan"),
        expected_revision: form.get("revisi").parse().unwrap_or(-1),
        budget_warning_accepted: form.get("terima_peringatan") == "ya",
        deadline_warning_accepted: form.get("terima_batas_waktu") == "ya",
    })
}

/// A department that signs through BSrE: the form carries the BSrE passphrase.
fn remote(form: &FormData) -> Option<cases::decision::RemoteSignature> {
    form.0
        .iter()
        .any(|(name, _)| name == workflow::remote::CREDENTIAL_FIELD)
        .then(|| cases::decision::RemoteSignature {
            credential: Credential::Passphrase(zeroize::Zeroizing::new(form.get(workflow::remote::CREDENTIAL_FIELD))),
            send_again: form.get("kirim_ulang") == "ya",
        })
}

pub(super) async fn decide(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let outcome = match decision_request(&form) {
        Ok(request) => cases::decision::decide(&state.workflow(), &user.user, id, &request, &form.get("frasa_sandi"), remote(&form))
            .await
            .map(|_| request.decision)
            .map_err(Failure::from),
        Err(errors) => Err(Failure::Invalid(errors)),
    };
    // The decision and the note come back as chosen (the passphrase never does).
    let typed = serde_json::json!({ "keputusan": form.get("keputusan"), "catatan": form.get("catatan") });
    match outcome {
        Ok(decision) => Ok(Redirect::to(&format!("/surat/{id}?ok={}", decision.key())).into_response()),
        Err(Failure::NeedsConfirmation(warning)) => {
            let page = letter_page(&state, &user, id, 1, Some(&typed), FieldErrors::default(), warning).await?;
            Ok(render(StatusCode::PRECONDITION_REQUIRED, &page))
        }
        Err(failure) => {
            let (mut errors, status) = form_failure(failure).or_else(denied_as_message)?;
            form_field_names(&mut errors);
            let page = letter_page(&state, &user, id, 1, Some(&typed), errors, String::new()).await?;
            Ok(render(status, &page))
        }
    }
}

/// The letter page again, with what went wrong in place of the form's summary.
pub(super) async fn letter_page_with_failure(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    e: workflow::Error,
) -> Result<Response, PageError> {
    let (errors, status) = form_failure(Failure::from(e)).or_else(denied_as_message)?;
    let page = letter_page(state, user, id, 1, None, errors, String::new()).await?;
    Ok(render(status, &page))
}
