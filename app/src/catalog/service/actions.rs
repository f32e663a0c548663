//! Actions on a service: provision, deprovision and deploy (a deploy to a protected
//! environment waits for its pipeline's approval), handed to an executor; their status and history.

use super::*;

impl CatalogService {
    /// Asks for an action (developers and admins of the service's tenant). A deploy goes to the
    /// environment named — one of the service's — or its first (`dev` when it has none), with
    /// the image asked for or the configured template's.
    #[tracing::instrument(name = "catalog.request_action", skip_all)]
    pub async fn request_action(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        id: i64,
        action: ActionKind,
        request: &ActionRequest,
    ) -> Result<ActionRecord> {
        let row = self.row(principal, id).await?;
        principal.authorize(Permission::Operate)?;
        let envs = row.environments();
        let environment = match (action, request.environment.as_deref().filter(|e| !e.is_empty())) {
            (_, Some(env)) if !envs.iter().any(|e| e == env) => {
                return Err(CatalogError::UnknownEnvironment(env.to_owned()));
            }
            (_, Some(env)) => Some(env.to_owned()),
            (ActionKind::Deploy, None) => Some(envs.first().cloned().unwrap_or_else(|| "dev".to_owned())),
            (_, None) => None,
        };
        let image = image_of(&self.settings.kubernetes, &row, action, request)?;
        let title = action.title();
        let protected = action == ActionKind::Deploy
            && environment
                .as_deref()
                .is_some_and(|e| self.settings.protected_environments.iter().any(|p| p == e));
        if protected {
            return self
                .request_approval(
                    principal,
                    meta,
                    &row,
                    environment.as_deref().unwrap_or_default(),
                    image.as_deref(),
                )
                .await;
        }
        let detail = self.executor_for(environment.as_deref()).queued_detail(title);
        let entry = Self::entry(
            principal,
            meta,
            AuditAction::CatalogActionRequested,
            &id.to_string(),
            &format!(
                "{}{}{}",
                action.as_str(),
                environment
                    .as_deref()
                    .map(|e| format!(" {e}"))
                    .unwrap_or_default(),
                image.as_deref().map(|i| format!(" {i}")).unwrap_or_default()
            ),
        );
        let record = self
            .store
            .start_action(
                &NewAction {
                    service_id: id,
                    action,
                    environment: environment.as_deref(),
                    detail: &detail,
                    requested_by: &principal.display_name(),
                    status: "queued",
                    pipeline_id: None,
                    image: image.as_deref(),
                },
                &self.audit,
                &entry,
            )
            .await?;
        self.dispatch(meta, &row, record).await
    }

    /// A deploy to a protected environment: a pipeline whose one stage, `deploy`, has a gate
    /// (someone other than the requester approves), opened at once; the action waits for it
    /// (`approvals.rs` settles it when the gate is decided).
    pub(super) async fn request_approval(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        row: &ServiceRow,
        environment: &str,
        image: Option<&str>,
    ) -> Result<ActionRecord> {
        let refused =
            |e: crate::pipelines::PipelineError| CatalogError::Approval(crate::error::AppError::from(e));
        let pipeline_id = self
            .pipelines
            .create(
                principal,
                CreatePipeline {
                    slug: format!("deploy-{}-{environment}", row.name),
                    intent: format!("Deploy {} to {environment}", row.name),
                    tenant_id: Some(row.tenant_id),
                    stages: Some(vec!["deploy".to_owned()]),
                    gates: [("deploy".to_owned(), GateConfig::default())]
                        .into_iter()
                        .collect(),
                    params: serde_json::json!({
                        "service": row.name, "service_id": row.id, "environment": environment, "image": image,
                    }),
                },
            )
            .await
            .map_err(refused)?;
        self.pipelines
            .claim(principal, &pipeline_id)
            .await
            .map_err(refused)?;
        let entry = Self::entry(
            principal,
            meta,
            AuditAction::CatalogActionRequested,
            &row.id.to_string(),
            &format!("deploy {environment} (awaiting approval in pipeline {pipeline_id})"),
        );
        Ok(self
            .store
            .start_action(
                &NewAction {
                    service_id: row.id,
                    action: ActionKind::Deploy,
                    environment: Some(environment),
                    detail: &format!(
                        "Waiting for approval: {environment} is protected (pipeline {pipeline_id})"
                    ),
                    requested_by: &principal.display_name(),
                    status: "awaiting_approval",
                    pipeline_id: Some(&pipeline_id),
                    image,
                },
                &self.audit,
                &entry,
            )
            .await?)
    }

    /// The newest provisioning action of a service (in `environment`, when given), or `None`.
    #[tracing::instrument(name = "catalog.provisioning", skip_all)]
    pub async fn provisioning(
        &self,
        principal: &Principal,
        id: i64,
        environment: Option<&str>,
    ) -> Result<(Service, Option<ActionRecord>)> {
        let service = self.get(principal, id).await?;
        let latest = self
            .store
            .latest_action(id, &[ActionKind::Provision, ActionKind::Deprovision], environment)
            .await?;
        Ok((service, latest))
    }

    /// The newest deployment of a service.
    #[tracing::instrument(name = "catalog.latest_deployment", skip_all)]
    pub async fn latest_deployment(&self, principal: &Principal, id: i64) -> Result<ActionRecord> {
        self.row(principal, id).await?;
        self.store
            .latest_action(id, &[ActionKind::Deploy], None)
            .await?
            .ok_or_else(|| CatalogError::NotFound("No deployment found for service".into()))
    }

    /// A service's actions, newest first.
    #[tracing::instrument(name = "catalog.history", skip_all)]
    pub async fn history(&self, principal: &Principal, id: i64) -> Result<Vec<ActionRecord>> {
        self.row(principal, id).await?;
        Ok(self.store.history(id, 200).await?)
    }

    /// The caller's own actions since `since`, on services they may still see, newest first.
    #[tracing::instrument(name = "catalog.actions_of_requester", skip_all)]
    pub async fn actions_of_requester(
        &self,
        principal: &Principal,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ActionRecord>> {
        principal.authorize(Permission::Read)?;
        if principal.actor_id().is_none() {
            return Ok(Vec::new());
        }
        let me = principal.display_name();
        let (actions, services) = tokio::join!(
            self.store.actions_by(&me, since, 200),
            self.store.list(),
        );
        let visible: Vec<i64> = services?
            .into_iter()
            .filter(|row| Self::visible(principal, row))
            .map(|row| row.id)
            .collect();
        Ok(actions?
            .into_iter()
            .filter(|a| visible.contains(&a.service_id))
            .collect())
    }
}
