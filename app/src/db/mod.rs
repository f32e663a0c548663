//! The database seam: one `Database` over SQLite (the embedded default) or PostgreSQL,
//! chosen by the URL's scheme, with per-backend migrations applied at start-up; transactions
//! (`Tx`); `DbError`; fresh test databases (`testing`).
//!
//! This folder knows no domain. Each domain keeps its repository next to its model (for
//! example `identity/store/`), writing its SQL once where both backends accept it; `with_pool!`
//! and `with_tx!` expand one body per backend so each is type-checked against its own driver.
//! `scripts/lib/check-layout.py` fails the test command if a file here imports a domain.

mod listen;
mod replicas;
#[cfg(feature = "test-support")]
pub mod testing;
mod url;

pub use self::listen::Notice;
pub use self::replicas::{ServeLockError, SqliteServeLock};
use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool, SqlitePool};

pub use self::url::{DatabaseUrl, UrlError};

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend `$db` is.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Database::Sqlite($pool) => $body,
            $crate::db::Database::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Runs `$body` with `$conn` bound to the open transaction's connection (`&mut` to the
/// backend's connection type); use it as `&mut *$conn` for each statement.
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

/// An open transaction on either backend. Dropped without `commit`, it rolls back: a change
/// that spans rows (a user, their sessions, the audit entries) lands whole or not at all.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Self::Sqlite(t) => t.commit().await?,
            Self::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Which engine is behind the seam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgresql",
        }
    }
}

/// Errors of the repository layer. `RowNotFound` becomes `NotFound` and unique violations
/// become `Conflict` here, at the boundary. The constraint's name is for the server log: a
/// domain says in words what conflicted before anything reaches a client.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    #[error("unique constraint {constraint} violated")]
    Conflict { constraint: String },
    /// Names the backend and the redacted URL; the driver's own words go last.
    #[error("cannot connect to the {backend} database {url}: {cause}")]
    Connect {
        backend: &'static str,
        url: String,
        cause: sqlx::Error,
    },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sqlx(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => Self::Conflict {
                constraint: db.constraint().unwrap_or("(unnamed)").to_owned(),
            },
            other => Self::Sqlx(other),
        }
    }
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// Pool sizing and timeouts (`database.*` in the configuration).
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A pooled connection to Heimdall's database. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Opens a pool (creating the SQLite file if needed) and checks one connection works.
    pub async fn connect(url: &DatabaseUrl, settings: &PoolSettings) -> Result<Self> {
        let connect_err = |cause| DbError::Connect {
            backend: url.backend().name(),
            url: url.redacted(),
            cause,
        };
        let db = match url.backend() {
            Backend::Sqlite => {
                let options = url.sqlite_options().map_err(connect_err)?;
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(connect_err)?;
                Self::Sqlite(pool)
            }
            Backend::Postgres => {
                let options = url.postgres_options().map_err(connect_err)?;
                // One direct connection first: the pool would retry until its timeout and
                // report only "timed out", hiding "connection refused" or "bad password".
                let probe =
                    tokio::time::timeout(settings.acquire_timeout, PgConnection::connect_with(&options))
                        .await
                        .map_err(|_| connect_err(sqlx::Error::PoolTimedOut))?
                        .map_err(connect_err)?;
                probe.close().await.map_err(connect_err)?;
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(connect_err)?;
                Self::Postgres(pool)
            }
        };
        Ok(db)
    }

    /// Applies the backend's migrations (embedded at compile time from `migrations/<backend>`).
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// One round trip: proves a connection can be had and the server answers.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop)?);
        Ok(())
    }

    /// The engine's own version string, e.g. `3.46.0` or `15.18`.
    pub async fn server_version(&self) -> Result<String> {
        let version = match self {
            Self::Sqlite(pool) => {
                sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(pool)
                    .await?
            }
            Self::Postgres(pool) => sqlx::query_scalar("SHOW server_version").fetch_one(pool).await?,
        };
        Ok(version)
    }

    /// Opens a transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Waits for in-flight queries and closes every connection (graceful shutdown).
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}
