//! Google and Keycloak sign-in through Heimdall's own routes, against the real peers the test
//! command starts: the Google stand-in (npm oidc-provider at Google's paths) and Keycloak with
//! the `heimdall` realm. The provider's own login pages are filled in over HTTP here; the
//! browser tests do the same in Chromium.

use serde_json::Value;

use app::audit::Outcome;
use app::identity::Role;
use app::testing::{GoogleStandIn, KeycloakRealm};

use crate::helpers::{TestApp, new_client, spawn_app_with, test_config};

async fn google_app(allowed_domains: Vec<String>) -> TestApp {
    let g = GoogleStandIn::from_env();
    let (mut config, file) = test_config().await;
    config.auth.google_client_id = Some(g.client_id);
    config.auth.google_client_secret = Some(g.client_secret.into());
    config.auth.google_issuer = g.issuer;
    // Registered with the stand-in; nothing listens there, the test carries the code over.
    config.auth.redirect_url = Some(g.redirect_uri);
    config.auth.allowed_domains = allowed_domains;
    spawn_app_with(config, file).await
}

async fn keycloak_app() -> TestApp {
    let k = KeycloakRealm::from_env();
    let (mut config, file) = test_config().await;
    config.auth.keycloak.issuer = Some(k.issuer);
    config.auth.keycloak.client_id = k.client_id;
    config.auth.keycloak.client_secret = Some(k.client_secret.into());
    spawn_app_with(config, file).await
}

/// The provider's first `<form action="...">`.
fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form on the provider's page") + "action=\"".len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].replace("&amp;", "&")
}

/// A browser-like client that stops when the provider sends it back to `callback_prefix`.
fn browser_until(callback_prefix: String) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.url().as_str().starts_with(&callback_prefix) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .expect("client")
}

/// Starts at Heimdall's `/auth/{provider}/login`, signs in on the provider's pages with `fields`
/// (then consents, for the stand-in), and returns the callback URL the provider redirected to,
/// rewritten onto Heimdall's address.
async fn through_provider(
    app: &TestApp,
    browser: &reqwest::Client,
    provider: &str,
    fields: &[(&str, &str)],
) -> String {
    // Heimdall answers 303 to the provider; the client follows it to the provider's login page.
    let mut response = browser
        .get(app.url(&format!("/auth/{provider}/login?next=/account")))
        .send()
        .await
        .expect("start");
    let at = response.url().as_str().to_owned();
    assert!(
        !at.starts_with(&app.url("")),
        "Heimdall sends the browser to {provider}: {at}"
    );
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    for _ in 0..4 {
        if response.status().is_redirection() {
            break;
        }
        let base = response.url().clone();
        let html = response.text().await.expect("page");
        let action = base.join(&form_action(&html)).expect("form URL");
        response = browser.post(action).form(&form).send().await.expect("form post");
        form = vec![("prompt", "consent")];
    }
    let back = url::Url::parse(response.headers()["location"].to_str().expect("location")).expect("URL");
    // Google's redirect URI is a placeholder port; the callback itself is Heimdall's.
    format!("{}?{}", app.url(back.path()), back.query().unwrap_or_default())
}

async fn finish(browser: &reqwest::Client, callback: &str) -> reqwest::Response {
    browser
        .get(callback)
        .header("accept", "application/json")
        .send()
        .await
        .expect("callback")
}

#[tokio::test]
async fn google_sign_in_creates_a_linked_viewer_with_a_session_and_a_state_cannot_be_replayed() {
    let app = google_app(Vec::new()).await;
    let browser = browser_until(GoogleStandIn::from_env().redirect_uri);
    let callback = through_provider(
        &app,
        &browser,
        "google",
        &[("prompt", "login"), ("login", "ada"), ("password", "x")],
    )
    .await;
    let done = finish(&browser, &callback).await;
    assert_eq!(done.status(), 200);
    let set_cookies: Vec<String> = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    assert!(
        set_cookies.iter().any(|c| c.starts_with("heimdall_auth=hms_")),
        "{set_cookies:?}"
    );
    let body: Value = done.json().await.expect("JSON");
    assert_eq!(body["token_type"], "bearer");

    let me: Value = browser
        .get(app.url("/users/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["email"], "ada@gmail.test");
    assert_eq!(me["role"], "viewer");
    let links = app
        .state
        .identity
        .store()
        .list_links(me["id"].as_i64().expect("id"))
        .await
        .expect("links");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].provider, "google");
    assert_eq!(
        app.audit_entries("login.google").await[0].outcome,
        Outcome::Success
    );

    // The same callback again: the state was used up.
    let replay = finish(&browser, &callback).await;
    assert_eq!(replay.status(), 422);
    let body: Value = replay.json().await.expect("JSON");
    assert_eq!(body["field"], "state");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("already used")),
        "{body}"
    );
    assert_eq!(app.audit_entries("oauth.state_rejected").await.len(), 1);

    // A second sign-in finds the same user through the link.
    let again = through_provider(
        &app,
        &browser,
        "google",
        &[("prompt", "login"), ("login", "ada"), ("password", "x")],
    )
    .await;
    assert_eq!(finish(&browser, &again).await.status(), 200);
    assert_eq!(
        app.state.identity.count_users().await.expect("count"),
        2,
        "admin + ada"
    );
}

#[tokio::test]
async fn a_callback_carried_to_another_browser_is_refused() {
    let app = google_app(Vec::new()).await;
    let browser = browser_until(GoogleStandIn::from_env().redirect_uri);
    let callback = through_provider(
        &app,
        &browser,
        "google",
        &[("prompt", "login"), ("login", "bea"), ("password", "x")],
    )
    .await;
    let elsewhere = finish(&new_client(), &callback).await;
    assert_eq!(elsewhere.status(), 422);
    let body: Value = elsewhere.json().await.expect("JSON");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("another browser")),
        "{body}"
    );
    // A browser asking for a page gets a readable page with the same status.
    let html = new_client()
        .get(&callback)
        .header("accept", "text/html")
        .send()
        .await
        .expect("callback");
    assert_eq!(html.status(), 422);
    assert!(html.text().await.expect("body").contains("Sign-in failed"));
}

#[tokio::test]
async fn google_sign_in_respects_the_allow_list() {
    let app = google_app(vec!["example.com".into()]).await;
    let browser = browser_until(GoogleStandIn::from_env().redirect_uri);
    let callback = through_provider(
        &app,
        &browser,
        "google",
        &[("prompt", "login"), ("login", "cyd"), ("password", "x")],
    )
    .await;
    let refused = finish(&browser, &callback).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["message"], "cyd@gmail.test is not allowed to sign in here");
    assert_eq!(
        app.state.identity.count_users().await.expect("count"),
        1,
        "nobody was created"
    );
    let denied = app.audit_entries("login.google").await;
    assert_eq!(denied[0].outcome, Outcome::Denied);
}

#[tokio::test]
async fn the_authorize_route_answers_the_seeds_json() {
    let app = google_app(Vec::new()).await;
    let response = new_client()
        .get(app.url("/auth/google/authorize"))
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .starts_with("heimdall_oauth=")
    );
    let body: Value = response.json().await.expect("JSON");
    let url = body["authorization_url"].as_str().expect("authorization_url");
    assert!(
        url.starts_with(&GoogleStandIn::from_env().issuer) && url.contains("/o/oauth2/v2/auth?"),
        "{url}"
    );
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "nonce=",
        "state=",
        "scope=openid+email+profile",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
}

#[tokio::test]
async fn keycloak_users_land_with_their_mapped_roles() {
    let app = keycloak_app().await;
    // dave already has a local account with his email: the first Keycloak sign-in links it
    // and takes the role from Keycloak.
    let local = app.create_user("dave", Role::Viewer, None).await;
    app.state
        .identity
        .store()
        .update_user(
            local.id,
            &app::identity::store::UserPatch {
                email: Some(Some("dave@heimdall.test".into())),
                // As an admin sets it: the one email a first sign-in may link by.
                email_verified: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("email");
    for (user, password, role) in [
        ("alice-admin", "alice-password", "admin"),
        ("dave-developer", "dave-password", "developer"),
        ("vera-viewer", "vera-password", "viewer"),
    ] {
        let browser = browser_until(app.url("/auth/keycloak/callback"));
        let callback = through_provider(
            &app,
            &browser,
            "keycloak",
            &[("username", user), ("password", password)],
        )
        .await;
        let done = finish(&browser, &callback).await;
        assert_eq!(done.status(), 200, "{user}");
        let me: Value = browser
            .get(app.url("/users/me"))
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("JSON");
        assert_eq!(me["role"], role, "{user}: {me}");
    }
    let dave = app
        .state
        .identity
        .store()
        .find_user(local.id)
        .await
        .expect("dave");
    assert_eq!(
        dave.role,
        Role::Developer,
        "linked, and the role synced from Keycloak"
    );
    assert_eq!(
        app.state
            .identity
            .store()
            .list_links(local.id)
            .await
            .expect("links")[0]
            .provider,
        "keycloak"
    );
    assert_eq!(app.audit_entries("user.role_changed").await.len(), 1);
}

/// Signs in through Keycloak as `user` with `browser` (which may already hold a Heimdall
/// session), starting at `start` (`/auth/keycloak/login` or `/auth/keycloak/link`); returns the
/// callback's answer.
async fn keycloak_through(
    app: &TestApp,
    browser: &reqwest::Client,
    start: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let mut response = browser.get(app.url(start)).send().await.expect("start");
    let mut form: Vec<(&str, &str)> = vec![("username", user), ("password", password)];
    for _ in 0..4 {
        if response.status().is_redirection() {
            break;
        }
        assert!(
            response.status().is_success(),
            "{start}: {} {}",
            response.status(),
            response.url()
        );
        let base = response.url().clone();
        let html = response.text().await.expect("page");
        let action = base.join(&form_action(&html)).expect("form URL");
        response = browser.post(action).form(&form).send().await.expect("form post");
        form = vec![];
    }
    let back = url::Url::parse(response.headers()["location"].to_str().expect("location")).expect("URL");
    let callback = format!("{}?{}", app.url(back.path()), back.query().unwrap_or_default());
    finish(browser, &callback).await
}

/// A browser-like client (cookies, same-origin) that stops at Heimdall's callback.
fn signed_in_browser(app: &TestApp) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    let callback = app.url("/auth/keycloak/callback");
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.url().as_str().starts_with(&callback) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .expect("client")
}

#[tokio::test]
async fn an_email_typed_in_by_a_viewer_never_takes_over_the_keycloak_admin_who_owns_it() {
    let app = keycloak_app().await;
    let viewer = app.create_user("victor", Role::Viewer, None).await;
    let victor = signed_in_browser(&app);
    let signed = crate::helpers::sign_in(
        &victor,
        &app.url("/auth/cookie/login"),
        "victor",
        &viewer.password,
    )
    .await;
    assert_eq!(signed.status(), 204);
    let elsewhere = app.client_for(&viewer).await;
    let me_elsewhere = || elsewhere.get(app.url("/users/me")).send();
    assert_eq!(me_elsewhere().await.expect("me").status(), 200);

    // Without the current password the email stays.
    let refused = victor
        .patch(app.url("/users/me"))
        .json(&serde_json::json!({ "email": "alice@heimdall.test" }))
        .send()
        .await
        .expect("patch");
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.expect("JSON");
    assert!(body.to_string().contains("current_password"), "{body}");
    // Nor with an API token, even one that may write.
    let token: Value = crate::helpers::call_server_fn(
        &victor,
        &app.url("/_srv/create_my_token"),
        "name=script&scope=write&expires_in_days=1",
    )
    .await
    .json()
    .await
    .expect("token");
    let by_token = crate::helpers::bare_client()
        .patch(app.url("/users/me"))
        .bearer_auth(token["token"].as_str().expect("token"))
        .json(&serde_json::json!({ "email": "alice@heimdall.test", "current_password": viewer.password }))
        .send()
        .await
        .expect("patch");
    assert_eq!(by_token.status(), 403);
    // With it, the email changes — unverified — and every other session ends.
    let changed = victor
        .patch(app.url("/users/me"))
        .json(&serde_json::json!({ "email": "alice@heimdall.test", "current_password": viewer.password }))
        .send()
        .await
        .expect("patch");
    assert_eq!(
        changed.status(),
        200,
        "{}",
        changed.text().await.unwrap_or_default()
    );
    assert_eq!(
        me_elsewhere().await.expect("me").status(),
        401,
        "the other session ended"
    );
    assert_eq!(
        victor
            .get(app.url("/users/me"))
            .send()
            .await
            .expect("me")
            .status(),
        200,
        "the session that changed it goes on"
    );

    // The Keycloak admin who really owns that address signs in for the first time: refused,
    // not let into victor's account.
    let alice = signed_in_browser(&app);
    let answer = keycloak_through(
        &app,
        &alice,
        "/auth/keycloak/login",
        "alice-admin",
        "alice-password",
    )
    .await;
    assert_eq!(answer.status(), 403);
    let body: Value = answer.json().await.expect("JSON");
    assert!(
        body.to_string().contains("link keycloak on your account page"),
        "{body}"
    );
    let store = app.state.identity.store();
    let victor_row = store.find_user(viewer.id).await.expect("victor");
    assert_eq!(victor_row.role, Role::Viewer, "victor is still a viewer");
    assert!(
        store.list_links(viewer.id).await.expect("links").is_empty(),
        "nothing linked to victor"
    );
    let again = app.client_for(&viewer).await;
    let me: Value = again
        .get(app.url("/users/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["role"], "viewer", "victor's own sign-in is still a viewer's");

    // A Keycloak ID token whose email Keycloak has not verified names nobody.
    let una = signed_in_browser(&app);
    let answer = keycloak_through(
        &app,
        &una,
        "/auth/keycloak/login",
        "una-unverified",
        "una-password",
    )
    .await;
    assert_eq!(answer.status(), 403);
    assert!(
        store
            .find_user_by_email("una@heimdall.test")
            .await
            .expect("lookup")
            .is_none()
    );
}

#[tokio::test]
async fn a_provider_links_to_an_account_whose_holder_is_signed_in_to_it() {
    let app = keycloak_app().await;
    let local = app.create_user("vera-local", Role::Viewer, None).await;
    let vera = signed_in_browser(&app);
    let signed = crate::helpers::sign_in(
        &vera,
        &app.url("/auth/cookie/login"),
        "vera-local",
        &local.password,
    )
    .await;
    assert_eq!(signed.status(), 204);
    // Not signed in, there is nothing to link to.
    let anonymous = crate::helpers::bare_client()
        .get(app.url("/auth/keycloak/link"))
        .send()
        .await
        .expect("link");
    assert_eq!(anonymous.status(), 401);

    let linked = keycloak_through(&app, &vera, "/auth/keycloak/link", "vera-viewer", "vera-password").await;
    // The callback sends the browser back to the account page (followed here).
    assert_eq!(linked.url().path(), "/account", "back to the account page");
    assert_eq!(linked.status(), 200);
    let links = app
        .state
        .identity
        .store()
        .list_links(local.id)
        .await
        .expect("links");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].provider, "keycloak");
    assert_eq!(app.audit_entries("user.linked").await.len(), 1);

    // From now on a Keycloak sign-in lands in that account.
    let fresh = signed_in_browser(&app);
    let answer = keycloak_through(
        &app,
        &fresh,
        "/auth/keycloak/login",
        "vera-viewer",
        "vera-password",
    )
    .await;
    assert_eq!(answer.status(), 200);
    let me: Value = fresh
        .get(app.url("/users/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["username"], "vera-local");
}

/// The Python seed's other names for Google's sign-in: its current UI's `/auth/google-cookie/…`
/// and its legacy UI's `/auth/callback`.
#[tokio::test]
async fn the_python_seeds_other_google_paths_sign_in_too() {
    let app = google_app(Vec::new()).await;
    let authorize: Value = new_client()
        .get(app.url("/auth/google-cookie/authorize"))
        .send()
        .await
        .expect("authorize")
        .json()
        .await
        .expect("JSON");
    assert!(
        authorize["authorization_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&GoogleStandIn::from_env().issuer)),
        "{authorize}"
    );
    for (user, path) in [
        ("gina", "/auth/google-cookie/callback"),
        ("gus", "/auth/callback"),
    ] {
        let browser = browser_until(GoogleStandIn::from_env().redirect_uri);
        let callback = through_provider(
            &app,
            &browser,
            "google",
            &[("prompt", "login"), ("login", user), ("password", "x")],
        )
        .await;
        let query = callback
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default()
            .to_owned();
        let done = finish(&browser, &format!("{}?{query}", app.url(path))).await;
        assert_eq!(done.status(), 200, "{path}");
        let me: Value = browser
            .get(app.url("/users/me"))
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("JSON");
        assert_eq!(me["email"], format!("{user}@gmail.test"), "{path}: {me}");
    }
}
