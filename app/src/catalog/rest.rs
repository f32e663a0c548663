//! The IDP-portal seed's REST API at its paths and in its shapes: the service catalog
//! (`/services`), its actions (provision, deprovision, deploy) and their status, and the
//! executors' callbacks (`X-Callback-Token`). Every check is `CatalogService`'s; errors carry the
//! seed's `detail` beside Heimdall's `error` and `message`.

use axum::Router;
use axum::extract::{FromRef, State};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::catalog::{ActionKind, ActionRecord, ActionRequest, CatalogError, ServiceInput};
use crate::error::AppError;
use crate::identity::RequestContext;

use super::CatalogService;
use super::seed::{ActionResponse, DeployCallbackIn, DeployResponse, ProvisionCallbackIn, StatusResponse};
use crate::rest::doc::{Auth, Op, param};
use crate::rest::extract::JsonBody;
use crate::rest::fastapi::SeedError;
use crate::rest::live::{self, Closing};

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::identity::IdentityService: FromRef<S>,
    CatalogService: FromRef<S>,
    Closing: FromRef<S>,
{
    Router::new()
        .route("/services", get(list).post(create))
        .route("/services/{id}", get(read).put(update).delete(remove))
        .route("/services/{id}/actions/provision", post(provision))
        .route("/services/{id}/actions/deprovision", post(deprovision))
        .route("/services/{id}/actions/deploy", post(deploy))
        .route("/services/{id}/actions/deploy/status", get(deploy_status))
        .route("/services/{id}/actions/status", get(status))
        .route("/services/{id}/actions", get(history))
        .route("/services/{id}/events", get(events))
        .route("/provisioning/callback", post(provisioning_callback))
        .route("/services/deployments/callback", post(deployment_callback))
        .route_layer(axum::middleware::from_fn_with_state(
            crate::rest::fastapi::IDP_PORTAL,
            crate::rest::fastapi::unauthorized,
        ))
}

const SERVICE: &str = r#"{"name": "payments", "repo_url": "https://git.example.com/payments", "owner_team": "Payments", "runtime": "go", "tier": "tier-1", "environments": ["dev", "prod"], "tenant": "alpha", "observability_enabled": true}"#;

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them).
pub const DOC: &[Op] = &[
    Op::new("GET", "/services", "The services the caller may see (their tenants'; admins all)", Auth::Heimdall),
    Op::new("POST", "/services", "Register a service (admins); a name is unique within its tenant", Auth::Heimdall)
        .body(SERVICE)
        .responses(&[(201, "the Service"), (409, "the name is taken in the tenant"), (422, "a field, named")]),
    Op::new("GET", "/services/{id}", "One service", Auth::Heimdall).responses(&[(404, "Service not found")]),
    Op::new("PUT", "/services/{id}", "Replace a service's fields (admins)", Auth::Heimdall).body(SERVICE),
    Op::new("DELETE", "/services/{id}", "Remove a service and its history (admins)", Auth::Heimdall)
        .responses(&[(204, "removed")]),
    Op::new(
        "POST",
        "/services/{id}/actions/provision",
        "Provision the service's environment (developers, admins)",
        Auth::Heimdall,
    )
    .responses(&[(200, "{service_id, action, status, detail}")]),
    Op::new("POST", "/services/{id}/actions/deprovision", "Remove what provisioning created", Auth::Heimdall),
    Op::new("POST", "/services/{id}/actions/deploy", "Deploy to an environment of the service (default: its first)", Auth::Heimdall)
        .body(r#"{"environment": "dev", "image": "registry.example.com/payments", "version": "1.4.2"}"#)
        .responses(&[
            (200, "{deployment_id, service_id, environment, action, status, detail, execution_arn}"),
            (400, "an environment the service does not have"),
        ]),
    Op::new("GET", "/services/{id}/actions/deploy/status", "The newest deployment's status", Auth::Heimdall)
        .responses(&[(404, "No deployment found for service")]),
    Op::new("GET", "/services/{id}/actions/status", "Provisioning status", Auth::Heimdall)
        .query(&[param("environment", false, "an environment of the service")]),
    Op::new("GET", "/services/{id}/actions", "The service's action history, newest first (Heimdall)", Auth::Heimdall),
    Op::new(
        "GET",
        "/services/{id}/events",
        "Server-Sent Events: `connected`, then `changed` each time one of the service's actions changes (Heimdall; the service page's live history)",
        Auth::Heimdall,
    ),
    Op::new("POST", "/provisioning/callback", "A provisioning executor reports (X-Callback-Token)", Auth::Public)
        .body(r#"{"service_id": 1, "tenant": "alpha", "action": "provision", "status": "succeeded", "detail": "ready"}"#)
        .responses(&[(200, "{status: ok}"), (403, "Invalid callback token"), (404, "no such service or tenant"), (422, "a field, named")]),
    Op::new("POST", "/services/deployments/callback", "A deployment executor reports (X-Callback-Token)", Auth::Public)
        .body(r#"{"deployment_id": 7, "status": "succeeded", "detail": "rolled out"}"#)
        .responses(&[(200, "{status: ok}"), (403, "Invalid callback token"), (404, "Deployment not found"), (422, "a field, named")]),
];

type Answer = Result<Response, SeedError>;

/// A `CatalogError` as the seed's answer, with the 400 and the plain `detail` sentence its
/// unknown-environment case had (an `HTTPException`, not a validation error).
fn answer(e: CatalogError) -> Response {
    if let CatalogError::UnknownEnvironment(_) = e {
        let message = e.to_string();
        let mut body =
            serde_json::to_value(AppError::invalid("environment", message.clone())).unwrap_or_default();
        body["detail"] = Value::String(message);
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    SeedError(e.into()).into_response()
}

fn service_id(id: &str) -> Result<i64, SeedError> {
    id.parse().map_err(|_| {
        SeedError(AppError::invalid(
            "service_id",
            format!("{id:?} is not an integer"),
        ))
    })
}

fn json_of(value: &impl serde::Serialize) -> Response {
    axum::Json(serde_json::to_value(value).unwrap_or_default()).into_response()
}

async fn list(State(catalog): State<CatalogService>, ctx: RequestContext) -> Response {
    match catalog.list(&ctx.principal).await {
        Ok(services) => json_of(&services),
        Err(e) => answer(e),
    }
}

async fn create(
    State(catalog): State<CatalogService>,
    ctx: RequestContext,
    JsonBody(input): JsonBody<ServiceInput>,
) -> Response {
    match catalog.create(&ctx.principal, &ctx.meta, &input).await {
        Ok(service) => (StatusCode::CREATED, json_of(&service)).into_response(),
        Err(e) => answer(e),
    }
}

async fn read(State(catalog): State<CatalogService>, ctx: RequestContext, Path(id): Path<String>) -> Answer {
    let id = service_id(&id)?;
    Ok(match catalog.get(&ctx.principal, id).await {
        Ok(service) => json_of(&service),
        Err(e) => answer(e),
    })
}

async fn update(
    State(catalog): State<CatalogService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ServiceInput>,
) -> Answer {
    let id = service_id(&id)?;
    Ok(
        match catalog.update(&ctx.principal, &ctx.meta, id, &input).await {
            Ok(service) => json_of(&service),
            Err(e) => answer(e),
        },
    )
}

async fn remove(
    State(catalog): State<CatalogService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let id = service_id(&id)?;
    Ok(match catalog.delete(&ctx.principal, &ctx.meta, id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => answer(e),
    })
}

/// The body is optional: empty is none; present, it is the seed's `DeployRequest`
/// (`environment`), with Heimdall's `image` and `version`.
fn request_of(body: &axum::body::Bytes) -> Result<ActionRequest, SeedError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionRequest::default());
    }
    serde_json::from_slice::<ActionRequest>(body)
        .map_err(|e| SeedError(AppError::invalid("body", e.to_string())))
}

async fn act(
    State(catalog): State<CatalogService>,
    ctx: RequestContext,
    id: String,
    kind: ActionKind,
    body: axum::body::Bytes,
) -> Answer {
    // Who first: the caller hears about their rights before anything about the body.
    let id = service_id(&id)?;
    let request = request_of(&body)?;
    Ok(
        match catalog
            .request_action(&ctx.principal, &ctx.meta, id, kind, &request)
            .await
        {
            Ok(a) if kind == ActionKind::Deploy => axum::Json(DeployResponse::from(&a)).into_response(),
            Ok(a) => axum::Json(ActionResponse::from(&a)).into_response(),
            Err(e) => answer(e),
        },
    )
}

async fn provision(
    catalog: State<CatalogService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Answer {
    act(catalog, ctx, id, ActionKind::Provision, body).await
}

async fn deprovision(
    catalog: State<CatalogService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Answer {
    act(catalog, ctx, id, ActionKind::Deprovision, body).await
}

async fn deploy(
    catalog: State<CatalogService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Answer {
    act(catalog, ctx, id, ActionKind::Deploy, body).await
}

async fn deploy_status(
    State(catalog): State<CatalogService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let id = service_id(&id)?;
    Ok(match catalog.latest_deployment(&ctx.principal, id).await {
        Ok(a) => axum::Json(DeployResponse::from(&a)).into_response(),
        Err(e) => answer(e),
    })
}

#[derive(Deserialize)]
struct StatusQuery {
    environment: Option<String>,
}

/// The seed's `StatusResponse`: the service's provisioning status (Heimdall: of the
/// environment's newest provisioning action, when one names it).
async fn status(
    State(catalog): State<CatalogService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    Query(q): Query<StatusQuery>,
) -> Answer {
    let id = service_id(&id)?;
    let environment = q.environment.filter(|e| !e.is_empty());
    Ok(
        match catalog
            .provisioning(&ctx.principal, id, environment.as_deref())
            .await
        {
            Ok((service, latest)) => {
                let (status, detail) = match latest.filter(|a| a.environment.is_some()) {
                    Some(a) => (a.status, a.detail),
                    None => (service.provision_status, service.provision_detail),
                };
                let detail = if detail.is_empty() {
                    format!(
                        "Service healthy in {}",
                        environment.as_deref().unwrap_or("default")
                    )
                } else {
                    detail
                };
                axum::Json(StatusResponse {
                    service_id: id,
                    environment,
                    status,
                    detail,
                })
                .into_response()
            }
            Err(e) => answer(e),
        },
    )
}

async fn history(
    State(catalog): State<CatalogService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let id = service_id(&id)?;
    Ok(match catalog.history(&ctx.principal, id).await {
        Ok(actions) => json_of(&actions),
        Err(e) => answer(e),
    })
}

/// The service's changes as they commit (this process's; the page re-reads the history on each).
async fn events(
    State(identity): State<crate::identity::IdentityService>,
    State(catalog): State<CatalogService>,
    State(closing): State<Closing>,
    ctx: RequestContext,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    use axum::response::sse::Event;
    use futures::{StreamExt, stream};
    let id = service_id(&id)?;
    // Subscribed before the check: a change in between is announced, not lost.
    let changes = catalog.changes();
    if let Err(e) = catalog.get(&ctx.principal, id).await {
        return Ok(answer(e));
    }
    // Fallen behind: whatever changed, the page re-reads it all.
    let ours = live::follow(changes, || Some(crate::catalog::EVERYTHING))
        .filter(move |changed| std::future::ready(*changed == id || *changed == crate::catalog::EVERYTHING))
        .map(|_| Event::default().data("changed"));
    let events = stream::once(std::future::ready(Event::default().data("connected"))).chain(ours);
    // Ends with the server, or with the credential that opened it.
    let watching = catalog.clone();
    let ended = identity.credential_ended(
        headers,
        ctx.meta.clone(),
        ctx.principal.actor_id(),
        move |p: crate::identity::Principal| {
            let catalog = watching.clone();
            async move { catalog.get(&p, id).await.is_ok() }
        },
    );
    Ok(live::serve("catalog_changes", events, &closing, ended).into_response())
}

fn callback_token(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-callback-token").and_then(|v| v.to_str().ok())
}

/// A callback's token first — without it nothing about the body, or what exists, is told —
/// then its body.
fn callback_body<T: serde::de::DeserializeOwned>(
    checked: Result<(), CatalogError>,
    body: &axum::body::Bytes,
) -> Result<T, CatalogError> {
    checked?;
    serde_json::from_slice(body).map_err(|e| crate::error::FieldError::new("body", e.to_string()).into())
}

fn callback_answer(result: Result<ActionRecord, CatalogError>) -> Response {
    match result {
        Ok(_) => axum::Json(json!({ "status": "ok" })).into_response(),
        Err(e) => answer(e),
    }
}

async fn provisioning_callback(
    State(catalog): State<CatalogService>,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Response {
    let token = callback_token(&parts.headers);
    let body: ProvisionCallbackIn = match callback_body(catalog.check_provisioning_token(token), &body) {
        Ok(b) => b,
        Err(refused) => return answer(refused),
    };
    let Some(action) = ActionKind::parse(body.action.as_deref().unwrap_or("provision")) else {
        return SeedError(AppError::invalid("action", "provision or deprovision")).into_response();
    };
    let meta = crate::request::RequestMeta::from_parts(&parts.headers, &parts.extensions);
    callback_answer(
        catalog
            .provisioning_callback(
                &meta,
                token,
                crate::catalog::Handed {
                    service_id: body.service_id,
                    tenant: &body.tenant,
                    action,
                    action_id: body.action_id,
                    environment: body.environment.as_deref(),
                },
                &body.report.into(),
            )
            .await,
    )
}

async fn deployment_callback(
    State(catalog): State<CatalogService>,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Response {
    let token = callback_token(&parts.headers);
    let body: DeployCallbackIn = match callback_body(catalog.check_deployment_token(token), &body) {
        Ok(b) => b,
        Err(refused) => return answer(refused),
    };
    let meta = crate::request::RequestMeta::from_parts(&parts.headers, &parts.extensions);
    callback_answer(
        catalog
            .deployment_callback(&meta, token, body.deployment_id, &body.report.into())
            .await,
    )
}
