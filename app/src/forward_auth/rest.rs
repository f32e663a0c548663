//! ForwardAuth over HTTP. Session mode at `/forward-auth/session`; CARTA mode at
//! `forward_auth.carta.path` and, when `forward_auth.carta.listen` is set, on a listener of its
//! own that answers every path and method (the seed's catch-all) after `/livez` and `/readyz`
//! (which the seed's catch-all shadowed). Every method is accepted: proxies forward the
//! original one. The answers are functions, not axum handlers: the server calls them on its
//! short path, straight from hyper (`server/src/http/forward_auth.rs`).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, State};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use serde::Serialize;
use serde_json::json;

use super::ForwardAuthService;
use crate::cluster::Cluster;
use crate::error::AppError;
use crate::forward_auth::{CartaDecision, SessionDecision, Vouched};
use crate::request::RequestMeta;
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

/// The dedicated CARTA listener's own routes: `GET /livez` and `GET /readyz`. Every other path
/// and method there is a CARTA question, answered on the server's short path before this
/// router (`server/src/http/forward_auth.rs`), as the seed's catch-all answered every method on
/// every path.
pub fn carta_health(forward_auth: ForwardAuthService, cluster: Cluster) -> Router {
    Router::new()
        .route("/livez", get(|| async { axum::Json(json!({ "status": "ok" })) }))
        .route("/readyz", get(carta_readyz))
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

/// A decision's response and the word `heimdall_forward_auth_decisions_total{decision}` counts
/// it under (the caller counts: it keeps the counters' handles).
pub struct Answer {
    pub response: Response,
    pub said: &'static str,
}

/// The seed's answers: 200 with `carta-auth-token` and `{ok, session, userid}`; 403 with
/// "missing session id" or "userid not found" as plain text.
pub async fn carta(forward_auth: &ForwardAuthService, headers: &HeaderMap) -> Answer {
    match forward_auth.carta(headers).await {
        CartaDecision::Allow {
            session,
            user,
            source,
            holder,
        } => {
            // The session id is not logged: whoever knows it passes.
            tracing::debug!(%user, source = source.as_str(), holder = holder.as_str(), "CARTA session allowed");
            let body = carta_pass(&session, &user);
            let mut response = json_response(StatusCode::OK, body);
            // Label values are `[A-Za-z0-9._-]`: always a valid header value.
            if let Ok(value) = HeaderValue::from_str(&user) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static("carta-auth-token"), value);
            }
            Answer {
                response,
                said: "allowed",
            }
        }
        CartaDecision::MissingSession => Answer {
            response: plain(StatusCode::FORBIDDEN, "missing session id"),
            said: "refused",
        },
        CartaDecision::UnknownUser { .. } => Answer {
            response: plain(StatusCode::FORBIDDEN, "userid not found"),
            said: "refused",
        },
        CartaDecision::Unavailable(reason) => {
            tracing::warn!(%reason, "CARTA decision unavailable");
            Answer {
                response: plain(StatusCode::SERVICE_UNAVAILABLE, &reason),
                said: "unavailable",
            }
        }
    }
}

/// `{"ok":true,"session":…,"userid":…}`. Session ids are letters and digits and user labels
/// Kubernetes label values (`[A-Za-z0-9._-]`), which JSON carries as they are: written out
/// directly, the most frequent answer costs no serializer; anything else goes through serde.
fn carta_pass(session: &str, user: &str) -> Bytes {
    let plain = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    if plain(session) && plain(user) {
        let mut body = Vec::with_capacity(36 + session.len() + user.len());
        body.extend_from_slice(br#"{"ok":true,"session":""#);
        body.extend_from_slice(session.as_bytes());
        body.extend_from_slice(br#"","userid":""#);
        body.extend_from_slice(user.as_bytes());
        body.extend_from_slice(br#""}"#);
        return Bytes::from(body);
    }
    Bytes::from(
        serde_json::to_vec(&json!({ "ok": true, "session": session, "userid": user }))
            .unwrap_or_default(),
    )
}

/// Header lines a decision's response carries at most (its own, the security headers,
/// `Cache-Control`, `X-Request-Id`): reserved once instead of grown on the way.
const ANSWER_HEADERS: usize = 16;

/// A JSON response whose header map has room for everything the short path adds.
fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.reserve(ANSWER_HEADERS);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut response = Response::new(Body::from(text.to_owned()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.reserve(ANSWER_HEADERS);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
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
/// `extensions` carry the client's address (`ClientAddr`).
pub async fn session(
    forward_auth: &ForwardAuthService,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Answer {
    // Made only when read: a cached pass never needs it.
    let meta = || RequestMeta::from_parts(headers, extensions);
    let decision = match forward_auth.session(headers, &meta).await {
        Ok(decision) => decision,
        Err(e) => {
            return Answer {
                response: e.into_response(),
                said: "error",
            };
        }
    };
    match decision {
        SessionDecision::Allow(vouched) => Answer {
            response: allowed(&vouched),
            said: "allowed",
        },
        SessionDecision::SignIn { login_url, reason } => Answer {
            response: sign_in(headers, &login_url, &reason),
            said: "sign_in",
        },
        SessionDecision::Forbidden { reason, .. } => Answer {
            response: AppError::forbidden(reason).into_response(),
            said: "forbidden",
        },
    }
}

/// A pass's body and headers, made once per vouching (kept with it in the session-mode cache):
/// a hit costs reference counts, not serialising and validating the same values again.
#[derive(Debug, Clone)]
pub struct Wire {
    body: Bytes,
    user: Option<HeaderValue>,
    email: Option<HeaderValue>,
    groups: Option<HeaderValue>,
}

impl Wire {
    pub(super) fn of(vouched: &Vouched) -> Self {
        #[derive(Serialize)]
        struct Pass<'a> {
            email: Option<&'a str>,
            groups: &'a [String],
            ok: bool,
            user: &'a str,
        }
        let groups = vouched.groups();
        let body = serde_json::to_vec(&Pass {
            email: vouched.email.as_deref(),
            groups: &groups,
            ok: true,
            user: &vouched.user,
        })
        .unwrap_or_default();
        // Usernames and emails are checked when accounts are made; a value a header cannot
        // carry is left out rather than mangled.
        Self {
            body: Bytes::from(body),
            user: HeaderValue::from_str(&vouched.user).ok(),
            email: vouched.email.as_deref().and_then(|e| HeaderValue::from_str(e).ok()),
            groups: HeaderValue::from_str(&groups.join(",")).ok(),
        }
    }
}

fn allowed(vouched: &Vouched) -> Response {
    let wire = vouched.wire();
    let mut response = json_response(StatusCode::OK, wire.body.clone());
    let headers = response.headers_mut();
    for (names, value) in [
        (["x-auth-request-user", "remote-user"], &wire.user),
        (["x-auth-request-email", "remote-email"], &wire.email),
        (["x-auth-request-groups", "remote-groups"], &wire.groups),
    ] {
        if let Some(value) = value {
            for name in names {
                headers.insert(HeaderName::from_static(name), value.clone());
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::carta_pass;

    #[test]
    fn a_pass_is_the_json_serde_would_write() {
        for (session, user) in [("abc123", "alice"), ("s1", "a.b_c-d"), ("s2", "x\"y"), ("s3", "ü")] {
            let written: serde_json::Value = serde_json::from_slice(&carta_pass(session, user)).expect("JSON");
            assert_eq!(
                written,
                serde_json::json!({ "ok": true, "session": session, "userid": user })
            );
        }
        // The seed's key order.
        assert_eq!(
            &carta_pass("abc", "alice")[..],
            br#"{"ok":true,"session":"abc","userid":"alice"}"#
        );
    }
}
