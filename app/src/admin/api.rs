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

#[server(prefix = "/_srv", endpoint = "list_audit")]
pub async fn list_audit(filter: AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
    let ctx = admin_context().await?;
    Ok(service()?.list_audit(&ctx.principal, &filter).await?)
}

/// This domain's service, from the server's composition root.
#[cfg(feature = "ssr")]
fn service() -> Result<super::AdminService, AppError> {
    crate::request::service()
}
