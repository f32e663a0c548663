//! The `login_failures` table: failed password sign-ins per key (`account:<name>` or
//! `ip:<address>`), shared by every replica. Each statement is one atomic step, so failures
//! counted on two replicas at once both count.

use super::IdentityStore;
use crate::db::{Result, with_pool};

impl IdentityStore {
    /// Counts one failure for `key` at `now_ms`; a key whose last failure is older than
    /// `forget_before_ms` starts afresh (its lock forgotten too). Returns the count now.
    pub async fn count_login_failure(&self, key: &str, now_ms: i64, forget_before_ms: i64) -> Result<i64> {
        let sql = "INSERT INTO login_failures (key, failures, last_failed_ms, locked_until_ms) \
                   VALUES ($1, 1, $2, NULL) \
                   ON CONFLICT (key) DO UPDATE SET \
                     failures = CASE WHEN login_failures.last_failed_ms <= $3 THEN 1 \
                                     ELSE login_failures.failures + 1 END, \
                     locked_until_ms = CASE WHEN login_failures.last_failed_ms <= $3 THEN NULL \
                                            ELSE login_failures.locked_until_ms END, \
                     last_failed_ms = $2 \
                   RETURNING failures";
        Ok(with_pool!(&self.db, pool => sqlx::query_scalar(sql)
            .bind(key)
            .bind(now_ms)
            .bind(forget_before_ms)
            .fetch_one(pool)
            .await?))
    }

    /// Locks `key` until `until_ms`, unless it is already locked for longer.
    pub async fn lock_login_key(&self, key: &str, until_ms: i64) -> Result<()> {
        let sql = "UPDATE login_failures SET locked_until_ms = $2 \
                   WHERE key = $1 AND (locked_until_ms IS NULL OR locked_until_ms < $2)";
        with_pool!(&self.db, pool => sqlx::query(sql).bind(key).bind(until_ms).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// The keys among `keys` locked after `now_ms`, with the moment each lock ends.
    pub async fn login_locks(&self, keys: &[&str], now_ms: i64) -> Result<Vec<(String, i64)>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (2..=keys.len() + 1).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT key, locked_until_ms FROM login_failures \
             WHERE locked_until_ms > $1 AND key IN ({})",
            placeholders.join(", ")
        );
        Ok(with_pool!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql).bind(now_ms);
            for key in keys {
                query = query.bind(*key);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Every key starting with `prefix` locked after `now_ms` (the users page shows them all).
    pub async fn login_locks_by_prefix(&self, prefix: &str, now_ms: i64) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT key, locked_until_ms FROM login_failures \
                   WHERE locked_until_ms > $1 AND substr(key, 1, length($2)) = $2";
        Ok(with_pool!(&self.db, pool => sqlx::query_as(sql)
            .bind(now_ms)
            .bind(prefix)
            .fetch_all(pool)
            .await?))
    }

    /// Forgets `key`'s failures; `true` if there were any.
    pub async fn clear_login_failures(&self, key: &str) -> Result<bool> {
        let sql = "DELETE FROM login_failures WHERE key = $1";
        Ok(with_pool!(&self.db, pool => sqlx::query(sql).bind(key).execute(pool).await?.rows_affected()) > 0)
    }

    /// Drops rows nobody failed on since `before_ms` and that hold no lock past `now_ms`.
    pub async fn sweep_login_failures(&self, before_ms: i64, now_ms: i64) -> Result<u64> {
        let sql = "DELETE FROM login_failures WHERE last_failed_ms < $1 \
                   AND (locked_until_ms IS NULL OR locked_until_ms <= $2)";
        Ok(with_pool!(&self.db, pool => sqlx::query(sql)
            .bind(before_ms)
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected()))
    }
}
