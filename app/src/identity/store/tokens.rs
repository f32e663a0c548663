//! The `api_tokens` table: personal tokens, stored as SHA-256 hashes.

use chrono::{DateTime, Utc};

use super::IdentityStore;
use crate::db::{Result, with_pool};
use crate::identity::{ApiTokenInfo, TokenScope};

const TOKEN_COLUMNS: &str = "id, name, hint, scope, expires_at, last_used_at, revoked_at, created_at";

/// A token found by its hash, with its owner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub id: i64,
    pub user_id: i64,
    #[sqlx(try_from = "String")]
    pub scope: TokenScope,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl IdentityStore {
    pub async fn insert_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        hint: &str,
        scope: TokenScope,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiTokenInfo> {
        let now = Utc::now();
        let sql = format!(
            "INSERT INTO api_tokens (user_id, name, token_hash, hint, scope, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {TOKEN_COLUMNS}"
        );
        let row = with_pool!(&self.db, pool => sqlx::query_as(&sql)
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(hint)
            .bind(scope.as_str())
            .bind(expires_at)
            .bind(now)
            .fetch_one(pool)
            .await?);
        Ok(row)
    }

    pub async fn find_api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiTokenRow>> {
        let row = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, user_id, scope, expires_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        Ok(row)
    }

    pub async fn touch_api_token(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        with_pool!(&self.db, pool => sqlx::query("UPDATE api_tokens SET last_used_at = $2, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiTokenInfo>> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC");
        let rows = with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?);
        Ok(rows)
    }

    /// Revokes one of the user's tokens; `false` when it does not exist or was already revoked.
    pub async fn revoke_api_token(&self, user_id: i64, id: i64) -> Result<bool> {
        let n = with_pool!(&self.db, pool => sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3, updated_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(user_id)
        .bind(Utc::now())
        .execute(pool)
        .await?
        .rows_affected());
        self.access_changed(user_id);
        Ok(n > 0)
    }
}
