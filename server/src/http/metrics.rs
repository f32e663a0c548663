//! Prometheus metrics. Counters and gauges are recorded where things happen, in any crate,
//! through the `metrics` facade; this module installs the one process-wide recorder, counts
//! every request by route, and serves `GET /metrics` — only with `metrics.token` configured, and
//! only to a caller presenting it as a bearer token (compared in constant time): the figures say
//! which routes and users are busy, so they are not public.
//!
//! What is there: `heimdall_http_requests_total{method,route,status}` and
//! `heimdall_http_request_duration_seconds{method,route}`, `heimdall_sse_subscribers{stream}`,
//! `heimdall_watch_ready{watch}` (read at scrape time), `heimdall_gate_decisions_total{decision}`,
//! `heimdall_vault_mints_total{outcome}`, `heimdall_forward_auth_decisions_total{mode,decision}`,
//! `heimdall_catalog_actions_total{action,executor}`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::{ExposeSecret, SecretString};

use app::cluster::WatchState;
use app::rest::doc::{Auth, Op};
use app::state::AppState;

/// The recorder is process-wide (`metrics` allows one): every server in the process — the test
/// binaries start many — shares it.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Installs the recorder once; `None` when another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("heimdall_http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()
        })
        .as_ref()
}

/// The `method` label: the known methods by name, any other token as `other` (one series
/// each would let a client grow the registry without bound). Static: no allocation.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times each request under its route's pattern (never the raw path: ids would make
/// one series each); requests no route matched count as `unmatched`.
pub async fn record(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Known methods only: any other token is a valid HTTP method, and one series each would let
    // a client grow the registry without bound.
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("heimdall_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("heimdall_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

pub const DOC: &[Op] = &[Op::new(
    "GET",
    "/metrics",
    "Prometheus text exposition: requests and latencies by route, watch states, live-stream subscribers, gate decisions, vault mints, ForwardAuth decisions, catalog actions",
    Auth::MetricsToken,
)
.responses(&[
    (200, "the metrics"),
    (401, "no or a wrong metrics token"),
    (404, "metrics.token is not configured"),
])];

/// `GET /metrics` when a token is configured.
pub fn routes(token: Option<SecretString>) -> Router<AppState> {
    match token {
        Some(token) => Router::new().route(
            "/metrics",
            get(move |state: State<AppState>, headers: HeaderMap| scrape(state, headers, token.clone())),
        ),
        None => Router::new(),
    }
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap, token: SecretString) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| app::identity::secrets::secrets_match(token.expose_secret(), g)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(
                serde_json::json!({ "error": "unauthenticated", "message": "the metrics token is required" }),
            ),
        )
            .into_response();
    }
    let Some(handle) = install() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "error": "unavailable", "message": "no metrics recorder in this process" })),
        )
            .into_response();
    };
    watch_gauges(&state);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}

/// What the watches say now (they keep their state; reading it is free).
fn watch_gauges(state: &AppState) {
    for watch in state.flink.watches() {
        let ready = matches!(watch.state(), WatchState::Ready);
        metrics::gauge!("heimdall_watch_ready", "watch" => format!("flink {}", watch.scope()))
            .set(f64::from(u8::from(ready)));
    }
    if state.forward_auth.carta_enabled() {
        let ready = state.forward_auth.readiness().is_ok();
        metrics::gauge!("heimdall_watch_ready", "watch" => "forward_auth carta")
            .set(f64::from(u8::from(ready)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_labels_are_the_known_methods_or_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").expect("a method")),
            "other"
        );
    }
}
