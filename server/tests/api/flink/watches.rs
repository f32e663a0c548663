//! Against the real kube-apiserver the test command starts, with Heimdall authenticated as
//! its own ServiceAccount from `deploy/rbac/` (not an admin token), so a missing verb fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleRef, Subject};
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Client};
use serde_json::Value;

use app::flink::{FlinkDeployment, FlinkDeploymentSpec, FlinkJobSpec};

use crate::helpers::{TestApp, spawn_app_with, test_config};

fn env_path(name: &str) -> PathBuf {
    app::testing::peer_env(name).into()
}

/// The ServiceAccount kubeconfig written by `scripts/heimdall test`.
fn service_account_kubeconfig() -> PathBuf {
    env_path("HEIMDALL_TEST_KUBECONFIG")
}

/// A cluster-admin client, for the test's own set-up only.
async fn admin_client() -> Client {
    let kubeconfig =
        Kubeconfig::read_from(env_path("HEIMDALL_TEST_ADMIN_KUBECONFIG")).expect("admin kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("admin config");
    Client::try_from(config).expect("admin client")
}

/// A fresh namespace for one test.
async fn fresh_namespace(admin: &Client) -> String {
    let name = format!(
        "heimdall-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(admin.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    name
}

async fn spawn_watching(kubeconfig: PathBuf, namespace: &str) -> TestApp {
    let (mut config, file) = test_config().await;
    config.kubernetes.enabled = true;
    config.kubernetes.kubeconfig = Some(kubeconfig);
    config.joblocator_k8s_operator.namespace_to_watch = namespace.to_owned();
    spawn_app_with(config, file).await
}

/// Polls `/readyz` (bounded, 10 s) until `done(status, body)` holds; returns the last answer.
async fn readyz_until(app: &TestApp, done: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
    let mut last = (0, Value::Null);
    for _ in 0..100 {
        let response = app.get("/readyz").await;
        last = (response.status().as_u16(), response.json().await.expect("JSON"));
        if done(last.0, &last.1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

async fn readyz_becomes(app: &TestApp, want: u16) -> (u16, Value) {
    readyz_until(app, |status, _| status == want).await
}

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

    let spec = FlinkDeploymentSpec {
        image: Some("flink:1.17".into()),
        flink_version: Some("v1_17".into()),
        job: Some(FlinkJobSpec {
            jar_uri: Some("local:///opt/flink/job.jar".into()),
            parallelism: Some(3),
        }),
    };
    Api::<FlinkDeployment>::namespaced(admin.clone(), &ns)
        .create(
            &PostParams::default(),
            &FlinkDeployment::new("wordcount", spec.clone()),
        )
        .await
        .expect("create FlinkDeployment");

    let watch = app.state.flink.first().expect("one watch for the namespace");
    let key = ObjectRef::new("wordcount").within(&ns);
    let mut seen = None;
    for _ in 0..100 {
        seen = watch.store.get(&key);
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.expect("the watch delivers the new object into the store");
    assert_eq!(seen.spec, spec);
    assert!(
        seen.metadata.managed_fields.is_none(),
        "managedFields are not cached"
    );
    let _ = Api::<Namespace>::all(admin)
        .delete(&ns, &DeleteParams::default())
        .await;
}

#[tokio::test]
async fn without_the_list_verb_the_watch_fails_with_a_clear_reason() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;

    // A copy of the shipped ClusterRole, minus `list`, bound to a ServiceAccount of this test.
    let mut role =
        shipped_cluster_role(Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/rbac/heimdall.yaml"));
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
    let _ = Api::<Namespace>::all(admin)
        .delete(&ns, &DeleteParams::default())
        .await;

    assert_eq!(status, 503, "{body}");
    assert!(error.contains("watching FlinkDeployments"), "{error}");
    assert!(
        error.contains("forbidden") && error.contains("list"),
        "names the refused verb: {error}"
    );
}

/// The ClusterRole document of the shipped RBAC manifest.
fn shipped_cluster_role(path: PathBuf) -> ClusterRole {
    let text = std::fs::read_to_string(&path).expect("read RBAC manifest");
    serde_yaml::Deserializer::from_str(&text)
        .filter_map(|doc| {
            let value = serde_yaml::Value::deserialize(doc).ok()?;
            (value.get("kind")?.as_str()? == "ClusterRole").then(|| serde_yaml::from_value(value).ok())?
        })
        .next()
        .expect("the manifest has a ClusterRole")
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

use serde::Deserialize as _;
