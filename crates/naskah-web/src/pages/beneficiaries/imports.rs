//! Importing a register's export: the list of imports, the upload and its check, the
//! column mapping, the import itself with its progress, cancelling, the report.

use super::*;
use crate::{db::now, jobs};

/// An import's job as its page shows it.
pub(super) struct ImportJobView {
    pub(super) done: i64,
    pub(super) total: i64,
    pub(super) finished: bool,
    /// Its process stopped mid-import: nothing was stored; it can be run again.
    pub(super) stopped: bool,
    pub(super) error: String,
}

pub(super) async fn imports_page(
    State(state): State<AppState>,
    user: SessionUser,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    imports_with(&state, &user, notice.text(), FieldErrors::default(), StatusCode::OK).await
}

pub(super) async fn imports_with(
    state: &AppState,
    user: &SessionUser,
    notice: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tz = user.department.tz();
    let rows = import::list(&state.db, user.department.id, 100)
        .await?
        .into_iter()
        .map(|i| Row {
            cells: vec![
                tz.format_time(i.checked_at),
                i.file_name.clone(),
                import::source_label(&i.source).to_string(),
                format!(
                    "{} baris, {} sah, {} ditolak",
                    text::thousands(i.rows_total),
                    text::thousands(i.rows_valid),
                    text::thousands(i.rows_refused)
                ),
                i.status_label().to_string(),
            ],
            edit_href: format!("/calon/impor/{}", i.id),
            edit_label: "Buka".into(),
            ..Row::default()
        })
        .collect();
    let mut mapping_choices = vec![Choice::new("", "Otomatis (P3KE, DTKS, atau pemetaan tersimpan)", true)];
    mapping_choices.push(Choice::new("baru", "Saya petakan sendiri setelah mengunggah", false));
    let mut form = Form::new(
        "Unggah berkas",
        "/calon/impor",
        user.csrf(),
        "Periksa berkas",
        vec![
            Field::file(
                "berkas",
                "Berkas ekspor (CSV atau XLSX)",
                ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                MAX_UPLOAD,
            )
            .required()
            .help(&format!(
                "Ekspor P3KE, DTKS atau DTSEN apa adanya: pemisah koma, titik koma atau tab; UTF-8 atau ANSI; XLSX lembar pertama. \
                 Paling besar {} MB, {} kolom dan {} baris; ekspor sekabupaten yang lebih besar dapat dibagi per kecamatan. \
                 Berkas diperiksa dulu; tidak ada data yang berubah sebelum Anda menekan Impor.",
                super::MAX_UPLOAD / 1024 / 1024,
                crate::beneficiaries::reader::limits::COLUMNS,
                crate::text::thousands(crate::beneficiaries::reader::limits::ROWS as i64),
            )),
            Field::select("sumber", "Sumber data", source_choices("", Some("Menurut susunan kolom berkas"))),
            Field::select("pemetaan", "Pemetaan kolom", mapping_choices),
        ],
    )
    .with_errors(&errors);
    form.multipart = true;
    let mut shell = Shell::for_user(user, "Impor calon penerima", "/calon");
    shell.notice = notice.into();
    let page = Page {
        heading: "Impor data calon penerima".into(),
        intro: "Setiap baris diperiksa: NIK (16 angka, kode kecamatan, tanggal lahir termasuk +40 untuk perempuan, nomor urut), \
                kesesuaian jenis kelamin dan tanggal lahir dengan NIK, umur, nama, dan desa/kelurahan. Baris yang sama NIK-nya dengan \
                data dari sumber lain digabung; sumbernya tetap tercatat."
            .into(),
        back_href: "/calon".into(),
        forms: vec![form],
        table: Some(Table {
            title: "Riwayat impor".into(),
            columns: ["Diperiksa", "Berkas", "Sumber", "Isi", "Keadaan"].map(String::from).to_vec(),
            rows,
        }),
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

pub(super) async fn upload(State(state): State<AppState>, user: SessionUser, multipart: Multipart) -> Result<Response, PageError> {
    require_manager(&user)?;
    let (form, file_name, file) = crate::pages::read_upload_to_file(multipart, "berkas").await?;
    let (source, manual) = upload_choices(&form);
    let message = match &file {
        None => "Pilih berkas CSV atau XLSX.".to_string(),
        Some(file) => {
            let upload = Upload {
                file_name: &file_name,
                content: import::Content::File(file.path()),
                source: &source,
                // An empty mapping leaves the file unmapped, for the mapping form.
                mapping: manual.then(|| ("Pemetaan sendiri".to_string(), Mapping::new())),
            };
            match import::check(&state.db, &actor(&user), &user.department, upload).await {
                Ok(import) => return Ok(Redirect::to(&format!("/calon/impor/{}", import.id)).into_response()),
                Err(Error::Unreadable(message)) => format!("Berkas tidak dapat dibaca: {message}."),
                Err(other) => return Err(other.into()),
            }
        }
    };
    let errors = FieldErrors::single("berkas", message);
    imports_with(&state, &user, "", errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// The register the file comes from (none when unknown) and whether the user maps its
/// columns by hand.
fn upload_choices(form: &FormData) -> (String, bool) {
    let source = form.get("sumber");
    let source = if SOURCES.iter().any(|(k, _)| *k == source) {
        source
    } else {
        String::new()
    };
    (source, form.get("pemetaan") == "baru")
}

#[derive(Template)]
#[template(path = "candidate_import.html")]
pub(super) struct ImportTemplate {
    shell: Shell,
    import: Import,
    source_label: String,
    size: String,
    checked: String,
    finished: String,
    mapping_rows: Vec<(String, String)>,
    job: Option<ImportJobView>,
    percent: i64,
    /// A checked file that no job is importing now: the Impor button is offered.
    can_import: bool,
    problems: Vec<import::Problem>,
    refused_shown: usize,
    notes: usize,
    more: usize,
    mapping_form: Option<Form>,
}

pub(super) async fn import_page(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_manager(&user)?;
    import_view(&state, &user, id, None, StatusCode::OK).await
}

pub(super) async fn import_view(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    mapping_attempt: Option<(Mapping, String, FieldErrors)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let import = import::get(&state.db, user.department.id, id).await?;
    let tz = user.department.tz();
    // Counted and cut by the database: the page is the same size whatever the file.
    let (refused, notes) = import::report_counts(&state.db, id).await?;
    let (refused_shown, notes) = (refused as usize, notes as usize);
    let more = (refused_shown + notes).saturating_sub(PROBLEMS_SHOWN);
    // Problems first: they are what the user must act on.
    let problems = import::report_first(&state.db, id, PROBLEMS_SHOWN as i64).await?;
    let mapping = import.mapping();
    let mapping_rows = FIELDS
        .iter()
        .map(|f| (f.label.to_string(), mapping.get(f.key).cloned().unwrap_or_default()))
        .collect();
    // The job as stored, so the page says the same from every process and after a restart.
    let at = now();
    let job = jobs::import::current(&state.db, user.department.id, id)
        .await?
        .filter(|j| j.state == jobs::RUNNING || (j.state == jobs::FAILED && import.status == "checked"));
    let percent = job.as_ref().map_or(0, |j| j.percent());
    let busy = job.as_ref().is_some_and(|j| j.active(at));
    let can_import = import.status == "checked" && job.as_ref().is_none_or(|j| j.state == jobs::FAILED);
    let job = job.map(|j| ImportJobView {
        done: j.done,
        total: j.total,
        finished: j.state != jobs::RUNNING,
        stopped: j.stopped(at),
        error: j.error,
    });
    let editable = matches!(import.status.as_str(), "checked" | "unmapped") && !busy;
    let mapping_form = if editable {
        let headers = import::headers(&state.db, user.department.id, id).await?;
        let (wanted, source, errors) = mapping_attempt.unwrap_or_else(|| (mapping.clone(), import.source.clone(), FieldErrors::default()));
        let header_pairs: Vec<(&str, &str)> = headers.iter().map(|h| (h.as_str(), h.as_str())).collect();
        let mut fields: Vec<Field> = FIELDS
            .iter()
            .map(|f| {
                let chosen = wanted.get(f.key).map(String::as_str).unwrap_or_default();
                let field = Field::select(
                    &format!("kolom_{}", f.key),
                    f.label,
                    choices(&header_pairs, chosen, Some("— tidak ada —")),
                );
                if f.required { field.required() } else { field }
            })
            .collect();
        fields.push(Field::select("sumber", "Sumber data", source_choices(&source, None)));
        fields.push(
            Field::text("simpan_sebagai", "Simpan pemetaan ini sebagai (boleh kosong)", "")
                .help("Berkas berikutnya dengan kolom yang sama dikenali sendiri."),
        );
        Some(
            Form::new(
                if import.status == "unmapped" {
                    "Petakan kolom berkas"
                } else {
                    "Ubah pemetaan kolom"
                },
                &format!("/calon/impor/{id}/pemetaan"),
                user.csrf(),
                "Periksa dengan pemetaan ini",
                fields,
            )
            .with_errors(&errors),
        )
    } else {
        None
    };
    let template = ImportTemplate {
        shell: Shell::for_user(user, &format!("Impor {}", import.file_name), "/calon"),
        source_label: import::source_label(&import.source).to_string(),
        size: format!("{} KB", text::thousands((import.file_size + 1023) / 1024)),
        checked: format!(
            "{} oleh {}",
            tz.format_time(import.checked_at),
            import.checked_by.rsplit(':').next().unwrap_or_default()
        ),
        finished: import
            .finished_at
            .map(|at| {
                format!(
                    "{} oleh {}",
                    tz.format_time(at),
                    import.finished_by.rsplit(':').next().unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        mapping_rows,
        job,
        percent,
        can_import,
        problems,
        refused_shown,
        notes,
        more,
        mapping_form,
        import,
    };
    Ok(render(status, &template))
}

/// The column chosen for each field of the mapping form.
fn mapping_from_form(form: &FormData) -> Mapping {
    FIELDS
        .iter()
        .filter_map(|f| {
            let header = form.get(&format!("kolom_{}", f.key));
            (!header.is_empty()).then(|| (f.key.to_string(), header))
        })
        .collect()
}

pub(super) async fn remap(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    let mapping = mapping_from_form(&form);
    let source = form.get("sumber");
    let save_as = form.get("simpan_sebagai");
    let save_as = save_as.trim();
    match import::remap(
        &state.db,
        &actor(&user),
        &user.department,
        id,
        &source,
        &mapping,
        (!save_as.is_empty()).then_some(save_as),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/calon/impor/{id}")).into_response()),
        Err(Error::Mapping(problems)) => {
            let errors = problems.iter().fold(FieldErrors::default(), |mut errors, p| {
                errors.add("_", format!("{}{}.", p[..1].to_uppercase(), &p[1..]));
                errors
            });
            import_view(&state, &user, id, Some((mapping, source, errors)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(Error::Invalid(errors)) => {
            import_view(&state, &user, id, Some((mapping, source, errors)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(other) => Err(other.into()),
    }
}

pub(super) async fn start_import(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(_): PageForm<FormData>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    jobs::import::start(&state.db, &user.user, &user.department, id).await?;
    Ok(Redirect::to(&format!("/calon/impor/{id}")).into_response())
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(_): PageForm<FormData>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    jobs::import::cancel(&state.db, &actor(&user), user.department.id, id).await?;
    Ok(Redirect::to("/calon/impor?ok=impor-batal").into_response())
}

/// The whole report, stamped with who downloaded it and when; cells defused.
pub(super) async fn report_csv(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    require_manager(&user)?;
    let import = import::get(&state.db, user.department.id, id).await?;
    let report = import::report(&state.db, id).await?;
    let failed = |e: csv::Error| PageError(Failure::Internal(e.to_string()));
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    out.write_record([format!(
        "Laporan pemeriksaan {} ({}), diunduh oleh {} pada {}",
        import.file_name,
        import::source_label(&import.source),
        user.user.display_name,
        user.department.tz().format_time(crate::db::now())
    )
    .as_str()])
        .map_err(failed)?;
    out.write_record(["Baris", "Kolom", "Jenis", "Akibat", "Keterangan"])
        .map_err(failed)?;
    for p in &report {
        out.write_record([
            p.line.to_string(),
            text::spreadsheet_safe(&p.column_name),
            p.code.clone(),
            if p.refused { "ditolak".into() } else { "diperbaiki".into() },
            text::spreadsheet_safe(&p.message),
        ])
        .map_err(failed)?;
    }
    let bytes = out.into_inner().map_err(|e| PageError(Failure::Internal(e.to_string())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"laporan-impor-{id}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
