//! ForwardAuth's short path. A proxy asks before every request it forwards, so a decision is
//! the answer Heimdall gives most often; the accept loop (`serve.rs`) hands it here straight
//! from hyper, before axum's router and the layers meant for pages and API calls (the flame
//! graphs in `docs/flamegraphs/`): no routing table, no boxed middleware, no tracing span, no
//! generated request id, no compression check, no body timeout (a decision never reads a body),
//! no page guards (it never had them). What a decision keeps is done here in one pass: the
//! client's address (for session mode's session records), the request's own `X-Request-Id`
//! echoed back, the browser security and `Cache-Control` headers the full path sets (Traefik
//! hands a refusal to the browser as it is), and the request and decision metrics under the
//! same series, through handles registered once instead of looked up per request.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use metrics::{Counter, Histogram, SharedString};

use app::forward_auth::ForwardAuthService;
use app::forward_auth::SESSION_PATH;
use app::forward_auth::rest::{self as answers, Answer};
use app::request::{ClientAddr, TrustedProxies};
use app::state::AppState;

use super::layers::{self, REQUEST_ID};

/// Which question a request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    Session,
    Carta,
}

/// Where the short path sits.
enum Listener {
    /// Heimdall's own: session mode at its path, CARTA mode at `forward_auth.carta.path` when
    /// it is on; every other request goes to the full router.
    Heimdall { carta_path: Option<Box<str>> },
    /// The dedicated CARTA listener (`forward_auth.carta.listen`): every path and method is a
    /// CARTA question except `GET /livez` and `GET /readyz`.
    Carta,
}

/// ForwardAuth's answers, ahead of the router.
pub struct ShortPath {
    forward_auth: ForwardAuthService,
    trusted_proxies: TrustedProxies,
    hsts: bool,
    listener: Listener,
    metrics: Metrics,
}

impl ShortPath {
    /// On Heimdall's listener. Build it after the metrics recorder is installed (startup does):
    /// the handles it keeps are the recorder's.
    pub fn heimdall(state: &AppState) -> Self {
        let carta_path = state
            .forward_auth
            .carta_enabled()
            .then(|| state.forward_auth.settings().carta_path.as_str().into());
        let metrics = Metrics::new(true, carta_path.as_deref());
        Self::new(state, Listener::Heimdall { carta_path }, metrics)
    }

    /// On the dedicated CARTA listener, whose requests were never in the HTTP request series.
    pub fn carta(state: &AppState) -> Self {
        Self::new(state, Listener::Carta, Metrics::new(false, None))
    }

    fn new(state: &AppState, listener: Listener, metrics: Metrics) -> Self {
        Self {
            forward_auth: state.forward_auth.clone(),
            trusted_proxies: state.trusted_proxies.clone(),
            hsts: layers::hsts_wanted(state),
            listener,
            metrics,
        }
    }

    /// The question this request asks, if it is one for the short path. Paths compare exactly,
    /// as the router's did: `/forward-auth/session/` is not session mode.
    pub fn question(&self, method: &Method, path: &str) -> Option<Question> {
        match &self.listener {
            Listener::Heimdall { carta_path } => {
                if path == SESSION_PATH {
                    Some(Question::Session)
                } else if carta_path.as_deref() == Some(path) {
                    Some(Question::Carta)
                } else {
                    None
                }
            }
            Listener::Carta => {
                let health = (path == "/livez" || path == "/readyz")
                    && (method == Method::GET || method == Method::HEAD);
                (!health).then_some(Question::Carta)
            }
        }
    }

    /// Answers `question` for `request`, which came from `peer`. The body is never read.
    pub async fn answer<B>(
        &self,
        question: Question,
        request: axum::http::Request<B>,
        peer: SocketAddr,
    ) -> Response {
        let started = self.metrics.counted.then(Instant::now);
        let (mut parts, _body) = request.into_parts();
        let request_id = parts.headers.get(&REQUEST_ID).cloned();
        let Answer { mut response, said } = match question {
            Question::Carta => answers::carta(&self.forward_auth, &parts.headers).await,
            Question::Session => {
                let client = self.trusted_proxies.client(peer.ip(), &parts.headers);
                parts.extensions.insert(ClientAddr(client));
                answers::session(&self.forward_auth, &parts.headers, &parts.extensions).await
            }
        };
        let status = response.status();
        finish(response.headers_mut(), status, request_id, self.hsts);
        self.metrics.decided(question, said);
        if let Some(started) = started {
            self.metrics.answered(question, &parts.method, status, started);
        }
        response
    }
}

/// What the short path adds to every answer: the caller's request id, the security headers,
/// and `no-store` on a pass (no shared cache may keep who someone is).
fn finish(headers: &mut HeaderMap, status: StatusCode, request_id: Option<HeaderValue>, hsts: bool) {
    if let Some(id) = request_id {
        headers.insert(REQUEST_ID, id);
    }
    layers::put_security_headers(headers, hsts);
    if status.is_success() && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The dedicated CARTA listener's health routes, finished as its decisions are.
pub fn carta_health(state: &AppState) -> Router {
    let hsts = layers::hsts_wanted(state);
    answers::carta_health(state.forward_auth.clone(), state.cluster.clone())
        .layer(middleware::from_fn_with_state(hsts, finish_health))
}

async fn finish_health(State(hsts): State<bool>, request: Request, next: Next) -> Response {
    let request_id = request.headers().get(&REQUEST_ID).cloned();
    let mut response = next.run(request).await;
    let status = response.status();
    finish(response.headers_mut(), status, request_id, hsts);
    response
}

/// The statuses a decision answers with; any other is counted through the facade.
const STATUSES: [u16; 4] = [200, 401, 403, 503];

/// One route's request series for `GET` (what proxies send), one handle per status.
struct Series {
    route: SharedString,
    requests: [Counter; STATUSES.len()],
    duration: Histogram,
}

impl Series {
    fn new(route: SharedString) -> Self {
        Self {
            requests: STATUSES.map(|status| {
                metrics::counter!("heimdall_http_requests_total", "method" => "GET", "route" => route.clone(), "status" => status.to_string())
            }),
            duration: metrics::histogram!("heimdall_http_request_duration_seconds", "method" => "GET", "route" => route.clone()),
            route,
        }
    }
}

/// The handles the short path counts through: `heimdall_http_requests_total` and
/// `heimdall_http_request_duration_seconds` under the route (as `http::metrics::record` counts
/// every other request), and `heimdall_forward_auth_decisions_total{mode,decision}`.
struct Metrics {
    counted: bool,
    session: Series,
    carta: Option<Series>,
    decisions: Vec<(Question, &'static str, Counter)>,
}

impl Metrics {
    fn new(counted: bool, carta_path: Option<&str>) -> Self {
        let decision = |question, mode: &'static str, said: &'static str| {
            let counter = metrics::counter!("heimdall_forward_auth_decisions_total", "mode" => mode, "decision" => said);
            (question, said, counter)
        };
        Self {
            counted,
            session: Series::new(SharedString::const_str(SESSION_PATH)),
            carta: carta_path.map(|path| Series::new(SharedString::from(path.to_owned()))),
            decisions: vec![
                decision(Question::Carta, "carta", "allowed"),
                decision(Question::Carta, "carta", "refused"),
                decision(Question::Carta, "carta", "unavailable"),
                decision(Question::Session, "session", "allowed"),
                decision(Question::Session, "session", "sign_in"),
                decision(Question::Session, "session", "forbidden"),
            ],
        }
    }

    /// Counts a decision; an error that was no decision (the database failed) is not one.
    fn decided(&self, question: Question, said: &str) {
        if let Some((.., counter)) = self
            .decisions
            .iter()
            .find(|(q, s, _)| *q == question && *s == said)
        {
            counter.increment(1);
        }
    }

    fn answered(&self, question: Question, method: &Method, status: StatusCode, started: Instant) {
        let Some(series) = (match question {
            Question::Session => Some(&self.session),
            Question::Carta => self.carta.as_ref(),
        }) else {
            return;
        };
        let seconds = started.elapsed().as_secs_f64();
        let at = STATUSES.iter().position(|s| *s == status.as_u16());
        match (method == Method::GET, at) {
            (true, Some(at)) => {
                series.requests[at].increment(1);
                series.duration.record(seconds);
            }
            _ => {
                let method = super::metrics::method_label(method);
                metrics::counter!("heimdall_http_requests_total", "method" => method, "route" => series.route.clone(), "status" => status.as_u16().to_string())
                    .increment(1);
                metrics::histogram!("heimdall_http_request_duration_seconds", "method" => method, "route" => series.route.clone())
                    .record(seconds);
            }
        }
    }
}
