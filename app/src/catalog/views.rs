//! What the catalog pages show, built from `CatalogService`'s checked reads: the filtered list
//! and a service's page (its environments' state from the history).

use super::error::Result;
use super::model::{ActionKind, CatalogList, EnvironmentState, ServicePage};
use super::service::CatalogService;
use crate::identity::{Permission, Principal};

/// The list page's filters; empty means any.
#[derive(Debug, Clone, Default)]
pub struct CatalogFilter {
    /// Matched, case-insensitively, against name, team, description and tags.
    pub search: String,
    pub tenant: String,
    pub tier: String,
    pub runtime: String,
}

fn sorted_unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut values: Vec<String> = values.collect();
    values.sort();
    values.dedup();
    values
}

impl CatalogService {
    /// Admins write, so they choose among every tenant; nobody else sees the form.
    async fn form_tenants(&self, principal: &Principal) -> Result<Vec<String>> {
        if principal.authorize(Permission::Administer).is_err() {
            return Ok(Vec::new());
        }
        Ok(self
            .tenants()
            .list_tenants()
            .await?
            .into_iter()
            .map(|t| t.slug)
            .collect())
    }

    pub async fn page_list(&self, principal: &Principal, filter: &CatalogFilter) -> Result<CatalogList> {
        let all = self.list(principal).await?;
        let total = all.len();
        let tenants = sorted_unique(all.iter().map(|s| s.tenant.clone()));
        let tiers = sorted_unique(all.iter().map(|s| s.tier.clone()));
        let runtimes = sorted_unique(all.iter().map(|s| s.runtime.clone()));
        let needle = filter.search.trim().to_lowercase();
        let services = all
            .into_iter()
            .filter(|s| filter.tenant.is_empty() || s.tenant == filter.tenant)
            .filter(|s| filter.tier.is_empty() || s.tier == filter.tier)
            .filter(|s| filter.runtime.is_empty() || s.runtime == filter.runtime)
            .filter(|s| {
                needle.is_empty()
                    || [&s.name, &s.owner_team, &s.description]
                        .into_iter()
                        .chain(&s.tags)
                        .any(|field| field.to_lowercase().contains(&needle))
            })
            .collect();
        Ok(CatalogList {
            services,
            total,
            tenants,
            tiers,
            runtimes,
            can_write: principal.authorize(Permission::Administer).is_ok(),
            form_tenants: self.form_tenants(principal).await?,
        })
    }

    /// A service, each environment's newest provisioning and deploy (a provisioning that named
    /// no environment counts for all), and its history.
    pub async fn page(&self, principal: &Principal, id: i64) -> Result<ServicePage> {
        let service = self.get(principal, id).await?;
        let history = self.history(principal, id).await?;
        let names = if service.environments.is_empty() {
            vec!["dev".to_owned()]
        } else {
            service.environments.clone()
        };
        let environments = names
            .into_iter()
            .map(|name| {
                let here =
                    |a: &&super::model::ActionRecord| a.environment.as_deref().is_none_or(|e| e == name);
                let provision = history
                    .iter()
                    .filter(here)
                    .find(|a| a.action != ActionKind::Deploy)
                    .cloned();
                let deploy = history
                    .iter()
                    .find(|a| {
                        a.action == ActionKind::Deploy && a.environment.as_deref() == Some(name.as_str())
                    })
                    .cloned();
                EnvironmentState {
                    protected: self.settings().protected_environments.contains(&name),
                    name,
                    provision,
                    deploy,
                }
            })
            .collect();
        Ok(ServicePage {
            service,
            environments,
            history,
            can_write: principal.authorize(Permission::Administer).is_ok(),
            can_act: principal.authorize(Permission::Operate).is_ok(),
            form_tenants: self.form_tenants(principal).await?,
        })
    }
}
