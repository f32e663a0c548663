//! Request guards that apply across routes: CSRF protection for every state-changing request,
//! real HTTP statuses for server-function errors, and the sign-in redirect for pages.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::audit::{AuditAction, AuditEvent};
use app::error::AppError;
use app::request::RequestMeta;
use app::state::AppState;

/// Refuses cross-site state-changing requests. Browsers send `Origin` on every cross-origin
/// POST (and `Sec-Fetch-Site`), so a request whose `Origin` is not this site's, or that says
/// `cross-site`, did not come from Heimdall's own pages. Requests without either header are
/// not from a browser and carry no ambient cookie risk. Together with `SameSite=Lax` cookies.
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if let Some(reason) = cross_site(req.headers(), state.identity.settings().public_url.as_deref()) {
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

/// Why a request looks cross-site, if it does.
fn cross_site(headers: &HeaderMap, public_url: Option<&str>) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    if let Some(origin) = text(header::ORIGIN) {
        let origin_host = origin
            .parse::<Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.as_str().to_owned()));
        let host = text(header::HOST);
        let public_host = public_url
            .and_then(|u| u.parse::<Uri>().ok())
            .and_then(|u| u.authority().map(|a| a.as_str().to_owned()));
        let same = origin_host
            .as_deref()
            .is_some_and(|o| Some(o) == host || Some(o) == public_host.as_deref());
        if !same {
            return Some(format!("Origin {origin} is not this site"));
        }
        return None;
    }
    if text(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return Some("Sec-Fetch-Site is cross-site".to_owned());
    }
    None
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
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(err.status_code())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Paths a signed-out browser may load when auth is on.
fn is_public_page(path: &str) -> bool {
    matches!(path, "/login" | "/register" | "/favicon.svg" | "/favicon.ico")
        || path.starts_with("/pkg/")
        || path.starts_with("/auth/")
        || path.starts_with("/_srv/")
}

/// With auth on, a signed-out browser asking for a page goes to the login page (and comes
/// back after). Data is protected by the server functions either way; this is the courtesy.
pub async fn sign_in_redirect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let wants_page = req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
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
        assert_eq!(
            cross_site(
                &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")]),
                None
            ),
            None
        );
        assert_eq!(cross_site(&headers(&[("host", "127.0.0.1:3000")]), None), None);
        assert_eq!(
            cross_site(
                &headers(&[
                    ("host", "10.0.0.5:3000"),
                    ("origin", "https://heimdall.example.com")
                ]),
                Some("https://heimdall.example.com")
            ),
            None
        );
    }

    #[test]
    fn foreign_origins_and_cross_site_fetches_are_refused() {
        assert!(
            cross_site(
                &headers(&[("host", "127.0.0.1:3000"), ("origin", "https://evil.example")]),
                None
            )
            .is_some()
        );
        assert!(cross_site(&headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]), None).is_some());
        assert!(
            cross_site(
                &headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")]),
                None
            )
            .is_some()
        );
    }
}
