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
    /// Lifetime of bearer JWTs from `/auth/jwt/login`.
    pub jwt_lifetime_secs: u64,
    /// Lifetime of the IDP portal's `/auth/login` token: the seed's 8 hours, which its page
    /// keeps for the whole working day. Revocable at once all the same (sign-out, deactivation;
    /// a role change applies to its next request).
    pub idp_login_lifetime_secs: u64,
    pub cookie_name: String,
    /// `Secure` on the session cookie. Unset: on, unless serving plain-HTTP localhost.
    pub cookie_secure: Option<bool>,
    /// A browser session ends after this long without a request…
    pub session_idle_timeout_secs: u64,
    /// …and after this long whatever happens.
    pub session_max_age_secs: u64,
    pub password_min_length: usize,
    /// The longest a personal API token may live, in days; 0: no cap.
    pub api_token_max_days: u32,
    /// Self-registration at `/register` and `/auth/register`.
    pub registration_enabled: bool,
    /// Emails always allowed to sign in (a JSON list or comma-separated).
    #[serde(deserialize_with = "lenient_list")]
    pub allowed_emails: Vec<String>,
    /// Email domains allowed to sign in.
    #[serde(deserialize_with = "lenient_list")]
    pub allowed_domains: Vec<String>,
    /// Hosts an absolute return address after sign-in may name (`app.example.com`,
    /// `app.example.com:8443`, `*.example.com`): apps behind ForwardAuth send signed-out
    /// browsers to the login and get them back. Empty: only paths on Heimdall itself.
    #[serde(deserialize_with = "lenient_list")]
    pub allowed_return_hosts: Vec<String>,
    /// `Domain` of the session cookie (e.g. `example.com`), so apps on sibling hosts behind
    /// ForwardAuth session mode receive it. Unset: Heimdall's host only.
    pub cookie_domain: Option<String>,
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
            idp_login_lifetime_secs: 8 * 60 * 60,
            cookie_name: "heimdall_auth".into(),
            cookie_secure: None,
            session_idle_timeout_secs: 8 * 3600,
            session_max_age_secs: 7 * 24 * 3600,
            password_min_length: 8,
            api_token_max_days: 90,
            registration_enabled: false,
            allowed_emails: Vec::new(),
            allowed_domains: Vec::new(),
            allowed_return_hosts: Vec::new(),
            cookie_domain: None,
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
    /// The role when nothing maps; `none` refuses such users.
    #[serde(deserialize_with = "role_or_none")]
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
    /// The longest a client address is locked (many people may share one): softer than an
    /// account's lock.
    pub ip_max_lock_secs: u64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            account_attempts: 5,
            ip_attempts: 20,
            base_lock_secs: 30,
            max_lock_secs: 900,
            ip_max_lock_secs: 60,
        }
    }
}

/// A role, or `none` / empty for no role.
fn role_or_none<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Role>, D::Error> {
    let raw = Option::<String>::deserialize(de)?;
    match raw.as_deref().map(str::trim) {
        None | Some("" | "none") => Ok(None),
        Some(name) => name.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
#[allow(
    clippy::result_large_err,
    reason = "figment::Jail's closures return figment::Error"
)]
mod tests {
    use figment::Jail;
    use secrecy::ExposeSecret;

    use crate::config::Config;

    #[test]
    fn the_seeds_auth_variables_are_read() {
        Jail::expect_with(|jail| {
            jail.set_env("HEIMDALL_AUTH__ENABLED", "false");
            jail.set_env("HEIMDALL_AUTH__ALLOWED_EMAILS", r#"["a@x.com", "b@y.com"]"#);
            jail.set_env("HEIMDALL_AUTH__ALLOWED_DOMAINS", "example.com, example.org");
            jail.set_env("HEIMDALL_AUTH__GOOGLE_CLIENT_ID", "id.apps.googleusercontent.com");
            jail.set_env("HEIMDALL_AUTH__GOOGLE_CLIENT_SECRET", "google-secret");
            jail.set_env("HEIMDALL_AUTH__SESSION_SECRET_KEY", "k".repeat(40));
            jail.set_env("ADMIN_TOKEN", "operator-console-token");
            jail.set_env("HEIMDALL_AUTH__KEYCLOAK__DEFAULT_ROLE", "none");
            let config = Config::load(None).expect("loads");
            let auth = &config.auth;
            assert!(!auth.enabled);
            assert_eq!(auth.allowed_emails, ["a@x.com", "b@y.com"]);
            assert_eq!(auth.allowed_domains, ["example.com", "example.org"]);
            assert_eq!(
                auth.google_client_id.as_deref(),
                Some("id.apps.googleusercontent.com")
            );
            assert_eq!(
                auth.admin_token
                    .as_ref()
                    .map(|t| t.expose_secret().to_owned())
                    .as_deref(),
                Some("operator-console-token")
            );
            assert_eq!(auth.keycloak.default_role, None);
            // Secrets never reach `config check`.
            let shown = config.to_redacted_toml();
            for secret in ["google-secret", "operator-console-token", "kkkkkkkk"] {
                assert!(!shown.contains(secret), "{secret} in\n{shown}");
            }
            assert!(shown.contains("admin_token = \"***\""), "{shown}");
            Ok(())
        });
    }

    #[test]
    fn auth_is_on_with_no_static_token_by_default() {
        Jail::expect_with(|_| {
            let auth = Config::load(None).expect("defaults").auth;
            assert!(auth.enabled);
            assert!(auth.admin_token.is_none());
            assert!(auth.google_client_id.is_none() && auth.keycloak.issuer.is_none());
            assert_eq!(auth.password_min_length, 8);
            Ok(())
        });
    }

    #[test]
    fn half_configured_providers_and_weak_keys_are_refused_with_their_keys_named() {
        Jail::expect_with(|jail| {
            jail.set_env("HEIMDALL_AUTH__GOOGLE_CLIENT_ID", "only-the-id");
            jail.set_env("HEIMDALL_AUTH__KEYCLOAK__ISSUER", "not a url");
            jail.set_env("HEIMDALL_AUTH__SESSION_SECRET_KEY", "short");
            jail.set_env("HEIMDALL_AUTH__PASSWORD_MIN_LENGTH", "4");
            let message = Config::load(None).expect_err("invalid").to_string();
            for expected in [
                "auth.google_client_id and auth.google_client_secret must be set together",
                "auth.keycloak.issuer is set but auth.keycloak.client_secret is not",
                "auth.keycloak.issuer = \"not a url\": expected an http(s) URL",
                "auth.session_secret_key is shorter than 32 bytes",
                "auth.password_min_length = 4: expected 8 to 128",
            ] {
                assert!(message.contains(expected), "{expected} in {message}");
            }
            assert!(
                !message.contains("short\""),
                "the key itself is not echoed: {message}"
            );
            Ok(())
        });
    }
}
