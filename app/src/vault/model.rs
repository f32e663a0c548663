//! What the Vault page and its server functions exchange.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A stored token as its owner sees it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    pub id: String,
    /// `offline` or `refresh`.
    pub kind: String,
    /// The Keycloak session it belongs to.
    pub session_state: String,
    /// The vault key it is sealed with.
    pub key_id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A Keycloak session of the user (from the admin API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeycloakSession {
    pub id: String,
    pub offline: bool,
    pub ip: String,
    pub started: Option<DateTime<Utc>>,
    pub last_access: Option<DateTime<Utc>>,
    /// Client ids the session is used by.
    pub clients: Vec<String>,
}

/// A user with stored tokens or a Keycloak link, for the admin's picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultUser {
    pub subject: String,
    pub username: Option<String>,
    pub tokens: i64,
}

/// Everything the Vault page shows for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultView {
    /// `None` when the vault is on; else why it is off.
    pub off_reason: Option<String>,
    /// The Keycloak subject shown; `None` when the signed-in user has no Keycloak link.
    pub subject: Option<String>,
    pub username: Option<String>,
    pub tokens: Vec<StoredToken>,
    pub sessions: Vec<KeycloakSession>,
    /// Why the sessions could not be listed (Keycloak down), if so.
    pub sessions_error: Option<String>,
    /// Filled for admins only.
    pub users: Vec<VaultUser>,
    /// Whether the caller may act on other users' tokens.
    pub is_admin: bool,
}
