//! `/metrics`: only with `metrics.token`, only to a scrape carrying it; the counters move with
//! what happens. The recorder is one per process, shared by every test here: assertions are
//! on increases, never on absolute values.

use app::identity::Role;

use crate::helpers::{TestApp, new_client, spawn_app_with, test_config};

const TOKEN: &str = "metrics-token-for-the-tests";

/// The value of the series whose line starts with `series` (`name{labels}`), 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let response = new_client()
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("text/plain"))
    );
    response.text().await.expect("text")
}

#[tokio::test]
async fn without_a_token_configured_there_is_no_metrics_route() {
    let (config, file) = test_config().await;
    assert!(config.metrics.token.is_none(), "off by default");
    let app = spawn_app_with(config, file).await;
    let response = new_client()
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_scrape_needs_the_token_and_sees_requests_counted_by_route() {
    let (mut config, file) = test_config().await;
    config.metrics.token = Some(TOKEN.to_owned().into());
    let app = spawn_app_with(config, file).await;

    for token in [None, Some("wrong-token-of-enough-length")] {
        let mut request = new_client().get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 401, "{token:?}");
        let body: serde_json::Value = response.json().await.expect("a JSON error");
        assert_eq!(body["error"], "unauthenticated");
    }

    let series = r#"heimdall_http_requests_total{method="GET",route="/livez",status="200"}"#;
    let before = value(&scrape(&app).await, series);
    for _ in 0..3 {
        assert_eq!(app.get("/livez").await.status(), 200);
    }
    let after = scrape(&app).await;
    assert!(
        value(&after, series) >= before + 3.0,
        "{series}: {before} → {}",
        value(&after, series)
    );
    assert!(
        after.contains(r#"heimdall_http_request_duration_seconds_bucket{method="GET",route="/livez""#),
        "latencies by route"
    );
    // A route with a parameter is counted under its pattern, not the raw path.
    app.get("/api/v1/jobs/not-a-pipeline").await;
    let text = scrape(&app).await;
    assert!(
        text.contains(r#"route="/api/v1/jobs/{id}""#),
        "the pattern is the label"
    );
    assert!(!text.contains("not-a-pipeline"), "raw paths never become labels");
    // Nor made-up methods: they count as one `other`.
    let odd = reqwest::Method::from_bytes(b"BREW").expect("a method token");
    new_client()
        .request(odd, app.url("/livez"))
        .send()
        .await
        .expect("request");
    let text = scrape(&app).await;
    assert!(!text.contains("BREW"), "a made-up method is not a label");
    assert!(text.contains(r#"method="other""#), "it is counted as other");
}

/// ForwardAuth's decisions take their own short path (`server/src/http/forward_auth.rs`): still
/// counted under their route, still carrying the security headers, the caller's request id
/// echoed (and none made up), and `no-store` on a pass.
#[tokio::test]
async fn forward_auth_decisions_keep_their_headers_and_metrics_on_the_short_path() {
    let (mut config, file) = test_config().await;
    config.metrics.token = Some(TOKEN.to_owned().into());
    let app = spawn_app_with(config, file).await;
    let series = r#"heimdall_http_requests_total{method="GET",route="/forward-auth/session",status="401"}"#;
    let decisions = r#"heimdall_forward_auth_decisions_total{mode="session",decision="sign_in"}"#;
    let scraped = scrape(&app).await;
    let (before, decided_before) = (value(&scraped, series), value(&scraped, decisions));
    let asked = new_client()
        .get(app.url("/forward-auth/session"))
        .header("x-request-id", "proxy-req-42")
        .header("x-forwarded-host", "app.example.com")
        .send()
        .await
        .expect("request");
    assert_eq!(asked.status(), 401, "signed out");
    assert_eq!(asked.headers()["x-request-id"], "proxy-req-42");
    assert_eq!(asked.headers()["x-content-type-options"], "nosniff");
    assert_eq!(asked.headers()["x-frame-options"], "DENY");
    assert!(asked.headers().contains_key("content-security-policy"));
    let unnamed = new_client()
        .get(app.url("/forward-auth/session"))
        .send()
        .await
        .expect("request");
    assert!(
        unnamed.headers().get("x-request-id").is_none(),
        "none made up on the short path"
    );
    let scraped = scrape(&app).await;
    assert!(
        value(&scraped, series) >= before + 2.0,
        "decisions are counted under their route"
    );
    assert!(
        value(&scraped, decisions) >= decided_before + 2.0,
        "and as decisions"
    );
    // A pass is not cached by anyone on the way.
    let dev = app.create_user("fa-short-path", Role::Developer, None).await;
    let passed = app
        .client_for(&dev)
        .await
        .get(app.url("/forward-auth/session"))
        .send()
        .await
        .expect("request");
    assert_eq!(passed.status(), 200);
    assert_eq!(passed.headers()["cache-control"], "no-store");
    // Every other route keeps its generated request id.
    assert!(
        new_client()
            .get(app.url("/livez"))
            .send()
            .await
            .expect("request")
            .headers()
            .contains_key("x-request-id")
    );
}

#[tokio::test]
async fn a_short_token_is_refused_at_start() {
    let (mut config, _file) = test_config().await;
    config.metrics.token = Some("short".to_owned().into());
    let problems = config.validate().expect_err("refused");
    assert!(problems.to_string().contains("metrics.token"), "{problems}");
}
