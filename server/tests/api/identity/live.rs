//! Live streams end with the credential that opened them: the Flink feed, a pipeline's events
//! and a service's changes, each opened with a browser's session cookie, stop when the session
//! is signed out, and a pipeline's stream stops when its watcher is removed from the tenant.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::json;

use crate::catalog::support::{people, register, send};
use crate::helpers::{TestApp, call_server_fn, spawn_app_with, test_config};

/// Reads `response` until the server ends it; `false` if it is still open after `limit` (a
/// bound for a hung test, far above the expected end, not a timing assertion).
async fn ends(response: reqwest::Response, limit: Duration) -> bool {
    let mut body = response.bytes_stream();
    tokio::time::timeout(limit, async {
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await
    .is_ok()
}

async fn open(client: &reqwest::Client, app: &TestApp, path: &str) -> reqwest::Response {
    let response = client
        .get(app.url(path))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200, "{path}");
    response
}

#[tokio::test]
async fn every_live_stream_ends_when_its_session_does() {
    let (config, file) = test_config().await;
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let (status, job) = send(
        &p.dave,
        Method::POST,
        app.url("/api/v1/jobs"),
        Some(json!({ "slug": "live", "intent": "watch", "tenant": "alpha" })),
    )
    .await;
    assert_eq!(status, 201, "{job}");
    let job_id = job["job_id"]
        .as_str()
        .or(job["id"].as_str())
        .expect("job id")
        .to_owned();

    let streams = [
        open(&p.vera, &app, "/api/jobs/events").await,
        open(&p.vera, &app, &format!("/api/v1/jobs/{job_id}/events/stream")).await,
        open(&p.vera, &app, &format!("/services/{id}/events")).await,
    ];
    // Vera signs out: her cookie's session is revoked.
    let out = call_server_fn(&p.vera, &app.url("/_srv/logout"), "").await;
    assert_eq!(out.status(), 200);
    for (i, stream) in streams.into_iter().enumerate() {
        assert!(
            ends(stream, Duration::from_secs(30)).await,
            "stream {i} outlived the session"
        );
    }

    // Dave keeps his session but leaves the tenant: his pipeline stream ends.
    let stream = open(&p.dave, &app, &format!("/api/v1/jobs/{job_id}/events/stream")).await;
    let store = app.state.identity.store();
    let dave = store.find_user_by_username("dave").await.expect("dave");
    store.set_memberships(dave.id, &[]).await.expect("no tenants");
    assert!(
        ends(stream, Duration::from_secs(30)).await,
        "the stream outlived the membership"
    );
}
