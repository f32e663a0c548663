//! `forward_auth.*`: the answers Heimdall gives a reverse proxy. Session mode is always there
//! (`/forward-auth/session`); CARTA mode (the CARTA sidecar's job) is switched on with
//! `forward_auth.carta.enabled`, at `forward_auth.carta.path` and, for drop-in use, on its own
//! listener (`forward_auth.carta.listen`) that answers any path and method.

use std::net::SocketAddr;

use app::identity::Role;
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
