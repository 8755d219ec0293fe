//! The BPJS membership check (the export for BPJS and its answer) and drafting the SK
//! or its amendment from the candidates.

use super::*;

pub(super) async fn bpjs_page(
    State(state): State<AppState>,
    user: SessionUser,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    require_manager(&user)?;
    bpjs_with(&state, &user, notice.text(), FieldErrors::default(), StatusCode::OK).await
}

pub(super) async fn bpjs_with(
    state: &AppState,
    user: &SessionUser,
    notice: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let counts = candidates::counts(&state.db, user.department.id).await?;
    let count = |s: Status| counts.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n);
    let settings = beneficiaries::Settings::load(&state.db, user.department.id).await?;
    let finals = count(Status::Final);
    let incoming_letters = crate::incoming::list(&state.db, user.department.id, 200).await?;
    let mut answer_form = Form::new(
        "Jawaban BPJS Ketenagakerjaan",
        "/calon/bpjs/jawaban",
        user.csrf(),
        "Catat jawaban",
        vec![
            Field::file(
                "berkas",
                "Berkas jawaban (XLSX atau CSV)",
                ".xlsx,.csv,text/csv",
                crate::uploads::BPJS_ANSWER,
            )
            .required()
            .help("Lembar yang diekspor di atas dengan STATUS_KEPESERTAAN terisi: TERDAFTAR atau TIDAK TERDAFTAR."),
            Field::select(
                "surat_masuk",
                "Surat pengantar dari BPJS (bila sudah dicatat di surat masuk)",
                crate::pages::id_choices(
                    incoming_letters
                        .iter()
                        .map(|i| (i.id, format!("{} — {} ({})", i.agenda_number(), i.subject, i.sender))),
                    None,
                    "— tidak ada —",
                ),
            ),
        ],
    )
    .with_errors(&errors);
    answer_form.multipart = true;
    let sk_form = Form::new(
        "Susun SK dari daftar final",
        "/calon/sk",
        user.csrf(),
        &format!("Buat konsep SK untuk {} penerima", text::thousands(finals)),
        vec![],
    );
    let mut forms = vec![answer_form];
    let current = beneficiaries::decree::current_sk(&state.db, user.department.id, beneficiaries::decree::SK_TEMPLATE).await?;
    if finals > 0 && user.user.has(Role::Drafter) {
        match &current {
            None => forms.push(sk_form),
            Some((_, number)) => forms.push(Form::new(
                &format!("Keputusan perubahan atas SK {number}"),
                "/calon/sk/perubahan",
                user.csrf(),
                "Buat konsep keputusan perubahan",
                vec![Field::text("catatan", "Catatan", "").help(
                    "Lampiran keputusan perubahan memuat daftar final saat ini; setelah ditandatangani, SK lama dinyatakan DIGANTI.",
                )],
            )),
        }
    }
    let mut shell = Shell::for_user(user, "Pengecekan BPJS", "/calon");
    shell.notice = notice.into();
    let page = Page {
        heading: "Pengecekan BPJS Ketenagakerjaan dan SK".into(),
        intro: format!(
            "{} calon dikonfirmasi desa menunggu pengecekan; {} ternyata sudah peserta BPJS (keluar dari daftar); {} final. \
             Bantuan iuran {} per orang per bulan selama {} bulan. Ekspor daftar untuk BPJS, lalu catat jawabannya: yang sudah \
             menjadi peserta keluar dari daftar, yang belum menjadi penerima final untuk SK.",
            text::thousands(count(Status::Confirmed)),
            text::thousands(count(Status::Insured)),
            text::thousands(finals),
            text::rupiah(settings.monthly_rupiah),
            settings.months
        ),
        links: vec![("/calon/bpjs.xlsx".into(), "Unduh daftar untuk BPJS (XLSX, NIK lengkap)".into())],
        back_href: "/calon".into(),
        forms,
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

pub(super) async fn bpjs_export(State(state): State<AppState>, user: SessionUser) -> Result<Response, PageError> {
    require_manager(&user)?;
    let villages = import::Villages::load(
        &state.db,
        user.department.region_code.as_deref().unwrap_or_default(),
        &user.department.regency_name,
    )
    .await?;
    let stamp = format!(
        "Diekspor oleh {} pada {}.",
        user.user.display_name,
        user.department.tz().format_time(crate::db::now())
    );
    let file = crate::pages::export::temporary()?;
    let rows = beneficiaries::bpjs::write_export(&state.db, user.department.id, &villages, &stamp, file.path()).await?;
    beneficiaries::bpjs::record_export(&state.db, &actor(&user), user.department.id, rows as usize).await?;
    let mut response = crate::pages::export::send_file(
        file,
        "cek-kepesertaan-bpjs.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

pub(super) async fn bpjs_answer(State(state): State<AppState>, user: SessionUser, multipart: Multipart) -> Result<Response, PageError> {
    require_manager(&user)?;
    let (form, file_name, bytes) = crate::pages::read_upload(multipart, "berkas").await?;
    let incoming_id = form.id("surat_masuk").ok().flatten();
    if bytes.is_empty() {
        return bpjs_with(
            &state,
            &user,
            "",
            FieldErrors::single("berkas", "Pilih berkas jawaban BPJS."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let waiting = beneficiaries::bpjs::answerable(&state.db, user.department.id).await?;
    let outcome = match beneficiaries::bpjs::read_answer(&bytes, &waiting) {
        Ok(answers) => {
            beneficiaries::bpjs::apply_answer(&state.db, &actor(&user), &user.department, &file_name, &answers, incoming_id).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/calon/bpjs?ok=tersimpan").into_response()),
        Err(Error::Invalid(errors)) => bpjs_with(&state, &user, "", errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(Error::Unreadable(message)) => {
            bpjs_with(
                &state,
                &user,
                "",
                FieldErrors::single("berkas", format!("Berkas tidak dapat dibaca: {message}.")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// The SK drafted from the final list: the template's defaults, this year's budget, the
/// final list and the contribution settings; the drafter then edits it as any letter.
pub(super) async fn draft_sk(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(_): PageForm<FormData>,
) -> Result<Response, PageError> {
    let (letter, _) = cases::decree::draft(&state.workflow(), &user.user, &user.department).await?;
    Ok(Redirect::to(&format!("/surat/{}?ok=dibuat", letter.id)).into_response())
}

/// An amending decree of the SK in force, with the current final list.
pub(super) async fn draft_amendment(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(_): PageForm<FormData>,
) -> Result<Response, PageError> {
    let letter = cases::decree::amend(&state.workflow(), &user.user, &user.department).await?;
    Ok(Redirect::to(&format!("/surat/{}?ok=dibuat", letter.id)).into_response())
}
