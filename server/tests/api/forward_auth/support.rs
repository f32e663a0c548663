//! Set-up of the CARTA tests: the shipped RoleBinding moved into a fresh namespace, Heimdall
//! watching it as its ServiceAccount, and labelled Services and Pods.

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::cluster_support::{
    admin_client, fresh_namespace, readyz_becomes, service_account_kubeconfig, shipped,
};
use crate::helpers::{TestApp, spawn_app_with, test_config};

pub const SESSION_LABEL: &str = "canfar-net-sessionID";
pub const USER_LABEL: &str = "canfar-net-userid";

/// The RoleBinding of `deploy/rbac/forward-auth-carta.yaml`, placed in `ns`: what an operator
/// does for their target namespace.
pub async fn grant_carta(admin: &Client, ns: &str) {
    let mut binding: RoleBinding = shipped("forward-auth-carta.yaml", "RoleBinding");
    binding.metadata.namespace = Some(ns.to_owned());
    Api::<RoleBinding>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &binding)
        .await
        .expect("bind the CARTA role in the test namespace");
}

/// A cluster-admin client and a fresh namespace Heimdall may watch (the shipped grant).
pub async fn granted_namespace() -> (Client, String) {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    grant_carta(&admin, &ns).await;
    (admin, ns)
}

/// `spawn_carta`, then waits until `/readyz` says both session watches have synced.
pub async fn ready_carta(ns: &str, tweak: impl FnOnce(&mut heimdall::config::Config)) -> TestApp {
    let app = spawn_carta(ns, tweak).await;
    readyz_becomes(&app, 200).await;
    app
}

/// Heimdall in CARTA mode over `ns`, as its ServiceAccount; `tweak` adjusts the rest.
pub async fn spawn_carta(ns: &str, tweak: impl FnOnce(&mut heimdall::config::Config)) -> TestApp {
    let (mut config, file) = test_config().await;
    config.kubernetes.enabled = true;
    config.kubernetes.kubeconfig = Some(service_account_kubeconfig());
    config.joblocator_k8s_operator.enabled = false;
    config.forward_auth.carta.enabled = true;
    config.forward_auth.carta.target_namespace = ns.to_owned();
    tweak(&mut config);
    spawn_app_with(config, file).await
}

fn labels(session: &str, user: Option<&str>) -> Value {
    match user {
        Some(user) => json!({ SESSION_LABEL: session, USER_LABEL: user }),
        None => json!({ SESSION_LABEL: session }),
    }
}

/// A headless Service carrying the session labels (as Skaha labels a CARTA session's Service).
pub async fn create_service(admin: &Client, ns: &str, name: &str, session: &str, user: Option<&str>) {
    let service: Service = serde_json::from_value(json!({
        "metadata": { "name": name, "labels": labels(session, user) },
        "spec": { "clusterIP": "None", "ports": [{ "port": 6901 }] },
    }))
    .expect("service");
    Api::<Service>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &service)
        .await
        .expect("create service");
}

/// A Pod carrying the session labels (it stays Pending: the test cluster has no kubelet).
pub async fn create_pod(admin: &Client, ns: &str, name: &str, session: &str, user: Option<&str>) {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": name, "labels": labels(session, user) },
        "spec": { "containers": [{ "name": "carta", "image": "images.canfar.net/skaha/carta:4.1" }] },
    }))
    .expect("pod");
    Api::<Pod>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &pod)
        .await
        .expect("create pod");
}

/// Merges `labels` into the Service's (a `null` removes one).
pub async fn relabel_service(admin: &Client, ns: &str, name: &str, labels: Value) {
    Api::<Service>::namespaced(admin.clone(), ns)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "labels": labels } })),
        )
        .await
        .expect("relabel service");
}

/// One CARTA question: `(status, carta-auth-token, body)`.
pub async fn ask(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let token = response
        .headers()
        .get("carta-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, token, response.text().await.unwrap_or_default())
}
