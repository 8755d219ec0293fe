//! The WebDriver client: chromedriver started and stopped, one browser session per
//! test on a fresh profile, the few commands the flows use.

use std::{
    fs::File,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support;

/// Phone width: the narrowest common handset (many cheap phones are 360 px wide).
pub(super) const WIDTH: u32 = 360;
pub(super) const HEIGHT: u32 = 844;
pub(super) const POLL: Duration = Duration::from_millis(100);
pub(super) const WAIT: Duration = Duration::from_secs(15);
pub(super) const DRIVER_READY: Duration = Duration::from_secs(20);
/// The key W3C WebDriver uses for element references.
pub(super) const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

#[derive(Clone)]
pub(super) struct Browser {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

/// The browser to use, or `None` (with a notice) when it is missing outside CI.
pub(super) fn find_browser() -> Option<Browser> {
    let pick = |var: &str, default: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(default))
    };
    let browser = Browser {
        chromedriver: pick("NASKAH_CHROMEDRIVER", "/usr/bin/chromedriver"),
        chromium: pick("NASKAH_CHROMIUM", "/usr/bin/chromium"),
    };
    let missing: Vec<String> = [
        ("NASKAH_CHROMEDRIVER", &browser.chromedriver),
        ("NASKAH_CHROMIUM", &browser.chromium),
    ]
    .iter()
    .filter(|(_, path)| !path.is_file())
    .map(|(var, path)| format!("{} (set {var})", path.display()))
    .collect();
    if missing.is_empty() {
        return Some(browser);
    }
    let missing = missing.join(", ");
    assert!(
        !support::in_ci(),
        "CI=true but the browser for the browser tests is missing: {missing}. Install it (Debian: apt-get install chromium chromium-driver)"
    );
    eprintln!("browser tests skipped: not found: {missing}. Install chromium and chromium-driver to run them.");
    None
}

pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(super) fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

pub(super) fn head(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The chromedriver process, killed when dropped.
pub(super) struct Driver {
    child: Child,
    client: Client,
    log: PathBuf,
}

impl Driver {
    pub(super) fn start(browser: &Browser, dir: &Path) -> Driver {
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let out = File::create(&log).unwrap();
        let child = Command::new(&browser.chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.chromedriver.display()));
        let mut driver = Driver {
            child,
            client: Client::new(format!("http://127.0.0.1:{port}")),
            log,
        };
        driver.wait_ready();
        driver
    }

    pub(super) fn log_tail(&self) -> String {
        std::fs::read_to_string(&self.log)
            .map(|s| tail(&s, 2000).to_string())
            .unwrap_or_default()
    }

    pub(super) fn wait_ready(&mut self) {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < DRIVER_READY {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited early with {status}; its output:\n{}", self.log_tail());
            }
            match self.client.request("GET", "/status", None) {
                Ok(value) if value["ready"] == json!(true) => return,
                Ok(value) => last = value.to_string(),
                Err(e) => last = e,
            }
            std::thread::sleep(POLL);
        }
        panic!(
            "chromedriver not ready after {DRIVER_READY:?}; last answer: {last}; its output:\n{}",
            self.log_tail()
        );
    }

    pub(super) fn new_session(&self, browser: &Browser, profile: &Path) -> Session {
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            // Loopback only: an HTTP proxy from the environment must not be consulted.
            "--no-proxy-server".into(),
            format!("--window-size={WIDTH},{HEIGHT}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": {
                        "binary": browser.chromium,
                        "args": args,
                        // Headless windows are at least 500 px wide whatever --window-size
                        // says; the phone's viewport comes from device emulation.
                        "mobileEmulation": {
                            "deviceMetrics": { "width": WIDTH, "height": HEIGHT, "pixelRatio": 2.0, "mobile": true, "touch": true }
                        },
                    },
                }
            }
        });
        let value = self
            .client
            .request("POST", "/session", Some(capabilities))
            .unwrap_or_else(|e| panic!("cannot create a WebDriver session: {e}; chromedriver output:\n{}", self.log_tail()));
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {value}"))
            .to_string();
        Session {
            client: self.client.clone(),
            id,
            shots: Vec::new(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raw WebDriver calls: JSON in, the answer's `value` out, errors as text.
#[derive(Clone)]
pub(super) struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub(super) fn new(base: String) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(60)))
            .build();
        Client {
            base,
            agent: ureq::Agent::new_with_config(config),
        }
    }

    pub(super) fn request(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{}", self.base, path);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            ("POST", body) => self.agent.post(&url).send_json(body.unwrap_or_else(|| json!({}))),
            (other, _) => unreachable!("method {other}"),
        };
        let mut response = response.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("{method} {path}: reading the answer: {e}"))?;
        let parsed: Value =
            serde_json::from_str(&text).map_err(|e| format!("{method} {path}: HTTP {status}, not JSON ({e}): {}", head(&text, 500)))?;
        let value = parsed.get("value").cloned().unwrap_or(Value::Null);
        if !status.is_success() || value.get("error").is_some_and(Value::is_string) {
            return Err(format!(
                "{method} {path}: HTTP {status}: {}: {}",
                value["error"].as_str().unwrap_or("?"),
                head(value["message"].as_str().unwrap_or(&text), 500)
            ));
        }
        Ok(value)
    }
}

/// One browser session, deleted (closing the browser) when dropped.
pub(super) struct Session {
    client: Client,
    id: String,
    pub(super) shots: Vec<PathBuf>,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.client.request("DELETE", &format!("/session/{}", self.id), None);
    }
}

impl Session {
    pub(super) fn try_cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.client.request(method, &format!("/session/{}{}", self.id, path), body)
    }

    pub(super) fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver: {e}\n{}", self.context()))
    }

    /// The current address and the start of the page, for failure messages.
    pub(super) fn context(&self) -> String {
        let url = self
            .try_cmd("GET", "/url", None)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_else(|| "?".into());
        let text = self
            .try_script("return document.body ? document.body.innerText : ''")
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let source = self
            .try_cmd("GET", "/source", None)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        format!(
            "current URL: {url}\npage text:\n{}\npage source (start):\n{}",
            head(&text, 1500),
            head(&source, 3000)
        )
    }

    pub(super) fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    pub(super) fn path(&self) -> Result<String, String> {
        let url = self.try_cmd("GET", "/url", None)?;
        let url = url.as_str().ok_or("no URL")?;
        Ok(url::Url::parse(url).map_err(|e| e.to_string())?.path().to_string())
    }

    pub(super) fn title(&self) -> String {
        self.cmd("GET", "/title", None).as_str().unwrap_or_default().to_string()
    }

    pub(super) fn try_script(&self, script: &str) -> Result<Value, String> {
        self.try_cmd("POST", "/execute/sync", Some(json!({ "script": script, "args": [] })))
    }

    pub(super) fn script(&self, script: &str) -> Value {
        self.try_script(script)
            .unwrap_or_else(|e| panic!("script {script:?} failed: {e}\n{}", self.context()))
    }

    pub(super) fn try_find(&self, css: &str) -> Result<String, String> {
        let found = self.try_cmd("POST", "/element", Some(json!({ "using": "css selector", "value": css })))?;
        found[ELEMENT_KEY]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("no element reference in {found}"))
    }

    pub(super) fn find(&self, css: &str) -> String {
        self.try_find(css)
            .unwrap_or_else(|e| panic!("element {css:?} not found: {e}\n{}", self.context()))
    }

    pub(super) fn try_text(&self, css: &str) -> Result<String, String> {
        let element = self.try_find(css)?;
        Ok(self
            .try_cmd("GET", &format!("/element/{element}/text"), None)?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub(super) fn text(&self, css: &str) -> String {
        self.try_text(css)
            .unwrap_or_else(|e| panic!("text of {css:?}: {e}\n{}", self.context()))
    }

    pub(super) fn body_text(&self) -> String {
        self.script("return document.body.innerText")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub(super) fn value(&self, css: &str) -> String {
        let element = self.find(css);
        self.cmd("GET", &format!("/element/{element}/property/value"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub(super) fn fill(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.cmd("POST", &format!("/element/{element}/clear"), None);
        self.cmd("POST", &format!("/element/{element}/value"), Some(json!({ "text": text })));
    }

    /// Unfolds the phone menu (one tap on "Menu"), as a person does before choosing.
    pub(super) fn open_menu(&self) {
        let folded = self.script(
            "const b = document.querySelector('.menu-toggle'); \
             return !!b && !b.hidden && b.getAttribute('aria-expanded') !== 'true';",
        );
        if folded == json!(true) {
            self.click(".menu-toggle");
            self.wait_for("the menu unfolded", |s| {
                Ok(s.try_script("return document.querySelector('.menu-toggle').getAttribute('aria-expanded')")? == json!("true"))
            });
        }
    }

    pub(super) fn click(&self, css: &str) {
        let element = self.find(css);
        self.cmd("POST", &format!("/element/{element}/click"), None);
    }

    /// Polls `check` every 100 ms until it holds; after 15 s fails with the page attached.
    /// Errors count as "not yet": during a navigation elements come and go.
    pub(super) fn wait_for(&self, what: &str, check: impl Fn(&Session) -> Result<bool, String>) {
        let started = Instant::now();
        let mut last = String::new();
        loop {
            match check(self) {
                Ok(true) => return,
                Ok(false) => last.clear(),
                Err(e) => last = e,
            }
            if started.elapsed() > WAIT {
                let last = if last.is_empty() {
                    String::new()
                } else {
                    format!(" (last error: {last})")
                };
                panic!("waited {WAIT:?} for {what}{last}\n{}", self.context());
            }
            std::thread::sleep(POLL);
        }
    }

    pub(super) fn wait_for_page(&self, path: &str, heading: &str) {
        self.wait_for(&format!("the page {path} with the heading {heading:?}"), |s| {
            Ok(s.path()? == path && s.try_text("h1")? == heading)
        });
    }

    /// The page fits the phone's width: nothing to scroll sideways.
    pub(super) fn assert_no_horizontal_scroll(&self, page: &str) {
        // A page wider than the phone widens the layout viewport itself (innerWidth grows),
        // so the width is asserted as well as the absence of sideways scroll.
        let viewport = self.script("return window.innerWidth");
        let fits = self.script("return document.documentElement.scrollWidth <= window.innerWidth");
        if viewport != json!(WIDTH) || fits != json!(true) {
            let detail = self.script(&format!(
                "const w = {WIDTH}; \
                 const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 0.5) \
                   .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') \
                   + ' right=' + Math.round(e.getBoundingClientRect().right)); \
                 return 'scrollWidth=' + document.documentElement.scrollWidth + '; too wide: ' + wide.join(', ')"
            ));
            panic!(
                "{page} does not fit {WIDTH} px (innerWidth {viewport}): {}",
                detail.as_str().unwrap_or_default()
            );
        }
    }

    /// Saves what the browser shows to `$CARGO_TARGET_TMPDIR/<name>.png`, and, when the
    /// page is taller than the screen, the whole page to `<name>-full.png`.
    pub(super) fn screenshot(&mut self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&dir).unwrap();
        let save = |file: String, png: &Value| {
            let png = base64::engine::general_purpose::STANDARD
                .decode(png.as_str().unwrap_or_default())
                .expect("screenshot is base64");
            assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
            let path = dir.join(file);
            std::fs::write(&path, png).unwrap();
            path
        };
        let png = self.cmd("GET", "/screenshot", None);
        self.shots.push(save(format!("{name}.png"), &png));
        let height = self.script("return document.documentElement.scrollHeight").as_u64().unwrap_or(0);
        if height > u64::from(HEIGHT) {
            // Chromium's own command; only for people looking at the pictures, so best effort.
            let params = json!({ "cmd": "Page.captureScreenshot", "params": { "format": "png", "captureBeyondViewport": true } });
            match self.try_cmd("POST", "/goog/cdp/execute", Some(params)) {
                Ok(full) => self.shots.push(save(format!("{name}-full.png"), &full["data"])),
                Err(e) => eprintln!("no full-page screenshot of {name}: {e}"),
            }
        }
    }

    pub(super) fn log_in(&self, app: &support::App, username: &str, password: &str) {
        self.goto(&app.url("/masuk"));
        self.wait_for_page("/masuk", "Masuk ke naskah");
        self.fill("#f-username", username);
        self.fill("#f-password", password);
        let submit = "form[action=\"/masuk\"] button[type=\"submit\"]";
        assert_eq!(self.text(submit), "Masuk", "the login button");
        self.click(submit);
    }
}

/// A chromedriver with one session on a fresh profile. Drop the session, then the
/// driver, then the folder.
pub(super) fn open_session(browser: &Browser) -> (Session, Driver, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let driver = Driver::start(browser, dir.path());
    let profile = tempfile::tempdir_in(dir.path()).unwrap();
    let s = driver.new_session(browser, profile.path());
    s.cmd(
        "POST",
        "/timeouts",
        Some(json!({ "pageLoad": 20_000, "script": 5_000, "implicit": 0 })),
    );
    (s, driver, dir)
}

/// Runs a blocking browser flow while the app keeps serving on the runtime's workers;
/// a panic in the flow is the test's panic.
pub(super) async fn run_flow<T: Send + 'static>(flow: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(flow).await {
        Ok(value) => value,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("browser flow did not finish: {e}"),
        },
    }
}
