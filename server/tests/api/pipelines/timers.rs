//! Gate timers: a timer pending when the server dies fires once after the restart (found from
//! the database), and two replicas racing for one timer decide it once.

use app::db::testing::TempDbFile;
use app::identity::Role;
use serde_json::{Value, json};

use super::support::{open_gate, relaxed_config};
use crate::helpers::{TestApp, TestUser, spawn_app_with};

/// Rita's one-stage pipeline whose gate's timer approves after `secs`, opened.
async fn timed_gate(app: &TestApp, secs: u64) -> (String, TestUser, reqwest::Client) {
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let client = app.client_for(&rita).await;
    let id = open_gate(
        app,
        &client,
        json!({ "auto_approve_after_s": secs, "timeout_action": "approve" }),
    )
    .await;
    (id, rita, client)
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
    // One deadline for the whole wait: heartbeats arrive every 5 s whether or not it fires.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("the timer fires within 20 s")
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
    let (config, file) = relaxed_config().await;
    let mut first = spawn_app_with(config.clone(), file).await;
    let (id, rita_user, _) = timed_gate(&first, 2).await;
    // Killed: its timers stop, no graceful shutdown runs.
    first.state.pipelines.store().bus().close();
    first.handle.take().expect("server task").abort();
    let second = spawn_app_with(config, TempDbFile::default()).await;
    let rita = second.client_for(&rita_user).await;
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
    let (config, file) = relaxed_config().await;
    let one = spawn_app_with(config.clone(), file).await;
    let (id, rita_user, rita) = timed_gate(&one, 2).await;
    // The second replica starts after the gate opened and finds the timer in the database (on
    // SQLite, where replicas share no events, that is how it learns of it): both now wait for
    // the same moment. Whichever fires, its own streams tell (on SQLite only its own).
    let two = spawn_app_with(config, TempDbFile::default()).await;
    let rita_on_two = two.client_for(&rita_user).await;
    tokio::select! {
        _ = decided(&one, &rita, &id) => {}
        _ = decided(&two, &rita_on_two, &id) => {}
    }
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
