//! Storage: one `AnyPool` serves SQLite and PostgreSQL; SQL is written once with `$n`
//! placeholders and checked at run time against both engines by the storage tests.

mod bulk;
mod migrations;

use std::{str::FromStr, time::Duration};

use sqlx::{
    Any, AnyPool, Transaction,
    any::{AnyConnectOptions, AnyPoolOptions},
};

pub use bulk::BulkTx;
pub use migrations::{MIGRATIONS, Migration, SchemaState};

/// The engine behind a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("alamat basis data harus diawali sqlite:// atau postgres://")]
    UnsupportedUrl,
    #[error("basis data tidak dapat dihubungi ({target}): {reason}")]
    Unreachable { target: String, reason: String },
    #[error("skema basis data (versi {database}) lebih baru daripada program ini (versi {binary}); jalankan naskah versi yang lebih baru")]
    SchemaTooNew { database: i64, binary: i64 },
    #[error("migrasi {version} sudah diterapkan tetapi isinya berbeda dari program ini")]
    MigrationChanged { version: i64 },
    #[error("migrasi {version} gagal: {reason}")]
    MigrationFailed { version: i64, reason: String },
    #[error("kesalahan basis data: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("{0}")]
    Backup(String),
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// Every SQLite connection's settings.
const SQLITE_SETUP: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000; PRAGMA synchronous = NORMAL;";

/// A connection pool plus the knowledge of which engine it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The connection bulk transactions take (`begin_bulk`).
    bulk: bulk::BulkPool,
}

impl Db {
    /// Connects without touching the schema.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            ensure_sqlite_folder(url);
        }
        let unreachable = |e: sqlx::Error| DbError::Unreachable {
            target: crate::config::redact_url(url),
            reason: e.to_string(),
        };
        let options = AnyConnectOptions::from_str(url).map_err(unreachable)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed during a write; the busy timeout makes
                        // concurrent writers wait instead of failing at once.
                        sqlx::raw_sql(SQLITE_SETUP).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(unreachable)?;
        let bulk = bulk::BulkPool::new(url, backend)?;
        Ok(Db { pool, backend, bulk })
    }

    /// Connects, applies pending migrations and refuses a schema newer than this binary.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let db = Self::connect(url, max_connections).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> Result<Vec<i64>, DbError> {
        migrations::apply(self).await
    }

    pub async fn schema_state(&self) -> Result<SchemaState, DbError> {
        migrations::state(self).await
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-then-write transaction never fails half-way when
    /// another writer got in between.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, DbError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A consistent copy of a SQLite database in a new file, taken while the service keeps
    /// serving (`VACUUM INTO`: one read transaction, so the copy is the database as of
    /// one moment, never a half-written signature). PostgreSQL is backed up with
    /// `pg_dump` (README, Operations). Returns the copy's size in bytes.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<u64, DbError> {
        if self.backend != Backend::Sqlite {
            return Err(DbError::Backup(
                "cadangan PostgreSQL dibuat dengan pg_dump -Fc (lihat README, bagian Operasi), bukan dengan perintah ini".into(),
            ));
        }
        if path.exists() {
            return Err(DbError::Backup(format!("{} sudah ada; pilih nama berkas baru", path.display())));
        }
        let target = path
            .to_str()
            .ok_or_else(|| DbError::Backup("nama berkas cadangan harus teks UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| DbError::Backup(format!("{}: {e}", path.display())))
    }

    /// `SELECT 1` as a liveness probe of the database.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

fn ensure_sqlite_folder(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return;
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        let _ = std::fs::create_dir_all(parent);
    }
}

/// Current time as Unix seconds (UTC), the unit of every `*_at` column.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
