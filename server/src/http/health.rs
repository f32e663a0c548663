//! Liveness, readiness and version, at Heimdall's own paths and at each seed's documented path
//! with the shape that seed returns.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use app::cluster::WatchState;
use app::request::RequestMeta;
use app::state::AppState;

use app::rest::doc::{Auth, Op};

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them).
pub const DOC: &[Op] = &[
    Op::new("GET", "/livez", "Liveness: the process answers", Auth::Public),
    Op::new(
        "GET",
        "/readyz",
        "Readiness: database, cluster and every watch",
        Auth::Public,
    )
    .responses(&[(200, "ready"), (503, "not ready, and what is not")]),
    Op::new(
        "GET",
        "/healthz",
        "Liveness (operator-console seed)",
        Auth::Public,
    ),
    Op::new(
        "GET",
        "/api/v1/healthz",
        "Liveness (operator-console seed)",
        Auth::Public,
    ),
    Op::new(
        "GET",
        "/api/healthz",
        "Liveness (Python Heimdall seed)",
        Auth::Public,
    ),
    Op::new(
        "GET",
        "/health",
        "Liveness in the auth-manager envelope",
        Auth::Public,
    ),
    Op::new(
        "GET",
        "/health/ready",
        "Readiness in the auth-manager envelope",
        Auth::Public,
    )
    .responses(&[(200, "ready"), (503, "not ready")]),
    Op::new("GET", "/version", "Version and build", Auth::Public),
    Op::new(
        "GET",
        "/q/health/live",
        "Liveness (the Java Heimdall's Quarkus path)",
        Auth::Public,
    ),
    Op::new(
        "GET",
        "/q/health/ready",
        "Readiness (the Java Heimdall's Quarkus path)",
        Auth::Public,
    )
    .responses(&[(200, "UP"), (503, "DOWN, and what is not ready")]),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/livez", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/readyz", get(readyz))
        // The operator-console seed.
        .route(
            "/healthz",
            get(|| async {
                let now = chrono::Utc::now();
                let seconds = now.timestamp() as f64 + f64::from(now.timestamp_subsec_micros()) / 1e6;
                Json(json!({ "status": "healthy", "timestamp": seconds }))
            }),
        )
        .route("/api/v1/healthz", get(operator_health))
        // The Python Heimdall seed.
        .route("/api/healthz", get(|| async { Json(json!({ "status": "ok" })) }))
        // The auth-manager seed: an `{data}` envelope on success, `{error, code, reason}` on failure.
        .route("/health", get(|| async { Json(json!({ "data": "OK" })) }))
        .route("/health/ready", get(health_ready))
        .route("/version", get(version))
        // The Java Heimdall (Quarkus SmallRye Health), which its Deployment probes.
        .route(
            "/q/health/live",
            get(|| async { Json(json!({ "status": "UP", "checks": [] })) }),
        )
        .route("/q/health/ready", get(quarkus_ready))
}

/// Quarkus's readiness answer: `UP`, or 503 `DOWN` with the reason as its one check.
async fn quarkus_ready(State(state): State<AppState>) -> Response {
    match readiness(&state).await {
        Ok(()) => Json(json!({ "status": "UP", "checks": [{ "name": "heimdall", "status": "UP" }] })).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "DOWN", "checks": [{ "name": "heimdall", "status": "DOWN", "data": { "reason": reason } }] })),
        )
            .into_response(),
    }
}

/// The operator console's `HealthResponse`: whether the database answers (storage and
/// configuration are Heimdall's database and its start-up-validated configuration). Always
/// 200, as the seed answered; `ok` says.
async fn operator_health(State(state): State<AppState>) -> Json<Value> {
    let database = state.db.ping().await.is_ok();
    Json(json!({
        "ok": database,
        "timestamp": chrono::Utc::now(),
        "version": state.build.version,
        "services": { "database": database, "storage": database, "configuration": true },
    }))
}

/// What is not ready, if anything: the database must answer; a configured cluster must too,
/// and every FlinkDeployment watch (and, in CARTA mode, each session watch) must have
/// completed its first sync.
async fn readiness(state: &AppState) -> Result<(), String> {
    let (db, cluster) = tokio::join!(state.db.ping(), state.cluster.status());
    if let Err(e) = db {
        return Err(format!(
            "database ({}) unreachable: {e}",
            state.db.backend().name()
        ));
    }
    if let app::cluster::ClusterStatus::Unreachable { error, .. } = cluster {
        return Err(format!("kubernetes unreachable: {error}"));
    }
    for watch in state.flink.watches() {
        match watch.state() {
            WatchState::Ready => {}
            WatchState::Syncing => {
                return Err(format!(
                    "FlinkDeployments in {}: first sync in progress",
                    watch.scope()
                ));
            }
            WatchState::Failed(error) => {
                return Err(format!(
                    "watching FlinkDeployments in {} failed: {error}",
                    watch.scope()
                ));
            }
        }
    }
    // CARTA mode, when on: both session watches synced.
    state.forward_auth.readiness()
}

async fn readyz(State(state): State<AppState>) -> Response {
    match readiness(&state).await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "not_ready", "error": error })),
            )
                .into_response()
        }
    }
}

async fn health_ready(State(state): State<AppState>) -> Response {
    match readiness(&state).await {
        Ok(()) => Json(json!({ "data": { "status": "ready" } })).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "service not ready", "code": "SERVICE_UNAVAILABLE", "reason": reason })),
        )
            .into_response(),
    }
}

/// The version for everyone, as the seeds expose it; the git commit and the database server's
/// version only for signed-in callers (they help an attacker pick an exploit, not a user).
async fn version(State(state): State<AppState>, parts: Parts) -> Json<Value> {
    let meta = RequestMeta::from_parts(&parts.headers, &parts.extensions);
    let signed_in = state
        .identity
        .resolve(&parts.headers, &meta)
        .await
        .is_ok_and(|p| p.actor.is_some());
    if !signed_in {
        return Json(json!({
            "data": {
                "app_version": state.build.version,
                "database": { "backend": state.db.backend().name() },
            }
        }));
    }
    let server_version = state.db.server_version().await.ok();
    Json(json!({
        "data": {
            "app_version": state.build.version,
            "git_commit": state.build.git_commit,
            "database": {
                "backend": state.db.backend().name(),
                "server_version": server_version,
            },
        }
    }))
}
