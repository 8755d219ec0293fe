//! What the pages share: the notice after a redirect, reading an upload, a failed
//! form's messages, the settings tabs, times and durations as shown, and the fields of
//! a template's form; the page of a long list (paging.rs) and exports that stream
//! (export.rs). Pages take these from here, never from each other.

pub mod export;
pub mod paging;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Choice, Field, FormData, NavItem};
use crate::{
    auth::{self, SessionUser},
    error::{Failure, PageError},
    letters::{FieldSpec, FieldType, Manifest},
    validation::FieldErrors,
};

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    pub ok: String,
}

impl Notice {
    /// Only fixed messages are shown, so nothing from the address is echoed to the page.
    pub fn text(&self) -> &'static str {
        match self.ok.as_str() {
            "tersimpan" => "Perubahan tersimpan.",
            "dibuat" => "Data ditambahkan.",
            "dihapus" => "Data dihapus.",
            "sandi" => "Kata sandi Anda sudah diganti. Sesi lain dan semua token API Anda diakhiri; buat token baru bila perlu.",
            "dicabut" => "Token dicabut.",
            "logo" => "Logo tersimpan.",
            "diimpor" => "Daftar penerima diimpor.",
            "ganti-sandi" => "Silakan ganti kata sandi awal Anda.",
            "revisi" => "Revisi baru tersimpan.",
            "diteruskan" => "Surat diteruskan ke tahap berikutnya.",
            "paraf" => "Paraf tercatat dan ditandatangani dengan kunci Anda.",
            "tanda_tangan" => "Surat ditandatangani.",
            "kembalikan" => "Surat dikembalikan ke konseptor untuk diperbaiki.",
            "tolak" => "Surat ditolak.",
            "kunci" => "Kunci tanda tangan tersimpan.",
            "kumpulan" => "Surat untuk setiap desa dibuat sebagai konsep. Periksa, lalu teruskan semuanya.",
            "pengiriman" => "Pengiriman tercatat.",
            "pengingat" => "Pilihan pengingat surel tersimpan.",
            "pengiriman-sekaligus" => "Pengiriman yang dipilih tercatat, masing-masing dengan riwayatnya.",
            "diteruskan-semua" => "Semua surat yang menunggu Anda sudah diteruskan.",
            "dicabut-surat" => "Surat dicabut; halaman verifikasinya kini menyatakan DICABUT.",
            "disposisi" => "Disposisi tercatat; penerimanya melihatnya di Tugas saya.",
            "impor-batal" => "Impor dibatalkan; berkasnya dibuang, laporannya tetap tersimpan.",
            _ => "",
        }
    }
}

/// Reads a multipart form: its text fields, and the file of `file_field` with its name.
/// The session's CSRF token is checked before the caller looks at anything.
pub async fn read_upload(mut multipart: axum::extract::Multipart, file_field: &str) -> Result<(FormData, String, Vec<u8>), PageError> {
    let failed = |e: axum::extract::multipart::MultipartError| PageError(auth::body_failure(e.status()));
    let mut form = FormData::default();
    let (mut file_name, mut bytes) = (String::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            file_name = field.file_name().unwrap_or_default().chars().take(200).collect();
            // The collected upload becomes the Vec without a second copy.
            bytes = Vec::from(field.bytes().await.map_err(failed)?);
        } else {
            form.0.push((name, field.text().await.map_err(failed)?));
        }
    }
    Ok((form, file_name, bytes))
}

/// A multipart form whose file field is written to a temporary file as it arrives
/// (never held in memory whole): the other fields, the file's name and the file.
pub async fn read_upload_to_file(
    mut multipart: axum::extract::Multipart,
    file_field: &str,
) -> Result<(FormData, String, Option<tempfile::NamedTempFile>), PageError> {
    use std::io::Write as _;
    let failed = |e: axum::extract::multipart::MultipartError| PageError(auth::body_failure(e.status()));
    let disk = |e: std::io::Error| PageError(Failure::Internal(format!("berkas unggahan tidak dapat disimpan sementara: {e}")));
    let mut form = FormData::default();
    let (mut file_name, mut file) = (String::new(), None);
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            file_name = field.file_name().unwrap_or_default().chars().take(200).collect();
            let mut out = tempfile::NamedTempFile::new().map_err(disk)?;
            let mut written = 0;
            while let Some(chunk) = field.chunk().await.map_err(failed)? {
                written += chunk.len();
                out.write_all(&chunk).map_err(disk)?;
            }
            out.flush().map_err(disk)?;
            // An empty file field (nothing chosen) is no file.
            file = (written > 0).then_some(out);
        } else {
            form.0.push((name, field.text().await.map_err(failed)?));
        }
    }
    Ok((form, file_name, file))
}

/// Splits a failed save into what the form shows (messages and status) and real errors.
pub fn form_failure(failure: Failure) -> Result<(FieldErrors, StatusCode), PageError> {
    match failure {
        Failure::Invalid(errors) => Ok((errors, StatusCode::UNPROCESSABLE_ENTITY)),
        Failure::Conflict(message) => Ok((FieldErrors::single("_", message), StatusCode::CONFLICT)),
        Failure::Unprocessable(message) => Ok((FieldErrors::single("_", message), StatusCode::UNPROCESSABLE_ENTITY)),
        other => Err(PageError(other)),
    }
}

/// The tabs of the settings section.
pub fn settings_tabs(current: &str) -> Vec<NavItem> {
    let exact = |href: &str, label: &str| NavItem {
        href: href.into(),
        label: label.into(),
        active: current == href,
    };
    vec![
        exact("/pengaturan", "Kop surat"),
        exact("/pengaturan/unit", "Unit kerja"),
        exact("/pengaturan/jabatan", "Jabatan"),
        exact("/pengaturan/pejabat", "Pejabat"),
        exact("/pengaturan/penomoran", "Penomoran"),
        exact("/pengaturan/tanda-tangan", "Tanda tangan PDF"),
        exact("/pengaturan/bsre", "BSrE"),
        exact("/pengaturan/bantuan", "Bantuan iuran"),
        exact("/pengaturan/rantai/surat", "Rantai surat"),
        exact("/pengaturan/rantai/keputusan", "Rantai keputusan"),
    ]
}

pub fn time(user: &SessionUser, at: i64) -> String {
    user.department.tz().format_time(at)
}

/// "1 jam 5 menit" from minutes.
pub use crate::text::duration as duration_text;

/// A value of the data as the text a form field shows.
pub fn as_form_text(spec: &FieldSpec, value: Option<&Value>) -> String {
    let Some(value) = value else { return String::new() };
    match spec.kind {
        FieldType::Recipients => value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i.get("nama").and_then(Value::as_str).or(i.as_str()).unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        FieldType::Rows => value
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        spec.columns
                            .iter()
                            .map(|c| r.get(&c.name).map(plain).unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        _ => plain(value),
    }
}

pub use crate::text::plain;

/// The form's fields, generated from the manifest.
pub fn manifest_fields(manifest: &Manifest, data: &Value) -> Vec<Field> {
    manifest
        .fields
        .iter()
        .map(|spec| {
            if spec.locked {
                let rows = data.get(&spec.name).and_then(Value::as_array).map_or(0, Vec::len);
                return Field {
                    kind: "locked",
                    ..Field::text(
                        &spec.name,
                        &spec.label,
                        &format!("{rows} baris, diisi dari sumbernya (daftar final); tidak diketik di sini. Untuk mengubah SK yang sudah ditetapkan, buat SK perubahan."),
                    )
                };
            }
            let value = as_form_text(spec, data.get(&spec.name));
            let mut f = match spec.kind {
                FieldType::Text | FieldType::Number => Field::text(&spec.name, &spec.label, &value),
                FieldType::Money => Field::text(&spec.name, &spec.label, &value),
                FieldType::Date => Field {
                    kind: "date",
                    ..Field::text(&spec.name, &spec.label, &value)
                },
                FieldType::LongText | FieldType::Recipients | FieldType::Rows => Field {
                    kind: "textarea",
                    ..Field::text(&spec.name, &spec.label, &value)
                },
                FieldType::Choice => {
                    let mut options: Vec<Choice> = Vec::new();
                    if !spec.required {
                        options.push(Choice::new("", "— tidak ada —", value.is_empty()));
                    }
                    options.extend(spec.choices.iter().map(|c| Choice::new(c.clone(), c.clone(), *c == value)));
                    Field::select(&spec.name, &spec.label, options)
                }
            };
            let mut help = spec.help.clone();
            let extra = match spec.kind {
                // The template's own help usually says it already.
                FieldType::Recipients if !help.contains("baris") => "Satu penerima per baris.".to_string(),
                FieldType::Rows => format!(
                    "Satu baris per data; kolom dipisahkan titik koma: {}.",
                    spec.columns.iter().map(|c| c.label.as_str()).collect::<Vec<_>>().join("; ")
                ),
                FieldType::Money => "Dalam rupiah, tanpa titik, contoh 16800.".into(),
                _ => String::new(),
            };
            if !extra.is_empty() {
                help = if help.is_empty() { extra } else { format!("{help} {extra}") };
            }
            f.help = help;
            f.required = spec.required;
            f
        })
        .collect()
}

/// The submitted form as the JSON object the manifest checks.
pub fn data_from_form(manifest: &Manifest, form: &FormData) -> Value {
    let mut out = Map::new();
    // A locked field is not on the form: the draft keeps what its source filled in.
    for spec in manifest.fields.iter().filter(|spec| !spec.locked) {
        let raw = form.get(&spec.name);
        let value = match spec.kind {
            FieldType::Recipients => Value::Array(
                raw.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| serde_json::json!({ "nama": l }))
                    .collect(),
            ),
            FieldType::Rows => Value::Array(
                raw.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|line| {
                        let cells: Vec<&str> = line.split(';').map(str::trim).collect();
                        Value::Object(
                            spec.columns
                                .iter()
                                .enumerate()
                                .map(|(i, c)| (c.name.clone(), Value::String(cells.get(i).copied().unwrap_or_default().to_string())))
                                .collect(),
                        )
                    })
                    .collect(),
            ),
            _ => Value::String(raw),
        };
        out.insert(spec.name.clone(), value);
    }
    Value::Object(out)
}
