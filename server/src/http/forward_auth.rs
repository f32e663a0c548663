//! ForwardAuth's short path. A proxy asks before every request it forwards, so a decision is
//! the answer Heimdall gives most often; it skips the layers meant for pages and API calls
//! (the flame graphs in `docs/forward-auth.md`): no tracing span, no generated request id, no
//! compression check, no body timeout (a decision never reads a body), no page guards (it never
//! had them). What a decision keeps is done here in one pass: the client's address (for
//! session mode's session records), the request's own `X-Request-Id` echoed back, the browser
//! security and `Cache-Control` headers the full path sets (Traefik hands a refusal to the
//! browser as it is), and the request metrics under the same series, with labels that cost no
//! allocation.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use metrics::SharedString;

use app::forward_auth::SESSION_PATH;
use app::request::{ClientAddr, TrustedProxies};
use app::state::AppState;

use super::layers::{self, REQUEST_ID};

/// What the short path needs of the state, worked out once.
struct Short {
    trusted_proxies: TrustedProxies,
    hsts: bool,
    /// `forward_auth.carta.path` as a metrics label (configured, so not `'static`; shared, so a
    /// clone is a reference count).
    carta_path: SharedString,
    /// Whether requests are counted in the HTTP metrics: on Heimdall's listener, as every other
    /// route is; not on the dedicated CARTA listener, whose requests never were.
    counted: bool,
}

/// Heimdall's ForwardAuth routes on the short path; every other request goes to `rest`.
pub fn in_front_of(rest: Router, state: &AppState) -> Router {
    let routes = app::forward_auth::rest::routes(&state.forward_auth).with_state(state.clone());
    short_path(routes, state, true).fallback_service(rest)
}

/// The dedicated CARTA listener (`forward_auth.carta.listen`): all of it is the short path.
pub fn carta_listener(state: &AppState) -> Router {
    let carta = app::forward_auth::rest::carta_router(state.forward_auth.clone(), state.cluster.clone());
    short_path(carta, state, false)
}

fn short_path(router: Router, state: &AppState, counted: bool) -> Router {
    let short = Arc::new(Short {
        trusted_proxies: state.trusted_proxies.clone(),
        hsts: layers::hsts_wanted(state),
        carta_path: SharedString::from(Arc::<str>::from(
            state.forward_auth.settings().carta_path.as_str(),
        )),
        counted,
    });
    router.layer(middleware::from_fn_with_state(short, decision))
}

async fn decision(State(short): State<Arc<Short>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>() {
        let client = short.trusted_proxies.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    let request_id = request.headers().get(&REQUEST_ID).cloned();
    let labels = short.counted.then(|| {
        let route = if request.uri().path() == SESSION_PATH {
            SharedString::const_str(SESSION_PATH)
        } else {
            short.carta_path.clone()
        };
        (method_label(request.method()), route)
    });
    let mut response = next.run(request).await;
    let status = response.status();
    let headers = response.headers_mut();
    if let Some(id) = request_id {
        headers.insert(REQUEST_ID, id);
    }
    layers::put_security_headers(headers, short.hsts);
    if status.is_success() && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some((method, route)) = labels {
        metrics::counter!("heimdall_http_requests_total", "method" => method, "route" => route.clone(), "status" => status_label(status))
            .increment(1);
        metrics::histogram!("heimdall_http_request_duration_seconds", "method" => method, "route" => route)
            .record(started.elapsed().as_secs_f64());
    }
    response
}

/// The method label of the full path's metrics (`metrics::record`), without allocating.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The statuses a decision answers with as static labels; any other is written out.
fn status_label(status: StatusCode) -> SharedString {
    match status.as_u16() {
        200 => SharedString::const_str("200"),
        401 => SharedString::const_str("401"),
        403 => SharedString::const_str("403"),
        503 => SharedString::const_str("503"),
        other => SharedString::from_owned(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_the_full_paths() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").expect("a method")),
            "other"
        );
        for code in [200, 401, 403, 404, 500, 503] {
            let status = StatusCode::from_u16(code).expect("a status");
            assert_eq!(status_label(status).as_ref(), code.to_string());
        }
    }
}
