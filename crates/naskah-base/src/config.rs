//! Layered configuration: built-in defaults → `naskah.toml` → `NASKAH_*` environment variables.

use std::{fmt, net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};

/// The effective configuration of one service process.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Public address used in links and QR codes, without a trailing slash.
    pub base_url: String,
    /// `sqlite://...` or `postgres://...`; empty means a SQLite file under `data_dir`.
    pub database_url: Secret,
    /// Folder for the default SQLite database and other local state.
    pub data_dir: PathBuf,
    /// Folder of files the key store reads once: `naskah keys migrate` moves an older
    /// store's key files from here into the database; a single node without a
    /// `master_key` keeps its generated master key here (`kunci-induk.rahasia`).
    pub keys_dir: PathBuf,
    /// The deployment's master key (32 bytes as 64 hex digits, or base64), under which the
    /// database keeps the secrets the service uses without a person present (the QR-token
    /// key, the CA key, the BSrE client password). Every node behind one database needs
    /// the same; keep a copy apart from the database's backups. Empty on a single node:
    /// one is generated into `keys_dir`.
    pub master_key: Secret,
    /// Folder of the letter templates (one folder per template, plus `_shared` and `fonts`).
    pub templates_dir: PathBuf,
    /// Documents compiled at the same time (each compile may use several cores).
    pub render_concurrency: usize,
    /// Largest accepted request body in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Maximum number of database connections in the pool.
    pub database_max_connections: u32,
    pub log: LogConfig,
    pub session: SessionConfig,
    pub login_throttle: ThrottleConfig,
    /// Requests per minute one address may make to the public verification pages
    /// (0: no limit).
    pub public_rate_per_minute: u32,
    /// How many service processes share this database behind one load balancer. Limits
    /// kept in a process (the public pages' rate per address) take their share of the
    /// configured figure, so the deployment as a whole allows what is configured.
    pub nodes: u32,
    pub mail: MailConfig,
    pub timestamp: TimestampConfig,
    pub http: HttpConfig,
    /// `/metrics` answers a request with `Authorization: Bearer <this>` from anywhere;
    /// empty: only a direct request from this machine (not through a proxy).
    pub metrics_token: Secret,
}

/// What one connection may take of the service: a client that is slow on purpose (or
/// silent) is closed, and the number of connections is bounded.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// A request's headers must arrive within this long; a connection waiting for its
    /// next request is closed after it too.
    pub header_timeout_seconds: u64,
    /// One request, its body included, may take this long (an upload from a village on
    /// a slow line included); then 408.
    pub request_timeout_seconds: u64,
    /// Connections at the same time; more are refused until one closes.
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            header_timeout_seconds: 10,
            request_timeout_seconds: 300,
            max_connections: 1024,
        }
    }
}

/// The timestamp authority (RFC 3161) whose timestamps make signatures long-term
/// (PAdES B-T and beyond).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimestampConfig {
    /// `http[s]://[user:password@]host/path` of the TSA; credentials, if any, go as HTTP
    /// Basic. Empty: no timestamps, signatures stay PAdES B-B.
    pub url: Secret,
    /// One request may take this long.
    pub timeout_seconds: u64,
    /// The first retry after a failure waits this long; each next one twice as long,
    /// up to an hour. A TSA that is down never blocks a signature, it only delays its
    /// timestamp.
    pub retry_base_seconds: i64,
}

impl Default for TimestampConfig {
    fn default() -> Self {
        Self {
            url: Secret::default(),
            timeout_seconds: 15,
            retry_base_seconds: 60,
        }
    }
}

/// Outgoing e-mail for the distribution of signed letters.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtp://[user:password@]host[:port]` (STARTTLS when the server offers it),
    /// `smtps://…` (TLS from the start) or `smtp+plain://…` (no TLS: a local relay or a
    /// test server). Empty: no e-mail is sent, e-mail deliveries wait in the outbox.
    pub smtp_url: Secret,
    /// The sender, e.g. `Disnaker PPU <naskah@disnaker.penajamkab.go.id>`.
    pub from: String,
    /// The first retry after a failure waits this long; each next one twice as long,
    /// up to an hour.
    pub retry_base_seconds: i64,
    /// After this many failed attempts the delivery is marked failed (re-sendable).
    pub max_attempts: i64,
    /// Reminders: a person receives at most one digest of new work per this many
    /// minutes (a step that passes its standard time is reminded of at once).
    pub digest_minutes: i64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: Secret::default(),
            from: "Naskah Dinas <naskah@localhost>".into(),
            retry_base_seconds: 60,
            max_attempts: 8,
            digest_minutes: 60,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `naskah=debug,info`.
    pub level: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session unused for this many minutes ends.
    pub idle_minutes: i64,
    /// A session ends this many hours after login regardless of use.
    pub absolute_hours: i64,
    /// Mark cookies `Secure` (set when the service is reached over TLS).
    pub secure_cookies: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleConfig {
    /// Failed logins for one account within the window before it is locked.
    pub per_account: i64,
    /// Failed logins from one address within the window before it is locked.
    pub per_address: i64,
    /// Length of the window and of the lock, in minutes.
    pub window_minutes: i64,
    /// Take the client address from the last `X-Forwarded-For` hop (behind a reverse proxy).
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: "http://127.0.0.1:8080".into(),
            database_url: Secret::default(),
            data_dir: PathBuf::from("data"),
            keys_dir: PathBuf::from("keys"),
            master_key: Secret::default(),
            templates_dir: PathBuf::from("letter_templates"),
            render_concurrency: 2,
            max_body_bytes: 10 * 1024 * 1024,
            database_max_connections: 10,
            log: LogConfig::default(),
            session: SessionConfig::default(),
            login_throttle: ThrottleConfig::default(),
            public_rate_per_minute: 300,
            nodes: 1,
            mail: MailConfig::default(),
            timestamp: TimestampConfig::default(),
            http: HttpConfig::default(),
            metrics_token: Secret::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_minutes: 30,
            absolute_hours: 12,
            secure_cookies: false,
        }
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 20,
            window_minutes: 15,
            trust_forwarded_for: false,
        }
    }
}

/// A value that must never appear in logs or printed configuration.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("berkas konfigurasi {path} tidak dapat dibaca: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("berkas konfigurasi {path} tidak valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("variabel lingkungan {name} tidak valid: {message}")]
    Env { name: String, message: String },
    #[error("konfigurasi tidak valid: {0}")]
    Invalid(String),
}

impl Config {
    /// This process's share of the public pages' rate per address: the configured rate
    /// divided among the nodes, rounded up (0 stays "no limit").
    pub fn public_rate_per_node(&self) -> u32 {
        match self.public_rate_per_minute {
            0 => 0,
            rate => rate.div_ceil(self.nodes.max(1)),
        }
    }

    /// Loads the configuration: defaults, then the file (the given one, which must exist,
    /// or `naskah.toml` in the working folder if present), then the environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &vars)
    }

    pub fn load_from(file: Option<&std::path::Path>, vars: &[(String, String)]) -> Result<Self, ConfigError> {
        let explicit = file.map(PathBuf::from).or_else(|| lookup(vars, "NASKAH_CONFIG").map(PathBuf::from));
        let path = explicit.clone().unwrap_or_else(|| PathBuf::from("naskah.toml"));
        let mut config = if explicit.is_some() || path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            Self::parse_toml(&text).map_err(|message| ConfigError::Parse { path, message })?
        } else {
            Config::default()
        };
        config.apply_env(vars)?;
        config.validate()?;
        Ok(config)
    }

    pub fn parse_toml(text: &str) -> Result<Self, String> {
        toml::from_str::<Config>(text).map_err(|e| {
            // toml's message names the key and line; keep it on one line for logs.
            e.to_string().replace('\n', " ").split_whitespace().collect::<Vec<_>>().join(" ")
        })
    }

    fn apply_env(&mut self, vars: &[(String, String)]) -> Result<(), ConfigError> {
        for (name, value) in vars {
            let Some(key) = name.strip_prefix("NASKAH_") else { continue };
            let bad = |message: String| ConfigError::Env {
                name: name.clone(),
                message,
            };
            match key {
                "LISTEN" => self.listen = value.parse().map_err(|_| bad(format!("alamat '{value}' bukan HOST:PORT")))?,
                "BASE_URL" => self.base_url = value.trim_end_matches('/').to_string(),
                "DATABASE_URL" => self.database_url = Secret::new(value.clone()),
                "DATA_DIR" => self.data_dir = PathBuf::from(value),
                "KEYS_DIR" => self.keys_dir = PathBuf::from(value),
                "MASTER_KEY" => self.master_key = Secret::new(value.clone()),
                "TEMPLATES_DIR" => self.templates_dir = PathBuf::from(value),
                "RENDER_CONCURRENCY" => self.render_concurrency = parse_number(value).map_err(bad)?,
                "MAX_BODY_BYTES" => self.max_body_bytes = parse_number(value).map_err(bad)?,
                "PUBLIC_RATE_PER_MINUTE" => self.public_rate_per_minute = parse_number(value).map_err(bad)?,
                "NODES" => self.nodes = parse_number(value).map_err(bad)?,
                "DATABASE_MAX_CONNECTIONS" => self.database_max_connections = parse_number(value).map_err(bad)?,
                "HTTP_HEADER_TIMEOUT_SECONDS" => self.http.header_timeout_seconds = parse_number(value).map_err(bad)?,
                "HTTP_REQUEST_TIMEOUT_SECONDS" => self.http.request_timeout_seconds = parse_number(value).map_err(bad)?,
                "HTTP_MAX_CONNECTIONS" => self.http.max_connections = parse_number(value).map_err(bad)?,
                "METRICS_TOKEN" => self.metrics_token = Secret::new(value.clone()),
                "LOG_FORMAT" => {
                    self.log.format = match value.as_str() {
                        "text" => LogFormat::Text,
                        "json" => LogFormat::Json,
                        _ => return Err(bad("harus 'text' atau 'json'".into())),
                    }
                }
                "LOG_LEVEL" => self.log.level = value.clone(),
                "SMTP_URL" => self.mail.smtp_url = Secret::new(value.clone()),
                "MAIL_FROM" => self.mail.from = value.clone(),
                "MAIL_RETRY_BASE_SECONDS" => self.mail.retry_base_seconds = parse_number(value).map_err(bad)?,
                "MAIL_DIGEST_MINUTES" => self.mail.digest_minutes = parse_number(value).map_err(bad)?,
                "MAIL_MAX_ATTEMPTS" => self.mail.max_attempts = parse_number(value).map_err(bad)?,
                "TSA_URL" => self.timestamp.url = Secret::new(value.clone()),
                "TSA_TIMEOUT_SECONDS" => self.timestamp.timeout_seconds = parse_number(value).map_err(bad)?,
                "TSA_RETRY_BASE_SECONDS" => self.timestamp.retry_base_seconds = parse_number(value).map_err(bad)?,
                "SESSION_IDLE_MINUTES" => self.session.idle_minutes = parse_number(value).map_err(bad)?,
                "SESSION_ABSOLUTE_HOURS" => self.session.absolute_hours = parse_number(value).map_err(bad)?,
                "SECURE_COOKIES" => self.session.secure_cookies = parse_bool(value).map_err(bad)?,
                "TRUST_FORWARDED_FOR" => self.login_throttle.trust_forwarded_for = parse_bool(value).map_err(bad)?,
                // Variables read elsewhere (tests, demo, the config file path).
                _ => {}
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.session.idle_minutes <= 0 || self.session.absolute_hours <= 0 {
            return Err(ConfigError::Invalid(
                "session.idle_minutes dan session.absolute_hours harus lebih dari 0".into(),
            ));
        }
        if self.http.header_timeout_seconds == 0 || self.http.request_timeout_seconds == 0 || self.http.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "http.header_timeout_seconds, http.request_timeout_seconds dan http.max_connections harus lebih dari 0".into(),
            ));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid("max_body_bytes minimal 1024".into()));
        }
        if self.render_concurrency == 0 {
            return Err(ConfigError::Invalid("render_concurrency minimal 1".into()));
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError::Invalid("database_max_connections minimal 1".into()));
        }
        if self.nodes == 0 {
            return Err(ConfigError::Invalid("nodes minimal 1".into()));
        }
        if self.nodes > 1 && self.master_key.is_empty() {
            return Err(ConfigError::Invalid(
                "nodes lebih dari 1 memerlukan master_key (NASKAH_MASTER_KEY) yang sama di setiap node".into(),
            ));
        }
        if self.mail.digest_minutes < 1 {
            return Err(ConfigError::Invalid("mail.digest_minutes minimal 1".into()));
        }
        if self.mail.retry_base_seconds < 1 || self.mail.max_attempts < 1 {
            return Err(ConfigError::Invalid(
                "mail.retry_base_seconds dan mail.max_attempts minimal 1".into(),
            ));
        }
        if self.timestamp.timeout_seconds == 0 || self.timestamp.retry_base_seconds < 1 {
            return Err(ConfigError::Invalid(
                "timestamp.timeout_seconds dan timestamp.retry_base_seconds minimal 1".into(),
            ));
        }
        if url::Url::parse(&self.base_url).is_err() {
            return Err(ConfigError::Invalid(format!("base_url '{}' bukan alamat URL", self.base_url)));
        }
        Ok(())
    }

    /// The database URL in force: the configured one, or the default SQLite file.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("naskah.sqlite3").display())
        } else {
            self.database_url.expose().to_string()
        }
    }

    /// The configuration as TOML, with passwords in URLs hidden.
    pub fn to_display_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = Secret::new(redact_url(&self.effective_database_url()));
        for secret in [&mut shown.master_key, &mut shown.metrics_token] {
            if !secret.is_empty() {
                *secret = Secret::new("***");
            }
        }
        if !shown.mail.smtp_url.is_empty() {
            shown.mail.smtp_url = Secret::new(redact_url(self.mail.smtp_url.expose()));
        }
        if !shown.timestamp.url.is_empty() {
            shown.timestamp.url = Secret::new(redact_url(self.timestamp.url.expose()));
        }
        toml::to_string_pretty(&shown).unwrap_or_default()
    }
}

/// Hides the password part of a URL (`postgres://user:***@host/db`).
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => raw.to_string(),
    }
}

fn lookup<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn parse_number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value.trim().parse().map_err(|_| format!("'{value}' bukan bilangan yang valid"))
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "ya" | "yes" | "on" => Ok(true),
        "0" | "false" | "tidak" | "no" | "off" => Ok(false),
        _ => Err(format!("'{value}' bukan nilai benar/salah (true/false)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("naskah.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\n[session]\nidle_minutes = 45\n").unwrap();
        let config = Config::load_from(Some(&file), &vars(&[("NASKAH_SESSION_IDLE_MINUTES", "10")])).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.session.idle_minutes, 10);
        assert_eq!(config.session.absolute_hours, 12);
    }

    #[test]
    fn malformed_file_names_the_key() {
        let err = Config::parse_toml("[session]\nidle_minutes = \"lama\"\n").unwrap_err();
        assert!(err.contains("idle_minutes"), "{err}");
        let err = Config::parse_toml("listn = \"x\"\n").unwrap_err();
        assert!(err.contains("listn"), "{err}");
    }

    #[test]
    fn bad_environment_value_names_the_variable() {
        let err = Config::load_from(None, &vars(&[("NASKAH_MAX_BODY_BYTES", "banyak")])).unwrap_err();
        assert!(err.to_string().contains("NASKAH_MAX_BODY_BYTES"));
    }

    #[test]
    fn the_public_rate_is_shared_among_the_nodes() {
        let master = (
            "NASKAH_MASTER_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        );
        let config = Config::load_from(
            None,
            &vars(&[("NASKAH_PUBLIC_RATE_PER_MINUTE", "300"), ("NASKAH_NODES", "3"), master]),
        )
        .unwrap();
        assert_eq!(config.public_rate_per_node(), 100);
        let config = Config::load_from(
            None,
            &vars(&[("NASKAH_PUBLIC_RATE_PER_MINUTE", "10"), ("NASKAH_NODES", "4"), master]),
        )
        .unwrap();
        assert_eq!(config.public_rate_per_node(), 3, "rounded up, never 0 (0 means no limit)");
        let config = Config::load_from(
            None,
            &vars(&[("NASKAH_PUBLIC_RATE_PER_MINUTE", "0"), ("NASKAH_NODES", "4"), master]),
        )
        .unwrap();
        assert_eq!(config.public_rate_per_node(), 0);
        assert!(Config::load_from(None, &vars(&[("NASKAH_NODES", "0")])).is_err());
        let alone = Config::load_from(None, &vars(&[("NASKAH_NODES", "2")])).unwrap_err();
        assert!(
            alone.to_string().contains("NASKAH_MASTER_KEY"),
            "several nodes need one shared master key"
        );
        assert_eq!(Config::default().public_rate_per_node(), 300);
    }

    #[test]
    fn printed_configuration_hides_passwords() {
        let config = Config {
            database_url: Secret::new("postgres://naskah:rahasia@db/naskah"),
            master_key: Secret::new("aa".repeat(32)),
            metrics_token: Secret::new("token-rahasia"),
            ..Config::default()
        };
        let shown = config.to_display_toml();
        assert!(!shown.contains("rahasia"));
        assert!(!shown.contains(&"aa".repeat(32)), "the master key is never printed");
        assert!(!format!("{config:?}").contains(&"aa".repeat(32)));
        assert!(shown.contains("***"));
        assert!(!format!("{config:?}").contains("rahasia"));
    }
}

#[cfg(test)]
mod example_file {
    /// The shipped example must stay a valid configuration equal to the defaults.
    #[test]
    fn example_parses_to_the_defaults() {
        let example = super::Config::parse_toml(include_str!("../../../naskah.example.toml")).unwrap();
        let defaults = super::Config::default();
        assert_eq!(toml::to_string(&example).unwrap(), toml::to_string(&defaults).unwrap());
    }
}
