//! `CatalogService`: every catalog operation, each checking the caller's `Principal` itself —
//! who sees a service (its tenant's members, admins; anyone else hears "Service not found"),
//! who writes the catalog (admins), who runs actions (developers and admins) — shared by the
//! seed's REST routes and the pages. Callbacks from external executors prove
//! themselves with `X-Callback-Token`, compared in constant time.

use secrecy::{ExposeSecret, SecretString};

use super::error::{CatalogError, Result};
use super::executors::title;
use super::kubernetes::{KubernetesExecutor, KubernetesSettings};
use super::model::{ActionKind, ActionRecord, ActionRequest, Service, ServiceInput, ServiceLink};
use super::store::{CatalogStore, NewAction, ServiceFields, ServiceRow};
use crate::audit::{Audit, AuditAction, AuditEvent};
use crate::error::FieldError;
use crate::identity::secrets::secrets_match;
use crate::identity::store::IdentityStore;
use crate::identity::{Permission, Principal};
use crate::pipelines::{CreatePipeline, GateConfig, PipelineService};
use crate::request::RequestMeta;

/// From the configuration (`catalog.*`).
#[derive(Debug, Clone, Default)]
pub struct CatalogSettings {
    /// `{name}`, `{tenant}` and `{id}` are filled in: the Grafana link of a service with
    /// observability on.
    pub dashboard_url_template: Option<String>,
    /// The seed's `PROVISIONING_CALLBACK_TOKEN` / `DEPLOYMENT_CALLBACK_TOKEN`; without one, its
    /// callback refuses everyone.
    pub provisioning_callback_token: Option<SecretString>,
    pub deployment_callback_token: Option<SecretString>,
    /// The webhook executor (the seed's Step Functions shape): environment → URL the action is
    /// POSTed to, `default` for the rest; its status then arrives through the callbacks. An
    /// environment with none: the action waits for a callback from whatever runs it.
    pub webhooks: std::collections::BTreeMap<String, String>,
    /// Environments a deploy to which waits for a pipeline's approval gate.
    pub protected_environments: Vec<String>,
    /// The Kubernetes executor's names, quota and image template (used where a cluster is
    /// configured; the image template also names a deploy's image when nobody runs it here).
    pub kubernetes: KubernetesSettings,
}

impl CatalogSettings {
    /// The webhook that runs actions in `environment` (or environment-less ones).
    pub fn webhook_for(&self, environment: Option<&str>) -> Option<&str> {
        environment
            .and_then(|e| self.webhooks.get(e))
            .or_else(|| self.webhooks.get("default"))
            .map(String::as_str)
    }
}

/// What an external executor reports (the seed's two callback bodies, in one).
#[derive(Debug, Clone)]
pub struct Report {
    pub status: String,
    pub detail: String,
    pub execution_ref: Option<String>,
}

/// The statuses an action can be in.
pub const ACTION_STATUSES: [&str; 4] = ["queued", "in_progress", "succeeded", "failed"];

const NOT_FOUND: &str = "Service not found";

#[derive(Clone)]
pub struct CatalogService {
    store: CatalogStore,
    tenants: IdentityStore,
    audit: Audit,
    settings: CatalogSettings,
    http: reqwest::Client,
    /// Approval gates for protected environments.
    pipelines: PipelineService,
    /// Where a cluster is configured (and `catalog.kubernetes.enabled`).
    kubernetes: Option<KubernetesExecutor>,
}

/// A DNS label (Kubernetes names are built from it): lowercase letters, digits and `-`, not at
/// either end, at most `max` characters.
fn is_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_web_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Checks every field of `input`; the first fault, by field.
/// A service's slug: the name itself when it is a DNS label, else the seed's `slugify` of it,
/// at most 63 characters.
pub fn slug_of(name: &str) -> String {
    if is_label(name, 63) {
        return name.to_owned();
    }
    let slug = super::executors::seed_slug(name);
    let cut: String = slug.chars().take(63).collect();
    cut.trim_end_matches('-').to_owned()
}

fn validate(input: &ServiceInput) -> Result<(), FieldError> {
    let short = |field: &'static str, value: &str, max: usize| {
        if value.trim().is_empty() || value.len() > max {
            Err(FieldError::new(field, format!("1 to {max} characters")))
        } else {
            Ok(())
        }
    };
    // Any name a person writes ("Payments API"): its slug names Kubernetes objects.
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        return Err(FieldError::new("name", "1 to 100 characters"));
    }
    if input.name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "no control characters"));
    }
    if !input.name.chars().any(|c| c.is_ascii_alphanumeric()) || !is_label(&slug_of(&input.name), 63) {
        return Err(FieldError::new(
            "name",
            "needs a letter or digit: its slug (lowercase letters, digits and '-') names Kubernetes objects",
        ));
    }
    if !is_web_url(&input.repo_url) {
        return Err(FieldError::new("repo_url", "an http(s) URL"));
    }
    short("owner_team", &input.owner_team, 100)?;
    if !is_label(&input.runtime, 32) {
        return Err(FieldError::new(
            "runtime",
            "a short lowercase word, e.g. go or python",
        ));
    }
    short("tier", &input.tier, 32)?;
    if input.environments.len() > 10 {
        return Err(FieldError::new("environments", "at most 10"));
    }
    for (i, env) in input.environments.iter().enumerate() {
        if !is_label(env, 20) {
            return Err(FieldError::new(
                "environments",
                format!("{env:?}: lowercase letters, digits and '-', at most 20"),
            ));
        }
        if input.environments[..i].contains(env) {
            return Err(FieldError::new("environments", format!("{env:?} twice")));
        }
    }
    short("tenant", &input.tenant, 100)?;
    if input.description.len() > 2000 {
        return Err(FieldError::new("description", "at most 2,000 characters"));
    }
    if input.links.len() > 20 {
        return Err(FieldError::new("links", "at most 20"));
    }
    for ServiceLink { title, url } in &input.links {
        if title.trim().is_empty() || title.len() > 100 || !is_web_url(url) {
            return Err(FieldError::new(
                "links",
                format!("{title:?}: a title and an http(s) URL"),
            ));
        }
    }
    if input.tags.len() > 20 || input.tags.iter().any(|t| t.trim().is_empty() || t.len() > 32) {
        return Err(FieldError::new("tags", "at most 20, each 1 to 32 characters"));
    }
    Ok(())
}

/// A deploy's image: `image` (with `version` as its tag when it has none), else the template's;
/// checked so that what reaches a Deployment is an image reference. Other actions take none.
fn image_of(
    settings: &KubernetesSettings,
    row: &ServiceRow,
    action: ActionKind,
    request: &ActionRequest,
) -> Result<Option<String>> {
    let image = request.image.as_deref().map(str::trim).filter(|i| !i.is_empty());
    let version = request
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if action != ActionKind::Deploy {
        return match (image, version) {
            (None, None) => Ok(None),
            (Some(_), _) => Err(FieldError::new("image", "only a deploy takes an image").into()),
            (None, Some(_)) => Err(FieldError::new("version", "only a deploy takes a version").into()),
        };
    }
    if let Some(image) = image {
        let ok = image.len() <= 255
            && image
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"./:@_-".contains(&b));
        if !ok {
            return Err(FieldError::new(
                "image",
                "an image reference: letters, digits and . / : @ _ -, at most 255",
            )
            .into());
        }
    }
    if let Some(version) = version {
        let ok = version.len() <= 128
            && version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !ok {
            return Err(FieldError::new("version", "a tag: letters, digits and . _ -, at most 128").into());
        }
    }
    Ok(Some(settings.image(&row.tenant, &row.name, image, version)))
}

impl CatalogService {
    pub fn new(
        store: CatalogStore,
        tenants: IdentityStore,
        audit: Audit,
        settings: CatalogSettings,
        pipelines: PipelineService,
        kubernetes: Option<kube::Client>,
    ) -> Self {
        let kubernetes =
            kubernetes.map(|client| KubernetesExecutor::new(client, settings.kubernetes.clone()));
        Self {
            store,
            tenants,
            audit,
            settings,
            // An executor that does not answer in 10 s has not taken the action. A redirect is
            // not an answer: following one would let the executor's address send Heimdall's
            // request (and its body) somewhere internal.
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_else(|_| reqwest::Client::new()),
            pipelines,
            kubernetes,
        }
    }

    pub(super) fn kubernetes(&self) -> Option<&KubernetesExecutor> {
        self.kubernetes.as_ref()
    }

    pub(super) fn tenants(&self) -> &IdentityStore {
        &self.tenants
    }

    /// Completes at graceful shutdown (the pipelines' bus closes): live streams end then.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        self.pipelines.store().bus().closed()
    }

    pub(super) fn audit(&self) -> &Audit {
        &self.audit
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(super) fn pipelines(&self) -> &PipelineService {
        &self.pipelines
    }

    pub(super) fn settings(&self) -> &CatalogSettings {
        &self.settings
    }

    pub fn store(&self) -> &CatalogStore {
        &self.store
    }

    fn view(&self, row: ServiceRow) -> Service {
        let dashboard = self
            .settings
            .dashboard_url_template
            .as_ref()
            .filter(|_| row.observability_enabled)
            .map(|t| {
                t.replace("{name}", &row.name)
                    .replace("{tenant}", &row.tenant)
                    .replace("{id}", &row.id.to_string())
            });
        Service {
            environments: row.environments(),
            links: row.links(),
            tags: row.tags(),
            id: row.id,
            name: if row.display_name.is_empty() {
                row.name.clone()
            } else {
                row.display_name
            },
            slug: row.name,
            repo_url: row.repo_url,
            owner_team: row.owner_team,
            runtime: row.runtime,
            tier: row.tier,
            tenant: row.tenant,
            observability_enabled: row.observability_enabled,
            provision_status: row.provision_status,
            provision_detail: row.provision_detail,
            observability_dashboard_url: dashboard,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn visible(principal: &Principal, row: &ServiceRow) -> bool {
        principal.authorize(Permission::Tenant(row.tenant_id)).is_ok()
    }

    /// The service row, if the caller may see it.
    async fn row(&self, principal: &Principal, id: i64) -> Result<ServiceRow> {
        principal.authorize(Permission::Read)?;
        match self.store.get(id).await? {
            Some(row) if Self::visible(principal, &row) => Ok(row),
            _ => Err(CatalogError::NotFound(NOT_FOUND.into())),
        }
    }

    /// The services the caller may see, by id.
    #[tracing::instrument(name = "catalog.list", skip_all)]
    pub async fn list(&self, principal: &Principal) -> Result<Vec<Service>> {
        principal.authorize(Permission::Read)?;
        Ok(self
            .store
            .list()
            .await?
            .into_iter()
            .filter(|row| Self::visible(principal, row))
            .map(|row| self.view(row))
            .collect())
    }

    #[tracing::instrument(name = "catalog.get", skip_all)]
    pub async fn get(&self, principal: &Principal, id: i64) -> Result<Service> {
        Ok(self.view(self.row(principal, id).await?))
    }

    /// The tenant a service input names: by its slug, or by the slug of the name the seed's
    /// form sends ("Payments Team" → `payments-team`). An admin naming one that does not exist
    /// creates it, as the seed did (audited: `tenant.created`); anyone else needs an existing
    /// tenant of theirs.
    async fn fields_tenant(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        input: &ServiceInput,
    ) -> Result<i64> {
        let named = input.tenant.trim();
        let slug = super::executors::seed_slug(named);
        for candidate in [named, slug.as_str()] {
            if let Ok(tenant) = self.tenants.find_tenant_by_slug(candidate).await {
                return Ok(tenant.id);
            }
        }
        if principal.authorize(Permission::Administer).is_err() {
            return Err(FieldError::new("tenant", format!("no tenant {:?}", input.tenant)).into());
        }
        let created = match self.tenants.insert_tenant(&slug, named).await {
            Ok(created) => created,
            // Created meanwhile by someone else: that one.
            Err(_) => self
                .tenants
                .find_tenant_by_slug(&slug)
                .await
                .map_err(|_| FieldError::new("tenant", format!("no tenant {:?}", input.tenant)))?,
        };
        self.audit
            .record(
                AuditEvent::success(AuditAction::TenantCreated)
                    .by(principal.actor_id(), &principal.display_name())
                    .target(&created.slug)
                    .from(meta)
                    .detail(&format!("for the service {:?}", input.name)),
            )
            .await;
        Ok(created.id)
    }

    fn entry(
        principal: &Principal,
        meta: &RequestMeta,
        action: AuditAction,
        target: &str,
        detail: &str,
    ) -> AuditEvent {
        AuditEvent::success(action)
            .by(principal.actor_id(), &principal.display_name())
            .target(target)
            .from(meta)
            .detail(detail)
    }

    /// Registers a service (admins). A name is unique within its tenant.
    #[tracing::instrument(name = "catalog.create", skip_all)]
    pub async fn create(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        input: &ServiceInput,
    ) -> Result<Service> {
        principal.authorize(Permission::Administer)?;
        validate(input)?;
        let tenant_id = self.fields_tenant(principal, meta, input).await?;
        let entry = Self::entry(
            principal,
            meta,
            AuditAction::CatalogServiceCreated,
            "",
            &input.name,
        );
        let slug = slug_of(input.name.trim());
        let id = self
            .store
            .create(&Self::fields(input, tenant_id, &slug), &self.audit, entry)
            .await?;
        self.get(principal, id).await
    }

    fn fields<'a>(input: &'a ServiceInput, tenant_id: i64, slug: &'a str) -> ServiceFields<'a> {
        ServiceFields {
            tenant_id,
            name: slug,
            display_name: if input.name.trim() == slug {
                ""
            } else {
                input.name.trim()
            },
            repo_url: &input.repo_url,
            owner_team: input.owner_team.trim(),
            runtime: &input.runtime,
            tier: input.tier.trim(),
            environments: &input.environments,
            observability_enabled: input.observability_enabled,
            description: &input.description,
            links: &input.links,
            tags: &input.tags,
        }
    }

    /// Replaces a service's fields (admins).
    #[tracing::instrument(name = "catalog.update", skip_all)]
    pub async fn update(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        id: i64,
        input: &ServiceInput,
    ) -> Result<Service> {
        // Whether it exists for the caller first: another tenant's service is "not found" on
        // every route, whatever the caller's role.
        self.row(principal, id).await?;
        principal.authorize(Permission::Administer)?;
        validate(input)?;
        let tenant_id = self.fields_tenant(principal, meta, input).await?;
        let slug = slug_of(input.name.trim());
        let entry = Self::entry(
            principal,
            meta,
            AuditAction::CatalogServiceUpdated,
            &id.to_string(),
            &input.name,
        );
        if !self
            .store
            .update(id, &Self::fields(input, tenant_id, &slug), &self.audit, &entry)
            .await?
        {
            return Err(CatalogError::NotFound(NOT_FOUND.into()));
        }
        self.get(principal, id).await
    }

    /// Removes a service and its history (admins).
    #[tracing::instrument(name = "catalog.delete", skip_all)]
    pub async fn delete(&self, principal: &Principal, meta: &RequestMeta, id: i64) -> Result<()> {
        let row = self.row(principal, id).await?;
        principal.authorize(Permission::Administer)?;
        let entry = Self::entry(
            principal,
            meta,
            AuditAction::CatalogServiceDeleted,
            &id.to_string(),
            &row.name,
        );
        if self.store.delete(id, &self.audit, &entry).await? {
            Ok(())
        } else {
            Err(CatalogError::NotFound(NOT_FOUND.into()))
        }
    }

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
        let title = title(action);
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
    async fn request_approval(
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

    fn check_token(expected: Option<&SecretString>, given: Option<&str>) -> Result<()> {
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

    fn check_status(report: &Report) -> Result<()> {
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
    async fn report(&self, meta: &RequestMeta, action_id: i64, report: &Report) -> Result<ActionRecord> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ServiceInput {
        ServiceInput {
            name: "payments".into(),
            repo_url: "https://git.example.com/payments".into(),
            owner_team: "Payments".into(),
            runtime: "go".into(),
            tier: "tier-1".into(),
            environments: vec!["dev".into(), "prod".into()],
            tenant: "alpha".into(),
            ..ServiceInput::default()
        }
    }

    #[test]
    fn each_field_is_checked_and_named() {
        assert_eq!(validate(&input()), Ok(()));
        type Change = fn(&mut ServiceInput);
        let cases: [(&str, Change); 9] = [
            ("name", |i| i.name = "!!!".into()),
            ("name", |i| i.name = "x".repeat(101)),
            ("repo_url", |i| i.repo_url = "git@example.com:x".into()),
            ("owner_team", |i| i.owner_team = " ".into()),
            ("runtime", |i| i.runtime = String::new()),
            ("environments", |i| {
                i.environments = vec!["dev".into(), "dev".into()];
            }),
            ("environments", |i| i.environments = vec!["Prod".into()]),
            ("links", |i| {
                i.links = vec![ServiceLink {
                    title: "docs".into(),
                    url: "javascript:alert(1)".into(),
                }];
            }),
            ("tags", |i| i.tags = vec![String::new()]),
        ];
        for (field, change) in cases {
            let mut bad = input();
            change(&mut bad);
            assert_eq!(validate(&bad).map_err(|e| e.field), Err(field), "{bad:?}");
        }
    }

    #[test]
    fn a_name_a_person_writes_gets_a_kubernetes_slug() {
        assert_eq!(slug_of("payments"), "payments", "a label is its own slug");
        assert_eq!(slug_of("Payments API"), "payments-api");
        assert_eq!(slug_of("-payments"), "payments");
        let long = format!("{}-tail", "a".repeat(62));
        let slug = slug_of(&long);
        assert!(slug.len() <= 63 && !slug.ends_with('-'), "{slug}");
    }

    #[test]
    fn callback_tokens_must_match_and_exist() {
        let token = SecretString::from("s3cret".to_owned());
        assert!(CatalogService::check_token(Some(&token), Some("s3cret")).is_ok());
        assert!(CatalogService::check_token(Some(&token), Some("s3cre")).is_err());
        assert!(CatalogService::check_token(Some(&token), None).is_err());
        assert!(
            CatalogService::check_token(None, Some("")).is_err(),
            "no token configured: nobody"
        );
    }
}
