//! The Flink jobs REST routes: the Java Heimdall's `/jobs` and `/config`, the Python Heimdall's
//! `/api/jobs`, `/api/config` and Flink REST proxy `/proxy/{app}/{path}`, and the live feed
//! `/api/jobs/events` (Server-Sent Events) the jobs page follows. Lists come from the
//! reflectors' memory: no API-server request per call.

use std::convert::Infallible;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use futures::{Stream, StreamExt, stream};
use serde_json::json;

use super::{FeedMessage, FlinkService};
use crate::error::AppError;
use crate::identity::RequestContext;
use crate::rest::live::{self, Closing};

use crate::rest::BODY_LIMIT;

use crate::rest::doc::{Auth, Op};

/// What the job list answers; its `ETag` changes with the list.
const JOBS_RESPONSES: &[(u16, &str)] = &[
    (200, "the jobs, with an ETag"),
    (304, "unchanged since the ETag sent in If-None-Match"),
];

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them).
pub const DOC: &[Op] = &[
    Op::new(
        "GET",
        "/jobs",
        "Flink jobs (the Java Heimdall's FlinkJob array)",
        Auth::Heimdall,
    )
    .responses(JOBS_RESPONSES),
    Op::new(
        "GET",
        "/api/jobs",
        "Flink jobs (the Python Heimdall's path)",
        Auth::Heimdall,
    )
    .responses(JOBS_RESPONSES),
    Op::new(
        "GET",
        "/config",
        "{appVersion, patterns, endpointPathPatterns}",
        Auth::Heimdall,
    ),
    Op::new(
        "GET",
        "/api/config",
        "The same configuration (the Python Heimdall's path)",
        Auth::Heimdall,
    ),
    Op::new(
        "GET",
        "/api/jobs/events",
        "Live job changes (Server-Sent Events: snapshot, upsert, delete, status); with `size` (the jobs page's view: q, status, ns, sort, dir, page, size, job) one `view` event per change burst instead: that page of the filtered, sorted list and the counts",
        Auth::Heimdall,
    ),
    Op::new(
        "ANY",
        "/proxy/{app}/{*path}",
        "A Flink cluster's REST API, proxied",
        Auth::Heimdall,
    )
    .responses(&[
        (200, "Flink's answer"),
        (404, "unknown app"),
        (502, "Flink unreachable"),
        (504, "Flink too slow"),
    ]),
];

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::identity::IdentityService: FromRef<S>,
    FlinkService: FromRef<S>,
    crate::home::BuildInfo: FromRef<S>,
    Closing: FromRef<S>,
{
    Router::new()
        .route("/jobs", get(jobs))
        .route("/api/jobs", get(jobs))
        .route("/config", get(config))
        .route("/api/config", get(config))
        .route("/api/jobs/events", get(events))
        .route("/proxy/{app}/{*path}", any(proxy))
        .route_layer(axum::middleware::from_fn_with_state(
            crate::rest::fastapi::PYTHON_HEIMDALL,
            crate::rest::fastapi::unauthorized,
        ))
}

/// Every job, as the Java Heimdall's JSON array (with Heimdall's extra fields after), from the
/// bytes built once per change — gzip-compressed, from the copy kept beside them, for a client
/// that accepts it; a client that sends back the `ETag` gets 304 until the list changes.
async fn jobs(State(flink): State<FlinkService>, ctx: RequestContext, headers: HeaderMap) -> Result<Response, AppError> {
    let list = flink.jobs_json(&ctx.principal).await?;
    // Either coding's tag names the same list: a client that switched codings need not
    // fetch it again.
    let (plain_tag, gzip_tag) = (list.etag.clone(), crate::flink::gzip_etag(&list.etag));
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|wanted| etag_matches(wanted, &plain_tag) || etag_matches(wanted, &gzip_tag));
    let gzip = accepts_gzip(&headers);
    let etag = if gzip { gzip_tag } else { plain_tag };
    let tag = HeaderValue::from_str(&etag).map_err(AppError::internal)?;
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag), vary]).into_response());
    }
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::ETAG, tag),
            vary,
        ],
        if gzip { list.gzip().await?.0 } else { list.json },
    )
        .into_response();
    if gzip {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// Whether `Accept-Encoding` takes gzip: named without `q=0`, or, when not named, `*` without
/// `q=0` (RFC 9110 §12.5.3: `*` stands for the codings the field does not list).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    let codings = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for coding in codings {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if name.eq_ignore_ascii_case("gzip") {
            gzip = Some(!refused);
        } else if name == "*" {
            any = Some(!refused);
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// Whether an `If-None-Match` value names `etag`: `*`, or one of its comma-separated tags
/// (weak ones compared weakly, as RFC 9110 asks for this header).
fn etag_matches(wanted: &str, etag: &str) -> bool {
    wanted
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// `{appVersion, patterns, endpointPathPatterns}`, as both Heimdalls answer `/config`.
async fn config(
    State(flink): State<FlinkService>,
    State(build): State<crate::home::BuildInfo>,
    ctx: RequestContext,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    let patterns = flink.patterns(&ctx.principal)?;
    Ok(axum::Json(json!({
        "appVersion": build.version,
        "patterns": patterns.patterns_json(),
        "endpointPathPatterns": patterns.endpoints_json(),
    })))
}

/// The live feed: a `snapshot` first, then `upsert` / `delete` per change and `status` when a
/// watch fails or recovers; a fresh `snapshot` after a relist or when this client fell behind.
/// Messages come converted and serialized once for all feeds (`FlinkService::subscribe`).
///
/// With `size` in the query (what the jobs page sends: `JobQuery`), a `view` instead: one page
/// of the filtered, sorted list with the counts around it, and a new one after each burst of
/// changes that alters it. At 10,000 jobs the page then holds the rows it shows, not 6 MB.
async fn events(
    State(identity): State<crate::identity::IdentityService>,
    State(flink): State<FlinkService>,
    State(closing): State<Closing>,
    ctx: RequestContext,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    // Ends with the server, or with the credential that opened it.
    let ended = identity.credential_ended(
        headers,
        ctx.meta.clone(),
        ctx.principal.actor_id(),
        |p: crate::identity::Principal| async move { p.authorize(crate::identity::Permission::Read).is_ok() },
    );
    let principal = ctx.principal;
    // Subscribe before taking the first message: a change in between arrives twice, never not
    // at all.
    let messages = flink.subscribe(&principal)?;
    let view = axum::extract::Query::<super::JobQuery>::try_from_uri(&uri)
        .ok()
        .map(|q| q.0)
        .filter(|q| !q.size.is_empty());
    let events = match view {
        Some(query) => {
            let first = flink.view(&principal, &query).await?;
            views(messages, flink, principal, query, first).left_stream()
        }
        None => {
            let first = flink.snapshot(&principal).await?;
            // Fallen behind: a fresh snapshot instead of what was missed.
            let rest = live::follow(messages, move || flink.snapshot_now(&principal).ok());
            stream::once(std::future::ready(first)).chain(rest).right_stream()
        }
    };
    Ok(live::serve("flink_jobs", events.map(|m| event_of(&m)), &closing, ended))
}

/// `first`, then a fresh view of `query` after each burst of changes, when it differs from the
/// last one sent. A burst is whatever arrived while the last view was being cut.
fn views(
    messages: tokio::sync::broadcast::Receiver<FeedMessage>,
    flink: FlinkService,
    principal: crate::identity::Principal,
    query: super::JobQuery,
    first: FeedMessage,
) -> impl Stream<Item = FeedMessage> + Send {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    let last = first.data.clone();
    let rest = stream::unfold(
        (messages, flink, principal, query, last),
        |(mut messages, flink, principal, query, mut last)| async move {
            loop {
                if let Err(RecvError::Closed) = messages.recv().await {
                    return None;
                }
                loop {
                    match messages.try_recv() {
                        Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Closed) => return None,
                    }
                }
                let Ok(view) = flink.view(&principal, &query).await else {
                    continue;
                };
                if view.data != last {
                    last = view.data.clone();
                    return Some((view, (messages, flink, principal, query, last)));
                }
            }
        },
    );
    stream::once(std::future::ready(first)).chain(rest)
}

fn event_of(message: &FeedMessage) -> Event {
    Event::default().event(message.event).data(&*message.data)
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), plus `host`.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
];

/// Heimdall's own credentials stay here: the Flink REST API never sees the caller's session
/// cookie or bearer token (the seed forwarded both).
const CREDENTIALS: [&str; 2] = ["cookie", "authorization"];

fn proxy_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

fn forwarded(headers: &HeaderMap, drop: &[&str]) -> HeaderMap {
    headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            !HOP_BY_HOP.contains(&n) && !drop.contains(&n)
        })
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

/// `{detail}` as the seed answered (FastAPI's shape), with Heimdall's `error` and `message`.
fn proxy_error(status: StatusCode, detail: &str) -> Response {
    let kind = match status.as_u16() {
        404 => "not_found",
        502 => "bad_gateway",
        504 => "gateway_timeout",
        s if s >= 500 => "upstream_error",
        _ => "upstream_refused",
    };
    (
        status,
        axum::Json(json!({ "error": kind, "message": detail, "detail": detail })),
    )
        .into_response()
}

/// The Python seed's reverse proxy to a job's Flink REST API, for signed-in users.
/// The upstream URL for a proxied request: the path as the client sent it (still encoded),
/// under the mapped base and never outside it. A segment that decodes to `.` or `..`, or that
/// hides a slash or backslash in an escape, would climb out of the base at the upstream: 400.
fn proxy_target(base: &str, uri: &axum::http::Uri, decoded: &str) -> Option<String> {
    let raw = uri
        .path()
        .strip_prefix("/proxy/")
        .and_then(|rest| rest.split_once('/'))
        .map_or(decoded, |(_, rest)| rest);
    for segment in raw.split('/') {
        // Exactly as the upstream will decode it (`&` and `+` are plain characters here).
        let plain = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        if matches!(plain.as_ref(), "." | "..") || plain.contains(['/', '\\']) {
            return None;
        }
    }
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let target = format!(
        "{}/{}{query}",
        base.trim_end_matches('/'),
        raw.trim_start_matches('/')
    );
    // Belt and braces: as the HTTP client will resolve it, still under the base.
    let (resolved, base_url) = (url::Url::parse(&target), url::Url::parse(base));
    match (resolved, base_url) {
        (Ok(resolved), Ok(base_url))
            if resolved.origin() == base_url.origin()
                && resolved.path().starts_with(base_url.path().trim_end_matches('/')) =>
        {
            Some(target)
        }
        _ => None,
    }
}

async fn proxy(
    State(flink): State<FlinkService>,
    ctx: RequestContext,
    Path((app, path)): Path<(String, String)>,
    req: Request,
) -> Result<Response, AppError> {
    // Reading goes through for whoever may read jobs; a change (cancel a job, upload a jar)
    // needs the role Heimdall's own Flink actions need — checked before anything is looked up.
    if !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD) {
        ctx.principal.authorize(crate::identity::Permission::Operate)?;
    }
    let base = flink.proxy_base(&ctx.principal, &app)?;
    let Some(target) = proxy_target(&base, req.uri(), &path) else {
        tracing::info!(path = %req.uri().path(), "proxy: a path that leaves the base refused");
        return Ok(proxy_error(
            StatusCode::BAD_REQUEST,
            "Invalid path: it leaves the proxied application's base",
        ));
    };
    let method = req.method().clone();
    let headers = forwarded(
        req.headers(),
        &[&["host", "content-length"][..], &CREDENTIALS[..]].concat(),
    );
    let body = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| AppError::too_large(BODY_LIMIT as u64))?;
    let sent = proxy_client()
        .request(method, &target)
        .headers(headers)
        .body(body)
        .timeout(flink.proxy_timeout())
        .send()
        .await;
    let upstream = match sent {
        Ok(response) => response,
        Err(e) if e.is_timeout() => {
            tracing::warn!(%target, "proxy: upstream timed out");
            return Ok(proxy_error(
                StatusCode::GATEWAY_TIMEOUT,
                "Upstream service timeout",
            ));
        }
        Err(e) if e.is_connect() => {
            tracing::warn!(%target, error = %e, "proxy: cannot connect");
            return Ok(proxy_error(
                StatusCode::BAD_GATEWAY,
                "Unable to connect to upstream service",
            ));
        }
        Err(e) => {
            tracing::warn!(%target, error = %e, "proxy: upstream failed");
            return Ok(proxy_error(StatusCode::BAD_GATEWAY, "Upstream service error"));
        }
    };
    let status = upstream.status();
    if status.as_u16() >= 400 {
        // Logged, not passed on: an upstream error page may say more than a client should see.
        tracing::warn!(%target, status = status.as_u16(), "proxy: upstream answered an error");
        let detail = match status.as_u16() {
            404 => "Upstream service not found".to_owned(),
            s if s >= 500 => "Upstream service error".to_owned(),
            s => format!("Upstream service returned error: {s}"),
        };
        return Ok(proxy_error(status, &detail));
    }
    let mut response = Response::builder().status(status);
    if let Some(h) = response.headers_mut() {
        *h = forwarded(upstream.headers(), &["set-cookie"]);
        h.remove(HeaderName::from_static("content-length"));
        h.entry(header::CACHE_CONTROL)
            .or_insert(header::HeaderValue::from_static("no-store"));
        // Whatever the upstream serves runs in a sandbox, not as Heimdall's origin: an HTML
        // page from a Flink cluster must not script requests with the user's session.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static("sandbox; frame-ancestors 'none'"),
        );
    }
    response
        .body(Body::from_stream(upstream.bytes_stream()))
        .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::{accepts_gzip, etag_matches};

    #[test]
    fn if_none_match_names_the_tag_in_any_of_its_forms() {
        let etag = "\"ab12-7\"";
        assert!(etag_matches("\"ab12-7\"", etag));
        assert!(etag_matches("W/\"ab12-7\"", etag));
        assert!(etag_matches("\"old-1\", \"ab12-7\"", etag));
        assert!(etag_matches("*", etag));
        assert!(!etag_matches("\"ab12-6\"", etag));
        assert!(!etag_matches("ab12-7", etag), "a tag is quoted");
        assert!(!etag_matches("", etag));
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        let with = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(axum::http::header::ACCEPT_ENCODING, value.parse().expect("a header value"));
            accepts_gzip(&headers)
        };
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("gzip; q=0.0, br"));
        assert!(!with("gzip;q=0, *"), "named and refused: `*` does not bring it back");
        assert!(!with("*;q=0"));
        assert!(with("br;q=0, *"));
        assert!(!with("br, deflate"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&axum::http::HeaderMap::new()));
    }
}
