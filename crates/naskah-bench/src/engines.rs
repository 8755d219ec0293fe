//! The database engines a benchmark runs on: SQLite always, PostgreSQL when a server
//! answers, each run on a database of its own, dropped afterwards.

use std::path::Path;

use crate::db::Db;

/// The engines to measure on: SQLite always; PostgreSQL when `NASKAH_BENCH_POSTGRES_URL`
/// (or the tests' `NASKAH_TEST_POSTGRES_URL`) names a server that answers, each run on
/// a database of its own, dropped afterwards.
pub(crate) struct Engine {
    pub label: &'static str,
    pub url: String,
    /// The server's URL and the database to drop.
    drop_after: Option<(String, String)>,
}

pub(crate) async fn engines(dir: &Path, label: &str) -> Vec<Engine> {
    let mut list = vec![Engine {
        label: "SQLite",
        url: format!("sqlite://{}?mode=rwc", dir.join(format!("{label}.sqlite3")).display()),
        drop_after: None,
    }];
    let server = std::env::var("NASKAH_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("NASKAH_TEST_POSTGRES_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("naskah_bench_{label}_{}", std::process::id()).replace('-', "_");
    if let Ok(admin) = Db::connect(&server, 1).await {
        let created = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin.pool)
            .await;
        admin.pool.close().await;
        if created.is_ok()
            && let Ok(mut url) = url::Url::parse(&server)
        {
            url.set_path(&format!("/{name}"));
            list.push(Engine {
                label: "PostgreSQL",
                url: url.to_string(),
                drop_after: Some((server, name)),
            });
        }
    }
    list
}

pub(crate) async fn drop_database(engine: &Engine) {
    if let Some((server, name)) = &engine.drop_after
        && let Ok(admin) = Db::connect(server, 1).await
    {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
            .execute(&admin.pool)
            .await;
        admin.pool.close().await;
    }
}
