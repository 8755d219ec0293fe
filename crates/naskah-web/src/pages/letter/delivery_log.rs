//! A change to a delivery recorded from the letter page (handed over, sent, confirmed,
//! failed, sent again, another channel).

use crate::distribution::deliveries::{self, Change};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::letter_page;
use crate::{
    AppState,
    auth::{CsrfForm, SessionUser},
    error::{Failure, PageError},
    pages::{FormData, render},
    validation::FieldErrors,
};

fn messages(errors: &FieldErrors) -> String {
    errors.0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

pub(super) async fn record(
    State(state): State<AppState>,
    user: SessionUser,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    if !crate::distribution::may_distribute(&user.user) {
        return Err(PageError(Failure::Denied(
            "Hanya agendaris, staf atau administrator yang mencatat pengiriman.".into(),
        )));
    }
    let change = match action.as_str() {
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
        _ => return Err(PageError(Failure::NotFound)),
    };
    let delivery = deliveries::get(&state.db, user.department.id, id).await?;
    match deliveries::change(&state.db, &user.user.actor(), user.department.id, id, change).await {
        Ok(_) => Ok(Redirect::to(&format!("/surat/{}?ok=pengiriman#pengiriman", delivery.letter_id)).into_response()),
        Err(e) => {
            let message = match e {
                crate::distribution::Error::Invalid(errors) => messages(&errors),
                crate::distribution::Error::Conflict(m) => m,
                other => return Err(PageError(Failure::from(other))),
            };
            let page = letter_page(
                &state,
                &user,
                delivery.letter_id,
                1,
                None,
                FieldErrors::default(),
                format!("Pengiriman kepada {}: {message}", delivery.name),
            )
            .await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}
