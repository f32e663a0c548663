//! What every domain needs to know about a request besides its credentials: the client's
//! address and user agent (sessions, the audit log, sign-in backoff) and the host.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, header};

/// Client address, user agent and host of one request (for sessions and the audit log).
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: String,
    pub user_agent: String,
    /// `Host`, for building redirect URIs when no public URL is configured.
    pub host: Option<String>,
}

/// Whether the caller is a browser asking for a page (`Accept` names `text/html`): it gets a
/// redirect or a page where an API client gets JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

impl RequestMeta {
    /// Reads the peer address from axum's `ConnectInfo`; proxies' `X-Forwarded-For` is not
    /// trusted (it is the client's to set).
    pub fn from_parts(headers: &HeaderMap, extensions: &axum::http::Extensions) -> Self {
        let text =
            |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            ip: extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string())
                .unwrap_or_default(),
            user_agent: text(header::USER_AGENT)
                .map(|ua| ua.chars().take(200).collect())
                .unwrap_or_default(),
            host: text(header::HOST),
        }
    }

    /// The base URL the browser reached us at: the configured public URL, else `http://<Host>`.
    pub fn base_url(&self, public_url: Option<&str>) -> String {
        match (public_url, &self.host) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(host)) => format!("http://{host}"),
            (None, None) => "http://127.0.0.1".to_owned(),
        }
    }
}
