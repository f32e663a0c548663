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

mod rate_limit;

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
{
    let limits = pipelines.settings().limits;
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

/// The OpenAPI entries of these routes (`api_doc.rs`).
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

/// The seed's sanitized operator configuration, section by section (`server`, `security`,
/// `gates`, `storage`, `pipeline`), from what is in force here. No secret is in it: as in the
/// seed, the admin token's key is not there at all. Heimdall's own facts follow the seed's.
async fn operator_config(
    State(pipelines): State<PipelineService>,
    State(db): State<crate::db::Database>,
    State(cors): State<crate::request::Cors>,
    ctx: RequestContext,
) -> Answer {
    ctx.check(crate::identity::Permission::Read).await?;
    let settings = pipelines.settings();
    let limits = settings.limits;
    Ok(axum::Json(json!({
        "server": settings.server_facts,
        "security": {
            "rate_limiting": {
                "enabled": limits.enabled,
                "job_creation_per_minute": limits.jobs_per_minute,
                "api_requests_per_minute": limits.requests_per_minute,
                "burst_size": limits.burst,
            },
            "cors": {
                "enabled": cors.enabled,
                "allow_origins": cors.allow_origins,
                "allow_credentials": false,
                "allow_methods": cors.allow_methods,
                "allow_headers": cors.allow_headers,
            },
            "security_headers": {
                "enabled": true,
                "hsts_seconds": 31_536_000,
                "content_security_policy": "default-src 'self'",
                "x_content_type_options": "nosniff",
                "x_frame_options": "DENY",
                "x_xss_protection": "0",
            },
        },
        "gates": settings.gates,
        "storage": {
            "db_path": db.backend().name(),
            "runs_dir": null,
            "artifacts_dir": null,
            "events_retention_days": settings.retention.days,
            "max_events_per_job": settings.retention.max_events_per_job,
        },
        "pipeline": {
            "max_concurrent_jobs": null,
            "job_timeout_hours": null,
            "stages": settings.stages,
        },
    }))
    .into_response())
}

/// The seed's configuration check: the database answers and the configuration in force is
/// the one validated at start-up (Heimdall refuses to start on a bad one).
async fn validate_config(State(db): State<crate::db::Database>, ctx: RequestContext) -> Answer {
    ctx.check(crate::identity::Permission::Read).await?;
    if let Err(e) = db.ping().await {
        return Err(AppError::unavailable(format!("Configuration validation failed: {e}")).into());
    }
    Ok(axum::Json(json!({
        "valid": true,
        "message": "Configuration is valid",
        "timestamp": chrono::Utc::now(),
    }))
    .into_response())
}

#[derive(Deserialize)]
struct CompileBriefIn {
    #[serde(default)]
    free_text_brief: Option<Value>,
}

/// The seed's brief compiler (`crate::pipelines::brief`): a free-text brief into the structured
/// brief a job carries, with the assumptions made.
async fn compile_brief(ctx: RequestContext, body: axum::extract::Request) -> Answer {
    ctx.check(crate::identity::Permission::Read).await?;
    let body: CompileBriefIn = crate::rest::extract::json_after_check(body).await?;
    let text = match body.free_text_brief {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text,
        Some(_) => return Err(AppError::invalid("free_text_brief", "expected a string").into()),
    };
    if text.is_empty() {
        return Ok(bad_request("free_text_brief", "free_text_brief is required"));
    }
    if text.chars().count() > crate::pipelines::brief::MAX_FREE_TEXT {
        return Err(AppError::invalid(
            "free_text_brief",
            format!("at most {} characters", crate::pipelines::brief::MAX_FREE_TEXT),
        )
        .into());
    }
    Ok(axum::Json(crate::pipelines::brief::compile(&text)).into_response())
}

/// A 400 whose `detail` is the seed's sentence (an `HTTPException`'s, not a validation
/// error's list), with Heimdall's `error`, `field` and `message`.
fn bad_request(field: &str, message: &str) -> Response {
    let mut body = serde_json::to_value(AppError::invalid(field, message)).unwrap_or_default();
    body["detail"] = Value::from(message);
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// The seed's catalogue of patch types, word for word, and how Heimdall applies each.
async fn patch_types(ctx: RequestContext) -> Answer {
    ctx.check(crate::identity::Permission::Read).await?;
    Ok(axum::Json(crate::pipelines::seed::patch_types()).into_response())
}

/// The seed's direct patch: to the job's parameters now (see `PipelineService::apply_patch`).
async fn apply_patch(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path((id, stage)): Path<(String, String)>,
    body: axum::extract::Request,
) -> Answer {
    ctx.check(crate::identity::Permission::Operate).await?;
    let patch: Value = crate::rest::extract::json_after_check(body).await?;
    if !patch.is_object() && !patch.is_array() {
        return Err(AppError::invalid(
            "body",
            "expected a patch object (or a list of JSON patch operations)",
        )
        .into());
    }
    pipelines.apply_patch(&ctx.principal, &id, &stage, &patch).await?;
    Ok(axum::Json(json!({ "message": format!("Patch applied successfully to {stage}") })).into_response())
}

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

#[derive(Deserialize)]
struct JobCreate {
    slug: String,
    intent: String,
    #[serde(default)]
    brief: Option<Value>,
    #[serde(default)]
    brief_config: Option<Value>,
    #[serde(default)]
    meta: Option<Value>,
    /// Heimdall: the tenant's slug; by default the caller's only tenant.
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    stages: Option<Vec<String>>,
    #[serde(default)]
    /// Heimdall: gates by stage; a field left out takes its default.
    gates: BTreeMap<String, GateConfig>,
}

/// `value` when it is absent, `null` or a JSON object; otherwise a 422 naming `field` (the
/// seed's models are dicts: anything else it refused).
fn object_or_null(field: &str, value: Option<Value>) -> Result<Option<Value>, SeedError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(AppError::invalid(field, "expected a JSON object").into()),
    }
}

async fn create_job(
    State(identity): State<crate::identity::IdentityService>,
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<JobCreate>,
) -> Answer {
    // Who first (the service counts creations per caller).
    ctx.check(crate::identity::Permission::Operate).await?;
    let brief = object_or_null("brief", body.brief)?;
    let brief_config = object_or_null("brief_config", body.brief_config)?;
    let meta = object_or_null("meta", body.meta)?.unwrap_or_else(|| json!({}));
    // The seed's order: a structured brief, else the free-text one compiled, else the legacy
    // `brief_config`.
    let free_text = match meta.get("free_text_brief") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.chars().count() <= crate::pipelines::brief::MAX_FREE_TEXT => {
            Some(text.clone())
        }
        Some(Value::String(_)) => {
            return Err(AppError::invalid(
                "meta.free_text_brief",
                format!("at most {} characters", crate::pipelines::brief::MAX_FREE_TEXT),
            )
            .into());
        }
        Some(_) => return Err(AppError::invalid("meta.free_text_brief", "expected a string").into()),
    };
    let brief = brief.or_else(|| {
        free_text
            .filter(|t| !t.is_empty())
            .map(|t| crate::pipelines::brief::resolve(crate::pipelines::brief::parse(&t)))
    });
    let brief = brief.or(brief_config);
    let tenant_id = match &body.tenant {
        Some(slug) => Some(
            identity
                .store()
                .find_tenant_by_slug(slug)
                .await
                .map_err(|_| AppError::invalid("tenant", format!("no tenant {slug:?}")))?
                .id,
        ),
        None => None,
    };
    let params = json!({ "brief": brief, "meta": meta });
    let request = CreatePipeline {
        slug: body.slug,
        intent: body.intent,
        tenant_id,
        stages: body.stages,
        gates: body.gates,
        params,
    };
    let id = pipelines.create(&ctx.principal, request).await?;
    let row = pipelines.get(&ctx.principal, &id).await?;
    Ok((StatusCode::CREATED, axum::Json(job(&pipelines, &row).await?)).into_response())
}

async fn list_jobs(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let rows = if query.get("waiting_for").is_some_and(|w| w == "me") {
        pipelines.waiting_for(&ctx.principal).await?
    } else {
        let status = match query.get("status") {
            Some(s) => Some(
                PipelineStatus::parse(s)
                    .ok_or_else(|| AppError::invalid("status", format!("unknown status {s:?}")))?,
            ),
            None => None,
        };
        pipelines.list(&ctx.principal, status).await?
    };
    // The seed's limit of 100, with their gates and artifacts in two queries.
    let rows: Vec<PipelineRow> = rows.into_iter().take(100).collect();
    let mut parts = pipelines.gates_and_artifacts_of(&rows).await?;
    let jobs: Vec<Value> = rows
        .iter()
        .map(|row| {
            let (gates, artifacts) = parts.remove(&row.id).unwrap_or_default();
            job_of(row, &gates, &artifacts)
        })
        .collect();
    Ok(axum::Json(jobs).into_response())
}

async fn get_job(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let row = pipelines.get(&ctx.principal, &id).await?;
    Ok(axum::Json(job(&pipelines, &row).await?).into_response())
}

/// The longest `operator` name a decision may carry (the caller is who is recorded).
const MAX_OPERATOR: usize = 200;

/// The seed's `GateAction`.
#[derive(Deserialize)]
struct GateActionIn {
    decision: SeedDecision,
    stage: String,
    #[serde(default)]
    notes: Option<String>,
    /// Who the client says decides; the signed-in caller is who is recorded.
    #[allow(dead_code, reason = "required by the seed's shape; the caller is who decides")]
    operator: String,
    #[serde(default)]
    patch: Option<Value>,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum SeedDecision {
    Approved,
    Rejected,
    Pending,
}

async fn decide(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    id: String,
    body: axum::extract::Request,
    decision: Decision,
) -> Answer {
    // Who first: a signed-out or read-only caller hears that before anything about the body.
    ctx.check(crate::identity::Permission::Operate).await?;
    let body: GateActionIn = crate::rest::extract::json_after_check(body).await?;
    if body.operator.chars().count() > MAX_OPERATOR {
        return Err(AppError::invalid("operator", format!("at most {MAX_OPERATOR} characters")).into());
    }
    let wanted = if decision == Decision::Approved {
        SeedDecision::Approved
    } else {
        SeedDecision::Rejected
    };
    if body.decision != wanted && body.decision != SeedDecision::Pending {
        return Err(AppError::invalid("decision", "does not match the route (approve or reject)").into());
    }
    // The seed's patch is one operation object; RFC 6902 wants a list.
    let patch = body
        .patch
        .map(|p| if p.is_array() { p } else { Value::Array(vec![p]) });
    if let Some(p) = &patch
        && !crate::pipelines::is_json_patch(p)
    {
        return Err(AppError::invalid("patch", "expected JSON patch operations ({op, path, value})").into());
    }
    let action = GateAction {
        stage: body.stage.clone(),
        notes: body.notes,
        patch,
    };
    let outcome = pipelines
        .decide(&ctx.principal, &ctx.meta, &id, decision, &action)
        .await?;
    let message = match outcome {
        Decided::Final => format!("Gate {} {} successfully", body.stage, decision.as_str()),
        Decided::Approval { have, need } => {
            format!("Approval recorded for gate {}: {have} of {need}", body.stage)
        }
    };
    Ok(axum::Json(json!({ "message": message })).into_response())
}

async fn approve(
    pipelines: State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    body: axum::extract::Request,
) -> Answer {
    decide(pipelines, ctx, id, body, Decision::Approved).await
}

async fn reject(
    pipelines: State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    body: axum::extract::Request,
) -> Answer {
    decide(pipelines, ctx, id, body, Decision::Rejected).await
}

async fn cancel(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    pipelines.cancel(&ctx.principal, &id).await?;
    Ok(axum::Json(json!({ "message": "Job canceled successfully" })).into_response())
}

async fn resume(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let applied = pipelines.resume(&ctx.principal, &id).await?;
    Ok(
        axum::Json(json!({ "message": "Job resumed successfully", "patches_applied": applied }))
            .into_response(),
    )
}

async fn artifacts(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let artifacts = pipelines.artifacts(&ctx.principal, &id).await?;
    Ok(axum::Json(artifacts.iter().map(artifact_json).collect::<Vec<_>>()).into_response())
}

/// The seed's gate status: each gate with, while it is open and required, its timer; the
/// job's status; and the counts.
async fn gates_status(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let (row, gates) = pipelines.gates(&ctx.principal, &id).await?;
    let now = chrono::Utc::now();
    let statuses: Vec<Value> = gates
        .iter()
        .map(|g| {
            let mut status = gate_json(g);
            if g.decision.is_none() && g.required {
                status["auto_approve_enabled"] = json!(g.auto_approve);
                if let (Some(opened), Some(timeout)) = (g.opened_at, g.auto_approve_after_s) {
                    let elapsed = (now - opened).num_milliseconds() as f64 / 1000.0;
                    status["time_elapsed"] = json!(elapsed);
                    status["time_remaining"] = json!((timeout as f64 - elapsed).max(0.0));
                }
            }
            status
        })
        .collect();
    let count = |approved: Option<bool>| {
        statuses
            .iter()
            .filter(|g| g["approved"] == json!(approved))
            .count()
    };
    Ok(axum::Json(json!({
        "job_id": id,
        "job_status": row.status,
        "status": row.status,
        "current_stage": row.stage,
        "total_gates": statuses.len(),
        "approved_gates": count(Some(true)),
        "rejected_gates": count(Some(false)),
        "pending_gates": count(None),
        "gates": statuses,
    }))
    .into_response())
}

/// The seed's decisions: a dict keyed by stage.
async fn gate_decisions(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let (_, gates) = pipelines.gates(&ctx.principal, &id).await?;
    let decisions: serde_json::Map<String, Value> = gates
        .iter()
        .filter_map(|g| Some((g.stage.clone(), decision_json(g)?)))
        .collect();
    Ok(
        axum::Json(json!({ "job_id": id, "total_decisions": decisions.len(), "decisions": decisions }))
            .into_response(),
    )
}

async fn gate_decision(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path((id, stage)): Path<(String, String)>,
) -> Answer {
    let (_, gates) = pipelines.gates(&ctx.principal, &id).await?;
    let decision = gates
        .iter()
        .filter(|g| g.stage == stage)
        .find_map(decision_json)
        .ok_or_else(|| AppError::not_found(format!("No gate decision found for stage {stage}")))?;
    Ok(axum::Json(decision).into_response())
}

use crate::pipelines::Since;

fn since_of(value: Option<&String>) -> Result<Since, Box<Response>> {
    let Some(value) = value.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(Since::Id(0));
    };
    if let Ok(id) = value.parse::<i64>() {
        return Ok(Since::Id(id));
    }
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| Since::Time(t.with_timezone(&chrono::Utc)))
        .or_else(|_| {
            // The seed's `datetime.fromisoformat` also takes a time without a zone (UTC here).
            chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|t| Since::Time(t.and_utc()))
        })
        .map_err(|_| {
            Box::new(bad_request(
                "since",
                "Invalid 'since' timestamp format. Use ISO 8601 format.",
            ))
        })
}

async fn events(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    // Who first: a caller who may not see the pipeline hears that before anything about the query.
    pipelines.get(&ctx.principal, &id).await?;
    let since = match since_of(query.get("since")) {
        Ok(since) => since,
        Err(refused) => return Ok(*refused),
    };
    let limit = query.get("limit").map_or(Ok(100), |v| {
        v.parse::<i64>()
            .map_err(|_| AppError::invalid("limit", format!("{v:?} is not a number")))
    })?;
    let limit = limit.clamp(1, 1000);
    let (rows, has_more) = pipelines.events(&ctx.principal, &id, since, limit).await?;
    let events: Vec<Value> = rows.iter().map(event_json).collect();
    Ok(axum::Json(json!({
        "job_id": id,
        "events": events,
        "total": events.len(),
        "has_more": has_more,
        "last_event_time": rows.last().map(|e| e.created_at),
        "last_event_id": rows.last().map(|e| e.id),
        "since": query.get("since"),
        "timestamp": chrono::Utc::now(),
    }))
    .into_response())
}

/// The live stream: a `connected` message, every event after `Last-Event-ID` (or `since`) from
/// the table, then each new one as it commits, with its id; comments every 5 s keep proxies
/// from closing it. The seed's clients read `data:` only (so, by default, no `event:` field:
/// `EventSource.onmessage` sees everything); `?events=typed` names each event.
async fn stream_events(
    State(identity): State<crate::identity::IdentityService>,
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, SeedError> {
    pipelines.get(&ctx.principal, &id).await?;
    let typed = query.get("events").is_some_and(|v| v == "typed");
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(query.get("since").map(String::as_str))
        .map_or(Ok(0), |v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid("since", format!("{v:?} is not an event id")))
        })?;
    // Subscribed now (before the table is read): nothing committed from here on is missed.
    let events = pipelines.live_events(&id, after);
    let bus_closed = pipelines.store().bus().closed();
    // Ends with the server, or with the credential that opened it (signed out, revoked, no
    // longer allowed to see this pipeline).
    let owner = pipelines.clone();
    let watched = id.clone();
    let ended = identity.credential_ended(
        headers.clone(),
        ctx.meta.clone(),
        ctx.principal.actor_id(),
        move |p: crate::identity::Principal| {
            let (pipelines, id) = (owner.clone(), watched.clone());
            async move { pipelines.get(&p, &id).await.is_ok() }
        },
    );
    let closed = futures::future::select(Box::pin(bus_closed), Box::pin(ended));
    let connected = SseEvent::default().event_if(typed, "connected").data(
        stream_notice(
            "connected",
            format!("Connected to job {id} event stream"),
            json!({ "job_id": id, "operator": ctx.principal.display_name() }),
        )
        .to_string(),
    );
    let rest = events.map(move |row| {
        Ok(SseEvent::default()
            .id(row.id.to_string())
            .event_if(typed, &row.kind)
            .data(stream_json(&row).to_string()))
    });
    let first = stream::once(async move { Ok(connected) });
    // The seed's heartbeat: a data message every 5 s (no id: a reconnect's cursor is the last
    // real event), which also keeps proxies from closing an idle stream.
    let heartbeats = stream::unfold((), move |()| async move {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        let now = chrono::Utc::now();
        let beat = SseEvent::default().event_if(typed, "heartbeat").data(
            stream_notice(
                "heartbeat",
                "Server alive".to_owned(),
                json!({ "timestamp": now }),
            )
            .to_string(),
        );
        Some((Ok(beat), ()))
    });
    let open = crate::rest::Subscriber::new("pipeline_events");
    let feed = stream::select(first.chain(rest), heartbeats)
        .take_until(closed)
        .map(move |event| {
            let _counted = &open;
            event
        });
    Ok(Sse::new(feed))
}

/// `event:` only when asked for.
trait EventIf {
    fn event_if(self, typed: bool, name: &str) -> Self;
}

impl EventIf for SseEvent {
    fn event_if(self, typed: bool, name: &str) -> Self {
        if typed { self.event(name) } else { self }
    }
}

async fn claim(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let row = pipelines.claim(&ctx.principal, &id).await?;
    Ok(axum::Json(job(&pipelines, &row).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageReport {
    outcome: Outcome,
    #[serde(default)]
    artifacts: Vec<ArtifactIn>,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Succeeded,
    Failed,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArtifactIn {
    name: String,
    uri: String,
    #[serde(default)]
    size_bytes: Option<i64>,
    #[serde(default)]
    sha256: Option<String>,
}

async fn report(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path((id, stage)): Path<(String, String)>,
    JsonBody(body): JsonBody<StageReport>,
) -> Answer {
    let artifacts: Vec<ArtifactRow> = body
        .artifacts
        .into_iter()
        .map(|a| ArtifactRow {
            stage: stage.clone(),
            name: a.name,
            uri: a.uri,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
            created_at: chrono::Utc::now(),
        })
        .collect();
    let row = pipelines
        .report(
            &ctx.principal,
            &id,
            &stage,
            body.outcome == Outcome::Succeeded,
            &artifacts,
        )
        .await?;
    Ok(axum::Json(job(&pipelines, &row).await?).into_response())
}
