//! Per-client limits, both GCRA: pipeline creation (`SharedLimit`), checked by the service for
//! every caller (REST and pages alike) and counted in the database, so it holds across replicas —
//! five a minute is five a minute whichever replica is asked; and the general request limit the
//! REST routes put in front of themselves (`KeyedLimit`, `governor` in memory): a flood guard
//! each replica keeps for itself, since a database round trip on every request would cost more
//! than the guard protects (with N replicas a client gets up to N times the burst).
//! Refusals are 429 with the wait.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::db::Database;
use crate::error::AppError;

/// A limit per key counted in the database (`Database::take_rate`): the same for every replica.
#[derive(Clone)]
pub struct SharedLimit {
    db: Database,
    /// The key's prefix in the shared table (one table serves every shared limit).
    name: &'static str,
    per_minute: u32,
    what: &'static str,
}

impl SharedLimit {
    /// `per_minute` uses a minute, all of them at once if wanted (the seed's window); `what`
    /// is the refusal's `detail` (the wait is in `Retry-After` and `retry_after_secs`).
    pub fn new(db: Database, name: &'static str, per_minute: u32, what: &'static str) -> Self {
        Self {
            db,
            name,
            per_minute,
            what,
        }
    }

    /// Counts one use by `key`; 429 with the wait when over.
    pub async fn check(&self, key: &str) -> Result<(), AppError> {
        let now = chrono::Utc::now().timestamp_micros();
        let taken = self
            .db
            .take_rate(
                // `@us`: counted in microseconds (older versions' keys, in milliseconds, are
                // never read as these).
                &format!("{}@us:{key}", self.name),
                now,
                self.per_minute,
                self.per_minute,
            )
            .await
            .map_err(|e| AppError::internal(&e))?;
        taken.map_err(|wait| {
            let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            AppError::RateLimited {
                retry_after_secs,
                message: self.what.to_owned(),
            }
        })
    }
}

/// A limit per key: `per_minute` with `burst` at once (all at once when `burst` is `None`,
/// then one more as each minute's share comes back — the seed's window).
pub struct KeyedLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    what: &'static str,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl KeyedLimit {
    /// `what` starts the refusal: "`what` `N` s".
    pub fn new(per_minute: u32, burst: Option<u32>, what: &'static str) -> Self {
        let quota = Quota::per_minute(nonzero(per_minute));
        let quota = match burst {
            Some(burst) => quota.allow_burst(nonzero(burst)),
            None => quota,
        };
        Self {
            limiter: RateLimiter::keyed(quota),
            what,
        }
    }

    /// Counts one use by `key`; 429 with the wait when over.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        match self.limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                if self.limiter.len() > 10_000 {
                    self.limiter.retain_recent();
                }
                Err(AppError::RateLimited {
                    retry_after_secs,
                    message: format!("{} {retry_after_secs} s", self.what),
                })
            }
        }
    }
}
