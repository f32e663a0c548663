//! `CatalogService`: every catalog operation, each checking the caller's `Principal` itself —
//! who sees a service (its tenant's members, admins; anyone else hears "Service not found"),
//! who writes the catalog (admins), who runs actions (developers and admins) — shared by the
//! seed's REST routes and the pages. Callbacks from external executors prove
//! themselves with `X-Callback-Token`, compared in constant time.

use secrecy::{ExposeSecret, SecretString};

use super::error::{CatalogError, Result};
use super::kubernetes::KubernetesExecutor;
use super::model::{ActionKind, ActionRecord, ActionRequest, Service, ServiceInput, ServiceLink};
use super::store::{CatalogStore, NewAction, ServiceFields, ServiceRow};
use super::{CatalogSettings, KubernetesSettings};
use crate::audit::{Audit, AuditAction, AuditEvent};
use crate::error::FieldError;
use crate::identity::secrets::secrets_match;
use crate::identity::store::IdentityStore;
use crate::identity::{Permission, Principal};
use crate::pipelines::{CreatePipeline, GateConfig, PipelineService};
use crate::request::RequestMeta;

mod actions;
mod callbacks;
mod fields;

pub use callbacks::{Handed, callback_moves_from};
pub(crate) use fields::seed_slug;
pub use fields::slug_of;
use fields::validate;

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
    /// Shared: the service is cloned for every request that reaches it.
    settings: std::sync::Arc<CatalogSettings>,
    http: reqwest::Client,
    /// Approval gates for protected environments.
    pipelines: PipelineService,
    /// Where a cluster is configured (and `catalog.kubernetes.enabled`).
    kubernetes: Option<KubernetesExecutor>,
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
            settings: std::sync::Arc::new(settings),
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

    /// Each committed change's service id (`EVERYTHING` after a gap), for a live feed.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.store.changes()
    }

    fn view(&self, row: ServiceRow) -> Service {
        let dashboard = self
            .settings
            .dashboard_template()
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
        let slug = fields::seed_slug(named);
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
