//! Cross-cutting layers. Order matters: the request id is set first so every log line of the
//! request carries it, and it is copied to the response last. Browser security headers go on
//! every response, assets and errors included.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn apply(router: Router, hsts: bool, body_read_timeout: std::time::Duration) -> Router {
    router
        .layer(middleware::from_fn(cache_headers))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            security_headers(req, next, hsts)
        }))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("-");
                    // The path only: query strings can carry tokens (OAuth codes, state).
                    tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path())
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CompressionLayer::new())
                // A body that stops moving for this long ends its request: a client cannot hold
                // a handler (and its connection) by trickling or stalling a body.
                .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
                    body_read_timeout,
                )),
        )
}

/// HSTS only where browsers honour it and it cannot strand a plain-HTTP installation: when the
/// configured public URL is https.
pub fn hsts_wanted(state: &app::state::AppState) -> bool {
    state
        .identity
        .settings()
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

/// The policy of responses that are not pages (JSON, assets, the sign-in failure page): nothing
/// inline runs, nothing frames them. Pages carry their own, with the request's nonce
/// (`app::content_security_policy`).
const FALLBACK_CSP: &str =
    "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next, hsts: bool) -> Response {
    let mut response = next.run(req).await;
    put_security_headers(response.headers_mut(), hsts);
    response
}

/// The browser security headers every answer carries (a page's own CSP is kept).
pub fn put_security_headers(headers: &mut HeaderMap, hsts: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `frame-ancestors 'none'` in the CSP for current browsers, this for older ones.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(FALLBACK_CSP),
        );
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// Static assets are served without content hashes in their names, so they are cached
/// briefly and revalidated (ServeDir answers `If-Modified-Since` with 304). Pages and API
/// answers are never cached.
async fn cache_headers(req: Request, next: Next) -> Response {
    let policy = cache_policy(req.uri().path());
    let mut response = next.run(req).await;
    if response.status().is_success() && !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

fn cache_policy(path: &str) -> &'static str {
    if path.starts_with("/pkg/") {
        "public, max-age=300, must-revalidate"
    } else if path == "/favicon.svg" || path == "/favicon.ico" {
        "public, max-age=86400"
    } else {
        "no-store"
    }
}

#[cfg(test)]
mod tests {
    use super::cache_policy;

    #[test]
    fn assets_are_cached_and_pages_are_not() {
        assert!(cache_policy("/pkg/heimdall.wasm").contains("max-age=300"));
        assert_eq!(cache_policy("/"), "no-store");
        assert_eq!(cache_policy("/_srv/get_overview"), "no-store");
    }
}
