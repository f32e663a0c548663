//! The Vault page's server functions and Heimdall credentials on the seed's API: a Heimdall
//! user linked to a Keycloak account sees and revokes their tokens and Keycloak sessions; an
//! admin anyone's; nobody else's; API tokens keep their scope.

use app::identity::Role;
use reqwest::Method;
use serde_json::{Value, json};

use super::support::{DAVE, Kc, call, store_refresh, vault_app};
use crate::helpers::{TestApp, TestUser, call_server_fn};

/// A Heimdall user linked to the Keycloak `subject` (as a Keycloak sign-in would link them).
async fn linked_user(app: &TestApp, name: &str, role: Role, subject: &str) -> TestUser {
    let user = app.create_user(name, role, None).await;
    let store = app.state.identity.store();
    let mut tx = store.db().begin().await.expect("tx");
    store
        .link_identity_in(&mut tx, user.id, "keycloak", subject, None)
        .await
        .expect("link");
    tx.commit().await.expect("commit");
    user
}

async fn server_fn(client: &reqwest::Client, app: &TestApp, name: &str, body: &str) -> (u16, Value) {
    let response = call_server_fn(client, &app.url(&format!("/_srv/{name}")), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_linked_user_sees_and_ends_their_tokens_and_sessions_and_an_admin_sees_anyones() {
    let app = vault_app().await;
    let kc = Kc::new();
    let sub = kc.subject(DAVE).await;
    let dave = linked_user(&app, "dave", Role::Developer, &sub).await;
    let browser = app.client_for(&dave).await;
    // An offline token stored through the API with Dave's Heimdall session... of his own.
    let offline = kc.sign_in(DAVE, true).await;
    let bearer = kc.sign_in(DAVE, false).await.access_token;
    let id = store_refresh(&app, &bearer, &offline.refresh_token).await;

    let (status, view) = server_fn(&browser, &app, "get_vault", "").await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["subject"].as_str(), Some(sub.as_str()));
    assert_eq!(view["tokens"][0]["id"].as_str(), Some(id.as_str()));
    assert_eq!(view["tokens"][0]["key_id"], "a");
    assert_eq!(view["users"], json!([]), "the user list is for admins");
    let sessions = view["sessions"].as_array().expect("sessions");
    assert!(
        sessions
            .iter()
            .any(|s| s["id"] == offline.session_state.as_str() && s["offline"] == true),
        "Keycloak's offline session is listed: {view}"
    );
    assert!(
        sessions.iter().any(|s| s["offline"] == false),
        "and the online ones"
    );

    // The consent starts at Keycloak with PKCE and offline access.
    let (status, url) = server_fn(&browser, &app, "start_vault_consent", "").await;
    assert_eq!(status, 200, "{url}");
    let url = url.as_str().expect("a URL");
    assert!(url.starts_with(&kc_issuer()), "{url}");
    assert!(
        url.contains("offline_access") && url.contains("code_challenge_method=S256"),
        "{url}"
    );

    // Someone else cannot touch Dave's token; the admin can see it.
    let vera = linked_user(
        &app,
        "vera",
        Role::Viewer,
        &kc.subject(super::support::VERA).await,
    )
    .await;
    let (status, _) = server_fn(
        &app.client_for(&vera).await,
        &app,
        "revoke_vault_token",
        &format!("id={id}"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = server_fn(
        &app.client_for(&vera).await,
        &app,
        "get_vault",
        &format!("subject={sub}"),
    )
    .await;
    assert_eq!(status, 403, "only admins look at other users");
    app.sign_in_as_admin().await;
    let (status, as_admin) = server_fn(&app.client, &app, "get_vault", &format!("subject={sub}")).await;
    assert_eq!(status, 200, "{as_admin}");
    assert_eq!(as_admin["username"], "dave");
    assert_eq!(as_admin["tokens"][0]["id"].as_str(), Some(id.as_str()));
    assert!(
        as_admin["users"]
            .as_array()
            .expect("users")
            .iter()
            .any(|u| u["subject"] == sub.as_str() && u["tokens"] == 1)
    );

    // Ending the offline session ends it in Keycloak and drops the tokens that lived in it.
    let (status, dropped) = server_fn(
        &browser,
        &app,
        "end_keycloak_session",
        &format!("session_id={}&offline=true", offline.session_state),
    )
    .await;
    assert_eq!((status, dropped), (200, json!(1)));
    assert!(!kc.offline_sessions(&sub).await.contains(&offline.session_state));
    assert!(app.state.vault.store().get(&id).await.expect("read").is_none());
    assert_eq!(app.audit_entries("vault.session.revoked").await.len(), 1);
    let (status, _) = server_fn(
        &browser,
        &app,
        "end_keycloak_session",
        "session_id=no-such-session&offline=false",
    )
    .await;
    assert_eq!(status, 404);
}

fn kc_issuer() -> String {
    app::testing::KeycloakRealm::from_env().issuer
}

#[tokio::test]
async fn heimdall_credentials_of_the_owner_mint_and_api_tokens_keep_their_scope() {
    let app = vault_app().await;
    let kc = Kc::new();
    let sub = kc.subject(DAVE).await;
    let dave = linked_user(&app, "dave", Role::Developer, &sub).await;
    let refresh = kc.sign_in(DAVE, false).await.refresh_token;
    let browser = app.client_for(&dave).await;
    let token = |scope: &'static str| {
        let browser = browser.clone();
        let url = app.url("/_srv/create_my_token");
        async move {
            let created: Value = call_server_fn(
                &browser,
                &url,
                &format!("name={scope}&scope={scope}&expires_in_days=30"),
            )
            .await
            .json()
            .await
            .expect("JSON");
            created["token"].as_str().expect("token").to_owned()
        }
    };
    let (write, read) = (token("write").await, token("read").await);
    let id = store_refresh(&app, &write, &refresh).await;
    let (status, minted) = call(
        &app,
        Method::POST,
        &format!("/v1/access-token?id={id}"),
        &write,
        None,
    )
    .await;
    assert_eq!(status, 200, "{minted}");
    let (status, refused) = call(
        &app,
        Method::POST,
        &format!("/v1/access-token?id={id}"),
        &read,
        None,
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("forbidden")),
        "{refused}"
    );

    // A Heimdall user with no Keycloak link owns nothing in the vault, and is told why.
    let plain = app.create_user("plain", Role::Developer, None).await;
    let (status, view) = server_fn(&app.client_for(&plain).await, &app, "get_vault", "").await;
    assert_eq!(status, 200);
    assert_eq!(view["subject"], Value::Null);
    let (status, body) = server_fn(&app.client_for(&plain).await, &app, "start_vault_consent", "").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.to_string().contains("sign in with Keycloak"), "{body}");
}
