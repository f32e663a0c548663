//! Lists load in a fixed number of statements, however many rows they show: `GET /api/v1/jobs`
//! (each job with its gates and artifacts) and `GET /services`, counted with 1 row and with 100
//! on the database under test (`crate::statements` counts what sqlx executes per request).

use reqwest::Method;
use serde_json::json;

use app::identity::Role;

use crate::helpers::{TestApp, send, spawn_app_with, test_config};
use crate::statements::statements_of;

/// The most statements either list may take: the caller (session or token), the rows, and
/// the rows' parts, each read once.
const BOUND: u64 = 10;

/// Sends `GET path` as `client` under a fresh request id; its status, its rows and the
/// statements it ran.
async fn counted(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, usize, u64) {
    let request_id = format!("statements-{}", uuid::Uuid::new_v4());
    let response = client
        .get(app.url(path))
        .header("x-request-id", &request_id)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let rows = response.json::<serde_json::Value>().await.expect("JSON");
    let rows = rows.as_array().map_or(0, Vec::len);
    (status, rows, statements_of(&request_id))
}

#[tokio::test]
async fn the_operator_consoles_job_list_runs_as_many_statements_for_100_jobs_as_for_1() {
    let (mut config, file) = test_config().await;
    config.pipelines.rate_limit.enabled = false;
    let app = spawn_app_with(config, file).await;
    let ada = app.create_user("ada", Role::Developer, Some("alpha")).await;
    let client = app.client_for(&ada).await;
    let create = |n: usize| {
        let (app, client) = (&app, &client);
        async move {
            let (status, body) = send(
                client,
                Method::POST,
                app.url("/api/v1/jobs"),
                Some(json!({
                    "slug": format!("job-{n}"), "intent": "count", "tenant": "alpha",
                    "stages": ["build", "deploy"], "gates": { "deploy": {} },
                })),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
    };
    create(0).await;
    let (status, rows, one) = counted(&app, &client, "/api/v1/jobs").await;
    assert_eq!((status, rows), (200, 1));
    for n in 1..100 {
        create(n).await;
    }
    let (status, rows, hundred) = counted(&app, &client, "/api/v1/jobs").await;
    assert_eq!((status, rows), (200, 100));
    assert!(
        one > 0,
        "no statement was counted: the counter did not see the request"
    );
    assert_eq!(
        hundred, one,
        "100 jobs took {hundred} statements, 1 job took {one}"
    );
    assert!(hundred <= BOUND, "{hundred} statements for the list");
}

#[tokio::test]
async fn the_catalogs_service_list_runs_as_many_statements_for_100_services_as_for_1() {
    let app = crate::helpers::spawn_app().await;
    let alice = app.create_user("alice", Role::Admin, None).await;
    let dave = app.create_user("dave", Role::Developer, Some("alpha")).await;
    let (alice, dave) = (app.client_for(&alice).await, app.client_for(&dave).await);
    let register = |n: usize| {
        let (app, alice) = (&app, &alice);
        async move {
            let (status, body) = send(
                alice,
                Method::POST,
                app.url("/services"),
                Some(json!({
                    "name": format!("service-{n}"), "repo_url": "https://git.example.com/s",
                    "owner_team": "Payments", "runtime": "go", "tier": "tier-2",
                    "environments": ["dev", "prod"], "tenant": "alpha",
                })),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
    };
    register(0).await;
    let (status, rows, one) = counted(&app, &dave, "/services").await;
    assert_eq!((status, rows), (200, 1));
    for n in 1..100 {
        register(n).await;
    }
    let (status, rows, hundred) = counted(&app, &dave, "/services").await;
    assert_eq!((status, rows), (200, 100));
    assert!(
        one > 0,
        "no statement was counted: the counter did not see the request"
    );
    assert_eq!(
        hundred, one,
        "100 services took {hundred} statements, 1 service took {one}"
    );
    assert!(hundred <= BOUND, "{hundred} statements for the list");
}
