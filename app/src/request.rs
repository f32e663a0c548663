//! What every domain needs to know about a request besides its credentials: the client's
//! address and user agent (sessions, the audit log, sign-in backoff) and the host.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, header};

/// A service (or other shared handle) inside a server function: the server provides each
/// one from its composition root (`AppState::provide`) for every request.
pub fn service<T: Clone + Send + Sync + 'static>() -> Result<T, crate::error::AppError> {
    leptos::prelude::use_context::<T>().ok_or_else(|| {
        crate::error::AppError::internal(format!(
            "{} is not in the Leptos context",
            std::any::type_name::<T>()
        ))
    })
}

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
    /// The client's address: what the `client_address` layer worked out (`X-Forwarded-For`
    /// believed only from a proxy on `server.trusted_proxies`), else the peer's.
    pub fn from_parts(headers: &HeaderMap, extensions: &axum::http::Extensions) -> Self {
        let text =
            |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            ip: extensions
                .get::<ClientAddr>()
                .map(|ClientAddr(ip)| ip.to_string())
                .or_else(|| {
                    extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|ConnectInfo(addr)| addr.ip().to_string())
                })
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

/// The client's address as the request extensions carry it, once worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// `server.trusted_proxies`: the networks whose `X-Forwarded-For` is believed. Empty (the
/// default): nobody's — the header is the client's to write.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<(IpAddr, u8)>>);

impl TrustedProxies {
    /// `10.0.0.0/8`, `fd00::/8` or a single address; the first entry that is neither is named.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut nets = Vec::with_capacity(entries.len());
        for entry in entries {
            let entry = entry.trim();
            let (addr, bits) = match entry.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (entry, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| entry.to_owned())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| entry.to_owned())?,
                None => max,
            };
            nets.push((addr, bits));
        }
        Ok(Self(Arc::new(nets)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| in_network(ip, canonical(*net), *bits))
    }

    /// The client behind `peer`: with a trusted peer, the right-most `X-Forwarded-For` entry
    /// that is not itself a trusted proxy (entries further left are the client's to invent);
    /// otherwise the peer.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| hop.trim().parse::<IpAddr>())
            .collect::<Result<_, _>>()
            // A malformed list says nothing reliable: the peer it is.
            .unwrap_or_default();
        hops.into_iter()
            .rev()
            .find(|hop| !self.contains(*hop))
            .unwrap_or(peer)
    }
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Which other sites' pages may call Heimdall's REST routes (`server.cors`; the operator
/// console's `security.cors`, the IDP portal's any-origin middleware). Such a page calls with a
/// bearer token: no credentials are ever allowed cross-origin, so the session cookie stays
/// same-site (and a change that rides on it from another origin stays refused as cross-site).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cors {
    pub enabled: bool,
    /// `scheme://host[:port]` each, or `*` for any.
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    /// How long a browser may keep a preflight's answer.
    pub max_age_secs: u64,
}

impl Default for Cors {
    /// Any origin, bearer requests only: what the IDP portal's clients were written against
    /// (it allowed every origin), safe because nothing cross-origin carries a cookie.
    fn default() -> Self {
        Self {
            enabled: true,
            allow_origins: vec!["*".into()],
            allow_methods: ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .map(String::from)
                .to_vec(),
            allow_headers: vec![
                "authorization".into(),
                "content-type".into(),
                "last-event-id".into(),
            ],
            max_age_secs: 600,
        }
    }
}

impl Cors {
    /// Whether a page at `origin` may call.
    pub fn allows(&self, origin: &str) -> bool {
        self.enabled
            && self
                .allow_origins
                .iter()
                .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    }
}

impl Cors {
    /// What is wrong with this setting at `key` (`server.cors`, `pipelines.cors`), one line each.
    pub fn problems(&self, key: &str) -> Vec<String> {
        let cors = self;
        let mut problems = Vec::new();
        for origin in &cors.allow_origins {
            let valid = origin == "*"
                || url::Url::parse(origin).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.origin().ascii_serialization() == origin.trim_end_matches('/')
                });
            if !valid {
                problems.push(format!(
                    "{key}.allow_origins: {origin:?} is not an origin (scheme://host[:port], or *)"
                ));
            }
        }
        for method in &cors.allow_methods {
            if axum::http::Method::from_bytes(method.as_bytes()).is_err() {
                problems.push(format!("{key}.allow_methods: {method:?} is not a method"));
            }
        }
        for header in &cors.allow_headers {
            if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
                problems.push(format!("{key}.allow_headers: {header:?} is not a header name"));
            }
        }
        if cors.enabled && cors.allow_origins.is_empty() {
            problems.push(format!("{key}.enabled with no allow_origins: name the origins"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", value.parse().expect("header"));
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8".into(), "fd00::/8".into(), "192.0.2.7".into()])
            .expect("valid");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // A client straight in: its own header means nothing.
        assert_eq!(
            trusted.client(ip("203.0.113.9"), &xff("1.2.3.4")),
            ip("203.0.113.9")
        );
        // Through the ingress: the right-most address the ingress added.
        assert_eq!(
            trusted.client(ip("10.1.2.3"), &xff("6.6.6.6, 198.51.100.4")),
            ip("198.51.100.4")
        );
        // Through two trusted hops.
        assert_eq!(
            trusted.client(ip("10.1.2.3"), &xff("198.51.100.4, 10.9.9.9")),
            ip("198.51.100.4")
        );
        assert_eq!(
            trusted.client(ip("::ffff:10.1.2.3"), &xff("198.51.100.5")),
            ip("198.51.100.5")
        );
        assert_eq!(
            trusted.client(ip("192.0.2.7"), &xff("198.51.100.6")),
            ip("198.51.100.6")
        );
        // Nothing or nonsense: the proxy itself.
        assert_eq!(trusted.client(ip("10.1.2.3"), &HeaderMap::new()), ip("10.1.2.3"));
        assert_eq!(trusted.client(ip("10.1.2.3"), &xff("not-an-ip")), ip("10.1.2.3"));
        assert!(!TrustedProxies::default().contains(ip("10.1.2.3")));
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.0/33".into()]).err().as_deref(),
            Some("10.0.0.0/33")
        );
        assert_eq!(
            TrustedProxies::parse(&["ingress".into()]).err().as_deref(),
            Some("ingress")
        );
    }
}
