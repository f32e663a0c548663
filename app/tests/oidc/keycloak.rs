//! Heimdall's OIDC code against the real Keycloak the README's test command starts, with the
//! realm fixture `end2end/peers/keycloak/heimdall-realm.json` imported.

use app::identity::oidc::OidcClient;
use app::testing::KeycloakRealm;

/// An access token for a fixture user, straight from Keycloak (the test's own request).
async fn access_token(realm: &KeycloakRealm, token_endpoint: &str, user: &str, password: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(token_endpoint)
        .form(&[
            ("grant_type", "password"),
            ("client_id", realm.client_id.as_str()),
            ("client_secret", realm.client_secret.as_str()),
            ("username", user),
            ("password", password),
            ("scope", "openid"),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {body}"))
        .to_owned()
}

#[tokio::test]
async fn a_keycloak_token_for_each_test_user_is_active_with_its_mapped_realm_role() {
    let realm = KeycloakRealm::from_env();
    let oidc = OidcClient::default();
    let meta = oidc.discover(&realm.issuer).await.expect("Keycloak discovery");
    for (user, password, role) in [
        ("alice-admin", "alice-password", "heimdall-admin"),
        ("dave-developer", "dave-password", "heimdall-developer"),
        ("vera-viewer", "vera-password", "heimdall-viewer"),
    ] {
        let token = access_token(&realm, &meta.token_endpoint, user, password).await;
        let result = oidc
            .introspect(&meta, &realm.client_id, &realm.client_secret, &token)
            .await
            .expect("introspection");
        assert!(result.active, "{user}'s token is active");
        assert_eq!(result.username.as_deref(), Some(user));
        let roles = result.realm_access.unwrap_or_default().roles;
        assert!(roles.iter().any(|r| r == role), "{user} has {role}: {roles:?}");
    }
}

#[tokio::test]
async fn a_forged_token_is_inactive_and_a_wrong_client_secret_is_refused() {
    let realm = KeycloakRealm::from_env();
    let oidc = OidcClient::default();
    let meta = oidc.discover(&realm.issuer).await.expect("Keycloak discovery");
    let forged = oidc
        .introspect(
            &meta,
            &realm.client_id,
            &realm.client_secret,
            "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl",
        )
        .await
        .expect("introspection answers");
    assert!(!forged.active);
    let token = access_token(&realm, &meta.token_endpoint, "vera-viewer", "vera-password").await;
    let err = oidc
        .introspect(&meta, &realm.client_id, "not-the-secret", &token)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("HTTP 401"), "{err}");
}
