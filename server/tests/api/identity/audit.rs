//! The admin's audit page (`list_audit`): targets by name with a link where the log kept an id,
//! tenant ids in a membership change as slugs, a time range, and pages that neither repeat nor
//! skip an entry.

use app::audit::{AUDIT_PAGE_SIZE, AuditAction, AuditEvent};
use app::identity::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, call_server_fn, spawn_app};

async fn audit(app: &TestApp, filter: &str) -> Vec<Value> {
    let response = call_server_fn(&app.client, &app.url("/_srv/list_audit"), filter).await;
    assert_eq!(response.status(), 200);
    response
        .json::<Value>()
        .await
        .expect("JSON")
        .as_array()
        .expect("entries")
        .clone()
}

async fn server_fn(app: &TestApp, name: &str, body: &str) -> Value {
    let response = call_server_fn(&app.client, &app.url(&format!("/_srv/{name}")), body).await;
    assert_eq!(response.status(), 200, "{name}");
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn the_audit_page_names_its_targets_ranges_in_time_and_pages_without_gaps() {
    let app = spawn_app().await;
    app.sign_in_as_admin().await;
    let alpha = server_fn(&app, "create_tenant", "slug=alpha&name=Alpha").await["id"].clone();
    let beta = server_fn(&app, "create_tenant", "slug=beta&name=Beta").await["id"].clone();
    let rita = app.create_user("rita", Role::Developer, None).await;
    server_fn(
        &app,
        "set_user_tenants",
        &format!("id={}&tenant_ids[0]={alpha}&tenant_ids[1]={beta}", rita.id),
    )
    .await;
    let created = app
        .client
        .post(app.url("/services"))
        .json(
            &json!({ "name": "checkout", "tenant": "alpha", "repo_url": "https://git.example.com/c",
            "owner_team": "shop", "runtime": "go", "tier": "tier-1", "environments": ["dev"] }),
        )
        .send()
        .await
        .expect("create a service");
    assert_eq!(created.status(), 201);
    let service: Value = created.json().await.expect("JSON");

    // Tenant ids become slugs; a service's number becomes its name, linking its page.
    let membership = audit(&app, "filter[action]=membership").await;
    assert_eq!(membership[0]["target"], "rita");
    assert_eq!(membership[0]["detail"], "tenants: alpha, beta");
    assert_eq!(membership[0]["target_href"], "/admin/users");
    let catalog = audit(&app, "filter[action]=catalog.service").await;
    assert_eq!(catalog[0]["target"], service["id"].to_string());
    assert_eq!(catalog[0]["target_label"], "checkout");
    assert_eq!(catalog[0]["target_href"], format!("/catalog/{}", service["id"]));

    // More than a page of one kind: the pages follow each other, newest first, no entry twice
    // and none left out.
    let written = AUDIT_PAGE_SIZE + 5;
    for i in 0..written {
        app.state
            .audit
            .record(AuditEvent::failure(AuditAction::TokenRejected).target(&format!("probe-{i}")))
            .await;
    }
    let first = audit(&app, "filter[action]=token.rejected").await;
    assert_eq!(first.len(), AUDIT_PAGE_SIZE);
    let last_id = first.last().expect("a full page")["id"].as_i64().expect("id");
    let second = audit(
        &app,
        &format!("filter[action]=token.rejected&filter[before]={last_id}"),
    )
    .await;
    assert_eq!(second.len(), 5);
    let targets: Vec<&str> = first
        .iter()
        .chain(&second)
        .map(|e| e["target"].as_str().expect("target"))
        .collect();
    let expected: Vec<String> = (0..written).rev().map(|i| format!("probe-{i}")).collect();
    assert_eq!(targets, expected);

    // A time range: an entry from two days ago is in "the last 7 days", not in "the last 24 hours".
    let old = first[0]["id"].as_i64().expect("id");
    let two_days_ago = chrono::Utc::now() - chrono::Duration::days(2);
    match &app.state.db {
        app::db::Database::Sqlite(pool) => {
            sqlx::query("UPDATE audit_log SET created_at = $1 WHERE id = $2")
                .bind(two_days_ago)
                .bind(old)
                .execute(pool)
                .await
                .expect("backdate");
        }
        app::db::Database::Postgres(pool) => {
            sqlx::query("UPDATE audit_log SET created_at = $1 WHERE id = $2")
                .bind(two_days_ago)
                .bind(old)
                .execute(pool)
                .await
                .expect("backdate");
        }
    }
    let ids =
        |entries: Vec<Value>| -> Vec<i64> { entries.iter().map(|e| e["id"].as_i64().expect("id")).collect() };
    assert!(!ids(audit(&app, "filter[action]=token.rejected&filter[since_hours]=24").await).contains(&old));
    assert!(ids(audit(&app, "filter[action]=token.rejected&filter[since_hours]=168").await).contains(&old));
}
