//! `forward_auth.*`, as read from the configuration: the answers Heimdall gives a reverse proxy. Session mode is always there
//! (`/forward-auth/session`); CARTA mode (the CARTA sidecar's job) is switched on with
//! `forward_auth.carta.enabled`, at `forward_auth.carta.path` and, for drop-in use, on its own
//! listener (`forward_auth.carta.listen`) that answers any path and method.

use std::net::SocketAddr;

use std::time::Duration;

use super::directory::CartaSettings;
use super::service::ForwardAuthSettings;
use super::session::{AccessRule, ProxyKind, normalise_path};
use crate::identity::{HostPattern, Role};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ForwardAuthConfig {
    /// Where signed-out browsers sign in: `<login_base_url>/login`. Unset: `server.public_url`,
    /// else the address the proxy reached Heimdall at.
    pub login_base_url: Option<String>,
    /// How long a session-mode answer is reused (a sign-out takes effect within this); 0: never.
    pub cache_secs: u64,
    /// Access rules; the first whose host and path match applies.
    pub rules: Vec<AccessRuleConfig>,
    pub session: SessionModeConfig,
    pub carta: CartaConfig,
}

/// `forward_auth.session.*`: which proxy asks, so which of its headers are believed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionModeConfig {
    /// `nginx` (`X-Original-URL`, set by the `auth_request` location) or `traefik`
    /// (`X-Forwarded-Proto`/`-Host`/`-Uri`, which Traefik overwrites). The other proxy's headers
    /// are ignored: a client can send them.
    pub proxy: String,
}

impl Default for SessionModeConfig {
    fn default() -> Self {
        Self {
            proxy: "nginx".into(),
        }
    }
}

impl Default for ForwardAuthConfig {
    fn default() -> Self {
        Self {
            login_base_url: None,
            cache_secs: 5,
            rules: Vec::new(),
            session: SessionModeConfig::default(),
            carta: CartaConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessRuleConfig {
    /// `app.example.com`, `app.example.com:8443` or `*.example.com`; unset: every host.
    pub host: Option<String>,
    /// The path and everything below it.
    pub path_prefix: String,
    /// The least role that passes (`viewer`, `developer`, `admin`).
    pub role: Option<Role>,
    /// A tenant slug the user must belong to (admins always pass).
    pub tenant: Option<String>,
}

impl Default for AccessRuleConfig {
    fn default() -> Self {
        Self {
            host: None,
            path_prefix: "/".into(),
            role: None,
            tenant: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CartaConfig {
    /// Off by default: it watches Services and Pods in `target_namespace`.
    pub enabled: bool,
    /// The path on Heimdall's own listener.
    pub path: String,
    /// A dedicated listener (e.g. `127.0.0.1:8000`) answering every path and method, as the
    /// seed's catch-all did, with `/livez` and `/readyz` ahead of it. Unset: none.
    pub listen: Option<SocketAddr>,
    /// The seed's `TARGET_NAMESPACE`.
    pub target_namespace: String,
    /// The seed's `SESSION_LABEL_KEY`.
    pub session_label_key: String,
    /// The seed's `USER_LABEL_KEY`.
    pub user_label_key: String,
    /// How long an id the API server did not know is refused without asking again (the watch
    /// clears it the moment the session appears).
    pub miss_cache_ms: u64,
}

impl Default for CartaConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            path: "/forward-auth/carta".into(),
            listen: None,
            target_namespace: "skaha-workload".into(),
            session_label_key: "canfar-net-sessionID".into(),
            user_label_key: "canfar-net-userid".into(),
            miss_cache_ms: 1000,
        }
    }
}

impl ForwardAuthConfig {
    /// `forward_auth.*` in the shape the ForwardAuth service uses. Patterns were checked by
    /// `problems`; should one not parse here, its rule applies to every host — a rule only
    /// ever adds requirements, so that errs on the closed side.
    pub fn settings(&self, public_url: Option<String>) -> ForwardAuthSettings {
        let carta = &self.carta;
        ForwardAuthSettings {
            carta: carta.enabled.then(|| CartaSettings {
                namespace: carta.target_namespace.clone(),
                session_label: carta.session_label_key.clone(),
                user_label: carta.user_label_key.clone(),
                miss_ttl: Duration::from_millis(carta.miss_cache_ms),
            }),
            carta_path: carta.path.clone(),
            rules: self
                .rules
                .iter()
                .map(|rule| AccessRule {
                    host: rule.host.as_deref().and_then(HostPattern::parse),
                    // Normalised once here, as each request's path is (not per request and rule).
                    path_prefix: normalise_path(&rule.path_prefix),
                    role: rule.role,
                    tenant: rule.tenant.clone(),
                })
                .collect(),
            login_base: self.login_base_url.clone().or(public_url),
            cache_ttl: Duration::from_secs(self.cache_secs),
            // Checked by `problems`.
            proxy: ProxyKind::parse(&self.session.proxy).unwrap_or_default(),
        }
    }

    /// One line per problem; a listener beyond loopback needs `allow_external_bind`.
    pub fn problems(&self, allow_external_bind: bool) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(base) = &self.login_base_url
            && !matches!(url::Url::parse(base), Ok(u) if matches!(u.scheme(), "http" | "https"))
        {
            problems.push(format!(
                "forward_auth.login_base_url = {base:?}: expected an http(s) URL"
            ));
        }
        if ProxyKind::parse(&self.session.proxy).is_none() {
            problems.push(format!(
                "forward_auth.session.proxy = {:?}: expected nginx or traefik (the proxy whose headers name the original request)",
                self.session.proxy
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if let Some(host) = &rule.host
                && HostPattern::parse(host).is_none()
            {
                problems.push(format!(
                    "forward_auth.rules[{i}].host = {host:?}: expected app.example.com, app.example.com:8443 or *.example.com"
                ));
            }
            if !rule.path_prefix.starts_with('/') {
                problems.push(format!(
                    "forward_auth.rules[{i}].path_prefix = {:?}: expected a path starting with /",
                    rule.path_prefix
                ));
            }
        }
        let carta = &self.carta;
        // Under `/forward-auth/`, so it can never collide with another route (a collision
        // would stop the router from being built at all).
        let suffix = carta.path.strip_prefix("/forward-auth/").unwrap_or_default();
        if suffix.is_empty()
            || suffix == "session"
            || !suffix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
        {
            problems.push(format!(
                "forward_auth.carta.path = {:?}: expected a fixed path under /forward-auth/ other than /forward-auth/session, such as /forward-auth/carta",
                carta.path
            ));
        }
        if let Some(addr) = carta.listen
            && !addr.ip().is_loopback()
            && !allow_external_bind
        {
            problems.push(format!(
                "forward_auth.carta.listen = {addr}: binding beyond loopback needs server.allow_external_bind = true"
            ));
        }
        for (key, value) in [
            ("forward_auth.carta.target_namespace", &carta.target_namespace),
            ("forward_auth.carta.session_label_key", &carta.session_label_key),
            ("forward_auth.carta.user_label_key", &carta.user_label_key),
        ] {
            if value.trim().is_empty() || value.contains([',', '=', '!', ' ']) {
                problems.push(format!(
                    "{key} = {value:?}: expected a Kubernetes name or label key"
                ));
            }
        }
        problems
    }
}
