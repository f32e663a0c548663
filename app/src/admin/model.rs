//! Wire types of the admin pages: users and the forms that change them. Tenants
//! (`identity::TenantInfo`) and audit entries (`audit::AuditEntry`) are their domains' own.

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
    /// Seconds left on a sign-in lock after repeated failures; `None` when not locked.
    #[serde(default)]
    pub locked_for_secs: Option<u64>,
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
