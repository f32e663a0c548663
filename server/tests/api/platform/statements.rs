//! Lists load in a fixed number of statements, however many rows they show: `GET /api/v1/jobs`
//! (each job with its gates and artifacts), the jobs waiting for the caller's approval and
//! `GET /services`, counted with 1 row and with 100
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
/// statements it ran. The same request goes first uncounted: a session seen a minute ago or
/// more is touched (one `UPDATE`, `identity::service`), and on a busy machine a minute can
/// pass between two counts; the counted request then follows the touch by milliseconds.
/// The fewer of two counted requests: a statement that lands in one request now and then (a
/// once-a-while refresh) is not the list's, while a statement per row is in every one.
async fn counted(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, usize, u64) {
    client.get(app.url(path)).send().await.expect("warm-up request");
    let mut fewest = None;
    for _ in 0..2 {
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
        let count = (status, rows, statements_of(&request_id));
        fewest = Some(match fewest {
            Some(seen @ (_, _, n)) if n <= count.2 => seen,
            _ => count,
        });
    }
    fewest.expect("two requests counted")
}

/// Adds one row with `add(0)`, counts `GET path` as `reader`, adds 99 more, counts again: the
/// two counts are equal (and small), or the list reads per row.
async fn same_statements_for_1_and_100(
    app: &TestApp,
    reader: &reqwest::Client,
    path: &str,
    add: impl AsyncFn(usize),
) {
    add(0).await;
    let (status, rows, one) = counted(app, reader, path).await;
    assert_eq!((status, rows), (200, 1));
    for n in 1..100 {
        add(n).await;
    }
    let (status, rows, hundred) = counted(app, reader, path).await;
    assert_eq!((status, rows), (200, 100));
    assert!(
        one > 0,
        "no statement was counted: the counter did not see the request"
    );
    assert_eq!(
        hundred, one,
        "{path}: 100 rows took {hundred} statements, 1 row took {one}"
    );
    assert!(hundred <= BOUND, "{path}: {hundred} statements");
}

/// `body` sent as `POST path` by `client`, which must answer 201.
async fn created(app: &TestApp, client: &reqwest::Client, path: &str, body: serde_json::Value) {
    let (status, answer) = send(client, Method::POST, app.url(path), Some(body)).await;
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test]
async fn the_operator_consoles_job_list_runs_as_many_statements_for_100_jobs_as_for_1() {
    let (mut config, file) = test_config().await;
    config.pipelines.rate_limit.enabled = false;
    let app = spawn_app_with(config, file).await;
    let ada = app.create_user("ada", Role::Developer, Some("alpha")).await;
    let ada = app.client_for(&ada).await;
    same_statements_for_1_and_100(&app, &ada, "/api/v1/jobs", async |n| {
        let job = json!({
            "slug": format!("job-{n}"), "intent": "count", "tenant": "alpha",
            "stages": ["build", "deploy"], "gates": { "deploy": {} },
        });
        created(&app, &ada, "/api/v1/jobs", job).await;
    })
    .await;
}

/// "Waiting for your approval" (the nav's and the overview's count, `?waiting_for=me`): each
/// pipeline at a gate is checked against its gate and who approved it so far, read for all of
/// them at once.
#[tokio::test]
async fn waiting_for_me_runs_as_many_statements_for_100_gated_jobs_as_for_1() {
    let (mut config, file) = test_config().await;
    config.pipelines.rate_limit.enabled = false;
    let app = spawn_app_with(config, file).await;
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let arno = app.create_user("arno", Role::Developer, Some("alpha")).await;
    let (rita, arno) = (app.client_for(&rita).await, app.client_for(&arno).await);
    same_statements_for_1_and_100(&app, &arno, "/api/v1/jobs?waiting_for=me", async |n| {
        let job = json!({
            "slug": format!("gated-{n}"), "intent": "count", "tenant": "alpha",
            "stages": ["build", "deploy"], "gates": { "deploy": { "required": true } },
        });
        let (status, created) = send(&rita, Method::POST, app.url("/api/v1/jobs"), Some(job)).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().expect("id");
        let (status, _) = send(
            &rita,
            Method::POST,
            app.url(&format!("/api/v1/jobs/{id}/claim")),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let (status, at_gate) = send(
            &rita,
            Method::POST,
            app.url(&format!("/api/v1/jobs/{id}/stages/build/report")),
            Some(json!({ "outcome": "succeeded" })),
        )
        .await;
        assert_eq!(
            (status, at_gate["status"].as_str()),
            (200, Some("needs_approval")),
            "{at_gate}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_catalogs_service_list_runs_as_many_statements_for_100_services_as_for_1() {
    let app = crate::helpers::spawn_app().await;
    let alice = app.create_user("alice", Role::Admin, None).await;
    let dave = app.create_user("dave", Role::Developer, Some("alpha")).await;
    let (alice, dave) = (app.client_for(&alice).await, app.client_for(&dave).await);
    same_statements_for_1_and_100(&app, &dave, "/services", async |n| {
        let service = json!({
            "name": format!("service-{n}"), "repo_url": "https://git.example.com/s",
            "owner_team": "Payments", "runtime": "go", "tier": "tier-2",
            "environments": ["dev", "prod"], "tenant": "alpha",
        });
        created(&app, &alice, "/services", service).await;
    })
    .await;
}
