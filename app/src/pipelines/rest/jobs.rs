//! Jobs: create, list, read, cancel, resume, and their artifacts.

use super::*;

#[derive(Deserialize)]
pub(super) struct JobCreate {
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
pub(super) fn object_or_null(field: &str, value: Option<Value>) -> Result<Option<Value>, SeedError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(AppError::invalid(field, "expected a JSON object").into()),
    }
}

pub(super) async fn create_job(
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
                .tenant_id(slug)
                .await
                .ok_or_else(|| AppError::invalid("tenant", format!("no tenant {slug:?}")))?,
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

pub(super) async fn list_jobs(
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
        pipelines.list(&ctx.principal, status, 100).await?
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

pub(super) async fn get_job(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let row = pipelines.get(&ctx.principal, &id).await?;
    Ok(axum::Json(job(&pipelines, &row).await?).into_response())
}

pub(super) async fn cancel(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    pipelines.cancel(&ctx.principal, &id).await?;
    Ok(axum::Json(json!({ "message": "Job canceled successfully" })).into_response())
}

pub(super) async fn resume(
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

pub(super) async fn artifacts(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let artifacts = pipelines.artifacts(&ctx.principal, &id).await?;
    Ok(axum::Json(artifacts.iter().map(artifact_json).collect::<Vec<_>>()).into_response())
}
