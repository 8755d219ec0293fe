//! Shared test harness: fresh databases on each backend, the demo department, and the
//! real application served on a free loopback port.

#![allow(dead_code)]

use std::net::SocketAddr;

use naskah::{
    config::Config,
    db::Db,
    demo,
    web::{self, AppState},
};

pub const DEMO_PASSWORD: &str = "kata-sandi-uji-1";
/// The signing passphrase of the demo officials' keys in tests.
pub const DEMO_PASSPHRASE: &str = "frasa sandi uji demo";
/// The master key every test service shares: processes over one database need the same.
pub const TEST_MASTER_KEY: &str = "5e1f0c7a2b9d4e6f8a1c3b5d7e9f0a2c4b6d8e0f1a3c5b7d9e1f2a4c6b8d0e2f";

/// The key store over `db` with the tests' master key.
pub fn test_store(db: &Db) -> naskah::keys::KeyStore {
    naskah::keys::KeyStore::new(db.clone(), naskah::keys::MasterKey::parse(TEST_MASTER_KEY).unwrap())
}

/// A date `days` after today (UTC) as `YYYY-MM-DD`: a deadline that is not yet past
/// whenever the tests run (signing a letter with a past deadline asks for confirmation).
pub fn days_from_today(days: u64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// True when running under CI, where a missing service is a failure, never a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A database created for one test; SQLite files vanish with the temp dir, PostgreSQL
/// databases are dropped when the test finishes.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    cleanup: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.cleanup.take() {
            // Dropping needs its own runtime: the test's may already be gone.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(admin) = Db::connect(&admin_url, 1).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                            .execute(&admin.pool)
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Argon2 at its smallest cost for everything this test process hashes or seals: the
/// tests create hundreds of accounts and keys, and the cost is not what they test.
pub fn test_cost() {
    naskah::accounts::password::use_test_cost();
}

pub async fn sqlite() -> TestDb {
    test_cost();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("naskah.sqlite3").display());
    let db = Db::open(&url, 5).await.unwrap();
    TestDb {
        db,
        url,
        label: "sqlite",
        _dir: Some(dir),
        cleanup: None,
    }
}

/// The PostgreSQL server named by `NASKAH_TEST_POSTGRES_URL`, if any. Under CI its
/// absence fails the test.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("NASKAH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !in_ci(),
                "CI=true but NASKAH_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run in CI"
            );
            eprintln!("NASKAH_TEST_POSTGRES_URL not set: skipping the PostgreSQL run");
            None
        }
    }
}

/// A fresh, empty PostgreSQL database: its URL and the guard that drops it.
pub async fn postgres_empty() -> Option<(String, TestDb)> {
    test_cost();
    let admin_url = postgres_admin_url()?;
    let admin = Db::connect(&admin_url, 1)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at NASKAH_TEST_POSTGRES_URL unreachable: {e}"));
    let name = format!(
        "naskah_test_{}",
        &naskah::accounts::random_token().to_lowercase().replace(['-', '_'], "")[..16]
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin.pool)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let guard = TestDb {
        db: admin,
        url: url.to_string(),
        label: "postgres",
        _dir: None,
        cleanup: Some((admin_url, name)),
    };
    Some((url.to_string(), guard))
}

pub async fn postgres() -> Option<TestDb> {
    let (url, mut guard) = postgres_empty().await?;
    guard.db.pool.close().await;
    guard.db = Db::open(&url, 5).await.unwrap();
    Some(guard)
}

/// A storage story told once per engine, each its own test (`NAME::sqlite` and
/// `NAME::postgres`), so a failure on one engine never hides the other half. The
/// PostgreSQL test is skipped without a server, except under CI (see
/// [`postgres_admin_url`]).
macro_rules! story {
    ($(#[$attr:meta])* async fn $name:ident($db:ident: $ty:ty) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn story($db: $ty) $body

            $(#[$attr])*
            async fn sqlite() {
                story($crate::support::sqlite().await).await
            }

            $(#[$attr])*
            async fn postgres() {
                if let Some(test_db) = $crate::support::postgres().await {
                    story(test_db).await
                }
            }
        }
    };
}

/// The test configuration; keys go to a folder of their own under the system's temp
/// folder, never to the repository's `keys/`.
pub fn test_config() -> Config {
    test_cost();
    let keys_dir = std::env::temp_dir().join(format!("naskah-test-keys-{}", naskah::accounts::random_token()));
    Config {
        max_body_bytes: 64 * 1024,
        keys_dir,
        master_key: naskah::config::Secret::new(TEST_MASTER_KEY),
        ..Config::default()
    }
}

/// The demo department seeded with a known password, and the app state over it.
pub async fn demo_state(test_db: &TestDb) -> AppState {
    demo::seed(&test_db.db, Some(DEMO_PASSWORD)).await.unwrap();
    let state = AppState::new(test_db.db.clone(), test_config()).unwrap();
    demo::seed_keys(&test_db.db, &state.keys, Some(DEMO_PASSPHRASE)).await.unwrap();
    state
}

/// The real application on a free loopback port, stopped when dropped.
pub struct App {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn_app(state: AppState) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        web::serve(state, listener, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    App { addr, stop: Some(stop) }
}

/// A cookie-keeping client that drives the router directly (no socket).
pub struct Client {
    pub router: axum::Router,
    pub cookies: std::collections::BTreeMap<String, String>,
    pub bearer: Option<String>,
}

pub struct Reply {
    pub status: axum::http::StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent, for binary answers.
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf field in page: {}", self.body))
            + marker.len();
        self.body[start..].split('"').next().unwrap().to_string()
    }
}

pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

impl Client {
    pub fn new(state: &AppState) -> Self {
        Client {
            router: web::router(state.clone()),
            cookies: Default::default(),
            bearer: None,
        }
    }

    pub async fn send(&mut self, method: &str, path: &str, content_type: Option<&str>, body: Vec<u8>, extra: &[(&str, &str)]) -> Reply {
        use tower::ServiceExt;
        let mut builder = axum::http::Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            builder = builder.header("cookie", jar.join("; "));
        }
        if let Some(token) = &self.bearer {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        for (k, v) in extra {
            builder = builder.header(*k, *v);
        }
        let request = builder.body(axum::body::Body::from(body)).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, None, Vec::new(), &[]).await
    }

    pub async fn post_form(&mut self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        self.send(
            "POST",
            path,
            Some("application/x-www-form-urlencoded"),
            encode_form(pairs).into_bytes(),
            &[],
        )
        .await
    }

    pub async fn json(&mut self, method: &str, path: &str, body: serde_json::Value) -> Reply {
        self.send(method, path, Some("application/json"), body.to_string().into_bytes(), &[])
            .await
    }

    /// Logs in through the real login form; returns the reply to the POST.
    pub async fn login(&mut self, username: &str, password: &str) -> Reply {
        let page = self.get("/masuk").await;
        let csrf = page.csrf();
        self.post_form("/masuk", &[("csrf", &csrf), ("username", username), ("password", password)])
            .await
    }

    /// The CSRF token of a page that needs a session.
    pub async fn csrf_of(&mut self, path: &str) -> String {
        self.get(path).await.csrf()
    }
}

/// A logged-in page client for one of the demo accounts.
pub async fn logged_in(state: &AppState, username: &str) -> Client {
    let mut client = Client::new(state);
    let reply = client.login(username, DEMO_PASSWORD).await;
    assert_eq!(
        reply.status,
        axum::http::StatusCode::SEE_OTHER,
        "login as {username} failed: {}",
        reply.body
    );
    client
}

/// An API client holding a bearer token of one of the demo accounts.
pub async fn api_client(state: &AppState, username: &str) -> Client {
    let user = naskah::accounts::find_by_username(&state.db, username).await.unwrap().unwrap();
    let token = naskah::accounts::create_token(&state.db, &user, "uji").await.unwrap();
    let mut client = Client::new(state);
    client.bearer = Some(token.secret);
    client
}

/// Runs every future on a task of its own and releases them together at one barrier, so
/// on a multi-thread runtime they truly overlap; the answers come back in order.
pub async fn at_once<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(futures.len()));
    let tasks: Vec<_> = futures
        .into_iter()
        .map(|future| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                future.await
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("a concurrent task panicked"));
    }
    answers
}

/// Every signed letter on the distribution dashboard (of one batch, when given), completed
/// ones included, with the SOP's default time.
pub fn all_of(batch_id: Option<i64>) -> naskah::distribution::progress::ProgressQuery {
    naskah::distribution::progress::ProgressQuery {
        batch_id,
        include_complete: true,
        days: Vec::new(),
    }
}

/// The department's candidate figures, kept by every write, are those counted now.
pub async fn assert_candidate_counts_kept(db: &Db, label: &str) {
    let kept = naskah::beneficiaries::candidates::counts(db, 1).await.unwrap();
    let counted: Vec<(String, i64)> = sqlx::query_as("SELECT status, COUNT(*) FROM candidates WHERE department_id = 1 GROUP BY status")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    for (status, n) in &kept {
        let truth = counted.iter().find(|(s, _)| s == status.key()).map_or(0, |(_, c)| *c);
        assert_eq!(*n, truth, "{label}: {status:?}");
    }
}
