//! Server functions of the Flink jobs section. Thin: the caller and one service call. The job
//! list itself arrives over the live feed (`/api/jobs/events`), not through a server function;
//! the overview's counts ride on `get_overview`.

use leptos::prelude::*;

use super::model::JobAction;
use crate::error::AppError;

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
