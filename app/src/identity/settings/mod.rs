//! `auth.*`: the section as read from the configuration (`section.rs`: defaults, problems, the
//! conversion) and `AuthSettings`, what the authenticator holds — derived keys and parsed
//! lists that the section only names. Tests build `AuthSettings` directly.

use secrecy::SecretString;

mod section;

pub use section::{AuthConfig, KeycloakConfig, LockoutConfig};

pub(super) use super::allowlist::AllowList;
pub(super) use super::return_to::ReturnHosts;
pub(super) use super::throttle::ThrottlePolicy;
use crate::identity::Role;

/// The signing key of bearer JWTs. `Debug` never shows it.
#[derive(Clone)]
pub struct JwtKey(pub Vec<u8>);

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey(***)")
    }
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `false`: reads are anonymous; anything that changes state still needs a user.
    pub enabled: bool,
    pub cookie_name: String,
    /// `Secure` on the session cookie; off only when serving plain-HTTP localhost.
    pub cookie_secure: bool,
    pub session_idle: chrono::Duration,
    pub session_max_age: chrono::Duration,
    pub jwt_key: JwtKey,
    pub jwt_lifetime: chrono::Duration,
    /// The IDP portal's `/auth/login` token (the seed's 8 hours).
    pub idp_login_lifetime: chrono::Duration,
    pub password_min_length: usize,
    pub registration_enabled: bool,
    pub allow_list: AllowList,
    /// The operator-console seed's static bearer token; accepted only when set.
    pub admin_token: Option<SecretString>,
    pub lockout: ThrottlePolicy,
    /// The externally visible base URL (redirect URIs); `None` means "the Host the browser used".
    pub public_url: Option<String>,
    /// Hosts an absolute return address after sign-in may name (apps behind ForwardAuth).
    pub return_hosts: ReturnHosts,
    /// `Domain` of the session cookie, so apps on sibling hosts behind ForwardAuth receive it;
    /// `None`: this host only.
    pub cookie_domain: Option<String>,
    pub google: Option<ProviderSettings>,
    pub keycloak: Option<ProviderSettings>,
    /// The longest a personal API token may live, in days (`auth.api_token_max_days`); 0: no
    /// cap (tokens that never expire are allowed).
    pub api_token_max_days: u32,
}

/// One OpenID Connect provider (Google or Keycloak), configured by issuer URL.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Overrides `<public url>/auth/<provider>/callback`.
    pub redirect_url: Option<String>,
    /// Provider roles or groups → Heimdall role; the highest match wins.
    pub role_map: Vec<(String, Role)>,
    /// The role of a user no mapping matches; `None` refuses such users.
    pub default_role: Option<Role>,
    /// Whether each sign-in sets the user's role from the provider (Keycloak as the source of truth).
    pub sync_role: bool,
}

impl AuthSettings {
    /// Settings for tests and the embedded default: auth on, a random JWT key, nothing external.
    pub fn with_random_key() -> Self {
        use rand::RngCore;
        let mut key = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self {
            enabled: true,
            cookie_name: "heimdall_auth".into(),
            cookie_secure: false,
            session_idle: chrono::Duration::hours(8),
            session_max_age: chrono::Duration::days(7),
            jwt_key: JwtKey(key),
            jwt_lifetime: chrono::Duration::minutes(15),
            idp_login_lifetime: chrono::Duration::hours(8),
            password_min_length: 8,
            registration_enabled: false,
            allow_list: AllowList::default(),
            admin_token: None,
            lockout: ThrottlePolicy::default(),
            public_url: None,
            return_hosts: ReturnHosts::default(),
            cookie_domain: None,
            google: None,
            keycloak: None,
            api_token_max_days: 90,
        }
    }
}
