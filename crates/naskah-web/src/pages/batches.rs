//! Kumpulan surat: a letter drafted once for every village of a kecamatan (or of the
//! regency) becomes one letter per village, each with its own attachment from the
//! uploaded file. The batch's page lists its letters, passes them on together and
//! leads to the bulk paraf and signature.

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
    auth::{PageForm, SessionUser},
    cases::batches::{self, BatchView, Request, Source, Template},
    distribution::list,
    error::{Failure, PageError},
    validation::FieldErrors,
    workflow::batch::Batch,
    workflow::{self, batch as batch_flow, state},
};

/// Largest attachment file accepted (the candidates of a whole regency fit easily).
const MAX_UPLOAD: usize = crate::uploads::BATCH_FILE;

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

async fn list_page(State(state): State<AppState>, user: SessionUser, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    let flow = state.workflow();
    let batches = batches::list(&flow, &user.department).await?;
    let mut shell = Shell::for_user(&user, "Kumpulan surat", "/kumpulan");
    shell.notice = notice.text().into();
    Ok(render_page(StatusCode::OK, shell, list_content(&user, &flow, &batches)))
}

fn list_content(user: &SessionUser, flow: &workflow::Workflow, batches: &[(Batch, Vec<(String, i64)>)]) -> Page {
    let tz = user.department.tz();
    let rows: Vec<Row> = batches
        .iter()
        .map(|(b, states)| Row {
            cells: vec![
                tz.format_time(b.created_at),
                b.subject.clone(),
                b.scope_label.clone(),
                states_text(states),
            ],
            edit_href: format!("/kumpulan/{}", b.id),
            edit_label: "Buka".into(),
            ..Row::default()
        })
        .collect();
    let mut links = Vec::new();
    if workflow::check_may_draft(&user.user).is_ok() {
        for t in batches::templates(flow) {
            links.push((
                format!("/kumpulan/baru?templat={}", t.id),
                format!("Buat kumpulan baru: {}", t.title),
            ));
        }
    }
    Page {
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
    }
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

async fn new_page(State(state): State<AppState>, user: SessionUser, Query(query): Query<NewQuery>) -> Result<Response, PageError> {
    workflow::check_may_draft(&user.user)?;
    let flow = state.workflow();
    let template = batches::template(&flow, &query.templat)?;
    let data = template.shared.defaults();
    let entered = Entered {
        data: &data,
        scope: "",
        copy_to_camat: true,
    };
    form_page(&state, &user, &template, &entered, FieldErrors::default(), StatusCode::OK).await
}

/// What the user typed into the form, shown again after a failure.
struct Entered<'a> {
    data: &'a Value,
    scope: &'a str,
    copy_to_camat: bool,
}

async fn form_page(
    state: &AppState,
    user: &SessionUser,
    template: &Template<'_>,
    entered: &Entered<'_>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let offer = batches::offer(&state.workflow(), &user.user, &user.department).await?;
    let manifest = template.manifest;
    let mut scopes = vec![Choice::new("", "Semua desa/kelurahan di kabupaten", entered.scope.is_empty())];
    scopes.extend(offer.districts.iter().filter_map(|d| {
        let code = d.region_code.clone()?;
        let selected = code == entered.scope;
        Some(Choice::new(code, format!("Semua desa/kelurahan di {}", d.name), selected))
    }));
    let mut fields =
        vec![Field::select("cakupan", "Cakupan", scopes).required().help(
            "Setiap desa/kelurahan aktif dalam daftar penerima di cakupan ini yang punya calon dalam berkas mendapat suratnya sendiri.",
        )];
    fields.extend(manifest_fields(&template.shared, entered.data));
    if template.offers_camat_copy() {
        fields.push(Field::checkboxes(
            "tembusan_camat",
            "Tembusan",
            vec![Choice::new(
                "ya",
                "Tambahkan Camat setempat ke tembusan setiap surat",
                entered.copy_to_camat,
            )],
        ));
    }
    let waiting = offer.candidates_waiting;
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
    fields.push(
        Field::file("berkas", "Berkas lampiran (CSV)", ".csv,text/csv", crate::uploads::BATCH_FILE).help(&format!(
            "Satu baris per calon dengan kolom {}, dan kode wilayah desa (kode_wilayah atau Kode Kemendagri) \
         atau nama desa/kelurahan dan kecamatan. Ekspor P3KE dan DTKS dapat diunggah langsung; pemisah koma atau titik koma. \
         Bila ada baris yang salah, tidak ada surat yang dibuat dan setiap kesalahan disebutkan.",
            template.table_columns().join(", ")
        )),
    );
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

async fn create(
    State(state): State<AppState>,
    user: SessionUser,
    Query(query): Query<NewQuery>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    // Refused before the upload is read.
    workflow::check_may_draft(&user.user)?;
    let (form, file_name, bytes) = super::read_upload(multipart, "berkas").await?;
    let flow = state.workflow();
    let template = batches::template(&flow, &query.templat)?;
    let shared = data_from_form(&template.shared, &form);
    let scope = form.get("cakupan");
    let copy_to_camat = form.get("tembusan_camat") == "ya";
    let request = Request {
        template_id: template.manifest.id.clone(),
        shared: shared.clone(),
        scope: scope.clone(),
        copy_to_camat,
        source: Source::chosen(&form.get("lampiran"), file_name, bytes),
    };
    match batches::create(&flow, &user.user, &user.department, request).await {
        Ok(batch) => Ok(Redirect::to(&format!("/kumpulan/{}?ok=kumpulan", batch.id)).into_response()),
        Err(e) => {
            let (errors, status) = form_failure(Failure::from(e))?;
            let entered = Entered {
                data: &shared,
                scope: &scope,
                copy_to_camat,
            };
            form_page(&state, &user, &template, &entered, errors, status).await
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
    let view = batches::view(&state.workflow(), &user.department, id).await?;
    let mut shell = Shell::for_user(user, "Kumpulan surat", "/kumpulan");
    shell.notice = notice.into();
    Ok(render_page(status, shell, detail_content(user, view, &errors)))
}

fn detail_content(user: &SessionUser, view: BatchView, errors: &FieldErrors) -> Page {
    let batch = &view.batch;
    let rows: Vec<Row> = view
        .letters
        .iter()
        .map(|l| Row {
            cells: vec![
                l.village.clone(),
                l.region_code.clone(),
                l.attachment_rows.to_string(),
                l.letter.state_label().to_string(),
                l.letter.number.clone().unwrap_or_else(|| "—".into()),
            ],
            edit_href: format!("/surat/{}", l.letter.id),
            edit_label: "Buka".into(),
            ..Row::default()
        })
        .collect();
    let mut intro = format!(
        "{} surat untuk {}, dari berkas {} ({} dari {} baris dipakai{}). Keadaan: {}.",
        view.letters.len(),
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
        states_text(&view.states),
    );
    if !view.villages_without_letter.is_empty() {
        intro.push_str(&format!(
            " Tanpa calon sehingga tidak mendapat surat: {}.",
            view.villages_without_letter.join(", ")
        ));
    }
    let mut forms = Vec::new();
    if view.any_under_way() {
        forms.push(
            Form::new(
                "Teruskan semua",
                &format!("/kumpulan/{}/teruskan", batch.id),
                user.csrf(),
                "Teruskan semua surat yang menunggu saya",
                vec![],
            )
            .with_errors(errors),
        );
    }
    let mut links = vec![(
        format!("/surat/massal?kumpulan={}", batch.id),
        "Paraf atau tanda tangani surat kumpulan ini sekaligus".to_string(),
    )];
    if view.any_signed() {
        links.push((format!("/distribusi?kumpulan={}", batch.id), "Distribusi kumpulan ini".into()));
        if crate::distribution::may_distribute(&user.user) {
            links.push((
                format!("/distribusi/catat?kumpulan={}", batch.id),
                "Catat pengiriman kumpulan ini sekaligus".into(),
            ));
        }
        links.push((
            format!("/kumpulan/{}/daftar-pengiriman.pdf", batch.id),
            "Daftar pengiriman (PDF) untuk antar langsung".into(),
        ));
        links.push((
            format!("/kumpulan/{}/daftar-pengiriman.pdf?semua=1", batch.id),
            "Daftar pengiriman semua saluran (PDF)".into(),
        ));
    }
    Page {
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
    }
}

async fn submit_all(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(_form): PageForm<FormData>,
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
                errors.add("_", format!("Surat {letter}: {reason}"));
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
