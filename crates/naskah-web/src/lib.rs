//! HTTP at the edge: server-rendered pages in Indonesian, the JSON API under `/api/v1`,
//! and the operations endpoints. Handlers parse, call one domain function, and render.

mod api;
mod api_letters;
pub mod auth;
mod certificates;
mod csrf;
pub mod error;
mod metrics;
mod openapi;
mod pages;
mod public;
mod receipts;
mod server;
mod uploads;
mod view;

// The floors below, by the names the handlers use.
pub(crate) use naskah_base::{audit, config, db, regions, spreadsheet, text, validation};
pub(crate) use naskah_domain::{
    accounts, beneficiaries, cases, departments, distribution, incoming, jobs, keys, notifications, numbering, verification, workflow,
};
pub(crate) use naskah_render::{letters, rendering};
pub(crate) use naskah_signing as signing;

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use tower_http::timeout::TimeoutLayer;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{config::Config, db::Db, keys::KeyStore, letters::Catalogue, rendering::Renderer, workflow::Workflow};
use error::{ApiError, Failure, PageError};

pub use metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub renderer: Renderer,
    pub catalogue: Arc<Catalogue>,
    pub keys: KeyStore,
    /// Requests per address on the public verification pages.
    pub public_limiter: Arc<public::RateLimiter>,
    /// Public verification records already built.
    pub public_records: Arc<crate::verification::RecordCache>,
}

impl AppState {
    /// Loads the letter templates named by the configuration; a broken manifest stops start-up.
    pub fn new(db: Db, config: Config) -> anyhow::Result<Self> {
        let (keys, _) = KeyStore::from_config(db.clone(), &config)?;
        Self::with_keys(db, config, keys)
    }

    /// [`AppState::new`] over a key store the caller already opened.
    pub fn with_keys(db: Db, config: Config, keys: KeyStore) -> anyhow::Result<Self> {
        let renderer = Renderer::load(&config.templates_dir, config.render_concurrency)
            .with_context(|| format!("templat di {} tidak dapat dimuat", config.templates_dir.display()))?;
        let catalogue = Catalogue::from_renderer(&renderer)?;
        Ok(AppState {
            db,
            keys,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            renderer,
            catalogue: Arc::new(catalogue),
            public_limiter: Arc::default(),
            public_records: Arc::default(),
        })
    }

    /// The approval chain over this state's services.
    pub fn workflow(&self) -> Workflow {
        Workflow {
            db: self.db.clone(),
            renderer: self.renderer.clone(),
            catalogue: self.catalogue.clone(),
            keys: self.keys.clone(),
            base_url: self.config.base_url.clone(),
            timestamping: !self.config.timestamp.url.is_empty(),
            distribution: Arc::new(crate::distribution::deliveries::DirectoryPlanner),
        }
    }
}

/// The whole application: pages, API, operations, static assets.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(pages::router())
        .merge(public::router())
        .merge(receipts::router())
        .merge(certificates::router())
        .nest("/api/v1", api::router().merge(api_letters::router()))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_endpoint))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::require_token))
        .layer(middleware::from_fn(api_errors_as_json))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn_with_state(state.clone(), guard_body_size))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(security_headers))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(state.config.http.request_timeout_seconds),
        ))
        .with_state(state)
}

fn wants_json(path: &str) -> bool {
    path.starts_with("/api/")
}

/// axum's own refusals of a path or query it cannot read are plain text; the API
/// promises its error body on every answer, so they are rewritten into it here.
async fn api_errors_as_json(request: Request, next: Next) -> Response {
    if !wants_json(request.uri().path()) {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !response.status().is_client_error() || is_json {
        return response;
    }
    let status = response.status();
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let failure = match status {
        StatusCode::PAYLOAD_TOO_LARGE => Failure::TooLarge(None),
        StatusCode::NOT_FOUND => Failure::NotFound,
        _ => Failure::BadRequest(format!("Permintaan tidak dapat dibaca: {text}")),
    };
    let mut answer = ApiError(failure).into_response();
    if status != StatusCode::PAYLOAD_TOO_LARGE && status != StatusCode::NOT_FOUND {
        *answer.status_mut() = status;
    }
    answer
}

async fn not_found(request: Request) -> Response {
    if wants_json(request.uri().path()) {
        ApiError(Failure::NotFound).into_response()
    } else {
        PageError(Failure::NotFound).into_response()
    }
}

/// Refuses a declared body over the limit before reading it; bodies without a length are
/// cut by `DefaultBodyLimit` in the extractors.
async fn guard_body_size(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    // An upload route takes its own limit (uploads.rs), every other the configured one.
    let limit = uploads::limit_for(request.uri().path()).unwrap_or(state.config.max_body_bytes);
    let json = wants_json(request.uri().path());
    let too_large = || {
        if json {
            ApiError(Failure::TooLarge(Some(limit))).into_response()
        } else {
            PageError(Failure::TooLarge(Some(limit))).into_response()
        }
    };
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    // A body without a declared length is cut while read, deep in an extractor that does
    // not know the route: its answer names the limit here.
    let response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    response
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    // Nothing is cached unless its handler says it may be (the stylesheet, the published
    // keys, the CA's files): staff pages, exports, scans and the API carry personal data
    // or staff-only content, and a route added later is safe by default.
    set(h, "cache-control", "no-store");
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    response
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers within a second with the schema this binary expects:
/// a load balancer must not wait on the pool's own, longer timeout.
async fn readyz(State(state): State<AppState>) -> Response {
    let check = async {
        match state.db.ping().await {
            Err(e) => Err(format!("basis data tidak terjangkau: {e}")),
            Ok(()) => match state.db.schema_state().await {
                Ok(s) if s.is_current() => Ok(()),
                Ok(s) => Err(format!("skema basis data versi {} sedangkan program versi {}", s.applied, s.known)),
                Err(e) => Err(e.to_string()),
            },
        }
    };
    let ready = tokio::time::timeout(std::time::Duration::from_millis(900), check)
        .await
        .unwrap_or_else(|_| Err("basis data tidak menjawab dalam 1 detik".into()));
    match ready {
        Ok(()) => (StatusCode::OK, axum::Json(serde_json::json!({ "status": "siap" }))).into_response(),
        Err(reason) => {
            tracing::warn!(reason, "belum siap");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "belum siap", "alasan": reason })),
            )
                .into_response()
        }
    }
}

/// Whether this request may read the metrics: the configured token, or, without one, a
/// direct request from this machine (a proxy on it would otherwise pass the world on).
fn may_read_metrics(state: &AppState, peer: Option<SocketAddr>, headers: &axum::http::HeaderMap) -> bool {
    let token = state.config.metrics_token.expose();
    if !token.is_empty() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        return auth::tokens_equal(token, given);
    }
    let proxied = headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded");
    // Without a peer the router is driven in-process (tests): there is no network.
    !proxied && peer.is_none_or(|p| p.ip().is_loopback())
}

async fn metrics_endpoint(State(state): State<AppState>, auth::PeerAddr(peer): auth::PeerAddr, headers: axum::http::HeaderMap) -> Response {
    if !may_read_metrics(&state, peer, &headers) {
        return PageError(Failure::NotFound).into_response();
    }
    let pool = &state.db.pool;
    let text = state
        .metrics
        .render(pool.size(), pool.num_idle(), state.config.database_max_connections);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The SMTP and TSA settings are checked where their workers are built (the
    // configuration knows neither protocol): a bad one stops the start, before the
    // first request, as any other bad setting does.
    let refused = |setting: &str, e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{setting}: {e}"));
    let outbox = crate::distribution::mail::Outbox::from_config(&state.db, &state.config.mail, &state.config.base_url)
        .map_err(|e| refused("mail.smtp_url / mail.from", e))?;
    let augmenter = crate::workflow::longterm::Augmenter::from_config(&state.db, &state.keys, &state.config.timestamp)
        .map_err(|e| refused("timestamp.url", e))?;
    // The e-mail sender runs beside the pages while an SMTP server is configured.
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    match outbox {
        Some(outbox) => {
            tokio::spawn(outbox.run(std::time::Duration::from_secs(2), stop));
        }
        None => tracing::info!("mail.smtp_url kosong: surel menunggu di kotak keluar"),
    }
    // On PostgreSQL the public records' cache hears every change of a signed letter
    // (on any node) and serves without reading the letter meanwhile.
    tokio::spawn(crate::verification::follow_changes(
        state.db.clone(),
        state.public_records.clone(),
        stop_sender.subscribe(),
    ));
    // Reminders of what waits on each person, planned and sent every half minute.
    if let Some(sender) = crate::notifications::sender::ReminderSender::from_config(&state.db, &state.config.mail)
        .map_err(|e| refused("mail.smtp_url / mail.from", e))?
    {
        tokio::spawn(crate::notifications::sender::run(
            state.workflow(),
            sender,
            state.config.base_url.clone(),
            state.config.mail.digest_minutes * 60,
            std::time::Duration::from_secs(30),
            stop_sender.subscribe(),
        ));
    }
    // Timestamps and validation data for signed letters, while a TSA is configured;
    // the authorities' CRLs always.
    match augmenter {
        Some(augmenter) => {
            tokio::spawn(augmenter.run(std::time::Duration::from_secs(2), stop_sender.subscribe()));
        }
        None => tracing::info!("timestamp.url kosong: tanda tangan PDF tetap PAdES B-B"),
    }
    tokio::spawn(crate::keys::revocation::run(
        state.db.clone(),
        state.keys.clone(),
        std::time::Duration::from_secs(60),
        stop_sender.subscribe(),
    ));
    let limits = state.config.http.clone();
    let served = server::run(router(state), listener, &limits, shutdown).await;
    let _ = stop_sender.send(true);
    served
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("sinyal berhenti diterima; menyelesaikan permintaan yang sedang berjalan");
}
