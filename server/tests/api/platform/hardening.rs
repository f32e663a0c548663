//! The hardening probes, each as a test: the open redirect after sign-in, the browser security
//! headers, the stricter CSRF guard, honest statuses for an oversize body and an unknown server
//! function.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, bare_client, spawn_app, spawn_app_with, test_config};

/// Signs in through the login form's server function with `next`; returns the `Location`.
async fn login_redirect(app: &TestApp, next: &str) -> String {
    let admin = app.bootstrap_admin.as_ref().expect("bootstrap admin");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("username", &admin.username)
        .append_pair("password", secrecy::ExposeSecret::expose_secret(&admin.password))
        .append_pair("next", next)
        .finish();
    let response = app
        .client
        .post(app.url("/_srv/login"))
        // What a browser's own form submission sends (the page before hydration).
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html,application/xhtml+xml")
        .body(body)
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_redirection(),
        "{next:?}: {}",
        response.status()
    );
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_owned()
}

#[tokio::test]
async fn sign_in_follows_only_local_return_addresses() {
    let app = spawn_app().await;
    assert_eq!(login_redirect(&app, "/admin/users?q=a").await, "/admin/users?q=a");
    for bypass in [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "//evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "/\u{FF0F}evil.example",
    ] {
        assert_eq!(login_redirect(&app, bypass).await, "/", "{bypass:?}");
    }
}

/// A site root with one asset, so `/pkg/*` answers from a real file.
fn site_with_an_asset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("pkg")).expect("pkg dir");
    std::fs::write(dir.path().join("pkg/heimdall.css"), "body{}").expect("asset");
    dir
}

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    let h = response.headers();
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(
        get("referrer-policy"),
        "strict-origin-when-cross-origin",
        "{what}"
    );
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        !csp.contains("unsafe-eval'") || csp.contains("'wasm-unsafe-eval'"),
        "{what}: {csp}"
    );
    assert!(!csp.contains("'unsafe-eval'"), "{what}: {csp}");
    assert!(!csp.contains("'unsafe-inline'"), "{what}: {csp}");
}

#[tokio::test]
async fn pages_assets_and_api_errors_carry_the_security_headers() {
    let site = site_with_an_asset();
    let (mut config, file) = test_config().await;
    config.server.site_root = site.path().to_path_buf();
    let app = spawn_app_with(config, file).await;
    let html = |path: &str| app.client.get(app.url(path)).header("accept", "text/html").send();

    let login = html("/login").await.expect("login");
    assert_eq!(login.status(), 200);
    assert_security_headers(&login, "/login");
    // The page's policy allows its inline scripts by this response's nonce, and only those.
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .expect("CSP")
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the page's CSP")
        .to_owned();
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    let body = login.text().await.expect("body");
    let inline_scripts = body.matches("<script").count();
    assert!(inline_scripts > 0);
    assert_eq!(
        body.matches(&format!("nonce=\"{nonce}\"")).count(),
        body.matches("<script").count(),
        "every script carries the nonce: {body}"
    );
    let again = html("/login").await.expect("login");
    assert!(
        !again.headers()["content-security-policy"]
            .to_str()
            .expect("CSP")
            .contains(&nonce),
        "a fresh nonce per response"
    );

    // Signed out, `/` redirects to the login page; the redirect carries them too.
    let home = html("/").await.expect("home");
    assert_eq!(home.status(), 303);
    assert_security_headers(&home, "/ (signed out)");
    app.sign_in_as_admin().await;
    let home = html("/").await.expect("home");
    assert_eq!(home.status(), 200);
    assert_security_headers(&home, "/");

    let asset = app.get("/pkg/heimdall.css").await;
    assert_eq!(asset.status(), 200);
    assert_security_headers(&asset, "/pkg/heimdall.css");

    let api_error = bare_client().get(app.url("/users/me")).send().await.expect("me");
    assert_eq!(api_error.status(), 401);
    assert_security_headers(&api_error, "an API error");
    // Plain HTTP: no HSTS (it would strand the installation if it ever served HTTP again).
    assert!(api_error.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let (mut config, file) = test_config().await;
    config.server.public_url = Some("https://heimdall.example.com".into());
    let app = spawn_app_with(config, file).await;
    let response = app.get("/livez").await;
    let hsts = response.headers()["strict-transport-security"]
        .to_str()
        .expect("HSTS");
    assert!(hsts.starts_with("max-age="), "{hsts}");
}

#[tokio::test]
async fn cookie_changes_without_origin_or_from_the_wrong_scheme_are_refused_and_audited() {
    let app = spawn_app().await;
    app.sign_in_as_admin().await;
    // The session cookie, but none of the headers a browser sends.
    let cookie = app.client.get(app.url("/users/me")).send().await.expect("me");
    assert_eq!(cookie.status(), 200);
    let jar_cookie = app.session_cookie().await;

    let no_origin = bare_client()
        .post(app.url("/_srv/logout_everywhere"))
        .header("cookie", &jar_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("request");
    assert_eq!(no_origin.status(), 403);
    let body: Value = no_origin.json().await.expect("JSON");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("must carry Origin")),
        "{body}"
    );

    let wrong_scheme = bare_client()
        .post(app.url("/_srv/logout_everywhere"))
        .header("cookie", &jar_cookie)
        .header("origin", format!("https://{}", app.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong_scheme.status(), 403);
    let refusals = app.audit_entries("csrf.rejected").await;
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    // Neither got through: the session still works.
    assert_eq!(app.get("/users/me").await.status(), 200);

    // A bearer token is not cookie-bound: no Origin needed.
    let jwt = bare_client()
        .post(app.url("/auth/jwt/login"))
        .form(&[
            (
                "username",
                app.bootstrap_admin.as_ref().expect("admin").username.as_str(),
            ),
            (
                "password",
                secrecy::ExposeSecret::expose_secret(&app.bootstrap_admin.as_ref().expect("admin").password),
            ),
        ])
        .send()
        .await
        .expect("jwt login");
    assert_eq!(jwt.status(), 200);
    let token = jwt.json::<Value>().await.expect("JSON")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let bearer = bare_client()
        .post(app.url("/_srv/list_my_sessions"))
        .bearer_auth(&token)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("request");
    assert_eq!(bearer.status(), 200);
}

#[tokio::test]
async fn an_oversize_body_is_413_with_the_limit_and_an_unknown_server_function_a_json_404() {
    let app = spawn_app().await;
    app.sign_in_as_admin().await;
    let big = "a".repeat(10 * 1024 * 1024);
    for path in ["/_srv/create_tenant", "/auth/jwt/login"] {
        let response = app
            .client
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("slug={big}"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"], "too_large", "{path}: {body}");
        assert_eq!(body["limit_bytes"], 2 * 1024 * 1024, "{body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("2097152 bytes")),
            "{body}"
        );
    }
    // Without a Content-Length (chunked), caught where the body is read.
    let stream = futures::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 256 * 1024])));
    let chunked = app
        .client
        .post(app.url("/_srv/create_tenant"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("request");
    assert_eq!(chunked.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let unknown = app.server_fn("no_such_function").await;
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("application/json"),
        "JSON, like every other API error"
    );
    let body: Value = unknown.json().await.expect("JSON");
    assert_eq!(body["error"], "not_found");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("no_such_function")),
        "{body}"
    );
}

/// NUL (which PostgreSQL cannot store) and other control characters are refused at the edge
/// with a 422 naming the field — on sign-in forms, JSON bodies, path ids and query filters —
/// instead of reaching a database that answers 500.
#[tokio::test]
async fn control_characters_are_refused_at_the_edge_naming_the_field() {
    let app = crate::helpers::spawn_app().await;
    app.sign_in_as_admin().await;
    let anonymous = crate::helpers::bare_client();
    let field_of = |body: serde_json::Value| body["field"].as_str().map(str::to_owned);

    let cases: Vec<(&str, reqwest::RequestBuilder, &str)> = vec![
        (
            "seed JSON sign-in",
            anonymous
                .post(app.url("/auth/login"))
                .header("content-type", "application/json")
                .body(r#"{"username":"someone\u0000","password":"x"}"#),
            "username",
        ),
        (
            "form sign-in",
            anonymous
                .post(app.url("/auth/jwt/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("username=someone%00&password=x"),
            "username",
        ),
        (
            "the sign-in server function",
            anonymous
                .post(app.url("/_srv/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body("username=someone%00&password=x"),
            "username",
        ),
        ("a path id", app.client.get(app.url("/services/1%00")), "path"),
        ("a pipeline id", app.client.get(app.url("/api/v1/jobs/abc%00")), "path"),
        ("after an ampersand", app.client.get(app.url("/api/v1/jobs/a&b%00")), "path"),
        ("a slug", app.client.get(app.url("/catalog/x%01y")), "path"),
        ("a query filter", app.client.get(app.url("/users?q=ad%00min")), "q"),
        (
            "a service field",
            app.client
                .post(app.url("/services"))
                .header("content-type", "application/json")
                .body(r#"{"name":"pay\u0000ments","repo_url":"https://x","owner_team":"t","runtime":"go","tier":"t","environments":["dev"],"tenant":"alpha"}"#),
            "name",
        ),
    ];
    for (what, request, field) in cases {
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 422, "{what}");
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(field_of(body.clone()).as_deref(), Some(field), "{what}: {body}");
    }
    // Nothing was written: no user, no service.
    let services: serde_json::Value = app
        .client
        .get(app.url("/services"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    assert_eq!(services.as_array().map(Vec::len), Some(0), "{services}");
    // Line breaks and tabs are text where text is free (a pipeline's brief).
    let fine = app
        .client
        .post(app.url("/api/v1/jobs"))
        .json(&serde_json::json!({ "slug": "free-text", "intent": "i", "brief": { "notes": "line one\nline two\tindented" } }))
        .send()
        .await
        .expect("create");
    assert_eq!(fine.status(), 201);
}

/// A client that never finishes its headers, or stalls its body, does not hold a connection:
/// the server closes it after `server.header_read_timeout_secs` / `body_read_timeout_secs`.
#[tokio::test]
async fn slow_headers_and_stalled_bodies_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut config, file) = crate::helpers::test_config().await;
    config.server.header_read_timeout_secs = 1;
    config.server.body_read_timeout_secs = 1;
    let app = crate::helpers::spawn_app_with(config, file).await;
    // Bounds for a hung test, far above the timeouts; not timing assertions.
    let limit = std::time::Duration::from_secs(30);

    // Headers begun and never finished, many times over.
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
        stream
            .write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("write");
        slow.push(stream);
    }
    for mut stream in slow {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(limit, stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "a connection with unfinished headers stayed open");
    }

    // A body announced and never sent.
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    stream
        .write_all(
            b"POST /auth/jwt/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=a",
        )
        .await
        .expect("write");
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    assert!(ended.is_ok(), "a stalled body held its connection");
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.starts_with("HTTP/1.1 2"), "{answer}");

    // The server still answers everyone else.
    assert_eq!(app.get("/livez").await.status(), 200);
}
