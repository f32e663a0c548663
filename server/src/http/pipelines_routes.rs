//! The operator-console seed's `/api/v1/jobs` API (a "job" there is a pipeline here), at its
//! paths and in its shapes, bearer-authenticated (API tokens, Heimdall JWTs, the static
//! `ADMIN_TOKEN`), plus the worker routes that advance pipelines. Each handler resolves the
//! caller and makes one `PipelineService` call. Errors carry the seed's `detail` beside
//! Heimdall's own fields. Live events (SSE), timers and rate limits are still to come (#10).

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;

use app::error::AppError;
use app::identity::RequestContext;
use app::pipelines::{
    ArtifactRow, CreatePipeline, Decided, Decision, GateAction, GateConfig, PipelineRow, PipelineStatus,
};

use super::api_doc::{Auth, Op, param};
use super::extract::JsonBody;

pub fn routes(state: &app::state::AppState) -> Router<app::state::AppState> {
    let limit = super::rate_limit::requests(state.pipelines.settings().limits);
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
        .route("/api/v1/config/operator", get(operator_config))
        .route_layer(axum::middleware::from_fn_with_state(
            limit,
            super::rate_limit::general,
        ));
    // Outermost: a preflight is answered before any limit counts it.
    let cors_config = &state.pipelines.settings().cors;
    if cors_config.enabled {
        router.layer(cors(cors_config))
    } else {
        router
    }
}

/// `pipelines.cors`: the origins, methods and headers other sites' pages may use. Without it
/// there is no layer and no CORS header at all (browsers then keep other origins out).
fn cors(config: &app::pipelines::Cors) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins = if config.allow_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .allow_origins
                .iter()
                .filter_map(|o| axum::http::HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(
            config
                .allow_methods
                .iter()
                .filter_map(|m| axum::http::Method::from_bytes(m.as_bytes()).ok())
                .collect::<Vec<_>>(),
        )
        .allow_headers(
            config
                .allow_headers
                .iter()
                .filter_map(|h| axum::http::HeaderName::from_bytes(h.as_bytes()).ok())
                .collect::<Vec<_>>(),
        )
        .max_age(std::time::Duration::from_secs(config.max_age_secs))
}

const GATE_ACTION: &str =
    r#"{"decision": "approved", "stage": "deploy", "notes": "looks good", "operator": "ada", "patch": null}"#;

/// The OpenAPI entries of these routes (`api_doc.rs`).
pub const DOC: &[Op] = &[
    Op::new("GET", "/api/v1/config/operator", "The pipeline defaults in force: stages and gates (secrets removed)", Auth::Heimdall),
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
    Op::new("POST", "/api/v1/jobs/{id}/approve", "Approve the gate at a stage (the seed's GateAction)", Auth::Heimdall)
        .body(GATE_ACTION)
        .responses(&[(200, "{message}"), (403, "this role may not decide, or the requester approving their own"), (409, "already decided by X at T / not waiting"), (422, "a field is wrong, named")]),
    Op::new("POST", "/api/v1/jobs/{id}/reject", "Reject the gate at a stage; notes required; an optional JSON patch applies on resume", Auth::Heimdall)
        .body(GATE_ACTION)
        .responses(&[(200, "{message}"), (409, "already decided by X at T / not waiting"), (422, "notes missing, or another field wrong")]),
    Op::new("POST", "/api/v1/jobs/{id}/cancel", "Cancel a pipeline that has not ended", Auth::Heimdall)
        .responses(&[(200, "{message}"), (409, "it has ended")]),
    Op::new("POST", "/api/v1/jobs/{id}/resume", "Resume a paused pipeline, applying the rejection's patch", Auth::Heimdall)
        .responses(&[(200, "{message, patches_applied}"), (409, "not paused, or the patch does not apply")]),
    Op::new("GET", "/api/v1/jobs/{id}/artifacts", "What the stages produced", Auth::Heimdall),
    Op::new("GET", "/api/v1/jobs/{id}/gates/status", "Every gate: required, decided, by whom, when", Auth::Heimdall),
    Op::new("GET", "/api/v1/jobs/{id}/gates/decisions", "The decided gates", Auth::Heimdall),
    Op::new("GET", "/api/v1/jobs/{id}/gates/{stage}/decision", "One gate's decision", Auth::Heimdall)
        .responses(&[(200, "the decision"), (404, "no decision (yet) at that stage")]),
    Op::new("GET", "/api/v1/jobs/{id}/events", "The event log, oldest first", Auth::Heimdall).query(&[
        param("since", false, "an event id: only later events"),
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

/// The pipeline defaults in force (the seed's sanitized operator configuration: no secret is
/// in it, the admin token only as whether one is set).
async fn operator_config(ctx: RequestContext) -> Answer {
    ctx.check(app::identity::Permission::Read).await?;
    let settings = ctx.state.pipelines.settings();
    Ok(axum::Json(json!({
        "stages": settings.stages,
        "gates": settings.gates,
        "security": {
            "admin_token": ctx.state.identity.settings().admin_token.as_ref().map(|_| "***"),
        },
    }))
    .into_response())
}

use super::fastapi::SeedError;

impl From<app::pipelines::PipelineError> for SeedError {
    fn from(e: app::pipelines::PipelineError) -> Self {
        Self(e.into())
    }
}

type Answer = Result<Response, SeedError>;

/// The seed's `Job` shape, with Heimdall's fields after its own.
async fn job(ctx: &RequestContext, p: &PipelineRow) -> Result<Value, SeedError> {
    let store = ctx.state.pipelines.store();
    let gates = store.gates(&p.id).await.map_err(AppError::from)?;
    let artifacts = store.artifacts(&p.id).await.map_err(AppError::from)?;
    let params: Value = serde_json::from_str(&p.params).unwrap_or_default();
    let stages: Value = serde_json::from_str(&p.stages).unwrap_or_default();
    Ok(json!({
        "id": p.id,
        "slug": p.slug,
        "intent": p.intent,
        "status": p.status,
        "stage": p.stage,
        "cfg": {
            "brief": params.get("brief").cloned().unwrap_or(Value::Null),
            "render": {}, "models": {}, "modules": {},
            "captured_at": p.created_at,
        },
        "gates": gates.iter().map(gate_json).collect::<Vec<_>>(),
        "artifacts": artifacts.iter().map(artifact_json).collect::<Vec<_>>(),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "operator": p.requested_by,
        "tenant_id": p.tenant_id,
        "stages": stages,
        "params": params,
    }))
}

/// A gate as the seed shows it (`approved` true / false / null), plus Heimdall's fields.
fn gate_json(g: &app::pipelines::GateRow) -> Value {
    let decision = g.decision();
    let config = g.config();
    json!({
        "stage": g.stage,
        "required": g.required,
        "approved": decision.as_ref().map(|d| d.decision == Decision::Approved),
        "by": decision.as_ref().map(|d| d.by.clone()),
        "at": decision.as_ref().map(|d| d.at),
        "notes": g.notes,
        "patch": g.patch.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()),
        "auto_approved": decision.as_ref().is_some_and(|d| d.automatic && d.decision == Decision::Approved),
        "timeout_seconds": g.auto_approve_after_s,
        "decision": decision.as_ref().map(|d| d.decision.as_str()),
        "approvals_needed": config.approvals_needed,
        "allowed_roles": config.allowed_roles,
        "allow_self_approval": config.allow_self_approval,
        "timeout_action": config.timeout_action.as_str(),
        "opened_at": g.opened_at,
    })
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

async fn create_job(ctx: RequestContext, JsonBody(body): JsonBody<JobCreate>) -> Answer {
    // Who may create first (the service counts creations per caller).
    ctx.check(app::identity::Permission::Operate).await?;
    let tenant_id = match &body.tenant {
        Some(slug) => Some(
            ctx.state
                .identity
                .store()
                .find_tenant_by_slug(slug)
                .await
                .map_err(|_| AppError::invalid("tenant", format!("no tenant {slug:?}")))?
                .id,
        ),
        None => None,
    };
    let brief = body.brief.or(body.brief_config);
    let params = json!({ "brief": brief, "meta": body.meta.unwrap_or_else(|| json!({})) });
    let request = CreatePipeline {
        slug: body.slug,
        intent: body.intent,
        tenant_id,
        stages: body.stages,
        gates: body.gates,
        params,
    };
    let id = ctx.state.pipelines.create(&ctx.principal, request).await?;
    let row = ctx.state.pipelines.get(&ctx.principal, &id).await?;
    Ok((StatusCode::CREATED, axum::Json(job(&ctx, &row).await?)).into_response())
}

async fn list_jobs(ctx: RequestContext, Query(query): Query<HashMap<String, String>>) -> Answer {
    let rows = if query.get("waiting_for").is_some_and(|w| w == "me") {
        ctx.state.pipelines.waiting_for(&ctx.principal).await?
    } else {
        let status = match query.get("status") {
            Some(s) => Some(
                PipelineStatus::parse(s)
                    .ok_or_else(|| AppError::invalid("status", format!("unknown status {s:?}")))?,
            ),
            None => None,
        };
        ctx.state.pipelines.list(&ctx.principal, status).await?
    };
    let mut jobs = Vec::new();
    for row in rows.iter().take(100) {
        jobs.push(job(&ctx, row).await?);
    }
    Ok(axum::Json(jobs).into_response())
}

async fn get_job(ctx: RequestContext, Path(id): Path<String>) -> Answer {
    let row = ctx.state.pipelines.get(&ctx.principal, &id).await?;
    Ok(axum::Json(job(&ctx, &row).await?).into_response())
}

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

async fn decide(ctx: RequestContext, id: String, body: axum::extract::Request, decision: Decision) -> Answer {
    // Who first: a signed-out or read-only caller hears that before anything about the body.
    ctx.check(app::identity::Permission::Operate).await?;
    let body: GateActionIn = super::extract::json_after_check(body).await?;
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
        && !app::pipelines::is_json_patch(p)
    {
        return Err(AppError::invalid("patch", "expected JSON patch operations ({op, path, value})").into());
    }
    let action = GateAction {
        stage: body.stage.clone(),
        notes: body.notes,
        patch,
    };
    let outcome = ctx
        .state
        .pipelines
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

async fn approve(ctx: RequestContext, Path(id): Path<String>, body: axum::extract::Request) -> Answer {
    decide(ctx, id, body, Decision::Approved).await
}

async fn reject(ctx: RequestContext, Path(id): Path<String>, body: axum::extract::Request) -> Answer {
    decide(ctx, id, body, Decision::Rejected).await
}

async fn cancel(ctx: RequestContext, Path(id): Path<String>) -> Answer {
    ctx.state.pipelines.cancel(&ctx.principal, &id).await?;
    Ok(axum::Json(json!({ "message": "Job canceled successfully" })).into_response())
}

async fn resume(ctx: RequestContext, Path(id): Path<String>) -> Answer {
    let applied = ctx.state.pipelines.resume(&ctx.principal, &id).await?;
    Ok(
        axum::Json(json!({ "message": "Job resumed successfully", "patches_applied": applied }))
            .into_response(),
    )
}

async fn artifacts(ctx: RequestContext, Path(id): Path<String>) -> Answer {
    let artifacts = ctx.state.pipelines.artifacts(&ctx.principal, &id).await?;
    Ok(axum::Json(artifacts.iter().map(artifact_json).collect::<Vec<_>>()).into_response())
}

/// An artifact as the seed shows it.
fn artifact_json(a: &ArtifactRow) -> Value {
    json!({
        "stage": a.stage, "kind": a.name, "path": a.uri, "meta": {}, "created_at": a.created_at,
        "size_bytes": a.size_bytes, "checksum": a.sha256,
    })
}

async fn gates_status(ctx: RequestContext, Path(id): Path<String>) -> Answer {
    let (row, gates) = ctx.state.pipelines.gates(&ctx.principal, &id).await?;
    Ok(axum::Json(json!({
        "job_id": id,
        "status": row.status,
        "current_stage": row.stage,
        "gates": gates.iter().map(gate_json).collect::<Vec<_>>(),
    }))
    .into_response())
}

async fn gate_decisions(ctx: RequestContext, Path(id): Path<String>) -> Answer {
    let (_, gates) = ctx.state.pipelines.gates(&ctx.principal, &id).await?;
    let decided: Vec<Value> = gates
        .iter()
        .filter(|g| g.decision.is_some())
        .map(gate_json)
        .collect();
    Ok(axum::Json(json!({ "job_id": id, "total": decided.len(), "decisions": decided })).into_response())
}

async fn gate_decision(ctx: RequestContext, Path((id, stage)): Path<(String, String)>) -> Answer {
    let (_, gates) = ctx.state.pipelines.gates(&ctx.principal, &id).await?;
    let gate = gates
        .into_iter()
        .find(|g| g.stage == stage && g.decision.is_some())
        .ok_or_else(|| AppError::not_found(format!("No decision found for stage {stage}")))?;
    Ok(axum::Json(gate_json(&gate)).into_response())
}

async fn events(
    ctx: RequestContext,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    // Who first: a caller who may not see the pipeline hears that before anything about the query.
    ctx.state.pipelines.get(&ctx.principal, &id).await?;
    let number = |key: &'static str, default: i64| -> Result<i64, AppError> {
        query.get(key).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| AppError::invalid(key, format!("{v:?} is not a number")))
        })
    };
    let since = number("since", 0)?;
    let limit = number("limit", 100)?.clamp(1, 1000);
    let mut rows = ctx
        .state
        .pipelines
        .store()
        .events(&id, since, limit + 1)
        .await
        .map_err(AppError::from)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(100));
    let events: Vec<Value> = rows.iter().map(event_json).collect();
    Ok(axum::Json(json!({
        "job_id": id,
        "events": events,
        "total": events.len(),
        "has_more": has_more,
        "last_event_time": rows.last().map(|e| e.created_at),
        "last_event_id": rows.last().map(|e| e.id),
        "since": since,
        "timestamp": chrono::Utc::now(),
    }))
    .into_response())
}

/// One event as both the poll and the stream show it.
fn event_json(e: &app::pipelines::EventRow) -> Value {
    json!({
        "id": e.id, "job_id": e.pipeline_id, "timestamp": e.created_at, "event_type": e.kind,
        "stage": e.stage, "status": e.status, "message": e.message,
        "metadata": serde_json::from_str::<Value>(&e.payload).unwrap_or_default(),
    })
}

/// The live stream: a `connected` message, every event after `Last-Event-ID` (or `since`) from
/// the table, then each new one as it commits, with its id; comments every 5 s keep proxies
/// from closing it. The seed's clients read `data:` only (so, by default, no `event:` field:
/// `EventSource.onmessage` sees everything); `?events=typed` names each event.
async fn stream_events(
    ctx: RequestContext,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, SeedError> {
    ctx.state.pipelines.get(&ctx.principal, &id).await?;
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
    let store = ctx.state.pipelines.store().clone();
    // Subscribe before reading the table: an event in between arrives twice (and is skipped by
    // its id), never not at all.
    let live = store.bus().subscribe();
    // Ends with the server, or with the credential that opened it (signed out, revoked, no
    // longer allowed to see this pipeline).
    let pipelines = ctx.state.pipelines.clone();
    let watched = id.clone();
    let ended = ctx.state.identity.credential_ended(
        headers.clone(),
        ctx.meta.clone(),
        ctx.principal.actor_id(),
        move |p: app::identity::Principal| {
            let (pipelines, id) = (pipelines.clone(), watched.clone());
            async move { pipelines.get(&p, &id).await.is_ok() }
        },
    );
    let closed = futures::future::select(Box::pin(store.bus().closed()), Box::pin(ended));
    let connected = SseEvent::default()
        .event_if(typed, "connected")
        .data(json!({ "type": "connected", "job_id": id }).to_string());
    let state = Feed {
        store,
        live,
        id,
        floor: after,
        last: after,
        sent: std::collections::HashSet::new(),
        pending: std::collections::VecDeque::new(),
        replayed: false,
        typed,
    };
    let rest = stream::unfold(state, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    let first = stream::once(async move { Ok(connected) });
    let open = super::metrics::Subscriber::new("pipeline_events");
    let feed = first.chain(rest).take_until(closed).map(move |event| {
        let _counted = &open;
        event
    });
    Ok(Sse::new(feed).keep_alive(
        KeepAlive::new()
            .interval(std::time::Duration::from_secs(5))
            .text("heartbeat"),
    ))
}

/// One stream's position: events come from the table (at the start and after falling behind)
/// and from the bus, each sent once, in id order.
struct Feed {
    store: app::pipelines::PipelineStore,
    live: tokio::sync::broadcast::Receiver<std::sync::Arc<app::pipelines::EventRow>>,
    id: String,
    /// The client's cursor (`Last-Event-ID`): it has everything up to here.
    floor: i64,
    /// The largest id sent, and every id sent (one pipeline's events: retention bounds them).
    last: i64,
    sent: std::collections::HashSet<i64>,
    pending: std::collections::VecDeque<app::pipelines::EventRow>,
    replayed: bool,
    typed: bool,
}

impl Feed {
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(row) = self.pending.pop_front() {
                // By id, not by the largest: ids may commit out of order.
                if row.id > self.floor && self.sent.insert(row.id) {
                    self.last = self.last.max(row.id);
                    return Some(self.to_sse(&row));
                }
                continue;
            }
            if !self.replayed {
                self.replayed = true;
                self.refill().await?;
                continue;
            }
            match self.live.recv().await {
                Ok(row) if row.pipeline_id == self.id => self.pending.push_back((*row).clone()),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => self.refill().await?,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// What may be missing, from the table: after the client's cursor, reaching back a window
    /// below the largest id sent (repeats are skipped).
    async fn refill(&mut self) -> Option<()> {
        let after = self.floor.max(self.last - 1000);
        let rows = self.store.events(&self.id, after, 10_000).await.ok()?;
        self.pending.extend(rows);
        Some(())
    }

    fn to_sse(&self, row: &app::pipelines::EventRow) -> SseEvent {
        SseEvent::default()
            .id(row.id.to_string())
            .event_if(self.typed, &row.kind)
            .data(event_json(row).to_string())
    }
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

async fn claim(ctx: RequestContext, Path(id): Path<String>) -> Answer {
    let row = ctx.state.pipelines.claim(&ctx.principal, &id).await?;
    Ok(axum::Json(job(&ctx, &row).await?).into_response())
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
    let row = ctx
        .state
        .pipelines
        .report(
            &ctx.principal,
            &id,
            &stage,
            body.outcome == Outcome::Succeeded,
            &artifacts,
        )
        .await?;
    Ok(axum::Json(job(&ctx, &row).await?).into_response())
}
