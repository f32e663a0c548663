//! Brute-force protection for password sign-in: failures are counted per account and per
//! client address; past a free allowance each further failure locks that key for twice as
//! long as the last (capped). Kept in memory: a restart forgets, which only helps the owner.
//!
//! The trade-off: anyone who knows a username can keep that account locked by failing on
//! purpose (the window doubles up to `max_lock`). The per-address lock slows such a person;
//! an administrator sees the lock on the Users page and can lift it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How forgiving the throttle is (`auth.lockout.*`).
#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures per account before it locks.
    pub account_attempts: u32,
    /// Failures per client address before it locks (higher: offices share addresses).
    pub ip_attempts: u32,
    /// The first lock; each further failure doubles it.
    pub base_lock: Duration,
    pub max_lock: Duration,
    /// A key with no failure for this long starts afresh.
    pub forget_after: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_attempts: 5,
            ip_attempts: 20,
            base_lock: Duration::from_secs(30),
            max_lock: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(15 * 60),
        }
    }
}

/// Which counter refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    Account(Duration),
    Address(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Entries kept before stale ones are swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures: Mutex::default(),
        }
    }

    /// `Err` while the account or the address is locked, with the time left.
    pub fn check(&self, account: &str, ip: &str, now: Instant) -> Result<(), Locked> {
        let map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let left = |key: String| {
            map.get(&key)
                .and_then(|f| f.locked_until)
                .and_then(|until| until.checked_duration_since(now))
                .filter(|d| !d.is_zero())
        };
        if let Some(d) = left(account_key(account)) {
            return Err(Locked::Account(d));
        }
        if let Some(d) = left(ip_key(ip)) {
            return Err(Locked::Address(d));
        }
        Ok(())
    }

    pub fn record_failure(&self, account: &str, ip: &str, now: Instant) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > SWEEP_ABOVE {
            let forget = self.policy.forget_after;
            map.retain(|_, f| now.duration_since(f.last) < forget);
        }
        for (key, free) in [
            (account_key(account), self.policy.account_attempts),
            (ip_key(ip), self.policy.ip_attempts),
        ] {
            let entry = map.entry(key).or_insert(Failures {
                count: 0,
                last: now,
                locked_until: None,
            });
            if now.duration_since(entry.last) >= self.policy.forget_after {
                *entry = Failures {
                    count: 0,
                    last: now,
                    locked_until: None,
                };
            }
            entry.count += 1;
            entry.last = now;
            if entry.count >= free {
                let doublings = (entry.count - free).min(16);
                let lock = self
                    .policy
                    .base_lock
                    .saturating_mul(1 << doublings)
                    .min(self.policy.max_lock);
                entry.locked_until = Some(now + lock);
            }
        }
    }

    /// How long `account` stays locked, if it is.
    pub fn account_lock(&self, account: &str, now: Instant) -> Option<Duration> {
        let map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&account_key(account))
            .and_then(|f| f.locked_until)
            .and_then(|until| until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// An administrator's unlock: forgets the account's failures. `true` if there were any.
    pub fn unlock_account(&self, account: &str) -> bool {
        self.record_success(account)
    }

    /// A successful sign-in clears the account's counter (not the address's).
    pub fn record_success(&self, account: &str) -> bool {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&account_key(account)).is_some()
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.trim().to_lowercase())
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottlePolicy {
            account_attempts: 3,
            ip_attempts: 5,
            base_lock: Duration::from_secs(10),
            max_lock: Duration::from_secs(60),
            forget_after: Duration::from_secs(600),
        })
    }

    #[test]
    fn an_account_locks_after_its_allowance_and_the_lock_doubles() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..2 {
            t.record_failure("Alice", "10.0.0.1", now);
            assert_eq!(t.check("alice", "10.0.0.1", now), Ok(()));
        }
        t.record_failure("alice", "10.0.0.1", now);
        assert_eq!(
            t.check("ALICE", "10.0.0.2", now),
            Err(Locked::Account(Duration::from_secs(10)))
        );
        let later = now + Duration::from_secs(11);
        assert_eq!(t.check("alice", "10.0.0.2", later), Ok(()));
        t.record_failure("alice", "10.0.0.2", later);
        assert_eq!(
            t.check("alice", "10.0.0.2", later),
            Err(Locked::Account(Duration::from_secs(20)))
        );
    }

    #[test]
    fn the_lock_is_capped() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..12 {
            t.record_failure("bob", "10.0.0.9", now);
        }
        assert!(
            matches!(t.check("bob", "10.0.0.1", now), Err(Locked::Account(d)) if d == Duration::from_secs(60))
        );
    }

    #[test]
    fn an_address_locks_across_accounts() {
        let t = throttle();
        let now = Instant::now();
        for name in ["a", "b", "c", "d", "e"] {
            t.record_failure(name, "192.0.2.7", now);
        }
        assert!(matches!(
            t.check("fresh", "192.0.2.7", now),
            Err(Locked::Address(_))
        ));
        assert_eq!(t.check("fresh", "192.0.2.8", now), Ok(()));
    }

    #[test]
    fn success_clears_the_account_and_old_failures_are_forgotten() {
        let t = throttle();
        let now = Instant::now();
        t.record_failure("carol", "10.0.0.1", now);
        t.record_failure("carol", "10.0.0.1", now);
        t.record_success("carol");
        t.record_failure("carol", "10.0.0.1", now);
        assert_eq!(t.check("carol", "10.0.0.3", now), Ok(()));
        let much_later = now + Duration::from_secs(601);
        t.record_failure("carol", "10.0.0.3", much_later);
        t.record_failure("carol", "10.0.0.3", much_later);
        assert_eq!(t.check("carol", "10.0.0.4", much_later), Ok(()));
    }
}
