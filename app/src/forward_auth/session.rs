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
    /// `/administrator`); `/` matches everything. Normalised (`normalise_path`) when the
    /// rule is built from the configuration.
    pub path_prefix: String,
    /// The least role that passes.
    pub role: Option<Role>,
    /// The tenant (slug) the user must belong to; admins belong everywhere.
    pub tenant: Option<String>,
}

impl AccessRule {
    /// Whether the rule covers `target` read as `path` (one of the target's readings).
    fn matches(&self, target: &OriginalRequest, path: &str) -> bool {
        let host_ok = match &self.host {
            None => true,
            Some(pattern) => pattern.matches(&target.host, target.port),
        };
        host_ok && path_has_prefix(path, &self.path_prefix)
    }
}

/// `prefix` (normalised once, when the rule is built) compared with a normalised reading.
fn path_has_prefix(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The first rule that applies to `target` read as `path`.
fn first_rule<'a>(rules: &'a [AccessRule], target: &OriginalRequest, path: &str) -> Option<&'a AccessRule> {
    rules.iter().find(|rule| rule.matches(target, path))
}

/// The rules that apply to `target`: the first match for each reading of its path
/// ([`path_readings`]: decoded or not, case kept or folded, …). The caller must satisfy every
/// one of them, so no reading a backend might route by slips past a rule.
pub fn rules_for<'a>(rules: &'a [AccessRule], target: &OriginalRequest) -> Vec<&'a AccessRule> {
    let mut found: Vec<&AccessRule> = Vec::with_capacity(2);
    for path in target.readings() {
        if let Some(rule) = first_rule(rules, target, &path)
            && !found.iter().any(|r| std::ptr::eq(*r, rule))
        {
            found.push(rule);
        }
    }
    found
}

/// Which reverse proxy asks, and so which of its headers say where the request was going. A
/// header is only believed from the proxy that sets it: nginx's `auth_request` passes what the
/// configuration names (`X-Original-URL`) and the client's other headers as they came, so a
/// client's own `X-Forwarded-Host` means nothing there; Traefik's `forwardAuth` overwrites
/// `X-Forwarded-Proto`/`-Host`/`-Uri` but passes a client's `X-Original-URL` through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProxyKind {
    /// `X-Original-URL` only.
    #[default]
    Nginx,
    /// `X-Forwarded-Proto` + `X-Forwarded-Host` + `X-Forwarded-Uri` only.
    Traefik,
}

impl ProxyKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "nginx" => Some(Self::Nginx),
            "traefik" => Some(Self::Traefik),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nginx => "nginx",
            Self::Traefik => "traefik",
        }
    }

    /// The headers this proxy is trusted for.
    pub fn trusted_headers(self) -> &'static [&'static str] {
        match self {
            Self::Nginx => &["X-Original-URL"],
            Self::Traefik => &["X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Uri"],
        }
    }
}

/// Where the proxied request was going, normalised: from `X-Original-URL` (nginx, Authelia's
/// convention) or `X-Forwarded-Proto` + `X-Forwarded-Host` + `X-Forwarded-Uri` (Traefik) —
/// whichever the configured proxy sets, never the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRequest {
    /// The whole URL, normalised (lower-case host without a trailing dot or a default port).
    pub url: String,
    /// Lower case, without the port or a trailing dot.
    pub host: String,
    /// The explicit or the scheme's default port.
    pub port: Option<u16>,
    /// The path fully decoded and normalised ([`normalise_path`]): case kept.
    pub path: String,
    /// Every reading of the path a backend might route by ([`path_readings`]); a rule must
    /// hold for each.
    readings: Vec<String>,
}

impl OriginalRequest {
    /// `None` when the trusted headers do not say, or say something that is not an http(s)
    /// URL with a host and a valid port.
    pub fn from_headers(headers: &HeaderMap, proxy: ProxyKind) -> Option<Self> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        match proxy {
            ProxyKind::Nginx => Self::parse(text("x-original-url")?),
            ProxyKind::Traefik => {
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
        }
    }

    /// Parses and normalises one absolute URL.
    pub fn parse(text: &str) -> Option<Self> {
        if text.chars().any(char::is_control) {
            return None;
        }
        // `http:///x` and `http:/x` name no host (an empty `Host` header makes the first); a
        // URL parser would take the path's first segment for one.
        let (_, rest) = text.split_once("://")?;
        if rest.is_empty() || rest.starts_with(['/', '\\']) {
            return None;
        }
        let mut url = url::Url::parse(text).ok()?;
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some()
        {
            return None;
        }
        let host = url.host_str()?.to_ascii_lowercase();
        // `admin.example.test.` is the same name as `admin.example.test` to DNS and to nginx's
        // server selection; one trailing dot goes (two are not a name).
        let host = match host.strip_suffix('.') {
            Some(stripped) if !stripped.is_empty() && !stripped.ends_with('.') => stripped.to_owned(),
            Some(_) => return None,
            None => host,
        };
        // A DNS name or an IP literal; anything else (`;`, `%`, `_`…) names no server a proxy
        // would have picked by it.
        let ip_literal = host.starts_with('[') && host.ends_with(']');
        if host.is_empty()
            || !(ip_literal
                || host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
        {
            return None;
        }
        url.set_host(Some(&host)).ok()?;
        let port = url.port_or_known_default();
        // The readings start from the path as sent (before `url` resolved `%2e%2e` and the
        // like, which a backend that decodes first may read differently), then `url`'s form.
        let mut readings = path_readings(raw_path(text));
        for reading in path_readings(url.path()) {
            if !readings.contains(&reading) {
                readings.push(reading);
            }
        }
        Some(Self {
            path: normalise_path(url.path()),
            readings,
            host,
            port,
            url: url.to_string(),
        })
    }

    /// The readings of the path a rule must hold for.
    fn readings(&self) -> impl Iterator<Item = String> + '_ {
        self.readings.iter().cloned()
    }
}

/// The ways a backend might read `raw` when it routes: percent-decoded zero, one or more times
/// (until nothing changes), backslashes as slashes or not, `;parameters` cut or not, case
/// kept or folded — each with dot segments resolved and empty segments dropped. Decoding is
/// not monotonic (`/admin/..%2f` is under `/admin` undecoded, at `/` decoded), so no single
/// form is safe: a rule must hold for every reading.
pub fn path_readings(raw: &str) -> Vec<String> {
    let mut readings: Vec<String> = Vec::new();
    let mut add = |reading: String| {
        if !readings.contains(&reading) {
            readings.push(reading);
        }
    };
    let mut text = raw.to_owned();
    for _ in 0..4 {
        for backslashes in [false, true] {
            let t = if backslashes {
                text.replace('\\', "/")
            } else {
                text.clone()
            };
            for cut in [true, false] {
                let reading = resolve_segments(&t, cut);
                add(reading.to_lowercase());
                add(reading);
            }
        }
        let decoded = percent_decode(&text);
        if decoded == text {
            break;
        }
        text = decoded;
    }
    readings
}

/// The path of an absolute URL as written: after the authority, before `?` or `#`.
fn raw_path(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let path = after_scheme.find(['/', '\\']).map_or("", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or_default()
}

/// Dot segments resolved, empty segments dropped, `;parameters` cut when `cut_params`.
fn resolve_segments(text: &str, cut_params: bool) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in text.split('/') {
        let segment = if cut_params {
            segment.split(';').next().unwrap_or_default()
        } else {
            segment
        };
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut path = String::with_capacity(text.len() + 1);
    for segment in &segments {
        path.push('/');
        path.push_str(segment);
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// A path as a backend might route it, for comparing with rules: percent-encoding decoded
/// (repeatedly: `%252F` is what a second decoding turns into `/`), backslashes as slashes,
/// `;parameters` cut from each segment, `.` and `..` resolved, empty segments dropped. Always
/// starts with `/`; never fails. This is the form shown and compared for display; rules are
/// checked against every one of [`path_readings`].
pub fn normalise_path(raw: &str) -> String {
    let mut text = raw.to_owned();
    for _ in 0..4 {
        let decoded = percent_decode(&text);
        if decoded == text {
            break;
        }
        text = decoded;
    }
    resolve_segments(&text.replace('\\', "/"), true)
}

/// `%XX` decoded once; invalid escapes stay as they were, and decoded bytes that are not UTF-8
/// become U+FFFD (so `/%61dmin/%ff` still reads as under `/admin`).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
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
mod tests;
