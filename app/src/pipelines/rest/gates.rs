//! Gate decisions (approve, reject, at the gate or ahead of it) and the gates' status.

use super::*;

/// The longest `operator` name a decision may carry (the caller is who is recorded).
pub(super) const MAX_OPERATOR: usize = 200;

/// The seed's `GateAction`.
#[derive(Deserialize)]
pub(super) struct GateActionIn {
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

pub(super) async fn decide(
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

pub(super) async fn approve(
    pipelines: State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    body: axum::extract::Request,
) -> Answer {
    decide(pipelines, ctx, id, body, Decision::Approved).await
}

pub(super) async fn reject(
    pipelines: State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    body: axum::extract::Request,
) -> Answer {
    decide(pipelines, ctx, id, body, Decision::Rejected).await
}

/// The seed's gate status: each gate with, while it is open and required, its timer; the
/// job's status; and the counts.
pub(super) async fn gates_status(
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
pub(super) async fn gate_decisions(
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

pub(super) async fn gate_decision(
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
