//! Gate timers: a timer pending when the server dies fires once after the restart (found from
//! the database), and two replicas racing for one timer decide it once.

use app::db::testing::TempDbFile;
use app::identity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with, test_config};

async fn config() -> (heimdall::config::Config, TempDbFile) {
    let (mut config, file) = test_config().await;
    config.pipelines.rate_limit.requests_per_minute = 100_000;
    config.pipelines.rate_limit.burst = 10_000;
    (config, file)
}

/// A pipeline whose only stage has a gate whose timer approves after `secs`, opened.
async fn timed_gate(app: &TestApp, secs: u64) -> (String, reqwest::Client) {
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let rita = app.client_for(&rita).await;
    let created: Value = rita
        .post(app.url("/api/v1/jobs"))
        .json(&json!({ "slug": "t", "intent": "i", "stages": ["deploy"],
                       "gates": { "deploy": { "auto_approve_after_s": secs, "timeout_action": "approve" } } }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("JSON");
    let id = created["id"].as_str().expect("id").to_owned();
    let opened: Value = rita
        .post(app.url(&format!("/api/v1/jobs/{id}/claim")))
        .send()
        .await
        .expect("claim")
        .json()
        .await
        .expect("JSON");
    assert_eq!(opened["status"], "needs_approval");
    (id, rita)
}

/// Waits (on the live stream, not by polling) for the gate's decision event.
async fn decided(app: &TestApp, client: &reqwest::Client, id: &str) -> Value {
    use futures::StreamExt;
    let response = client
        .get(app.url(&format!("/api/v1/jobs/{id}/events/stream")))
        .send()
        .await
        .expect("stream");
    let mut body = response.bytes_stream();
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(15), body.next())
            .await
            .expect("the timer fires within 15 s")
            .expect("open")
            .expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(line) = text
            .lines()
            .find(|l| l.starts_with("data:") && l.contains("\"gate_approved\""))
        {
            return serde_json::from_str(line.trim_start_matches("data:").trim()).expect("JSON");
        }
    }
}

async fn approvals(app: &TestApp, id: &str) -> usize {
    app.state
        .pipelines
        .store()
        .events(id, 0, 1000)
        .await
        .expect("events")
        .iter()
        .filter(|e| e.kind == "gate_approved")
        .count()
}

#[tokio::test]
async fn a_timer_pending_when_the_server_dies_fires_once_after_the_restart() {
    let (config, file) = config().await;
    let mut first = spawn_app_with(config.clone(), file).await;
    let (id, _) = timed_gate(&first, 2).await;
    // Killed: its timers stop, no graceful shutdown runs.
    first.state.pipelines.store().bus().close();
    first.handle.take().expect("server task").abort();
    let second = spawn_app_with(config, TempDbFile::default()).await;
    let user = crate::helpers::TestUser {
        id: 0,
        username: "rita".into(),
        password: "rita-password-123".into(),
    };
    let rita = second.client_for(&user).await;
    let event = decided(&second, &rita, &id).await;
    assert_eq!(event["metadata"]["by"], "timer");
    assert_eq!(event["metadata"]["automatic"], true);
    let gate = second
        .state
        .pipelines
        .store()
        .gate(&id, "deploy")
        .await
        .expect("read")
        .expect("gate");
    let decision = gate.decision().expect("decided");
    assert!(decision.automatic && decision.by == "timer");
    let opened = gate.opened_at.expect("opened");
    assert!(
        decision.at >= opened + chrono::Duration::seconds(2),
        "not before it was due"
    );
    assert_eq!(approvals(&second, &id).await, 1);
    drop(first);
}

#[tokio::test]
async fn two_replicas_racing_for_one_timer_decide_it_once() {
    let (config, file) = config().await;
    let one = spawn_app_with(config.clone(), file).await;
    let (id, rita) = timed_gate(&one, 2).await;
    // The second replica starts after the gate opened and finds the timer in the database (on
    // SQLite, where replicas share no events, that is how it learns of it): both now wait for
    // the same moment.
    let two = spawn_app_with(config, TempDbFile::default()).await;
    decided(&one, &rita, &id).await;
    // Both replicas had the timer; give the slower one its chance to (wrongly) fire again.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(approvals(&one, &id).await, 1, "one decision, one event");
    let audited = one
        .state
        .audit
        .list(&app::audit::AuditFilter {
            action: "pipeline.gate.decided".into(),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1);
    drop(two);
}
