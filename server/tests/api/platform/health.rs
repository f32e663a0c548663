use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with, test_config};

async fn json_of(app: &crate::helpers::TestApp, path: &str) -> (u16, Value) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn every_seed_health_path_answers_with_its_own_shape() {
    let app = spawn_app().await;
    assert_eq!(json_of(&app, "/livez").await, (200, json!({ "status": "ok" })));
    assert_eq!(
        json_of(&app, "/readyz").await,
        (200, json!({ "status": "ready" }))
    );
    let (status, root) = json_of(&app, "/healthz").await;
    assert_eq!((status, &root["status"]), (200, &json!("healthy")));
    assert!(root["timestamp"].is_f64(), "the seed's float timestamp: {root}");
    let (status, console) = json_of(&app, "/api/v1/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(
        (&console["ok"], &console["services"]["database"]),
        (&json!(true), &json!(true)),
        "the seed's HealthResponse: {console}"
    );
    assert_eq!(
        json_of(&app, "/api/healthz").await,
        (200, json!({ "status": "ok" }))
    );
    assert_eq!(json_of(&app, "/health").await, (200, json!({ "data": "OK" })));
    assert_eq!(
        json_of(&app, "/health/ready").await,
        (200, json!({ "data": { "status": "ready" } }))
    );
}

#[tokio::test]
async fn version_tells_the_anonymous_only_the_version() {
    let app = spawn_app().await;
    let (status, body) = json_of(&app, "/version").await;
    assert_eq!(status, 200);
    let data = &body["data"];
    assert_eq!(data["app_version"], env!("CARGO_PKG_VERSION"));
    assert!(data.get("git_commit").is_none(), "{body}");
    assert!(data["database"].get("server_version").is_none(), "{body}");
}

#[tokio::test]
async fn version_names_the_build_and_the_database_behind_it_to_the_signed_in() {
    let app = spawn_app().await;
    app.sign_in_as_admin().await;
    let (status, body) = json_of(&app, "/version").await;
    assert_eq!(status, 200);
    let data = &body["data"];
    assert_eq!(data["app_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        data["git_commit"].as_str().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    assert_eq!(data["database"]["backend"], app.state.db.backend().name());
    let server_version = data["database"]["server_version"]
        .as_str()
        .expect("server version");
    assert!(server_version.starts_with(|c: char| c.is_ascii_digit()), "{body}");
}

#[tokio::test]
async fn app_version_overrides_the_built_version() {
    let (mut config, file) = test_config().await;
    config.app_version = Some("2026.11-rc1".into());
    let app = spawn_app_with(config, file).await;
    let (_, body) = json_of(&app, "/version").await;
    assert_eq!(body["data"]["app_version"], "2026.11-rc1");
}

#[tokio::test]
async fn an_unreachable_cluster_makes_readyz_503_with_a_reason() {
    let (mut config, file) = test_config().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: nobody\nusers:\n- name: nobody\n  user:\n    token: not-a-real-token\n",
    )
    .expect("write kubeconfig");
    config.kubernetes.enabled = true;
    config.kubernetes.kubeconfig = Some(kubeconfig);
    let app = spawn_app_with(config, file).await;
    let (status, body) = json_of(&app, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("kubernetes unreachable")),
        "{body}"
    );
    let (status, body) = json_of(&app, "/health/ready").await;
    assert_eq!(status, 503);
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE");
    // Liveness does not depend on peers.
    assert_eq!(json_of(&app, "/livez").await.0, 200);
}

#[tokio::test]
async fn an_explicit_kubeconfig_that_does_not_exist_stops_start_up() {
    let (mut config, _file) = test_config().await;
    config.kubernetes.kubeconfig = Some("/nonexistent/kubeconfig".into());
    config.kubernetes.enabled = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let err = heimdall::startup::Application::build_with_listener(&config, listener)
        .await
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("/nonexistent/kubeconfig"), "{err:#}");
}
