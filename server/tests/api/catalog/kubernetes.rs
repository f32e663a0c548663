//! The Kubernetes executor against the real kube-apiserver, with Heimdall as its own
//! ServiceAccount (`deploy/rbac/heimdall.yaml`), so a missing verb fails here. The API server
//! has no controllers: the test writes the Deployment's status the way the controller would.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use reqwest::Method;
use serde_json::{Value, json};

use super::support::{People, action_in_history, people, send};
use crate::cluster_support::{admin_client, eventually, service_account_kubeconfig};
use crate::helpers::{TestApp, spawn_app_with, test_config};

/// Heimdall on the real cluster; the test's own service (a fresh name: both databases' runs
/// share the API server) with environments dev and prod.
async fn on_the_cluster(rollout_timeout_secs: u64) -> (TestApp, People, i64, String) {
    let (mut config, file) = test_config().await;
    config.kubernetes.enabled = true;
    config.kubernetes.kubeconfig = Some(service_account_kubeconfig());
    config.catalog.kubernetes.rollout_timeout_secs = rollout_timeout_secs;
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let name = format!("pay-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (status, created) = send(
        &p.alice,
        Method::POST,
        app.url("/services"),
        Some(json!({
            "name": name, "repo_url": "https://git.example.com/pay", "owner_team": "Payments",
            "runtime": "go", "tier": "tier-1", "environments": ["dev", "prod"], "tenant": "alpha",
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    (app, p, created["id"].as_i64().expect("id"), name)
}

fn labels_of(meta: &kube::api::ObjectMeta) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

fn assert_labelled(what: &str, meta: &kube::api::ObjectMeta, service: &str, environment: &str) {
    let labels = labels_of(meta);
    for (key, value) in [
        ("heimdall.io/tenant", "alpha"),
        ("heimdall.io/service", service),
        ("heimdall.io/environment", environment),
        ("app.kubernetes.io/managed-by", "heimdall"),
    ] {
        assert_eq!(
            labels.get(key).map(String::as_str),
            Some(value),
            "{what}: {key} in {labels:?}"
        );
    }
    let managers: Vec<_> = meta
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|f| f.manager.clone())
        .collect();
    assert!(
        managers.iter().any(|m| m == "heimdall"),
        "{what} applied by heimdall: {managers:?}"
    );
}

/// What the deployment controller would write: the rollout of `generation` done, or failed.
async fn write_status(admin: &Client, namespace: &str, name: &str, status: Value) {
    Api::<Deployment>::namespaced(admin.clone(), namespace)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await
        .expect("write the Deployment's status");
}

async fn settled(app: &TestApp, p: &People, id: i64, action_id: i64, status: &str) -> Value {
    eventually(&format!("action {action_id} becomes {status}"), || async {
        let a = action_in_history(app, &p.vera, id, action_id).await;
        (a["status"] == status).then_some(a)
    })
    .await
}

#[tokio::test]
async fn provision_deploy_and_deprovision_apply_and_remove_the_environment() {
    let admin = admin_client().await;
    let (app, p, id, name) = on_the_cluster(600).await;
    let namespace = format!("alpha-{name}-dev");

    // Provision dev: the namespace, its quota, the tenant's role binding, labelled and applied
    // by heimdall.
    let (status, provisioned) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/provision")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert_eq!(status, 200, "{provisioned}");
    assert_eq!(provisioned["status"], "succeeded", "{provisioned}");
    let ns = Api::<Namespace>::all(admin.clone())
        .get(&namespace)
        .await
        .expect("the namespace");
    assert_labelled("namespace", &ns.metadata, &name, "dev");
    let quota = Api::<ResourceQuota>::namespaced(admin.clone(), &namespace)
        .get("heimdall-quota")
        .await
        .expect("the quota");
    assert_labelled("quota", &quota.metadata, &name, "dev");
    let hard = quota.spec.and_then(|s| s.hard).expect("hard limits");
    assert_eq!(hard.get("pods").map(|q| q.0.as_str()), Some("20"), "{hard:?}");
    let binding = Api::<RoleBinding>::namespaced(admin.clone(), &namespace)
        .get("heimdall-tenant")
        .await
        .expect("the role binding");
    assert_labelled("role binding", &binding.metadata, &name, "dev");
    assert_eq!(
        (binding.role_ref.kind.as_str(), binding.role_ref.name.as_str()),
        ("ClusterRole", "edit")
    );
    let subjects = binding.subjects.expect("subjects");
    assert_eq!(
        (subjects[0].kind.as_str(), subjects[0].name.as_str()),
        ("Group", "tenant:alpha")
    );
    let (_, state) = send(
        &p.vera,
        Method::GET,
        app.url(&format!("/services/{id}/actions/status?environment=dev")),
        None,
    )
    .await;
    assert_eq!(
        state["status"], "succeeded",
        "the seed's status route reads it: {state}"
    );

    // Deploy: the Deployment of the image asked for; in progress until its rollout is done.
    let (status, deploying) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev", "image": "registry.example.com/pay", "version": "1.2.3" })),
    )
    .await;
    assert_eq!(status, 200, "{deploying}");
    assert_eq!(deploying["status"], "in_progress", "{deploying}");
    let first = deploying["deployment_id"].as_i64().expect("deployment_id");
    let deployments = Api::<Deployment>::namespaced(admin.clone(), &namespace);
    let deployment = deployments.get(&name).await.expect("the Deployment");
    assert_labelled("deployment", &deployment.metadata, &name, "dev");
    let image = deployment
        .spec
        .template
        .spec
        .as_ref()
        .expect("pod spec")
        .containers[0]
        .image
        .clone();
    assert_eq!(image.as_deref(), Some("registry.example.com/pay:1.2.3"));
    assert_eq!(
        action_in_history(&app, &p.vera, id, first).await["status"],
        "in_progress",
        "no status yet: still rolling out"
    );
    let generation = deployment.metadata.generation.expect("generation");
    write_status(
        &admin,
        &namespace,
        &name,
        json!({ "observedGeneration": generation, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                "availableReplicas": 1,
                "conditions": [{ "type": "Available", "status": "True", "reason": "MinimumReplicasAvailable" }] }),
    )
    .await;
    let done = settled(&app, &p, id, first, "succeeded").await;
    assert!(
        done["detail"]
            .as_str()
            .is_some_and(|d| d.contains("1/1 replicas available")),
        "{done}"
    );

    // The next version's rollout fails its progress deadline: the action fails, saying so.
    let (_, deploying) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev", "image": "registry.example.com/pay", "version": "1.2.4" })),
    )
    .await;
    let second = deploying["deployment_id"].as_i64().expect("deployment_id");
    let deployment = deployments.get(&name).await.expect("the Deployment");
    let next = deployment.metadata.generation.expect("generation");
    assert!(next > generation, "a new image is a new generation");
    write_status(
        &admin,
        &namespace,
        &name,
        json!({ "observedGeneration": next, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1,
                "conditions": [{ "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                 "message": "ReplicaSet \"pay\" has timed out progressing." }] }),
    )
    .await;
    let failed = settled(&app, &p, id, second, "failed").await;
    assert!(
        failed["detail"]
            .as_str()
            .is_some_and(|d| d.contains("progress deadline")),
        "{failed}"
    );
    let (_, latest) = send(
        &p.vera,
        Method::GET,
        app.url(&format!("/services/{id}/actions/deploy/status")),
        None,
    )
    .await;
    assert_eq!(
        latest["status"], "failed",
        "the seed's deploy status reads it: {latest}"
    );

    // Deprovision: everything provision and deploy created is gone (the namespace is deleted;
    // without a namespace controller here it may linger as Terminating).
    let (status, removed) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deprovision")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["status"], "succeeded", "{removed}");
    let absent = |r: Result<_, kube::Error>| matches!(r, Err(kube::Error::Api(s)) if s.code == 404);
    assert!(
        absent(deployments.get(&name).await.map(drop)),
        "the Deployment is deleted"
    );
    assert!(
        absent(
            Api::<ResourceQuota>::namespaced(admin.clone(), &namespace)
                .get("heimdall-quota")
                .await
                .map(drop)
        ),
        "the quota is deleted"
    );
    assert!(
        absent(
            Api::<RoleBinding>::namespaced(admin.clone(), &namespace)
                .get("heimdall-tenant")
                .await
                .map(drop)
        ),
        "the role binding is deleted"
    );
    match Api::<Namespace>::all(admin.clone()).get(&namespace).await {
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Ok(ns) => assert!(
            ns.metadata.deletion_timestamp.is_some(),
            "the namespace is being deleted"
        ),
        Err(e) => panic!("reading the namespace: {e}"),
    }
}

#[tokio::test]
async fn a_rollout_that_never_finishes_times_out_and_a_bad_image_is_refused() {
    let admin = admin_client().await;
    let (app, p, id, name) = on_the_cluster(1).await;

    let (status, refused) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev", "image": "registry example/pay" })),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["field"], "image", "{refused}");

    // Provision is not needed first: the namespace must exist, so the deploy fails and says why.
    let (_, failed) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["detail"].as_str().is_some_and(|d| d.contains("404")),
        "{failed}"
    );

    send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/provision")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    let (_, deploying) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert_eq!(deploying["status"], "in_progress", "{deploying}");
    let deployment = Api::<Deployment>::namespaced(admin.clone(), &format!("alpha-{name}-dev"))
        .get(&name)
        .await
        .expect("the Deployment");
    let image = deployment
        .spec
        .template
        .spec
        .as_ref()
        .expect("pod spec")
        .containers[0]
        .image
        .clone();
    assert_eq!(
        image,
        Some(format!("{name}:latest")),
        "the image template's default"
    );
    let timed_out = settled(
        &app,
        &p,
        id,
        deploying["deployment_id"].as_i64().expect("deployment_id"),
        "timed_out",
    )
    .await;
    assert!(
        timed_out["detail"]
            .as_str()
            .is_some_and(|d| d.contains("within 1 s")),
        "{timed_out}"
    );
    send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deprovision")),
        None,
    )
    .await;
}

#[tokio::test]
async fn a_deploy_to_prod_applies_nothing_until_approved_and_nothing_when_rejected() {
    let admin = admin_client().await;
    let (app, p, id, name) = on_the_cluster(600).await;
    let namespace = format!("alpha-{name}-prod");
    let (_, provisioned) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/provision")),
        Some(json!({ "environment": "prod" })),
    )
    .await;
    assert_eq!(provisioned["status"], "succeeded", "{provisioned}");
    let deployments = Api::<Deployment>::namespaced(admin.clone(), &namespace);
    let deploy = || {
        send(
            &p.dave,
            Method::POST,
            app.url(&format!("/services/{id}/actions/deploy")),
            Some(json!({ "environment": "prod", "image": "registry.example.com/pay", "version": "2.0.0" })),
        )
    };
    let decide = |pipeline: String, verb: &'static str, body: Value| {
        let app = &app;
        let alice = &p.alice;
        async move {
            send(
                alice,
                Method::POST,
                app.url(&format!("/api/v1/jobs/{pipeline}/{verb}")),
                Some(body),
            )
            .await
        }
    };

    // Rejected: the action says why, and no Deployment exists.
    let (_, waiting) = deploy().await;
    assert_eq!(waiting["status"], "awaiting_approval", "{waiting}");
    let pipeline = waiting["pipeline_id"].as_str().expect("pipeline").to_owned();
    let (status, _) = decide(
        pipeline,
        "reject",
        json!({ "decision": "rejected", "stage": "deploy", "notes": "freeze", "operator": "alice", "patch": null }),
    )
    .await;
    assert_eq!(status, 200);
    let rejected = settled(
        &app,
        &p,
        id,
        waiting["deployment_id"].as_i64().expect("id"),
        "rejected",
    )
    .await;
    assert_eq!(rejected["detail"], "Rejected by alice: freeze");
    assert!(
        matches!(deployments.get(&name).await, Err(kube::Error::Api(s)) if s.code == 404),
        "a rejected deploy applies nothing"
    );

    // Approved: the Deployment appears with the image asked for before the approval.
    let (_, waiting) = deploy().await;
    let pipeline = waiting["pipeline_id"].as_str().expect("pipeline").to_owned();
    assert!(
        matches!(deployments.get(&name).await, Err(kube::Error::Api(s)) if s.code == 404),
        "nothing before approval"
    );
    let (status, _) = decide(
        pipeline,
        "approve",
        json!({ "decision": "approved", "stage": "deploy", "notes": null, "operator": "alice", "patch": null }),
    )
    .await;
    assert_eq!(status, 200);
    let deployment = eventually("the approved deploy applies its Deployment", || async {
        deployments.get(&name).await.ok()
    })
    .await;
    let image = deployment
        .spec
        .template
        .spec
        .as_ref()
        .expect("pod spec")
        .containers[0]
        .image
        .clone();
    assert_eq!(image.as_deref(), Some("registry.example.com/pay:2.0.0"));
    settled(
        &app,
        &p,
        id,
        waiting["deployment_id"].as_i64().expect("id"),
        "in_progress",
    )
    .await;
    send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deprovision")),
        None,
    )
    .await;
}
