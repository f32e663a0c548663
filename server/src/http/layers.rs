//! Cross-cutting layers. Order matters: the request id is set first so every log line of the
//! request carries it, and it is copied to the response last.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn apply(router: Router) -> Router {
    router.layer(middleware::from_fn(cache_headers)).layer(
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
            .layer(CompressionLayer::new()),
    )
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
