//! Settings → Bantuan iuran: the programme's rules for candidates.

use super::*;

pub(super) fn settings_form(user: &SessionUser, values: [String; 4], errors: &FieldErrors) -> Form {
    let number = |name: &str, label: &str, value: &str, help: &str| {
        Field {
            kind: "number",
            ..Field::text(name, label, value)
        }
        .required()
        .help(help)
    };
    let [min, max, monthly, months] = values;
    Form::new(
        "Aturan bantuan iuran",
        "/pengaturan/bantuan",
        user.csrf(),
        "Simpan",
        vec![
            number(
                "umur_min",
                "Umur terendah (tahun)",
                &min,
                "Calon di bawah umur ini ditolak saat impor. Bawaan 18.",
            ),
            number("umur_max", "Umur tertinggi (tahun)", &max, "Bawaan 64."),
            number(
                "iuran",
                "Iuran per orang per bulan (rupiah)",
                &monthly,
                "JKK 1% dari penghasilan Rp1.000.000 (Rp10.000) + JKM Rp6.800 = Rp16.800 (PP 44/2015 jo. PP 49/2023).",
            ),
            number("bulan", "Jumlah bulan dibayar", &months, "Bawaan 12."),
        ],
    )
    .with_errors(errors)
}

pub(super) async fn settings_page(
    State(state): State<AppState>,
    user: SessionUser,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let s = beneficiaries::Settings::load(&state.db, user.department.id).await?;
    let values = [s.min_age, s.max_age, s.monthly_rupiah, s.months].map(|v| v.to_string());
    settings_view(&user, values, notice.text(), FieldErrors::default(), StatusCode::OK)
}

pub(super) fn settings_view(
    user: &SessionUser,
    values: [String; 4],
    notice: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut shell = Shell::for_user(user, "Bantuan iuran", "/pengaturan");
    shell.notice = notice.into();
    let page = Page {
        heading: "Pengaturan dinas".into(),
        intro: "Aturan program bantuan iuran: batas umur calon dan besar bantuan yang tercantum di SK.".into(),
        tabs: crate::pages::settings_tabs("/pengaturan/bantuan"),
        forms: vec![settings_form(user, values, &errors)],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

pub(super) async fn save_settings(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let values = ["umur_min", "umur_max", "iuran", "bulan"].map(|k| form.get(k).trim().to_string());
    let mut errors = FieldErrors::default();
    let mut numbers = [0i64; 4];
    for (i, (key, value)) in ["umur_min", "umur_max", "iuran", "bulan"].iter().zip(&values).enumerate() {
        match value.replace('.', "").parse::<i64>() {
            Ok(n) => numbers[i] = n,
            Err(_) => errors.add(key, "Isi dengan bilangan bulat."),
        }
    }
    if !errors.is_empty() {
        return settings_view(&user, values, "", errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let settings = beneficiaries::Settings {
        min_age: numbers[0],
        max_age: numbers[1],
        monthly_rupiah: numbers[2],
        months: numbers[3],
    };
    match settings.save(&state.db, &actor(&user), user.department.id).await {
        Ok(_) => Ok(Redirect::to("/pengaturan/bantuan?ok=tersimpan").into_response()),
        Err(Error::Invalid(errors)) => settings_view(&user, values, "", errors, StatusCode::UNPROCESSABLE_ENTITY),
        Err(other) => Err(other.into()),
    }
}
