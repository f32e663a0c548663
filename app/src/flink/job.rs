//! One pure function from a `FlinkDeployment` to the `FlinkJob` the Java Heimdall returns,
//! with the same fallbacks (status `UNKNOWN`, parallelism from task slots × TaskManagers, TM
//! replicas from the status), plus Heimdall's additions.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use serde_json::Value;

use super::crd::{FlatResource, FlinkDeploymentObject, ProcessSpec, SnapshotInfo};
use super::model::{FlinkJob, JobCondition, JobResources, JobType, ProcessResources, Snapshot};
use super::patterns::Patterns;

const UNKNOWN_STATUS: &str = "UNKNOWN";
const TASK_SLOTS: &str = "taskmanager.numberOfTaskSlots";

pub fn to_flink_job(fd: &FlinkDeploymentObject, patterns: &Patterns) -> FlinkJob {
    let meta = &fd.metadata;
    let spec = &fd.spec;
    let status = fd.status.as_ref();
    let job_status = status.and_then(|s| s.job_status.as_ref());
    let name = meta.name.clone().unwrap_or_default();
    let namespace = meta.namespace.clone().unwrap_or_default();
    let labels: BTreeMap<String, String> = meta.labels.clone().unwrap_or_default();
    let job_type = if spec.job.is_some() {
        JobType::Application
    } else {
        JobType::Session
    };

    // The operator runs one JobManager unless told otherwise (the Java seed says so too).
    let jm = process(spec.job_manager.as_ref(), 1);
    let mut tm = process(spec.task_manager.as_ref(), 0);
    if tm.replicas == 0 && job_type == JobType::Application {
        // The operator sizes TaskManagers itself for application jobs: the status knows.
        tm.replicas = status
            .and_then(|s| s.task_manager.as_ref())
            .and_then(|t| t.replicas)
            .unwrap_or(0);
    }

    FlinkJob {
        id: meta.uid.clone().unwrap_or_default(),
        status: status_of(fd),
        job_type,
        start_time: job_status.and_then(|j| epoch_ms(j.start_time.as_ref())),
        short_image: short_image(spec.image.as_deref().unwrap_or_default()).to_owned(),
        flink_version: flink_version(spec.flink_version.as_deref().unwrap_or_default()),
        parallelism: parallelism(fd),
        resources: JobResources { jm, tm },
        display_name: patterns.display_name(&name, &namespace, &labels),
        links: patterns.links(&name, &namespace, &labels),
        lifecycle_state: status.and_then(|s| s.lifecycle_state.clone()),
        job_manager_deployment_status: status.and_then(|s| s.job_manager_deployment_status.clone()),
        error: status.and_then(|s| s.error.clone()).filter(|e| !e.is_empty()),
        job_id: job_status.and_then(|j| j.job_id.clone()),
        update_time: job_status.and_then(|j| epoch_ms(j.update_time.as_ref())),
        desired_state: spec.job.as_ref().and_then(|j| j.state.clone()),
        last_savepoint: job_status
            .and_then(|j| j.savepoint_info.as_ref())
            .and_then(|s| s.last_savepoint.as_ref())
            .map(snapshot),
        last_checkpoint: job_status
            .and_then(|j| j.checkpoint_info.as_ref())
            .and_then(|c| c.last_checkpoint.as_ref())
            .map(snapshot),
        conditions: status
            .and_then(|s| s.conditions.as_ref())
            .map(|cs| {
                cs.iter()
                    .map(|c| JobCondition {
                        type_: c.type_.clone(),
                        status: c.status.clone(),
                        reason: c.reason.clone(),
                        message: c.message.clone(),
                        last_transition_time: c.last_transition_time.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        metadata: labels,
        name,
        namespace,
    }
}

/// `status.jobStatus.state`, else `status.state` (the Python seed's fallback), else `UNKNOWN`.
pub fn status_of(fd: &FlinkDeploymentObject) -> String {
    let status = fd.status.as_ref();
    status
        .and_then(|s| s.job_status.as_ref())
        .and_then(|j| j.state.clone())
        .or_else(|| status.and_then(|s| s.state.clone()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| UNKNOWN_STATUS.to_owned())
}

/// Everything after the first `/`: the registry host goes, the repository path stays
/// (`0003.dkr.ecr.eu-west-1.amazonaws.com/team/app:1` → `team/app:1`, the Java seed's fix #9).
pub fn short_image(image: &str) -> &str {
    image.split_once('/').map_or(image, |(_, rest)| rest)
}

/// `v1_17` → `1.17`.
pub fn flink_version(raw: &str) -> String {
    raw.replace('_', ".").replace('v', "")
}

/// `spec.job.parallelism` when set and not 0, else task slots × TaskManager replicas, else 0.
pub fn parallelism(fd: &FlinkDeploymentObject) -> i64 {
    let spec = &fd.spec;
    if let Some(p) = spec.job.as_ref().and_then(|j| j.parallelism).filter(|p| *p != 0) {
        return p;
    }
    let slots = spec
        .flink_configuration
        .as_ref()
        .and_then(|c| c.get(TASK_SLOTS))
        .and_then(|v| match v {
            Value::String(s) => s.trim().parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        });
    let replicas = spec.task_manager.as_ref().and_then(|t| t.replicas);
    match (slots, replicas) {
        (Some(slots), Some(replicas)) => slots.saturating_mul(replicas),
        _ => 0,
    }
}

/// Replicas (default `default_replicas`), CPU and memory: the Kubernetes `resources.requests`
/// form when present, else the deprecated flat `resource`.
fn process(spec: Option<&ProcessSpec>, default_replicas: i64) -> ProcessResources {
    let Some(spec) = spec else {
        return ProcessResources {
            replicas: default_replicas,
            ..ProcessResources::default()
        };
    };
    let (cpu, mem) = spec
        .resources
        .as_ref()
        .and_then(from_requirements)
        .or_else(|| spec.resource.as_ref().map(from_flat))
        .unwrap_or_default();
    ProcessResources {
        replicas: spec.replicas.unwrap_or(default_replicas),
        cpu,
        mem,
    }
}

fn from_requirements(r: &ResourceRequirements) -> Option<(String, String)> {
    let pick = |key: &str| {
        r.requests
            .as_ref()
            .and_then(|m| m.get(key))
            .or_else(|| r.limits.as_ref().and_then(|m| m.get(key)))
            .map(|q| q.0.clone())
    };
    let (cpu, mem) = (pick("cpu"), pick("memory"));
    (cpu.is_some() || mem.is_some()).then(|| (cpu.unwrap_or_default(), mem.unwrap_or_default()))
}

fn from_flat(r: &FlatResource) -> (String, String) {
    (
        r.cpu.as_ref().map(cpu_text).unwrap_or_default(),
        r.memory.clone().unwrap_or_default(),
    )
}

/// The flat form's CPU as the Java seed prints a double: `1` → `1.0`, `0.5` → `0.5`.
fn cpu_text(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("{n}.0"),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Epoch milliseconds from a string (how the operator writes them) or a number.
fn epoch_ms(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn snapshot(s: &SnapshotInfo) -> Snapshot {
    Snapshot {
        time: epoch_ms(s.time_stamp.as_ref()),
        location: s.location.clone(),
        trigger_type: s.trigger_type.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> FlinkDeploymentObject {
        serde_json::from_value(value).expect("a FlinkDeployment")
    }

    fn base() -> Value {
        json!({
            "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
            "metadata": { "name": "orders", "namespace": "prod", "uid": "u-1", "labels": { "team": "payments" } },
            "spec": {
                "image": "registry.example.com/flink/orders:1.4", "flinkVersion": "v1_17",
                "flinkConfiguration": { "taskmanager.numberOfTaskSlots": "2" },
                "jobManager": { "replicas": 1, "resource": { "cpu": 1, "memory": "2048m" } },
                "taskManager": { "replicas": 3, "resource": { "cpu": 0.5, "memory": "4096m" } },
                "job": { "jarURI": "local:///job.jar", "parallelism": 4, "state": "running" }
            },
            "status": {
                "jobStatus": { "state": "RUNNING", "jobId": "abc", "startTime": "1700000000000", "updateTime": "1700000005000",
                               "checkpointInfo": { "lastCheckpoint": { "timeStamp": 1700000004000_i64, "triggerType": "PERIODIC" } } },
                "lifecycleState": "STABLE", "jobManagerDeploymentStatus": "READY",
                "conditions": [ { "type": "Running", "status": "True", "reason": "JobStatus", "message": "Job is running" } ]
            }
        })
    }

    #[test]
    fn an_application_job_maps_like_the_java_seed() {
        let job = to_flink_job(&object(base()), &Patterns::default());
        assert_eq!(job.id, "u-1");
        assert_eq!((job.name.as_str(), job.namespace.as_str()), ("orders", "prod"));
        assert_eq!(job.status, "RUNNING");
        assert_eq!(job.job_type, JobType::Application);
        assert_eq!(job.start_time, Some(1_700_000_000_000));
        assert_eq!(job.short_image, "flink/orders:1.4");
        assert_eq!(job.flink_version, "1.17");
        assert_eq!(job.parallelism, 4);
        assert_eq!(
            job.resources,
            JobResources {
                jm: ProcessResources {
                    replicas: 1,
                    cpu: "1.0".into(),
                    mem: "2048m".into()
                },
                tm: ProcessResources {
                    replicas: 3,
                    cpu: "0.5".into(),
                    mem: "4096m".into()
                },
            }
        );
        assert_eq!(job.metadata.get("team").map(String::as_str), Some("payments"));
        assert_eq!(job.lifecycle_state.as_deref(), Some("STABLE"));
        assert_eq!(job.job_manager_deployment_status.as_deref(), Some("READY"));
        assert_eq!(job.job_id.as_deref(), Some("abc"));
        assert_eq!(job.update_time, Some(1_700_000_005_000));
        assert_eq!(job.desired_state.as_deref(), Some("running"));
        assert_eq!(job.last_checkpoint.and_then(|c| c.time), Some(1_700_000_004_000));
        assert_eq!(job.conditions.len(), 1);

        // The seed's JSON field names and shapes.
        let json = serde_json::to_value(to_flink_job(&object(base()), &Patterns::default())).expect("json");
        assert_eq!(json["type"], "APPLICATION");
        assert_eq!(json["startTime"], 1_700_000_000_000_i64);
        assert_eq!(json["shortImage"], "flink/orders:1.4");
        assert_eq!(json["flinkVersion"], "1.17");
        assert_eq!(json["resources"]["tm"]["mem"], "4096m");
        assert_eq!(json["metadata"]["team"], "payments");
    }

    #[test]
    fn short_images_match_the_seeds_cases() {
        for (image, short) in [
            (
                "000333555999.dkr.ecr.eu-west-1.amazonaws.com/servicing/team/test:0.1.4",
                "servicing/team/test:0.1.4",
            ),
            ("docker.io/flink:1.15", "flink:1.15"),
            ("registry.com/image:tag", "image:tag"),
            ("flink:latest", "flink:latest"),
            ("gcr.io/project/namespace/app:v1", "project/namespace/app:v1"),
            ("", ""),
        ] {
            assert_eq!(short_image(image), short, "{image}");
        }
    }

    #[test]
    fn parallelism_falls_back_to_slots_times_task_managers() {
        let mut v = base();
        v["spec"]["job"]["parallelism"] = json!(0);
        assert_eq!(parallelism(&object(v.clone())), 6, "2 slots × 3 TaskManagers");
        v["spec"]["job"]
            .as_object_mut()
            .expect("job")
            .remove("parallelism");
        v["spec"]["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] = json!(4);
        assert_eq!(parallelism(&object(v.clone())), 12, "a numeric slot count");
        v["spec"]["taskManager"]
            .as_object_mut()
            .expect("tm")
            .remove("replicas");
        assert_eq!(parallelism(&object(v.clone())), 0, "no replicas: unknown");
        v["spec"]["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] = json!("many");
        v["spec"]["taskManager"]["replicas"] = json!(2);
        assert_eq!(parallelism(&object(v)), 0, "an unreadable slot count: unknown");
    }

    #[test]
    fn one_job_manager_when_the_spec_does_not_say() {
        let mut v = base();
        v["spec"]["jobManager"]
            .as_object_mut()
            .expect("jm")
            .remove("replicas");
        let job = to_flink_job(&object(v.clone()), &Patterns::default());
        assert_eq!(job.resources.jm.replicas, 1, "the operator's default");
        v["spec"].as_object_mut().expect("spec").remove("jobManager");
        assert_eq!(
            to_flink_job(&object(v.clone()), &Patterns::default())
                .resources
                .jm
                .replicas,
            1
        );
        v["spec"]["jobManager"] = json!({ "replicas": 2 });
        assert_eq!(
            to_flink_job(&object(v), &Patterns::default())
                .resources
                .jm
                .replicas,
            2
        );
    }

    #[test]
    fn a_session_cluster_without_status_is_unknown_and_has_no_status_replicas() {
        let mut v = base();
        v["spec"].as_object_mut().expect("spec").remove("job");
        v["spec"]["taskManager"]
            .as_object_mut()
            .expect("tm")
            .remove("replicas");
        v.as_object_mut().expect("object").remove("status");
        let job = to_flink_job(&object(v), &Patterns::default());
        assert_eq!(job.job_type, JobType::Session);
        assert_eq!(job.status, "UNKNOWN");
        assert_eq!(job.start_time, None);
        assert_eq!(job.resources.tm.replicas, 0);
        assert_eq!(job.parallelism, 0);
    }

    #[test]
    fn task_manager_replicas_come_from_the_status_for_application_jobs() {
        let mut v = base();
        v["spec"]["taskManager"]
            .as_object_mut()
            .expect("tm")
            .remove("replicas");
        v["status"]["taskManager"] = json!({ "replicas": 5 });
        assert_eq!(
            to_flink_job(&object(v), &Patterns::default())
                .resources
                .tm
                .replicas,
            5
        );
    }

    #[test]
    fn the_kubernetes_resources_form_wins_over_the_deprecated_one() {
        let mut v = base();
        v["spec"]["jobManager"]["resources"] =
            json!({ "requests": { "cpu": "500m", "memory": "1Gi" }, "limits": { "cpu": "1" } });
        v["spec"]["taskManager"] =
            json!({ "replicas": 2, "resources": { "limits": { "cpu": "2", "memory": "8Gi" } } });
        let job = to_flink_job(&object(v), &Patterns::default());
        assert_eq!(
            (job.resources.jm.cpu.as_str(), job.resources.jm.mem.as_str()),
            ("500m", "1Gi")
        );
        assert_eq!(
            (job.resources.tm.cpu.as_str(), job.resources.tm.mem.as_str()),
            ("2", "8Gi")
        );
        assert_eq!(job.resources.tm.replicas, 2);
    }

    #[test]
    fn the_status_falls_back_to_status_state_as_the_python_seed_does() {
        let mut v = base();
        v["status"]["jobStatus"]
            .as_object_mut()
            .expect("jobStatus")
            .remove("state");
        v["status"]["state"] = json!("CREATED");
        assert_eq!(to_flink_job(&object(v), &Patterns::default()).status, "CREATED");
    }
}
