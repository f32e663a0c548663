//! Set-up of the vault tests: Heimdall with a keyring and the test Keycloak, Keycloak's own
//! endpoints (password grant, introspection, admin sessions) to arrange and to check, the
//! consent flow driven over HTTP, and the tokens the tests see written down for the secret scan.

use std::io::Write as _;

use app::testing::KeycloakRealm;
use heimdall::config::Config;
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{TestApp, bare_client, spawn_app_with, test_config};

pub const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
pub const KEY_B: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

/// The realm's users (end2end/peers/keycloak/heimdall-realm.json).
pub const DAVE: (&str, &str) = ("dave-developer", "dave-password");
pub const VERA: (&str, &str) = ("vera-viewer", "vera-password");

/// The test config with Keycloak and a one-key vault (`a`); `tweak` adjusts the rest.
pub async fn vault_config() -> (Config, app::db::testing::TempDbFile) {
    let k = KeycloakRealm::from_env();
    let (mut config, file) = test_config().await;
    config.auth.keycloak.issuer = Some(k.issuer);
    config.auth.keycloak.client_id = k.client_id;
    config.auth.keycloak.client_secret = Some(k.client_secret.into());
    config.vault.keys.insert("a".into(), SecretString::from(KEY_A));
    (config, file)
}

pub async fn vault_app() -> TestApp {
    let (config, file) = vault_config().await;
    spawn_app_with(config, file).await
}

/// Tokens from Keycloak's token endpoint.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: String,
    pub refresh_token: String,
    pub session_state: String,
}

/// Keycloak's own endpoints, as the confidential client.
pub struct Kc {
    realm: KeycloakRealm,
    http: reqwest::Client,
}

impl Kc {
    pub fn new() -> Self {
        Self {
            realm: KeycloakRealm::from_env(),
            http: reqwest::Client::new(),
        }
    }

    /// The `heimdall-rotating` realm: the same clients and users, a used refresh token is dead.
    pub fn rotating() -> Self {
        let mut realm = KeycloakRealm::from_env();
        realm.issuer = realm
            .issuer
            .replace("/realms/heimdall", "/realms/heimdall-rotating");
        Self {
            realm,
            http: reqwest::Client::new(),
        }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/protocol/openid-connect/{path}", self.realm.issuer)
    }

    fn admin(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.realm.issuer.replace("/realms/", "/admin/realms/")
        )
    }

    /// A password grant (the client allows direct access grants); `offline` asks for an
    /// offline token as the refresh token.
    pub async fn sign_in(&self, (user, password): (&str, &str), offline: bool) -> Grant {
        let scope = if offline {
            "openid offline_access"
        } else {
            "openid"
        };
        let body: Value = self
            .http
            .post(self.endpoint("token"))
            .basic_auth(&self.realm.client_id, Some(&self.realm.client_secret))
            .form(&[
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
                ("scope", scope),
            ])
            .send()
            .await
            .expect("token endpoint")
            .json()
            .await
            .expect("token JSON");
        let text = |k: &str| {
            body[k]
                .as_str()
                .unwrap_or_else(|| panic!("no {k} in {body}"))
                .to_owned()
        };
        let grant = Grant {
            access_token: text("access_token"),
            refresh_token: text("refresh_token"),
            session_state: text("session_state"),
        };
        learn(&grant.access_token);
        learn(&grant.refresh_token);
        grant
    }

    /// Keycloak's introspection of an access token.
    pub async fn introspect(&self, token: &str) -> Value {
        self.http
            .post(self.endpoint("token/introspect"))
            .basic_auth(&self.realm.client_id, Some(&self.realm.client_secret))
            .form(&[("token", token)])
            .send()
            .await
            .expect("introspection")
            .json()
            .await
            .expect("introspection JSON")
    }

    /// The Keycloak subject of a user (from an access token of theirs).
    pub async fn subject(&self, user: (&str, &str)) -> String {
        let grant = self.sign_in(user, false).await;
        self.introspect(&grant.access_token).await["sub"]
            .as_str()
            .expect("sub")
            .to_owned()
    }

    /// A token of Heimdall's client itself (client credentials: no user session, no `sid`).
    pub async fn admin_token(&self) -> String {
        let body: Value = self
            .http
            .post(self.endpoint("token"))
            .basic_auth(&self.realm.client_id, Some(&self.realm.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("client credentials")
            .json()
            .await
            .expect("JSON");
        body["access_token"]
            .as_str()
            .expect("service account token")
            .to_owned()
    }

    /// The ids of the user's offline sessions with Heimdall's client, as the admin API lists them.
    pub async fn offline_sessions(&self, subject: &str) -> Vec<String> {
        let token = self.admin_token().await;
        let clients: Value = self
            .http
            .get(self.admin(&format!("/clients?clientId={}", self.realm.client_id)))
            .bearer_auth(&token)
            .send()
            .await
            .expect("clients")
            .json()
            .await
            .expect("JSON");
        let client = clients[0]["id"].as_str().expect("client uuid");
        let sessions: Value = self
            .http
            .get(self.admin(&format!("/users/{subject}/offline-sessions/{client}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("offline sessions")
            .json()
            .await
            .expect("JSON");
        sessions
            .as_array()
            .expect("a list")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_owned())
            .collect()
    }

    /// Ends a session behind Heimdall's back (an admin in Keycloak's console would).
    pub async fn end_session(&self, id: &str, offline: bool) {
        let token = self.admin_token().await;
        let status = self
            .http
            .delete(self.admin(&format!("/sessions/{id}?isOffline={offline}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("delete session")
            .status();
        assert!(status.is_success(), "Keycloak ended the session: {status}");
    }
}

/// A `/v1/*` call with a bearer token: the status and the JSON body.
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = bare_client().request(method, app.url(path)).bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let json: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{path} answered {status} without JSON: {text}"));
    if let Some(token) = json["data"]["access_token"].as_str() {
        learn(token);
    }
    (status, json)
}

/// Stores `refresh_token` through `POST /v1/refresh-token` with `bearer`; the row's id.
pub async fn store_refresh(app: &TestApp, bearer: &str, refresh_token: &str) -> String {
    let (status, body) = call(
        app,
        reqwest::Method::POST,
        "/v1/refresh-token",
        bearer,
        Some(serde_json::json!({ "refresh_token": refresh_token })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["persistent_token_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// The consent flow as a browser runs it: `/v1/offline-token` with `bearer`, Keycloak's login
/// page filled in as `user`, and the callback. Returns the callback's status and body.
pub async fn consent(app: &TestApp, bearer: &str, user: (&str, &str)) -> (u16, Value) {
    let (status, started) = call(app, reqwest::Method::GET, "/v1/offline-token", bearer, None).await;
    assert_eq!(status, 200, "{started}");
    let consent_url = started["data"]["consent_url"]
        .as_str()
        .expect("consent_url")
        .to_owned();
    let callback = keycloak_login(&consent_url, &app.url(app::vault::CALLBACK_PATH), user).await;
    let response = bare_client().get(&callback).send().await.expect("callback");
    let status = response.status().as_u16();
    (status, response.json().await.expect("callback JSON"))
}

/// Signs in on Keycloak's login page from `start` and returns the URL Keycloak redirects to
/// (which starts with `stop_at`).
pub async fn keycloak_login(start: &str, stop_at: &str, (user, password): (&str, &str)) -> String {
    let stop_at = stop_at.to_owned();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.url().as_str().starts_with(&stop_at) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .expect("client");
    let page = browser.get(start).send().await.expect("Keycloak login page");
    let base = page.url().clone();
    let html = page.text().await.expect("page");
    let at = html.find("action=\"").expect("a login form") + "action=\"".len();
    let action = html[at..at + html[at..].find('"').expect("quote")].replace("&amp;", "&");
    let response = browser
        .post(base.join(&action).expect("form URL"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .expect("login post");
    assert!(
        response.status().is_redirection(),
        "Keycloak redirects back: {}",
        response.status()
    );
    response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

/// Writes a token the tests saw to the file the secret scan reads (`*.secrets` beside the
/// captured logs): none of them may appear in any log.
pub fn learn(token: &str) {
    let Ok(dir) = std::env::var("HEIMDALL_TEST_LOG_DIR") else {
        return;
    };
    let path = std::path::Path::new(&dir).join(format!("vault-tokens-{}.secrets", std::process::id()));
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{token}");
    }
}

/// Every text and byte value in every column of every table, for the plaintext scan.
pub async fn every_value(db: &app::db::Database) -> Vec<Vec<u8>> {
    use sqlx::Row;
    let mut values = Vec::new();
    match db {
        app::db::Database::Sqlite(pool) => {
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(pool)
                    .await
                    .expect("tables");
            for table in tables {
                let rows = sqlx::query(&format!("SELECT * FROM \"{table}\""))
                    .fetch_all(pool)
                    .await
                    .expect("rows");
                for row in rows {
                    for i in 0..row.len() {
                        if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>, _>(i) {
                            values.push(bytes);
                        } else if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                            values.push(text.into_bytes());
                        }
                    }
                }
            }
        }
        app::db::Database::Postgres(pool) => {
            let columns: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = 'public'",
            )
            .fetch_all(pool)
            .await
            .expect("columns");
            for (table, column, kind) in columns {
                if kind == "bytea" {
                    let cells: Vec<Option<Vec<u8>>> =
                        sqlx::query_scalar(&format!("SELECT \"{column}\" FROM \"{table}\""))
                            .fetch_all(pool)
                            .await
                            .expect("cells");
                    values.extend(cells.into_iter().flatten());
                } else {
                    let cells: Vec<Option<String>> =
                        sqlx::query_scalar(&format!("SELECT \"{column}\"::text FROM \"{table}\""))
                            .fetch_all(pool)
                            .await
                            .expect("cells");
                    values.extend(cells.into_iter().flatten().map(String::into_bytes));
                }
            }
        }
    }
    values
}

/// Whether `needle` appears in any of `values`.
pub fn appears(values: &[Vec<u8>], needle: &str) -> bool {
    values
        .iter()
        .any(|v| v.windows(needle.len()).any(|w| w == needle.as_bytes()))
}
