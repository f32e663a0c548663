//! Several replicas on one PostgreSQL: an event committed on one reaches the live streams of
//! another (`LISTEN/NOTIFY`). SQLite is single-replica: there the same stream is asked of the
//! replica that made the decision.

use app::db::testing::TempDbFile;
use app::identity::Role;
use serde_json::json;

use super::support::{open_gate, relaxed_config};
use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_decision_made_on_one_replica_reaches_a_stream_on_the_other() {
    let (config, file) = relaxed_config().await;
    let one = spawn_app_with(config.clone(), file).await;
    let two = spawn_app_with(config, TempDbFile::default()).await;
    let postgres = matches!(one.state.db, app::db::Database::Postgres(_));
    let watcher_app = if postgres { &two } else { &one };
    let rita = one.create_user("rita", Role::Developer, Some("alpha")).await;
    let arno = one.create_user("arno", Role::Developer, Some("alpha")).await;
    let rita = one.client_for(&rita).await;
    let arno_on_one = one.client_for(&arno).await;
    let watcher = watcher_app.client_for(&arno).await;
    let id = open_gate(&one, &rita, json!({})).await;
    // The stream opens on the other replica, after everything so far: only new events come.
    let opened = watcher_app
        .state
        .pipelines
        .store()
        .events(&id, 0, 100)
        .await
        .expect("events");
    let after = opened.last().expect("events").id;
    let response = watcher
        .get(watcher_app.url(&format!("/api/v1/jobs/{id}/events/stream?since={after}")))
        .send()
        .await
        .expect("stream");
    let mut body = response.bytes_stream();
    let decided = arno_on_one
        .post(one.url(&format!("/api/v1/jobs/{id}/approve")))
        .json(&json!({ "decision": "approved", "stage": "deploy", "operator": "arno" }))
        .send()
        .await
        .expect("approve");
    assert_eq!(decided.status(), 200);
    use futures::StreamExt;
    let mut text = String::new();
    // One deadline for the whole wait: heartbeats arrive every 5 s whatever else does.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while !text.contains("\"gate_approved\"") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("the decision arrives within 15 s")
            .expect("open")
            .expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_eq!(text.matches("\"gate_approved\"").count(), 1, "once: {text}");
}
