use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn check_database_round_trips_to_the_database() {
    let app = spawn_app().await;
    app.sign_in_as_admin().await;
    let response = app.server_fn("check_database").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["backend"], app.state.db.backend().name());
    // The first start created exactly one user: the bootstrap admin.
    assert_eq!(body["users"], 1);
    assert!(body["round_trip_us"].as_u64().is_some(), "{body}");
}

#[tokio::test]
async fn get_overview_reports_that_no_cluster_is_configured() {
    let app = spawn_app().await;
    app.sign_in_as_admin().await;
    let body: Value = app.server_fn("get_overview").await.json().await.expect("JSON");
    assert_eq!(body["cluster"]["state"], "not_configured");
    assert_eq!(body["build"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["backend"], app.state.db.backend().name());
}

#[tokio::test]
async fn an_unknown_server_function_is_a_client_error_not_a_500() {
    let app = spawn_app().await;
    let status = app.server_fn("no_such_function").await.status();
    assert!(status.is_client_error(), "{status}");
}
