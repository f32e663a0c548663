//! The catalog pages' server functions: the list's search and filters per person, a service's
//! page (environment chips from the history, who may do what), the form's per-field errors,
//! actions from the page, and the live change stream the page listens to. On both databases.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{People, payments, people, register, send};
use crate::helpers::{TestApp, call_server_fn, spawn_app_with, test_config};

async fn server_fn(client: &reqwest::Client, app: &TestApp, name: &str, body: &str) -> (u16, Value) {
    let response = call_server_fn(client, &app.url(&format!("/_srv/{name}")), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn names(list: &Value) -> Vec<&str> {
    list["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect()
}

/// Alpha's `payments` (go, tier-1, dev + prod), alpha's `ledger` (python, tier-2, tagged
/// `books`) and beta's `search` (go, tier-1).
async fn catalog(app: &TestApp, p: &People) -> i64 {
    let id = register(app, p).await;
    for (body, what) in [
        (
            json!({ "name": "ledger", "repo_url": "https://git.example.com/ledger", "owner_team": "Books",
                    "runtime": "python", "tier": "tier-2", "environments": ["dev"], "tenant": "alpha",
                    "tags": ["books"] }),
            "ledger",
        ),
        (
            json!({ "name": "search", "repo_url": "https://git.example.com/search", "owner_team": "Find",
                    "runtime": "go", "tier": "tier-1", "environments": ["dev"], "tenant": "beta" }),
            "search",
        ),
    ] {
        let (status, created) = send(&p.alice, Method::POST, app.url("/services"), Some(body)).await;
        assert_eq!(status, 201, "{what}: {created}");
    }
    id
}

#[tokio::test]
async fn the_list_searches_and_filters_what_each_person_may_see() {
    let (config, file) = test_config().await;
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    catalog(&app, &p).await;
    let list = |client: &reqwest::Client, body: &'static str| {
        let app = &app;
        let client = client.clone();
        async move { server_fn(&client, app, "list_services", body).await }
    };

    let (status, all) = list(&p.alice, "search=&tenant=&tier=&runtime=").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(names(&all), ["payments", "ledger", "search"]);
    assert_eq!(all["can_write"], true);
    assert_eq!(all["tenants"], json!(["alpha", "beta"]));
    assert_eq!(all["runtimes"], json!(["go", "python"]));
    assert!(
        all["form_tenants"].as_array().is_some_and(|t| t.len() >= 2),
        "{all}"
    );

    let (_, dave) = list(&p.dave, "search=&tenant=&tier=&runtime=").await;
    assert_eq!(names(&dave), ["payments", "ledger"], "Dave sees alpha's only");
    assert_eq!(
        (dave["can_write"].as_bool(), dave["form_tenants"].clone()),
        (Some(false), json!([]))
    );
    assert_eq!(
        dave["tenants"],
        json!(["alpha"]),
        "the filter offers only what he sees"
    );

    for (body, expected) in [
        ("search=BOOKS&tenant=&tier=&runtime=", vec!["ledger"]),
        ("search=pay&tenant=&tier=&runtime=", vec!["payments"]),
        ("search=&tenant=&tier=tier-1&runtime=", vec!["payments", "search"]),
        ("search=&tenant=beta&tier=&runtime=go", vec!["search"]),
        ("search=&tenant=alpha&tier=tier-1&runtime=python", vec![]),
    ] {
        let (_, found) = list(&p.alice, body).await;
        assert_eq!(names(&found), expected, "{body}");
        assert_eq!(found["total"], 3, "{body}: the total is before filtering");
    }
    let (_, otto) = list(&p.otto, "search=&tenant=alpha&tier=&runtime=").await;
    assert_eq!(
        names(&otto),
        Vec::<&str>::new(),
        "naming another tenant shows nothing of it"
    );
}

#[tokio::test]
async fn a_service_page_shows_each_environment_and_what_the_viewer_may_do() {
    let (config, file) = test_config().await;
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let id = catalog(&app, &p).await;

    let (status, page) = server_fn(&p.vera, &app, "get_service_page", &format!("id={id}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        (page["can_act"].as_bool(), page["can_write"].as_bool()),
        (Some(false), Some(false))
    );
    let envs = page["environments"].as_array().expect("environments");
    assert_eq!(
        envs.iter()
            .map(|e| (e["name"].as_str(), e["protected"].as_bool()))
            .collect::<Vec<_>>(),
        [(Some("dev"), Some(false)), (Some("prod"), Some(true))]
    );
    assert!(
        envs.iter()
            .all(|e| e["provision"].is_null() && e["deploy"].is_null())
    );

    // Dave provisions every environment (none named) and deploys to dev from the page.
    let (status, provisioned) = server_fn(
        &p.dave,
        &app,
        "run_service_action",
        &format!("id={id}&action=provision"),
    )
    .await;
    assert_eq!(status, 200, "{provisioned}");
    let (status, deployed) = server_fn(
        &p.dave,
        &app,
        "run_service_action",
        &format!("id={id}&action=deploy&environment=dev&image=registry.example.com%2Fpay&version=1.0.0"),
    )
    .await;
    assert_eq!(status, 200, "{deployed}");
    assert_eq!(deployed["image"], "registry.example.com/pay:1.0.0");
    let (_, page) = server_fn(&p.dave, &app, "get_service_page", &format!("id={id}")).await;
    assert_eq!(
        (page["can_act"].as_bool(), page["can_write"].as_bool()),
        (Some(true), Some(false))
    );
    let envs = page["environments"].as_array().expect("environments");
    assert_eq!(
        envs[0]["provision"]["id"], provisioned["id"],
        "an environment-less provisioning counts for dev"
    );
    assert_eq!(envs[1]["provision"]["id"], provisioned["id"], "and for prod");
    assert_eq!(envs[0]["deploy"]["id"], deployed["id"]);
    assert!(envs[1]["deploy"].is_null(), "prod was not deployed");
    assert_eq!(page["history"].as_array().map(Vec::len), Some(2));

    // Refusals, each naming what was wrong; nothing is recorded for any of them.
    for (body, status, field) in [
        (
            format!("id={id}&action=deploy&environment=qa"),
            422,
            Some("environment"),
        ),
        (
            format!("id={id}&action=deploy&image=bad%20image"),
            422,
            Some("image"),
        ),
        (
            format!("id={id}&action=provision&version=1"),
            422,
            Some("version"),
        ),
        (format!("id={id}&action=restart"), 422, Some("action")),
    ] {
        let (got, refused) = server_fn(&p.dave, &app, "run_service_action", &body).await;
        assert_eq!(
            (got, refused["field"].as_str()),
            (status, field),
            "{body}: {refused}"
        );
    }
    let (status, _) = server_fn(
        &p.vera,
        &app,
        "run_service_action",
        &format!("id={id}&action=provision"),
    )
    .await;
    assert_eq!(status, 403, "a viewer does not act");
    for (name, body) in [
        ("get_service_page", format!("id={id}")),
        (
            "run_service_action",
            format!("id={id}&action=deploy&environment=dev"),
        ),
        ("delete_service", format!("id={id}")),
    ] {
        let (status, _) = server_fn(&p.otto, &app, name, &body).await;
        assert_eq!(status, 404, "{name}: another tenant's service does not exist");
    }
    let (_, page) = server_fn(&p.dave, &app, "get_service_page", &format!("id={id}")).await;
    assert_eq!(
        page["history"].as_array().map(Vec::len),
        Some(2),
        "no refusal was recorded"
    );
}

#[tokio::test]
async fn the_form_names_each_refused_field_and_saves_what_is_valid() {
    let (config, file) = test_config().await;
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let form = |name: &str, repo: &str, links: &str, tenant: &str| {
        format!(
            "name={name}&repo_url={repo}&owner_team=Team&runtime=go&tier=tier-1&environments=dev%2C+prod&tenant={tenant}\
             &observability_enabled=on&description=&links={links}&tags=a%2C+b"
        )
    };
    let repo = "https%3A%2F%2Fgit.example.com%2Fx";
    for (body, field) in [
        (form("%21%21%21", repo, "", "alpha"), "name"),
        (form("svc", "ftp%3A%2F%2Fx", "", "alpha"), "repo_url"),
        (form("svc", repo, "just-a-title", "alpha"), "links"),
        (form("svc", repo, "Docs+javascript%3Aalert(1)", "alpha"), "links"),
    ] {
        let (status, refused) = server_fn(&p.alice, &app, "save_service", &body).await;
        assert_eq!(
            (status, refused["field"].as_str()),
            (422, Some(field)),
            "{body}: {refused}"
        );
    }
    let (status, _) = server_fn(&p.dave, &app, "save_service", &form("svc", repo, "", "alpha")).await;
    assert_eq!(status, 403, "developers do not write the catalog");
    let (_, none) = send(&p.alice, Method::GET, app.url("/services"), None).await;
    assert_eq!(none, json!([]), "nothing was stored");

    let (status, id) = server_fn(
        &p.alice,
        &app,
        "save_service",
        &form(
            "svc",
            repo,
            "Runbook+https%3A%2F%2Fwiki.example.com%2Fsvc",
            "alpha",
        ),
    )
    .await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_i64().expect("the new id");
    let (_, saved) = send(&p.vera, Method::GET, app.url(&format!("/services/{id}")), None).await;
    assert_eq!(saved["environments"], json!(["dev", "prod"]));
    assert_eq!(saved["tags"], json!(["a", "b"]));
    assert_eq!(
        saved["links"],
        json!([{ "title": "Runbook", "url": "https://wiki.example.com/svc" }])
    );
    assert_eq!(saved["observability_enabled"], true);

    // Edited through the same form: the id names it; a taken name is a conflict.
    let (status, same) = server_fn(
        &p.alice,
        &app,
        "save_service",
        &format!("id={id}&{}", form("svc-two", repo, "", "alpha")),
    )
    .await;
    assert_eq!((status, same.as_i64()), (200, Some(id)));
    let (status, _) = send(
        &p.alice,
        Method::POST,
        app.url("/services"),
        Some(payments("alpha")),
    )
    .await;
    assert_eq!(status, 201);
    let (status, taken) = server_fn(
        &p.alice,
        &app,
        "save_service",
        &format!("id={id}&{}", form("payments", repo, "", "alpha")),
    )
    .await;
    assert_eq!(status, 409, "{taken}");
    let (status, _) = server_fn(&p.alice, &app, "delete_service", &format!("id={id}")).await;
    assert_eq!(status, 200);
    let (status, _) = send(&p.alice, Method::GET, app.url(&format!("/services/{id}")), None).await;
    assert_eq!(status, 404, "deleted");
}

#[tokio::test]
async fn the_page_hears_each_change_of_its_service_and_only_its_own() {
    use futures::StreamExt;
    let (config, file) = test_config().await;
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let id = catalog(&app, &p).await;
    let (_, list) = send(&p.alice, Method::GET, app.url("/services"), None).await;
    let ledger = list
        .as_array()
        .and_then(|l| l.iter().find(|s| s["name"] == "ledger"))
        .and_then(|s| s["id"].as_i64())
        .expect("ledger");

    let response = p
        .vera
        .get(app.url(&format!("/services/{id}/events")))
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("text/event-stream"))
    );
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    let mut next_data = async || loop {
        if let Some(at) = seen.find("\n\n") {
            let frame: String = seen.drain(..at + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) {
                return data.trim().to_owned();
            }
            continue; // A keep-alive comment.
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
            .await
            .expect("the stream said something within 10 s")
            .expect("the stream is open")
            .expect("bytes");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    };
    assert_eq!(next_data().await, "connected");

    // Another service's action says nothing here; this one's does.
    let (status, _) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{ledger}/actions/provision")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(next_data().await, "changed");
    assert!(seen.trim().is_empty(), "one change, one message: {seen:?}");

    let (status, _) = send(
        &p.otto,
        Method::GET,
        app.url(&format!("/services/{id}/events")),
        None,
    )
    .await;
    assert_eq!(status, 404, "another tenant's service has no stream");
}
