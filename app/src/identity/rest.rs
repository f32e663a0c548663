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

/// The OpenAPI entries of these routes (`api_doc.rs`).
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

fn provider_method(name: &str) -> Result<LoginMethod, IdentityError> {
    match name {
        // `google-cookie`: the Python seed's current UI's name for the same sign-in (its cookie
        // transport); Heimdall's callback sets the cookie for a browser either way.
        "google" | "google-cookie" => Ok(LoginMethod::Google),
        "keycloak" => Ok(LoginMethod::Keycloak),
        other => Err(IdentityError::NotFound(format!("no sign-in provider {other:?}"))),
    }
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

async fn start(
    auth: &IdentityService,
    provider: &str,
    next: Option<&str>,
    meta: &RequestMeta,
) -> Result<(String, String), AppError> {
    let base = meta.base_url(auth.settings().public_url.as_deref());
    let started = auth
        .start_provider_login(provider_method(provider)?, next.unwrap_or("/"), &base)
        .await?;
    let cookie = binding_cookie(auth, &started.binding);
    Ok((started.authorization_url, cookie))
}

/// The cookie binding a pending provider sign-in to this browser. Scoped to /auth and
/// short-lived: it only has to survive the trip to the provider.
fn binding_cookie(auth: &crate::identity::IdentityService, binding: &str) -> String {
    let secure = if auth.settings().cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!("{OAUTH_BINDING_COOKIE}={binding}; Path=/auth; HttpOnly; SameSite=Lax; Max-Age=600{secure}")
}

/// The seed's `/auth/google/authorize`: `{authorization_url}` for the client to open.
async fn authorize(
    State(identity): State<IdentityService>,
    ctx: RequestContext,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response, AppError> {
    let (url, cookie) = start(&identity, &provider, q.next.as_deref(), &ctx.meta).await?;
    Ok(with_cookie(
        axum::Json(json!({"authorization_url": url})).into_response(),
        &cookie,
    ))
}

/// The login page's provider buttons: straight to the provider.
async fn login_redirect(
    State(identity): State<IdentityService>,
    ctx: RequestContext,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response, AppError> {
    let (url, cookie) = start(&identity, &provider, q.next.as_deref(), &ctx.meta).await?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&url).map_err(AppError::internal)?,
    );
    Ok(with_cookie(response, &cookie))
}

/// The account page's "Link Google / Keycloak": the signed-in browser goes to the provider; the
/// callback links what comes back to this account.
async fn link_redirect(
    State(auth): State<IdentityService>,
    ctx: RequestContext,
    Path(provider): Path<String>,
) -> Result<Response, AppError> {
    let base = ctx.meta.base_url(auth.settings().public_url.as_deref());
    let started = auth
        .start_provider_link(&ctx.principal, provider_method(&provider)?, &base)
        .await?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&started.authorization_url).map_err(AppError::internal)?,
    );
    Ok(with_cookie(response, &binding_cookie(&auth, &started.binding)))
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Finishes a provider sign-in. Browsers get the session cookie and a redirect; API clients
/// get a bearer JWT as well. Failures are 4xx with an audit entry: a page for browsers,
/// JSON for the rest.
/// The Python seed's legacy UI callback, `/auth/callback`: Google's.
async fn legacy_callback(
    identity: State<IdentityService>,
    ctx: RequestContext,
    query: Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    callback(identity, ctx, Path("google".to_owned()), query, headers).await
}

async fn callback(
    State(auth): State<IdentityService>,
    ctx: RequestContext,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let wants_html = crate::request::wants_html(&headers);
    let meta = &ctx.meta;
    let result: Result<_, IdentityError> = async {
        let method = provider_method(&provider)?;
        if let Some(error) = q.error {
            return Err(FieldError::new(
                "error",
                format!("the sign-in was cancelled at {provider}: {error}"),
            )
            .into());
        }
        let (Some(code), Some(oauth_state)) = (q.code, q.state) else {
            return Err(FieldError::new("code", "the callback needs code and state parameters").into());
        };
        let base = meta.base_url(auth.settings().public_url.as_deref());
        let binding = cookie_value(&headers, OAUTH_BINDING_COOKIE);
        let identity = auth
            .finish_provider_login(method, &code, &oauth_state, binding.as_deref(), &base)
            .await?;
        if identity.link_user.is_some() {
            // A link from the account page: the browser stays signed in as it was.
            let user = auth.link_provider(&ctx.principal, &identity, meta).await?;
            return Ok((user, identity.return_to, None, method));
        }
        let user = auth.provider_login(&identity, meta).await?;
        let cookie = auth.open_cookie_session(&user, method, meta).await?;
        Ok((user, identity.return_to, Some(cookie), method))
    }
    .await;
    let clear_binding = format!("{OAUTH_BINDING_COOKIE}=; Path=/auth; HttpOnly; SameSite=Lax; Max-Age=0");
    match result {
        Ok((user, return_to, cookie, method)) => {
            let linked = cookie.is_none();
            let response = if wants_html || linked {
                let mut r = StatusCode::SEE_OTHER.into_response();
                if let Ok(location) = HeaderValue::from_str(&auth.settings().return_hosts.check(&return_to)) {
                    r.headers_mut().insert(header::LOCATION, location);
                }
                r
            } else {
                match auth.issue_jwt(&user, method, meta).await {
                    Ok(jwt) => {
                        axum::Json(json!({"access_token": jwt.token, "token_type": "bearer"})).into_response()
                    }
                    Err(e) => return AppError::from(e).into_response(),
                }
            };
            let response = match cookie {
                Some(cookie) => with_cookie(response, &cookie),
                None => response,
            };
            with_cookie(response, &clear_binding)
        }
        Err(err) => {
            // A bad state is a replay or a forged callback: audited apart from other refusals.
            let action = match &err {
                IdentityError::OAuthState(_) => Some(AuditAction::OAuthStateRejected),
                IdentityError::BadCredentials(_)
                | IdentityError::Invalid(_)
                | IdentityError::OAuthCode { .. } => Some(AuditAction::OAuthCallbackRejected),
                _ => None,
            };
            let err = AppError::from(err);
            if let Some(action) = action {
                auth.audit()
                    .record(
                        AuditEvent::denied(action)
                            .target(&provider)
                            .from(meta)
                            .detail(&err.to_string()),
                    )
                    .await;
            }
            let response = if wants_html {
                failure_page(&err)
            } else {
                err.into_response()
            };
            with_cookie(response, &clear_binding)
        }
    }
}

/// A small page for a failed provider sign-in, with the status of the error.
fn failure_page(err: &AppError) -> Response {
    let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::BAD_REQUEST);
    let message = html_escape(&err.to_string());
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed · Heimdall</title>\
         <link rel=\"stylesheet\" href=\"/pkg/heimdall.css\"></head><body class=\"p-8 font-sans\">\
         <h1 class=\"text-xl font-semibold\">Sign-in failed</h1><p role=\"alert\" data-testid=\"signin-error\">{message}</p>\
         <p><a class=\"text-indigo-600\" href=\"/login\">Back to sign in</a></p></body></html>"
    );
    (status, Html(body)).into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
