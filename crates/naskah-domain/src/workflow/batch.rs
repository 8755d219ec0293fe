//! Letters made together from one draft: a confirmation letter typed once becomes one
//! letter per village, each with its own fields and attachment, each then going through
//! the chain (and the bulk actions) on its own with its own number and QR code.

use serde::Serialize;
use serde_json::Value;
use sqlx::{Any, FromRow};
use tokio::task::JoinSet;

use super::{Error, Letter, NewLetter, Workflow, batch_letters, insert_new_letter, state};
use crate::beneficiaries::candidates::{self, Change, Status};
use crate::{
    accounts::User,
    audit,
    db::{Db, now},
    validation::FieldErrors,
};

/// A batch as stored.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Batch {
    pub id: i64,
    pub department_id: i64,
    pub template_id: String,
    pub subject: String,
    pub scope: String,
    pub scope_label: String,
    pub shared_data: String,
    pub source_name: String,
    pub source_rows: i64,
    pub rows_used: i64,
    pub created_by: i64,
    pub created_at: i64,
}

/// What the batch shares.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub template_id: String,
    /// '' for every village, else the kecamatan's region code.
    pub scope: String,
    pub scope_label: String,
    pub shared_data: Value,
    pub source_name: String,
    /// Rows in the uploaded file, and how many of them went into the letters.
    pub source_rows: i64,
    pub rows_used: i64,
}

/// One letter of the batch: its addressee, a label for messages ("Desa Sotek") and its
/// complete data.
#[derive(Debug, Clone)]
pub struct BatchDraft {
    pub recipient_id: i64,
    pub label: String,
    pub data: Value,
    /// The candidates the letter's list carries: they go on the village's temporary
    /// list (daftar sementara) with the letter, in the same transaction.
    pub candidate_ids: Vec<i64>,
}

const BATCH_COLUMNS: &str =
    "id, department_id, template_id, subject, scope, scope_label, shared_data, source_name, source_rows, rows_used, created_by, created_at";

pub async fn get_batch(db: &Db, department_id: i64, id: i64) -> Result<Batch, Error> {
    sqlx::query_as::<Any, Batch>(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH_COLUMNS} FROM letter_batches WHERE id = $1 AND department_id = $2"
    )))
    .bind(id)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

/// The department's batches, newest first.
pub async fn list_batches(db: &Db, department_id: i64, limit: i64) -> Result<Vec<Batch>, Error> {
    Ok(sqlx::query_as::<Any, Batch>(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH_COLUMNS} FROM letter_batches WHERE department_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    )))
    .bind(department_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}

/// How many letters of a batch are in each state.
pub async fn batch_states(db: &Db, batch_id: i64) -> Result<Vec<(String, i64)>, Error> {
    Ok(
        sqlx::query_as::<Any, (String, i64)>("SELECT state, COUNT(*) FROM letters WHERE batch_id = $1 GROUP BY state ORDER BY state")
            .bind(batch_id)
            .fetch_all(&db.pool)
            .await?,
    )
}

/// The outcome of an action on every letter of a batch: the letters done, and each
/// one that could not be done with the reason.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub done: Vec<Letter>,
    pub failed: Vec<(i64, String)>,
}

impl Workflow {
    /// Checks and renders every draft, then stores the batch and all its letters in one
    /// transaction: either every village has its letter or none has.
    pub async fn create_batch(&self, user: &User, batch: &NewBatch, drafts: Vec<BatchDraft>) -> Result<(Batch, Vec<Letter>), Error> {
        super::check_may_draft(user)?;
        if drafts.is_empty() {
            return Err(Error::Invalid(FieldErrors::single(
                "_",
                "Tidak ada desa/kelurahan yang mendapat surat: periksa cakupan dan berkas lampiran.",
            )));
        }
        let manifest = self.catalogue.get(&batch.template_id)?.clone();
        let department = self.department(user.department_id).await?;
        let chain = self.chain_for(&department, &manifest).await?;

        // Render concurrently; the renderer's own pool bounds the parallelism.
        let mut rendering = JoinSet::new();
        for (index, draft) in drafts.iter().enumerate() {
            let (flow, manifest, department, data) = (self.clone(), manifest.clone(), department.clone(), draft.data.clone());
            rendering.spawn(async move { (index, flow.checked_draft(&manifest, &department, &data).await) });
        }
        let mut rendered: Vec<Option<(Value, Vec<u8>)>> = vec![None; drafts.len()];
        let mut errors = FieldErrors::default();
        while let Some(joined) = rendering.join_next().await {
            let (index, outcome) = joined.map_err(|e| Error::Internal(format!("render konsep: {e}")))?;
            match outcome {
                Ok(done) => rendered[index] = Some(done),
                Err(Error::Invalid(field_errors)) => {
                    for problem in field_errors.0 {
                        errors.add("_", format!("{} ({}): {}", drafts[index].label, problem.field, problem.message));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }

        let at = now();
        let shared = serde_json::to_string(&batch.shared_data).map_err(|e| Error::Internal(e.to_string()))?;
        let subject = super::subject_of(&manifest, &batch.shared_data);
        let mut tx = self.db.begin_write().await?;
        let (batch_id,): (i64,) = sqlx::query_as::<Any, (i64,)>(
            "INSERT INTO letter_batches (department_id, template_id, subject, scope, scope_label, shared_data, source_name, source_rows, rows_used, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(department.id)
        .bind(&manifest.id)
        .bind(&subject)
        .bind(&batch.scope)
        .bind(&batch.scope_label)
        .bind(&shared)
        .bind(&batch.source_name)
        .bind(batch.source_rows)
        .bind(batch.rows_used)
        .bind(user.id)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let note = format!("konsep bersama ({})", batch.scope_label);
        for (draft, done) in drafts.iter().zip(&rendered) {
            let (fields, pdf) = done.as_ref().ok_or_else(|| Error::Internal("konsep tidak dirender".into()))?;
            let new = NewLetter {
                manifest: &manifest,
                fields,
                pdf,
                note: &note,
                classification_code: &manifest.kode_klasifikasi,
                corrects: None,
                batch_id: Some(batch_id),
                recipient_id: Some(draft.recipient_id),
            };
            let letter_id = insert_new_letter(&mut tx, department.id, &chain, user, user.id, &new, at).await?;
            if !draft.candidate_ids.is_empty() {
                candidates::transition(
                    &mut tx,
                    department.id,
                    &user.actor(),
                    &draft.candidate_ids,
                    Status::OnList,
                    &Change {
                        reason: &format!("daftar sementara {}", draft.label),
                        letter_id: Some(letter_id),
                        import_id: None,
                        incoming_id: None,
                    },
                )
                .await
                .map_err(|e| match e {
                    crate::beneficiaries::Error::Conflict(m) => Error::Conflict(m),
                    crate::beneficiaries::Error::Db(e) => Error::Db(e),
                    other => Error::Internal(other.to_string()),
                })?;
            }
        }
        audit::record(
            &mut tx,
            audit::Event {
                department_id: Some(department.id),
                actor: &user.actor(),
                action: "batch.created",
                subject: format!("batch:{batch_id}"),
                details: serde_json::json!({
                    "template": manifest.id,
                    "scope": batch.scope_label,
                    "letters": drafts.len(),
                    "source": batch.source_name,
                    "rows": batch.source_rows,
                    "rows_used": batch.rows_used,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((
            get_batch(&self.db, department.id, batch_id).await?,
            batch_letters(&self.db, department.id, batch_id).await?,
        ))
    }

    /// Passes on every letter of the batch that waits at the user's drafting or typing
    /// stage, each in its own transaction.
    pub async fn submit_batch(&self, user: &User, batch_id: i64) -> Result<BatchOutcome, Error> {
        let batch = get_batch(&self.db, user.department_id, batch_id).await?;
        let mut outcome = BatchOutcome::default();
        for letter in batch_letters(&self.db, batch.department_id, batch.id).await? {
            if letter.state != state::KONSEP && letter.state != state::PROSES {
                continue;
            }
            if self.drafting_step_of(user, &letter).await.is_err() {
                continue;
            }
            match self.submit(user, letter.id, letter.version).await {
                Ok(done) => outcome.done.push(done),
                Err(e) => outcome.failed.push((letter.id, e.to_string())),
            }
        }
        if outcome.done.is_empty() && outcome.failed.is_empty() {
            return Err(Error::NotYourTurn(
                "Tidak ada surat dalam kumpulan ini yang menunggu Anda untuk diteruskan.".into(),
            ));
        }
        Ok(outcome)
    }
}
