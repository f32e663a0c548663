//! What the pipelines' HTTP tests share: a configuration whose request limits stay out of the
//! way (the limits have their own test), and a gated pipeline brought to its gate.

use app::db::testing::TempDbFile;
use heimdall::config::Config;
use serde_json::{Value, json};

use app::identity::Role;

use crate::helpers::{TestApp, TestUser, test_config};

/// The test configuration with the pipelines' request limits far above what a test sends.
pub async fn relaxed_config() -> (Config, TempDbFile) {
    let (mut config, file) = test_config().await;
    config.pipelines.rate_limit.requests_per_minute = 100_000;
    config.pipelines.rate_limit.burst = 10_000;
    (config, file)
}

/// An app with `relaxed_config` and the seed's static admin token set to `token`.
pub async fn with_admin_token(token: &str) -> TestApp {
    let (mut config, file) = relaxed_config().await;
    config.auth.admin_token = Some(token.into());
    crate::helpers::spawn_app_with(config, file).await
}

/// Creates a one-stage pipeline `deploy` whose gate is `gate` (JSON), claims it — so the gate
/// is open — and returns its id.
pub async fn open_gate(app: &TestApp, client: &reqwest::Client, gate: Value) -> String {
    let created: Value = client
        .post(app.url("/api/v1/jobs"))
        .json(&json!({ "slug": "gated", "intent": "i", "stages": ["deploy"], "gates": { "deploy": gate } }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("JSON");
    let id = created["id"].as_str().expect("id").to_owned();
    let opened: Value = client
        .post(app.url(&format!("/api/v1/jobs/{id}/claim")))
        .send()
        .await
        .expect("claim")
        .json()
        .await
        .expect("JSON");
    assert_eq!(opened["status"], "needs_approval");
    id
}

/// Rita's one-stage pipeline whose gate's timer approves after `secs`, opened.
pub async fn timed_gate(app: &TestApp, secs: u64) -> (String, TestUser, reqwest::Client) {
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
pub async fn decided(app: &TestApp, client: &reqwest::Client, id: &str) -> Value {
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

pub async fn approvals(app: &TestApp, id: &str) -> usize {
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
