//! The operator-console seed's `/api/v1/jobs` API (a "job" there is a pipeline here), at its
//! paths and in its shapes, bearer-authenticated (API tokens, Heimdall JWTs, the static
//! `ADMIN_TOKEN`), plus the worker routes that advance pipelines. Each handler resolves the
//! caller and makes one `PipelineService` call. Errors carry the seed's `detail` beside
//! Heimdall's own fields. The live stream replays after `Last-Event-ID` and sends the seed's
//! heartbeats; the general request limit sits in front (`rate_limit.rs`), the creation limit in
//! the service.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;

use crate::error::AppError;
use crate::identity::RequestContext;
use crate::pipelines::{
    ArtifactRow, CreatePipeline, Decided, Decision, GateAction, GateConfig, PipelineRow, PipelineStatus,
};

use crate::pipelines::seed::{
    artifact_json, decision_json, event_json, gate_json, job_of, stream_json, stream_notice,
};

mod config;
mod events;
mod gates;
mod jobs;
mod rate_limit;
mod workers;

use self::{config::*, events::*, gates::*, jobs::*, workers::*};

use super::PipelineService;
use crate::rest::doc::{Auth, Op, param};
use crate::rest::extract::JsonBody;

pub fn routes<S>(pipelines: &PipelineService) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::identity::IdentityService: FromRef<S>,
    PipelineService: FromRef<S>,
    crate::db::Database: FromRef<S>,
    crate::request::Cors: FromRef<S>,
    crate::rest::live::Closing: FromRef<S>,
{
    let limits = pipelines.settings().rate_limit;
    let router = Router::new()
        .route("/api/v1/jobs", get(list_jobs).post(create_job))
        .route("/api/v1/jobs/{id}", get(get_job))
        .route("/api/v1/jobs/{id}/approve", post(approve))
        .route("/api/v1/jobs/{id}/reject", post(reject))
        .route("/api/v1/jobs/{id}/cancel", post(cancel))
        .route("/api/v1/jobs/{id}/resume", post(resume))
        .route("/api/v1/jobs/{id}/artifacts", get(artifacts))
        .route("/api/v1/jobs/{id}/gates/status", get(gates_status))
        .route("/api/v1/jobs/{id}/gates/decisions", get(gate_decisions))
        .route("/api/v1/jobs/{id}/gates/{stage}/decision", get(gate_decision))
        .route("/api/v1/jobs/{id}/events", get(events))
        .route("/api/v1/jobs/{id}/events/stream", get(stream_events))
        .route("/api/v1/jobs/{id}/claim", post(claim))
        .route("/api/v1/jobs/{id}/stages/{stage}/report", post(report))
        .route("/api/v1/jobs/{id}/patches/{stage}/apply", post(apply_patch))
        .route("/api/v1/config/operator", get(operator_config))
        .route("/api/v1/config/validate", post(validate_config))
        .route("/api/v1/compile-brief", post(compile_brief))
        .route("/api/v1/patches/types", get(patch_types));
    let router = if limits.enabled {
        router.route_layer(axum::middleware::from_fn_with_state(
            rate_limit::requests(limits),
            rate_limit::general,
        ))
    } else {
        router
    };
    router
        // Outside the limit: a refused credential is answered in the seed's words either way.
        .route_layer(axum::middleware::from_fn_with_state(
            crate::rest::fastapi::OPERATOR_CONSOLE,
            crate::rest::fastapi::unauthorized,
        ))
}

const GATE_ACTION: &str =
    r#"{"decision": "approved", "stage": "deploy", "notes": "looks good", "operator": "ada", "patch": null}"#;

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them).
pub const DOC: &[Op] = &[
    Op::new("GET", "/api/v1/config/operator", "The pipeline defaults in force: stages and gates (secrets removed)", Auth::Heimdall),
    Op::new("POST", "/api/v1/config/validate", "Check the configuration in force and the database (the seed's validate)", Auth::Heimdall)
        .responses(&[(200, "{valid, message, timestamp}"), (503, "the database does not answer")]),
    Op::new("POST", "/api/v1/compile-brief", "Compile a free-text brief into the structured brief (the seed's rules)", Auth::Heimdall)
        .body(r#"{"free_text_brief": "3-4 min explainer on baby sleep regression, comforting tone, linen texture, CTA off"}"#)
        .responses(&[(200, "{compiled_brief, assumptions, original_text}"), (400, "free_text_brief is required")]),
    Op::new("GET", "/api/v1/patches/types", "The patch types a decision or a direct patch may carry", Auth::Heimdall),
    Op::new("POST", "/api/v1/jobs/{id}/patches/{stage}/apply", "Apply a patch to the job's parameters now (JSON patch), or keep a typed patch for the stage's worker", Auth::Heimdall)
        .body(r#"{"op": "replace", "path": "/brief/version", "value": "43"}"#)
        .responses(&[(200, "{message}"), (409, "the patch does not apply, or the job has ended"), (422, "not a patch, or not one of the job's stages")]),
    Op::new("GET", "/api/v1/jobs", "Pipelines the caller may see, newest first (the seed's Job array)", Auth::Heimdall)
        .query(&[
            param("status", false, "only pipelines in this status"),
            param("waiting_for", false, "`me`: the pipelines waiting for the caller's decision"),
        ]),
    Op::new("POST", "/api/v1/jobs", "Create a pipeline (developers and admins)", Auth::Heimdall)
        .body(r#"{"slug": "release-42", "intent": "ship", "brief": null, "meta": {}, "tenant": "payments", "stages": ["build", "deploy"], "gates": {"deploy": {"approvals_needed": 2}}}"#)
        .responses(&[(201, "the Job"), (403, "not a developer, or not in that tenant"), (422, "a field is wrong, named")]),
    Op::new("GET", "/api/v1/jobs/{id}", "One pipeline (the seed's Job, with Heimdall's fields)", Auth::Heimdall)
        .responses(&[(200, "the Job"), (404, "no such pipeline (or another tenant's)")]),
    Op::new("POST", "/api/v1/jobs/{id}/approve", "Approve the gate at a stage (the seed's GateAction); one the pipeline has not reached keeps the decision until it arrives", Auth::Heimdall)
        .body(GATE_ACTION)
        .responses(&[(200, "{message}"), (403, "this role may not decide, or the requester approving their own"), (409, "already decided by X at T / not waiting"), (422, "a field is wrong, named")]),
    Op::new("POST", "/api/v1/jobs/{id}/reject", "Reject the gate at a stage (ahead of the pipeline too: it pauses there); notes when the gate requires them; an optional JSON patch applies on resume", Auth::Heimdall)
        .body(GATE_ACTION)
        .responses(&[(200, "{message}"), (409, "already decided by X at T / passed"), (422, "notes missing where required, or another field wrong")]),
    Op::new("POST", "/api/v1/jobs/{id}/cancel", "Cancel a pipeline that has not ended", Auth::Heimdall)
        .responses(&[(200, "{message}"), (409, "it has ended")]),
    Op::new("POST", "/api/v1/jobs/{id}/resume", "Resume a paused pipeline, applying the rejection's patch", Auth::Heimdall)
        .responses(&[(200, "{message, patches_applied}"), (409, "not paused, or the patch does not apply (the gate is then open again)")]),
    Op::new("GET", "/api/v1/jobs/{id}/artifacts", "What the stages produced", Auth::Heimdall),
    Op::new("GET", "/api/v1/jobs/{id}/gates/status", "Every gate: required, decided, by whom, when", Auth::Heimdall),
    Op::new("GET", "/api/v1/jobs/{id}/gates/decisions", "The decided gates", Auth::Heimdall),
    Op::new("GET", "/api/v1/jobs/{id}/gates/{stage}/decision", "One gate's decision", Auth::Heimdall)
        .responses(&[(200, "the decision"), (404, "no decision (yet) at that stage")]),
    Op::new("GET", "/api/v1/jobs/{id}/events", "The event log, oldest first", Auth::Heimdall).query(&[
        param("since", false, "an ISO 8601 timestamp or an event id: only later events"),
        param("limit", false, "at most this many (default 100, at most 1000)"),
    ]),
    Op::new("GET", "/api/v1/jobs/{id}/events/stream", "Live events (Server-Sent Events): `id:` on each, replay after `Last-Event-ID`, heartbeats; `?events=typed` adds `event:` fields", Auth::Heimdall)
        .query(&[
            param("since", false, "an event id to replay after (or the Last-Event-ID header)"),
            param("events", false, "`typed`: name each event (`event: gate_approved`); the seed's clients read data only"),
        ]),
    Op::new("POST", "/api/v1/jobs/{id}/claim", "A worker takes up a queued pipeline: the first stage runs, or its gate opens", Auth::Heimdall)
        .responses(&[(200, "the Job"), (409, "it has started already")]),
    Op::new("POST", "/api/v1/jobs/{id}/stages/{stage}/report", "A worker reports the running stage: the next stage, a gate, completion or failure", Auth::Heimdall)
        .body(r#"{"outcome": "succeeded", "artifacts": [{"name": "image", "uri": "registry.example.com/app:42", "size_bytes": 1024, "sha256": null}]}"#)
        .responses(&[(200, "the Job"), (409, "not the running stage, or no stage is running"), (422, "a field is wrong, named")]),
];

use crate::rest::fastapi::SeedError;

impl From<crate::pipelines::PipelineError> for SeedError {
    fn from(e: crate::pipelines::PipelineError) -> Self {
        Self(e.into())
    }
}

type Answer = Result<Response, SeedError>;

/// The seed's `Job` shape, with Heimdall's fields after its own.
async fn job(pipelines: &PipelineService, p: &PipelineRow) -> Result<Value, SeedError> {
    let mut parts = pipelines.gates_and_artifacts_of(std::slice::from_ref(p)).await?;
    let (gates, artifacts) = parts.remove(&p.id).unwrap_or_default();
    Ok(job_of(p, &gates, &artifacts))
}
