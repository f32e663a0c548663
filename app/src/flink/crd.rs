//! The Flink Kubernetes Operator's `FlinkDeployment` (flink.apache.org), trimmed to the fields
//! Heimdall reads. Unknown fields are ignored, so newer operator versions still parse, and the
//! same types read `v1beta1` and `v1` (the reflector serves whichever the API server prefers).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The object as the reflector stores it: spec and status typed, the version chosen at run time
/// from discovery (`kube::core::Object` carries its `ApiResource`).
pub type FlinkDeploymentObject = kube::core::Object<FlinkDeploymentSpec, FlinkDeploymentStatus>;

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
    /// `v1_17` and the like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flink_version: Option<String>,
    /// Flink configuration; values are usually strings but YAML lets numbers through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flink_configuration: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_manager: Option<ProcessSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_manager: Option<ProcessSpec>,
    /// Changing it makes the operator restart the deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_nonce: Option<i64>,
    /// `None` for a session cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<FlinkJobSpec>,
}

/// `jobManager` / `taskManager`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i64>,
    /// The deprecated flat form (`cpu` a number, `memory` a Flink size like `2048m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<FlatResource>,
    /// The newer Kubernetes form (FLINK-33548); wins over `resource` when both are set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlatResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlinkJobSpec {
    #[serde(default, rename = "jarURI", skip_serializing_if = "Option::is_none")]
    pub jar_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i64>,
    /// `running` or `suspended`: what the operator is asked to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_mode: Option<String>,
    /// Changing it makes the operator take a savepoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub savepoint_trigger_nonce: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlinkDeploymentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<FlinkJobStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_manager_deployment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Some operator versions put the job state here (the Python seed's fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_manager: Option<TaskManagerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<StatusCondition>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlinkJobStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Epoch milliseconds, as a string (the operator writes them so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub savepoint_info: Option<SavepointInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_info: Option<CheckpointInfo>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavepointInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_savepoint: Option<SnapshotInfo>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checkpoint: Option<SnapshotInfo>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_type: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCondition {
    #[serde(default, rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
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
                "flinkConfiguration": { "taskmanager.numberOfTaskSlots": "2", "state.backend": "rocksdb" },
                "jobManager": { "replicas": 1, "resource": { "cpu": 0.5, "memory": "1024m" } },
                "taskManager": { "resources": { "requests": { "cpu": "500m", "memory": "2Gi" } } },
                "job": { "jarURI": "local:///opt/flink/examples/WordCount.jar", "parallelism": 2, "upgradeMode": "stateless" }
            },
            "status": {
                "jobStatus": { "state": "RUNNING", "jobName": "WordCount", "startTime": "1700000000000",
                               "savepointInfo": { "lastSavepoint": { "timeStamp": 1700000100000_i64, "location": "s3://sp/1" } } },
                "lifecycleState": "STABLE", "jobManagerDeploymentStatus": "READY",
                "clusterInfo": { "flink-version": "1.17.1" }
            }
        });
        let fd: FlinkDeploymentObject = serde_json::from_value(json).expect("parses");
        assert_eq!(fd.spec.job.as_ref().and_then(|j| j.parallelism), Some(2));
        let tm = fd.spec.task_manager.expect("taskManager");
        assert!(tm.resources.is_some_and(|r| r.requests.is_some()));
        let status = fd.status.expect("status");
        assert_eq!(
            status.job_status.and_then(|j| j.state).as_deref(),
            Some("RUNNING")
        );
        assert_eq!(status.lifecycle_state.as_deref(), Some("STABLE"));
        assert_eq!(status.job_manager_deployment_status.as_deref(), Some("READY"));
    }
}
