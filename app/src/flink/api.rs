//! Server functions of the Flink jobs section. Thin: the caller and one service call. The job
//! list arrives over the live feed (`/api/jobs/events`); its first view is also rendered into
//! the page's HTML (`flink_jobs_view`); the overview's counts ride on `get_overview`.

use leptos::prelude::*;

use super::model::{JobAction, JobQuery, JobsView};
use crate::error::AppError;

/// The page of jobs `query` asks for, with the counts: the jobs page renders it on the server,
/// so the first HTML has the rows; in the browser the live feed takes over.
#[server(prefix = "/_srv", endpoint = "flink_jobs_view")]
pub async fn flink_jobs_view(query: JobQuery) -> Result<JobsView, AppError> {
    use crate::identity::RequestContext;
    let ctx = RequestContext::load().await?;
    Ok(service()?.view_of(&ctx.principal, &query).await?)
}

/// One job's `FlinkDeployment` as the API server has it now, as YAML.
#[server(prefix = "/_srv", endpoint = "flink_job_yaml")]
pub async fn flink_job_yaml(namespace: String, name: String) -> Result<String, AppError> {
    use crate::identity::RequestContext;
    let ctx = RequestContext::load().await?;
    Ok(service()?.yaml(&ctx.principal, &namespace, &name).await?)
}

/// Suspend, resume, restart, or trigger a savepoint: developers and admins.
#[server(prefix = "/_srv", endpoint = "flink_job_action")]
pub async fn flink_job_action(namespace: String, name: String, action: JobAction) -> Result<(), AppError> {
    use crate::identity::RequestContext;
    let ctx = RequestContext::load().await?;
    let result = service()?
        .act(&ctx.principal, &ctx.meta, &namespace, &name, action)
        .await;
    if let Err(super::FlinkError::Access(refusal)) = &result {
        ctx.record_refusal(refusal).await;
    }
    Ok(result?)
}

/// This domain's service, from the server's composition root.
#[cfg(feature = "ssr")]
fn service() -> Result<super::FlinkService, AppError> {
    crate::request::service()
}
