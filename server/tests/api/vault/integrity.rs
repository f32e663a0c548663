//! The envelope in place: a tampered ciphertext, one copied to another row and a wrong key each
//! fail closed; a key the rows need stops start-up; no token is stored in the clear; rotation
//! while 1,000 mints run loses nothing; 50 concurrent mints of one token (on two replicas when
//! the database is PostgreSQL) serialise. The mint tests run on the `heimdall-rotating` realm,
//! where a used refresh token is dead, so a lost rotated token would show.

use std::collections::BTreeMap;
use std::sync::Arc;

use app::db::testing::TempDbFile;
use app::vault::{Keyring, NewToken, TokenKind};
use reqwest::Method;
use secrecy::SecretString;

use super::support::{
    DAVE, KEY_A, KEY_B, Kc, appears, call, every_value, learn, store_refresh, vault_config,
};
use crate::helpers::{TestApp, spawn_app_with};

/// A stored refresh token of Dave's and his access token (bearer for the API).
async fn stored_refresh(app: &TestApp, kc: &Kc) -> (String, String, String) {
    let dave = kc.sign_in(DAVE, false).await;
    let refresh = kc.sign_in(DAVE, false).await.refresh_token;
    let id = store_refresh(app, &dave.access_token, &refresh).await;
    (id, dave.access_token, refresh)
}

/// A row as the store takes it (the tests place sealed values directly).
fn seed_row<'a>(
    id: &'a str,
    subject: &'a str,
    kind: TokenKind,
    sealed: &'a app::vault::Sealed,
) -> NewToken<'a> {
    NewToken {
        id,
        subject,
        kind,
        sealed,
        token_hash: "test",
        session_state: "",
        attributes: "{}",
    }
}

async fn mint(app: &TestApp, bearer: &str, id: &str) -> (u16, serde_json::Value) {
    call(
        app,
        Method::POST,
        &format!("/v1/access-token?id={id}"),
        bearer,
        None,
    )
    .await
}

#[tokio::test]
async fn a_tampered_a_moved_and_a_wrongly_keyed_ciphertext_each_fail_closed() {
    let (config, file) = vault_config().await;
    let url = config.database.url.clone();
    let mut app = spawn_app_with(config.clone(), file).await;
    let kc = Kc::new();
    let (id, bearer, _) = stored_refresh(&app, &kc).await;
    let store = app.state.vault.store();
    let row = store.get(&id).await.expect("read").expect("row");

    // A flipped bit.
    let mut tampered = row.sealed();
    tampered.ciphertext[3] ^= 0x01;
    assert!(
        store
            .swap_sealed(&id, &row.sealed(), &tampered)
            .await
            .expect("tamper")
    );
    let (status, body) = mint(&app, &bearer, &id).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("token_unreadable")),
        "{body}"
    );
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("does not open"),
        "{body}"
    );
    assert!(
        store
            .swap_sealed(&id, &tampered, &row.sealed())
            .await
            .expect("restore")
    );
    assert_eq!(mint(&app, &bearer, &id).await.0, 200, "restored, it mints");

    // The same ciphertext in another row of the same user.
    let row = store.get(&id).await.expect("read").expect("row");
    let copy = uuid::Uuid::new_v4().to_string();
    store
        .insert(&seed_row(&copy, &row.subject, TokenKind::Offline, &row.sealed()))
        .await
        .expect("copy");
    let (status, body) = mint(&app, &bearer, &copy).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("token_unreadable")),
        "{body}"
    );
    store.delete(&copy).await.expect("clean up");

    // Another key under the same id: the server restarted configured wrongly (or a second
    // replica; on SQLite, the single-replica default, a restart is what can happen).
    app.stop().await.expect("stop");
    let mut wrong = config.clone();
    wrong.vault.keys.insert("a".into(), SecretString::from(KEY_B));
    let mut replica = spawn_app_with(wrong, TempDbFile::default()).await;
    let (status, body) = mint(&replica, &bearer, &id).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("token_unreadable")),
        "{body}"
    );
    replica.stop().await.expect("stop");

    // Rows sealed with a key the keyring lacks: start-up stops and says which.
    let mut missing = config.clone();
    missing.vault.keys = BTreeMap::from([("b".to_owned(), SecretString::from(KEY_B))]);
    missing.database.url = url;
    let refused = heimdall::startup::Application::build_with_listener(
        &missing,
        tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind"),
    )
    .await
    .err()
    .expect("start-up refused");
    assert!(refused.to_string().contains("[\"a\"]"), "{refused}");
    let app = spawn_app_with(config, TempDbFile::default()).await;
    assert_eq!(
        mint(&app, &bearer, &id).await.0,
        200,
        "the right key still opens it"
    );
}

#[tokio::test]
async fn no_column_of_any_table_holds_a_token_in_the_clear() {
    let (config, file) = vault_config().await;
    let app = spawn_app_with(config, file).await;
    let kc = Kc::new();
    let (id, bearer, refresh) = stored_refresh(&app, &kc).await;
    let (status, minted) = mint(&app, &bearer, &id).await;
    assert_eq!(status, 200);
    let values = every_value(&app.state.db).await;
    assert!(values.len() > 10, "the scan read the tables");
    assert!(appears(&values, &id), "the scan sees what is there (the row id)");
    for (what, token) in [
        ("the stored refresh token", refresh.as_str()),
        (
            "the minted access token",
            minted["data"]["access_token"].as_str().expect("token"),
        ),
        ("the caller's access token", bearer.as_str()),
    ] {
        assert!(!appears(&values, token), "{what} is in the database in the clear");
    }
}

/// Config on the `heimdall-rotating` realm: refresh-token rotation on.
async fn rotating_config() -> (heimdall::config::Config, TempDbFile) {
    let (mut config, file) = vault_config().await;
    let issuer = config.auth.keycloak.issuer.clone().expect("issuer");
    config.auth.keycloak.issuer = Some(issuer.replace("/realms/heimdall", "/realms/heimdall-rotating"));
    (config, file)
}

#[tokio::test]
async fn fifty_concurrent_mints_of_one_token_serialise_and_it_still_works_after() {
    let (config, file) = rotating_config().await;
    let app = Arc::new(spawn_app_with(config.clone(), file).await);
    let kc = Kc::rotating();
    let (id, bearer, _) = stored_refresh(&app, &kc).await;
    // On PostgreSQL a second replica shares the load: the row lock is the database's.
    let replicas = match app.state.db {
        app::db::Database::Postgres(_) => vec![
            app.clone(),
            Arc::new(spawn_app_with(config, TempDbFile::default()).await),
        ],
        app::db::Database::Sqlite(_) => vec![app.clone()],
    };
    let mints = (0..50).map(|i| {
        let (replica, bearer, id) = (replicas[i % replicas.len()].clone(), bearer.clone(), id.clone());
        tokio::spawn(async move { mint(&replica, &bearer, &id).await })
    });
    let mut ok = 0;
    for result in futures::future::join_all(mints).await {
        let (status, body) = result.expect("task");
        assert!(
            status == 200 || (status < 500 && body["code"].is_string()),
            "a clean answer: {status} {body}"
        );
        ok += usize::from(status == 200);
    }
    assert_eq!(ok, 50, "every mint waited its turn and used the newest token");
    let (status, minted) = mint(&app, &bearer, &id).await;
    assert_eq!(status, 200, "the stored token still works: {minted}");
    assert_eq!(
        kc.introspect(minted["data"]["access_token"].as_str().expect("token"))
            .await["active"],
        true
    );
}

#[tokio::test]
async fn rotation_while_minting_a_thousand_times_loses_no_token() {
    let (mut config, file) = rotating_config().await;
    let kc = Kc::rotating();
    let dave = kc.sign_in(DAVE, false).await;
    let subject = kc.introspect(&dave.access_token).await["sub"]
        .as_str()
        .expect("sub")
        .to_owned();
    // Ten offline tokens (ten sessions), sealed under key `a`.
    let keys = BTreeMap::from([
        ("a".to_owned(), SecretString::from(KEY_A)),
        ("b".to_owned(), SecretString::from(KEY_B)),
    ]);
    let under_a = Keyring::new(&keys, "a").expect("keyring");
    config.vault.keys = keys;
    config.vault.active_key = Some("a".into());
    let app = Arc::new(spawn_app_with(config.clone(), file).await);
    let store = app.state.vault.store();
    let mut ids = Vec::new();
    for _ in 0..10 {
        let grant = kc.sign_in(DAVE, true).await;
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = under_a.seal(
            &grant.refresh_token,
            app::vault::RowBinding {
                row_id: &id,
                user: &subject,
                kind: "offline",
            },
        );
        store
            .insert(&seed_row(&id, &subject, TokenKind::Offline, &sealed))
            .await
            .expect("insert");
        ids.push(id);
    }
    // The server seals with `a`; `heimdall vault rotate` re-seals to `b` over and over meanwhile.
    let mut to_b = config.clone();
    to_b.vault.active_key = Some("b".into());
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rotator = {
        let (done, to_b) = (done.clone(), to_b.clone());
        tokio::spawn(async move {
            let mut rotated = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                rotated += heimdall::startup::rotate_vault(&to_b).await.expect("rotate");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            rotated
        })
    };
    let semaphore = Arc::new(tokio::sync::Semaphore::new(20));
    let mints = (0..1000).map(|i| {
        let (app, bearer, id, semaphore) = (
            app.clone(),
            dave.access_token.clone(),
            ids[i % ids.len()].clone(),
            semaphore.clone(),
        );
        tokio::spawn(async move {
            let _permit = semaphore.acquire().await.expect("permit");
            mint(&app, &bearer, &id).await
        })
    });
    let results = futures::future::join_all(mints).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let rotated_meanwhile = rotator.await.expect("rotator");
    for result in results {
        let (status, body) = result.expect("task");
        assert_eq!(status, 200, "every mint succeeded: {body}");
    }
    assert!(rotated_meanwhile > 0, "rotation ran while the mints did");
    heimdall::startup::rotate_vault(&to_b)
        .await
        .expect("last rotation");
    for id in &ids {
        let row = store.get(id).await.expect("read").expect("row");
        assert_eq!(row.key_id, "b", "every row is under the active key");
        let (status, body) = mint(&app, &dave.access_token, id).await;
        assert_eq!(status, 200, "and still mints: {body}");
    }
    assert!(!app.audit_entries("vault.rotated").await.is_empty());
    learn(&dave.refresh_token);
}
