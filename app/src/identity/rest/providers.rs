//! Provider sign-in (Google, Keycloak): start, the provider's callback, linking to the signed-in
//! account, and the page a failed sign-in shows.

use super::*;

pub(super) fn provider_method(name: &str) -> Result<LoginMethod, IdentityError> {
    match name {
        // `google-cookie`: the Python seed's current UI's name for the same sign-in (its cookie
        // transport); Heimdall's callback sets the cookie for a browser either way.
        "google" | "google-cookie" => Ok(LoginMethod::Google),
        "keycloak" => Ok(LoginMethod::Keycloak),
        other => Err(IdentityError::NotFound(format!("no sign-in provider {other:?}"))),
    }
}

#[derive(Deserialize)]
pub(super) struct StartQuery {
    next: Option<String>,
}

pub(super) async fn start(
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
pub(super) fn binding_cookie(auth: &crate::identity::IdentityService, binding: &str) -> String {
    let secure = if auth.settings().cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!("{OAUTH_BINDING_COOKIE}={binding}; Path=/auth; HttpOnly; SameSite=Lax; Max-Age=600{secure}")
}

/// The seed's `/auth/google/authorize`: `{authorization_url}` for the client to open.
pub(super) async fn authorize(
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
pub(super) async fn login_redirect(
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
pub(super) async fn link_redirect(
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
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The Python seed's legacy UI callback, `/auth/callback`: Google's.
pub(super) async fn legacy_callback(
    identity: State<IdentityService>,
    ctx: RequestContext,
    query: Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    callback(identity, ctx, Path("google".to_owned()), query, headers).await
}

/// Finishes a provider sign-in. Browsers get the session cookie and a redirect; API clients
/// get a bearer JWT as well. Failures are 4xx with an audit entry: a page for browsers,
/// JSON for the rest.
pub(super) async fn callback(
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
pub(super) fn failure_page(err: &AppError) -> Response {
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

pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
