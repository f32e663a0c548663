//! Fresh, isolated databases for integration tests (feature `test-support`).
//!
//! `HEIMDALL_TEST_DATABASE` picks the backend: `sqlite` (the default) gives each test its own
//! temporary file; `postgres` gives each test its own database in the PostgreSQL server at
//! `HEIMDALL_TEST_POSTGRES_URL`, which the README's test command starts. A missing URL fails
//! the test loudly instead of skipping it.

use std::path::PathBuf;

use sqlx::{Connection, Executor, PgConnection};

use super::{Backend, Database, DatabaseUrl, PoolSettings};

/// A migrated database that exists for one test. A PostgreSQL test database is left for the
/// cluster's own teardown (the test command deletes the whole cluster).
pub struct TestDatabase {
    pub db: Database,
    pub url: DatabaseUrl,
    _file: TempDbFile,
}

/// Removes a test's SQLite file (and its WAL companions) when dropped; empty for PostgreSQL.
#[derive(Default)]
pub struct TempDbFile(Option<PathBuf>);

impl Drop for TempDbFile {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// The backend the test run targets, from `HEIMDALL_TEST_DATABASE`.
pub fn test_backend() -> Backend {
    match std::env::var("HEIMDALL_TEST_DATABASE").as_deref() {
        Ok("postgres" | "postgresql") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("HEIMDALL_TEST_DATABASE={other:?}: expected sqlite or postgres"),
    }
}

/// A fresh URL (nothing created yet for SQLite; an empty database for PostgreSQL).
pub async fn fresh_database_url() -> (DatabaseUrl, TempDbFile) {
    let name = format!("heimdall_test_{}", uuid::Uuid::new_v4().simple());
    match test_backend() {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            let url =
                DatabaseUrl::parse(&format!("sqlite:{}", path.display())).expect("temp path is a valid URL");
            (url, TempDbFile(Some(path)))
        }
        Backend::Postgres => {
            let admin = crate::testing::peer_env("HEIMDALL_TEST_POSTGRES_URL");
            let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!(
                    "cannot reach the test PostgreSQL at {}: {e}",
                    super::url::redact(&admin)
                )
            });
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create test database");
            conn.close().await.ok();
            let mut url = url::Url::parse(&admin).expect("HEIMDALL_TEST_POSTGRES_URL is a URL");
            url.set_path(&name);
            (
                DatabaseUrl::parse(url.as_str()).expect("valid URL"),
                TempDbFile::default(),
            )
        }
    }
}

/// A fresh, migrated database for one test.
pub async fn fresh_database() -> TestDatabase {
    let (url, file) = fresh_database_url().await;
    let db = Database::connect(&url, &PoolSettings::default())
        .await
        .expect("connect to the test database");
    db.migrate().await.expect("migrate the test database");
    TestDatabase { db, url, _file: file }
}
