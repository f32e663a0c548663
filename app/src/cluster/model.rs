use serde::{Deserialize, Serialize};

/// Whether Heimdall can talk to a Kubernetes API server, as shown in the UI and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClusterStatus {
    /// No in-cluster service account and no kubeconfig: cluster features are off.
    NotConfigured { reason: String },
    /// The API server answered; `version` is its `gitVersion`.
    Connected { version: String, source: String },
    /// Configured, but the API server did not answer.
    Unreachable { error: String, source: String },
}

impl ClusterStatus {
    /// Ready means "nothing configured is broken": a missing cluster is not a failure.
    pub fn is_ready(&self) -> bool {
        !matches!(self, Self::Unreachable { .. })
    }
}
