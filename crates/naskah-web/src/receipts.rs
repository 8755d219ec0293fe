//! Tanda terima elektronik: the one-time link in each e-mailed copy. Opening it shows the
//! letter and a button; only pressing the button records the receipt (mail scanners that
//! open links must not confirm anything). The token in the address is the credential:
//! only its hash is stored, a re-send replaces it, and a second confirmation changes
//! nothing. No session exists here, so there is no CSRF token: a forged request would
//! need the token itself, which is all the form carries.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::{
    AppState,
    auth::PeerAddr,
    pages::{Shell, render},
};
use crate::{
    departments,
    distribution::{
        self,
        deliveries::{self, Delivery},
    },
    workflow,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/tanda-terima/{token}", get(show).post(confirm))
}

#[derive(Template, Default)]
#[template(path = "receipt.html")]
struct ReceiptTemplate {
    shell: Shell,
    found: bool,
    token: String,
    acknowledged: bool,
    acknowledged_at: String,
    confirmed_by: String,
    department: String,
    addressee: String,
    number: String,
    date: String,
    subject: String,
    verification: String,
}

fn page(status: StatusCode, template: ReceiptTemplate) -> Response {
    let mut response = render(status, &template);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    // The token is in the address: keep it out of other sites' logs.
    headers.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    response
}

fn unknown() -> Response {
    page(
        StatusCode::NOT_FOUND,
        ReceiptTemplate {
            shell: Shell {
                title: "Tanda terima tidak berlaku".into(),
                ..Shell::default()
            },
            ..ReceiptTemplate::default()
        },
    )
}

async fn describe(state: &AppState, token: &str, delivery: &Delivery) -> Result<ReceiptTemplate, distribution::Error> {
    let letter = workflow::get(&state.db, delivery.department_id, delivery.letter_id)
        .await
        .map_err(|e| distribution::Error::Internal(e.to_string()))?;
    let department = departments::get(&state.db, delivery.department_id)
        .await
        .map_err(|e| distribution::Error::Internal(e.to_string()))?;
    let tz = department.tz();
    Ok(ReceiptTemplate {
        shell: Shell {
            title: "Tanda terima elektronik".into(),
            ..Shell::default()
        },
        found: true,
        token: token.into(),
        acknowledged: delivery.status == "acknowledged",
        acknowledged_at: delivery.acknowledged_at.map(|at| tz.format_time(at)).unwrap_or_default(),
        confirmed_by: delivery.receiver_name.clone(),
        department: format!("{} {}", department.name, department.regency_name),
        addressee: delivery.name.clone(),
        number: letter.number.clone().unwrap_or_default(),
        date: letter.letter_date.as_deref().map(crate::text::date_long_iso).unwrap_or_default(),
        subject: letter.subject.clone(),
        verification: letter.verification_id.as_deref().map(|v| format!("/v/{v}")).unwrap_or_default(),
    })
}

async fn show(State(state): State<AppState>, Path(token): Path<String>, headers: HeaderMap, peer: PeerAddr) -> Response {
    if super::public::limited(&state, &headers, &peer) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Terlalu banyak permintaan. Coba lagi dalam satu menit.",
        )
            .into_response();
    }
    let found = match deliveries::by_receipt(&state.db, &token).await {
        Ok(Some(delivery)) => describe(&state, &token, &delivery).await,
        Ok(None) => return unknown(),
        Err(e) => Err(e),
    };
    match found {
        Ok(template) => page(StatusCode::OK, template),
        Err(e) => {
            tracing::error!(error = %e, "tanda terima gagal dibaca");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Tanda terima sedang tidak dapat dibuka. Coba lagi sebentar lagi.",
            )
                .into_response()
        }
    }
}

#[derive(Deserialize, Default)]
struct ConfirmForm {
    #[serde(default)]
    nama: String,
}

async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    peer: PeerAddr,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if super::public::limited(&state, &headers, &peer) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Terlalu banyak permintaan. Coba lagi dalam satu menit.",
        )
            .into_response();
    }
    let outcome = match deliveries::acknowledge(&state.db, &token, &form.nama).await {
        Ok((delivery, _)) => describe(&state, &token, &delivery).await,
        Err(distribution::Error::NotFound) => return unknown(),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(template) => page(StatusCode::OK, template),
        Err(e) => {
            tracing::error!(error = %e, "tanda terima gagal dicatat");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Konfirmasi belum dapat dicatat. Coba lagi sebentar lagi.",
            )
                .into_response()
        }
    }
}
