//! Settings → Tanda tangan PDF: the department's certification authority and the
//! algorithm of the signature embedded in every final PDF.

use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use super::{Field, Form, FormData, Notice, Page, Shell, choices, render_page, settings::form_failure};
use crate::{
    accounts::Role,
    signing::{Algorithm, authority},
    validation::FieldErrors,
    web::{
        AppState,
        auth::{CsrfForm, SessionUser},
        error::{Failure, PageError},
    },
};

pub fn router() -> Router<AppState> {
    Router::new().route("/pengaturan/tanda-tangan", get(show).post(save))
}

async fn show(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let current = authority::algorithm(&state.db, user.department.id).await.map_err(Failure::from)?;
    form(&state, &user, current.code(), FieldErrors::default(), StatusCode::OK, notice.text()).await
}

async fn form(
    state: &AppState,
    user: &SessionUser,
    selected: &str,
    errors: FieldErrors,
    status: StatusCode,
    notice: &str,
) -> Result<Response, PageError> {
    let tz = user.department.tz();
    let roots = authority::all(&state.db, user.department.id).await.map_err(Failure::from)?;
    let authority_line = match roots.iter().find(|r| r.retired_at.is_none()) {
        Some(root) => format!(
            "Otoritas sertifikat dinas: {}, sidik jari SHA-256 {}, berlaku {} s.d. {}.",
            root.subject,
            root.fingerprint,
            tz.format_time(root.not_before),
            tz.format_time(root.not_after)
        ),
        None => {
            "Otoritas sertifikat dinas belum dibuat; dibuat otomatis pada penandatanganan pertama atau dengan `naskah keys init`.".into()
        }
    };
    let mut shell = Shell::for_user(user, "Tanda tangan PDF", "/pengaturan");
    shell.notice = notice.into();
    let pairs = [
        (
            Algorithm::P256.code(),
            "ECDSA P-256 (disarankan: diterima Adobe Acrobat, poppler dan pyHanko)",
        ),
        (
            Algorithm::Ed25519.code(),
            "Ed25519 (diterima pyHanko; Adobe Acrobat dan poppler belum menerimanya)",
        ),
    ];
    let page = Page {
        heading: "Tanda tangan PDF".into(),
        intro: format!(
            "Setiap PDF akhir memuat tanda tangan elektronik PAdES penanda tangannya, dengan sertifikat yang diterbitkan otoritas sertifikat dinas. {authority_line}"
        ),
        links: if roots.is_empty() {
            Vec::new()
        } else {
            vec![(
                format!("/.well-known/naskah-ca/{}.pem", user.department.id),
                "Unduh sertifikat otoritas (PEM), untuk dipercaya di pembaca PDF".into(),
            )]
        },
        tabs: super::settings::tabs("/pengaturan/tanda-tangan"),
        forms: vec![
            Form::new(
                "Algoritme tanda tangan",
                "/pengaturan/tanda-tangan",
                user.csrf(),
                "Simpan",
                vec![
                    Field::select("algorithm", "Algoritme", choices(&pairs, selected, None))
                        .required()
                        .help("Berlaku untuk tanda tangan berikutnya; naskah yang sudah ditandatangani tidak berubah."),
                ],
            )
            .with_errors(&errors),
        ],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn save(State(state): State<AppState>, user: SessionUser, CsrfForm(data): CsrfForm<FormData>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let chosen = data.get("algorithm");
    let Some(algorithm) = Algorithm::parse(&chosen) else {
        let errors = FieldErrors::single("algorithm", "Pilih ECDSA P-256 atau Ed25519.");
        return form(&state, &user, &chosen, errors, StatusCode::UNPROCESSABLE_ENTITY, "").await;
    };
    match authority::set_algorithm(&state.db, &user.user.actor(), user.department.id, algorithm).await {
        Ok(()) => Ok(Redirect::to("/pengaturan/tanda-tangan?ok=tersimpan").into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            form(&state, &user, &chosen, errors, status, "").await
        }
    }
}
