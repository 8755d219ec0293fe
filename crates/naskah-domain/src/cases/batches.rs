//! Kumpulan surat: one draft for every village of a kecamatan (or of the regency), each
//! letter with its own attachment, from the beneficiary data or an uploaded file. What
//! the form offers, the creation itself, and a batch as its page shows it.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::Error;
use crate::{
    accounts::User,
    beneficiaries::candidates,
    departments::Department,
    distribution::{
        self, batches,
        recipients::{self, Filter, Recipient},
    },
    letters::{self, Manifest, manifest::PerVillage},
    validation::FieldErrors,
    workflow::{
        self, Letter, Workflow,
        batch::{self as batch_flow, Batch, NewBatch},
    },
};

/// The templates that can be drafted once for many villages.
pub fn templates(flow: &Workflow) -> Vec<&Manifest> {
    flow.catalogue.templates.iter().filter(|t| t.per_village.is_some()).collect()
}

/// The department's latest batches, each with how many of its letters are in which state.
pub async fn list(flow: &Workflow, department: &Department) -> Result<Vec<(Batch, Vec<(String, i64)>)>, Error> {
    let mut out = Vec::new();
    for batch in batch_flow::list_batches(&flow.db, department.id, 200).await? {
        let states = batch_flow::batch_states(&flow.db, batch.id).await?;
        out.push((batch, states));
    }
    Ok(out)
}

/// A per-village template: its manifest, its per-village part and the manifest of only
/// the fields typed once for all villages.
pub struct Template<'a> {
    pub manifest: &'a Manifest,
    pub per_village: &'a PerVillage,
    pub shared: Manifest,
}

impl Template<'_> {
    /// The field the candidate rows go into (the attachment table).
    pub fn table_columns(&self) -> Vec<&str> {
        self.manifest
            .field(&self.per_village.rows_field)
            .map(|t| t.columns.iter().map(|c| c.label.as_str()).collect())
            .unwrap_or_default()
    }

    /// The template adds the local Camat to each letter's copies when asked.
    pub fn offers_camat_copy(&self) -> bool {
        !self.per_village.copies_field.is_empty()
    }
}

/// The per-village template `id` (the first one when empty).
pub fn template<'a>(flow: &'a Workflow, id: &str) -> Result<Template<'a>, Error> {
    let manifest = if id.is_empty() {
        *templates(flow).first().ok_or(workflow::Error::NotFound)?
    } else {
        flow.catalogue.get(id).map_err(workflow::Error::from)?
    };
    let per_village = manifest.per_village.as_ref().ok_or(workflow::Error::NotFound)?;
    let own = per_village.own_fields();
    let shared = Manifest {
        fields: manifest
            .fields
            .iter()
            .filter(|f| !own.contains(&f.name.as_str()))
            .cloned()
            .collect(),
        per_village: None,
        ..manifest.clone()
    };
    Ok(Template {
        manifest,
        per_village,
        shared,
    })
}

/// What the form for a new batch offers: the kecamatan to choose from and how many
/// checked candidates wait for a village list.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub districts: Vec<Recipient>,
    pub candidates_waiting: i64,
}

pub async fn offer(flow: &Workflow, user: &User, department: &Department) -> Result<Offer, Error> {
    workflow::check_may_draft(user)?;
    let districts = recipients::list(
        &flow.db,
        department.id,
        &Filter {
            kind: "kecamatan".into(),
            ..Filter::default()
        },
    )
    .await?;
    let candidates_waiting = candidates::counts(&flow.db, department.id)
        .await?
        .into_iter()
        .find(|(s, _)| *s == candidates::Status::Candidate)
        .map_or(0, |(_, n)| n);
    Ok(Offer {
        districts,
        candidates_waiting,
    })
}

/// Where the attachments come from.
pub enum Source {
    /// The checked candidates of the beneficiary data not yet on a village list.
    Candidates,
    /// An uploaded CSV file.
    File { name: String, bytes: Vec<u8> },
}

impl Source {
    /// The user's choice ("data" or "berkas"); without one, the file when one was given.
    pub fn chosen(choice: &str, name: String, bytes: Vec<u8>) -> Source {
        match choice {
            "data" => Source::Candidates,
            "berkas" => Source::File { name, bytes },
            _ if bytes.is_empty() => Source::Candidates,
            _ => Source::File { name, bytes },
        }
    }
}

/// A new batch as the user asked for it.
pub struct Request {
    pub template_id: String,
    /// The fields typed once.
    pub shared: Value,
    /// "" for the whole regency, else a kecamatan's code.
    pub scope: String,
    pub copy_to_camat: bool,
    pub source: Source,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Workflow(workflow::Error::Invalid(FieldErrors::single(field, message)))
}

/// Creates one letter per village with candidates in scope, all in one transaction, or
/// nothing: the shared fields are checked first (so a missing "hal" is said once, not
/// once per village), then every row of the attachment; each problem is named.
pub async fn create(flow: &Workflow, user: &User, department: &Department, request: Request) -> Result<Batch, Error> {
    workflow::check_may_draft(user)?;
    let template = template(flow, &request.template_id)?;
    if let Err(errors) = template.shared.validate(&letters::with_defaults(&template.shared, &request.shared)) {
        return Err(workflow::Error::Invalid(errors).into());
    }
    let table = template
        .manifest
        .field(&template.per_village.rows_field)
        .ok_or_else(|| workflow::Error::Internal("tabel lampiran tidak ada".into()))?;
    let (planned, source_name) = match request.source {
        Source::Candidates => {
            let waiting = candidates::awaiting_list(&flow.db, department.id, &request.scope).await?;
            if waiting.is_empty() {
                return Err(invalid(
                    "lampiran",
                    "Tidak ada calon penerima di cakupan ini yang belum masuk daftar sementara. Impor data calon dulu, atau unggah berkas.",
                ));
            }
            let rows = batches::rows_from_candidates(&waiting, table);
            (
                batches::plan(&flow.db, department.id, &request.scope, rows).await,
                "data calon penerima".to_string(),
            )
        }
        Source::File { name, bytes } => {
            let text = match String::from_utf8(bytes) {
                Ok(text) if !text.trim().is_empty() => text,
                Ok(_) => return Err(invalid("berkas", "Pilih berkas CSV lampiran.")),
                Err(_) => {
                    return Err(invalid("berkas", "Berkas bukan teks CSV (UTF-8); simpan ulang sebagai CSV UTF-8."));
                }
            };
            let planned = match batches::parse_candidates(&text, table) {
                Ok(rows) => batches::plan(&flow.db, department.id, &request.scope, rows).await,
                Err(e) => Err(e),
            };
            (planned, name)
        }
    };
    let plan = planned.map_err(file_errors)?;
    let drafts = batches::drafts(template.per_village, &plan, &request.shared, request.copy_to_camat);
    let new = NewBatch {
        template_id: template.manifest.id.clone(),
        scope: plan.scope.clone(),
        scope_label: plan.scope_label.clone(),
        shared_data: request.shared.clone(),
        source_name,
        source_rows: plan.total_rows as i64,
        rows_used: plan.letters.iter().map(|l| l.rows.len() as i64).sum(),
    };
    let (batch, _) = flow.create_batch(user, &new, drafts).await?;
    Ok(batch)
}

/// A file's problems as form errors: one line on the file field, each row in the summary.
fn file_errors(error: distribution::Error) -> Error {
    match error {
        distribution::Error::Rows(problems) => {
            let mut errors = FieldErrors::single(
                "berkas",
                format!(
                    "Berkas memuat {} kesalahan; tidak ada surat yang dibuat. Perbaiki lalu pilih berkasnya lagi.",
                    problems.len()
                ),
            );
            for problem in problems.iter().take(30) {
                errors.add("_", problem.clone());
            }
            if problems.len() > 30 {
                errors.add("_", format!("… dan {} kesalahan lain.", problems.len() - 30));
            }
            workflow::Error::Invalid(errors).into()
        }
        distribution::Error::Csv(message) => invalid("berkas", format!("Berkas tidak dapat dipakai: {message}.")),
        distribution::Error::Conflict(message) => invalid("cakupan", message),
        other => other.into(),
    }
}

/// One letter of a batch with its village and the size of its attachment.
#[derive(Debug, Clone, Serialize)]
pub struct BatchLetter {
    pub letter: Letter,
    pub village: String,
    pub region_code: String,
    pub attachment_rows: usize,
}

/// A batch as its page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BatchView {
    pub batch: Batch,
    pub letters: Vec<BatchLetter>,
    /// How many letters are in which state.
    pub states: Vec<(String, i64)>,
    /// Active villages in scope that got no letter (the file had no rows for them).
    pub villages_without_letter: Vec<String>,
}

impl BatchView {
    pub fn any_under_way(&self) -> bool {
        self.letters
            .iter()
            .any(|l| l.letter.state == workflow::state::KONSEP || l.letter.state == workflow::state::PROSES)
    }

    pub fn any_signed(&self) -> bool {
        self.letters.iter().any(|l| l.letter.signed_at.is_some())
    }
}

pub async fn view(flow: &Workflow, department: &Department, id: i64) -> Result<BatchView, Error> {
    let batch = batch_flow::get_batch(&flow.db, department.id, id).await?;
    let letters = workflow::batch_letters(&flow.db, department.id, batch.id).await?;
    let directory: HashMap<i64, Recipient> = recipients::list(&flow.db, department.id, &Filter::default())
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let rows_field = flow
        .catalogue
        .get(&batch.template_id)
        .ok()
        .and_then(|m| m.per_village.as_ref())
        .map(|p| p.rows_field.clone())
        .unwrap_or_default();
    let sizes = workflow::batch_row_counts(&flow.db, batch.id, &rows_field).await?;
    let with_letter: HashSet<i64> = letters.iter().filter_map(|l| l.recipient_id).collect();
    let scope_prefix = if batch.scope.is_empty() {
        String::new()
    } else {
        format!("{}.", batch.scope)
    };
    let mut villages_without_letter: Vec<String> = directory
        .values()
        .filter(|r| r.active == 1 && (r.kind == "desa" || r.kind == "kelurahan"))
        .filter(|r| r.region_code.as_deref().is_some_and(|c| c.starts_with(&scope_prefix)))
        .filter(|r| !with_letter.contains(&r.id))
        .map(|r| r.name.clone())
        .collect();
    villages_without_letter.sort_unstable();
    let letters = letters
        .into_iter()
        .map(|letter| {
            let recipient = letter.recipient_id.and_then(|r| directory.get(&r));
            BatchLetter {
                village: recipient.map(|r| r.name.clone()).unwrap_or_default(),
                region_code: recipient.and_then(|r| r.region_code.clone()).unwrap_or_default(),
                attachment_rows: sizes.get(&letter.id).copied().unwrap_or_default(),
                letter,
            }
        })
        .collect();
    Ok(BatchView {
        states: batch_flow::batch_states(&flow.db, batch.id).await?,
        batch,
        letters,
        villages_without_letter,
    })
}
