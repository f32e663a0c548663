//! Several replicas over one database. Leases: work that one replica should do at a time (event
//! retention) is claimed in the `leases` table; the holder renews by claiming again, and when it
//! stops (killed, partitioned) its lease runs out and another replica's claim succeeds. Shared
//! rate limits: a GCRA per key in `rate_limits`, one atomic update per use, so a limit holds
//! whichever replica a caller reaches. And the other side: a SQLite file serves one process, and a second `serve` on it is refused, saying
//! so, since live events and counters of one process would never reach the other.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::Duration;

use super::{Database, DatabaseUrl, Result, with_pool};

impl Database {
    /// Claims (or, by its holder, renews) the lease `name` until `now_ms + ttl`. `true` when
    /// `holder` holds it now: it was free, expired, or already `holder`'s. One statement, so two
    /// replicas claiming at once get one `true`.
    pub async fn claim_lease(&self, name: &str, holder: &str, now_ms: i64, ttl: Duration) -> Result<bool> {
        let until = now_ms.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let sql = "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = $2, expires_ms = $3 \
                   WHERE leases.holder = $2 OR leases.expires_ms <= $4";
        let claimed = with_pool!(self, pool => sqlx::query(sql)
            .bind(name)
            .bind(holder)
            .bind(until)
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(claimed == 1)
    }

    /// Takes one use of `key`'s limit — `per_minute` uses, `burst` of them at once — at `now_us`
    /// (microseconds: an interval of 60,000,000 / `per_minute` stays above zero for any limit a
    /// setting can name, where milliseconds rounded to zero above 60,000 a minute).
    /// `Ok(Err(wait))` when over the limit, with how long until the next use is allowed.
    /// The `tat_ms` column holds microseconds for these keys.
    pub async fn take_rate(
        &self,
        key: &str,
        now_us: i64,
        per_minute: u32,
        burst: u32,
    ) -> Result<std::result::Result<(), Duration>> {
        // GCRA: each use moves the key's theoretical arrival time (TAT) on by one interval; a
        // use is allowed while the TAT stays within `burst` intervals of now.
        let interval = (60_000_000 / i64::from(per_minute.max(1))).max(1);
        let tolerance = interval * i64::from(burst.max(1));
        let sql = "INSERT INTO rate_limits (key, tat_ms) VALUES ($1, $2 + $3) \
                   ON CONFLICT (key) DO UPDATE SET \
                     tat_ms = (CASE WHEN rate_limits.tat_ms > $2 THEN rate_limits.tat_ms ELSE $2 END) + $3 \
                   WHERE (CASE WHEN rate_limits.tat_ms > $2 THEN rate_limits.tat_ms ELSE $2 END) + $3 - $2 <= $4";
        let taken = with_pool!(self, pool => sqlx::query(sql)
            .bind(key)
            .bind(now_us)
            .bind(interval)
            .bind(tolerance)
            .execute(pool)
            .await?
            .rows_affected());
        if taken == 1 {
            // Keys whose allowance is whole again carry nothing: the table stays small.
            let sweep = "DELETE FROM rate_limits WHERE tat_ms < $1";
            with_pool!(self, pool => sqlx::query(sweep).bind(now_us).execute(pool).await.map(drop)?);
            return Ok(Ok(()));
        }
        let tat: Option<i64> = with_pool!(self, pool => sqlx::query_scalar("SELECT tat_ms FROM rate_limits WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?);
        let wait = tat
            .map_or(interval, |tat| tat + interval - tolerance - now_us)
            .max(1);
        Ok(Err(Duration::from_micros(u64::try_from(wait).unwrap_or(1))))
    }
}

/// Held while a server serves a SQLite file: an exclusive advisory lock (`flock`) on the file
/// itself, which SQLite's own locks ignore. Released when dropped, or by the kernel when the
/// process dies, so a crash never leaves the file locked.
#[derive(Debug)]
pub struct SqliteServeLock(#[allow(dead_code)] File);

/// Why a SQLite file could not be taken for serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeLockError {
    #[error(
        "the SQLite database {0} is already served by another Heimdall process. SQLite is the \
         single-replica default: stop the other process, or give each its own file, or run \
         several replicas over PostgreSQL (database.url = postgres://…)"
    )]
    InUse(String),
    #[error("cannot open the SQLite database {path} to lock it: {cause}")]
    Open { path: String, cause: std::io::Error },
}

impl DatabaseUrl {
    /// The file a `sqlite:` URL names; `None` for PostgreSQL and in-memory databases.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let rest = self.expose().strip_prefix("sqlite:")?;
        let path = rest.split('?').next().unwrap_or(rest);
        let path = path.strip_prefix("file:").unwrap_or(path);
        (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
    }

    /// Takes the SQLite file for this process (`None` when the URL is not a SQLite file).
    pub fn lock_sqlite_file(&self) -> std::result::Result<Option<SqliteServeLock>, ServeLockError> {
        let Some(path) = self.sqlite_file() else {
            return Ok(None);
        };
        let shown = path.display().to_string();
        // Created here if missing: SQLite takes an empty file as an empty database.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|cause| ServeLockError::Open {
                path: shown.clone(),
                cause,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SqliteServeLock(file))),
            Err(TryLockError::WouldBlock) => Err(ServeLockError::InUse(shown)),
            Err(TryLockError::Error(cause)) => Err(ServeLockError::Open { path: shown, cause }),
        }
    }
}

#[cfg(all(test, feature = "test-support"))]
mod tests {
    use super::*;
    use crate::db::testing::fresh_database;

    const NOW: i64 = 1_800_000_000_000;
    const TTL: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_lease_has_one_holder_until_it_runs_out() {
        let test = fresh_database().await;
        let db = &test.db;
        assert!(
            db.claim_lease("work", "a", NOW, TTL)
                .await
                .expect("the database answers"),
            "free: a takes it"
        );
        assert!(
            !db.claim_lease("work", "b", NOW + 1000, TTL)
                .await
                .expect("the database answers"),
            "a holds it"
        );
        assert!(
            db.claim_lease("work", "a", NOW + 30_000, TTL)
                .await
                .expect("the database answers"),
            "a renews"
        );
        assert!(
            !db.claim_lease("work", "b", NOW + 80_000, TTL)
                .await
                .expect("the database answers"),
            "renewed: still a's"
        );
        assert!(
            db.claim_lease("other", "b", NOW, TTL)
                .await
                .expect("the database answers"),
            "another lease is its own"
        );
        // a stops renewing: once it runs out, b takes over, and a is out.
        assert!(
            db.claim_lease("work", "b", NOW + 90_000, TTL)
                .await
                .expect("the database answers"),
            "expired: b takes it"
        );
        assert!(
            !db.claim_lease("work", "a", NOW + 91_000, TTL)
                .await
                .expect("the database answers")
        );
    }

    #[tokio::test]
    async fn claims_at_once_have_one_winner() {
        let test = fresh_database().await;
        let claims = (0..8).map(|i| {
            let db = test.db.clone();
            tokio::spawn(async move {
                db.claim_lease("race", &format!("r{i}"), NOW, TTL)
                    .await
                    .expect("the database answers")
            })
        });
        let won = futures::future::join_all(claims)
            .await
            .into_iter()
            .filter(|r| *r.as_ref().expect("task"))
            .count();
        assert_eq!(won, 1);
    }

    /// Milliseconds as the microseconds `take_rate` counts in.
    fn us(ms: i64) -> i64 {
        ms * 1000
    }

    #[tokio::test]
    async fn a_limit_above_sixty_thousand_a_minute_still_allows_its_burst() {
        let test = fresh_database().await;
        let db = &test.db;
        for i in 0..50 {
            assert_eq!(
                db.take_rate("fast", us(NOW), 120_000, 50)
                    .await
                    .expect("the database answers"),
                Ok(()),
                "use {i}"
            );
        }
        // The 51st waits one interval: 0.5 ms at 120,000 a minute.
        assert_eq!(
            db.take_rate("fast", us(NOW), 120_000, 50)
                .await
                .expect("the database answers"),
            Err(Duration::from_micros(500))
        );
        assert_eq!(
            db.take_rate("fast", us(NOW) + 500, 120_000, 50)
                .await
                .expect("the database answers"),
            Ok(())
        );
    }

    #[tokio::test]
    async fn a_shared_rate_allows_its_burst_then_one_per_interval() {
        let test = fresh_database().await;
        let db = &test.db;
        for i in 0..5 {
            assert_eq!(
                db.take_rate("k", us(NOW), 5, 5)
                    .await
                    .expect("the database answers"),
                Ok(()),
                "use {i}"
            );
        }
        // The sixth waits one interval (12 s at 5 a minute).
        assert_eq!(
            db.take_rate("k", us(NOW), 5, 5)
                .await
                .expect("the database answers"),
            Err(Duration::from_secs(12))
        );
        assert_eq!(
            db.take_rate("k", us(NOW + 2_000), 5, 5)
                .await
                .expect("the database answers"),
            Err(Duration::from_secs(10))
        );
        assert_eq!(
            db.take_rate("other", us(NOW), 5, 5)
                .await
                .expect("the database answers"),
            Ok(()),
            "keys are separate"
        );
        assert_eq!(
            db.take_rate("k", us(NOW + 12_000), 5, 5)
                .await
                .expect("the database answers"),
            Ok(()),
            "one came back"
        );
        assert!(
            db.take_rate("k", us(NOW + 12_000), 5, 5)
                .await
                .expect("the database answers")
                .is_err()
        );
        assert_eq!(
            db.take_rate("k", us(NOW + 60_000), 5, 5)
                .await
                .expect("the database answers"),
            Ok(())
        );
    }

    #[tokio::test]
    async fn uses_at_once_get_exactly_the_burst() {
        let test = fresh_database().await;
        let uses = (0..12).map(|_| {
            let db = test.db.clone();
            tokio::spawn(async move {
                db.take_rate("race", us(NOW), 5, 5)
                    .await
                    .expect("the database answers")
            })
        });
        let allowed = futures::future::join_all(uses)
            .await
            .into_iter()
            .filter(|r| r.as_ref().expect("task").is_ok())
            .count();
        assert_eq!(allowed, 5);
    }

    #[test]
    fn a_sqlite_file_is_served_by_one_process_at_a_time() {
        let path = std::env::temp_dir().join(format!("heimdall-lock-{}.db", uuid::Uuid::new_v4().simple()));
        let url = DatabaseUrl::parse(&format!("sqlite:{}?mode=rwc", path.display())).expect("as expected");
        assert_eq!(url.sqlite_file().as_deref(), Some(path.as_path()));
        let first = url.lock_sqlite_file().expect("as expected").expect("a file");
        let refused = url.lock_sqlite_file().expect_err("the second is refused");
        assert!(
            refused.to_string().contains("already served by another Heimdall"),
            "{refused}"
        );
        assert!(
            refused.to_string().contains("PostgreSQL"),
            "says what to do: {refused}"
        );
        drop(first);
        let again = url.lock_sqlite_file().expect("as expected");
        assert!(again.is_some(), "free again once the first stops");
        let _ = std::fs::remove_file(&path);
        assert!(
            DatabaseUrl::parse("sqlite::memory:")
                .expect("as expected")
                .sqlite_file()
                .is_none()
        );
        assert!(
            DatabaseUrl::parse("postgres://u@h/db")
                .expect("as expected")
                .lock_sqlite_file()
                .expect("as expected")
                .is_none()
        );
    }
}
