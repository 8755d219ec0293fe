//! The approval chain in the JSON API: letters, revisions, hand-over, decisions (one
//! and bulk), the inbox, comparison and the check of a letter's signed statements.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    auth::{ApiJson, ApiUser},
    error::{ApiError, Failure},
};
use crate::{
    accounts::Role,
    cases,
    letters::DocumentKind,
    workflow::{self, Decision, DecisionRequest},
};

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox))
        .route("/letters", get(list).post(create))
        .route("/letters/bulk-decision", post(bulk_decision))
        .route("/letters/{id}", get(one))
        .route("/letters/{id}/revisions", post(revise))
        .route("/letters/{id}/revisions/{number}", get(revision))
        .route("/letters/{id}/revisions/{number}/pdf", get(revision_pdf))
        .route("/letters/{id}/compare", get(compare))
        .route("/letters/{id}/submit", post(submit))
        .route("/letters/{id}/classification", post(classify))
        .route("/letters/{id}/revoke", post(revoke))
        .route("/letters/{id}/correction", post(correction))
        .route("/letters/{id}/decision", post(decide))
        .route("/letters/{id}/statements", get(verify_chain))
        .route("/chains/{kind}", get(get_chain).put(put_chain))
        .route("/register", get(register))
}

fn document_kind(key: &str) -> Result<DocumentKind, ApiError> {
    match key {
        "surat" => Ok(DocumentKind::Surat),
        "keputusan" => Ok(DocumentKind::Keputusan),
        _ => Err(ApiError(Failure::NotFound)),
    }
}

/// The chain a kind of document follows in this department (the SOP's unless set).
async fn get_chain(State(state): State<AppState>, user: ApiUser, Path(kind): Path<String>) -> ApiResult {
    let chain = workflow::chain::for_kind(&state.db, user.department.id, document_kind(&kind)?).await?;
    Ok(Json(json!({ "kind": kind, "chain": chain })))
}

/// Sets the chain of a kind of document (administrator); letters under way keep theirs.
async fn put_chain(
    State(state): State<AppState>,
    user: ApiUser,
    Path(kind): Path<String>,
    ApiJson(chain): ApiJson<workflow::ChainSpec>,
) -> ApiResult {
    user.require(Role::Administrator)?;
    workflow::chain::set_for_kind(&state.db, &user.user.actor(), user.department.id, document_kind(&kind)?, &chain).await?;
    Ok(Json(json!({ "kind": kind, "chain": chain })))
}

/// `?page=` (from 1) and `?per_page=` of a list.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

impl PageQuery {
    /// `per_page`, 100 when missing, at most 500.
    pub(crate) fn limit(&self) -> i64 {
        self.per_page.unwrap_or(100).clamp(1, 500)
    }
    /// From 0.
    pub(crate) fn index(&self) -> i64 {
        (self.page.unwrap_or(1).max(1) - 1).min(1_000_000)
    }
    pub(crate) fn offset(&self) -> i64 {
        self.index() * self.limit()
    }
}

async fn inbox(State(state): State<AppState>, user: ApiUser, Query(q): Query<PageQuery>) -> ApiResult {
    let flow = state.workflow();
    let page = crate::cases::desk_page::page_for_user(&flow, &user.user, &user.department, q.index() as usize, q.limit() as usize).await?;
    Ok(Json(json!({
        "tasks": page.tasks,
        "items": page.desk.items,
        "counts": page.desk.counts,
        "suggestions": page.desk.suggestions,
        "page": page.page + 1,
        "per_page": page.page_size,
        "total": page.total_items,
        "total_tasks": page.total_tasks,
    })))
}

async fn list(State(state): State<AppState>, user: ApiUser, Query(q): Query<PageQuery>) -> ApiResult {
    let (letters, total) = workflow::page(&state.db, user.department.id, q.limit(), q.offset()).await?;
    Ok(Json(
        json!({ "letters": letters, "page": q.index() + 1, "per_page": q.limit(), "total": total }),
    ))
}

#[derive(Deserialize)]
struct CreateLetter {
    template: String,
    /// An object by its type, so a number or list is refused before it reaches the draft.
    data: serde_json::Map<String, Value>,
    #[serde(default)]
    note: String,
}

async fn create(State(state): State<AppState>, user: ApiUser, ApiJson(body): ApiJson<CreateLetter>) -> Result<Response, ApiError> {
    let letter = state
        .workflow()
        .create(&user.user, &body.template, &Value::Object(body.data), &body.note)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({ "letter": letter }))).into_response())
}

/// The letter as its page shows it (the same use case), with the stored steps and
/// what the caller may do with it now (`actions`).
async fn one(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> ApiResult {
    let view = cases::letter::view(&state.workflow(), &user.user, &user.department, id).await?;
    let mut body = serde_json::to_value(&view).map_err(|e| ApiError(Failure::Internal(e.to_string())))?;
    body["steps"] = json!(view.steps);
    Ok(Json(body))
}

#[derive(Deserialize)]
struct Revise {
    version: i64,
    data: serde_json::Map<String, Value>,
    #[serde(default)]
    note: String,
}

async fn revise(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<Revise>) -> ApiResult {
    let letter = state
        .workflow()
        .revise(&user.user, id, body.version, &Value::Object(body.data), &body.note)
        .await?;
    Ok(Json(json!({ "letter": letter })))
}

async fn revision(State(state): State<AppState>, user: ApiUser, Path((id, number)): Path<(i64, i64)>) -> ApiResult {
    workflow::get(&state.db, user.department.id, id).await?;
    let r = workflow::revision(&state.db, id, number).await?;
    Ok(Json(json!({ "revision": r, "data": r.fields() })))
}

async fn revision_pdf(State(state): State<AppState>, user: ApiUser, Path((id, number)): Path<(i64, i64)>) -> Result<Response, ApiError> {
    workflow::get(&state.db, user.department.id, id).await?;
    let r = workflow::revision(&state.db, id, number).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], r.pdf).into_response())
}

#[derive(Deserialize)]
struct CompareQuery {
    a: i64,
    b: i64,
}

async fn compare(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, Query(q): Query<CompareQuery>) -> ApiResult {
    let letter = workflow::get(&state.db, user.department.id, id).await?;
    let order: Vec<String> = state
        .catalogue
        .get(&letter.template_id)
        .map(|m| m.fields.iter().map(|f| f.name.clone()).collect())
        .unwrap_or_default();
    Ok(Json(
        json!({ "changes": workflow::compare(&state.db, id, q.a, q.b, &order).await? }),
    ))
}

#[derive(Deserialize)]
struct Submit {
    version: i64,
}

async fn submit(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<Submit>) -> ApiResult {
    let letter = state.workflow().submit(&user.user, id, body.version).await?;
    Ok(Json(json!({ "letter": letter })))
}

#[derive(Deserialize)]
struct Classify {
    version: i64,
    code: String,
}

async fn classify(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<Classify>) -> ApiResult {
    let letter = state
        .workflow()
        .set_classification(&user.user, id, body.version, &body.code)
        .await?;
    Ok(Json(json!({ "letter": letter })))
}

#[derive(Deserialize)]
struct Revoke {
    reason: String,
}

async fn revoke(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<Revoke>) -> ApiResult {
    let letter = state.workflow().revoke(&user.user, id, &body.reason).await?;
    Ok(Json(json!({ "letter": letter })))
}

async fn correction(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let letter = state.workflow().start_correction(&user.user, id).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({ "letter": letter }))).into_response())
}

/// The outgoing-letter register of a year (this year when not given).
async fn register(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<RegisterQuery>,
    Query(paging): Query<PageQuery>,
) -> ApiResult {
    use chrono::Datelike;
    let year = q.year.unwrap_or_else(|| user.department.tz().today().year());
    let query = crate::numbering::RegisterQuery {
        year: Some(year),
        ..Default::default()
    };
    let (entries, total) = crate::numbering::register_page(&state.db, user.department.id, &query, paging.limit(), paging.offset()).await?;
    Ok(Json(
        json!({ "year": year, "entries": entries, "page": paging.index() + 1, "per_page": paging.limit(), "total": total }),
    ))
}

#[derive(Deserialize)]
struct RegisterQuery {
    year: Option<i32>,
}

#[derive(Deserialize)]
struct DecisionBody {
    decision: String,
    #[serde(default)]
    note: String,
    /// The revision the caller looked at.
    revision: i64,
    passphrase: String,
    #[serde(default)]
    accept_budget_warning: bool,
    /// The signer's BSrE passphrase, for a department that signs through BSrE.
    #[serde(default)]
    passphrase_bsre: Option<String>,
    /// Ask BSrE again after an unknown outcome (never done by itself).
    #[serde(default)]
    send_again: bool,
    /// The signer knows a deadline of the letter is before its date.
    #[serde(default)]
    accept_deadline_warning: bool,
}

fn parse_decision(key: &str) -> Result<Decision, ApiError> {
    Decision::parse(key).ok_or_else(|| ApiError(Failure::BadRequest("decision: paraf, tanda_tangan, kembalikan atau tolak.".into())))
}

async fn decide(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<DecisionBody>) -> ApiResult {
    let request = DecisionRequest {
        decision: parse_decision(&body.decision)?,
        note: body.note,
        expected_revision: body.revision,
        budget_warning_accepted: body.accept_budget_warning,
        deadline_warning_accepted: body.accept_deadline_warning,
    };
    let remote = body.passphrase_bsre.map(|bsre| cases::decision::RemoteSignature {
        credential: crate::signing::remote::Credential::Passphrase(zeroize::Zeroizing::new(bsre)),
        send_again: body.send_again,
    });
    let letter = cases::decision::decide(&state.workflow(), &user.user, id, &request, &body.passphrase, remote).await?;
    Ok(Json(json!({ "letter": letter })))
}

#[derive(Deserialize)]
struct BulkLetter {
    id: i64,
    revision: i64,
}

#[derive(Deserialize)]
struct BulkBody {
    decision: String,
    letters: Vec<BulkLetter>,
    passphrase: String,
    /// The signer knows that deadlines of these letters are before their date.
    #[serde(default)]
    accept_deadline_warning: bool,
}

/// Runs the bulk decision as a stored job to its end; the answer names the job, whose
/// page shows the same outcome.
async fn bulk_decision(State(state): State<AppState>, user: ApiUser, ApiJson(body): ApiJson<BulkBody>) -> ApiResult {
    let decision = parse_decision(&body.decision)?;
    if !matches!(decision, Decision::Paraf | Decision::TandaTangan) {
        return Err(ApiError(Failure::BadRequest(
            "keputusan massal hanya paraf atau tanda_tangan.".into(),
        )));
    }
    if body.letters.is_empty() || body.letters.len() > cases::bulk::MAX_LETTERS {
        return Err(ApiError(Failure::BadRequest(format!(
            "sebutkan 1 sampai {} surat.",
            cases::bulk::MAX_LETTERS
        ))));
    }
    let letters: Vec<(i64, i64)> = body.letters.iter().map(|l| (l.id, l.revision)).collect();
    let outcome = cases::bulk::run(
        &state.workflow(),
        &user.user,
        &letters,
        decision,
        body.accept_deadline_warning,
        &body.passphrase,
    )
    .await?;
    Ok(Json(json!(outcome)))
}

async fn verify_chain(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> ApiResult {
    workflow::get(&state.db, user.department.id, id).await?;
    let checks = workflow::verify_chain(&state.db, id).await?;
    let valid = checks.iter().all(|c| c.problems.is_empty());
    Ok(Json(json!({ "valid": valid, "statements": checks })))
}
