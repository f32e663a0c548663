//! Per-client limits (GCRA through `governor`, keyed): pipeline creation, checked by the service
//! for every caller (REST and pages alike), and the general request limit the REST routes put
//! in front of themselves. Refusals are 429 with the wait. Counters live in this process;
//! across replicas they are each replica's (#14 moves the ones that must be global).

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

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
