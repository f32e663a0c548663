//! Per-client request limits (GCRA through `governor`, keyed): job creation and the general
//! limit on the pipelines API. A client is its credential when it sends one (a digest of the
//! `Authorization` header or the session cookie: one user behind a shared address keeps their
//! own budget), else its address. Refusals are 429 with `Retry-After`. Counters live in this
//! process; across replicas they are each replica's (#14 moves the ones that must be global).

use std::num::NonZeroU32;
use std::sync::Arc;

use app::error::AppError;
use app::identity::secrets::hash_secret;
use app::pipelines::RateLimits;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct Limiter {
    jobs: DefaultKeyedRateLimiter<String>,
    requests: DefaultKeyedRateLimiter<String>,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Arc<Self> {
        Arc::new(Self {
            // All at once, then one more as each minute's share comes back (the seed's window).
            jobs: RateLimiter::keyed(Quota::per_minute(nonzero(limits.jobs_per_minute))),
            requests: RateLimiter::keyed(
                Quota::per_minute(nonzero(limits.requests_per_minute)).allow_burst(nonzero(limits.burst)),
            ),
        })
    }

    /// Counts one job creation of `client`; 429 with the wait when over.
    pub fn job_created(&self, client: &str) -> Result<(), AppError> {
        check(&self.jobs, client, "too many pipelines created from here; wait")
    }
}

fn check(limiter: &DefaultKeyedRateLimiter<String>, client: &str, what: &str) -> Result<(), AppError> {
    match limiter.check_key(&client.to_owned()) {
        Ok(()) => Ok(()),
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if limiter.len() > 10_000 {
                limiter.retain_recent();
            }
            Err(AppError::RateLimited {
                retry_after_secs,
                message: format!("{what} {retry_after_secs} s"),
            })
        }
    }
}

/// Who is asking, for the limits: a digest of the credential, else the address.
pub fn client_key(headers: &HeaderMap, ip: &str) -> String {
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
pub async fn general(State(limiter): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    let meta = app::request::RequestMeta::from_parts(req.headers(), req.extensions());
    let key = client_key(req.headers(), &meta.ip);
    if let Err(refused) = check(&limiter.requests, &key, "too many requests from here; wait") {
        return refused.into_response();
    }
    next.run(req).await
}
