//! Tests of `session.rs`.

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
    let traefik = OriginalRequest::from_headers(
        &headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "Grafana.Example.com"),
            ("x-forwarded-uri", "/d/abc?orgId=1"),
        ]),
        ProxyKind::Traefik,
    )
    .expect("traefik");
    assert_eq!(traefik.url, "https://grafana.example.com/d/abc?orgId=1");
    assert_eq!(traefik.host, "grafana.example.com");
    assert_eq!(traefik.port, Some(443));
    assert_eq!(traefik.path, "/d/abc");
    let nginx = OriginalRequest::from_headers(
        &headers(&[("x-original-url", "http://127.0.0.1:8088/app/x")]),
        ProxyKind::Nginx,
    )
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
        vec![("x-original-url", "https://admin.example.test:99999/")],
        vec![("x-original-url", "https://admin.example.test../")],
        vec![("x-original-url", "http:///app/x")],
        vec![("x-original-url", "http:/app/x")],
        vec![("x-original-url", "http://app.example.test;x/")],
    ] {
        for proxy in [ProxyKind::Nginx, ProxyKind::Traefik] {
            assert_eq!(
                OriginalRequest::from_headers(&headers(&pairs), proxy),
                None,
                "{pairs:?}"
            );
        }
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
    let pick = |url: &str| rules_for(&rules, &at(url)).first().and_then(|r| r.role);
    assert_eq!(pick("https://grafana.example.com/admin"), Some(Role::Admin));
    assert_eq!(pick("https://grafana.example.com/admin/users"), Some(Role::Admin));
    assert_eq!(
        pick("https://grafana.example.com/administrator"),
        Some(Role::Developer)
    );
    assert_eq!(pick("https://wiki.example.com/"), Some(Role::Developer));
    assert_eq!(pick("https://example.org/"), None);
}

#[test]
fn each_proxy_is_trusted_for_its_own_headers_only() {
    let both = headers(&[
        ("x-original-url", "https://public.example.test/"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "admin.example.test"),
        ("x-forwarded-uri", "/"),
    ]);
    let nginx = OriginalRequest::from_headers(&both, ProxyKind::Nginx).expect("nginx");
    assert_eq!(nginx.host, "public.example.test");
    let traefik = OriginalRequest::from_headers(&both, ProxyKind::Traefik).expect("traefik");
    assert_eq!(
        traefik.host, "admin.example.test",
        "a client's X-Original-URL means nothing to Traefik"
    );
    let only_forwarded = headers(&[("x-forwarded-host", "admin.example.test")]);
    assert_eq!(
        OriginalRequest::from_headers(&only_forwarded, ProxyKind::Nginx),
        None
    );
}

#[test]
fn hosts_and_paths_are_normalised_before_rules_compare() {
    let t =
        OriginalRequest::parse("https://ADMIN.Example.Test.:443//a/./b/../%61dmin;x/%2e%2e/c").expect("url");
    assert_eq!(t.host, "admin.example.test");
    assert_eq!(t.port, Some(443));
    assert_eq!(t.path, "/a/c");
    assert_eq!(t.url, "https://admin.example.test//a/c");
    for (raw, normal) in [
        ("/", "/"),
        ("", "/"),
        ("/%61dmin", "/admin"),
        ("//admin", "/admin"),
        ("/admin;x", "/admin"),
        ("/admin;x/y", "/admin/y"),
        ("/x/..%2f..%2fadmin", "/admin"),
        ("/x%252f..%252fadmin", "/admin"),
        ("/public\\..\\admin", "/admin"),
        ("/%", "/%"),
        ("/%zz/%c3", "/%zz/\u{fffd}"),
        ("/../../admin/", "/admin"),
    ] {
        assert_eq!(normalise_path(raw), normal, "{raw}");
    }
}

#[test]
fn every_reading_of_a_path_must_pass_its_rule() {
    let rules = vec![
        rule(Some("admin.example.test"), "/public", None),
        rule(Some("admin.example.test"), "/admin", Some(Role::Admin)),
        rule(Some("admin.example.test"), "/", Some(Role::Developer)),
    ];
    let roles = |url: &str| -> Vec<Option<Role>> {
        rules_for(&rules, &OriginalRequest::parse(url).expect("url"))
            .iter()
            .map(|r| r.role)
            .collect()
    };
    assert_eq!(
        roles("https://admin.example.test/ADMIN"),
        vec![Some(Role::Admin), Some(Role::Developer)]
    );
    assert_eq!(
        roles("https://admin.example.test/admin/..%2fpublic"),
        vec![Some(Role::Admin), None],
        "undecoded it is under /admin, decoded under /public: both rules hold"
    );
    assert_eq!(
        roles("https://admin.example.test/%61dmin"),
        vec![Some(Role::Developer), Some(Role::Admin)]
    );
    assert_eq!(
        roles("https://admin.example.test/public/../admin"),
        vec![Some(Role::Admin)]
    );
    assert_eq!(roles("https://admin.example.test/public/x"), vec![None]);
    assert_eq!(
        roles("https://admin.example.test./admin"),
        vec![Some(Role::Admin)]
    );
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
