//! The general per-client limit on the pipelines API, as a layer (the limit on creating
//! pipelines is the service's own: `crate::pipelines::limits`). A client is its credential when
//! it sends one (a digest of the `Authorization` header or the session cookie: one user behind a
//! shared address keeps their own budget), else its address. Refusals are 429 with
//! `Retry-After`.

use std::sync::Arc;

use crate::identity::secrets::hash_secret;
use crate::pipelines::{KeyedLimit, RateLimits};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub fn requests(limits: RateLimits) -> Arc<KeyedLimit> {
    Arc::new(KeyedLimit::new(
        limits.requests_per_minute,
        Some(limits.burst),
        "too many requests from here; wait",
    ))
}

/// Who is asking: a digest of the credential, else the address.
fn client_key(headers: &HeaderMap, ip: &str) -> String {
    let credential = headers
        .get(header::AUTHORIZATION)
        .or_else(|| headers.get(header::COOKIE))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match credential {
        Some(credential) => format!("credential:{}", &hash_secret(&credential)[..24]),
        None => format!("address:{ip}"),
    }
}

/// The general limit, as a layer on the pipelines routes.
pub async fn general(State(limit): State<Arc<KeyedLimit>>, req: Request, next: Next) -> Response {
    let meta = crate::request::RequestMeta::from_parts(req.headers(), req.extensions());
    if let Err(refused) = limit.check(&client_key(req.headers(), &meta.ip)) {
        return refused.into_response();
    }
    next.run(req).await
}
