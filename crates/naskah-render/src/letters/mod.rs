//! Letters: the template catalogue (one folder per template under `letter_templates/`,
//! each with a `manifest.toml`), the data a template receives, and the reserved slots
//! that only finalisation fills.

pub mod deadline;
pub mod manifest;
pub mod parts;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    rendering::{RenderError, RenderJob, Renderer},
    validation::FieldErrors,
};
pub use manifest::{DocumentKind, FieldSpec, FieldType, Manifest};

/// Every template the renderer has loaded, by id (folder name), in id order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub templates: Vec<Manifest>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("templat '{0}' tidak ada")]
    UnknownTemplate(String),
    #[error("manifes templat {id} tidak valid: {message}")]
    BadManifest { id: String, message: String },
    #[error("data tidak valid: {0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Render(#[from] RenderError),
}

impl Catalogue {
    /// Reads the manifests among the renderer's preloaded files: `/<id>/manifest.toml`
    /// next to the template's main file. Folders starting with `_` hold shared parts.
    pub fn from_renderer(renderer: &Renderer) -> Result<Catalogue, Error> {
        let mut templates = Vec::new();
        for path in renderer.paths() {
            let Some(id) = path.strip_prefix('/').and_then(|p| p.strip_suffix("/manifest.toml")) else {
                continue;
            };
            if id.contains('/') || id.starts_with('_') {
                continue;
            }
            let text = std::str::from_utf8(renderer.file(path).unwrap_or_default()).map_err(|_| Error::BadManifest {
                id: id.into(),
                message: "bukan UTF-8".into(),
            })?;
            let manifest = Manifest::parse(id, text).map_err(|message| Error::BadManifest { id: id.into(), message })?;
            if !renderer.has_file(&format!("/{id}/{}", manifest.main)) {
                return Err(Error::BadManifest {
                    id: id.into(),
                    message: format!("berkas utama {} tidak ada", manifest.main),
                });
            }
            templates.push(manifest);
        }
        templates.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Catalogue { templates })
    }

    /// Every template, by id.
    pub fn all(&self) -> &[Manifest] {
        &self.templates
    }

    pub fn get(&self, id: &str) -> Result<&Manifest, Error> {
        self.templates
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| Error::UnknownTemplate(id.into()))
    }
}

/// Who signs, as printed in the signature block.
#[derive(Debug, Clone, Serialize)]
pub struct Signer {
    /// The position, e.g. "Kepala Dinas Tenaga Kerja Kabupaten Penajam Paser Utara".
    pub jabatan: String,
    /// "a.n." line: the position signed on behalf of, if any.
    pub atas_nama: Option<String>,
    /// "Plh." or "Plt." for an acting official.
    pub sebutan: Option<String>,
    /// Name with academic titles (letters).
    pub nama: String,
    /// Name without academic titles (decrees).
    pub nama_tanpa_gelar: String,
    pub pangkat: String,
    pub nip: String,
}

/// The reserved slots: empty on a draft (shown as placeholders under a KONSEP
/// watermark), filled only at signing.
#[derive(Debug, Clone, Default)]
pub struct Slots {
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    /// The QR code, as SVG; placed at the fixed path `/qr.svg`.
    pub qr_svg: Option<String>,
    pub signer: Option<Signer>,
    /// The electronic-signature footer line.
    pub footer: Option<String>,
    /// The verification address the QR code encodes (also in the PDF's keywords, so
    /// `naskah verify --offline FILE.pdf` finds it).
    pub verification_url: Option<String>,
}

impl Slots {
    pub fn is_draft(&self) -> bool {
        self.number.is_none() || self.signer.is_none() || self.qr_svg.is_none()
    }
}

/// The logo's fixed path inside a job, by its stored type.
pub fn logo_file(mime: &str) -> Option<(&'static str, &'static str)> {
    match mime {
        "image/svg+xml" => Some(("svg", "/logo.svg")),
        "image/png" => Some(("png", "/logo.png")),
        "image/jpeg" => Some(("jpg", "/logo.jpg")),
        _ => None,
    }
}

/// The department's letterhead, as a template sees it (`dinas` in `/data.json`).
#[derive(Debug, Clone, Default)]
pub struct Letterhead {
    pub name: String,
    pub regency_name: String,
    pub address: String,
    pub postal_code: String,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub city: String,
}

/// The JSON a template sees at `/data.json`.
pub fn document_data(department: &Letterhead, has_logo: Option<&str>, title: &str, fields: &Value, slots: &Slots) -> Value {
    json!({
        "judul": title,
        "dinas": {
            "nama": department.name,
            "pemerintah": department.regency_name,
            "alamat": department.address,
            "kode_pos": department.postal_code,
            "telepon": department.phone,
            "email": department.email,
            "laman": department.website,
            "kota": department.city,
            "logo": has_logo.and_then(logo_file).map(|(kind, _)| kind),
        },
        "isian": fields,
        "slot": {
            "konsep": slots.is_draft(),
            "nomor": slots.number,
            "tanggal": slots.date.map(|d| d.format("%Y-%m-%d").to_string()),
            "qr": slots.qr_svg.is_some(),
            "penandatangan": slots.signer,
            "catatan_tte": slots.footer,
            "alamat_verifikasi": slots.verification_url,
        }
    })
}

/// A complete render job for a template with checked data. `logo` is the department's
/// stored logo and its type.
pub fn job(
    manifest: &Manifest,
    department: &Letterhead,
    logo: Option<(Vec<u8>, String)>,
    fields: &Value,
    slots: &Slots,
    document_id: Option<String>,
) -> RenderJob {
    let mime = logo.as_ref().map(|(_, m)| m.clone());
    let data = document_data(department, mime.as_deref(), &manifest.title, fields, slots);
    let mut files = Vec::new();
    if let Some((bytes, mime)) = logo
        && let Some((_, path)) = logo_file(&mime)
    {
        files.push((path.to_string(), bytes));
    }
    if let Some(svg) = &slots.qr_svg {
        files.push(("/qr.svg".to_string(), svg.clone().into_bytes()));
    }
    RenderJob {
        main: format!("/{}/{}", manifest.id, manifest.main),
        data,
        files,
        today: slots.date,
        document_id,
    }
}

/// The manifest's defaults overlaid by the given data (top-level keys).
pub fn with_defaults(manifest: &Manifest, data: &Value) -> Value {
    let mut merged = manifest.defaults();
    if let (Some(target), Some(given)) = (merged.as_object_mut(), data.as_object()) {
        for (k, v) in given {
            target.insert(k.clone(), v.clone());
        }
    }
    merged
}

/// A draft's render job: the data are checked against the manifest first, so a bad
/// field is reported by name before anything is compiled.
pub fn draft_job(manifest: &Manifest, department: &Letterhead, logo: Option<(Vec<u8>, String)>, data: &Value) -> Result<RenderJob, Error> {
    let fields = manifest.validate(data).map_err(Error::Invalid)?;
    Ok(job(manifest, department, logo, &fields, &Slots::default(), None))
}
