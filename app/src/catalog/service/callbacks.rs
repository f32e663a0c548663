//! Executors' callbacks: the token first (compared in constant time), then the report — only
//! on an action an external executor holds, never backwards; the seed's shape without an action id
//! settles the action the executor was handed.

use super::*;

impl CatalogService {
    pub(super) fn check_token(expected: Option<&SecretString>, given: Option<&str>) -> Result<()> {
        match (expected, given) {
            (Some(expected), Some(given)) if secrets_match(expected.expose_secret(), given) => Ok(()),
            _ => Err(CatalogError::BadCallbackToken),
        }
    }

    /// Whether `token` is the provisioning executor's (before anything about the body is told).
    pub fn check_provisioning_token(&self, token: Option<&str>) -> Result<()> {
        Self::check_token(self.settings.provisioning_callback_token.as_ref(), token)
    }

    /// Whether `token` is the deployment executor's.
    pub fn check_deployment_token(&self, token: Option<&str>) -> Result<()> {
        Self::check_token(self.settings.deployment_callback_token.as_ref(), token)
    }

    pub(super) fn check_status(report: &Report) -> Result<()> {
        if ACTION_STATUSES.contains(&report.status.as_str()) {
            Ok(())
        } else {
            Err(FieldError::new("status", format!("one of {}", ACTION_STATUSES.join(", "))).into())
        }
    }

    /// The provisioning executor's report (`POST /provisioning/callback`): the newest `action`
    /// (provision or deprovision) of the service, whose tenant must be `tenant`.
    #[tracing::instrument(name = "catalog.provisioning_callback", skip_all)]
    pub async fn provisioning_callback(
        &self,
        meta: &RequestMeta,
        token: Option<&str>,
        handed: Handed<'_>,
        report: &Report,
    ) -> Result<ActionRecord> {
        let Handed {
            service_id,
            tenant,
            action,
            ..
        } = handed;
        Self::check_token(self.settings.provisioning_callback_token.as_ref(), token)?;
        Self::check_status(report)?;
        if action == ActionKind::Deploy {
            return Err(FieldError::new("action", "provision or deprovision").into());
        }
        let row = self
            .store
            .get(service_id)
            .await?
            .ok_or_else(|| CatalogError::NotFound(NOT_FOUND.into()))?;
        if row.tenant != tenant {
            return Err(CatalogError::NotFound("Tenant not found".into()));
        }
        let history = self.store.history(service_id, 500).await?;
        let of_kind = || history.iter().filter(|a| a.action == action);
        // Named by Heimdall's webhook body (`action_id`): that one, if it is this service's.
        if let Some(id) = handed.action_id {
            let named = of_kind().find(|a| a.id == id).ok_or_else(|| {
                CatalogError::NotFound(format!("no {} #{id} on this service", action.as_str()))
            })?;
            return self.report(meta, named.id, report).await;
        }
        // The seed's shape names none: the one an external executor holds (of the environment,
        // when the body names one). Several: which one is not guessed.
        let held: Vec<&ActionRecord> = of_kind()
            .filter(|a| matches!(a.status.as_str(), "queued" | "in_progress"))
            .filter(|a| {
                !a.execution_ref
                    .as_deref()
                    .is_some_and(|r| r.starts_with("kubernetes:"))
            })
            .filter(|a| {
                handed
                    .environment
                    .is_none_or(|e| a.environment.as_deref() == Some(e))
            })
            .collect();
        let settled = match held.as_slice() {
            [one] => one.id,
            [] => {
                of_kind()
                    .next()
                    .ok_or_else(|| CatalogError::NotFound(format!("no {} was asked for", action.as_str())))?
                    .id
            }
            several => {
                let names: Vec<String> = several
                    .iter()
                    .map(|a| {
                        format!(
                            "#{} ({})",
                            a.id,
                            a.environment.as_deref().unwrap_or("no environment")
                        )
                    })
                    .collect();
                return Err(CatalogError::Conflict(format!(
                    "{} {} actions are in progress: {}; name one with action_id or environment",
                    several.len(),
                    action.as_str(),
                    names.join(", ")
                )));
            }
        };
        self.report(meta, settled, report).await
    }

    /// The deployment executor's report (`POST /services/deployments/callback`).
    #[tracing::instrument(name = "catalog.deployment_callback", skip_all)]
    pub async fn deployment_callback(
        &self,
        meta: &RequestMeta,
        token: Option<&str>,
        deployment_id: i64,
        report: &Report,
    ) -> Result<ActionRecord> {
        Self::check_token(self.settings.deployment_callback_token.as_ref(), token)?;
        Self::check_status(report)?;
        match self.store.action(deployment_id).await? {
            Some(a) if a.action == ActionKind::Deploy => self.report(meta, a.id, report).await,
            _ => Err(CatalogError::NotFound("Deployment not found".into())),
        }
    }

    /// Applies a report when the action may move that way (`callback_may_move`): an action the
    /// external executor holds, never backwards. Anything else is a 409 that changes nothing,
    /// with an audit entry saying what was refused.
    pub(super) async fn report(
        &self,
        meta: &RequestMeta,
        action_id: i64,
        report: &Report,
    ) -> Result<ActionRecord> {
        let entry = AuditEvent::success(AuditAction::CatalogActionReported)
            .by(None, "executor callback")
            .target(&action_id.to_string())
            .from(meta)
            .detail(&report.status);
        let from = callback_moves_from(&report.status);
        if let Some(record) = self
            .store
            .report(
                action_id,
                from,
                true,
                &report.status,
                &report.detail,
                report.execution_ref.as_deref(),
                &self.audit,
                &entry,
            )
            .await?
        {
            return Ok(record);
        }
        let current = self
            .store
            .action(action_id)
            .await?
            .ok_or_else(|| CatalogError::NotFound("no such action".into()))?;
        let why = if current
            .execution_ref
            .as_deref()
            .is_some_and(|r| r.starts_with("kubernetes:"))
        {
            format!(
                "this action is carried out by Heimdall's Kubernetes executor, which reports it itself (it is {})",
                current.status
            )
        } else if current.status == "awaiting_approval" {
            "this action waits for approval: no executor holds it yet".to_owned()
        } else {
            format!(
                "this action is {}: a callback cannot move it to {}",
                current.status, report.status
            )
        };
        self.audit
            .record(
                AuditEvent::denied(AuditAction::CatalogActionReported)
                    .by(None, "executor callback")
                    .target(&action_id.to_string())
                    .from(meta)
                    .detail(&format!("{} refused: {why}", report.status)),
            )
            .await;
        tracing::info!(action = action_id, status = %report.status, %why, "callback refused");
        Err(CatalogError::Conflict(why))
    }
}

/// The statuses an executor's callback may move an action out of to reach `to`: only those an
/// executor holds (`queued`, `in_progress` — never `awaiting_approval`, which no executor has
/// been handed yet, nor an ended action), and never backwards.
/// What a provisioning callback reports on: the seed's `service_id`, `tenant` and `action`, and
/// which action exactly when the body says (Heimdall's webhook body carries `action_id`; the
/// seed's carries neither).
#[derive(Debug, Clone, Copy)]
pub struct Handed<'a> {
    pub service_id: i64,
    pub tenant: &'a str,
    pub action: ActionKind,
    pub action_id: Option<i64>,
    pub environment: Option<&'a str>,
}

pub fn callback_moves_from(to: &str) -> &'static [&'static str] {
    match to {
        "queued" => &["queued"],
        "in_progress" | "succeeded" | "failed" | "timed_out" => &["queued", "in_progress"],
        _ => &[],
    }
}
