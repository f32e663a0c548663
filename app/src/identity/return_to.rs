//! Where a browser may be sent after signing in. A return address is a path on this site, or
//! — for apps behind ForwardAuth, whose login sends the browser back to them — an absolute
//! `http(s)` URL on a host in `auth.allowed_return_hosts`. Anything else becomes `/`: an open
//! redirect through the login would hand sessions to phishers.

/// The hosts absolute return addresses may name: `app.example.com`, `app.example.com:8443`,
/// `*.example.com` (any subdomain, not the domain itself). A pattern without a port allows
/// every port of that host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnHosts(Vec<HostPattern>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// Lower case; for a wildcard, the suffix after `*` (`.example.com`).
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

impl HostPattern {
    /// `None` for an entry that is not a host pattern (it is reported at start-up).
    pub fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim().to_ascii_lowercase();
        // `[::1]:8080` and `[::1]` for IPv6; otherwise the last `:` starts a port.
        let split = match entry.rfind(']') {
            Some(close) => entry[close..].find(':').map(|i| close + i),
            None => entry.rfind(':'),
        };
        let (host, port) = match split {
            Some(i) => (entry[..i].to_owned(), Some(entry[i + 1..].parse::<u16>().ok()?)),
            None => (entry, None),
        };
        let (host, wildcard) = match host.strip_prefix("*.") {
            Some(rest) => (format!(".{rest}"), true),
            None => (host, false),
        };
        let name = host.trim_start_matches('.');
        let valid = !name.is_empty()
            && !name.starts_with('.')
            && !name.ends_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        valid.then_some(Self { host, wildcard, port })
    }

    /// Whether `host` (lower case, as `url` gives it) and `port` are allowed.
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host_ok = if self.wildcard {
            host.len() > self.host.len() && host.ends_with(&self.host)
        } else {
            host == self.host
        };
        host_ok && self.port.is_none_or(|p| Some(p) == port)
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.wildcard {
            write!(f, "*{}", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

impl ReturnHosts {
    /// The patterns, as configured (normalised).
    pub fn patterns(&self) -> impl Iterator<Item = &HostPattern> {
        self.0.iter()
    }

    /// From configuration entries; the ones that are not host patterns, for the start-up error.
    pub fn parse(entries: &[String]) -> Result<Self, Vec<String>> {
        let mut patterns = Vec::new();
        let mut bad = Vec::new();
        for entry in entries.iter().filter(|e| !e.trim().is_empty()) {
            match HostPattern::parse(entry) {
                Some(p) => patterns.push(p),
                None => bad.push(entry.clone()),
            }
        }
        if bad.is_empty() {
            Ok(Self(patterns))
        } else {
            Err(bad)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `target` when it is a safe local path or an allowed absolute URL (normalised), else `/`.
    pub fn check(&self, target: &str) -> String {
        if let Some(url) = self.allowed_url(target) {
            return url;
        }
        safe_return_to(target)
    }

    /// Whether `target` is an absolute URL this list allows; the normalised URL if so.
    pub fn allowed_url(&self, target: &str) -> Option<String> {
        if self.0.is_empty() || !target.chars().all(|c| c.is_ascii_graphic()) || target.contains('\\') {
            return None;
        }
        let url = url::Url::parse(target).ok()?;
        let plain = matches!(url.scheme(), "http" | "https")
            && url.username().is_empty()
            && url.password().is_none()
            // The parsed form must be what was sent: no normalisation a browser could read
            // differently (`https:evil`, `https:/\evil`).
            && target.get(..url.scheme().len() + 3).is_some_and(|p| p.ends_with("://"));
        let host = url.host_str()?;
        let allowed = self
            .0
            .iter()
            .any(|p| p.matches(host, url.port_or_known_default()));
        (plain && allowed).then(|| url.to_string())
    }
}

/// Only paths on this origin. Browsers strip tabs and newlines from a `Location` and read `\\` as `/`, so
/// `/<TAB>/evil.example` and `/\\evil.example` mean `//evil.example` to them. A return address is
/// kept only if it is a plain path (printable ASCII, one leading slash, no backslash) as sent
/// and after percent-decoding, and still names this origin when resolved as a URL.
pub fn safe_return_to(path: &str) -> String {
    if is_plain_local_path(path) && decodes_to_local_path(path) && stays_on_this_origin(path) {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

fn is_plain_local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.chars().all(|c| c.is_ascii_graphic())
}

/// Decoded (up to three times, for double encoding), every form is still a plain local path.
fn decodes_to_local_path(p: &str) -> bool {
    let mut current = p.to_owned();
    for _ in 0..3 {
        let Some(decoded) = percent_decode(&current) else {
            return false;
        };
        // A decoded space is harmless; controls, backslashes, `//` and non-ASCII are not.
        if !is_plain_local_path(&decoded.replace(' ', "_")) {
            return false;
        }
        if decoded == current {
            return true;
        }
        current = decoded;
    }
    true
}

/// `None` for a malformed escape or bytes that are not UTF-8: refused, not guessed at.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What a browser would make of it, relative to this site.
fn stays_on_this_origin(p: &str) -> bool {
    const BASE: &str = "http://heimdall.invalid/";
    url::Url::parse(BASE)
        .and_then(|base| base.join(p))
        .is_ok_and(|u| u.scheme() == "http" && u.host_str() == Some("heimdall.invalid") && u.port().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        for kept in [
            "/",
            "/admin/users?q=a",
            "/admin/users?q=ada%40example.com&x=1#top",
            "/account",
            "/a%20b",
        ] {
            assert_eq!(safe_return_to(kept), kept, "{kept:?} is a local path");
        }
        // The known bypass forms, raw and encoded: each lands on `/`.
        for refused in [
            "//evil.example/x",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "/\\evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/\n/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%5C%5Cevil.example",
            "/%252F/evil.example",
            "/\u{FF0F}evil.example",
            "/%EF%BC%8Fevil.example",
            "/\u{2215}evil.example",
            "/ /evil.example",
            "/%",
            "/%zz",
            "/%ff",
            "",
            "evil.example",
            " /admin",
        ] {
            assert_eq!(safe_return_to(refused), "/", "{refused:?} must not be followed");
        }
    }

    fn hosts(entries: &[&str]) -> ReturnHosts {
        ReturnHosts::parse(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
            .expect("valid patterns")
    }

    #[test]
    fn absolute_addresses_on_allowed_hosts_are_followed() {
        let allowed = hosts(&["grafana.example.com", "*.apps.example.com", "127.0.0.1:8088"]);
        for (target, expected) in [
            (
                "https://grafana.example.com/d/x?y=1",
                "https://grafana.example.com/d/x?y=1",
            ),
            ("https://GRAFANA.example.com", "https://grafana.example.com/"),
            (
                "http://grafana.example.com:3000/",
                "http://grafana.example.com:3000/",
            ),
            ("https://a.apps.example.com/x", "https://a.apps.example.com/x"),
            ("https://b.a.apps.example.com/", "https://b.a.apps.example.com/"),
            ("http://127.0.0.1:8088/app", "http://127.0.0.1:8088/app"),
            ("/admin", "/admin"),
        ] {
            assert_eq!(allowed.check(target), expected, "{target}");
        }
    }

    #[test]
    fn absolute_addresses_elsewhere_are_refused() {
        let allowed = hosts(&["grafana.example.com", "*.apps.example.com", "127.0.0.1:8088"]);
        for target in [
            "https://evil.example",
            "https://grafana.example.com.evil.example/",
            "https://evilgrafana.example.com/",
            "https://apps.example.com/",
            "https://x.apps.example.com@evil.example/",
            "https://user@grafana.example.com/",
            "https://user:pw@grafana.example.com/",
            "http://127.0.0.1:8089/app",
            "http://127.0.0.1/app",
            "javascript://grafana.example.com/%0aalert(1)",
            "ftp://grafana.example.com/",
            "https:grafana.example.com",
            "https:/grafana.example.com",
            "https:\\\\grafana.example.com",
            "https://grafana.example.com\\@evil.example",
            "https://grafana.example.com/\tx",
            " https://grafana.example.com/",
            "https://grafana.example.com/ x",
        ] {
            assert_eq!(allowed.check(target), "/", "{target:?} must not be followed");
        }
        // With no list, no absolute address at all.
        assert_eq!(ReturnHosts::default().check("https://grafana.example.com/"), "/");
    }

    #[test]
    fn host_patterns_are_checked_at_start_up() {
        assert!(ReturnHosts::parse(&["grafana.example.com".into(), "*.x.io:443".into()]).is_ok());
        assert_eq!(
            ReturnHosts::parse(&["*".into(), "a b".into(), "x.io:port".into(), "ok.io".into()]),
            Err(vec!["*".into(), "a b".into(), "x.io:port".into()])
        );
    }
}
