//! `auth.*`: sign-in, sessions, bearer tokens and the providers. Key names follow the Heimdall
//! seed (`HEIMDALL_AUTH__ENABLED`, `…__GOOGLE_CLIENT_ID`, `…__ALLOWED_EMAILS`,
//! `…__SESSION_SECRET_KEY`, `…__REDIRECT_URL`); the operator-console seed's `ADMIN_TOKEN` is read too.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::identity::Role;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{AllowList, AuthSettings, JwtKey, ProviderSettings, ReturnHosts, ThrottlePolicy};
use crate::settings::{lenient_list, secret};

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

impl AuthConfig {
    /// What the authenticator holds; `public_url` is `server.public_url`, `loopback` whether the
    /// server binds to loopback (plain HTTP there keeps cookies usable).
    pub fn settings(&self, public_url: Option<&str>, loopback: bool) -> AuthSettings {
        use secrecy::ExposeSecret;
        let auth = self;
        let mut settings = AuthSettings::with_random_key();
        match &auth.session_secret_key {
            Some(key) => settings.jwt_key = JwtKey(key.expose_secret().as_bytes().to_vec()),
            None => tracing::warn!(
                "auth.session_secret_key is not set: bearer JWTs are signed with a random key, end at restart, and are refused by any other replica (set it, the same on every replica)"
            ),
        }
        // Secure cookies unless this is plain HTTP on loopback, where browsers would drop them.
        let plain_local = match public_url {
            Some(url) => url::Url::parse(url).is_ok_and(|u| {
                u.scheme() == "http" && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
            }),
            None => loopback,
        };
        settings.enabled = auth.enabled;
        settings.cookie_name = auth.cookie_name.clone();
        settings.cookie_secure = auth.cookie_secure.unwrap_or(!plain_local);
        settings.session_idle = chrono::Duration::seconds(secs(auth.session_idle_timeout_secs));
        settings.session_max_age = chrono::Duration::seconds(secs(auth.session_max_age_secs));
        settings.jwt_lifetime = chrono::Duration::seconds(secs(auth.jwt_lifetime_secs));
        settings.idp_login_lifetime = chrono::Duration::seconds(secs(auth.idp_login_lifetime_secs));
        settings.password_min_length = auth.password_min_length;
        settings.api_token_max_days = auth.api_token_max_days;
        settings.registration_enabled = auth.registration_enabled;
        settings.allow_list = AllowList::new(&auth.allowed_emails, &auth.allowed_domains);
        settings.admin_token = auth.admin_token.clone();
        settings.lockout = ThrottlePolicy {
            account_attempts: auth.lockout.account_attempts,
            ip_attempts: auth.lockout.ip_attempts,
            base_lock: Duration::from_secs(auth.lockout.base_lock_secs),
            max_lock: Duration::from_secs(auth.lockout.max_lock_secs),
            ip_max_lock: Duration::from_secs(auth.lockout.ip_max_lock_secs),
            ..ThrottlePolicy::default()
        };
        settings.public_url = public_url.map(str::to_owned);
        settings.return_hosts = ReturnHosts::parse(&auth.allowed_return_hosts).unwrap_or_default();
        settings.cookie_domain = auth.cookie_domain.clone();
        settings.google = match (&auth.google_client_id, &auth.google_client_secret) {
            (Some(id), Some(secret)) => Some(ProviderSettings {
                issuer: auth.google_issuer.clone(),
                client_id: id.clone(),
                client_secret: secret.clone(),
                redirect_url: auth.redirect_url.clone(),
                role_map: Vec::new(),
                default_role: Some(auth.google_default_role),
                sync_role: false,
            }),
            _ => None,
        };
        let kc = &auth.keycloak;
        settings.keycloak = match (&kc.issuer, &kc.client_secret) {
            (Some(issuer), Some(secret)) => Some(ProviderSettings {
                issuer: issuer.clone(),
                client_id: kc.client_id.clone(),
                client_secret: secret.clone(),
                redirect_url: kc.redirect_url.clone(),
                role_map: kc.role_mapping.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                default_role: kc.default_role,
                sync_role: kc.sync_role,
            }),
            _ => None,
        };
        settings
    }

    /// One line per problem.
    pub fn problems(&self) -> Vec<String> {
        use secrecy::ExposeSecret;
        let auth = self;
        let mut problems = Vec::new();
        if let Some(key) = &auth.session_secret_key
            && key.expose_secret().len() < 32
        {
            problems
                .push("auth.session_secret_key is shorter than 32 bytes: use a long random value".to_owned());
        }
        if auth.password_min_length < 8 || auth.password_min_length > 128 {
            problems.push(format!(
                "auth.password_min_length = {}: expected 8 to 128",
                auth.password_min_length
            ));
        }
        if auth.jwt_lifetime_secs == 0
            || auth.idp_login_lifetime_secs == 0
            || auth.session_idle_timeout_secs == 0
            || auth.session_max_age_secs == 0
        {
            problems.push("auth.jwt_lifetime_secs, idp_login_lifetime_secs, session_idle_timeout_secs and session_max_age_secs must be at least 1".to_owned());
        }
        let cookie_ok = !auth.cookie_name.is_empty()
            && auth
                .cookie_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !cookie_ok {
            problems.push(format!(
                "auth.cookie_name = {:?}: expected letters, digits, '_' or '-'",
                auth.cookie_name
            ));
        }
        if auth.google_client_id.is_some() != auth.google_client_secret.is_some() {
            problems
                .push("auth.google_client_id and auth.google_client_secret must be set together".to_owned());
        }
        if auth.keycloak.issuer.is_some() && auth.keycloak.client_secret.is_none() {
            problems.push("auth.keycloak.issuer is set but auth.keycloak.client_secret is not".to_owned());
        }
        for (key, value) in [
            ("auth.google_issuer", Some(auth.google_issuer.as_str())),
            ("auth.keycloak.issuer", auth.keycloak.issuer.as_deref()),
            ("auth.redirect_url", auth.redirect_url.as_deref()),
            (
                "auth.keycloak.redirect_url",
                auth.keycloak.redirect_url.as_deref(),
            ),
        ] {
            if let Some(value) = value
                && !matches!(url::Url::parse(value), Ok(u) if matches!(u.scheme(), "http" | "https"))
            {
                problems.push(format!("{key} = {value:?}: expected an http(s) URL"));
            }
        }
        if let Err(bad) = ReturnHosts::parse(&auth.allowed_return_hosts) {
            problems.push(format!(
                "auth.allowed_return_hosts has {bad:?}: expected host names such as app.example.com, app.example.com:8443 or *.example.com"
            ));
        }
        if let Some(domain) = &auth.cookie_domain
            && (domain.is_empty()
                || !domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
        {
            problems.push(format!(
                "auth.cookie_domain = {domain:?}: expected a domain such as example.com"
            ));
        }
        problems
    }
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX / 1000)
}
