//! What the catalog's HTTP tests share: the callback tokens, four people, a service, and a
//! real HTTP executor that keeps what it is sent.

use app::identity::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub const PROVISIONING_TOKEN: &str = "provisioning-callback-token-for-tests";
pub const DEPLOYMENT_TOKEN: &str = "deployment-callback-token-for-tests";

pub use crate::helpers::send;

pub fn payments(tenant: &str) -> Value {
    json!({
        "name": "payments", "repo_url": "https://git.example.com/payments", "owner_team": "Payments",
        "runtime": "go", "tier": "tier-1", "environments": ["dev", "prod"], "tenant": tenant,
        "observability_enabled": true,
    })
}

/// Alice (admin), Dave (developer of alpha), Vera (viewer of alpha), Otto (developer of beta).
pub struct People {
    pub alice: reqwest::Client,
    pub dave: reqwest::Client,
    pub vera: reqwest::Client,
    pub otto: reqwest::Client,
}

pub async fn people(app: &TestApp) -> People {
    let alice = app.create_user("alice", Role::Admin, None).await;
    let dave = app.create_user("dave", Role::Developer, Some("alpha")).await;
    let vera = app.create_user("vera", Role::Viewer, Some("alpha")).await;
    let otto = app.create_user("otto", Role::Developer, Some("beta")).await;
    People {
        alice: app.client_for(&alice).await,
        dave: app.client_for(&dave).await,
        vera: app.client_for(&vera).await,
        otto: app.client_for(&otto).await,
    }
}

/// Registers the `payments` service of tenant alpha (as Alice); its id.
pub async fn register(app: &TestApp, p: &People) -> i64 {
    let (status, created) = send(
        &p.alice,
        Method::POST,
        app.url("/services"),
        Some(payments("alpha")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().expect("id")
}

/// A real HTTP executor on a free port: `/run` keeps each action it is sent and answers with
/// the handle `exec-<action_id>`; `/broken` answers 503. Its address, and what it was sent.
pub async fn executor() -> (std::net::SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Value>) {
    let (sent, received) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let router = axum::Router::new()
        .route(
            "/run",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let sent = sent.clone();
                async move {
                    let handle = format!("exec-{}", body["action_id"]);
                    let _ = sent.send(body);
                    axum::Json(json!({ "execution_id": handle }))
                }
            }),
        )
        .route(
            "/broken",
            axum::routing::post(|| async { axum::http::StatusCode::SERVICE_UNAVAILABLE }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let at = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (at, received)
}

/// Action `action_id` as service `id`'s history shows it to `client`.
pub async fn action_in_history(app: &TestApp, client: &reqwest::Client, id: i64, action_id: i64) -> Value {
    let (_, history) = send(
        client,
        Method::GET,
        app.url(&format!("/services/{id}/actions")),
        None,
    )
    .await;
    history
        .as_array()
        .expect("history")
        .iter()
        .find(|a| a["id"].as_i64() == Some(action_id))
        .cloned()
        .expect("the action is in the history")
}
