//! The `sessions` table (server-side sessions behind the cookie and the bearer JWTs) and
//! `oauth_states` (logins waiting for the provider's callback). Only SHA-256 hashes of the
//! secrets are stored.

use chrono::{DateTime, Utc};

use super::IdentityStore;
use crate::db::{Result, Tx, with_pool, with_tx};
use crate::identity::SessionInfo;

/// A live session's row, as the authenticator checks it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What it takes to open a session.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    /// `cookie` or `bearer`.
    pub kind: &'static str,
    pub method: &'a str,
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// A login waiting for its callback: everything needed to finish it, found by the state's hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OAuthStateRow {
    pub provider: String,
    pub browser_hash: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub return_to: String,
    pub expires_at: DateTime<Utc>,
    /// Set when the sign-in links the provider to this (signed-in) user instead of signing in.
    pub link_user_id: Option<i64>,
}

impl IdentityStore {
    pub async fn insert_session(&self, session: &NewSession<'_>) -> Result<i64> {
        let now = Utc::now();
        let id = with_pool!(&self.db, pool => sqlx::query_scalar(
            "INSERT INTO sessions (token_hash, user_id, kind, method, user_agent, ip, created_at, updated_at, \
             last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8) RETURNING id",
        )
        .bind(session.token_hash)
        .bind(session.user_id)
        .bind(session.kind)
        .bind(session.method)
        .bind(session.user_agent)
        .bind(session.ip)
        .bind(now)
        .bind(session.expires_at)
        .fetch_one(pool)
        .await?);
        Ok(id)
    }

    pub async fn find_session_by_hash(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let row = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, user_id, kind, last_seen_at, expires_at, revoked_at FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        Ok(row)
    }

    pub async fn find_session(&self, id: i64) -> Result<Option<SessionRow>> {
        let row = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, user_id, kind, last_seen_at, expires_at, revoked_at FROM sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        Ok(row)
    }

    pub async fn touch_session(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        with_pool!(&self.db, pool => sqlx::query("UPDATE sessions SET last_seen_at = $2, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Revokes one of `user_id`'s sessions; `false` when there was no such live session.
    pub async fn revoke_session(&self, user_id: i64, id: i64) -> Result<bool> {
        let n = with_pool!(&self.db, pool => sqlx::query(
            "UPDATE sessions SET revoked_at = $3, updated_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
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

    /// Revokes every live session of the user ("sign out everywhere", deactivation, password
    /// reset), inside the caller's transaction.
    pub async fn revoke_all_sessions_in(&self, tx: &mut Tx, user_id: i64) -> Result<u64> {
        let n = with_tx!(tx, conn => sqlx::query(
            "UPDATE sessions SET revoked_at = $2, updated_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(Utc::now())
        .execute(&mut *conn)
        .await?
        .rows_affected());
        self.access_changed(user_id);
        Ok(n)
    }

    /// Revokes every live session of the user but `keep` (the one making a change that ends
    /// the others: a new password, a new email), inside the caller's transaction.
    pub async fn revoke_other_sessions_in(
        &self,
        tx: &mut Tx,
        user_id: i64,
        keep: Option<i64>,
    ) -> Result<u64> {
        let n = with_tx!(tx, conn => sqlx::query(
            "UPDATE sessions SET revoked_at = $2, updated_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
             AND id <> $3",
        )
        .bind(user_id)
        .bind(Utc::now())
        .bind(keep.unwrap_or(-1))
        .execute(&mut *conn)
        .await?
        .rows_affected());
        self.access_changed(user_id);
        Ok(n)
    }

    /// How a session began: its sign-in method and when.
    pub async fn session_origin(&self, id: i64) -> Result<Option<(String, DateTime<Utc>)>> {
        let row = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT method, created_at FROM sessions WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        Ok(row)
    }

    /// The user's sessions that are neither revoked nor past their absolute expiry.
    pub async fn list_sessions(&self, user_id: i64) -> Result<Vec<SessionInfo>> {
        let rows = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, kind, method, user_agent, ip, created_at, last_seen_at, expires_at FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY last_seen_at DESC",
        )
        .bind(user_id)
        .bind(Utc::now())
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }

    pub async fn insert_oauth_state(&self, state_hash: &str, row: &OAuthStateRow) -> Result<()> {
        let now = Utc::now();
        with_pool!(&self.db, pool => sqlx::query(
            "INSERT INTO oauth_states (state_hash, provider, browser_hash, pkce_verifier, nonce, return_to, \
             created_at, updated_at, expires_at, link_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)",
        )
        .bind(state_hash)
        .bind(&row.provider)
        .bind(&row.browser_hash)
        .bind(&row.pkce_verifier)
        .bind(&row.nonce)
        .bind(&row.return_to)
        .bind(now)
        .bind(row.expires_at)
        .bind(row.link_user_id)
        .execute(pool)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Takes a pending login out of the table: a state can be used once, so a replayed callback
    /// finds nothing. Expired rows are swept on the way.
    pub async fn take_oauth_state(&self, state_hash: &str) -> Result<Option<OAuthStateRow>> {
        let now = Utc::now();
        let row = with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1").bind(now).execute(pool).await?;
            sqlx::query_as(
                "DELETE FROM oauth_states WHERE state_hash = $1 \
                 RETURNING provider, browser_hash, pkce_verifier, nonce, return_to, expires_at, link_user_id",
            )
            .bind(state_hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }
}
