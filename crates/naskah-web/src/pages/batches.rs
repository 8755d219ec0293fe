//! Kumpulan surat: a letter drafted once for every village of a kecamatan (or of the
//! regency) becomes one letter per village, each with its own attachment from the
//! uploaded file. The batch's page lists its letters, passes them on together and
//! leads to the bulk paraf and signature.

use std::collections::HashMap;

use axum::{
    Router,
    extract::{Multipart, Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;

use super::{Choice, Field, Form, FormData, Notice, Page, Row, Shell, Table, data_from_form, form_failure, manifest_fields, render_page};
use crate::{
    AppState,
    accounts::Role,
    auth::{CsrfForm, SessionUser},
    distribution::{
        self, batches, list,
        recipients::{self, Filter},
    },
    error::{Failure, PageError},
    letters::{self, Manifest, manifest::PerVillage},
    validation::FieldErrors,
    workflow::{
        self,
        batch::{self as batch_flow, NewBatch},
        state,
    },
};

/// Largest attachment file accepted (the candidates of a whole regency fit easily).
const MAX_UPLOAD: usize = 8 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/kumpulan", get(list_page))
        .route(
            "/kumpulan/baru",
            get(new_page).post(create).layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/kumpulan/{id}", get(detail_page))
        .route("/kumpulan/{id}/teruskan", post(submit_all))
        .route("/kumpulan/{id}/daftar-pengiriman.pdf", get(delivery_list))
}

/// The templates that can be drafted once for many villages.
fn per_village_templates(state: &AppState) -> Vec<&Manifest> {
    state.catalogue.templates.iter().filter(|t| t.per_village.is_some()).collect()
}

fn template<'a>(state: &'a AppState, id: &str) -> Result<(&'a Manifest, &'a PerVillage), PageError> {
    let manifest = state.catalogue.get(id)?;
    let per_village = manifest.per_village.as_ref().ok_or(PageError(Failure::NotFound))?;
    Ok((manifest, per_village))
}

/// The template with only the fields typed once.
fn shared_manifest(manifest: &Manifest, per_village: &PerVillage) -> Manifest {
    let own = per_village.own_fields();
    Manifest {
        fields: manifest
            .fields
            .iter()
            .filter(|f| !own.contains(&f.name.as_str()))
            .cloned()
            .collect(),
        per_village: None,
        ..manifest.clone()
    }
}

async fn list_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    let batches = batch_flow::list_batches(&state.db, user.department.id, 200).await?;
    let tz = user.department.tz();
    let mut rows = Vec::new();
    for b in &batches {
        let states = batch_flow::batch_states(&state.db, b.id).await?;
        rows.push(Row {
            cells: vec![
                tz.format_time(b.created_at),
                b.subject.clone(),
                b.scope_label.clone(),
                states_text(&states),
            ],
            edit_href: format!("/kumpulan/{}", b.id),
            edit_label: "Buka".into(),
            ..Row::default()
        });
    }
    let mut links = Vec::new();
    if user.user.has(Role::Drafter) {
        for t in per_village_templates(&state) {
            links.push((
                format!("/kumpulan/baru?templat={}", t.id),
                format!("Buat kumpulan baru: {}", t.title),
            ));
        }
    }
    let mut shell = Shell::for_user(&user, "Kumpulan surat", "/kumpulan");
    shell.notice = notice.text().into();
    let page = Page {
        heading: "Kumpulan surat per desa".into(),
        intro: "Satu konsep untuk semua desa/kelurahan sekecamatan atau sekabupaten: setiap desa mendapat suratnya sendiri \
                dengan lampiran calon penerima di wilayahnya, nomor dan kode QR sendiri."
            .into(),
        links,
        table: Some(Table {
            title: if rows.is_empty() {
                "Belum ada kumpulan surat".into()
            } else {
                "Kumpulan surat".into()
            },
            columns: ["Dibuat", "Hal", "Cakupan", "Keadaan surat"].map(String::from).to_vec(),
            rows,
        }),
        ..Page::default()
    };
    Ok(render_page(StatusCode::OK, shell, page))
}

/// "54 Konsep, 2 Ditandatangani", in the order of the workflow.
fn states_text(states: &[(String, i64)]) -> String {
    let order = [state::KONSEP, state::PROSES, state::DITANDATANGANI, state::DITOLAK];
    let mut sorted: Vec<&(String, i64)> = states.iter().collect();
    sorted.sort_by_key(|(s, _)| order.iter().position(|o| o == s).unwrap_or(order.len()));
    sorted
        .iter()
        .map(|(s, n)| format!("{n} {}", state::label(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    #[serde(default)]
    templat: String,
}

fn require_drafter(user: &SessionUser) -> Result<(), PageError> {
    if user.user.has(Role::Drafter) {
        Ok(())
    } else {
        Err(PageError(Failure::Denied(
            "Hanya konseptor yang dapat membuat konsep surat.".into(),
        )))
    }
}

async fn new_page(State(state): State<AppState>, user: SessionUser, Query(query): Query<NewQuery>) -> Result<Response, PageError> {
    require_drafter(&user)?;
    let id = if query.templat.is_empty() {
        per_village_templates(&state)
            .first()
            .map(|t| t.id.clone())
            .ok_or(PageError(Failure::NotFound))?
    } else {
        query.templat.clone()
    };
    let (manifest, per_village) = template(&state, &id)?;
    let shared = shared_manifest(manifest, per_village);
    form_page(
        &state,
        &user,
        manifest,
        &shared,
        &shared.defaults(),
        "",
        true,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    user: &SessionUser,
    manifest: &Manifest,
    shared: &Manifest,
    data: &Value,
    scope: &str,
    copy_to_camat: bool,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let districts = recipients::list(
        &state.db,
        user.department.id,
        &Filter {
            kind: "kecamatan".into(),
            ..Filter::default()
        },
    )
    .await?;
    let mut scopes = vec![Choice::new("", "Semua desa/kelurahan di kabupaten", scope.is_empty())];
    scopes.extend(districts.iter().filter_map(|d| {
        let code = d.region_code.clone()?;
        let selected = code == scope;
        Some(Choice::new(code, format!("Semua desa/kelurahan di {}", d.name), selected))
    }));
    let mut fields =
        vec![Field::select("cakupan", "Cakupan", scopes).required().help(
            "Setiap desa/kelurahan aktif dalam daftar penerima di cakupan ini yang punya calon dalam berkas mendapat suratnya sendiri.",
        )];
    fields.extend(manifest_fields(shared, data));
    if !per_village_copies(manifest).is_empty() {
        fields.push(Field::checkboxes(
            "tembusan_camat",
            "Tembusan",
            vec![Choice::new(
                "ya",
                "Tambahkan Camat setempat ke tembusan setiap surat",
                copy_to_camat,
            )],
        ));
    }
    let table = manifest
        .per_village
        .as_ref()
        .and_then(|p| manifest.field(&p.rows_field))
        .map(|t| t.columns.iter().map(|c| c.label.as_str()).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let waiting = crate::beneficiaries::candidates::counts(&state.db, user.department.id)
        .await?
        .into_iter()
        .find(|(s, _)| *s == crate::beneficiaries::candidates::Status::Candidate)
        .map_or(0, |(_, n)| n);
    fields.push(
        Field::select(
            "lampiran",
            "Lampiran dari",
            vec![
                Choice::new(
                    "data",
                    format!("Data calon penerima ({waiting} calon belum masuk daftar sementara)"),
                    waiting > 0,
                ),
                Choice::new("berkas", "Berkas CSV yang diunggah di bawah", waiting == 0),
            ],
        )
        .required()
        .help("Dari data calon: setiap calon yang sudah diperiksa masuk daftar sementara desanya dan tercatat di riwayatnya."),
    );
    fields.push(Field::file("berkas", "Berkas lampiran (CSV)", ".csv,text/csv").help(&format!(
        "Satu baris per calon dengan kolom {table}, dan kode wilayah desa (kode_wilayah atau Kode Kemendagri) \
         atau nama desa/kelurahan dan kecamatan. Ekspor P3KE dan DTKS dapat diunggah langsung; pemisah koma atau titik koma. \
         Bila ada baris yang salah, tidak ada surat yang dibuat dan setiap kesalahan disebutkan."
    )));
    let mut form = Form::new(
        "Konsep bersama",
        &format!("/kumpulan/baru?templat={}", manifest.id),
        user.csrf(),
        "Buat surat untuk setiap desa",
        fields,
    )
    .with_errors(&errors);
    form.multipart = true;
    let page = Page {
        heading: format!("Kumpulan baru: {}", manifest.title),
        intro: "Isi bagian yang sama untuk semua desa sekali saja. Nama desa, kecamatan dan lampiran setiap surat diisi dari \
                daftar penerima dan berkas yang diunggah; semua surat tersimpan sebagai konsep yang dapat diperiksa satu per satu."
            .into(),
        back_href: "/kumpulan".into(),
        forms: vec![form],
        ..Page::default()
    };
    Ok(render_page(status, Shell::for_user(user, "Kumpulan baru", "/kumpulan"), page))
}

fn per_village_copies(manifest: &Manifest) -> &str {
    manifest.per_village.as_ref().map(|p| p.copies_field.as_str()).unwrap_or_default()
}

/// A file's problems as form errors: one line on the file field, each row in the summary.
fn file_errors(error: distribution::Error) -> Result<FieldErrors, PageError> {
    let failed = |message: String| FieldErrors::single("berkas", message);
    Ok(match error {
        distribution::Error::Rows(problems) => {
            let mut errors = failed(format!(
                "Berkas memuat {} kesalahan; tidak ada surat yang dibuat. Perbaiki lalu pilih berkasnya lagi.",
                problems.len()
            ));
            for problem in problems.iter().take(30) {
                errors.add("_", problem.clone());
            }
            if problems.len() > 30 {
                errors.add("_", format!("… dan {} kesalahan lain.", problems.len() - 30));
            }
            errors
        }
        distribution::Error::Csv(message) => failed(format!("Berkas tidak dapat dipakai: {message}.")),
        distribution::Error::Conflict(message) => FieldErrors::single("cakupan", message),
        other => return Err(PageError(Failure::from(other))),
    })
}

async fn create(
    State(state): State<AppState>,
    user: SessionUser,
    Query(query): Query<NewQuery>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    require_drafter(&user)?;
    let (form, file_name, bytes) = super::read_upload(&user, multipart, "berkas").await?;
    let (manifest, per_village) = template(&state, &query.templat)?;
    let shared_spec = shared_manifest(manifest, per_village);
    let shared = data_from_form(&shared_spec, &form);
    let scope = form.get("cakupan");
    let copy_to_camat = form.get("tembusan_camat") == "ya";
    let again = |errors: FieldErrors, status: StatusCode| {
        let (state, user, shared_spec, shared, scope) = (&state, &user, &shared_spec, &shared, &scope);
        async move { form_page(state, user, manifest, shared_spec, shared, scope, copy_to_camat, errors, status).await }
    };

    // The shared fields first, so a missing "hal" is said once and not once per village.
    if let Err(errors) = shared_spec.validate(&letters::with_defaults(&shared_spec, &shared)) {
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let Some(table) = manifest.field(&per_village.rows_field) else {
        return Err(PageError(Failure::Internal("tabel lampiran tidak ada".into())));
    };
    // The candidates of the beneficiary data not yet on a list, unless a file is given.
    let from_data = match form.get("lampiran").as_str() {
        "data" => true,
        "berkas" => false,
        _ => bytes.is_empty(),
    };
    let (planned, source_name) = if from_data {
        let waiting = crate::beneficiaries::candidates::awaiting_list(&state.db, user.department.id, &scope).await?;
        if waiting.is_empty() {
            return again(
                FieldErrors::single(
                    "lampiran",
                    "Tidak ada calon penerima di cakupan ini yang belum masuk daftar sementara. Impor data calon dulu, atau unggah berkas.",
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        let rows = batches::rows_from_candidates(&waiting, table);
        (
            batches::plan(&state.db, user.department.id, &scope, rows).await,
            "data calon penerima".to_string(),
        )
    } else {
        let text = match String::from_utf8(bytes) {
            Ok(text) if !text.trim().is_empty() => text,
            Ok(_) => {
                return again(
                    FieldErrors::single("berkas", "Pilih berkas CSV lampiran."),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            Err(_) => {
                return again(
                    FieldErrors::single("berkas", "Berkas bukan teks CSV (UTF-8); simpan ulang sebagai CSV UTF-8."),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        };
        let planned = match batches::parse_candidates(&text, table) {
            Ok(rows) => batches::plan(&state.db, user.department.id, &scope, rows).await,
            Err(e) => Err(e),
        };
        (planned, file_name)
    };
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => return again(file_errors(e)?, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let drafts = batches::drafts(per_village, &plan, &shared, copy_to_camat);
    let new = NewBatch {
        template_id: manifest.id.clone(),
        scope: plan.scope.clone(),
        scope_label: plan.scope_label.clone(),
        shared_data: shared.clone(),
        source_name,
        source_rows: plan.total_rows as i64,
        rows_used: plan.letters.iter().map(|l| l.rows.len() as i64).sum(),
    };
    match state.workflow().create_batch(&user.user, &new, drafts).await {
        Ok((batch, _)) => Ok(Redirect::to(&format!("/kumpulan/{}?ok=kumpulan", batch.id)).into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            again(errors, status).await
        }
    }
}

async fn detail_page(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    detail(&state, &user, id, notice.text(), FieldErrors::default(), StatusCode::OK).await
}

async fn detail(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    notice: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let batch = batch_flow::get_batch(&state.db, user.department.id, id).await?;
    let letters = workflow::batch_letters(&state.db, user.department.id, batch.id).await?;
    let directory: HashMap<i64, recipients::Recipient> = recipients::list(&state.db, user.department.id, &Filter::default())
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let rows_field = state
        .catalogue
        .get(&batch.template_id)
        .ok()
        .and_then(|m| m.per_village.as_ref())
        .map(|p| p.rows_field.clone())
        .unwrap_or_default();
    let attachment_sizes = workflow::batch_row_counts(&state.db, batch.id, &rows_field).await?;
    let rows: Vec<Row> = letters
        .iter()
        .map(|l| {
            let recipient = l.recipient_id.and_then(|r| directory.get(&r));
            Row {
                cells: vec![
                    recipient.map(|r| r.name.clone()).unwrap_or_default(),
                    recipient.and_then(|r| r.region_code.clone()).unwrap_or_default(),
                    attachment_sizes.get(&l.id).copied().unwrap_or_default().to_string(),
                    l.state_label().to_string(),
                    l.number.clone().unwrap_or_else(|| "—".into()),
                ],
                edit_href: format!("/surat/{}", l.id),
                edit_label: "Buka".into(),
                ..Row::default()
            }
        })
        .collect();
    let states = batch_flow::batch_states(&state.db, batch.id).await?;
    // Villages in scope that got no letter: the file had no rows for them.
    let with_letter: std::collections::HashSet<i64> = letters.iter().filter_map(|l| l.recipient_id).collect();
    let scope_prefix = if batch.scope.is_empty() {
        String::new()
    } else {
        format!("{}.", batch.scope)
    };
    let mut without: Vec<&str> = directory
        .values()
        .filter(|r| r.active == 1 && (r.kind == "desa" || r.kind == "kelurahan"))
        .filter(|r| r.region_code.as_deref().is_some_and(|c| c.starts_with(&scope_prefix)))
        .filter(|r| !with_letter.contains(&r.id))
        .map(|r| r.name.as_str())
        .collect();
    without.sort_unstable();
    let mut intro = format!(
        "{} surat untuk {}, dari berkas {} ({} dari {} baris dipakai{}). Keadaan: {}.",
        letters.len(),
        batch.scope_label,
        if batch.source_name.is_empty() {
            "tanpa nama"
        } else {
            batch.source_name.as_str()
        },
        batch.rows_used,
        batch.source_rows,
        if batch.rows_used < batch.source_rows {
            "; sisanya di luar cakupan"
        } else {
            ""
        },
        states_text(&states),
    );
    if !without.is_empty() {
        intro.push_str(&format!(" Tanpa calon sehingga tidak mendapat surat: {}.", without.join(", ")));
    }
    let mut forms = Vec::new();
    if letters.iter().any(|l| l.state == state::KONSEP || l.state == state::PROSES) {
        forms.push(
            Form::new(
                "Teruskan semua",
                &format!("/kumpulan/{}/teruskan", batch.id),
                user.csrf(),
                "Teruskan semua surat yang menunggu saya",
                vec![],
            )
            .with_errors(&errors),
        );
    }
    let mut links = vec![(
        format!("/surat/massal?kumpulan={}", batch.id),
        "Paraf atau tanda tangani surat kumpulan ini sekaligus".to_string(),
    )];
    if letters.iter().any(|l| l.signed_at.is_some()) {
        links.push((format!("/distribusi?kumpulan={}", batch.id), "Distribusi kumpulan ini".into()));
        links.push((
            format!("/kumpulan/{}/daftar-pengiriman.pdf", batch.id),
            "Daftar pengiriman (PDF) untuk antar langsung".into(),
        ));
        links.push((
            format!("/kumpulan/{}/daftar-pengiriman.pdf?semua=1", batch.id),
            "Daftar pengiriman semua saluran (PDF)".into(),
        ));
    }
    let mut shell = Shell::for_user(user, "Kumpulan surat", "/kumpulan");
    shell.notice = notice.into();
    let page = Page {
        heading: batch.subject.clone(),
        intro,
        links,
        back_href: "/kumpulan".into(),
        table: Some(Table {
            title: "Surat dalam kumpulan".into(),
            columns: ["Desa/kelurahan", "Kode wilayah", "Calon", "Status", "Nomor"]
                .map(String::from)
                .to_vec(),
            rows,
        }),
        forms,
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn submit_all(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    CsrfForm(_form): CsrfForm<FormData>,
) -> Result<Response, PageError> {
    match state.workflow().submit_batch(&user.user, id).await {
        Ok(outcome) if outcome.failed.is_empty() => Ok(Redirect::to(&format!("/kumpulan/{id}?ok=diteruskan-semua")).into_response()),
        Ok(outcome) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "_",
                format!("{} surat diteruskan, {} gagal:", outcome.done.len(), outcome.failed.len()),
            );
            for (letter, reason) in outcome.failed {
                errors.add("_", format!("surat {letter}: {reason}"));
            }
            detail(&state, &user, id, "", errors, StatusCode::CONFLICT).await
        }
        Err(e) => {
            let failure = Failure::from(e);
            let (errors, status) = match failure {
                Failure::Denied(message) => (FieldErrors::single("_", message), StatusCode::FORBIDDEN),
                other => form_failure(other)?,
            };
            detail(&state, &user, id, "", errors, status).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    semua: Option<String>,
}

/// The batch's distribution list as PDF, for the courier who delivers by hand.
async fn delivery_list(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let batch = batch_flow::get_batch(&state.db, user.department.id, id).await?;
    let selection = if query.semua.is_some() {
        list::Selection::All
    } else {
        list::Selection::Carried
    };
    let rows = list::rows(&state.db, user.department.id, Some(batch.id), None, selection).await?;
    if rows.is_empty() {
        return Err(PageError(Failure::Conflict(
            "Belum ada pengiriman dalam kumpulan ini (surat belum ditandatangani, atau semuanya lewat surel).".into(),
        )));
    }
    let title = format!("{} ({})", batch.subject, batch.scope_label);
    let pdf = list::pdf(&state.renderer, &state.db, &user.department, &title, &rows, selection).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"daftar-pengiriman-kumpulan-{}.pdf\"", batch.id),
            ),
        ],
        pdf,
    )
        .into_response())
}
