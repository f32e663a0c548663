//! The console's configuration (`config/operator`, `config/validate`), its brief compiler and
//! its patch catalogue and direct patches.

use super::*;

/// The seed's sanitized operator configuration, section by section (`server`, `security`,
/// `gates`, `storage`, `pipeline`), from what is in force here. No secret is in it: as in the
/// seed, the admin token's key is not there at all. Heimdall's own facts follow the seed's.
pub(super) async fn operator_config(
    State(pipelines): State<PipelineService>,
    State(db): State<crate::db::Database>,
    State(cors): State<crate::request::Cors>,
    ctx: RequestContext,
) -> Answer {
    ctx.check(crate::identity::Permission::Read).await?;
    let settings = pipelines.settings();
    let limits = settings.rate_limit;
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
pub(super) async fn validate_config(State(db): State<crate::db::Database>, ctx: RequestContext) -> Answer {
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
pub(super) struct CompileBriefIn {
    #[serde(default)]
    free_text_brief: Option<Value>,
}

/// The seed's brief compiler (`crate::pipelines::brief`): a free-text brief into the structured
/// brief a job carries, with the assumptions made.
pub(super) async fn compile_brief(ctx: RequestContext, body: axum::extract::Request) -> Answer {
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
pub(super) fn bad_request(field: &str, message: &str) -> Response {
    let mut body = serde_json::to_value(AppError::invalid(field, message)).unwrap_or_default();
    body["detail"] = Value::from(message);
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// The seed's catalogue of patch types, word for word, and how Heimdall applies each.
pub(super) async fn patch_types(ctx: RequestContext) -> Answer {
    ctx.check(crate::identity::Permission::Read).await?;
    Ok(axum::Json(crate::pipelines::seed::patch_types()).into_response())
}

/// The seed's direct patch: to the job's parameters now (see `PipelineService::apply_patch`).
pub(super) async fn apply_patch(
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
