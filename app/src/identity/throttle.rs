//! Brute-force protection for password sign-in: failures are counted per account and per
//! client address; past a free allowance each further failure locks that key for twice as
//! long as the last (capped). Counted in the database (`login_failures`), so every replica sees
//! the same count: the sixth wrong password is refused whichever replica it reaches. Times are
//! wall-clock milliseconds, the one clock replicas share.
//!
//! The trade-off: anyone who knows a username can keep that account locked by failing on
//! purpose (the window doubles up to `max_lock`). The per-address lock slows such a person;
//! an administrator sees the lock on the Users page and can lift it.

use std::collections::HashMap;
use std::time::Duration;

use super::store::IdentityStore;
use crate::db::Result;

/// How forgiving the throttle is (`auth.lockout.*`).
#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures per account before it locks.
    pub account_attempts: u32,
    /// Failures per client address before it locks (higher: offices share addresses).
    pub ip_attempts: u32,
    /// The longest an address is locked: shorter than an account's, since many people may
    /// share one address (an office, an ingress whose proxies are not trusted).
    pub ip_max_lock: Duration,
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
            ip_max_lock: Duration::from_secs(60),
            base_lock: Duration::from_secs(30),
            max_lock: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(15 * 60),
        }
    }
}

impl ThrottlePolicy {
    /// The lock earned by the `count`th failure when `free` are allowed: none below the
    /// allowance, then the base lock doubling with each failure past it, capped.
    pub fn lock_for(&self, count: i64, free: u32) -> Option<Duration> {
        self.lock_capped(count, free, self.max_lock)
    }

    /// The address's lock for its `count`th failure: the same doubling, capped at
    /// `ip_max_lock` — a softer throttle than an account's.
    pub fn address_lock_for(&self, count: i64) -> Option<Duration> {
        self.lock_capped(count, self.ip_attempts, self.ip_max_lock.min(self.max_lock))
    }

    fn lock_capped(&self, count: i64, free: u32, cap: Duration) -> Option<Duration> {
        let past = count.checked_sub(i64::from(free)).filter(|p| *p >= 0)?;
        let doublings = u32::try_from(past.min(16)).unwrap_or(16);
        Some(self.base_lock.saturating_mul(1 << doublings).min(cap))
    }
}

/// Which counter refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    Account(Duration),
    Address(Duration),
}

/// The current wall-clock time in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn left(until_ms: i64, now_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(until_ms.saturating_sub(now_ms)).unwrap_or(0))
}

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    store: IdentityStore,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy, store: IdentityStore) -> Self {
        Self { policy, store }
    }

    /// `Ok(Err(_))` while the account or the address is locked, with the time left.
    pub async fn check(&self, account: &str, ip: &str, now_ms: i64) -> Result<Result<(), Locked>> {
        let (account, ip) = (account_key(account), ip_key(ip));
        let locks = self.store.login_locks(&[&account, &ip], now_ms).await?;
        let until = |key: &str| {
            locks
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, u)| left(*u, now_ms))
        };
        Ok(match (until(&account), until(&ip)) {
            (Some(d), _) => Err(Locked::Account(d)),
            (None, Some(d)) => Err(Locked::Address(d)),
            (None, None) => Ok(()),
        })
    }

    pub async fn record_failure(&self, account: &str, ip: &str, now_ms: i64) -> Result<()> {
        let forget_before = now_ms.saturating_sub(millis(self.policy.forget_after));
        for (key, is_address) in [(account_key(account), false), (ip_key(ip), true)] {
            let count = self
                .store
                .count_login_failure(&key, now_ms, forget_before)
                .await?;
            let lock = if is_address {
                self.policy.address_lock_for(count)
            } else {
                self.policy.lock_for(count, self.policy.account_attempts)
            };
            if let Some(lock) = lock {
                self.store
                    .lock_login_key(&key, now_ms.saturating_add(millis(lock)))
                    .await?;
            }
        }
        // Rows nobody failed on for a while go; the table stays as small as the attacks.
        self.store.sweep_login_failures(forget_before, now_ms).await?;
        Ok(())
    }

    /// Every locked account (lower-cased name or email) with the time left on its lock.
    pub async fn account_locks(&self, now_ms: i64) -> Result<HashMap<String, Duration>> {
        Ok(self
            .store
            .login_locks_by_prefix(ACCOUNT, now_ms)
            .await?
            .into_iter()
            .filter_map(|(key, until)| Some((key.strip_prefix(ACCOUNT)?.to_owned(), left(until, now_ms))))
            .collect())
    }

    /// An administrator's unlock: forgets the account's failures. `true` if there were any.
    pub async fn unlock_account(&self, account: &str) -> Result<bool> {
        self.record_success(account).await
    }

    /// A successful sign-in clears the account's counter (not the address's).
    pub async fn record_success(&self, account: &str) -> Result<bool> {
        self.store.clear_login_failures(&account_key(account)).await
    }
}

const ACCOUNT: &str = "account:";

/// The key an account's failures count under (names compare without case).
pub fn account_name(account: &str) -> String {
    account.trim().to_lowercase()
}

fn account_key(account: &str) -> String {
    format!("{ACCOUNT}{}", account_name(account))
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

#[cfg(all(test, feature = "test-support"))]
mod tests {
    use super::*;
    use crate::db::testing::{TestDatabase, fresh_database};

    const NOW: i64 = 1_800_000_000_000;
    const S: i64 = 1000;

    async fn throttle() -> (LoginThrottle, TestDatabase) {
        let test = fresh_database().await;
        let policy = ThrottlePolicy {
            account_attempts: 3,
            ip_attempts: 5,
            base_lock: Duration::from_secs(10),
            max_lock: Duration::from_secs(60),
            ip_max_lock: Duration::from_secs(20),
            forget_after: Duration::from_secs(600),
        };
        (
            LoginThrottle::new(policy, IdentityStore::new(test.db.clone())),
            test,
        )
    }

    #[test]
    fn the_lock_starts_at_the_allowance_doubles_and_is_capped() {
        let policy = ThrottlePolicy {
            base_lock: Duration::from_secs(10),
            max_lock: Duration::from_secs(60),
            ..ThrottlePolicy::default()
        };
        assert_eq!(policy.lock_for(2, 3), None);
        assert_eq!(policy.lock_for(3, 3), Some(Duration::from_secs(10)));
        assert_eq!(policy.lock_for(4, 3), Some(Duration::from_secs(20)));
        assert_eq!(policy.lock_for(40, 3), Some(Duration::from_secs(60)));
    }

    #[tokio::test]
    async fn an_account_locks_after_its_allowance_and_the_lock_doubles() {
        let (t, _db) = throttle().await;
        for _ in 0..2 {
            t.record_failure("Alice", "10.0.0.1", NOW)
                .await
                .expect("the database answers");
            assert_eq!(
                t.check("alice", "10.0.0.1", NOW)
                    .await
                    .expect("the database answers"),
                Ok(())
            );
        }
        t.record_failure("alice", "10.0.0.1", NOW)
            .await
            .expect("the database answers");
        assert_eq!(
            t.check("ALICE", "10.0.0.2", NOW)
                .await
                .expect("the database answers"),
            Err(Locked::Account(Duration::from_secs(10)))
        );
        let later = NOW + 11 * S;
        assert_eq!(
            t.check("alice", "10.0.0.2", later)
                .await
                .expect("the database answers"),
            Ok(())
        );
        t.record_failure("alice", "10.0.0.2", later)
            .await
            .expect("the database answers");
        assert_eq!(
            t.check("alice", "10.0.0.2", later)
                .await
                .expect("the database answers"),
            Err(Locked::Account(Duration::from_secs(20)))
        );
        let locks = t.account_locks(later).await.expect("the database answers");
        assert_eq!(locks.get("alice"), Some(&Duration::from_secs(20)));
    }

    #[tokio::test]
    async fn the_lock_is_capped() {
        let (t, _db) = throttle().await;
        for _ in 0..12 {
            t.record_failure("bob", "10.0.0.9", NOW)
                .await
                .expect("the database answers");
        }
        assert_eq!(
            t.check("bob", "10.0.0.1", NOW)
                .await
                .expect("the database answers"),
            Err(Locked::Account(Duration::from_secs(60)))
        );
    }

    #[tokio::test]
    async fn an_address_locks_across_accounts() {
        let (t, _db) = throttle().await;
        for name in ["a", "b", "c", "d", "e"] {
            t.record_failure(name, "192.0.2.7", NOW)
                .await
                .expect("the database answers");
        }
        assert!(matches!(
            t.check("fresh", "192.0.2.7", NOW)
                .await
                .expect("the database answers"),
            Err(Locked::Address(_))
        ));
        assert_eq!(
            t.check("fresh", "192.0.2.8", NOW)
                .await
                .expect("the database answers"),
            Ok(())
        );
    }

    #[test]
    fn an_address_lock_is_softer_than_an_accounts() {
        let policy = ThrottlePolicy::default();
        // Forty failures from one address (an ingress in front of everyone): a minute at most.
        for count in 1..=40 {
            assert!(
                policy
                    .address_lock_for(count)
                    .is_none_or(|d| d <= Duration::from_secs(60))
            );
        }
        assert_eq!(policy.address_lock_for(19), None, "twenty are free");
        assert_eq!(policy.address_lock_for(20), Some(Duration::from_secs(30)));
        // The account's lock keeps doubling to its own cap.
        assert_eq!(policy.lock_for(10, 5), Some(Duration::from_secs(900)));
    }

    #[tokio::test]
    async fn success_clears_the_account_and_old_failures_are_forgotten() {
        let (t, _db) = throttle().await;
        t.record_failure("carol", "10.0.0.1", NOW)
            .await
            .expect("the database answers");
        t.record_failure("carol", "10.0.0.1", NOW)
            .await
            .expect("the database answers");
        assert!(t.record_success("carol").await.expect("the database answers"));
        t.record_failure("carol", "10.0.0.1", NOW)
            .await
            .expect("the database answers");
        assert_eq!(
            t.check("carol", "10.0.0.3", NOW)
                .await
                .expect("the database answers"),
            Ok(())
        );
        let much_later = NOW + 601 * S;
        t.record_failure("carol", "10.0.0.3", much_later)
            .await
            .expect("the database answers");
        t.record_failure("carol", "10.0.0.3", much_later)
            .await
            .expect("the database answers");
        assert_eq!(
            t.check("carol", "10.0.0.4", much_later)
                .await
                .expect("the database answers"),
            Ok(())
        );
    }

    #[tokio::test]
    async fn failures_counted_at_once_all_count() {
        let (t, _db) = throttle().await;
        let attempts = (0..3).map(|_| t.record_failure("dave", "10.0.0.5", NOW));
        for done in futures::future::join_all(attempts).await {
            done.expect("as expected");
        }
        assert!(matches!(
            t.check("dave", "10.0.0.6", NOW)
                .await
                .expect("the database answers"),
            Err(Locked::Account(_))
        ));
    }
}
