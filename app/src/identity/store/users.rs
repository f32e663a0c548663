//! The `users` and `identity_links` tables.

use chrono::{DateTime, Utc};

use super::IdentityStore;
use crate::db::{DbError, Result, Tx, with_pool, with_tx};
use crate::identity::{LinkedIdentity, PasswordHash, Role};

/// A row of `users`. Holds the password hash, so it never crosses the wire: map it to a
/// model type first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: Option<PasswordHash>,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub active: bool,
    /// The email was set by an admin: a provider's first sign-in may link by it.
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// What it takes to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: Option<PasswordHash>,
    pub role: Role,
}

/// A partial update of a user; `None` leaves a field alone. `email: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<Option<String>>,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password_hash: Option<PasswordHash>,
    pub email_verified: Option<bool>,
}

macro_rules! user_columns {
    () => {
        "id, username, email, display_name, password_hash, role, active, email_verified, created_at, updated_at, last_login_at"
    };
}

pub(super) const INSERT_USER: &str = concat!(
    "INSERT INTO users (username, email, display_name, password_hash, role, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ",
    user_columns!()
);
const UPDATE_USER: &str = concat!(
    "UPDATE users SET email = CASE WHEN $2 THEN $3 ELSE email END, \
     display_name = coalesce($4, display_name), role = coalesce($5, role), \
     active = coalesce($6, active), password_hash = coalesce($7, password_hash), updated_at = $8, \
     email_verified = coalesce($9, email_verified) \
     WHERE id = $1 RETURNING ",
    user_columns!()
);
const SELECT_USER_BY_USERNAME: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE username = $1");
const SELECT_USER_BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
const SELECT_USER_BY_EMAIL: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE lower(email) = lower($1)"
);
const SEARCH_USERS: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE $1 = '' OR lower(username) LIKE $2 OR lower(coalesce(email, '')) LIKE $2 \
     OR lower(display_name) LIKE $2 ORDER BY username LIMIT 500"
);

/// Binds a `NewUser` and its timestamp to `INSERT_USER`'s parameters, for either backend.
macro_rules! bind_new_user {
    ($query:expr, $user:expr, $now:expr) => {
        $query
            .bind(&$user.username)
            .bind(&$user.email)
            .bind(&$user.display_name)
            .bind(
                $user
                    .password_hash
                    .as_ref()
                    .map($crate::identity::PasswordHash::as_phc),
            )
            .bind($user.role.as_str())
            .bind($now)
    };
}
pub(super) use bind_new_user;

impl IdentityStore {
    pub async fn count_users(&self) -> Result<i64> {
        let n = with_pool!(&self.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?);
        Ok(n)
    }

    /// Inserts a user; a taken username or email is `DbError::Conflict`.
    pub async fn insert_user(&self, user: &NewUser) -> Result<UserRow> {
        let now = Utc::now();
        let row = with_pool!(&self.db, pool => bind_new_user!(sqlx::query_as(INSERT_USER), user, now)
            .fetch_one(pool)
            .await?);
        Ok(row)
    }

    pub async fn insert_user_in(&self, tx: &mut Tx, user: &NewUser) -> Result<UserRow> {
        let now = Utc::now();
        let row = with_tx!(tx, conn => bind_new_user!(sqlx::query_as(INSERT_USER), user, now)
            .fetch_one(&mut *conn)
            .await?);
        Ok(row)
    }

    pub async fn find_user(&self, id: i64) -> Result<UserRow> {
        let row =
            with_pool!(&self.db, pool => sqlx::query_as(SELECT_USER_BY_ID).bind(id).fetch_one(pool).await?);
        Ok(row)
    }

    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        let row = with_pool!(&self.db, pool => sqlx::query_as(SELECT_USER_BY_EMAIL)
            .bind(email)
            .fetch_optional(pool)
            .await?);
        Ok(row)
    }

    /// Users whose username, email or display name contains `query` (all when empty).
    pub async fn search_users(&self, query: &str) -> Result<Vec<UserRow>> {
        let query = query.trim().to_lowercase();
        let pattern = format!("%{}%", query.replace('%', ""));
        let rows = with_pool!(&self.db, pool => sqlx::query_as(SEARCH_USERS)
            .bind(&query)
            .bind(&pattern)
            .fetch_all(pool)
            .await?);
        Ok(rows)
    }

    /// Applies the fields of `patch` that are set, in one statement of the caller's transaction.
    pub async fn update_user_in(&self, tx: &mut Tx, id: i64, patch: &UserPatch) -> Result<UserRow> {
        let now = Utc::now();
        let row = with_tx!(tx, conn => sqlx::query_as(UPDATE_USER)
        .bind(id)
        .bind(patch.email.is_some())
        .bind(patch.email.clone().flatten())
        .bind(&patch.display_name)
        .bind(patch.role.map(Role::as_str))
        .bind(patch.active)
        .bind(patch.password_hash.as_ref().map(PasswordHash::as_phc))
        .bind(now)
        .bind(patch.email_verified)
        .fetch_one(&mut *conn)
        .await?);
        self.access_changed(id);
        Ok(row)
    }

    /// Applies `patch` on its own (a change with nothing else to keep it company).
    pub async fn update_user(&self, id: i64, patch: &UserPatch) -> Result<UserRow> {
        let mut tx = self.db.begin().await?;
        let row = self.update_user_in(&mut tx, id, patch).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn delete_user_in(&self, tx: &mut Tx, id: i64) -> Result<()> {
        let deleted = with_tx!(tx, conn => sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        if deleted == 0 {
            return Err(DbError::NotFound);
        }
        self.access_changed(id);
        Ok(())
    }

    pub async fn touch_last_login(&self, id: i64) -> Result<()> {
        with_pool!(&self.db, pool => sqlx::query("UPDATE users SET last_login_at = $2 WHERE id = $1")
            .bind(id)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    /// The user linked to `provider`'s `subject`, if any.
    pub async fn find_linked_user(&self, provider: &str, subject: &str) -> Result<Option<UserRow>> {
        let row = with_pool!(&self.db, pool => sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = (SELECT user_id FROM identity_links WHERE provider = $1 AND subject = $2)"
        ))
        .bind(provider)
        .bind(subject)
        .fetch_optional(pool)
        .await?);
        Ok(row)
    }

    pub async fn link_identity_in(
        &self,
        tx: &mut Tx,
        user_id: i64,
        provider: &str,
        subject: &str,
        email: Option<&str>,
    ) -> Result<()> {
        let now = Utc::now();
        with_tx!(tx, conn => sqlx::query(
            "INSERT INTO identity_links (user_id, provider, subject, email, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(user_id)
        .bind(provider)
        .bind(subject)
        .bind(email)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(drop)?);
        Ok(())
    }

    pub async fn list_links(&self, user_id: i64) -> Result<Vec<LinkedIdentity>> {
        let rows = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT provider, email, created_at FROM identity_links WHERE user_id = $1 ORDER BY provider",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }

    /// `(user_id, provider)` for every link, for the admin list (one query, not one per user).
    pub async fn all_link_providers(&self) -> Result<Vec<(i64, String)>> {
        let rows = with_pool!(&self.db, pool => sqlx::query_as("SELECT user_id, provider FROM identity_links ORDER BY provider")
            .fetch_all(pool)
            .await?);
        Ok(rows)
    }

    /// The subject of the user's link with `provider`, if they have one.
    pub async fn linked_subject(&self, user_id: i64, provider: &str) -> Result<Option<String>> {
        let row = with_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT subject FROM identity_links WHERE user_id = $1 AND provider = $2",
        )
        .bind(user_id)
        .bind(provider)
        .fetch_optional(pool)
        .await?);
        Ok(row)
    }

    /// `(subject, username)` of every user linked with `provider`.
    pub async fn linked_users(&self, provider: &str) -> Result<Vec<(String, String)>> {
        let rows = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT l.subject, u.username FROM identity_links l JOIN users u ON u.id = l.user_id \
             WHERE l.provider = $1 ORDER BY u.username",
        )
        .bind(provider)
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }

    pub async fn find_user_by_username(&self, username: &str) -> Result<UserRow> {
        let row = with_pool!(&self.db, pool => sqlx::query_as(SELECT_USER_BY_USERNAME)
            .bind(username)
            .fetch_one(pool)
            .await?);
        Ok(row)
    }
}
