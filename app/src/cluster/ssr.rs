//! Building the `kube::Client` and probing the API server.

use std::path::Path;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::ClusterStatus;

/// How long a reachability probe may take before the cluster counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot read the kubeconfig {path}: {message}")]
    Kubeconfig { path: String, message: String },
    #[error("cannot build a Kubernetes client from {source_name}: {message}")]
    Client { source_name: String, message: String },
}

/// The Kubernetes client, if one is configured. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    client: Option<kube::Client>,
    /// Where the configuration came from ("in-cluster", a kubeconfig path) or why there is none.
    source: String,
}

impl Cluster {
    /// Cluster features switched off or nothing found.
    pub fn not_configured(reason: impl Into<String>) -> Self {
        Self {
            client: None,
            source: reason.into(),
        }
    }

    /// Uses the kubeconfig at `path` (an explicitly configured file must work).
    pub async fn from_kubeconfig(path: &Path, context: Option<String>) -> Result<Self, ClusterError> {
        let shown = path.display().to_string();
        let kubeconfig = Kubeconfig::read_from(path).map_err(|e| ClusterError::Kubeconfig {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let options = KubeConfigOptions {
            context,
            ..KubeConfigOptions::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| ClusterError::Kubeconfig {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        Self::from_config(config, shown)
    }

    /// In-cluster service account, else `$KUBECONFIG` / `~/.kube/config`, else not configured.
    pub async fn infer() -> Result<Self, ClusterError> {
        match kube::Config::infer().await {
            Ok(config) => Self::from_config(config, "inferred (in-cluster or default kubeconfig)".into()),
            Err(e) => {
                tracing::debug!(error = %e, "no Kubernetes configuration found");
                Ok(Self::not_configured(
                    "no in-cluster service account, $KUBECONFIG or ~/.kube/config",
                ))
            }
        }
    }

    fn from_config(config: kube::Config, source: String) -> Result<Self, ClusterError> {
        let client = kube::Client::try_from(config).map_err(|e| ClusterError::Client {
            source_name: source.clone(),
            message: e.to_string(),
        })?;
        Ok(Self {
            client: Some(client),
            source,
        })
    }

    pub fn client(&self) -> Option<&kube::Client> {
        self.client.as_ref()
    }

    /// Asks the API server for its version (one request, bounded by `PROBE_TIMEOUT`).
    pub async fn status(&self) -> ClusterStatus {
        let Some(client) = &self.client else {
            return ClusterStatus::NotConfigured {
                reason: self.source.clone(),
            };
        };
        let source = self.source.clone();
        match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
            Ok(Ok(info)) => ClusterStatus::Connected {
                version: info.git_version,
                source,
            },
            Ok(Err(e)) => ClusterStatus::Unreachable {
                error: e.to_string(),
                source,
            },
            Err(_) => ClusterStatus::Unreachable {
                error: format!("no answer within {} s", PROBE_TIMEOUT.as_secs()),
                source,
            },
        }
    }
}
