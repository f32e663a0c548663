//! Tests of `kubernetes.rs`.

use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus};

use super::*;

fn deployment(generation: i64, observed: i64, status: DeploymentStatus) -> Deployment {
    Deployment {
        metadata: ObjectMeta {
            generation: Some(generation),
            ..ObjectMeta::default()
        },
        spec: DeploymentSpec {
            replicas: Some(2),
            ..DeploymentSpec::default()
        },
        status: Some(DeploymentStatus {
            observed_generation: Some(observed),
            ..status
        }),
    }
}

fn condition(type_: &str, status: &str, reason: &str) -> DeploymentCondition {
    DeploymentCondition {
        type_: Some(type_.into()),
        status: Some(status.into()),
        reason: Some(reason.into()),
        message: Some("why".into()),
        ..DeploymentCondition::default()
    }
}

#[test]
fn a_rollout_is_decided_only_once_its_generation_is_observed() {
    let ready = DeploymentStatus {
        replicas: Some(2),
        updated_replicas: Some(2),
        available_replicas: Some(2),
        ..DeploymentStatus::default()
    };
    assert_eq!(rollout(&deployment(2, 1, ready.clone()), 2), Rollout::Progressing);
    assert_eq!(
        rollout(&deployment(2, 2, ready), 2),
        Rollout::Succeeded("2/2 replicas available".into())
    );
}

#[test]
fn old_or_unavailable_replicas_keep_it_progressing() {
    let old_left = DeploymentStatus {
        replicas: Some(3),
        updated_replicas: Some(2),
        available_replicas: Some(2),
        ..DeploymentStatus::default()
    };
    assert_eq!(rollout(&deployment(1, 1, old_left), 1), Rollout::Progressing);
    let unavailable = DeploymentStatus {
        replicas: Some(2),
        updated_replicas: Some(2),
        available_replicas: Some(1),
        ..DeploymentStatus::default()
    };
    assert_eq!(rollout(&deployment(1, 1, unavailable), 1), Rollout::Progressing);
}

#[test]
fn a_deadline_or_a_replica_failure_fails_it() {
    let deadline = DeploymentStatus {
        conditions: Some(vec![condition(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
        )]),
        ..DeploymentStatus::default()
    };
    assert!(matches!(rollout(&deployment(1, 1, deadline), 1), Rollout::Failed(m) if m.contains("deadline")));
    let failure = DeploymentStatus {
        conditions: Some(vec![condition("ReplicaFailure", "True", "FailedCreate")]),
        ..DeploymentStatus::default()
    };
    assert!(matches!(rollout(&deployment(1, 1, failure), 1), Rollout::Failed(m) if m.contains("why")));
    let progressing = DeploymentStatus {
        conditions: Some(vec![condition("Progressing", "True", "ReplicaSetUpdated")]),
        ..DeploymentStatus::default()
    };
    assert_eq!(rollout(&deployment(1, 1, progressing), 1), Rollout::Progressing);
}

#[test]
fn an_execution_reference_reads_back() {
    let applied = Applied {
        namespace: "alpha-pay-prod".into(),
        name: "pay".into(),
        generation: 3,
    };
    assert_eq!(Applied::parse(&applied.reference()), Some(applied));
    assert_eq!(Applied::parse("arn:aws:states:x"), None);
}

#[test]
fn names_must_be_kubernetes_names() {
    assert!(dns_label("the namespace", "alpha-pay-dev").is_ok());
    let long = "a".repeat(64);
    for bad in ["", "Alpha", "-a", "a_b", long.as_str()] {
        assert!(dns_label("the namespace", bad).is_err(), "{bad:?}");
    }
}
