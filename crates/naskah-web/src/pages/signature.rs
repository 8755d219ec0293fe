//! Settings → Tanda tangan PDF: the department's certification authority and the
//! algorithm of the signature embedded in every final PDF.

use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use super::{Field, Form, FormData, Notice, Page, Shell, choices, form_failure, render_page};
use crate::{
    AppState,
    accounts::Role,
    auth::{PageForm, SessionUser},
    error::{Failure, PageError},
    keys::authority,
    signing::{Algorithm, ltv::Level},
    validation::FieldErrors,
    workflow::longterm,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pengaturan/tanda-tangan", get(show).post(save))
        .route("/pengaturan/tanda-tangan/tingkat", axum::routing::post(save_level))
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
    let timestamping = !state.config.timestamp.url.is_empty();
    let level_setting = longterm::level_setting(&state.db, user.department.id)
        .await
        .map_err(level_failure)?;
    let level_now = longterm::level(&state.db, user.department.id, timestamping)
        .await
        .map_err(level_failure)?;
    let level_pairs = [
        ("", "Bawaan: PAdES B-LT bila otoritas stempel waktu dikonfigurasi, B-B bila tidak"),
        (Level::B.code(), "PAdES B-B: tanda tangan saja"),
        (Level::T.code(), "PAdES B-T: dengan stempel waktu tanda tangan"),
        (
            Level::Lt.code(),
            "PAdES B-LT: dengan stempel waktu dan data validasi (sertifikat, CRL)",
        ),
        (Level::Lta.code(), "PAdES B-LTA: B-LT ditambah stempel waktu dokumen"),
    ];
    let level_help = format!(
        "Tingkat yang berlaku sekarang: {}. {}",
        level_now.label(),
        if timestamping {
            "Otoritas stempel waktu dikonfigurasi (timestamp.url); stempel waktu ditambahkan sesaat setelah penandatanganan."
        } else {
            "Otoritas stempel waktu belum dikonfigurasi (timestamp.url): tingkat di atas B-B menunggu sampai dikonfigurasi."
        }
    );
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
        tabs: super::settings_tabs("/pengaturan/tanda-tangan"),
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
            Form::new(
                "Tanda tangan jangka panjang",
                "/pengaturan/tanda-tangan/tingkat",
                user.csrf(),
                "Simpan",
                vec![
                    Field::select(
                        "level",
                        "Tingkat PAdES",
                        choices(&level_pairs, level_setting.map_or("", Level::code), None),
                    )
                    .help(&level_help),
                ],
            ),
        ],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn save(State(state): State<AppState>, user: SessionUser, PageForm(data): PageForm<FormData>) -> Result<Response, PageError> {
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

fn level_failure(e: longterm::Error) -> PageError {
    Failure::Internal(e.to_string()).into()
}

async fn save_level(State(state): State<AppState>, user: SessionUser, PageForm(data): PageForm<FormData>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let chosen = data.get("level");
    let level = match chosen.as_str() {
        "" => None,
        code => match Level::parse(code) {
            Some(level) => Some(level),
            None => {
                let errors = FieldErrors::single("level", "Pilih B-B, B-T, B-LT atau B-LTA.");
                let current = authority::algorithm(&state.db, user.department.id).await.map_err(Failure::from)?;
                return form(&state, &user, current.code(), errors, StatusCode::UNPROCESSABLE_ENTITY, "").await;
            }
        },
    };
    longterm::set_level(&state.db, &user.user.actor(), user.department.id, level)
        .await
        .map_err(level_failure)?;
    Ok(Redirect::to("/pengaturan/tanda-tangan?ok=tersimpan").into_response())
}
