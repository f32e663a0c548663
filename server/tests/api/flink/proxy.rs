//! The Python seed's `/proxy/{app}/{path}` to a Flink REST API, against a real HTTP server
//! standing in for the JobManager's REST endpoint.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get};
use serde_json::{Value, json};

use crate::helpers::{bare_client, spawn_app_with, test_config};

/// A Flink-REST-like upstream: echoes what it received, or fails as asked.
async fn upstream() -> std::net::SocketAddr {
    async fn echo(
        method: axum::http::Method,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: String,
    ) -> axum::Json<Value> {
        axum::Json(json!({
            "method": method.as_str(),
            "uri": uri.to_string(),
            "body": body,
            "cookie": headers.get("cookie").is_some(),
            "authorization": headers.get("authorization").is_some(),
            "custom": headers.get("x-flink-custom").and_then(|v| v.to_str().ok()),
        }))
    }
    let router = Router::new()
        .route(
            "/missing",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    "no such thing at /missing, internal detail",
                )
            }),
        )
        .route(
            "/boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "stack trace here") }),
        )
        .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route("/{*rest}", any(echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

#[tokio::test]
async fn the_proxy_forwards_for_signed_in_users_and_maps_upstream_failures() {
    let flink = upstream().await;
    // A port nothing listens on: bound, then released.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let (mut config, file) = test_config().await;
    config
        .proxy_target_map
        .insert("orders".into(), format!("http://{flink}"));
    config
        .proxy_target_map
        .insert("gone".into(), format!("http://{closed}"));
    config.proxy_timeout_secs = 1;
    let app = spawn_app_with(config, file).await;

    // Anonymous: refused before anything is forwarded.
    let anonymous = bare_client()
        .get(app.url("/proxy/orders/jobs/overview"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);

    app.sign_in_as_admin().await;
    let response = app
        .client
        .get(app.url("/proxy/orders/jobs/overview?a=1&b=two"))
        .header("x-flink-custom", "kept")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("CSP")
        .to_owned();
    assert!(
        csp.starts_with("sandbox"),
        "upstream content never runs as Heimdall's origin: {csp}"
    );
    let echoed: Value = response.json().await.expect("JSON");
    assert_eq!(echoed["method"], "GET");
    assert_eq!(echoed["uri"], "/jobs/overview?a=1&b=two");
    assert_eq!(echoed["custom"], "kept", "ordinary headers are forwarded");
    assert_eq!(echoed["cookie"], false, "Heimdall's session cookie stays here");

    // A bearer token signs the caller in here and is not passed on either.
    let admin = app.bootstrap_admin.as_ref().expect("admin");
    let login: Value = bare_client()
        .post(app.url("/auth/jwt/login"))
        .form(&[
            ("username", admin.username.as_str()),
            ("password", secrecy::ExposeSecret::expose_secret(&admin.password)),
        ])
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    let token = login["access_token"].as_str().expect("a bearer token");
    let with_bearer: Value = bare_client()
        .get(app.url("/proxy/orders/jobs"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(with_bearer["uri"], "/jobs");
    assert_eq!(
        with_bearer["authorization"], false,
        "Heimdall's bearer token stays here"
    );

    let posted = app
        .client
        .post(app.url("/proxy/orders/jars/upload"))
        .header("origin", app.url(""))
        .body("payload")
        .send()
        .await
        .expect("request");
    assert_eq!(posted.status(), 200);
    let echoed: Value = posted.json().await.expect("JSON");
    assert_eq!(
        (echoed["method"].as_str(), echoed["body"].as_str()),
        (Some("POST"), Some("payload"))
    );

    // The seed's mapping: upstream 404 and 5xx keep their status with a short detail (the
    // upstream's own words are logged, not passed on); no connection 502; too slow 504.
    for (path, status, detail) in [
        ("/proxy/orders/missing", 404, "Upstream service not found"),
        ("/proxy/orders/boom", 500, "Upstream service error"),
        (
            "/proxy/orders/teapot",
            418,
            "Upstream service returned error: 418",
        ),
        ("/proxy/gone/jobs", 502, "Unable to connect to upstream service"),
        ("/proxy/orders/slow", 504, "Upstream service timeout"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(body["detail"], detail, "{path}");
        assert!(!body.to_string().contains("internal detail") && !body.to_string().contains("stack trace"));
    }

    // An unmapped app must be a DNS label: it becomes `http://{app}-rest:8081`.
    let odd = app.get("/proxy/Not.A_Label/jobs").await;
    assert_eq!(odd.status(), 404);
    let body: Value = odd.json().await.expect("JSON");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("DNS label")),
        "{body}"
    );
}

/// The proxy stays under the mapped base (`…/flink`) whatever the path hides, and only
/// someone who may act on Flink jobs sends anything but a read through it.
#[tokio::test]
async fn the_proxy_never_leaves_its_base_and_reads_are_all_a_viewer_sends() {
    let flink = upstream().await;
    let (mut config, file) = test_config().await;
    config
        .proxy_target_map
        .insert("app".into(), format!("http://{flink}/flink"));
    let app = spawn_app_with(config, file).await;
    let viewer = app
        .create_user("proxy-viewer", app::identity::Role::Viewer, None)
        .await;
    let viewer = app.client_for(&viewer).await;
    let developer = app
        .create_user("proxy-dev", app::identity::Role::Developer, None)
        .await;
    let developer = app.client_for(&developer).await;

    let read: Value = viewer
        .get(app.url("/proxy/app/jobs/overview"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(read["uri"], "/flink/jobs/overview");
    // Written raw, so no client resolves the dots first.
    for path in [
        "/proxy/app/..%2f..%2finternal/secret",
        "/proxy/app/%2e%2e/internal/secret",
        "/proxy/app/jobs/..%2F..%2F..%2Finternal",
        "/proxy/app/jobs/%2E%2E/%2e%2e/internal",
        "/proxy/app/..%5cinternal",
        "/proxy/app/a/../../internal",
        // `&` and `+` are plain in a path: they hide nothing from the check.
        "/proxy/app/a&%2f..%2f..%2finternal",
        "/proxy/app/x+y%2f..%2f..%2finternal",
    ] {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
        let cookie = app.session_cookie().await;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n");
        tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
            .await
            .expect("write");
        let mut answer = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer)
            .await
            .expect("read");
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(
            !answer.contains("/internal"),
            "{path} reached the upstream: {answer}"
        );
    }

    for method in [
        reqwest::Method::POST,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let refused = viewer
            .request(method.clone(), app.url("/proxy/app/jobs/abc"))
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status(), 403, "a viewer's {method}");
        let allowed: Value = developer
            .request(method.clone(), app.url("/proxy/app/jobs/abc"))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        assert_eq!(allowed["method"], method.as_str(), "a developer's {method}");
    }
}

/// ERROR events a test's own thread records (tests run on a current-thread runtime, so the
/// server's tasks log here too).
#[derive(Clone, Default)]
struct Errors(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Errors {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(event.metadata().target().to_owned());
        }
    }
}

#[tokio::test]
async fn a_refused_flink_action_is_not_logged_as_an_error() {
    use tracing_subscriber::layer::SubscriberExt;
    let errors = Errors::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(errors.clone()));
    let app = crate::helpers::spawn_app().await;
    let viewer = app
        .create_user("flink-viewer", app::identity::Role::Viewer, None)
        .await;
    let viewer = app.client_for(&viewer).await;
    let refused = crate::helpers::call_server_fn(
        &viewer,
        &app.url("/_srv/flink_job_action"),
        "namespace=flink&name=orders&action=suspend",
    )
    .await;
    assert_eq!(refused.status(), 403);
    let developer = app
        .create_user("flink-dev", app::identity::Role::Developer, None)
        .await;
    let developer = app.client_for(&developer).await;
    let missing = crate::helpers::call_server_fn(
        &developer,
        &app.url("/_srv/flink_job_action"),
        "namespace=flink&name=orders&action=suspend",
    )
    .await;
    assert!(
        missing.status().is_client_error() || missing.status() == 503,
        "{}",
        missing.status()
    );
    let logged = errors
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert!(logged.is_empty(), "refusals logged at ERROR: {logged:?}");
}
