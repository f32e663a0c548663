//! The IDP-portal seed's JSON shapes, as its page and its Step Functions executors read and
//! send them: the action, deploy and status answers, and the two callbacks' bodies.

use serde::{Deserialize, Serialize};

use super::service::Report;
use super::ActionRecord;

/// The seed's `ActionResponse` (provision, deprovision).
#[derive(Debug, Serialize)]
pub struct ActionResponse {
    pub service_id: i64,
    pub action: &'static str,
    pub status: String,
    pub detail: String,
    pub environment: Option<String>,
    pub action_id: i64,
}

impl From<&ActionRecord> for ActionResponse {
    fn from(a: &ActionRecord) -> Self {
        Self {
            service_id: a.service_id,
            action: a.action.as_str(),
            status: a.status.clone(),
            detail: a.detail.clone(),
            environment: a.environment.clone(),
            action_id: a.id,
        }
    }
}

/// The seed's `DeployResponse` / `DeployStatusResponse` (`execution_arn` is the executor's
/// handle), with Heimdall's `pipeline_id` and `image` after.
#[derive(Debug, Serialize)]
pub struct DeployResponse {
    pub deployment_id: i64,
    pub service_id: i64,
    pub environment: String,
    pub action: &'static str,
    pub status: String,
    pub detail: String,
    pub execution_arn: Option<String>,
    pub pipeline_id: Option<String>,
    pub image: Option<String>,
}

impl From<&ActionRecord> for DeployResponse {
    fn from(a: &ActionRecord) -> Self {
        Self {
            deployment_id: a.id,
            service_id: a.service_id,
            environment: a.environment.clone().unwrap_or_default(),
            action: "deploy",
            status: a.status.clone(),
            detail: a.detail.clone(),
            execution_arn: a.execution_ref.clone(),
            pipeline_id: a.pipeline_id.clone(),
            image: a.image.clone(),
        }
    }
}

/// The seed's `StatusResponse`.
#[derive(Debug, Serialize)]
pub struct StatusResponse {
    pub service_id: i64,
    pub environment: Option<String>,
    pub status: String,
    pub detail: String,
}

/// What both callbacks report (the seed's `status`, `detail`, `execution_arn`).
#[derive(Deserialize)]
pub struct ReportIn {
    pub status: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub execution_arn: Option<String>,
}

impl From<ReportIn> for Report {
    fn from(r: ReportIn) -> Self {
        Self {
            status: r.status,
            detail: r.detail,
            execution_ref: r.execution_arn,
        }
    }
}

/// The seed's `ProvisionCallback` (`action` added later in the seed; provision by default).
#[derive(Deserialize)]
pub struct ProvisionCallbackIn {
    pub service_id: i64,
    pub tenant: String,
    #[serde(default)]
    pub action: Option<String>,
    /// Heimdall's webhook body names the action; the seed's callback does not.
    #[serde(default)]
    pub action_id: Option<i64>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(flatten)]
    pub report: ReportIn,
}

/// The seed's `DeployCallback`.
#[derive(Deserialize)]
pub struct DeployCallbackIn {
    pub deployment_id: i64,
    #[serde(flatten)]
    pub report: ReportIn,
}
