//! The Heimdall seed's user routes (fastapi-users): `/users/me` for everyone signed in,
//! `/users/{id}` for admins. The same operations back the admin pages.

use axum::Router;
use axum::extract::Path;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::SecretString;
use serde::Deserialize;

use crate::admin::AdminUserPatch;
use crate::error::AppError;
use crate::identity::{CurrentUser, Permission, RequestContext, SelfPatch};

use crate::rest::extract::JsonBody;

use crate::rest::doc::{Auth, Op};

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them).
pub const DOC: &[Op] = &[
    Op::new("GET", "/users/me", "The signed-in user", Auth::Heimdall),
    Op::new(
        "PATCH",
        "/users/me",
        "Change one's name, email or password",
        Auth::Heimdall,
    )
    .body(r#"{"display_name": "Ada", "email": null, "password": null, "current_password": null}"#)
    .responses(&[(200, "the user"), (422, "a field is wrong")]),
    Op::new("GET", "/users/{id}", "A user (admins)", Auth::Heimdall).responses(&[
        (200, "the user"),
        (403, "admins only"),
        (404, "no such user"),
    ]),
    Op::new("PATCH", "/users/{id}", "Change a user (admins)", Auth::Heimdall)
        .body(r#"{"display_name": "Ada", "role": "developer", "is_active": true}"#)
        .responses(&[(200, "the user"), (403, "admins only"), (404, "no such user")]),
    Op::new("DELETE", "/users/{id}", "Delete a user (admins)", Auth::Heimdall).responses(&[
        (204, "deleted"),
        (403, "admins only"),
        (404, "no such user"),
    ]),
];

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::identity::IdentityService: FromRef<S>,
    super::AdminService: FromRef<S>,
{
    Router::new()
        .route("/users/me", get(me).patch(patch_me))
        .route("/users/{id}", get(get_user).patch(patch_user).delete(delete_user))
        .route_layer(axum::middleware::from_fn_with_state(
            crate::rest::fastapi::PYTHON_HEIMDALL,
            crate::rest::fastapi::unauthorized,
        ))
}

async fn me(
    State(identity): State<crate::identity::IdentityService>,
    ctx: RequestContext,
) -> Result<axum::Json<CurrentUser>, AppError> {
    ctx.check(Permission::ViewOwnAccount).await?;
    Ok(axum::Json(identity.my_account(&ctx.principal).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MePatch {
    display_name: Option<String>,
    email: Option<String>,
    password: Option<String>,
    current_password: Option<String>,
}

async fn patch_me(
    State(identity): State<crate::identity::IdentityService>,
    ctx: RequestContext,
    body: axum::extract::Request,
) -> Result<axum::Json<CurrentUser>, AppError> {
    // Who first: a signed-out caller hears 401 whatever the body says.
    ctx.check(Permission::OwnAccount).await?;
    let body: MePatch = crate::rest::extract::json_after_check(body).await?;
    let auth = &identity;
    let patch = SelfPatch {
        display_name: body.display_name,
        email: body.email,
        password: body.password.map(SecretString::from),
        current_password: body.current_password.map(SecretString::from),
    };
    let user = auth.update_me(&ctx.principal, patch, &ctx.meta).await?;
    Ok(axum::Json(auth.current_user(&user).await?))
}

fn user_id(raw: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::invalid("id", format!("{raw:?} is not a user id")))
}

async fn get_user(
    State(admin): State<crate::admin::AdminService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    ctx.check(Permission::Administer).await?;
    let user = admin.get_user(&ctx.principal, user_id(&id)?).await?;
    Ok(axum::Json(user).into_response())
}

async fn patch_user(
    State(admin): State<crate::admin::AdminService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<AdminUserPatch>,
) -> Result<Response, AppError> {
    ctx.check(Permission::Administer).await?;
    let user = admin
        .update_user(&ctx.principal, user_id(&id)?, patch, &ctx.meta)
        .await?;
    Ok(axum::Json(user).into_response())
}

async fn delete_user(
    State(admin): State<crate::admin::AdminService>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    ctx.check(Permission::Administer).await?;
    admin
        .delete_user(&ctx.principal, user_id(&id)?, &ctx.meta)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
