//! `auth.*`: sign-in, sessions, bearer tokens and the providers. Key names follow the Heimdall
//! seed (`HEIMDALL_AUTH__ENABLED`, `…__GOOGLE_CLIENT_ID`, `…__ALLOWED_EMAILS`,
//! `…__SESSION_SECRET_KEY`, `…__REDIRECT_URL`); the operator-console seed's `ADMIN_TOKEN` is read too.

use std::collections::BTreeMap;

use app::identity::Role;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::load::{lenient_list, secret};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// `false` (the Heimdall seed's default) lets anyone read; changes still need a signed-in user.
    pub enabled: bool,
    /// Signs bearer JWTs (HS256, at least 32 bytes). Unset: a random key per start, so tokens
    /// do not survive a restart or work across replicas.
    #[serde(with = "secret")]
    pub session_secret_key: Option<SecretString>,
    /// Lifetime of bearer JWTs from `/auth/jwt/login` and `/auth/login`.
    pub jwt_lifetime_secs: u64,
    pub cookie_name: String,
    /// `Secure` on the session cookie. Unset: on, unless serving plain-HTTP localhost.
    pub cookie_secure: Option<bool>,
    /// A browser session ends after this long without a request…
    pub session_idle_timeout_secs: u64,
    /// …and after this long whatever happens.
    pub session_max_age_secs: u64,
    pub password_min_length: usize,
    /// Self-registration at `/register` and `/auth/register`.
    pub registration_enabled: bool,
    /// Emails always allowed to sign in (a JSON list or comma-separated).
    #[serde(deserialize_with = "lenient_list")]
    pub allowed_emails: Vec<String>,
    /// Email domains allowed to sign in.
    #[serde(deserialize_with = "lenient_list")]
    pub allowed_domains: Vec<String>,
    /// A static bearer token with admin rights (the operator-console seed's `ADMIN_TOKEN`).
    /// No default: without it, no static token is accepted.
    #[serde(with = "secret")]
    pub admin_token: Option<SecretString>,
    /// Google sign-in appears when both are set.
    pub google_client_id: Option<String>,
    #[serde(with = "secret")]
    pub google_client_secret: Option<SecretString>,
    /// Google's issuer; tests point it at a stand-in.
    pub google_issuer: String,
    /// The role of a user's first Google sign-in.
    pub google_default_role: Role,
    /// Google's redirect URI. Unset: `<public url>/auth/google/callback`.
    pub redirect_url: Option<String>,
    pub keycloak: KeycloakConfig,
    pub lockout: LockoutConfig,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            session_secret_key: None,
            jwt_lifetime_secs: 900,
            cookie_name: "heimdall_auth".into(),
            cookie_secure: None,
            session_idle_timeout_secs: 8 * 3600,
            session_max_age_secs: 7 * 24 * 3600,
            password_min_length: 8,
            registration_enabled: false,
            allowed_emails: Vec::new(),
            allowed_domains: Vec::new(),
            admin_token: None,
            google_client_id: None,
            google_client_secret: None,
            google_issuer: "https://accounts.google.com".into(),
            google_default_role: Role::Viewer,
            redirect_url: None,
            keycloak: KeycloakConfig::default(),
            lockout: LockoutConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KeycloakConfig {
    /// The realm's issuer URL, e.g. `https://sso.example.com/realms/platform`. Keycloak sign-in
    /// appears when this and the client secret are set.
    pub issuer: Option<String>,
    pub client_id: String,
    #[serde(with = "secret")]
    pub client_secret: Option<SecretString>,
    /// Unset: `<public url>/auth/keycloak/callback`.
    pub redirect_url: Option<String>,
    /// Realm role or group name → Heimdall role; the highest match wins.
    pub role_mapping: BTreeMap<String, Role>,
    /// The role when nothing maps; unset refuses such users.
    pub default_role: Option<Role>,
    /// Set the user's role from Keycloak at every sign-in (Keycloak is the source of truth).
    pub sync_role: bool,
}

impl Default for KeycloakConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            client_id: "heimdall".into(),
            client_secret: None,
            redirect_url: None,
            role_mapping: BTreeMap::from([
                ("heimdall-admin".to_owned(), Role::Admin),
                ("heimdall-developer".to_owned(), Role::Developer),
                ("heimdall-viewer".to_owned(), Role::Viewer),
            ]),
            default_role: Some(Role::Viewer),
            sync_role: true,
        }
    }
}

/// Brute-force backoff of password sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LockoutConfig {
    /// Failed attempts per account before it is locked.
    pub account_attempts: u32,
    /// Failed attempts per client address before it is locked.
    pub ip_attempts: u32,
    /// The first lock; each further failure doubles it up to `max_lock_secs`.
    pub base_lock_secs: u64,
    pub max_lock_secs: u64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            account_attempts: 5,
            ip_attempts: 20,
            base_lock_secs: 30,
            max_lock_secs: 900,
        }
    }
}
