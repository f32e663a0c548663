//! Sign-in, sessions, bearer tokens and their refusals, through the seed-compatible REST routes
//! and the server functions, against a real database.

use reqwest::StatusCode;
use serde_json::{Value, json};

use app::identity::Role;

use crate::helpers::{TestApp, call_server_fn, new_client, sign_in, spawn_app, spawn_app_with, test_config};

async fn jwt_for(app: &TestApp, username: &str, password: &str) -> String {
    let response = sign_in(&new_client(), &app.url("/auth/jwt/login"), username, password).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["token_type"], "bearer");
    body["access_token"].as_str().expect("token").to_owned()
}

async fn me_with_bearer(app: &TestApp, token: &str) -> reqwest::Response {
    new_client()
        .get(app.url("/users/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn jwt_login_gives_a_bearer_token_that_reads_users_me() {
    let app = spawn_app().await;
    let dev = app.create_user("dana", Role::Developer, Some("payments")).await;
    let token = jwt_for(&app, &dev.username, &dev.password).await;
    let response = me_with_bearer(&app, &token).await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.expect("JSON");
    assert_eq!(me["username"], "dana");
    assert_eq!(me["role"], "developer");
    assert_eq!(me["is_superuser"], false);
    assert_eq!(me["tenants"][0]["slug"], "payments");
    let text = me.to_string();
    assert!(!text.contains("argon2") && !text.contains("password"), "{text}");
}

#[tokio::test]
async fn a_wrong_password_is_a_400_with_the_seeds_detail_and_is_audited() {
    let app = spawn_app().await;
    let dev = app.create_user("dana", Role::Developer, None).await;
    for (user, password) in [
        (dev.username.as_str(), "wrong-password"),
        ("nobody", "whatever-password"),
    ] {
        let response = sign_in(&new_client(), &app.url("/auth/jwt/login"), user, password).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(body["detail"], "LOGIN_BAD_CREDENTIALS");
        // The same words for an unknown user as for a wrong password.
        assert_eq!(body["message"], "wrong username or password");
    }
    let missing = new_client()
        .post(app.url("/auth/jwt/login"))
        .form(&[("username", "dana")])
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 422);
    assert_eq!(missing.json::<Value>().await.expect("JSON")["error"], "invalid");
    let failures = app.audit_entries("login.password").await;
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures.iter().all(|e| e.outcome == app::audit::Outcome::Failure));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_say_so() {
    let app = spawn_app().await;
    let dev = app.create_user("dana", Role::Developer, None).await;
    for _ in 0..5 {
        let r = sign_in(
            &new_client(),
            &app.url("/auth/cookie/login"),
            "dana",
            "wrong-password",
        )
        .await;
        assert_eq!(r.status(), 400);
    }
    // Now even the right password is refused until the lock passes.
    let locked = sign_in(
        &new_client(),
        &app.url("/auth/cookie/login"),
        &dev.username,
        &dev.password,
    )
    .await;
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    let body: Value = locked.json().await.expect("JSON");
    assert_eq!(body["error"], "rate_limited");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.starts_with("too many failed sign-ins for this account; try again in"),
        "{message}"
    );
}

#[tokio::test]
async fn an_admin_sees_a_sign_in_lock_and_lifts_it() {
    let app = spawn_app().await;
    let dev = app.create_user("dana", Role::Developer, None).await;
    for _ in 0..5 {
        sign_in(
            &new_client(),
            &app.url("/auth/cookie/login"),
            "dana",
            "wrong-password",
        )
        .await;
    }
    app.sign_in_as_admin().await;
    let users: Value = call_server_fn(&app.client, &app.url("/_srv/list_users"), "query=dana")
        .await
        .json()
        .await
        .expect("JSON");
    let locked = users[0]["locked_for_secs"].as_u64().expect("a lock is shown");
    assert!((1..=30).contains(&locked), "{users}");

    let unlocked = call_server_fn(
        &app.client,
        &app.url("/_srv/unlock_user"),
        &format!("id={}", dev.id),
    )
    .await;
    assert_eq!(unlocked.status(), 200);
    let summary: Value = unlocked.json().await.expect("JSON");
    assert!(summary["locked_for_secs"].is_null(), "{summary}");
    let entries = app.audit_entries("user.unlocked").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].target, "dana");
    // The right password works again at once.
    let again = sign_in(
        &new_client(),
        &app.url("/auth/cookie/login"),
        &dev.username,
        &dev.password,
    )
    .await;
    assert_eq!(again.status(), 204);
}

#[tokio::test]
async fn cookie_login_sets_an_http_only_lax_cookie_and_logout_really_revokes_it() {
    let app = spawn_app().await;
    let viewer = app.create_user("vic", Role::Viewer, None).await;
    let response = sign_in(
        &app.client,
        &app.url("/auth/cookie/login"),
        &viewer.username,
        &viewer.password,
    )
    .await;
    assert_eq!(response.status(), 204);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("heimdall_auth=hms_"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain-HTTP localhost gets no Secure flag: {cookie}"
    );
    let value = cookie.split(';').next().expect("pair").to_owned();

    assert_eq!(app.get("/users/me").await.status(), 200);
    let out = app
        .client
        .post(app.url("/auth/cookie/logout"))
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 204);
    // Replaying the old cookie by hand: the session row is revoked, not just forgotten.
    let replay = new_client()
        .get(app.url("/users/me"))
        .header("cookie", value)
        .send()
        .await
        .expect("request");
    assert_eq!(replay.status(), 401);
    assert_eq!(app.audit_entries("logout").await.len(), 1);
}

#[tokio::test]
async fn jwt_logout_revokes_the_token_and_sign_out_everywhere_ends_every_session() {
    let app = spawn_app().await;
    let dev = app.create_user("dana", Role::Developer, None).await;
    let token = jwt_for(&app, &dev.username, &dev.password).await;
    let out = new_client()
        .post(app.url("/auth/jwt/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 204);
    let after = me_with_bearer(&app, &token).await;
    assert_eq!(after.status(), 401);
    assert_eq!(
        after.json::<Value>().await.expect("JSON")["message"],
        "this bearer token has been signed out"
    );

    let second = jwt_for(&app, &dev.username, &dev.password).await;
    let browser = app.client_for(&dev).await;
    let n: Value = call_server_fn(&browser, &app.url("/_srv/logout_everywhere"), "")
        .await
        .json()
        .await
        .expect("JSON");
    assert!(n.as_u64().is_some_and(|n| n >= 2), "{n}");
    assert_eq!(me_with_bearer(&app, &second).await.status(), 401);
    assert_eq!(
        browser
            .get(app.url("/users/me"))
            .send()
            .await
            .expect("me")
            .status(),
        401
    );
}

#[tokio::test]
async fn forged_expired_and_wrong_audience_tokens_are_refused_and_audited() {
    let app = spawn_app().await;
    let dev = app.create_user("dana", Role::Developer, None).await;
    let good = jwt_for(&app, &dev.username, &dev.password).await;
    let key = app.state.identity.settings().jwt_key.0.clone();
    let sign = |claims: Value, key: &[u8]| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(key),
        )
        .expect("sign")
    };
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, exp: i64| json!({"sub": dev.id.to_string(), "sid": 1, "role": "admin", "iss": "heimdall", "aud": aud, "iat": now, "exp": exp});
    let cases = [
        (
            "forged",
            sign(
                claims("heimdall", now + 600),
                b"not-the-servers-key-not-the-servers-key",
            ),
            "signature is invalid",
        ),
        (
            "expired",
            sign(claims("heimdall", now - 3600), &key),
            "has expired",
        ),
        (
            "wrong audience",
            sign(claims("someone-else", now + 600), &key),
            "another audience",
        ),
        ("tampered", format!("{good}x"), "signature is invalid"),
        ("garbage", "not.a.jwt".to_owned(), "malformed"),
        ("unknown API token", "hmt_nope".to_owned(), "unknown API token"),
    ];
    for (name, token, expected) in &cases {
        let response = me_with_bearer(&app, token).await;
        assert_eq!(response.status(), 401, "{name}");
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(body["error"], "unauthenticated", "{name}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(expected)),
            "{name}: {body}"
        );
    }
    let rejected = app.audit_entries("token.rejected").await;
    assert_eq!(rejected.len(), cases.len(), "{rejected:?}");
}

#[tokio::test]
async fn a_cross_site_post_is_refused_with_403_and_audited_but_same_site_passes() {
    let app = spawn_app().await;
    let dev = app.create_user("dana", Role::Developer, None).await;
    let browser = app.client_for(&dev).await;
    let attack = browser
        .post(app.url("/_srv/logout_everywhere"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("request");
    assert_eq!(attack.status(), 403);
    let body: Value = attack.json().await.expect("JSON");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("cross-site request refused")),
        "{body}"
    );
    assert_eq!(app.audit_entries("csrf.rejected").await.len(), 1);
    // The session survived the attempt.
    assert_eq!(
        browser
            .get(app.url("/users/me"))
            .send()
            .await
            .expect("me")
            .status(),
        200
    );
    let same_site = browser
        .post(app.url("/_srv/list_my_sessions"))
        .header("origin", format!("http://{}", app.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("request");
    assert_eq!(same_site.status(), 200);
}

#[tokio::test]
async fn the_idp_portal_login_answers_token_and_role() {
    let app = spawn_app().await;
    let viewer = app.create_user("vic", Role::Viewer, None).await;
    let response = new_client()
        .post(app.url("/auth/login"))
        .json(&json!({"username": viewer.username, "password": viewer.password}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["role"], "viewer");
    let token = body["token"].as_str().expect("token");
    assert_eq!(me_with_bearer(&app, token).await.status(), 200);
    // The seed's 8 hours, in the answer and in the token itself.
    assert_eq!(body["expires_in"], 28_800);
    let claims: Value = {
        use base64::Engine;
        let payload = token.split('.').nth(1).expect("a JWT");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("claims")
    };
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        28_800
    );
    // Long-lived, and still ended at once: by signing out…
    let signed_out = new_client()
        .post(app.url("/auth/jwt/logout"))
        .bearer_auth(token)
        .send()
        .await
        .expect("logout");
    assert_eq!(signed_out.status(), 204);
    assert_eq!(me_with_bearer(&app, token).await.status(), 401);
    // …and by deactivation.
    let second: Value = new_client()
        .post(app.url("/auth/login"))
        .json(&json!({"username": viewer.username, "password": viewer.password}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    let second = second["token"].as_str().expect("token").to_owned();
    assert_eq!(me_with_bearer(&app, &second).await.status(), 200);
    app.sign_in_as_admin().await;
    let deactivated = app
        .client
        .patch(app.url(&format!("/users/{}", viewer.id)))
        .json(&json!({"is_active": false}))
        .send()
        .await
        .expect("patch");
    assert_eq!(deactivated.status(), 200);
    assert_eq!(me_with_bearer(&app, &second).await.status(), 401);
    let bad = new_client()
        .post(app.url("/auth/login"))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn personal_api_tokens_work_as_bearer_respect_scope_and_die_when_revoked() {
    let app = spawn_app().await;
    app.sign_in_as_admin().await;
    let created: Value = call_server_fn(
        &app.client,
        &app.url("/_srv/create_my_token"),
        "name=ci&scope=read&expires_in_days=30",
    )
    .await
    .json()
    .await
    .expect("JSON");
    let token = created["token"].as_str().expect("token shown once").to_owned();
    assert!(token.starts_with("hmt_"));
    let id = created["info"]["id"].as_i64().expect("id");
    assert_eq!(created["info"]["scope"], "read");

    let with_token = |path: &'static str| {
        let token = token.clone();
        let url = app.url(path);
        async move {
            new_client()
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .expect("request")
        }
    };
    assert_eq!(with_token("/_srv/get_overview").await.status(), 200);
    // A read token cannot administer, even though its owner is an admin.
    let refused = with_token("/_srv/list_tenants").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.expect("JSON")["message"],
        "this API token is read-only"
    );

    // Nor can it change its owner's account, e.g. revoke tokens, but it may read it.
    assert_eq!(with_token("/_srv/logout_everywhere").await.status(), 403);
    assert_eq!(with_token("/_srv/get_my_account").await.status(), 200);
    let listed: Value = app.server_fn("list_my_tokens").await.json().await.expect("JSON");
    assert!(
        listed[0]["last_used_at"].is_string(),
        "last use recorded: {listed}"
    );
    assert!(
        !listed.to_string().contains(&token),
        "the list never shows the token"
    );

    let revoked = call_server_fn(
        &app.client,
        &app.url("/_srv/revoke_my_token"),
        &format!("id={id}"),
    )
    .await;
    assert_eq!(revoked.status(), 200);
    let after = with_token("/_srv/get_overview").await;
    assert_eq!(after.status(), 401);
    assert_eq!(
        after.json::<Value>().await.expect("JSON")["message"],
        "this API token has been revoked"
    );
    assert_eq!(app.audit_entries("token.created").await.len(), 1);
    assert_eq!(app.audit_entries("token.revoked").await.len(), 1);
}

#[tokio::test]
async fn the_static_admin_token_works_only_when_configured() {
    let app = spawn_app().await;
    let unconfigured = new_client()
        .get(app.url("/users/me"))
        .bearer_auth("some-admin-token-value")
        .send()
        .await
        .expect("request");
    assert_eq!(unconfigured.status(), 401);

    let (mut config, file) = test_config().await;
    config.auth.admin_token = Some("operator-console-admin-token-123".to_owned().into());
    let app = spawn_app_with(config, file).await;
    let ok = call_server_fn_bearer(&app, "/_srv/list_tenants", "operator-console-admin-token-123").await;
    assert_eq!(ok.status(), 200);
    let wrong = call_server_fn_bearer(&app, "/_srv/list_tenants", "operator-console-admin-token-124").await;
    assert_eq!(wrong.status(), 401);
}

async fn call_server_fn_bearer(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    new_client()
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn with_auth_disabled_reads_are_anonymous_but_changes_need_a_user() {
    let (mut config, file) = test_config().await;
    config.auth.enabled = false;
    let app = spawn_app_with(config, file).await;
    assert_eq!(app.server_fn("get_overview").await.status(), 200);
    let viewer: Value = app.server_fn("get_viewer").await.json().await.expect("JSON");
    assert_eq!(viewer["auth_enabled"], false);
    assert!(viewer["user"].is_null());
    assert_eq!(app.server_fn("list_tenants").await.status(), 401);
    assert_eq!(app.server_fn("logout_everywhere").await.status(), 401);
    // Pages render without a redirect, with the banner.
    let page = app
        .client
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("body").contains("Authentication is off"));
}

#[tokio::test]
async fn registration_is_off_by_default_and_follows_the_allow_lists_when_on() {
    let app = spawn_app().await;
    let off = new_client()
        .post(app.url("/auth/register"))
        .json(&json!({"email": "new@example.com", "password": "long-enough-pw"}))
        .send()
        .await
        .expect("request");
    assert_eq!(off.status(), 404);

    let (mut config, file) = test_config().await;
    config.auth.registration_enabled = true;
    config.auth.allowed_domains = vec!["example.com".into()];
    let app = spawn_app_with(config, file).await;
    let register = |email: &'static str, password: &'static str| {
        let url = app.url("/auth/register");
        async move {
            new_client()
                .post(url)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .expect("request")
        }
    };
    let created = register("new@example.com", "long-enough-pw").await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.expect("JSON");
    assert_eq!(body["role"], "viewer");
    assert_eq!(register("new@example.com", "long-enough-pw").await.status(), 409);
    let short = register("short@example.com", "short").await;
    assert_eq!(short.status(), 422);
    assert_eq!(
        short.json::<Value>().await.expect("JSON")["message"],
        "Password should be at least 8 characters"
    );
    assert_eq!(
        register("someone@other.com", "long-enough-pw").await.status(),
        403
    );
    // The registered user signs in with the email as username.
    let login = sign_in(
        &new_client(),
        &app.url("/auth/cookie/login"),
        "new@example.com",
        "long-enough-pw",
    )
    .await;
    assert_eq!(login.status(), 204);
}

#[tokio::test]
async fn the_allow_list_applies_to_password_sign_in_too() {
    let (mut config, file) = test_config().await;
    config.auth.allowed_emails = vec!["dana@example.test".into()];
    let app = spawn_app_with(config, file).await;
    let dana = app.create_user("dana", Role::Developer, None).await;
    let eve = app.create_user("eve", Role::Developer, None).await;
    assert_eq!(
        sign_in(
            &new_client(),
            &app.url("/auth/cookie/login"),
            &dana.username,
            &dana.password
        )
        .await
        .status(),
        204
    );
    let refused = sign_in(
        &new_client(),
        &app.url("/auth/cookie/login"),
        &eve.username,
        &eve.password,
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.expect("JSON")["message"],
        "eve@example.test is not allowed to sign in here"
    );
}

#[tokio::test]
async fn admins_manage_users_through_the_seed_routes_and_deactivation_ends_sessions() {
    let app = spawn_app().await;
    app.sign_in_as_admin().await;
    let dev = app.create_user("dana", Role::Developer, None).await;
    let dana = app.client_for(&dev).await;
    assert_eq!(
        dana.get(app.url("/users/me")).send().await.expect("me").status(),
        200
    );

    let url = app.url(&format!("/users/{}", dev.id));
    let got: Value = app
        .client
        .get(&url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("JSON");
    assert_eq!(got["username"], "dana");
    let patched = app
        .client
        .patch(&url)
        .json(&json!({"role": "viewer", "is_active": false}))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.expect("JSON");
    assert_eq!(
        (patched["role"].as_str(), patched["active"].as_bool()),
        (Some("viewer"), Some(false))
    );
    assert_eq!(
        dana.get(app.url("/users/me")).send().await.expect("me").status(),
        401,
        "sessions ended"
    );
    let refused = sign_in(
        &new_client(),
        &app.url("/auth/cookie/login"),
        &dev.username,
        &dev.password,
    )
    .await;
    assert_eq!(refused.status(), 403);

    let bad = app
        .client
        .patch(&url)
        .json(&json!({"role": "root"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(bad.status(), 422);
    assert_eq!(
        app.client
            .get(app.url("/users/abc"))
            .send()
            .await
            .expect("get")
            .status(),
        422
    );
    assert_eq!(
        app.client
            .get(app.url("/users/999999"))
            .send()
            .await
            .expect("get")
            .status(),
        404
    );
    assert_eq!(
        app.client.delete(&url).send().await.expect("delete").status(),
        204
    );
    assert_eq!(app.client.get(&url).send().await.expect("get").status(), 404);
    for action in ["user.role_changed", "user.deactivated", "user.deleted"] {
        assert_eq!(app.audit_entries(action).await.len(), 1, "{action}");
    }
    // An admin cannot demote themselves.
    let me: Value = app
        .client
        .get(app.url("/users/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    let own = app.url(&format!("/users/{}", me["id"]));
    assert_eq!(
        app.client
            .patch(own)
            .json(&json!({"role": "viewer"}))
            .send()
            .await
            .expect("patch")
            .status(),
        409
    );
}

#[tokio::test]
async fn server_function_errors_carry_their_real_status() {
    let app = spawn_app().await;
    let anonymous = call_server_fn(&app.client, &app.url("/_srv/list_users"), "query=").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json::<Value>().await.expect("JSON")["error"],
        "unauthenticated"
    );
    app.sign_in_as_admin().await;
    let invalid = call_server_fn(
        &app.client,
        &app.url("/_srv/create_tenant"),
        "slug=Not%20Valid&name=x",
    )
    .await;
    assert_eq!(invalid.status(), 422);
    assert_eq!(invalid.json::<Value>().await.expect("JSON")["field"], "slug");
    // A call with missing arguments is the caller's mistake: 422, not a 5xx.
    let malformed = app.server_fn("list_users").await;
    assert_eq!(malformed.status(), 422);
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = spawn_app().await;
    let viewer = app.create_user("vic", Role::Viewer, None).await;
    let browser = app.client_for(&viewer).await;
    assert_eq!(
        browser
            .get(app.url("/users/me"))
            .send()
            .await
            .expect("me")
            .status(),
        200
    );
    let sessions = app
        .state
        .identity
        .store()
        .list_sessions(viewer.id)
        .await
        .expect("sessions");
    assert_eq!(sessions.len(), 1);
    // As if the last request was longer ago than the idle timeout (8 h by default).
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(9);
    app.state
        .identity
        .store()
        .touch_session(sessions[0].id, long_ago)
        .await
        .expect("backdate");
    assert_eq!(
        browser
            .get(app.url("/users/me"))
            .send()
            .await
            .expect("me")
            .status(),
        401
    );
}

#[tokio::test]
async fn a_tenants_members_are_for_its_members_and_a_refusal_is_audited() {
    let app = spawn_app().await;
    let member = app.create_user("mia", Role::Viewer, Some("alpha")).await;
    let outsider = app.create_user("otto", Role::Developer, Some("beta")).await;
    let members = call_server_fn(
        &app.client_for(&member).await,
        &app.url("/_srv/list_tenant_members"),
        "slug=alpha",
    )
    .await;
    assert_eq!(members.status(), 200);
    assert_eq!(
        members.json::<Value>().await.expect("JSON"),
        serde_json::json!(["mia"])
    );
    assert!(app.audit_entries("access.denied").await.is_empty());

    let refused = call_server_fn(
        &app.client_for(&outsider).await,
        &app.url("/_srv/list_tenant_members"),
        "slug=alpha",
    )
    .await;
    assert_eq!(refused.status(), 404, "as a tenant that does not exist");
    let missing = call_server_fn(
        &app.client_for(&outsider).await,
        &app.url("/_srv/list_tenant_members"),
        "slug=no-such-tenant",
    )
    .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        refused.json::<Value>().await.expect("JSON")["message"]
            .as_str()
            .map(|m| m.replace("alpha", "X")),
        missing.json::<Value>().await.expect("JSON")["message"]
            .as_str()
            .map(|m| m.replace("no-such-tenant", "X")),
        "the same words either way"
    );
    let denied = app.audit_entries("access.denied").await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].actor, "otto");
    assert_eq!(denied[0].target, "/_srv/list_tenant_members");
    assert_eq!(denied[0].detail, "you are not a member of this tenant");
}

/// A password sign-in that the (local) ingress forwards from `from`.
async fn sign_in_from(app: &TestApp, username: &str, password: &str, from: &str) -> reqwest::Response {
    new_client()
        .post(app.url("/auth/cookie/login"))
        .header("x-forwarded-for", from)
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .expect("request")
}

/// Failed sign-ins of one person, forwarded from `from`.
async fn fail_from(app: &TestApp, username: &str, from: &str, times: usize) {
    for _ in 0..times {
        let r = sign_in_from(app, username, "wrong-password", from).await;
        assert!(matches!(r.status().as_u16(), 400 | 429), "{}", r.status());
    }
}

#[tokio::test]
async fn behind_a_trusted_ingress_one_clients_failures_lock_nobody_else() {
    let (mut config, file) = test_config().await;
    // The test's requests come from 127.0.0.1: the ingress.
    config.server.trusted_proxies = vec!["127.0.0.0/8".into()];
    let app = spawn_app_with(config, file).await;
    let other = app.create_user("olga", Role::Viewer, None).await;
    // 25 failures from one client, over many made-up names, through the ingress.
    for i in 0..25 {
        fail_from(&app, &format!("nobody{i}"), "198.51.100.7", 1).await;
    }
    // That client is locked out…
    let locked = sign_in_from(
        &app,
        other.username.as_str(),
        other.password.as_str(),
        "198.51.100.7",
    )
    .await;
    assert_eq!(locked.status(), 429);
    // …everyone else behind the same ingress is not.
    let fine = sign_in_from(
        &app,
        other.username.as_str(),
        other.password.as_str(),
        "198.51.100.8",
    )
    .await;
    assert_eq!(fine.status(), 204);
    // The audit log names the client, not the ingress.
    let entries = app.audit_entries("login.password").await;
    assert!(entries.iter().any(|e| e.ip == "198.51.100.7"), "{entries:?}");
}

#[tokio::test]
async fn an_untrusted_peers_forwarded_for_is_ignored_and_an_address_lock_is_short() {
    let app = spawn_app().await;
    let other = app.create_user("pavel", Role::Viewer, None).await;
    // Each failure claims another address; without trusted proxies the claim means nothing.
    for i in 0..22 {
        fail_from(&app, &format!("nobody{i}"), &format!("198.51.100.{i}"), 1).await;
    }
    let locked = sign_in_from(
        &app,
        other.username.as_str(),
        other.password.as_str(),
        "198.51.100.200",
    )
    .await;
    assert_eq!(locked.status(), 429, "the peer's address is what counts");
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!(
        retry <= 60,
        "an address is locked for a minute at most, not {retry} s"
    );
}

#[tokio::test]
async fn an_accounts_email_shares_its_usernames_lock() {
    let app = spawn_app().await;
    let user = app.create_user("quinn", Role::Viewer, None).await;
    fail_from(&app, "quinn", "198.51.100.1", 5).await;
    // Asked by email, the same account: still locked, no fresh allowance.
    let by_email = sign_in_from(&app, "quinn@example.test", &user.password, "198.51.100.1").await;
    assert_eq!(by_email.status(), 429);
}

#[tokio::test]
async fn an_api_token_is_minted_by_a_browser_session_for_at_most_the_configured_days() {
    let app = spawn_app().await;
    let user = app.create_user("tina", Role::Developer, None).await;
    let browser = app.client_for(&user).await;
    let mint = |client: &reqwest::Client, body: &'static str| {
        let (client, url) = (client.clone(), app.url("/_srv/create_my_token"));
        async move { call_server_fn(&client, &url, body).await }
    };
    // Ten years: refused; the default cap is 90 days.
    let long = mint(&browser, "name=forever&scope=write&expires_in_days=3650").await;
    assert_eq!(long.status(), 422);
    let body: Value = long.json().await.expect("JSON");
    assert_eq!(body["field"], "expires_in_days", "{body}");
    // Unsaid: the longest allowed, not "never".
    let unsaid: Value = mint(&browser, "name=default&scope=read")
        .await
        .json()
        .await
        .expect("JSON");
    let expires = unsaid["info"]["expires_at"].as_str().expect("an expiry");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).expect("time");
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((89..=90).contains(&days), "{days} days");
    assert_eq!(
        mint(&browser, "name=ok&scope=write&expires_in_days=90")
            .await
            .status(),
        200
    );

    // A 15-minute bearer JWT does not mint a token.
    let jwt = jwt_for(&app, &user.username, &user.password).await;
    let with_jwt = crate::helpers::bearer_client(&jwt);
    assert_eq!(
        mint(&with_jwt, "name=from-jwt&scope=write&expires_in_days=30")
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn a_new_password_ends_every_other_session() {
    let app = spawn_app().await;
    let user = app.create_user("uma", Role::Viewer, None).await;
    let here = app.client_for(&user).await;
    let elsewhere = app.client_for(&user).await;
    let jwt = jwt_for(&app, &user.username, &user.password).await;
    let changed = call_server_fn(
        &here,
        &app.url("/_srv/change_my_password"),
        &format!(
            "current_password={}&new_password=a-brand-new-password",
            user.password
        ),
    )
    .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(
        here.get(app.url("/users/me")).send().await.expect("me").status(),
        200,
        "this session goes on"
    );
    assert_eq!(
        elsewhere
            .get(app.url("/users/me"))
            .send()
            .await
            .expect("me")
            .status(),
        401
    );
    let by_jwt = new_client()
        .get(app.url("/users/me"))
        .bearer_auth(&jwt)
        .send()
        .await
        .expect("me");
    assert_eq!(by_jwt.status(), 401, "the bearer JWT's session ended too");
}

#[tokio::test]
async fn a_signed_out_caller_hears_401_before_anything_about_the_body() {
    let app = spawn_app().await;
    let anonymous = new_client();
    for (method, path, body) in [
        (reqwest::Method::POST, "/api/v1/jobs/any/approve", "{}"),
        (reqwest::Method::POST, "/api/v1/jobs/any/reject", "not json"),
        (reqwest::Method::PATCH, "/users/me", "{\"email\": 5}"),
        (reqwest::Method::PATCH, "/users/me", "{}"),
    ] {
        let response = anonymous
            .request(method.clone(), app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 401, "{method} {path} {body}");
    }
}
