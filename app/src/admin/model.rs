//! Wire types of the admin pages: users, tenants and the audit log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::{Role, TenantRef};

/// A user as the admin pages list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub has_password: bool,
    pub providers: Vec<String>,
    pub tenants: Vec<TenantRef>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A tenant with how many members it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TenantInfo {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub members: i64,
    pub created_at: DateTime<Utc>,
}

/// Whether an audited attempt worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    /// Refused by a permission, CSRF or allow-list check.
    Denied,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Failure, Outcome::Denied];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

impl TryFrom<String> for Outcome {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == value)
            .ok_or_else(|| format!("unknown outcome {value:?}"))
    }
}

/// One line of the audit log: who did what to which object, when, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub outcome: Outcome,
    pub ip: String,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

/// Filters of the audit page; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub outcome: String,
}

/// The admin's "new user" form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserForm {
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    pub role: Role,
    /// Empty: Heimdall generates one and shows it once.
    #[serde(default)]
    pub password: String,
}

/// A user just created, or whose password was just reset: the password is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserWithPassword {
    pub user: UserSummary,
    pub password: Option<String>,
}

/// What an admin may change about a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserPatch {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default, alias = "is_active")]
    pub active: Option<bool>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}
