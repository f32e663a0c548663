//! Session mode: "may this request through, and as whom?" answered from a Heimdall session
//! cookie or bearer token, as oauth2-proxy's `/oauth2/auth` and Authelia's forward-auth
//! endpoint answer it. The pieces here are pure: where the original request was going (from the
//! proxy's headers), which access rule applies to it, and the login address a signed-out
//! browser is sent to (its return address checked against `auth.allowed_return_hosts`).

use axum::http::HeaderMap;

use crate::identity::{HostPattern, ReturnHosts, Role};

/// What a protected host or path needs beyond being signed in. The first rule whose host and
/// path match applies; with no match, any signed-in user passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRule {
    /// `None` matches every host.
    pub host: Option<HostPattern>,
    /// Matches the path itself and everything below it (`/admin` covers `/admin/x`, not
    /// `/administrator`); `/` matches everything.
    pub path_prefix: String,
    /// The least role that passes.
    pub role: Option<Role>,
    /// The tenant (slug) the user must belong to; admins belong everywhere.
    pub tenant: Option<String>,
}

impl AccessRule {
    fn matches(&self, target: Option<&OriginalRequest>) -> bool {
        let (host, port, path) = match target {
            Some(t) => (Some(t.host.as_str()), t.port, t.path.as_str()),
            // Where the request was going is unknown: only rules for everything apply.
            None => (None, None, "/"),
        };
        let host_ok = match (&self.host, host) {
            (None, _) => true,
            (Some(pattern), Some(host)) => pattern.matches(host, port),
            (Some(_), None) => false,
        };
        host_ok && path_has_prefix(path, &self.path_prefix)
    }
}

fn path_has_prefix(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The first rule that applies to `target`.
pub fn rule_for<'a>(rules: &'a [AccessRule], target: Option<&OriginalRequest>) -> Option<&'a AccessRule> {
    rules.iter().find(|rule| rule.matches(target))
}

/// Where the proxied request was going, from `X-Original-URL` (nginx, Authelia's convention)
/// or `X-Forwarded-Proto` + `X-Forwarded-Host` + `X-Forwarded-Uri` (Traefik).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRequest {
    /// The whole URL, normalised.
    pub url: String,
    /// Lower case, without the port.
    pub host: String,
    /// The explicit or the scheme's default port.
    pub port: Option<u16>,
    pub path: String,
}

impl OriginalRequest {
    /// `None` when the headers do not say (or say something that is not an http(s) URL).
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        if let Some(original) = text("x-original-url") {
            return Self::parse(original);
        }
        let host = text("x-forwarded-host")?.split(',').next()?.trim();
        let scheme = text("x-forwarded-proto")
            .and_then(|p| p.split(',').next())
            .map(str::trim)
            .unwrap_or("http");
        let uri = text("x-forwarded-uri").unwrap_or("/");
        if !uri.starts_with('/') || host.contains(['/', '\\', '@', '?', '#']) {
            return None;
        }
        Self::parse(&format!("{scheme}://{host}{uri}"))
    }

    fn parse(text: &str) -> Option<Self> {
        let url = url::Url::parse(text).ok()?;
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some()
        {
            return None;
        }
        Some(Self {
            host: url.host_str()?.to_owned(),
            port: url.port_or_known_default(),
            path: url.path().to_owned(),
            url: url.to_string(),
        })
    }
}

/// The login page's address for a signed-out browser: `<base>/login`, with `next` set to the
/// original URL when `return_hosts` allows it (else the browser lands on Heimdall's home).
pub fn login_address(base: &str, target: Option<&OriginalRequest>, return_hosts: &ReturnHosts) -> String {
    let base = base.trim_end_matches('/');
    match target.and_then(|t| return_hosts.allowed_url(&t.url)) {
        Some(next) => {
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            format!("{base}/login?next={next}")
        }
        None => format!("{base}/login"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    fn rule(host: Option<&str>, prefix: &str, role: Option<Role>) -> AccessRule {
        AccessRule {
            host: host.map(|h| HostPattern::parse(h).expect("pattern")),
            path_prefix: prefix.into(),
            role,
            tenant: None,
        }
    }

    #[test]
    fn traefik_and_nginx_headers_both_name_the_original_request() {
        let traefik = OriginalRequest::from_headers(&headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "Grafana.Example.com"),
            ("x-forwarded-uri", "/d/abc?orgId=1"),
        ]))
        .expect("traefik");
        assert_eq!(traefik.url, "https://grafana.example.com/d/abc?orgId=1");
        assert_eq!(traefik.host, "grafana.example.com");
        assert_eq!(traefik.port, Some(443));
        assert_eq!(traefik.path, "/d/abc");
        let nginx =
            OriginalRequest::from_headers(&headers(&[("x-original-url", "http://127.0.0.1:8088/app/x")]))
                .expect("nginx");
        assert_eq!(nginx.host, "127.0.0.1");
        assert_eq!(nginx.port, Some(8088));
        assert_eq!(nginx.path, "/app/x");
    }

    #[test]
    fn unusable_forwarding_headers_name_nothing() {
        for pairs in [
            vec![],
            vec![("x-forwarded-uri", "/x")],
            vec![("x-forwarded-host", "evil.example@good.example")],
            vec![("x-forwarded-host", "a.example"), ("x-forwarded-uri", "x")],
            vec![
                ("x-forwarded-host", "a.example"),
                ("x-forwarded-proto", "javascript"),
            ],
            vec![("x-original-url", "ftp://a.example/")],
            vec![("x-original-url", "https://user:pw@a.example/")],
            vec![("x-original-url", "not a url")],
        ] {
            assert_eq!(OriginalRequest::from_headers(&headers(&pairs)), None, "{pairs:?}");
        }
    }

    #[test]
    fn the_first_matching_rule_applies_and_prefixes_end_at_a_segment() {
        let rules = vec![
            rule(Some("grafana.example.com"), "/admin", Some(Role::Admin)),
            rule(Some("*.example.com"), "/", Some(Role::Developer)),
            rule(None, "/", None),
        ];
        let at = |url: &str| OriginalRequest::parse(url).expect("url");
        let pick = |url: &str| rule_for(&rules, Some(&at(url))).and_then(|r| r.role);
        assert_eq!(pick("https://grafana.example.com/admin"), Some(Role::Admin));
        assert_eq!(pick("https://grafana.example.com/admin/users"), Some(Role::Admin));
        assert_eq!(
            pick("https://grafana.example.com/administrator"),
            Some(Role::Developer)
        );
        assert_eq!(pick("https://wiki.example.com/"), Some(Role::Developer));
        assert_eq!(pick("https://example.org/"), None);
        // Unknown target: only host-less rules.
        assert_eq!(rule_for(&rules, None), rules.get(2));
    }

    #[test]
    fn the_login_address_returns_only_to_allowed_hosts() {
        let allowed = ReturnHosts::parse(&["app.example.com".into()]).expect("hosts");
        let target = OriginalRequest::parse("https://app.example.com/x?y=1").expect("url");
        assert_eq!(
            login_address("https://heimdall.example.com/", Some(&target), &allowed),
            "https://heimdall.example.com/login?next=https%3A%2F%2Fapp.example.com%2Fx%3Fy%3D1"
        );
        let elsewhere = OriginalRequest::parse("https://evil.example/").expect("url");
        assert_eq!(
            login_address("https://heimdall.example.com", Some(&elsewhere), &allowed),
            "https://heimdall.example.com/login"
        );
        assert_eq!(
            login_address("https://heimdall.example.com", None, &allowed),
            "https://heimdall.example.com/login"
        );
    }
}
