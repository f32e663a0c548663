//! The seed-compatible sign-in API: `/auth/jwt/*` and `/auth/cookie/*` (the Heimdall seed's
//! fastapi-users routes), `/auth/login` (the IDP portal), `/auth/register`, and the Google and
//! Keycloak authorization-code flows (`/auth/{provider}/authorize|login|callback`).

use axum::Router;
use axum::extract::{FromRef, State};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::{IdentityError, IdentityService, LoginMethod, RequestContext, cookie_value};
use crate::audit::{AuditAction, AuditEvent};
use crate::error::{AppError, FieldError};
use crate::identity::oauth::OAUTH_BINDING_COOKIE;
use crate::request::RequestMeta;

use crate::rest::extract::{FormBody, JsonBody};

use crate::rest::doc::{Auth, Op, param};

mod providers;

use providers::*;

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them).
pub const DOC: &[Op] = &[
    Op::new(
        "POST",
        "/auth/jwt/login",
        "Sign in with a password (form): a bearer JWT",
        Auth::Public,
    )
    .responses(&[
        (200, "{access_token, token_type, expires_in}"),
        (400, "LOGIN_BAD_CREDENTIALS (the seed's answer)"),
        (422, "a field is missing"),
        (429, "locked for a while"),
    ]),
    Op::new(
        "POST",
        "/auth/jwt/logout",
        "End the bearer JWT's session",
        Auth::Heimdall,
    )
    .responses(&[(204, "signed out"), (401, "not signed in")]),
    Op::new(
        "POST",
        "/auth/cookie/login",
        "Sign in with a password (form): a session cookie",
        Auth::Public,
    )
    .responses(&[
        (204, "signed in, cookie set"),
        (400, "LOGIN_BAD_CREDENTIALS (the seed's answer)"),
        (422, "a field is missing"),
    ]),
    Op::new(
        "POST",
        "/auth/cookie/logout",
        "End the cookie session",
        Auth::Heimdall,
    )
    .responses(&[(204, "signed out")]),
    Op::new(
        "POST",
        "/auth/logout",
        "End the current session (either kind)",
        Auth::Heimdall,
    )
    .responses(&[(204, "signed out")]),
    Op::new(
        "POST",
        "/auth/login",
        "Sign in with a password (JSON, the IDP portal's shape)",
        Auth::Public,
    )
    .body(r#"{"username": "ada", "password": "…"}"#)
    .responses(&[(200, "{token, role, expires_in}"), (401, "wrong credentials")]),
    Op::new(
        "POST",
        "/auth/register",
        "Register (when auth.registration_enabled)",
        Auth::Public,
    )
    .body(r#"{"email": "ada@example.com", "password": "…"}"#)
    .responses(&[
        (201, "registered"),
        (404, "registration is off"),
        (422, "a field is wrong"),
    ]),
    Op::new(
        "GET",
        "/auth/{provider}/authorize",
        "The provider's sign-in URL (google | keycloak), as JSON",
        Auth::Public,
    )
    .query(&[param("next", false, "where to land after sign-in")])
    .responses(&[(200, "{authorization_url}"), (404, "provider not configured")]),
    Op::new(
        "GET",
        "/auth/{provider}/login",
        "Start a provider sign-in: a redirect to the provider",
        Auth::Public,
    )
    .query(&[param("next", false, "where to land after sign-in")])
    .responses(&[(303, "to the provider"), (404, "provider not configured")]),
    Op::new(
        "GET",
        "/auth/{provider}/link",
        "Link a provider to the signed-in account: a redirect to the provider, then back to /account",
        Auth::Heimdall,
    )
    .responses(&[
        (303, "to the provider"),
        (401, "not signed in"),
        (403, "not a browser session"),
        (404, "provider not configured"),
    ]),
    Op::new(
        "GET",
        "/auth/{provider}/callback",
        "The provider's redirect back",
        Auth::Public,
    )
    .query(&[
        param("code", true, "authorization code"),
        param("state", true, "the one-time state"),
    ])
    .responses(&[
        (303, "signed in (a browser)"),
        (200, "{access_token, token_type} (an API client)"),
        (400, "a bad, used or expired state"),
        (404, "provider not configured"),
    ]),
    Op::new(
        "GET",
        "/auth/callback",
        "The Python seed's legacy UI callback: Google's redirect back, as /auth/google/callback",
        Auth::Public,
    )
    .query(&[
        param("code", true, "authorization code"),
        param("state", true, "the one-time state"),
    ])
    .responses(&[
        (303, "signed in (a browser)"),
        (200, "{access_token, token_type} (an API client)"),
        (404, "Google sign-in not configured"),
    ]),
];

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    IdentityService: FromRef<S>,
{
    Router::new()
        .route("/auth/jwt/login", post(jwt_login))
        .route("/auth/jwt/logout", post(logout))
        .route("/auth/cookie/login", post(cookie_login))
        .route("/auth/cookie/logout", post(logout))
        .route("/auth/logout", post(logout))
        .route("/auth/login", post(idp_login))
        .route("/auth/register", post(register))
        .route("/auth/{provider}/authorize", get(authorize))
        .route("/auth/{provider}/login", get(login_redirect))
        .route("/auth/{provider}/link", get(link_redirect))
        .route("/auth/{provider}/callback", get(callback))
        .route("/auth/callback", get(legacy_callback))
}

#[derive(Deserialize)]
struct PasswordForm {
    username: String,
    password: String,
}

/// Wrong credentials on the fastapi-users paths answer 400 with its `detail`, as the seed's
/// clients expect, plus Heimdall's own error fields.
fn seed_login_error(err: IdentityError) -> Response {
    match err {
        IdentityError::BadCredentials(message) => (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"error": "unauthenticated", "message": message, "detail": "LOGIN_BAD_CREDENTIALS"}),
            ),
        )
            .into_response(),
        other => AppError::from(other).into_response(),
    }
}

async fn jwt_login(
    State(auth): State<IdentityService>,
    ctx: RequestContext,
    FormBody(form): FormBody<PasswordForm>,
) -> Response {
    let result = async {
        let user = auth
            .password_login(&form.username, SecretString::from(form.password), &ctx.meta)
            .await?;
        auth.issue_jwt(&user, LoginMethod::Password, &ctx.meta).await
    }
    .await;
    match result {
        Ok(jwt) => axum::Json(
            json!({"access_token": jwt.token, "token_type": "bearer", "expires_in": jwt.expires_in}),
        )
        .into_response(),
        Err(e) => seed_login_error(e),
    }
}

async fn cookie_login(
    State(auth): State<IdentityService>,
    ctx: RequestContext,
    FormBody(form): FormBody<PasswordForm>,
) -> Response {
    let result = async {
        let user = auth
            .password_login(&form.username, SecretString::from(form.password), &ctx.meta)
            .await?;
        auth.open_cookie_session(&user, LoginMethod::Password, &ctx.meta)
            .await
    }
    .await;
    match result {
        Ok(cookie) => with_cookie(StatusCode::NO_CONTENT.into_response(), &cookie),
        Err(e) => seed_login_error(e),
    }
}

#[derive(Deserialize)]
struct IdpLogin {
    username: String,
    password: String,
}

/// The IDP portal's login: JSON in, `{token, role}` out.
async fn idp_login(
    State(auth): State<IdentityService>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<IdpLogin>,
) -> Result<Response, AppError> {
    let user = auth
        .password_login(&body.username, SecretString::from(body.password), &ctx.meta)
        .await?;
    let jwt = auth.issue_idp_login_jwt(&user, &ctx.meta).await?;
    Ok(
        axum::Json(json!({"token": jwt.token, "role": user.role, "expires_in": jwt.expires_in}))
            .into_response(),
    )
}

/// Ends the session behind the cookie or the bearer JWT, and clears the cookie.
async fn logout(State(auth): State<IdentityService>, ctx: RequestContext) -> Result<Response, AppError> {
    auth.end_session(&ctx.principal, &ctx.meta).await?;
    let response = StatusCode::NO_CONTENT.into_response();
    Ok(with_cookie(response, &auth.clear_cookie_header()))
}

#[derive(Deserialize)]
struct Registration {
    email: String,
    password: String,
}

async fn register(
    State(auth): State<IdentityService>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<Registration>,
) -> Result<Response, AppError> {
    let user = auth
        .register(&body.email, SecretString::from(body.password), &ctx.meta)
        .await?;
    let view = auth.current_user(&user).await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
