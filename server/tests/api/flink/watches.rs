//! Against the real kube-apiserver the test command starts, with Heimdall authenticated as
//! its own ServiceAccount from `deploy/rbac/` (not an admin token), so a missing verb fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleRef, Subject};
use kube::Api;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::runtime::reflector::ObjectRef;
use serde_json::Value;

use super::support::{
    Relay, admin_client, api_server_addr, application_spec, create_deployment, delete_namespaces, eventually,
    find, fresh_namespace, jobs_at, readyz_becomes, readyz_until, service_account_kubeconfig, spawn_watching,
};
use crate::helpers::{spawn_app_with, test_config};

#[tokio::test]
async fn with_its_service_account_heimdall_is_connected_and_ready() {
    let (mut config, file) = test_config().await;
    config.kubernetes.enabled = true;
    config.kubernetes.kubeconfig = Some(service_account_kubeconfig());
    let app = spawn_app_with(config, file).await;
    app.sign_in_as_admin().await;

    let (status, body) = readyz_becomes(&app, 200).await;
    assert_eq!(status, 200, "{body}");

    let overview: Value = app.server_fn("get_overview").await.json().await.expect("JSON");
    assert_eq!(overview["cluster"]["state"], "connected", "{overview}");
    let version = overview["cluster"]["version"].as_str().expect("version");
    assert!(
        version.starts_with("v1."),
        "the API server's own version: {version}"
    );

    let html = app.get("/").await.text().await.expect("page");
    assert!(
        !html.contains("Kubernetes is not configured"),
        "no banner when connected"
    );
}

#[tokio::test]
async fn the_reflector_sees_a_flink_deployment_created_through_the_api_server() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    let app = spawn_watching(service_account_kubeconfig(), &ns).await;
    let (status, body) = readyz_becomes(&app, 200).await;
    assert_eq!(status, 200, "readiness waits for the first sync: {body}");

    create_deployment(
        &admin,
        &ns,
        "wordcount",
        serde_json::json!({}),
        application_spec(3),
    )
    .await;

    let watch = app
        .state
        .flink
        .watches()
        .first()
        .expect("one watch for the namespace")
        .clone();
    let key = ObjectRef::new_with("wordcount", app::flink::api_resource("v1beta1")).within(&ns);
    let mut seen = None;
    for _ in 0..100 {
        seen = watch.store.get(&key);
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.expect("the watch delivers the new object into the store");
    assert_eq!(seen.spec.job.as_ref().and_then(|j| j.parallelism), Some(3));
    assert!(
        seen.metadata.managed_fields.is_none(),
        "managedFields are not cached"
    );
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn without_the_list_verb_the_watch_fails_with_a_clear_reason() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;

    // A copy of the shipped ClusterRole, minus `list`, bound to a ServiceAccount of this test.
    let mut role = crate::cluster_support::shipped::<ClusterRole>("heimdall.yaml", "ClusterRole");
    let copy_name = format!("{}-{ns}", role.metadata.name.clone().unwrap_or_default());
    role.metadata = ObjectMeta {
        name: Some(copy_name.clone()),
        ..ObjectMeta::default()
    };
    for rule in role.rules.iter_mut().flatten() {
        rule.verbs.retain(|verb| verb != "list");
    }
    let roles = Api::<ClusterRole>::all(admin.clone());
    roles
        .create(&PostParams::default(), &role)
        .await
        .expect("create the reduced role");
    let sa = ServiceAccount {
        metadata: ObjectMeta {
            name: Some("heimdall-limited".into()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    let accounts = Api::<ServiceAccount>::namespaced(admin.clone(), &ns);
    accounts
        .create(&PostParams::default(), &sa)
        .await
        .expect("create service account");
    let binding = ClusterRoleBinding {
        metadata: ObjectMeta {
            name: Some(copy_name.clone()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "ClusterRole".into(),
            name: copy_name.clone(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: "heimdall-limited".into(),
            namespace: Some(ns.clone()),
            ..Subject::default()
        }]),
    };
    let bindings = Api::<ClusterRoleBinding>::all(admin.clone());
    bindings
        .create(&PostParams::default(), &binding)
        .await
        .expect("create binding");
    let token = accounts
        .create_token_request(
            "heimdall-limited",
            &PostParams::default(),
            &TokenRequest {
                spec: Some(TokenRequestSpec {
                    expiration_seconds: Some(3600),
                    ..TokenRequestSpec::default()
                }),
                ..TokenRequest::default()
            },
        )
        .await
        .expect("token")
        .status
        .expect("token status")
        .token
        .expect("a token");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = with_token(&service_account_kubeconfig(), &token, dir.path());

    let app = spawn_watching(kubeconfig, &ns).await;
    // "first sync in progress" is a 503 too; wait for the watch's verdict.
    let (status, body) = readyz_until(&app, |_, body| {
        body["error"].as_str().is_some_and(|e| e.contains("failed"))
    })
    .await;
    let error = body["error"].as_str().unwrap_or_default().to_owned();
    // Restore: the shipped role was never touched; remove the copy.
    let _ = bindings.delete(&copy_name, &DeleteParams::default()).await;
    let _ = roles.delete(&copy_name, &DeleteParams::default()).await;
    delete_namespaces(&admin, &[&ns]).await;

    assert_eq!(status, 503, "{body}");
    assert!(error.contains("watching FlinkDeployments"), "{error}");
    assert!(
        error.contains("forbidden") && error.contains("list"),
        "names the refused verb: {error}"
    );
}

/// A copy of `kubeconfig` that authenticates with `token` instead.
fn with_token(kubeconfig: &Path, token: &str, dir: &Path) -> PathBuf {
    let mut doc: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(kubeconfig).expect("read")).expect("yaml");
    doc["users"][0]["user"] = serde_yaml::Value::Mapping(
        [(serde_yaml::Value::from("token"), serde_yaml::Value::from(token))]
            .into_iter()
            .collect(),
    );
    let path = dir.join("limited.kubeconfig");
    std::fs::write(&path, serde_yaml::to_string(&doc).expect("yaml")).expect("write");
    path
}

#[tokio::test]
async fn when_the_api_server_goes_away_heimdall_keeps_the_last_list_says_so_and_recovers() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    // Nothing changes here during the outage: its watch must recover all the same.
    let quiet = fresh_namespace(&admin).await;
    let relay = Relay::start(api_server_addr()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = spawn_watching(
        relay.kubeconfig(&service_account_kubeconfig(), dir.path()),
        &format!("{ns},{quiet}"),
    )
    .await;
    app.sign_in_as_admin().await;
    let (status, body) = readyz_becomes(&app, 200).await;
    assert_eq!(status, 200, "{body}");
    create_deployment(&admin, &ns, "before", serde_json::json!({}), application_spec(1)).await;
    eventually("the job is listed", || async {
        find(&jobs_at(&app, "/api/jobs").await, &ns, "before").map(|_| ())
    })
    .await;

    relay.stop();
    let (status, body) = readyz_until(&app, |status, _| status == 503).await;
    assert_eq!(status, 503, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("kubernetes unreachable") || error.contains("watching FlinkDeployments"),
        "names the API server: {error}"
    );
    // The last list is still served, and the feed says it is stale.
    let jobs = jobs_at(&app, "/api/jobs").await;
    assert!(
        find(&jobs, &ns, "before").is_some(),
        "the last list is kept: {jobs:?}"
    );
    let stale = eventually("the watch reports the failure", || async {
        let status = app.state.flink.feed_status();
        (!status.live).then_some(status)
    })
    .await;
    assert!(stale.problem.is_some_and(|p| p.contains(&ns)), "names the watch");

    // Changed while Heimdall could not see: picked up after the API server is back.
    create_deployment(&admin, &ns, "during", serde_json::json!({}), application_spec(1)).await;
    relay.restart().await;
    let (status, body) = readyz_becomes(&app, 200).await;
    assert_eq!(status, 200, "ready again without a restart: {body}");
    eventually("the job created during the outage is listed", || async {
        find(&jobs_at(&app, "/api/jobs").await, &ns, "during").map(|_| ())
    })
    .await;
    assert!(
        app.state.flink.feed_status().live,
        "every watch, the quiet one too"
    );
    relay.stop();
    delete_namespaces(&admin, &[&ns, &quiet]).await;
}
