//! Server functions of the admin pages. Each starts with the admin check (audited when
//! refused) and calls the `AdminService` operation the REST routes share.

use leptos::prelude::*;

use super::model::{NewUserForm, UserSummary, UserWithPassword};
use crate::audit::{AuditEntry, AuditFilter};
use crate::error::AppError;
use crate::identity::{Role, TenantInfo};

#[cfg(feature = "ssr")]
async fn admin_context() -> Result<crate::identity::RequestContext, AppError> {
    crate::identity::RequestContext::require(crate::identity::Permission::Administer).await
}

#[server(prefix = "/_srv", endpoint = "list_users")]
pub async fn list_users(query: String) -> Result<Vec<UserSummary>, AppError> {
    let ctx = admin_context().await?;
    Ok(service()?.list_users(&ctx.principal, &query).await?)
}

#[server(prefix = "/_srv", endpoint = "create_user")]
pub async fn create_user(form: NewUserForm) -> Result<UserWithPassword, AppError> {
    let ctx = admin_context().await?;
    Ok(service()?.create_user(&ctx.principal, form, &ctx.meta).await?)
}

#[server(prefix = "/_srv", endpoint = "set_user_role")]
pub async fn set_user_role(id: i64, role: Role) -> Result<UserSummary, AppError> {
    let ctx = admin_context().await?;
    let patch = super::model::AdminUserPatch {
        role: Some(role),
        ..super::model::AdminUserPatch::default()
    };
    Ok(service()?
        .update_user(&ctx.principal, id, patch, &ctx.meta)
        .await?)
}

#[server(prefix = "/_srv", endpoint = "set_user_active")]
pub async fn set_user_active(id: i64, active: bool) -> Result<UserSummary, AppError> {
    let ctx = admin_context().await?;
    let patch = super::model::AdminUserPatch {
        active: Some(active),
        ..super::model::AdminUserPatch::default()
    };
    Ok(service()?
        .update_user(&ctx.principal, id, patch, &ctx.meta)
        .await?)
}

/// Sets a generated password (shown once in the response) and ends the user's sessions.
#[server(prefix = "/_srv", endpoint = "reset_user_password")]
pub async fn reset_user_password(id: i64) -> Result<UserWithPassword, AppError> {
    let ctx = admin_context().await?;
    Ok(service()?.reset_password(&ctx.principal, id, &ctx.meta).await?)
}

/// Lifts a sign-in lock left by repeated failures.
#[server(prefix = "/_srv", endpoint = "unlock_user")]
pub async fn unlock_user(id: i64) -> Result<UserSummary, AppError> {
    let ctx = admin_context().await?;
    Ok(service()?.unlock_user(&ctx.principal, id, &ctx.meta).await?)
}

#[server(prefix = "/_srv", endpoint = "set_user_tenants")]
pub async fn set_user_tenants(id: i64, tenant_ids: Vec<i64>) -> Result<UserSummary, AppError> {
    let ctx = admin_context().await?;
    Ok(service()?
        .set_user_tenants(&ctx.principal, id, tenant_ids, &ctx.meta)
        .await?)
}

#[server(prefix = "/_srv", endpoint = "list_tenants")]
pub async fn list_tenants() -> Result<Vec<TenantInfo>, AppError> {
    let ctx = admin_context().await?;
    Ok(service()?.list_tenants(&ctx.principal).await?)
}

#[server(prefix = "/_srv", endpoint = "create_tenant")]
pub async fn create_tenant(slug: String, name: String) -> Result<TenantInfo, AppError> {
    let ctx = admin_context().await?;
    Ok(service()?
        .create_tenant(&ctx.principal, &slug, &name, &ctx.meta)
        .await?)
}

/// A tenant's members: visible to its members and to admins.
#[server(prefix = "/_srv", endpoint = "list_tenant_members")]
pub async fn list_tenant_members(slug: String) -> Result<Vec<String>, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Read).await?;
    // The service looks the tenant up and checks membership; a refusal is audited like every
    // other, and answered as a tenant that does not exist, so a name is not confirmed by it.
    let result = service()?.tenant_members(&ctx.principal, &slug).await;
    if let Err(super::AdminError::Access(refusal)) = &result {
        ctx.record_refusal(refusal).await;
        if matches!(refusal, crate::identity::AccessError::Forbidden(_)) {
            return Err(AppError::not_found(format!("no tenant {slug:?}")));
        }
    }
    Ok(result?)
}

/// A page of the audit log (newest first, `AUDIT_PAGE_SIZE` at most), its targets named.
#[server(prefix = "/_srv", endpoint = "list_audit")]
pub async fn list_audit(filter: AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
    use super::audit_names::{Names, name, pipeline_ids};
    use crate::request::service as domain;
    let ctx = admin_context().await?;
    let mut entries = service()?.list_audit(&ctx.principal, &filter).await?;
    // One statement per kind of name, whatever the page's length (and only the admin gets here).
    let ids: Vec<String> = pipeline_ids(&entries).into_iter().map(str::to_owned).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let pipelines = domain::<crate::pipelines::PipelineService>()?;
    let catalog = domain::<crate::catalog::CatalogService>()?;
    let identity = domain::<crate::identity::IdentityService>()?;
    let (tenants, services, slugs) = tokio::join!(
        identity.tenant_slugs(),
        catalog.store().list(),
        pipelines.store().slugs_of(&ids),
    );
    let names = Names {
        tenants: tenants?.into_iter().collect(),
        services: services
            .map_err(AppError::internal)?
            .into_iter()
            .map(|s| {
                (
                    s.id,
                    if s.display_name.is_empty() {
                        s.name
                    } else {
                        s.display_name
                    },
                )
            })
            .collect(),
        pipelines: slugs.map_err(AppError::internal)?.into_iter().collect(),
    };
    name(&mut entries, &names);
    Ok(entries)
}

/// This domain's service, from the server's composition root.
#[cfg(feature = "ssr")]
fn service() -> Result<super::AdminService, AppError> {
    crate::request::service()
}
