//! The worker routes: claim a job, report a stage.

use super::*;

pub(super) async fn claim(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Answer {
    let row = pipelines.claim(&ctx.principal, &id).await?;
    Ok(axum::Json(job(&pipelines, &row).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StageReport {
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
pub(super) struct ArtifactIn {
    name: String,
    uri: String,
    #[serde(default)]
    size_bytes: Option<i64>,
    #[serde(default)]
    sha256: Option<String>,
}

pub(super) async fn report(
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
