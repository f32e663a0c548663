//! The pipeline pages' server functions. Each hands the caller's `Principal` to
//! `PipelineService`, which decides — the same operations the seed's REST routes call.

use leptos::prelude::*;

use super::model::{PipelineDetail, PipelineList};
use crate::error::AppError;

/// Every tenant's id and slug, to name them on the page.
#[cfg(feature = "ssr")]
async fn tenant_slugs() -> Result<Vec<(i64, String)>, AppError> {
    Ok(crate::request::service::<crate::identity::IdentityService>()?
        .tenant_slugs()
        .await?)
}

/// The pipelines the caller may see, filtered: `status` (`needs_approval`, …), `tenant` (a
/// slug), only those waiting for the caller's approval, only those the caller asked for.
#[server(prefix = "/_srv", endpoint = "list_pipelines")]
pub async fn list_pipelines(
    status: Option<String>,
    tenant: Option<String>,
    waiting: bool,
    mine: Option<bool>,
) -> Result<PipelineList, AppError> {
    use crate::identity::{Permission, RequestContext};
    use crate::pipelines::{ListFilter, PipelineStatus};
    let ctx = RequestContext::require(Permission::Read).await?;
    let status = match status.filter(|s| !s.is_empty()) {
        Some(s) => Some(
            PipelineStatus::parse(&s)
                .ok_or_else(|| AppError::invalid("status", format!("unknown status {s:?}")))?,
        ),
        None => None,
    };
    let filter = ListFilter {
        status,
        tenant: tenant.filter(|t| !t.is_empty()),
        waiting_for_me: waiting,
        mine: mine.unwrap_or(false),
    };
    let tenants = tenant_slugs().await?;
    Ok(service()?.page_list(&ctx.principal, &filter, &tenants).await?)
}

/// One pipeline: stages, gates, artifacts and its newest events.
#[server(prefix = "/_srv", endpoint = "get_pipeline")]
pub async fn get_pipeline(id: String) -> Result<PipelineDetail, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Read).await?;
    let tenants = tenant_slugs().await?;
    Ok(service()?.page_detail(&ctx.principal, &id, &tenants).await?)
}

/// Creates a pipeline with the configured stages and gates; returns its id. `brief` is free
/// text kept in the parameters (the seed's brief).
#[server(prefix = "/_srv", endpoint = "create_pipeline")]
pub async fn create_pipeline(
    slug: String,
    intent: String,
    tenant: Option<String>,
    brief: String,
) -> Result<String, AppError> {
    use crate::identity::{Permission, RequestContext};
    use crate::pipelines::CreatePipeline;
    let ctx = RequestContext::require(Permission::Operate).await?;
    let tenant_id = match tenant.filter(|t| !t.is_empty()) {
        Some(slug) => Some(
            tenant_slugs()
                .await?
                .into_iter()
                .find(|(_, s)| *s == slug)
                .ok_or_else(|| AppError::invalid("tenant", format!("no tenant {slug:?}")))?
                .0,
        ),
        None => None,
    };
    let brief = brief.trim();
    let request = CreatePipeline {
        slug,
        intent,
        tenant_id,
        params: serde_json::json!({ "brief": (!brief.is_empty()).then_some(brief), "meta": {} }),
        ..CreatePipeline::default()
    };
    Ok(service()?.create(&ctx.principal, request).await?)
}

/// Approves (`approve`) or rejects the gate at `stage`; a rejection needs `notes`. Returns
/// what happened, in words.
#[server(prefix = "/_srv", endpoint = "decide_gate")]
pub async fn decide_gate(
    id: String,
    stage: String,
    approve: bool,
    notes: String,
) -> Result<String, AppError> {
    use crate::identity::{Permission, RequestContext};
    use crate::pipelines::{Decided, Decision, GateAction};
    let ctx = RequestContext::require(Permission::Operate).await?;
    let decision = if approve {
        Decision::Approved
    } else {
        Decision::Rejected
    };
    let action = GateAction {
        stage,
        notes: Some(notes),
        patch: None,
    };
    let done = service()?
        .decide(&ctx.principal, &ctx.meta, &id, decision, &action)
        .await?;
    Ok(match done {
        Decided::Final if approve => "Approved: the pipeline goes on.".to_owned(),
        Decided::Final => "Rejected: the pipeline is paused until someone resumes it.".to_owned(),
        Decided::Approval { have, need } => format!("Your approval is counted: {have} of {need}."),
    })
}

/// Cancels a pipeline that has not ended.
#[server(prefix = "/_srv", endpoint = "cancel_pipeline")]
pub async fn cancel_pipeline(id: String) -> Result<(), AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Operate).await?;
    Ok(service()?.cancel(&ctx.principal, &id).await?)
}

/// Resumes a paused pipeline (applying the rejection's patch); returns how many patches applied.
#[server(prefix = "/_srv", endpoint = "resume_pipeline")]
pub async fn resume_pipeline(id: String) -> Result<usize, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Operate).await?;
    Ok(service()?.resume(&ctx.principal, &id).await?)
}

/// This domain's service, from the server's composition root.
#[cfg(feature = "ssr")]
fn service() -> Result<super::PipelineService, AppError> {
    crate::request::service()
}
