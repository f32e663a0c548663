//! Request guards that apply across routes: CSRF protection for every state-changing request,
//! real HTTP statuses for server-function errors, and the sign-in redirect for pages.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::audit::{AuditAction, AuditEvent};
use app::error::AppError;
use app::identity::cookie_value;
use app::request::RequestMeta;
use app::state::AppState;

/// Refuses cross-site state-changing requests. Browsers send `Origin` on every POST, PUT, PATCH
/// and DELETE (and `Sec-Fetch-Site`), so a change whose `Origin` is not this site — scheme, host
/// and port — did not come from Heimdall's own pages. A change that rides on the session cookie
/// must carry one of the two headers; bearer and API-token requests are not cookie-bound (a
/// browser never attaches them on its own) and may omit both. Together with `SameSite=Lax`.
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let settings = state.identity.settings();
    let cookie_bound = !req.headers().contains_key(header::AUTHORIZATION)
        && cookie_value(req.headers(), &settings.cookie_name).is_some();
    // A page of an origin `server.cors` names may call with a bearer token, or ask for one at
    // the IDP's `/auth/login` (which sets no cookie) — never with the cookie, which stays
    // same-site, and never where a cookie is set (a cross-site sign-in would be login CSRF).
    // Only a request without the session cookie: a browser attaches the cookie (and cached
    // Basic credentials) on its own, never a bearer token.
    let has_session_cookie = cookie_value(req.headers(), &settings.cookie_name).is_some();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..7))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "));
    let token_login = req.uri().path() == "/auth/login";
    let granted = !has_session_cookie
        && (bearer || token_login)
        && req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_some_and(|o| state.cors.allows(o));
    if let Some(reason) =
        cross_site(req.headers(), settings.public_url.as_deref(), cookie_bound).filter(|_| !granted)
    {
        let meta = RequestMeta::from_parts(req.headers(), req.extensions());
        state
            .audit
            .record(
                AuditEvent::denied(AuditAction::CsrfRejected)
                    .target(req.uri().path())
                    .from(&meta)
                    .detail(&reason),
            )
            .await;
        return AppError::forbidden(format!("cross-site request refused: {reason}")).into_response();
    }
    next.run(req).await
}

/// `scheme://host[:port]` of a URL, the way browsers write `Origin` (default ports left out).
fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The origins this site answers as: the configured public URL's, and the one this request
/// reached (its `Host`, over `X-Forwarded-Proto` or plain HTTP). A cross-site page cannot set
/// either header on a browser's request without a CORS preflight Heimdall never grants.
fn own_origins(headers: &HeaderMap, public_url: Option<&str>) -> Vec<String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut origins: Vec<String> = public_url.and_then(origin_of).into_iter().collect();
    if let Some(host) = text("host") {
        let scheme = text("x-forwarded-proto")
            .and_then(|p| p.split(',').next())
            .map(str::trim)
            .filter(|p| matches!(*p, "http" | "https"))
            .unwrap_or("http");
        origins.extend(origin_of(&format!("{scheme}://{host}")));
    }
    origins
}

/// Why a request looks cross-site, if it does.
fn cross_site(headers: &HeaderMap, public_url: Option<&str>, cookie_bound: bool) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    if let Some(origin) = text(header::ORIGIN) {
        let same = origin_of(origin).is_some_and(|o| own_origins(headers, public_url).contains(&o));
        return (!same).then(|| format!("Origin {origin} is not this site"));
    }
    match text(header::HeaderName::from_static("sec-fetch-site")) {
        Some(site @ ("cross-site" | "same-site")) => Some(format!("Sec-Fetch-Site is {site}")),
        Some(_) => None,
        None if cookie_bound => {
            Some("a change made with the session cookie must carry Origin or Sec-Fetch-Site".to_owned())
        }
        None => None,
    }
}

pub use app::rest::BODY_LIMIT;

/// A declared body over `BODY_LIMIT` is a 413 with the limit in the message, before anything
/// reads it; a chunked one is caught where it is read (`server_fn_status`, the body extractors).
pub async fn body_limit(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return AppError::too_large(BODY_LIMIT as u64).into_response();
    }
    next.run(req).await
}

/// `/_srv/<name>` with no such server function: the JSON 404 every API error is.
pub async fn unknown_server_fn(uri: Uri) -> Response {
    let name = uri.path().trim_start_matches("/_srv/");
    AppError::not_found(format!("there is no server function {name:?}")).into_response()
}

/// Leptos answers every server-function error with 500; this gives each its real status
/// (401, 403, 422, …) from the `AppError` in the body. Bodies are small.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/_srv/") {
        return next.run(req).await;
    }
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(err) = serde_json::from_slice::<AppError>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    // A chunked body over the limit fails while the arguments are read.
    if let AppError::Invalid { message, .. } = &err
        && message.contains("length limit exceeded")
    {
        return AppError::too_large(BODY_LIMIT as u64).into_response();
    }
    if let Ok(status) = StatusCode::from_u16(err.status_code()) {
        parts.status = status;
    }
    // What the error's own response carries besides its body (a 429's `Retry-After`).
    if let AppError::RateLimited { retry_after_secs, .. } = &err {
        parts
            .headers
            .insert(header::RETRY_AFTER, (*retry_after_secs).into());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Paths a signed-out browser may load when auth is on.
fn is_public_page(path: &str) -> bool {
    matches!(path, "/login" | "/register" | "/favicon.svg" | "/favicon.ico" | "/docs")
        || path.starts_with("/pkg/")
        || path.starts_with("/auth/")
        || path.starts_with("/_srv/")
        // Keycloak sends the browser back here after an offline-token consent; the signed,
        // single-use state authenticates it, and the consent may have been started by an API client.
        || path == app::vault::CALLBACK_PATH
}

/// With auth on, a signed-out browser asking for a page goes to the login page (and comes
/// back after). Data is protected by the server functions either way; this is the courtesy.
pub async fn sign_in_redirect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let wants_page = req.method() == Method::GET && app::request::wants_html(req.headers());
    if !wants_page || !state.identity.settings().enabled || is_public_page(req.uri().path()) {
        return next.run(req).await;
    }
    let meta = RequestMeta::from_parts(req.headers(), req.extensions());
    match state.identity.resolve(req.headers(), &meta).await {
        Ok(principal) if principal.actor.is_none() => {
            let next_path = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
            let location = format!("/login?next={}", encode(&next_path));
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        _ => next.run(req).await,
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn same_origin_and_non_browser_requests_pass() {
        let ok = |pairs: &[(&'static str, &str)], public: Option<&str>, cookie: bool| {
            cross_site(&headers(pairs), public, cookie)
        };
        assert_eq!(
            ok(
                &[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")],
                None,
                true
            ),
            None
        );
        // No browser headers and no session cookie: curl, a bearer token, an API client.
        assert_eq!(ok(&[("host", "127.0.0.1:3000")], None, false), None);
        assert_eq!(
            ok(
                &[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-origin")],
                None,
                true
            ),
            None
        );
        assert_eq!(
            ok(
                &[
                    ("host", "10.0.0.5:3000"),
                    ("origin", "https://heimdall.example.com")
                ],
                Some("https://heimdall.example.com/"),
                true
            ),
            None
        );
        // Behind a TLS proxy that says so.
        assert_eq!(
            ok(
                &[
                    ("host", "heimdall.example.com"),
                    ("x-forwarded-proto", "https"),
                    ("origin", "https://heimdall.example.com")
                ],
                None,
                true
            ),
            None
        );
    }

    #[test]
    fn foreign_origins_and_cross_site_fetches_are_refused() {
        let refused = |pairs: &[(&'static str, &str)], public: Option<&str>, cookie: bool| {
            cross_site(&headers(pairs), public, cookie).is_some()
        };
        assert!(refused(
            &[("host", "127.0.0.1:3000"), ("origin", "https://evil.example")],
            None,
            false
        ));
        assert!(refused(
            &[("host", "127.0.0.1:3000"), ("origin", "null")],
            None,
            false
        ));
        // The scheme counts: https on a plain-HTTP server is another origin.
        assert!(refused(
            &[("host", "127.0.0.1:3000"), ("origin", "https://127.0.0.1:3000")],
            None,
            false
        ));
        // So does the port.
        assert!(refused(
            &[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3001")],
            None,
            false
        ));
        assert!(refused(
            &[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")],
            None,
            false
        ));
        assert!(refused(
            &[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-site")],
            None,
            false
        ));
        // A cookie-authenticated change with neither header.
        assert!(refused(&[("host", "127.0.0.1:3000")], None, true));
    }
}
