//! Server functions of identity: who is signed in, password sign-in and registration,
//! sign-out, and the account page's sessions, tokens and profile.

use leptos::prelude::*;

use super::model::{ApiTokenInfo, CurrentUser, LinkedIdentity, NewApiToken, SessionInfo, TokenScope, Viewer};
use crate::error::AppError;

/// Adds a `Set-Cookie` header to the server function's response.
#[cfg(feature = "ssr")]
fn set_cookie(value: &str) -> Result<(), AppError> {
    let response = use_context::<leptos_axum::ResponseOptions>()
        .ok_or_else(|| AppError::internal("no ResponseOptions in the Leptos context"))?;
    let value = axum::http::HeaderValue::from_str(value).map_err(AppError::internal)?;
    response.append_header(axum::http::header::SET_COOKIE, value);
    Ok(())
}

/// Who is visiting and which sign-in methods exist. Public: the login page needs it.
#[server(prefix = "/_srv", endpoint = "get_viewer")]
pub async fn get_viewer() -> Result<Viewer, AppError> {
    use super::RequestContext;
    let ctx = RequestContext::load().await?;
    let auth = &service()?;
    let user = match ctx.principal.actor_id() {
        Some(_) => {
            let me = auth.me(&ctx.principal).await?;
            Some(super::model::SignedInUser {
                id: me.id,
                username: me.username,
                display_name: me.display_name,
                role: me.role,
            })
        }
        None => None,
    };
    Ok(Viewer {
        user,
        auth_enabled: auth.settings().enabled,
        methods: auth.methods(),
    })
}

/// Password sign-in for the login form: opens a cookie session and goes to `next`.
#[server(prefix = "/_srv", endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use super::{LoginMethod, RequestContext};
    let ctx = RequestContext::load().await?;
    let auth = &service()?;
    let user = auth
        .password_login(&username, secrecy::SecretString::from(password), &ctx.meta)
        .await?;
    set_cookie(
        &auth
            .open_cookie_session(&user, LoginMethod::Password, &ctx.meta)
            .await?,
    )?;
    leptos_axum::redirect(&auth.settings().return_hosts.check(next.as_deref().unwrap_or("/")));
    Ok(())
}

/// Self-registration, when switched on: creates a viewer and signs them in.
#[server(prefix = "/_srv", endpoint = "register_account")]
pub async fn register_account(email: String, password: String) -> Result<(), AppError> {
    use super::{LoginMethod, RequestContext};
    let ctx = RequestContext::load().await?;
    let auth = &service()?;
    let user = auth
        .register(&email, secrecy::SecretString::from(password), &ctx.meta)
        .await?;
    auth.admit(&user, LoginMethod::Password, &ctx.meta).await?;
    set_cookie(
        &auth
            .open_cookie_session(&user, LoginMethod::Password, &ctx.meta)
            .await?,
    )?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Ends this browser's session for real (the row is revoked, not just the cookie cleared).
#[server(prefix = "/_srv", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    service()?.end_session(&ctx.principal, &ctx.meta).await?;
    set_cookie(&service()?.clear_cookie_header())?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Revokes every session and bearer token of the signed-in user, this one included.
#[server(prefix = "/_srv", endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<u64, AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    let n = service()?
        .revoke_all_my_sessions(&ctx.principal, &ctx.meta)
        .await?;
    set_cookie(&service()?.clear_cookie_header())?;
    Ok(n)
}

#[server(prefix = "/_srv", endpoint = "get_my_account")]
pub async fn get_my_account() -> Result<CurrentUser, AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::ViewOwnAccount).await?;
    Ok(service()?.my_account(&ctx.principal).await?)
}

#[server(prefix = "/_srv", endpoint = "update_my_profile")]
pub async fn update_my_profile(display_name: String) -> Result<CurrentUser, AppError> {
    use super::{Permission, RequestContext, SelfPatch};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    let auth = &service()?;
    let patch = SelfPatch {
        display_name: Some(display_name),
        ..SelfPatch::default()
    };
    let user = auth.update_me(&ctx.principal, patch, &ctx.meta).await?;
    Ok(auth.current_user(&user).await?)
}

#[server(prefix = "/_srv", endpoint = "change_my_password")]
pub async fn change_my_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use super::{Permission, RequestContext, SelfPatch};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    let patch = SelfPatch {
        password: Some(secrecy::SecretString::from(new_password)),
        current_password: Some(secrecy::SecretString::from(current_password)),
        ..SelfPatch::default()
    };
    service()?.update_me(&ctx.principal, patch, &ctx.meta).await?;
    Ok(())
}

#[server(prefix = "/_srv", endpoint = "list_my_links")]
pub async fn list_my_links() -> Result<Vec<LinkedIdentity>, AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::ViewOwnAccount).await?;
    Ok(service()?.my_links(&ctx.principal).await?)
}

#[server(prefix = "/_srv", endpoint = "list_my_sessions")]
pub async fn list_my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::ViewOwnAccount).await?;
    Ok(service()?.my_sessions(&ctx.principal).await?)
}

#[server(prefix = "/_srv", endpoint = "revoke_my_session")]
pub async fn revoke_my_session(id: i64) -> Result<(), AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    Ok(service()?
        .revoke_my_session(&ctx.principal, id, &ctx.meta)
        .await?)
}

#[server(prefix = "/_srv", endpoint = "list_my_tokens")]
pub async fn list_my_tokens() -> Result<Vec<ApiTokenInfo>, AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::ViewOwnAccount).await?;
    Ok(service()?.my_tokens(&ctx.principal).await?)
}

/// Creates a personal API token; the response is the only time the token is shown.
#[server(prefix = "/_srv", endpoint = "create_my_token")]
pub async fn create_my_token(
    name: String,
    scope: TokenScope,
    expires_in_days: Option<u32>,
) -> Result<NewApiToken, AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    Ok(service()?
        .create_token(&ctx.principal, &name, scope, expires_in_days, &ctx.meta)
        .await?)
}

#[server(prefix = "/_srv", endpoint = "revoke_my_token")]
pub async fn revoke_my_token(id: i64) -> Result<(), AppError> {
    use super::{Permission, RequestContext};
    let ctx = RequestContext::require(Permission::OwnAccount).await?;
    Ok(service()?.revoke_token(&ctx.principal, id, &ctx.meta).await?)
}

/// This domain's service, from the server's composition root.
#[cfg(feature = "ssr")]
fn service() -> Result<super::IdentityService, AppError> {
    crate::request::service()
}
