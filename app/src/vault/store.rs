//! The `vault_tokens` and `vault_consents` tables. Rows hold sealed tokens only; this file never
//! sees a token in the clear (the service seals and opens).
//!
//! A mint rewrites its row with the rotated token, so two mints of one row must not interleave:
//! `lock_row` takes the row for the mint. On PostgreSQL that is `SELECT … FOR UPDATE` in a
//! transaction — other replicas wait in the database, and a replica that dies mid-mint drops
//! its connection and with it the lock. SQLite is single-replica (one process owns the file),
//! so the service's in-process lock is the whole story there and no transaction is held open
//! across the call to Keycloak.

use chrono::{DateTime, Utc};

use super::crypto::{RowBinding, Sealed};
use crate::db::{Database, Result, with_pool};

/// `offline` or `refresh`, as the seed names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Offline,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::Refresh => "refresh",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "refresh" {
            Self::Refresh
        } else {
            Self::Offline
        }
    }
}

const COLUMNS: &str = "id, subject, kind, ciphertext, nonce, key_id, token_hash, session_state, attributes, \
                       created_at, updated_at, last_used_at";

/// One stored token, sealed.
#[derive(Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub subject: String,
    /// `offline` or `refresh` (the CHECK constraint holds it); see `kind()`.
    pub kind: String,
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    pub key_id: String,
    pub token_hash: String,
    pub session_state: String,
    pub attributes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    pub fn kind(&self) -> TokenKind {
        TokenKind::parse(&self.kind)
    }

    pub fn binding(&self) -> RowBinding<'_> {
        RowBinding {
            row_id: &self.id,
            user: &self.subject,
            kind: self.kind().as_str(),
        }
    }

    pub fn sealed(&self) -> Sealed {
        Sealed {
            key_id: self.key_id.clone(),
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
        }
    }
}

impl std::fmt::Debug for TokenRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRow")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .field("kind", &self.kind)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A token to insert, already sealed for its row.
pub struct NewToken<'a> {
    pub id: &'a str,
    pub subject: &'a str,
    pub kind: TokenKind,
    pub sealed: &'a Sealed,
    pub token_hash: &'a str,
    pub session_state: &'a str,
    pub attributes: &'a str,
}

/// A new sealed value for an existing row (a rotated token).
pub struct Rewrite<'a> {
    pub sealed: &'a Sealed,
    pub token_hash: &'a str,
    pub session_state: &'a str,
}

/// A pending consent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsentRow {
    pub subject: String,
    pub session_state: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub redirect_uri: String,
    pub return_to: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A row held for one mint (see the module comment).
pub enum RowLock {
    Sqlite,
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

#[derive(Clone)]
pub struct VaultStore {
    db: Database,
}

impl VaultStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The key ids rows are sealed with.
    pub async fn key_ids(&self) -> Result<Vec<String>> {
        Ok(
            with_pool!(&self.db, pool => sqlx::query_scalar("SELECT DISTINCT key_id FROM vault_tokens ORDER BY key_id")
            .fetch_all(pool)
            .await?),
        )
    }

    pub async fn insert(&self, token: &NewToken<'_>) -> Result<()> {
        let now = Utc::now();
        with_pool!(&self.db, pool => sqlx::query(
            "INSERT INTO vault_tokens (id, subject, kind, ciphertext, nonce, key_id, token_hash, session_state, \
             attributes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(token.id)
        .bind(token.subject)
        .bind(token.kind.as_str())
        .bind(&token.sealed.ciphertext)
        .bind(&token.sealed.nonce)
        .bind(&token.sealed.key_id)
        .bind(token.token_hash)
        .bind(token.session_state)
        .bind(token.attributes)
        .bind(now)
        .execute(pool)
        .await
        .map(drop)?);
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<TokenRow>> {
        let sql = format!("SELECT {COLUMNS} FROM vault_tokens WHERE id = $1");
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// A subject's tokens, newest first.
    pub async fn list(&self, subject: &str) -> Result<Vec<TokenRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM vault_tokens WHERE subject = $1 ORDER BY created_at DESC, id");
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(subject).fetch_all(pool).await?))
    }

    /// Every subject with stored tokens and how many (for admins).
    pub async fn subjects(&self) -> Result<Vec<(String, i64)>> {
        Ok(with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT subject, COUNT(*) FROM vault_tokens GROUP BY subject ORDER BY subject",
        )
        .fetch_all(pool)
        .await?))
    }

    /// The subject's newest token of `kind`, preferring one of `session_state` when given.
    pub async fn newest(
        &self,
        subject: &str,
        kind: TokenKind,
        session_state: Option<&str>,
    ) -> Result<Option<TokenRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM vault_tokens WHERE subject = $1 AND kind = $2 \
             ORDER BY CASE WHEN session_state = $3 THEN 0 ELSE 1 END, created_at DESC, id LIMIT 1"
        );
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql)
            .bind(subject)
            .bind(kind.as_str())
            .bind(session_state.unwrap_or(""))
            .fetch_optional(pool)
            .await?))
    }

    /// The id of the subject's refresh-token row (one per subject).
    pub async fn refresh_id(&self, subject: &str) -> Result<Option<String>> {
        Ok(with_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT id FROM vault_tokens WHERE subject = $1 AND kind = 'refresh'",
        )
        .bind(subject)
        .fetch_optional(pool)
        .await?))
    }

    /// Whether another token of `kind` lives in the same Keycloak session.
    pub async fn shares_session(
        &self,
        session_state: &str,
        except_id: &str,
        kind: TokenKind,
    ) -> Result<bool> {
        let n: i64 = with_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM vault_tokens WHERE session_state = $1 AND id <> $2 AND kind = $3",
        )
        .bind(session_state)
        .bind(except_id)
        .bind(kind.as_str())
        .fetch_one(pool)
        .await?);
        Ok(n > 0)
    }

    pub async fn delete(&self, id: &str) -> Result<bool> {
        let n = with_pool!(&self.db, pool => sqlx::query("DELETE FROM vault_tokens WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }

    /// Deletes the subject's tokens of a Keycloak session (it was ended); how many.
    pub async fn delete_session_tokens(&self, subject: &str, session_state: &str) -> Result<u64> {
        Ok(with_pool!(&self.db, pool => sqlx::query(
            "DELETE FROM vault_tokens WHERE subject = $1 AND session_state = $2",
        )
        .bind(subject)
        .bind(session_state)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Takes the row for a mint: it is read under the lock and written back with `rewrite`.
    pub async fn lock_row(&self, id: &str) -> Result<(RowLock, Option<TokenRow>)> {
        let sql = format!("SELECT {COLUMNS} FROM vault_tokens WHERE id = $1");
        match &self.db {
            Database::Sqlite(pool) => {
                let row = sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
                Ok((RowLock::Sqlite, row))
            }
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let row = sqlx::query_as(&format!("{sql} FOR UPDATE"))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                Ok((RowLock::Postgres(tx), row))
            }
        }
    }

    /// Writes a minted row back (a rotated token, or just `last_used_at`) and releases it.
    pub async fn rewrite(&self, lock: RowLock, id: &str, rewrite: Option<&Rewrite<'_>>) -> Result<()> {
        let now = Utc::now();
        macro_rules! run {
            ($exec:expr) => {
                match rewrite {
                    Some(r) => sqlx::query(
                        "UPDATE vault_tokens SET ciphertext = $2, nonce = $3, key_id = $4, token_hash = $5, \
                         session_state = CASE WHEN $6 = '' THEN session_state ELSE $6 END, \
                         updated_at = $7, last_used_at = $7 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(&r.sealed.ciphertext)
                    .bind(&r.sealed.nonce)
                    .bind(&r.sealed.key_id)
                    .bind(r.token_hash)
                    .bind(r.session_state)
                    .bind(now)
                    .execute($exec)
                    .await?,
                    None => {
                        sqlx::query("UPDATE vault_tokens SET last_used_at = $2 WHERE id = $1")
                            .bind(id)
                            .bind(now)
                            .execute($exec)
                            .await?
                    }
                }
            };
        }
        match (lock, &self.db) {
            (RowLock::Postgres(mut tx), _) => {
                run!(&mut *tx);
                tx.commit().await?;
            }
            (RowLock::Sqlite, Database::Sqlite(pool)) => {
                run!(pool);
            }
            (RowLock::Sqlite, Database::Postgres(pool)) => {
                run!(pool);
            }
        }
        Ok(())
    }

    /// Inserts the subject's refresh row, or rewrites it when one exists (one per subject).
    /// `seal` seals for the row id it is given; on a race with another insert the winner's id
    /// is used, so a ciphertext always matches its row.
    pub async fn put_refresh(
        &self,
        subject: &str,
        session_state: &str,
        attributes: &str,
        token_hash: &str,
        seal: impl Fn(&str) -> Sealed,
    ) -> Result<String> {
        for _ in 0..3 {
            if let Some(id) = self.refresh_id(subject).await? {
                let sealed = seal(&id);
                let n = with_pool!(&self.db, pool => sqlx::query(
                    "UPDATE vault_tokens SET ciphertext = $2, nonce = $3, key_id = $4, token_hash = $5, \
                     session_state = $6, attributes = $7, updated_at = $8 WHERE id = $1",
                )
                .bind(&id)
                .bind(&sealed.ciphertext)
                .bind(&sealed.nonce)
                .bind(&sealed.key_id)
                .bind(token_hash)
                .bind(session_state)
                .bind(attributes)
                .bind(Utc::now())
                .execute(pool)
                .await?
                .rows_affected());
                if n == 1 {
                    return Ok(id);
                }
                continue;
            }
            let id = uuid::Uuid::new_v4().to_string();
            let sealed = seal(&id);
            let now = Utc::now();
            let n = with_pool!(&self.db, pool => sqlx::query(
                "INSERT INTO vault_tokens (id, subject, kind, ciphertext, nonce, key_id, token_hash, session_state, \
                 attributes, created_at, updated_at) VALUES ($1, $2, 'refresh', $3, $4, $5, $6, $7, $8, $9, $9) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&id)
            .bind(subject)
            .bind(&sealed.ciphertext)
            .bind(&sealed.nonce)
            .bind(&sealed.key_id)
            .bind(token_hash)
            .bind(session_state)
            .bind(attributes)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
            if n == 1 {
                return Ok(id);
            }
        }
        Err(crate::db::DbError::Conflict {
            constraint: "vault_tokens_one_refresh".into(),
        })
    }

    /// Rows sealed under another key than `active`, a page at a time (rotation).
    pub async fn not_under(&self, active: &str, after_id: &str, limit: i64) -> Result<Vec<TokenRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM vault_tokens WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3");
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql)
            .bind(active)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Replaces a row's sealed value only if it still holds `old` (compare-and-swap on the
    /// nonce, which is fresh for every seal): a mint that rewrote the row meanwhile wins.
    pub async fn swap_sealed(&self, id: &str, old: &Sealed, new: &Sealed) -> Result<bool> {
        let n = with_pool!(&self.db, pool => sqlx::query(
            "UPDATE vault_tokens SET ciphertext = $3, nonce = $4, key_id = $5 WHERE id = $1 AND nonce = $2",
        )
        .bind(id)
        .bind(&old.nonce)
        .bind(&new.ciphertext)
        .bind(&new.nonce)
        .bind(&new.key_id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    pub async fn insert_consent(&self, state_hash: &str, row: &ConsentRow) -> Result<()> {
        let now = Utc::now();
        with_pool!(&self.db, pool => sqlx::query(
            "INSERT INTO vault_consents (state_hash, subject, session_state, pkce_verifier, nonce, redirect_uri, \
             return_to, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(state_hash)
        .bind(&row.subject)
        .bind(&row.session_state)
        .bind(&row.pkce_verifier)
        .bind(&row.nonce)
        .bind(&row.redirect_uri)
        .bind(&row.return_to)
        .bind(now)
        .bind(row.expires_at)
        .execute(pool)
        .await
        .map(drop)?);
        // Expired consents nobody finished go with the next one started.
        with_pool!(&self.db, pool => sqlx::query("DELETE FROM vault_consents WHERE expires_at < $1")
            .bind(now)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Takes a pending consent: the row is deleted in the same statement, so it works once.
    pub async fn take_consent(&self, state_hash: &str) -> Result<Option<ConsentRow>> {
        Ok(with_pool!(&self.db, pool => sqlx::query_as(
            "DELETE FROM vault_consents WHERE state_hash = $1 \
             RETURNING subject, session_state, pkce_verifier, nonce, redirect_uri, return_to, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(pool)
        .await?))
    }
}
