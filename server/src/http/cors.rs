//! `server.cors`: one CORS layer over every REST section (the seeds' paths, the vault, the
//! pipelines, the catalog, the users and Flink routes), never over the pages or server
//! functions. No credentials are ever allowed: a page of another site calls with a bearer
//! token, and the session cookie stays same-site (`guards::csrf` grants such a page only
//! requests that carry `Authorization`, and the IDP's token login, which sets no cookie).

/// The layer for `config`, or `None` when CORS is off (then no CORS header at all: browsers
/// keep other origins out).
pub fn layer(config: &app::request::Cors) -> Option<tower_http::cors::CorsLayer> {
    config.enabled.then(|| cors(config))
}

fn cors(config: &app::request::Cors) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins = if config.allow_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .allow_origins
                .iter()
                .filter_map(|o| axum::http::HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(
            config
                .allow_methods
                .iter()
                .filter_map(|m| axum::http::Method::from_bytes(m.as_bytes()).ok())
                .collect::<Vec<_>>(),
        )
        .allow_headers(
            config
                .allow_headers
                .iter()
                .filter_map(|h| axum::http::HeaderName::from_bytes(h.as_bytes()).ok())
                .collect::<Vec<_>>(),
        )
        .max_age(std::time::Duration::from_secs(config.max_age_secs))
}
