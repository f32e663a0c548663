//! ForwardAuth over HTTP. Session mode at `/forward-auth/session`; CARTA mode at
//! `forward_auth.carta.path` and, when `forward_auth.carta.listen` is set, on a listener of its
//! own that answers every path and method (the seed's catch-all) after `/livez` and `/readyz`
//! (which the seed's catch-all shadowed). Every method is accepted: proxies forward the
//! original one.

use axum::Router;
use axum::extract::{FromRef, State};

use super::ForwardAuthService;
use crate::cluster::Cluster;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::json;

use crate::error::AppError;
use crate::forward_auth::{CartaDecision, SessionDecision, Vouched};
use crate::request::RequestMeta;

use crate::forward_auth::SESSION_PATH;

use crate::rest::doc::{Auth, Op};

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them). The CARTA path is
/// `forward_auth.carta.path` (shown at its default).
pub const DOC: &[Op] = &[
    Op::new(
        "ANY",
        "/forward-auth/session",
        "Session mode: may this request through, and as whom?",
        Auth::Heimdall,
    )
    .responses(&[
        (
            200,
            "yes: X-Auth-Request-User/-Email/-Groups and Remote-User/-Email/-Groups",
        ),
        (401, "signed out: Location to the login page"),
        (403, "an access rule refuses"),
    ]),
    Op::new(
        "ANY",
        "/forward-auth/carta",
        "CARTA mode: the session id from Referer or X-Forwarded-Uri, its user from Kubernetes labels",
        Auth::Public,
    )
    .responses(&[
        (200, "carta-auth-token and {ok, session, userid}"),
        (403, "missing session id / userid not found (plain text)"),
    ]),
];

/// The routes on Heimdall's own listener. They sit outside the page guards: they change
/// nothing (no cross-site question to ask) and a signed-out browser's answer is theirs to give.
pub fn routes<S>(forward_auth: &ForwardAuthService) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ForwardAuthService: FromRef<S>,
{
    let router = Router::new().route(SESSION_PATH, any(session));
    if forward_auth.carta_enabled() {
        router.route(&forward_auth.settings().carta_path, any(carta))
    } else {
        router
    }
}

/// The dedicated CARTA listener: health first, then every other path and method is a CARTA
/// question.
pub fn carta_router(forward_auth: ForwardAuthService, cluster: Cluster) -> Router {
    Router::new()
        // GET only: any other method on these paths is a CARTA check, as the seed's
        // catch-all answered every method on every path.
        .route(
            "/livez",
            get(|| async { axum::Json(json!({ "status": "ok" })) }).fallback(carta),
        )
        .route("/readyz", get(carta_readyz).fallback(carta))
        .fallback(carta)
        .with_state(CartaState {
            forward_auth,
            cluster,
        })
}

/// What the dedicated listener's handlers reach.
#[derive(Clone, FromRef)]
struct CartaState {
    forward_auth: ForwardAuthService,
    cluster: Cluster,
}

/// The seed's answers: 200 with `carta-auth-token` and `{ok, session, userid}`; 403 with
/// "missing session id" or "userid not found" as plain text.
async fn carta(State(forward_auth): State<ForwardAuthService>, headers: HeaderMap) -> Response {
    let decision = forward_auth.carta(&headers).await;
    let said = match &decision {
        CartaDecision::Allow { .. } => "allowed",
        CartaDecision::MissingSession | CartaDecision::UnknownUser { .. } => "refused",
        CartaDecision::Unavailable(_) => "unavailable",
    };
    metrics::counter!("heimdall_forward_auth_decisions_total", "mode" => "carta", "decision" => said)
        .increment(1);
    match decision {
        CartaDecision::Allow {
            session,
            user,
            source,
            holder,
        } => {
            // The session id is not logged: whoever knows it passes.
            tracing::debug!(%user, source = source.as_str(), holder = holder.as_str(), "CARTA session allowed");
            let mut response =
                axum::Json(json!({ "ok": true, "session": session, "userid": user })).into_response();
            // Label values are `[A-Za-z0-9._-]`: always a valid header value.
            if let Ok(value) = HeaderValue::from_str(&user) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static("carta-auth-token"), value);
            }
            response
        }
        CartaDecision::MissingSession => plain(StatusCode::FORBIDDEN, "missing session id"),
        CartaDecision::UnknownUser { .. } => plain(StatusCode::FORBIDDEN, "userid not found"),
        CartaDecision::Unavailable(reason) => {
            tracing::warn!(%reason, "CARTA decision unavailable");
            plain(StatusCode::SERVICE_UNAVAILABLE, &reason)
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response()
}

/// The seed's readiness: the API server answers and, here, both session watches are synced.
async fn carta_readyz(
    State(forward_auth): State<ForwardAuthService>,
    State(cluster): State<Cluster>,
) -> Response {
    let cluster = cluster.status().await;
    let result = match cluster {
        crate::cluster::ClusterStatus::Connected { .. } => forward_auth.readiness(),
        crate::cluster::ClusterStatus::Unreachable { error, .. } => {
            Err(format!("kubernetes unreachable: {error}"))
        }
        crate::cluster::ClusterStatus::NotConfigured { reason } => {
            Err(format!("kubernetes not configured: {reason}"))
        }
    };
    match result {
        Ok(()) => axum::Json(json!({ "status": "ready" })).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "not_ready", "error": error })),
        )
            .into_response(),
    }
}

/// Session mode: 200 with the user headers; 401 with the login address (a browser also gets a
/// page that goes there); 403 when an access rule wants a role or tenant the user lacks.
async fn session(State(forward_auth): State<ForwardAuthService>, parts: Parts) -> Response {
    let meta = RequestMeta::from_parts(&parts.headers, &parts.extensions);
    let decision = match forward_auth.session(&parts.headers, &meta).await {
        Ok(decision) => decision,
        Err(e) => return e.into_response(),
    };
    let said = match &decision {
        SessionDecision::Allow(_) => "allowed",
        SessionDecision::SignIn { .. } => "sign_in",
        SessionDecision::Forbidden { .. } => "forbidden",
    };
    metrics::counter!("heimdall_forward_auth_decisions_total", "mode" => "session", "decision" => said)
        .increment(1);
    match decision {
        SessionDecision::Allow(vouched) => allowed(&vouched),
        SessionDecision::SignIn { login_url, reason } => sign_in(&parts.headers, &login_url, &reason),
        SessionDecision::Forbidden { reason, .. } => AppError::forbidden(reason).into_response(),
    }
}

fn allowed(vouched: &Vouched) -> Response {
    let groups = vouched.groups();
    let mut response = axum::Json(json!({
        "ok": true,
        "user": vouched.user,
        "email": vouched.email,
        "groups": groups,
    }))
    .into_response();
    let headers = response.headers_mut();
    let joined = groups.join(",");
    let mut put = |names: [&'static str; 2], value: &str| {
        // Usernames and emails are checked when accounts are made; a value a header cannot
        // carry is left out rather than mangled.
        if let Ok(value) = HeaderValue::from_str(value) {
            for name in names {
                headers.insert(HeaderName::from_static(name), value.clone());
            }
        }
    };
    put(["x-auth-request-user", "remote-user"], &vouched.user);
    if let Some(email) = &vouched.email {
        put(["x-auth-request-email", "remote-email"], email);
    }
    put(["x-auth-request-groups", "remote-groups"], &joined);
    response
}

fn sign_in(request: &HeaderMap, login_url: &str, reason: &str) -> Response {
    let browser = crate::request::wants_html(request);
    let mut response = if browser {
        let href = html_escape(login_url);
        // Traefik hands this page to the browser as it is; the refresh takes it to the login.
        // nginx uses the `Location` through `auth_request_set` and its own `error_page`.
        Html(format!(
            "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={href}\">\
             <title>Sign in</title><p>Sign in to continue: <a href=\"{href}\">{href}</a></p>"
        ))
        .into_response()
    } else {
        axum::Json(json!({ "error": "unauthenticated", "message": reason, "login_url": login_url }))
            .into_response()
    };
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    let headers = response.headers_mut();
    headers.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"heimdall\""),
    );
    if let Ok(value) = HeaderValue::from_str(login_url) {
        headers.insert(header::LOCATION, value.clone());
        headers.insert(HeaderName::from_static("x-auth-request-redirect"), value);
    }
    response
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
