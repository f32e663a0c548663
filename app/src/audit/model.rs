//! Wire types of the audit log and the closed list of actions it records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// Everything Heimdall audits. The string form is stored and filtered on (`login` matches every
/// `login.*`), so it never changes once shipped; a new action gets a new variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    LoginPassword,
    LoginGoogle,
    LoginKeycloak,
    Logout,
    LogoutEverywhere,
    SessionRevoked,
    TokenCreated,
    TokenRevoked,
    /// A bearer credential that did not check out.
    TokenRejected,
    CsrfRejected,
    /// A signed-in caller refused by a permission check.
    AccessDenied,
    OAuthStateRejected,
    OAuthCallbackRejected,
    UserCreated,
    UserLinked,
    UserRegistered,
    /// A change to one's own profile (refused by the allow-list, so far).
    UserUpdated,
    UserRoleChanged,
    UserActivated,
    UserDeactivated,
    UserPasswordChanged,
    UserPasswordReset,
    UserDeleted,
    /// An administrator lifted a sign-in lock.
    UserUnlocked,
    MembershipChanged,
    TenantCreated,
    /// `spec.job.state` set to `suspended` on a FlinkDeployment.
    FlinkJobSuspended,
    /// `spec.job.state` set to `running`.
    FlinkJobResumed,
    /// A new `spec.restartNonce`.
    FlinkJobRestarted,
    /// A new `spec.job.savepointTriggerNonce`.
    FlinkSavepointTriggered,
    /// An offline or refresh token put in the vault (consent callback, `/v1/refresh-token`,
    /// `/v1/offline-token-id`).
    VaultTokenStored,
    /// A stored token deleted (and its Keycloak offline session ended when it was the last).
    VaultTokenRevoked,
    /// A Keycloak session ended from Heimdall.
    VaultSessionRevoked,
    /// An offline-token consent refused: a bad or used state, another account, no offline access.
    VaultConsentRejected,
    /// `heimdall vault rotate` re-sealed rows under the active key.
    VaultRotated,
    /// A pipeline gate's decision (or one approval of several), by a person or a timer.
    PipelineGateDecided,
    /// A service registered in the catalog, changed, or removed (admins).
    CatalogServiceCreated,
    CatalogServiceUpdated,
    CatalogServiceDeleted,
    /// A provision, deprovision or deploy asked for.
    CatalogActionRequested,
    /// An executor reported an action's status (a callback).
    CatalogActionReported,
}

impl AuditAction {
    pub const ALL: [AuditAction; 41] = [
        Self::LoginPassword,
        Self::LoginGoogle,
        Self::LoginKeycloak,
        Self::Logout,
        Self::LogoutEverywhere,
        Self::SessionRevoked,
        Self::TokenCreated,
        Self::TokenRevoked,
        Self::TokenRejected,
        Self::CsrfRejected,
        Self::AccessDenied,
        Self::OAuthStateRejected,
        Self::OAuthCallbackRejected,
        Self::UserCreated,
        Self::UserLinked,
        Self::UserRegistered,
        Self::UserUpdated,
        Self::UserRoleChanged,
        Self::UserActivated,
        Self::UserDeactivated,
        Self::UserPasswordChanged,
        Self::UserPasswordReset,
        Self::UserDeleted,
        Self::UserUnlocked,
        Self::MembershipChanged,
        Self::TenantCreated,
        Self::FlinkJobSuspended,
        Self::FlinkJobResumed,
        Self::FlinkJobRestarted,
        Self::FlinkSavepointTriggered,
        Self::VaultTokenStored,
        Self::VaultTokenRevoked,
        Self::VaultSessionRevoked,
        Self::VaultConsentRejected,
        Self::VaultRotated,
        Self::PipelineGateDecided,
        Self::CatalogServiceCreated,
        Self::CatalogServiceUpdated,
        Self::CatalogServiceDeleted,
        Self::CatalogActionRequested,
        Self::CatalogActionReported,
    ];

    /// The stored form, e.g. `login.password`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginPassword => "login.password",
            Self::LoginGoogle => "login.google",
            Self::LoginKeycloak => "login.keycloak",
            Self::Logout => "logout",
            Self::LogoutEverywhere => "logout.everywhere",
            Self::SessionRevoked => "session.revoked",
            Self::TokenCreated => "token.created",
            Self::TokenRevoked => "token.revoked",
            Self::TokenRejected => "token.rejected",
            Self::CsrfRejected => "csrf.rejected",
            Self::AccessDenied => "access.denied",
            Self::OAuthStateRejected => "oauth.state_rejected",
            Self::OAuthCallbackRejected => "oauth.callback_rejected",
            Self::UserCreated => "user.created",
            Self::UserLinked => "user.linked",
            Self::UserRegistered => "user.registered",
            Self::UserUpdated => "user.updated",
            Self::UserRoleChanged => "user.role_changed",
            Self::UserActivated => "user.activated",
            Self::UserDeactivated => "user.deactivated",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserPasswordReset => "user.password_reset",
            Self::UserDeleted => "user.deleted",
            Self::UserUnlocked => "user.unlocked",
            Self::MembershipChanged => "membership.changed",
            Self::TenantCreated => "tenant.created",
            Self::FlinkJobSuspended => "flink.job.suspended",
            Self::FlinkJobResumed => "flink.job.resumed",
            Self::FlinkJobRestarted => "flink.job.restarted",
            Self::FlinkSavepointTriggered => "flink.savepoint.triggered",
            Self::VaultTokenStored => "vault.token.stored",
            Self::VaultTokenRevoked => "vault.token.revoked",
            Self::VaultSessionRevoked => "vault.session.revoked",
            Self::VaultConsentRejected => "vault.consent.rejected",
            Self::VaultRotated => "vault.rotated",
            Self::PipelineGateDecided => "pipeline.gate.decided",
            Self::CatalogServiceCreated => "catalog.service.created",
            Self::CatalogServiceUpdated => "catalog.service.updated",
            Self::CatalogServiceDeleted => "catalog.service.deleted",
            Self::CatalogActionRequested => "catalog.action.requested",
            Self::CatalogActionReported => "catalog.action.reported",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the audit log: who did what to which object, when, from where. `action` stays
/// a string on the wire so rows written by older or newer versions always read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The target by name, where its id is not one (a service's, a pipeline's), filled in when
    /// the admin page reads the log; never stored.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub target_label: Option<String>,
    /// The page of the target, when it has one.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub target_href: Option<String>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub outcome: Outcome,
    pub ip: String,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

/// The entries one page of the audit log holds; a full page has older ones after it.
pub const AUDIT_PAGE_SIZE: usize = 100;

/// Filters of the audit page; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub outcome: String,
    /// Only entries of the last this many hours (0: any time).
    #[serde(default)]
    pub since_hours: u32,
    /// Only entries older than this id (0: the newest): the next page starts after the last
    /// entry of this one.
    #[serde(default)]
    pub before: i64,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::AuditAction;

    #[test]
    fn every_action_has_its_own_stable_string() {
        let names: HashSet<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len(), "two actions share a string");
        // Rows written before the enum existed use these exact strings; they must stay.
        for (action, stored) in [
            (AuditAction::LoginPassword, "login.password"),
            (AuditAction::TokenRejected, "token.rejected"),
            (AuditAction::CsrfRejected, "csrf.rejected"),
            (AuditAction::AccessDenied, "access.denied"),
            (AuditAction::OAuthStateRejected, "oauth.state_rejected"),
            (AuditAction::UserRoleChanged, "user.role_changed"),
            (AuditAction::MembershipChanged, "membership.changed"),
        ] {
            assert_eq!(action.as_str(), stored);
        }
    }
}
