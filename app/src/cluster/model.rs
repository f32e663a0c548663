use serde::{Deserialize, Serialize};

/// Whether Heimdall can talk to a Kubernetes API server, as shown in the UI and `/readyz`.
/// `Deserialize` goes through a flat struct for the reason given on `AppError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClusterStatus {
    /// No in-cluster service account and no kubeconfig: cluster features are off.
    NotConfigured { reason: String },
    /// The API server answered; `version` is its `gitVersion`.
    Connected { version: String, source: String },
    /// Configured, but the API server did not answer.
    Unreachable { error: String, source: String },
}

#[derive(Deserialize)]
struct ClusterStatusWire {
    state: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    source: String,
}

impl<'de> Deserialize<'de> for ClusterStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let w = ClusterStatusWire::deserialize(deserializer)?;
        Ok(match w.state.as_str() {
            "not_configured" => Self::NotConfigured { reason: w.reason },
            "connected" => Self::Connected {
                version: w.version,
                source: w.source,
            },
            "unreachable" => Self::Unreachable {
                error: w.error,
                source: w.source,
            },
            other => {
                return Err(serde::de::Error::unknown_variant(
                    other,
                    &["not_configured", "connected", "unreachable"],
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterStatus;

    #[test]
    fn every_state_reads_back_as_it_was_written() {
        for status in [
            ClusterStatus::NotConfigured { reason: "off".into() },
            ClusterStatus::Connected {
                version: "v1.37.2".into(),
                source: "kubeconfig".into(),
            },
            ClusterStatus::Unreachable {
                error: "refused".into(),
                source: "in-cluster".into(),
            },
        ] {
            let json = serde_json::to_string(&status).expect("serializes");
            assert!(json.starts_with(r#"{"state":"#), "{json}");
            assert_eq!(
                serde_json::from_str::<ClusterStatus>(&json).expect("reads back"),
                status
            );
        }
    }
}
