//! Who runs an action, chosen per environment: a webhook configured for that very environment
//! (`catalog.webhooks.<env>`) first; else the Kubernetes executor where a cluster is configured;
//! else the `default` webhook; else nobody here — the action waits for an executor's callback.
//! The hand-over reports back into the action (and its audit entry) as it goes.

use super::error::Result;
use super::kubernetes::{Applied, KubernetesExecutor, Rollout, Target};
use super::model::{ActionKind, ActionRecord};
use super::service::{CatalogService, Report, seed_slug};
use super::store::ServiceRow;
use crate::audit::{AuditAction, AuditEvent};
use crate::request::RequestMeta;

pub(super) enum Executor<'a> {
    Webhook(&'a str),
    Kubernetes(&'a KubernetesExecutor),
    /// Whatever runs it reports through the callbacks.
    Callback,
}

impl Executor<'_> {
    pub(super) fn queued_detail(&self, title: &str) -> String {
        match self {
            Self::Webhook(_) => format!("{title} queued"),
            Self::Kubernetes(_) => format!("{title} queued on Kubernetes"),
            Self::Callback => format!("{title} queued (no executor configured: a callback reports it)"),
        }
    }
}

impl CatalogService {
    pub(super) fn executor_for(&self, environment: Option<&str>) -> Executor<'_> {
        let settings = self.settings();
        if let Some(url) = environment.and_then(|e| settings.webhooks.get(e)) {
            return Executor::Webhook(url);
        }
        if let Some(kubernetes) = self.kubernetes() {
            return Executor::Kubernetes(kubernetes);
        }
        match settings.webhooks.get("default") {
            Some(url) => Executor::Webhook(url),
            None => Executor::Callback,
        }
    }

    /// Hands a recorded (`queued`) action to its executor; answers the action as it now stands.
    pub(super) async fn dispatch(
        &self,
        meta: &RequestMeta,
        row: &ServiceRow,
        record: ActionRecord,
    ) -> Result<ActionRecord> {
        let executor = self.executor_for(record.environment.as_deref());
        let name = match executor {
            Executor::Webhook(_) => "webhook",
            Executor::Kubernetes(_) => "kubernetes",
            Executor::Callback => "callback",
        };
        metrics::counter!("heimdall_catalog_actions_total", "action" => record.action.as_str(), "executor" => name)
            .increment(1);
        match executor {
            Executor::Webhook(url) => self.hand_to_webhook(meta, url, row, record).await,
            Executor::Kubernetes(kubernetes) => self.run_on_kubernetes(meta, kubernetes, row, record).await,
            Executor::Callback => Ok(record),
        }
    }

    async fn record_report(
        &self,
        meta: &RequestMeta,
        by: &str,
        record: ActionRecord,
        report: Report,
    ) -> Result<ActionRecord> {
        let entry = AuditEvent::success(AuditAction::CatalogActionReported)
            .by(None, by)
            .target(&record.id.to_string())
            .from(meta)
            .detail(&report.status);
        Ok(self
            .store()
            .report(
                record.id,
                super::service::callback_moves_from(&report.status),
                false,
                &report.status,
                &report.detail,
                report.execution_ref.as_deref(),
                self.audit(),
                &entry,
            )
            .await?
            .unwrap_or(record))
    }

    /// POSTs the recorded action to the webhook executor: taken (2xx) → `in_progress`, with the
    /// executor's `execution_id` (or `executionArn`) when it gives one; refused or unreachable →
    /// `failed`, saying why.
    async fn hand_to_webhook(
        &self,
        meta: &RequestMeta,
        url: &str,
        row: &ServiceRow,
        record: ActionRecord,
    ) -> Result<ActionRecord> {
        let title = record.action.title();
        let (callback, id_field) = if record.action == ActionKind::Deploy {
            ("/services/deployments/callback", "deployment_id")
        } else {
            ("/provisioning/callback", "action_id")
        };
        let body = serde_json::json!({
            id_field: record.id,
            "action_id": record.id,
            "action": record.action.as_str(),
            "environment": record.environment,
            "image": record.image,
            "service": {
                "id": row.id, "name": row.name, "tenant": row.tenant, "repo_url": row.repo_url,
                "owner_team": row.owner_team, "runtime": row.runtime, "tier": row.tier,
                "environments": row.environments(), "observability_enabled": row.observability_enabled,
            },
            // What the seed's provisioning state machine reads (`$.tenant.*`), by its naming.
            // The seed put a fresh database password here; a secret never travels in the body:
            // the executor creates it where `db_password_secret` says.
            "tenant": tenant_resources(&row.tenant),
            "callback_path": callback,
        });
        let report = match self.http().post(url).json(&body).send().await {
            Ok(response) if response.status().is_success() => {
                let answer: serde_json::Value = response.json().await.unwrap_or_default();
                let handle = ["execution_id", "executionArn", "execution_arn"]
                    .into_iter()
                    .find_map(|k| answer.get(k).and_then(|v| v.as_str()).map(str::to_owned));
                Report {
                    status: "in_progress".into(),
                    detail: format!("{title} started via webhook"),
                    execution_ref: handle,
                }
            }
            Ok(response) => Report {
                status: "failed".into(),
                detail: format!(
                    "{title} failed to start: the executor answered {}",
                    response.status()
                ),
                execution_ref: None,
            },
            Err(e) => Report {
                status: "failed".into(),
                detail: format!(
                    "{title} failed to start: the executor could not be reached ({})",
                    if e.is_timeout() {
                        "timed out"
                    } else {
                        "no connection"
                    }
                ),
                execution_ref: None,
            },
        };
        self.record_report(meta, "webhook executor", record, report).await
    }

    /// Provision and deprovision are applied at once (every environment of the service when the
    /// action names none); a deploy is applied, then its rollout followed in the background.
    async fn run_on_kubernetes(
        &self,
        meta: &RequestMeta,
        kubernetes: &KubernetesExecutor,
        row: &ServiceRow,
        record: ActionRecord,
    ) -> Result<ActionRecord> {
        let environments = match record.environment.clone() {
            Some(e) => vec![e],
            None => Some(row.environments())
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| vec!["dev".to_owned()]),
        };
        let target = |environment: &String| Target {
            tenant: row.tenant.clone(),
            service: row.name.clone(),
            environment: environment.clone(),
        };
        let title = record.action.title();
        let report = match record.action {
            ActionKind::Provision | ActionKind::Deprovision => {
                let mut done = Vec::new();
                let mut failure = None;
                for environment in &environments {
                    let result = if record.action == ActionKind::Provision {
                        kubernetes.provision(&target(environment)).await
                    } else {
                        kubernetes.deprovision(&target(environment)).await
                    };
                    match result {
                        Ok(detail) => done.push(detail),
                        Err(e) => {
                            failure = Some(format!("{title} of {environment} failed: {e}"));
                            break;
                        }
                    }
                }
                Report {
                    status: if failure.is_some() { "failed" } else { "succeeded" }.into(),
                    detail: failure.unwrap_or_else(|| done.join("; ")),
                    execution_ref: None,
                }
            }
            ActionKind::Deploy => {
                let image = record.image.clone().unwrap_or_default();
                match kubernetes.deploy(&target(&environments[0]), &image).await {
                    Ok(applied) => {
                        let report = Report {
                            status: "in_progress".into(),
                            detail: format!("Rolling out {image} in {}", applied.namespace),
                            execution_ref: Some(applied.reference()),
                        };
                        let record = self
                            .record_report(meta, "kubernetes executor", record, report)
                            .await?;
                        self.follow(kubernetes.clone(), record.id, applied);
                        return Ok(record);
                    }
                    Err(e) => Report {
                        status: "failed".into(),
                        detail: format!("{title} failed: {e}"),
                        execution_ref: None,
                    },
                }
            }
        };
        self.record_report(meta, "kubernetes executor", record, report)
            .await
    }

    /// Follows a rollout in the background and settles the action once (`in_progress` → …).
    fn follow(&self, kubernetes: KubernetesExecutor, action_id: i64, applied: Applied) {
        let service = self.clone();
        tokio::spawn(async move {
            let (status, detail) = match kubernetes.follow(&applied).await {
                Some(Rollout::Succeeded(how)) => {
                    ("succeeded", format!("Rolled out in {}: {how}", applied.namespace))
                }
                Some(Rollout::Failed(why)) => (
                    "failed",
                    format!("Rollout failed in {}: {why}", applied.namespace),
                ),
                Some(Rollout::Progressing) | None => (
                    "timed_out",
                    format!(
                        "The rollout in {} did not finish within {} s",
                        applied.namespace,
                        kubernetes.settings().rollout_timeout_secs
                    ),
                ),
            };
            match service
                .store()
                .settle(action_id, "in_progress", status, &detail)
                .await
            {
                Ok(true) => {
                    service
                        .audit()
                        .record(
                            AuditEvent::success(AuditAction::CatalogActionReported)
                                .by(None, "kubernetes executor")
                                .target(&action_id.to_string())
                                .detail(status),
                        )
                        .await;
                }
                Ok(false) => {} // Settled elsewhere (another replica, a callback).
                Err(e) => {
                    tracing::warn!(action = action_id, error = %e, "a rollout's outcome was not recorded");
                }
            }
        });
    }

    /// At start: deploys applied before a restart are followed on.
    pub(super) async fn follow_on(&self) {
        let Some(kubernetes) = self.kubernetes().cloned() else {
            return;
        };
        match self.store().following().await {
            Ok(actions) => {
                for action in actions {
                    if let Some(applied) = action.execution_ref.as_deref().and_then(Applied::parse) {
                        self.follow(kubernetes.clone(), action.id, applied);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the rollouts under way"),
        }
    }
}

/// A tenant's resources as the IDP seed named them (`tenant-<slug>` namespace, `tenant_<slug>`
/// schema, `idp-tenant-<slug>` bucket), for executors written against its state machines.
fn tenant_resources(tenant: &str) -> serde_json::Value {
    let slug = seed_slug(tenant);
    serde_json::json!({
        "name": tenant,
        "namespace": format!("tenant-{slug}"),
        "rds_schema": format!("tenant_{}", slug.replace('-', "_")),
        "s3_bucket": format!("idp-tenant-{slug}"),
        "db_password_secret": { "namespace": format!("tenant-{slug}"), "name": format!("tenant-{slug}-db"), "key": "password" },
    })
}
