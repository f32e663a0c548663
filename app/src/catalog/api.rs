//! The catalog pages' server functions. Each hands the caller's `Principal` to
//! `CatalogService`, which decides — the same operations the seed's REST routes call.

// `save_service` takes the form's fields one by one (an `ActionForm` posts them so); the
// `#[server]` macro's client half does not carry an item-level allow.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use super::model::{ActionRecord, CatalogList, ServicePage};
use crate::error::AppError;

/// The services the caller may see, filtered by a search (name, team, description, tags) and
/// by tenant, tier and runtime (empty: any).
#[server(prefix = "/_srv", endpoint = "list_services")]
pub async fn list_services(
    search: String,
    tenant: String,
    tier: String,
    runtime: String,
) -> Result<CatalogList, AppError> {
    use crate::catalog::CatalogFilter;
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Read).await?;
    let filter = CatalogFilter {
        search,
        tenant,
        tier,
        runtime,
    };
    Ok(service()?.page_list(&ctx.principal, &filter).await?)
}

/// A service, its environments' state and its history.
#[server(prefix = "/_srv", endpoint = "get_service_page")]
pub async fn get_service_page(id: i64) -> Result<ServicePage, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Read).await?;
    Ok(service()?.page(&ctx.principal, id).await?)
}

/// Splits a form's comma- or line-separated list.
#[cfg(feature = "ssr")]
fn items(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Registers (`id` none) or replaces a service (admins); its id. Lists come as text:
/// environments and tags separated by commas, links one per line as `title url`.
#[server(prefix = "/_srv", endpoint = "save_service")]
pub async fn save_service(
    id: Option<i64>,
    name: String,
    repo_url: String,
    owner_team: String,
    runtime: String,
    tier: String,
    environments: String,
    tenant: String,
    observability_enabled: Option<String>,
    description: String,
    links: String,
    tags: String,
) -> Result<i64, AppError> {
    use crate::catalog::{ServiceInput, ServiceLink};
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Read).await?;
    let links = links
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.rsplit_once(char::is_whitespace) {
            Some((title, url)) => Ok(ServiceLink {
                title: title.trim().to_owned(),
                url: url.to_owned(),
            }),
            None => Err(AppError::invalid(
                "links",
                format!("{line:?}: a title, a space, then the URL"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let input = ServiceInput {
        name: name.trim().to_owned(),
        repo_url: repo_url.trim().to_owned(),
        owner_team: owner_team.trim().to_owned(),
        runtime: runtime.trim().to_owned(),
        tier: tier.trim().to_owned(),
        environments: items(&environments),
        tenant,
        observability_enabled: observability_enabled.is_some(),
        description: description.trim().to_owned(),
        links,
        tags: items(&tags),
    };
    let catalog = &service()?;
    let saved = match id {
        Some(id) => catalog.update(&ctx.principal, &ctx.meta, id, &input).await?,
        None => catalog.create(&ctx.principal, &ctx.meta, &input).await?,
    };
    Ok(saved.id)
}

/// Removes a service and its history (admins).
#[server(prefix = "/_srv", endpoint = "delete_service")]
pub async fn delete_service(id: i64) -> Result<(), AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Read).await?;
    Ok(service()?.delete(&ctx.principal, &ctx.meta, id).await?)
}

/// Provision, deprovision or deploy (developers and admins); the action as it now stands.
#[server(prefix = "/_srv", endpoint = "run_service_action")]
pub async fn run_service_action(
    id: i64,
    action: String,
    environment: Option<String>,
    image: Option<String>,
    version: Option<String>,
) -> Result<ActionRecord, AppError> {
    use crate::catalog::{ActionKind, ActionRequest};
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Read).await?;
    let kind = ActionKind::parse(&action)
        .ok_or_else(|| AppError::invalid("action", "provision, deprovision or deploy"))?;
    let request = ActionRequest {
        environment,
        image,
        version,
    };
    Ok(service()?
        .request_action(&ctx.principal, &ctx.meta, id, kind, &request)
        .await?)
}

/// This domain's service, from the server's composition root.
#[cfg(feature = "ssr")]
fn service() -> Result<super::CatalogService, AppError> {
    crate::request::service()
}
