//! Transactions for bulk writes (an import of a province's million rows), on a
//! connection of their own. On PostgreSQL it is a native connection, because the
//! `AnyPool` cannot reach `COPY`; on SQLite a connection with a large page cache that
//! leaves the checkpoint of what it wrote to a background task instead of making its
//! caller wait for it, and closes when idle (its cache with it). Statements that both
//! take are written once and compiled for each (`on_bulk!`).

use std::{str::FromStr, time::Duration};

use sqlx::{
    Any, AnyPool, PgPool, Postgres, Transaction,
    any::{AnyConnectOptions, AnyPoolOptions},
    postgres::PgPoolOptions,
};

use super::{Backend, Db, DbError, SQLITE_SETUP};

/// A write transaction that can also stream rows in with `COPY` on PostgreSQL.
pub enum BulkTx {
    Any(Transaction<'static, Any>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection, whichever engine
/// it is: the body is written once and type-checked for both.
#[macro_export]
macro_rules! on_bulk {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::BulkTx::Any(tx) => {
                let $conn: &mut ::sqlx::AnyConnection = &mut *tx;
                $body
            }
            $crate::db::BulkTx::Postgres(tx) => {
                let $conn: &mut ::sqlx::PgConnection = &mut *tx;
                $body
            }
        }
    };
}

/// The pool bulk transactions come from, opened when first needed: one connection on
/// SQLite, a few on PostgreSQL (imports of different departments run side by side).
#[derive(Clone, Debug)]
pub(super) enum BulkPool {
    Sqlite(AnyPool),
    Postgres(PgPool),
}

/// The bulk connection's page cache (KiB, negative as SQLite wants it): a bulk write's
/// indexes stay in memory instead of spilling pages to the log mid-transaction.
const SQLITE_BULK_CACHE_KIB: i64 = 32 * 1024;

impl BulkPool {
    pub(super) fn new(url: &str, backend: Backend) -> Result<Self, DbError> {
        let unreachable = |e: sqlx::Error| DbError::Unreachable {
            target: crate::config::redact_url(url),
            reason: e.to_string(),
        };
        // Bulk work queues for its connections rather than failing: a second import waits
        // for the first (SQLite has one writer anyway). Idle, a connection closes: a bulk
        // cache is not kept for nothing.
        let (acquire, idle) = (Duration::from_secs(15 * 60), Duration::from_secs(5));
        Ok(match backend {
            Backend::Sqlite => BulkPool::Sqlite(
                AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(0)
                    .acquire_timeout(acquire)
                    .idle_timeout(idle)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                                "{SQLITE_SETUP} PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}; PRAGMA wal_autocheckpoint = 0;"
                            )))
                            .execute(&mut *conn)
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_lazy_with(AnyConnectOptions::from_str(url).map_err(unreachable)?),
            ),
            // Four for bulk work, one held by a listener (`Db::listen`).
            Backend::Postgres => BulkPool::Postgres(
                PgPoolOptions::new()
                    .max_connections(5)
                    .min_connections(0)
                    .acquire_timeout(acquire)
                    .idle_timeout(idle)
                    .connect_lazy(url)
                    .map_err(unreachable)?,
            ),
        })
    }
}

impl Db {
    /// A listener for PostgreSQL's notifications on `channel` (LISTEN), subscribed when
    /// it returns, on a native connection of its own; `None` on SQLite, which has none.
    pub async fn listen(&self, channel: &str) -> Option<Result<sqlx::postgres::PgListener, DbError>> {
        let BulkPool::Postgres(pool) = &self.bulk else {
            return None;
        };
        Some(
            async {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.eager_reconnect(false);
                listener.listen(channel).await?;
                Ok(listener)
            }
            .await,
        )
    }

    /// Starts a bulk write transaction (see the module). On SQLite it takes the write
    /// lock at once, as `begin_write` does.
    pub async fn begin_bulk(&self) -> Result<BulkTx, DbError> {
        Ok(match &self.bulk {
            BulkPool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // The import's joins and sorts stay in memory instead of spilling to disk.
                sqlx::query("SET LOCAL work_mem = '64MB'").execute(&mut *tx).await?;
                BulkTx::Postgres(tx)
            }
            BulkPool::Sqlite(pool) => BulkTx::Any(pool.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Commits a bulk transaction. On SQLite the log it grew is then copied into the
    /// database by a task of its own (a passive checkpoint, which waits for no one).
    pub async fn commit_bulk(&self, tx: BulkTx) -> Result<(), DbError> {
        match tx {
            BulkTx::Postgres(tx) => tx.commit().await?,
            BulkTx::Any(tx) => {
                tx.commit().await?;
                let pool = self.pool.clone();
                tokio::spawn(async move {
                    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                        tracing::warn!(error = %e, "checkpoint setelah penulisan massal gagal; dicoba lagi oleh penulisan berikutnya");
                    }
                });
            }
        }
        Ok(())
    }
}
