//! The ForwardAuth page's one server function (admins): the set-up of both modes and the
//! CARTA sessions the watches know.

use leptos::prelude::*;

use super::model::ForwardAuthStatus;
use crate::error::AppError;

#[server(prefix = "/_srv", endpoint = "get_forward_auth_status")]
pub async fn get_forward_auth_status() -> Result<ForwardAuthStatus, AppError> {
    use crate::identity::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::Administer).await?;
    Ok(service()?.status(&ctx.principal)?)
}

/// This domain's service, from the server's composition root.
#[cfg(feature = "ssr")]
fn service() -> Result<super::ForwardAuthService, AppError> {
    crate::request::service()
}
