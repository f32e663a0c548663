//! Session mode: Heimdall's sessions and tokens vouching for requests a proxy forwards.

use app::identity::Role;
use heimdall::config::AccessRuleConfig;
use serde_json::Value;

use crate::helpers::{TestApp, bare_client, call_server_fn, spawn_app_with, test_config};

const PATH: &str = "/forward-auth/session";

async fn spawn_with_rules(rules: Vec<AccessRuleConfig>, return_hosts: &[&str]) -> TestApp {
    let (mut config, file) = test_config().await;
    config.forward_auth.rules = rules;
    config.auth.allowed_return_hosts = return_hosts.iter().map(|h| (*h).to_owned()).collect();
    spawn_app_with(config, file).await
}

fn rule(host: Option<&str>, prefix: &str, role: Option<Role>, tenant: Option<&str>) -> AccessRuleConfig {
    AccessRuleConfig {
        host: host.map(str::to_owned),
        path_prefix: prefix.to_owned(),
        role,
        tenant: tenant.map(str::to_owned),
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn a_signed_in_session_passes_with_the_user_email_and_groups() {
    let app = spawn_with_rules(Vec::new(), &[]).await;
    let dev = app
        .create_user("fa-developer", Role::Developer, Some("payments"))
        .await;
    let client = app.client_for(&dev).await;

    let response = client
        .get(app.url(PATH))
        .header("x-forwarded-host", "grafana.example.com")
        .header("x-forwarded-uri", "/d/abc")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    for (name, expected) in [
        ("x-auth-request-user", "fa-developer"),
        ("remote-user", "fa-developer"),
        ("x-auth-request-email", "fa-developer@example.test"),
        ("remote-email", "fa-developer@example.test"),
        ("x-auth-request-groups", "role:developer,tenant:payments"),
        ("remote-groups", "role:developer,tenant:payments"),
    ] {
        assert_eq!(header(&response, name).as_deref(), Some(expected), "{name}");
    }
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["user"], "fa-developer");
    assert_eq!(body["groups"][1], "tenant:payments");
}

#[tokio::test]
async fn a_personal_api_token_passes_as_its_owner() {
    let app = spawn_with_rules(Vec::new(), &[]).await;
    app.sign_in_as_admin().await;
    let created: Value = call_server_fn(
        &app.client,
        &app.url("/_srv/create_my_token"),
        "name=proxy&scope=read&expires_in_days=1",
    )
    .await
    .json()
    .await
    .expect("JSON");
    let token = created["token"].as_str().expect("token");
    let response = bare_client()
        .get(app.url(PATH))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-auth-request-user").as_deref(), Some("admin"));
    assert_eq!(
        header(&response, "x-auth-request-groups").as_deref(),
        Some("role:admin")
    );

    let refused = bare_client()
        .get(app.url(PATH))
        .bearer_auth("hmt_not-a-real-token")
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn a_signed_out_browser_gets_the_login_address_with_an_allowed_return() {
    // Traefik's headers, so Heimdall is told it is behind Traefik.
    let (mut config, file) = test_config().await;
    config.auth.allowed_return_hosts = vec!["app.example.com".into()];
    config.forward_auth.session.proxy = "traefik".into();
    let app = spawn_app_with(config, file).await;
    let browser = |host: &'static str| {
        bare_client()
            .get(app.url(PATH))
            .header("accept", "text/html,application/xhtml+xml")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", host)
            .header("x-forwarded-uri", "/reports?q=1")
    };

    let response = browser("app.example.com").send().await.expect("request");
    assert_eq!(response.status(), 401, "a 401, never the page guard's redirect");
    let expected = format!(
        "http://{}/login?next=https%3A%2F%2Fapp.example.com%2Freports%3Fq%3D1",
        app.addr
    );
    assert_eq!(header(&response, "location").as_deref(), Some(expected.as_str()));
    assert_eq!(
        header(&response, "x-auth-request-redirect").as_deref(),
        Some(expected.as_str())
    );
    let page = response.text().await.expect("body");
    assert!(page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(page.contains("app.example.com%2Freports"), "{page}");

    // A host off the allow-list: the login, with no way back there.
    let response = browser("evil.example").send().await.expect("request");
    assert_eq!(response.status(), 401);
    assert_eq!(
        header(&response, "location"),
        Some(format!("http://{}/login", app.addr))
    );

    // An API client gets JSON saying the same.
    let response = bare_client()
        .get(app.url(PATH))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "app.example.com")
        .header("x-forwarded-uri", "/api")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"], "unauthenticated");
    assert_eq!(
        body["login_url"],
        format!(
            "http://{}/login?next=https%3A%2F%2Fapp.example.com%2Fapi",
            app.addr
        )
    );
}

#[tokio::test]
async fn access_rules_want_roles_and_tenants_per_host_and_path() {
    let app = spawn_with_rules(
        vec![
            rule(Some("grafana.example.com"), "/admin", Some(Role::Admin), None),
            rule(Some("*.payments.example.com"), "/", None, Some("payments")),
            rule(Some("grafana.example.com"), "/", Some(Role::Developer), None),
        ],
        &[],
    )
    .await;
    let viewer = app.create_user("fa-viewer", Role::Viewer, Some("payments")).await;
    let dev = app.create_user("fa-dev", Role::Developer, Some("search")).await;
    let admin = app.create_user("fa-admin", Role::Admin, None).await;
    let clients = [
        app.client_for(&viewer).await,
        app.client_for(&dev).await,
        app.client_for(&admin).await,
    ];
    // Statuses for viewer (payments), developer (search), admin.
    let cases = [
        ("https://grafana.example.com/admin/users", [403, 403, 200]),
        ("https://grafana.example.com/administrator", [403, 200, 200]),
        ("https://grafana.example.com/d/x", [403, 200, 200]),
        ("https://ledger.payments.example.com/", [200, 403, 200]),
        ("https://wiki.example.com/", [200, 200, 200]),
    ];
    for (url, expected) in cases {
        for (client, want) in clients.iter().zip(expected) {
            let response = client
                .get(app.url(PATH))
                .header("x-original-url", url)
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_eq!(status, want, "{url}: {body}");
            if status == 403 {
                let body: Value = serde_json::from_str(&body).expect("JSON");
                assert_eq!(body["error"], "forbidden");
                assert!(
                    body["message"].as_str().is_some_and(|m| m.contains("needs")),
                    "{body}"
                );
            }
        }
    }
}

#[tokio::test]
async fn forwarded_requests_pass_whatever_their_method_and_origin() {
    let app = spawn_with_rules(Vec::new(), &[]).await;
    let user = app.create_user("fa-poster", Role::Viewer, None).await;
    let client = app.client_for(&user).await;
    // The proxy forwards the original POST with the browser's Origin (another site than
    // Heimdall): a question, not a change, so no cross-site refusal.
    let response = client
        .post(app.url(PATH))
        .header("origin", "https://app.example.com")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "remote-user").as_deref(), Some("fa-poster"));
}

#[tokio::test]
async fn the_apps_own_authorization_header_does_not_hide_the_session_cookie() {
    let app = spawn_with_rules(Vec::new(), &[]).await;
    let user = app.create_user("fa-basic", Role::Viewer, None).await;
    let client = app.client_for(&user).await;
    // The app behind the proxy uses Basic auth (or its own bearer tokens) itself.
    for authorization in ["Basic dXNlcjpwYXNz", "Bearer the-apps-own-token"] {
        let response = client
            .get(app.url(PATH))
            .header("authorization", authorization)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{authorization}");
        assert_eq!(header(&response, "remote-user").as_deref(), Some("fa-basic"));
    }
    // Without a session cookie, the header is the credential, and not a Heimdall one.
    let response = bare_client()
        .get(app.url(PATH))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_sign_out_is_refused_at_once_although_answers_are_cached() {
    let (mut config, file) = test_config().await;
    config.forward_auth.cache_secs = 600;
    let app = spawn_app_with(config, file).await;
    let user = app.create_user("fa-leaver", Role::Viewer, None).await;
    let client = app.client_for(&user).await;
    let ask = || client.get(app.url(PATH)).send();
    assert_eq!(ask().await.expect("request").status(), 200);
    let out = call_server_fn(&client, &app.url("/_srv/logout"), "").await;
    assert_eq!(out.status(), 200);
    assert_eq!(ask().await.expect("request").status(), 401);
}

#[tokio::test]
async fn a_role_taken_away_counts_at_once_although_answers_are_cached() {
    let (mut config, file) = test_config().await;
    config.forward_auth.cache_secs = 600;
    config.forward_auth.rules = vec![rule(None, "/", Some(Role::Developer), None)];
    let app = spawn_app_with(config, file).await;
    let user = app.create_user("fa-demoted", Role::Developer, None).await;
    let client = app.client_for(&user).await;
    let ask = || {
        client
            .get(app.url(PATH))
            .header("x-original-url", "https://app.example.com/")
            .send()
    };
    assert_eq!(ask().await.expect("request").status(), 200);
    app.state
        .identity
        .store()
        .update_user(
            user.id,
            &app::identity::store::UserPatch {
                role: Some(Role::Viewer),
                ..Default::default()
            },
        )
        .await
        .expect("demote");
    assert_eq!(ask().await.expect("request").status(), 403);
}

#[tokio::test]
async fn the_login_returns_to_allowed_hosts_only() {
    let app = spawn_with_rules(Vec::new(), &["app.example.com"]).await;
    let user = app.create_user("fa-returner", Role::Viewer, None).await;
    for (next, expected) in [
        (
            "https://app.example.com/reports",
            "https://app.example.com/reports",
        ),
        ("https://evil.example/", "/"),
        ("/flink", "/flink"),
    ] {
        let response = call_server_fn(
            &crate::helpers::new_client(),
            &app.url("/_srv/login"),
            &format!(
                "username={}&password={}&next={}",
                user.username,
                user.password,
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ),
        )
        .await;
        assert_eq!(
            header(&response, "location").as_deref(),
            Some(expected),
            "{next}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn the_cookie_carries_the_configured_domain() {
    let (mut config, file) = test_config().await;
    config.auth.cookie_domain = Some("example.test".into());
    let app = spawn_app_with(config, file).await;
    let user = app.create_user("fa-domain", Role::Viewer, None).await;
    let response = crate::helpers::sign_in(
        &bare_client(),
        &app.url("/auth/cookie/login"),
        &user.username,
        &user.password,
    )
    .await;
    let cookie = header(&response, "set-cookie").expect("Set-Cookie");
    assert!(cookie.contains("; Domain=example.test"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}
