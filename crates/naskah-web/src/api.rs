//! The JSON API under `/api/v1`: the same resources as the pages, for programmes.
//! Authentication by bearer token (or a browser session plus `X-CSRF-Token`).

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use super::{
    AppState,
    auth::{ApiJson, ApiUser},
    error::{ApiError, Failure},
};
use crate::{
    accounts::{self, Role, UserInput},
    departments::{self, DepartmentInput, OfficialInput, PositionInput, UnitInput},
    letters, regions,
    validation::FieldErrors,
};

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(super::openapi::document()) }))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/department", get(department).put(update_department))
        .route("/department/logo", get(department_logo).put(put_logo))
        .route("/units", get(list_units).post(create_unit))
        .route("/units/{id}", get(get_unit).put(update_unit).delete(delete_unit))
        .route("/positions", get(list_positions).post(create_position))
        .route("/positions/{id}", get(get_position).put(update_position).delete(delete_position))
        .route("/officials", get(list_officials).post(create_official))
        .route("/officials/{id}", get(get_official).put(update_official).delete(delete_official))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).put(update_user))
        .route("/users/{id}/password", post(reset_password))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/regions", get(list_regions))
        .route("/templates", get(list_templates))
        .route("/templates/{id}", get(get_template))
        .route("/templates/{id}/validate", post(validate_draft))
        .route("/templates/{id}/preview", post(preview_draft))
}

fn to_json(value: impl Serialize) -> Json<Value> {
    Json(serde_json::to_value(value).unwrap_or(Value::Null))
}

/// `PUT` changes only what the body names: a field left out keeps its stored value and
/// a field sent as `null` is cleared, so a client that knows one field cannot wipe others.
fn overlay<T: DeserializeOwned>(stored: impl Serialize, body: Value) -> Result<T, ApiError> {
    let Value::Object(changes) = body else {
        return Err(not_an_object());
    };
    let mut merged = match serde_json::to_value(stored) {
        Ok(Value::Object(fields)) => fields,
        _ => serde_json::Map::new(),
    };
    merged.retain(|_, value| !value.is_null());
    for (name, value) in changes {
        if value.is_null() {
            merged.remove(&name);
        } else {
            merged.insert(name, value);
        }
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| ApiError(Failure::BadRequest(format!("Badan JSON tidak valid: {e}"))))
}

fn not_an_object() -> ApiError {
    ApiError(Failure::Invalid(FieldErrors::single(
        "body",
        "Badan permintaan harus berupa objek JSON.",
    )))
}

fn created(value: impl Serialize) -> Response {
    (StatusCode::CREATED, to_json(value)).into_response()
}

/// Officials carry their printed forms too, so clients need not rebuild them.
fn official_json(o: &departments::Official) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    v["full_name"] = json!(o.full_name());
    v["rank_line"] = json!(o.rank_line());
    v
}

async fn me(user: ApiUser) -> ApiResult {
    Ok(Json(json!({ "user": user.user, "department": user.department })))
}

#[derive(Deserialize)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    accounts::change_own_password(&state.db, &user.user, &body.current_password, &body.new_password, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn department(user: ApiUser) -> ApiResult {
    Ok(to_json(&user.department))
}

async fn update_department(State(state): State<AppState>, user: ApiUser, ApiJson(body): ApiJson<Value>) -> ApiResult {
    user.require(Role::Administrator)?;
    let input: DepartmentInput = overlay(&user.department, body)?;
    Ok(to_json(
        departments::update(&state.db, &user.user.actor(), user.department.id, input).await?,
    ))
}

async fn department_logo(State(state): State<AppState>, user: ApiUser) -> Result<Response, ApiError> {
    let (bytes, mime) = departments::logo(&state.db, user.department.id)
        .await?
        .ok_or(ApiError(Failure::NotFound))?;
    Ok(([(header::CONTENT_TYPE, mime)], bytes).into_response())
}

/// The logo as the raw request body; its type is recognised from the content.
async fn put_logo(State(state): State<AppState>, user: ApiUser, body: Bytes) -> Result<StatusCode, ApiError> {
    user.require(Role::Administrator)?;
    departments::set_logo(&state.db, &user.user.actor(), user.department.id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_units(State(state): State<AppState>, user: ApiUser) -> ApiResult {
    Ok(to_json(departments::list_units(&state.db, user.department.id).await?))
}
async fn get_unit(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> ApiResult {
    Ok(to_json(departments::get_unit(&state.db, user.department.id, id).await?))
}
async fn create_unit(State(state): State<AppState>, user: ApiUser, ApiJson(input): ApiJson<UnitInput>) -> Result<Response, ApiError> {
    user.require(Role::Administrator)?;
    Ok(created(
        departments::create_unit(&state.db, &user.user.actor(), user.department.id, input).await?,
    ))
}
async fn update_unit(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<Value>) -> ApiResult {
    user.require(Role::Administrator)?;
    let input: UnitInput = overlay(departments::get_unit(&state.db, user.department.id, id).await?, body)?;
    Ok(to_json(
        departments::update_unit(&state.db, &user.user.actor(), user.department.id, id, input).await?,
    ))
}
async fn delete_unit(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    user.require(Role::Administrator)?;
    departments::delete_unit(&state.db, &user.user.actor(), user.department.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_positions(State(state): State<AppState>, user: ApiUser) -> ApiResult {
    Ok(to_json(departments::list_positions(&state.db, user.department.id).await?))
}
async fn get_position(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> ApiResult {
    Ok(to_json(departments::get_position(&state.db, user.department.id, id).await?))
}
async fn create_position(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(input): ApiJson<PositionInput>,
) -> Result<Response, ApiError> {
    user.require(Role::Administrator)?;
    Ok(created(
        departments::create_position(&state.db, &user.user.actor(), user.department.id, input).await?,
    ))
}
async fn update_position(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<Value>) -> ApiResult {
    user.require(Role::Administrator)?;
    let input: PositionInput = overlay(departments::get_position(&state.db, user.department.id, id).await?, body)?;
    Ok(to_json(
        departments::update_position(&state.db, &user.user.actor(), user.department.id, id, input).await?,
    ))
}
async fn delete_position(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    user.require(Role::Administrator)?;
    departments::delete_position(&state.db, &user.user.actor(), user.department.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_officials(State(state): State<AppState>, user: ApiUser) -> ApiResult {
    let officials = departments::list_officials(&state.db, user.department.id).await?;
    Ok(Json(Value::Array(officials.iter().map(official_json).collect())))
}
async fn get_official(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(official_json(
        &departments::get_official(&state.db, user.department.id, id).await?,
    )))
}
async fn create_official(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(input): ApiJson<OfficialInput>,
) -> Result<Response, ApiError> {
    user.require(Role::Administrator)?;
    let o = departments::create_official(&state.db, &user.user.actor(), user.department.id, input).await?;
    Ok((StatusCode::CREATED, Json(official_json(&o))).into_response())
}
async fn update_official(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<Value>) -> ApiResult {
    user.require(Role::Administrator)?;
    let input: OfficialInput = overlay(departments::get_official(&state.db, user.department.id, id).await?, body)?;
    Ok(Json(official_json(
        &departments::update_official(&state.db, &user.user.actor(), user.department.id, id, input).await?,
    )))
}
async fn delete_official(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    user.require(Role::Administrator)?;
    departments::delete_official(&state.db, &user.user.actor(), user.department.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_users(State(state): State<AppState>, user: ApiUser) -> ApiResult {
    user.require(Role::Administrator)?;
    Ok(to_json(accounts::list(&state.db, user.department.id).await?))
}
async fn get_user(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> ApiResult {
    user.require(Role::Administrator)?;
    Ok(to_json(accounts::get_in(&state.db, user.department.id, id).await?))
}

#[derive(Deserialize)]
struct NewUser {
    #[serde(flatten)]
    user: UserInput,
    /// When absent, a password is generated and returned once.
    password: Option<String>,
}

async fn create_user(State(state): State<AppState>, user: ApiUser, ApiJson(body): ApiJson<NewUser>) -> Result<Response, ApiError> {
    user.require(Role::Administrator)?;
    let generated = body.password.is_none();
    let password = body.password.unwrap_or_else(accounts::generate_password);
    let new = accounts::create(&state.db, &user.user.actor(), user.department.id, body.user, &password, true).await?;
    let mut value = serde_json::to_value(&new).unwrap_or(Value::Null);
    if generated {
        value["initial_password"] = json!(password);
    }
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

async fn update_user(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>, ApiJson(body): ApiJson<Value>) -> ApiResult {
    user.require(Role::Administrator)?;
    let input: UserInput = overlay(accounts::get_in(&state.db, user.department.id, id).await?, body)?;
    Ok(to_json(
        accounts::update(&state.db, &user.user.actor(), user.department.id, id, input).await?,
    ))
}

async fn reset_password(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> ApiResult {
    user.require(Role::Administrator)?;
    let target = accounts::get_in(&state.db, user.department.id, id).await?;
    let password = accounts::generate_password();
    accounts::set_password(&state.db, &user.user.actor(), &target, &password, true, None).await?;
    Ok(Json(
        json!({ "user_id": target.id, "new_password": password, "must_change_password": true }),
    ))
}

async fn list_tokens(State(state): State<AppState>, user: ApiUser) -> ApiResult {
    Ok(to_json(accounts::list_tokens(&state.db, user.user.id).await?))
}

#[derive(Deserialize)]
struct TokenRequest {
    name: String,
}

async fn create_token(State(state): State<AppState>, user: ApiUser, ApiJson(body): ApiJson<TokenRequest>) -> Result<Response, ApiError> {
    Ok(created(accounts::create_token(&state.db, &user.user, &body.name).await?))
}

async fn revoke_token(State(state): State<AppState>, user: ApiUser, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    accounts::revoke_token(&state.db, &user.user, &user.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct RegionQuery {
    parent: Option<String>,
}

/// Regions below `parent`, or the kecamatan and villages of the department's regency.
async fn list_regions(State(state): State<AppState>, user: ApiUser, Query(q): Query<RegionQuery>) -> ApiResult {
    let list = match (q.parent, &user.department.region_code) {
        (Some(parent), _) => regions::children(&state.db, &parent).await?,
        (None, Some(regency)) => regions::within_regency(&state.db, regency).await?,
        (None, None) => {
            return Err(ApiError(Failure::Invalid(FieldErrors::single(
                "parent",
                "Sebutkan kode wilayah induk (parent).",
            ))));
        }
    };
    Ok(to_json(list))
}

fn template_json(m: &letters::Manifest) -> Value {
    let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
    v["defaults"] = m.defaults();
    v
}

async fn list_templates(State(state): State<AppState>, _user: ApiUser) -> ApiResult {
    Ok(Json(Value::Array(state.catalogue.templates.iter().map(template_json).collect())))
}

async fn get_template(State(state): State<AppState>, _user: ApiUser, Path(id): Path<String>) -> ApiResult {
    Ok(Json(template_json(state.catalogue.get(&id)?)))
}

/// Checks a draft's data against the template's manifest without rendering.
async fn validate_draft(State(state): State<AppState>, _user: ApiUser, Path(id): Path<String>, ApiJson(data): ApiJson<Value>) -> ApiResult {
    let manifest = state.catalogue.get(&id)?;
    if !data.is_object() {
        return Err(not_an_object());
    }
    let checked = manifest
        .validate(&letters::with_defaults(manifest, &data))
        .map_err(|e| ApiError(Failure::Invalid(e)))?;
    Ok(Json(json!({ "valid": true, "data": checked })))
}

#[derive(Deserialize)]
struct PreviewQuery {
    format: Option<String>,
    page: Option<usize>,
}

/// Renders a draft (KONSEP) as PDF, or one page as PNG (`?format=png&page=1`).
async fn preview_draft(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    Query(q): Query<PreviewQuery>,
    ApiJson(data): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let manifest = state.catalogue.get(&id)?;
    if !data.is_object() {
        return Err(not_an_object());
    }
    let logo = departments::logo(&state.db, user.department.id).await?;
    let job = letters::draft_job(
        manifest,
        &user.department.letterhead(),
        logo,
        &letters::with_defaults(manifest, &data),
    )?;
    match q.format.as_deref().unwrap_or("pdf") {
        "pdf" => {
            let rendered = letters::parts::render_pdf(&state.renderer, job).await?;
            Ok(([(header::CONTENT_TYPE, "application/pdf")], rendered.pdf).into_response())
        }
        "png" => {
            let page = q.page.unwrap_or(1).max(1) - 1;
            let image = letters::parts::render_png(&state.renderer, job, page, 1.5).await?;
            Ok(([(header::CONTENT_TYPE, "image/png")], image.png).into_response())
        }
        _ => Err(ApiError(Failure::BadRequest("format harus pdf atau png.".into()))),
    }
}
