//! The Flink Kubernetes Operator's `FlinkDeployment` (flink.apache.org/v1beta1), trimmed to the
//! fields Heimdall reads. Unknown fields are ignored, so newer operator versions still parse.

use kube::CustomResource;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "flink.apache.org",
    version = "v1beta1",
    kind = "FlinkDeployment",
    plural = "flinkdeployments",
    shortname = "flinkdep",
    namespaced,
    status = "FlinkDeploymentStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
pub struct FlinkDeploymentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flink_version: Option<String>,
    /// `None` for a session cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<FlinkJobSpec>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlinkJobSpec {
    #[serde(default, rename = "jarURI", skip_serializing_if = "Option::is_none")]
    pub jar_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlinkDeploymentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<FlinkJobStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlinkJobStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operator_object_with_unknown_fields_parses() {
        let json = serde_json::json!({
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": { "name": "wordcount", "namespace": "flink" },
            "spec": {
                "image": "flink:1.17", "flinkVersion": "v1_17", "serviceAccount": "flink",
                "job": { "jarURI": "local:///opt/flink/examples/WordCount.jar", "parallelism": 2, "upgradeMode": "stateless" }
            },
            "status": { "jobStatus": { "state": "RUNNING", "jobName": "WordCount" }, "lifecycleState": "STABLE" }
        });
        let fd: FlinkDeployment = serde_json::from_value(json).expect("parses");
        assert_eq!(fd.spec.job.as_ref().and_then(|j| j.parallelism), Some(2));
        let status = fd.status.expect("status");
        assert_eq!(
            status.job_status.and_then(|j| j.state).as_deref(),
            Some("RUNNING")
        );
        assert_eq!(status.lifecycle_state.as_deref(), Some("STABLE"));
    }
}
