//! The Vault page's server functions. Each hands the caller's `Principal` to `VaultService`,
//! which decides: one's own tokens and sessions, or (admins) anyone's by Keycloak subject.

use leptos::prelude::*;

use super::model::VaultView;
use crate::error::AppError;

/// The tokens and sessions of `subject` (admins), else of the caller.
#[server(prefix = "/_srv", endpoint = "get_vault")]
pub async fn get_vault(subject: Option<String>) -> Result<VaultView, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::ViewOwnAccount).await?;
    Ok(service()?.view(&ctx.principal, subject.as_deref()).await?)
}

/// Starts the offline-token consent; the page sends the browser to the returned URL.
#[server(prefix = "/_srv", endpoint = "start_vault_consent")]
pub async fn start_vault_consent() -> Result<String, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    Ok(service()?.start_consent_for(&ctx.principal, &ctx.meta).await?)
}

/// Deletes a stored token (ending its Keycloak offline session when it was the last in it).
#[server(prefix = "/_srv", endpoint = "revoke_vault_token")]
pub async fn revoke_vault_token(subject: Option<String>, id: String) -> Result<bool, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    let done = service()?
        .revoke_for(&ctx.principal, &ctx.meta, subject.as_deref(), &id)
        .await?;
    Ok(done.session_revoked)
}

/// Ends a Keycloak session (online or offline) of `subject` (admins) or of the caller.
#[server(prefix = "/_srv", endpoint = "end_keycloak_session")]
pub async fn end_keycloak_session(
    subject: Option<String>,
    session_id: String,
    offline: bool,
) -> Result<u64, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    Ok(service()?
        .end_session(
            &ctx.principal,
            &ctx.meta,
            subject.as_deref(),
            &session_id,
            offline,
        )
        .await?)
}

/// This domain's service, from the server's composition root.
#[cfg(feature = "ssr")]
fn service() -> Result<super::VaultService, AppError> {
    crate::request::service()
}
