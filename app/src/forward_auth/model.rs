//! What the ForwardAuth page shows an admin: how each mode is set up and, in CARTA mode, the
//! sessions the watches know right now.

use serde::{Deserialize, Serialize};

use crate::identity::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardAuthStatus {
    pub session_path: String,
    /// Where signed-out browsers sign in; `None`: the address the proxy reached Heimdall at.
    pub login_base: Option<String>,
    pub cache_secs: u64,
    pub return_hosts: Vec<String>,
    pub rules: Vec<RuleView>,
    /// `None`: CARTA mode is off.
    pub carta: Option<CartaStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    /// The host pattern, or `None` for every host.
    pub host: Option<String>,
    pub path_prefix: String,
    pub role: Option<Role>,
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartaStatus {
    pub path: String,
    pub namespace: String,
    pub session_label: String,
    pub user_label: String,
    /// `None` when no cluster is configured.
    pub watches: Option<Vec<WatchView>>,
    pub sessions: Vec<CartaSessionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchView {
    /// `services` or `pods`.
    pub kind: String,
    /// `syncing`, `ready` or `failed`.
    pub state: String,
    pub error: Option<String>,
}

/// A session as the index holds it. The id is shortened: whoever knows it passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartaSessionView {
    pub session_hint: String,
    pub user: Option<String>,
    /// `service` or `pod`, and the object's name.
    pub holder: String,
    pub object: String,
}
