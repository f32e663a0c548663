//! The `settings` table: installation-wide facts such as when the first admin was created.

use chrono::Utc;

use super::users::{INSERT_USER, bind_new_user};
use super::{IdentityStore, NewUser, UserRow};
use crate::db::{Result, with_pool};

/// Settings key recording that the first-start admin exists (so deleting it later does not
/// make the next start create another).
pub const ADMIN_BOOTSTRAPPED_AT: &str = "bootstrap.admin_created_at";

impl IdentityStore {
    pub async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let value = with_pool!(&self.db, pool => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?);
        Ok(value)
    }

    /// Inserts or replaces one setting.
    pub async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        let now = Utc::now();
        with_pool!(&self.db, pool => sqlx::query(
            "INSERT INTO settings (key, value, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(pool)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Creates `admin` exactly once per installation, in one transaction with the marker
    /// setting, so two replicas starting together cannot both create one. Returns the new row,
    /// or `None` when an earlier start already did it.
    pub async fn bootstrap_admin(&self, admin: &NewUser) -> Result<Option<UserRow>> {
        let now = Utc::now();
        let created = with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let claimed = sqlx::query(
                "INSERT INTO settings (key, value, created_at, updated_at) VALUES ($1, $2, $3, $3) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(ADMIN_BOOTSTRAPPED_AT)
            .bind(now.to_rfc3339())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                None
            } else {
                let row: UserRow = bind_new_user!(sqlx::query_as(INSERT_USER), admin, now)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Some(row)
            }
        });
        Ok(created)
    }
}
