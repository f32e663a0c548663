//! The `users` table. Identity features build on these; the foundation only needs the
//! bootstrap admin.

use chrono::{DateTime, Utc};

use super::{Database, Result, with_pool};
use crate::identity::{PasswordHash, Role};

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

macro_rules! user_columns {
    () => {
        "id, username, email, display_name, password_hash, role, active, created_at, updated_at, last_login_at"
    };
}

pub(super) const INSERT_USER: &str = concat!(
    "INSERT INTO users (username, email, display_name, password_hash, role, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ",
    user_columns!()
);
const SELECT_USER_BY_USERNAME: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE username = $1");

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

impl Database {
    pub async fn count_users(&self) -> Result<i64> {
        let n =
            with_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?);
        Ok(n)
    }

    /// Inserts a user; a taken username or email is `DbError::Conflict`.
    pub async fn insert_user(&self, user: &NewUser) -> Result<UserRow> {
        let now = Utc::now();
        let row = with_pool!(self, pool => bind_new_user!(sqlx::query_as(INSERT_USER), user, now)
            .fetch_one(pool)
            .await?);
        Ok(row)
    }

    pub async fn find_user_by_username(&self, username: &str) -> Result<UserRow> {
        let row = with_pool!(self, pool => sqlx::query_as(SELECT_USER_BY_USERNAME)
            .bind(username)
            .fetch_one(pool)
            .await?);
        Ok(row)
    }
}
