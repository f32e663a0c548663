//! The auth-manager seed's `/v1/*` API against the real Keycloak: consent, mint, new offline
//! token, revoke (and Keycloak's own view of the sessions), refresh tokens, validation, the
//! envelope and its codes, and who may use whose token.

use reqwest::Method;
use serde_json::json;

use super::support::{DAVE, Kc, VERA, call, consent, store_refresh, vault_app};

#[tokio::test]
async fn consent_stores_an_offline_token_that_mints_active_access_tokens_until_it_is_revoked() {
    let app = vault_app().await;
    let kc = Kc::new();
    let dave = kc.sign_in(DAVE, false).await;
    let sub = kc.subject(DAVE).await;

    let (status, done) = consent(&app, &dave.access_token, DAVE).await;
    assert_eq!(status, 200, "{done}");
    let id = done["data"]["persistent_token_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let session = done["data"]["session_state_id"]
        .as_str()
        .expect("session")
        .to_owned();
    assert!(!session.is_empty());
    assert!(
        kc.offline_sessions(&sub).await.contains(&session),
        "Keycloak holds the offline session"
    );

    // Minted twice: the second mint uses the token the first one stored.
    for _ in 0..2 {
        let (status, minted) = call(
            &app,
            Method::POST,
            &format!("/v1/access-token?id={id}"),
            &dave.access_token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{minted}");
        assert!(minted["data"]["expires_in"].as_i64().expect("expires_in") > 0);
        let info = kc
            .introspect(minted["data"]["access_token"].as_str().expect("access_token"))
            .await;
        assert_eq!(
            info["active"], true,
            "Keycloak calls the minted token active: {info}"
        );
        assert_eq!(info["sub"].as_str(), Some(sub.as_str()));
    }

    // A second offline token from the first, in the same offline session.
    let (status, second) = call(
        &app,
        Method::POST,
        "/v1/offline-token-id",
        &dave.access_token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let id2 = second["data"]["persistent_token_id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_ne!(id2, id);
    assert_eq!(
        second["data"]["session_state_id"].as_str(),
        Some(session.as_str())
    );

    // Deleting one of two keeps the shared session; deleting the last ends it in Keycloak.
    let (status, first_gone) = call(
        &app,
        Method::DELETE,
        &format!("/v1/offline-token-id?id={id}"),
        &dave.access_token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{first_gone}");
    assert_eq!(
        first_gone["data"],
        json!({"message": "Offline token revoked successfully", "persistent_token_id": id, "token_deleted": true,
               "session_revoked": false, "had_shared_session": true})
    );
    assert!(kc.offline_sessions(&sub).await.contains(&session));
    let (status, last_gone) = call(
        &app,
        Method::DELETE,
        &format!("/v1/offline-token-id?id={id2}"),
        &dave.access_token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{last_gone}");
    assert_eq!(last_gone["data"]["session_revoked"], true);
    assert_eq!(last_gone["data"]["had_shared_session"], false);
    assert!(
        !kc.offline_sessions(&sub).await.contains(&session),
        "Keycloak ended the offline session"
    );

    // Gone: the seed's 404 `token_not_found` for both.
    for gone in [&id, &id2] {
        let (status, body) = call(
            &app,
            Method::POST,
            &format!("/v1/access-token?id={gone}"),
            &dave.access_token,
            None,
        )
        .await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["code"], "token_not_found");
    }
    assert!(app.audit_entries("vault.token.stored").await.len() >= 2);
    assert_eq!(app.audit_entries("vault.token.revoked").await.len(), 2);
}

#[tokio::test]
async fn a_token_whose_keycloak_session_ended_fails_to_mint_with_the_seeds_code_and_stays_stored() {
    let app = vault_app().await;
    let kc = Kc::new();
    let dave = kc.sign_in(DAVE, false).await;
    let offline = kc.sign_in(DAVE, true).await;
    let id = store_refresh(&app, &dave.access_token, &offline.refresh_token).await;
    kc.end_session(&offline.session_state, true).await;
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/v1/access-token?id={id}"),
        &dave.access_token,
        None,
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "keycloak_error");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid_grant"),
        "{body}"
    );
    assert!(
        app.state.vault.store().get(&id).await.expect("read").is_some(),
        "nothing deleted on a failed mint"
    );
}

#[tokio::test]
async fn someone_elses_token_is_not_found_and_anonymous_callers_are_unauthorized() {
    let app = vault_app().await;
    let kc = Kc::new();
    let dave = kc.sign_in(DAVE, false).await;
    let offline = kc.sign_in(DAVE, true).await;
    let id = store_refresh(&app, &dave.access_token, &offline.refresh_token).await;

    let vera = kc.sign_in(VERA, false).await;
    for (method, path) in [
        (Method::POST, format!("/v1/access-token?id={id}")),
        (Method::DELETE, format!("/v1/offline-token-id?id={id}")),
    ] {
        let (status, body) = call(&app, method, &path, &vera.access_token, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("token_not_found")),
            "{path}: {body}"
        );
    }
    // Vera cannot store Dave's token under her name either.
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/refresh-token",
        &vera.access_token,
        Some(json!({"refresh_token": offline.refresh_token})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    // Nor his ordinary (online) refresh token, whose session is his, not hers; nor a string
    // that names nobody.
    let dave_online = kc.sign_in(DAVE, false).await;
    for (token, what) in [
        (dave_online.refresh_token.as_str(), "dave's online refresh token"),
        ("not-a-keycloak-token", "a token naming nobody"),
    ] {
        let (status, body) = call(
            &app,
            Method::POST,
            "/v1/refresh-token",
            &vera.access_token,
            Some(json!({ "refresh_token": token })),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_request")),
            "{what}: {body}"
        );
    }
    let subjects = app.state.vault.store().subjects().await.expect("read");
    assert_eq!(
        subjects.iter().map(|(_, n)| n).collect::<Vec<_>>(),
        [&1],
        "only dave's own token is stored, nothing under vera: {subjects:?}"
    );

    let anonymous = crate::helpers::bare_client()
        .post(app.url(&format!("/v1/access-token?id={id}")))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = anonymous.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error": "Authorization header is required", "code": "unauthorized", "reason": null, "details": {}})
    );
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/v1/access-token?id={id}"),
        "not-a-token",
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
}

#[tokio::test]
async fn validate_token_asks_keycloak() {
    let app = vault_app().await;
    let kc = Kc::new();
    let dave = kc.sign_in(DAVE, false).await;
    let (status, body) = call(&app, Method::GET, "/v1/validate-token", &dave.access_token, None).await;
    assert_eq!((status, body), (200, json!({"data": {"valid": true}})));
    // A Keycloak-looking token Keycloak does not know, and one that is not Keycloak's at all.
    let forged = {
        let mut parts: Vec<&str> = dave.access_token.split('.').collect();
        parts[2] = "c2lnbmF0dXJl";
        parts.join(".")
    };
    for token in [forged.as_str(), "hmt_someone_elses_token"] {
        let (status, body) = call(&app, Method::GET, "/v1/validate-token", token, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("token_not_active")),
            "{body}"
        );
        assert_eq!(
            body["details"],
            json!({}),
            "the seed's envelope always has details: {body}"
        );
    }
    // An active token without a Keycloak session (`sid`): the seed's 400.
    let service_account = kc.admin_token().await;
    let (status, body) = call(&app, Method::GET, "/v1/offline-token", &service_account, None).await;
    assert_eq!(
        (status, body["code"].as_str(), body["error"].as_str()),
        (
            400,
            Some("invalid_request"),
            Some("Token missing required claim: session_state")
        ),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_requests_get_422_naming_the_field_and_change_nothing() {
    let app = vault_app().await;
    let kc = Kc::new();
    let dave = kc.sign_in(DAVE, false).await;
    let cases = [
        (Method::POST, "/v1/access-token", None, "query.id"),
        (Method::POST, "/v1/access-token?id=not-a-uuid", None, "query.id"),
        (Method::DELETE, "/v1/offline-token-id?id=42", None, "query.id"),
        (
            Method::POST,
            "/v1/refresh-token",
            Some(json!({})),
            "body.refresh_token",
        ),
        (
            Method::POST,
            "/v1/refresh-token",
            Some(json!({"refresh_token": 7})),
            "body.refresh_token",
        ),
        (
            Method::POST,
            "/v1/refresh-token",
            Some(json!({"refresh_token": ""})),
            "body.refresh_token",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, answer) = call(&app, method, path, &dave.access_token, body).await;
        assert_eq!(status, 422, "{path}: {answer}");
        assert_eq!(answer["code"], "validation_error");
        assert!(
            answer["details"][field].is_string(),
            "{path} names {field}: {answer}"
        );
    }
    let not_json = crate::helpers::bare_client()
        .post(app.url("/v1/refresh-token"))
        .bearer_auth(&dave.access_token)
        .header("content-type", "application/json")
        .body("{refresh_token:")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), 422);
    assert!(
        app.state.vault.store().subjects().await.expect("read").is_empty(),
        "nothing was stored"
    );
    // No offline token stored yet: the seed's 404s.
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/offline-token-id",
        &dave.access_token,
        None,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("token_not_found")));
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/refresh-token-id",
        &dave.access_token,
        None,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("token_not_found")));
}

#[tokio::test]
async fn a_refresh_token_is_kept_one_per_user_and_refreshed_in_place() {
    let app = vault_app().await;
    let kc = Kc::new();
    let dave = kc.sign_in(DAVE, false).await;
    let first = kc.sign_in(DAVE, false).await;
    let second = kc.sign_in(DAVE, false).await;
    let store = |token: String| {
        let (app, bearer) = (&app, dave.access_token.clone());
        async move {
            call(
                app,
                Method::POST,
                "/v1/refresh-token",
                &bearer,
                Some(json!({"refresh_token": token})),
            )
            .await
        }
    };
    let (status, a) = store(first.refresh_token).await;
    assert_eq!(status, 200, "{a}");
    let (_, b) = store(second.refresh_token).await;
    assert_eq!(
        a["data"]["persistent_token_id"], b["data"]["persistent_token_id"],
        "one refresh token per user"
    );
    let (status, refreshed) = call(
        &app,
        Method::POST,
        "/v1/refresh-token-id",
        &dave.access_token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        refreshed["data"]["persistent_token_id"],
        a["data"]["persistent_token_id"]
    );
    let id = a["data"]["persistent_token_id"].as_str().expect("id");
    let (status, minted) = call(
        &app,
        Method::POST,
        &format!("/v1/access-token?id={id}"),
        &dave.access_token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{minted}");
}

#[tokio::test]
async fn the_vault_is_off_without_keys_and_says_so() {
    let app = crate::helpers::spawn_app().await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/access-token?id=6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "x",
        None,
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "vault_disabled");
    assert_eq!(body["reason"], "no vault.keys configured");
}
