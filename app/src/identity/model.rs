//! Wire types of identity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a user may do. Ordered: an admin can do everything a developer can, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Developer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Developer, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Viewer => "viewer",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown role {s:?}; expected admin, developer or viewer"))
    }
}

impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// Who is signed in, as the browser and `/users/me` see it. Never carries a hash or a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub is_active: bool,
    /// The seed's fastapi-users field: true for admins.
    pub is_superuser: bool,
    pub is_verified: bool,
    pub tenants: Vec<TenantRef>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A tenant as seen from a user: slug and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TenantRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

/// A tenant with how many members it has (the admin pages' view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TenantInfo {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub members: i64,
    pub created_at: DateTime<Utc>,
}

/// The sign-in methods this installation offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginMethods {
    pub password: bool,
    pub google: bool,
    pub keycloak: bool,
    pub registration: bool,
}

/// Who is signed in, as every page's header needs it: no timestamps, so the initial WASM bundle
/// carries no date parsing (the account page, loaded on demand, has the whole `CurrentUser`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// What every page needs to know about the visitor: who they are (if anyone) and how the
/// installation authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user: Option<SignedInUser>,
    /// `false` when `auth.enabled = false`: reads are anonymous, changes still need a sign-in.
    pub auth_enabled: bool,
    pub methods: LoginMethods,
}

/// How a session was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginMethod {
    Password,
    Google,
    Keycloak,
}

impl LoginMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Google => "google",
            Self::Keycloak => "keycloak",
        }
    }
}

/// One of the signed-in user's sessions (browser cookie or bearer JWT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SessionInfo {
    pub id: i64,
    pub kind: String,
    pub method: String,
    pub user_agent: String,
    pub ip: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// True for the session this request came with.
    #[cfg_attr(feature = "ssr", sqlx(default))]
    pub current: bool,
}

/// What a personal API token may do: `read` only reads; `write` acts with the owner's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    Read,
    Write,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

impl TryFrom<String> for TokenScope {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            other => Err(format!("unknown token scope {other:?}; expected read or write")),
        }
    }
}

/// A personal API token, without the token itself (shown once, at creation, in `NewApiToken`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    /// The first characters, so a user can tell tokens apart.
    pub hint: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub scope: TokenScope,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A token just created: the only time its secret is returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub token: String,
    pub info: ApiTokenInfo,
}

/// A provider identity linked to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct LinkedIdentity {
    pub provider: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn admin_outranks_developer_outranks_viewer() {
        assert!(Role::Admin > Role::Developer && Role::Developer > Role::Viewer);
    }
}
