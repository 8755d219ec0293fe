//! Versioned, embedded migrations kept for each engine side by side.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection, Row};

use super::{Backend, Db, DbError};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Every migration this binary knows, in order. Never edit a released one: add the next.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../../../../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../../../../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "approval_chain",
        sqlite: include_str!("../../../../migrations/sqlite/0002_approval_chain.sql"),
        postgres: include_str!("../../../../migrations/postgres/0002_approval_chain.sql"),
    },
    Migration {
        version: 3,
        name: "numbering",
        sqlite: include_str!("../../../../migrations/sqlite/0003_numbering.sql"),
        postgres: include_str!("../../../../migrations/postgres/0003_numbering.sql"),
    },
    Migration {
        version: 4,
        name: "revocation",
        sqlite: include_str!("../../../../migrations/sqlite/0004_revocation.sql"),
        postgres: include_str!("../../../../migrations/postgres/0004_revocation.sql"),
    },
    Migration {
        version: 5,
        name: "department_keys",
        sqlite: include_str!("../../../../migrations/sqlite/0005_department_keys.sql"),
        postgres: include_str!("../../../../migrations/postgres/0005_department_keys.sql"),
    },
    Migration {
        version: 6,
        name: "decree_numbers",
        sqlite: include_str!("../../../../migrations/sqlite/0006_decree_numbers.sql"),
        postgres: include_str!("../../../../migrations/postgres/0006_decree_numbers.sql"),
    },
    Migration {
        version: 7,
        name: "pdf_signatures",
        sqlite: include_str!("../../../../migrations/sqlite/0007_pdf_signatures.sql"),
        postgres: include_str!("../../../../migrations/postgres/0007_pdf_signatures.sql"),
    },
    Migration {
        version: 8,
        name: "recipients",
        sqlite: include_str!("../../../../migrations/sqlite/0008_recipients.sql"),
        postgres: include_str!("../../../../migrations/postgres/0008_recipients.sql"),
    },
    Migration {
        version: 9,
        name: "letter_batches",
        sqlite: include_str!("../../../../migrations/sqlite/0009_letter_batches.sql"),
        postgres: include_str!("../../../../migrations/postgres/0009_letter_batches.sql"),
    },
    Migration {
        version: 10,
        name: "deliveries",
        sqlite: include_str!("../../../../migrations/sqlite/0010_deliveries.sql"),
        postgres: include_str!("../../../../migrations/postgres/0010_deliveries.sql"),
    },
    Migration {
        version: 11,
        name: "beneficiaries",
        sqlite: include_str!("../../../../migrations/sqlite/0011_beneficiaries.sql"),
        postgres: include_str!("../../../../migrations/postgres/0011_beneficiaries.sql"),
    },
    Migration {
        version: 12,
        name: "incoming letters",
        sqlite: include_str!("../../../../migrations/sqlite/0012_incoming.sql"),
        postgres: include_str!("../../../../migrations/postgres/0012_incoming.sql"),
    },
    Migration {
        version: 13,
        name: "register_withdrawal",
        sqlite: include_str!("../../../../migrations/sqlite/0013_register_withdrawal.sql"),
        postgres: include_str!("../../../../migrations/postgres/0013_register_withdrawal.sql"),
    },
    Migration {
        version: 14,
        name: "long-term signatures",
        sqlite: include_str!("../../../../migrations/sqlite/0014_long_term_signatures.sql"),
        postgres: include_str!("../../../../migrations/postgres/0014_long_term_signatures.sql"),
    },
    Migration {
        version: 15,
        name: "remote signatures",
        sqlite: include_str!("../../../../migrations/sqlite/0015_remote_signatures.sql"),
        postgres: include_str!("../../../../migrations/postgres/0015_remote_signatures.sql"),
    },
    Migration {
        version: 16,
        name: "public copies",
        sqlite: include_str!("../../../../migrations/sqlite/0016_public_copies.sql"),
        postgres: include_str!("../../../../migrations/postgres/0016_public_copies.sql"),
    },
    Migration {
        version: 17,
        name: "jobs",
        sqlite: include_str!("../../../../migrations/sqlite/0017_jobs.sql"),
        postgres: include_str!("../../../../migrations/postgres/0017_jobs.sql"),
    },
    Migration {
        version: 18,
        name: "reminders",
        sqlite: include_str!("../../../../migrations/sqlite/0018_reminders.sql"),
        postgres: include_str!("../../../../migrations/postgres/0018_reminders.sql"),
    },
    Migration {
        version: 19,
        name: "key_secrets",
        sqlite: include_str!("../../../../migrations/sqlite/0019_key_secrets.sql"),
        postgres: include_str!("../../../../migrations/postgres/0019_key_secrets.sql"),
    },
    Migration {
        version: 20,
        name: "import_rows",
        sqlite: include_str!("../../../../migrations/sqlite/0020_import_rows.sql"),
        postgres: include_str!("../../../../migrations/postgres/0020_import_rows.sql"),
    },
    Migration {
        version: 21,
        name: "public_changes",
        sqlite: include_str!("../../../../migrations/sqlite/0021_public_changes.sql"),
        postgres: include_str!("../../../../migrations/postgres/0021_public_changes.sql"),
    },
    Migration {
        version: 22,
        name: "letter_files",
        sqlite: include_str!("../../../../migrations/sqlite/0022_letter_files.sql"),
        postgres: include_str!("../../../../migrations/postgres/0022_letter_files.sql"),
    },
    Migration {
        version: 23,
        name: "import_history",
        sqlite: include_str!("../../../../migrations/sqlite/0023_import_history.sql"),
        postgres: include_str!("../../../../migrations/postgres/0023_import_history.sql"),
    },
    Migration {
        version: 24,
        name: "import_keys",
        sqlite: include_str!("../../../../migrations/sqlite/0024_import_keys.sql"),
        postgres: include_str!("../../../../migrations/postgres/0024_import_keys.sql"),
    },
    Migration {
        version: 25,
        name: "list_indexes",
        sqlite: include_str!("../../../../migrations/sqlite/0025_list_indexes.sql"),
        postgres: include_str!("../../../../migrations/postgres/0025_list_indexes.sql"),
    },
];

impl Migration {
    fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }

    fn checksum(&self, backend: Backend) -> String {
        hex::encode(Sha256::digest(self.sql(backend).as_bytes()))
    }
}

/// What the database holds compared with what this binary knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaState {
    pub applied: i64,
    pub known: i64,
}

impl SchemaState {
    pub fn is_current(&self) -> bool {
        self.applied == self.known
    }
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

fn latest_known() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

async fn applied(conn: &mut AnyConnection) -> Result<Vec<(i64, String)>, DbError> {
    sqlx::query(CREATE_TABLE).execute(&mut *conn).await?;
    let rows = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?)))
        .collect()
}

pub async fn state(db: &Db) -> Result<SchemaState, DbError> {
    let mut conn = db.pool.acquire().await?;
    let applied = applied(&mut conn).await?;
    Ok(SchemaState {
        applied: applied.last().map(|(v, _)| *v).unwrap_or(0),
        known: latest_known(),
    })
}

/// Applies every pending migration, each in its own transaction. Returns the versions applied.
/// Applies every pending migration, each in its own transaction, on one connection.
/// Returns the versions applied.
pub async fn apply(db: &Db) -> Result<Vec<i64>, DbError> {
    let mut conn = db.pool.acquire().await?;
    // Several service processes may start at once against one PostgreSQL: the first
    // migrates while the others wait on this lock, then find nothing left to do.
    if db.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock(74092026)").execute(&mut *conn).await?;
    }
    let result = apply_on(db.backend, &mut conn).await;
    if db.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock(74092026)").execute(&mut *conn).await?;
    }
    result
}

async fn apply_on(backend: Backend, conn: &mut AnyConnection) -> Result<Vec<i64>, DbError> {
    let done = applied(conn).await?;
    if let Some((newest, _)) = done.last()
        && *newest > latest_known()
    {
        return Err(DbError::SchemaTooNew {
            database: *newest,
            binary: latest_known(),
        });
    }
    for (version, checksum) in &done {
        if let Some(m) = MIGRATIONS.iter().find(|m| m.version == *version)
            && &m.checksum(backend) != checksum
        {
            return Err(DbError::MigrationChanged { version: *version });
        }
    }
    let mut newly = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !done.iter().any(|(v, _)| *v == m.version)) {
        let failed = |e: sqlx::Error| DbError::MigrationFailed {
            version: m.version,
            reason: e.to_string(),
        };
        let mut tx = match backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => conn.begin().await?,
        };
        sqlx::raw_sql(m.sql(backend)).execute(&mut *tx).await.map_err(failed)?;
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum(backend))
            .bind(super::now())
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(version = m.version, name = m.name, "migrasi diterapkan");
        newly.push(m.version);
    }
    Ok(newly)
}
