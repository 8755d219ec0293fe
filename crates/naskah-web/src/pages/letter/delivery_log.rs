//! A change to a delivery recorded from the letter page (handed over, sent, confirmed,
//! failed, sent again, another channel).

use crate::distribution::deliveries::Change;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::letter_page;
use crate::{
    AppState,
    auth::{PageForm, SessionUser},
    cases,
    error::{Failure, PageError},
    pages::{FormData, render},
    validation::FieldErrors,
};

/// The change a form asks for, by the action in its address.
fn change(action: &str, form: &FormData) -> Option<Change> {
    Some(match action {
        "diterima" => Change::Delivered {
            receiver: form.get("penerima"),
            at: None,
        },
        "terkirim" => Change::Sent { note: form.get("catatan") },
        "konfirmasi" => Change::Acknowledged { note: form.get("catatan") },
        "gagal" => Change::Failed {
            reason: form.get("alasan"),
        },
        "ulang" => Change::Resend,
        "saluran" => Change::Channel {
            channel: form.get("saluran"),
            address: form.get("alamat"),
        },
        _ => return None,
    })
}

pub(super) async fn record(
    State(state): State<AppState>,
    user: SessionUser,
    Path((id, action)): Path<(i64, String)>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    let change = change(&action, &form).ok_or(PageError(Failure::NotFound))?;
    let recorded = cases::deliveries::record(&state.db, &user.user, id, change).await?;
    let delivery = recorded.delivery;
    let Some(message) = recorded.refused else {
        return Ok(Redirect::to(&format!("/surat/{}?ok=pengiriman#pengiriman", delivery.letter_id)).into_response());
    };
    let warning = format!("Pengiriman kepada {}: {message}", delivery.name);
    let page = letter_page(&state, &user, delivery.letter_id, 1, None, FieldErrors::default(), warning).await?;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
