//! Against the real kube-apiserver the test command starts, with Heimdall authenticated as
//! its own ServiceAccount from `deploy/rbac/` (not an admin token).

use std::path::PathBuf;

use serde_json::Value;

use crate::helpers::{spawn_app_with, test_config};

/// The ServiceAccount kubeconfig written by `scripts/heimdall test`.
fn service_account_kubeconfig() -> PathBuf {
    std::env::var("HEIMDALL_TEST_KUBECONFIG")
        .expect(
            "HEIMDALL_TEST_KUBECONFIG is unset: run the README's test command, which starts kube-apiserver",
        )
        .into()
}

#[tokio::test]
async fn with_its_service_account_heimdall_is_connected_and_ready() {
    let (mut config, file) = test_config().await;
    config.kubernetes.enabled = true;
    config.kubernetes.kubeconfig = Some(service_account_kubeconfig());
    let app = spawn_app_with(config, file).await;

    let readyz = app.get("/readyz").await;
    assert_eq!(readyz.status(), 200);

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
