//! Set-up shared by the tests against the real kube-apiserver: a cluster-admin client for the
//! test's own objects, fresh namespaces, Heimdall's ServiceAccount kubeconfig, and bounded
//! waiting.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use serde_json::Value;

use crate::helpers::TestApp;

pub fn env_path(name: &str) -> PathBuf {
    app::testing::peer_env(name).into()
}

/// The ServiceAccount kubeconfig written by `scripts/heimdall test`.
pub fn service_account_kubeconfig() -> PathBuf {
    env_path("HEIMDALL_TEST_KUBECONFIG")
}

/// A cluster-admin client, for the test's own set-up only.
pub async fn admin_client() -> Client {
    let kubeconfig =
        Kubeconfig::read_from(env_path("HEIMDALL_TEST_ADMIN_KUBECONFIG")).expect("admin kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("admin config");
    Client::try_from(config).expect("admin client")
}

/// A fresh namespace for one test.
pub async fn fresh_namespace(admin: &Client) -> String {
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

pub async fn delete_namespaces(admin: &Client, names: &[&str]) {
    for name in names {
        let _ = Api::<Namespace>::all(admin.clone())
            .delete(name, &DeleteParams::default())
            .await;
    }
}

/// Polls `check` (bounded, 15 s) until it returns `Some`; the last `None` fails the test.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..150 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Polls `/readyz` (bounded) until `done(status, body)` holds; returns the last answer.
pub async fn readyz_until(app: &TestApp, done: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
    let mut last = (0, Value::Null);
    for _ in 0..200 {
        let response = app.get("/readyz").await;
        last = (response.status().as_u16(), response.json().await.expect("JSON"));
        if done(last.0, &last.1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

pub async fn readyz_becomes(app: &TestApp, want: u16) -> (u16, Value) {
    readyz_until(app, |status, _| status == want).await
}

/// The first object of `kind` in the shipped manifest `deploy/rbac/<file>`: tests run Heimdall
/// under exactly what an operator applies.
pub fn shipped<T: serde::de::DeserializeOwned>(file: &str, kind: &str) -> T {
    use serde::Deserialize as _;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/rbac")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .filter_map(|doc| {
            let value = serde_yaml::Value::deserialize(doc).ok()?;
            (value.get("kind")?.as_str()? == kind).then(|| serde_yaml::from_value(value).ok())?
        })
        .next()
        .unwrap_or_else(|| panic!("{file} has a {kind}"))
}
