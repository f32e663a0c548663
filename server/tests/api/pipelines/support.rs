//! What the pipelines' HTTP tests share: a configuration whose request limits stay out of the
//! way (the limits have their own test), and a gated pipeline brought to its gate.

use app::db::testing::TempDbFile;
use heimdall::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, test_config};

/// The test configuration with the pipelines' request limits far above what a test sends.
pub async fn relaxed_config() -> (Config, TempDbFile) {
    let (mut config, file) = test_config().await;
    config.pipelines.rate_limit.requests_per_minute = 100_000;
    config.pipelines.rate_limit.burst = 10_000;
    (config, file)
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
