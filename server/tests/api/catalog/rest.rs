//! The IDP-portal seed's catalog API end to end, on both databases.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{
    DEPLOYMENT_TOKEN, PROVISIONING_TOKEN, action_in_history, executor, payments, people, register, send,
};
use crate::helpers::{TestApp, bare_client, spawn_app_with, test_config};

async fn app() -> TestApp {
    let (mut config, file) = test_config().await;
    config.catalog.dashboard_url_template =
        Some("https://grafana.example.com/d/services?var-service={name}&var-tenant={tenant}".into());
    config.catalog.provisioning_callback_token = Some(PROVISIONING_TOKEN.to_owned().into());
    config.catalog.deployment_callback_token = Some(DEPLOYMENT_TOKEN.to_owned().into());
    // The seed protected nothing; the approval flow has its own test (`approvals.rs`).
    config.catalog.protected_environments = Vec::new();
    spawn_app_with(config, file).await
}

#[tokio::test]
async fn the_seeds_clients_register_read_change_and_remove_services_in_its_shapes() {
    let app = app().await;
    let p = people(&app).await;
    let url = |path: &str| app.url(path);

    let (status, created) = send(&p.alice, Method::POST, url("/services"), Some(payments("alpha"))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("an integer id");
    assert_eq!(created["provision_status"], "not_requested");
    assert_eq!(created["provision_detail"], "");
    assert_eq!(created["environments"], json!(["dev", "prod"]));
    assert_eq!(created["tenant"], "alpha");
    assert_eq!(
        created["observability_dashboard_url"],
        "https://grafana.example.com/d/services?var-service=payments&var-tenant=alpha"
    );

    // The name is unique within its tenant, not across tenants.
    let (status, taken) = send(&p.alice, Method::POST, url("/services"), Some(payments("alpha"))).await;
    assert_eq!(status, 409, "{taken}");
    assert!(
        taken["detail"].as_str().is_some(),
        "the seed's clients read detail: {taken}"
    );
    let (status, beta) = send(&p.alice, Method::POST, url("/services"), Some(payments("beta"))).await;
    assert_eq!(status, 201, "{beta}");

    // Readers see their tenants' services; admins all.
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|s| {
                format!(
                    "{}/{}",
                    s["tenant"].as_str().unwrap_or(""),
                    s["name"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let (_, all) = send(&p.alice, Method::GET, url("/services"), None).await;
    assert_eq!(names(&all), ["alpha/payments", "beta/payments"]);
    let (_, alpha) = send(&p.vera, Method::GET, url("/services"), None).await;
    assert_eq!(names(&alpha), ["alpha/payments"]);
    let (_, only_beta) = send(&p.otto, Method::GET, url("/services"), None).await;
    assert_eq!(names(&only_beta), ["beta/payments"]);
    let (status, one) = send(&p.vera, Method::GET, url(&format!("/services/{id}")), None).await;
    assert_eq!((status, one["id"].as_i64()), (200, Some(id)));

    // Only admins write the catalog.
    let mut changed = payments("alpha");
    changed["tier"] = json!("tier-2");
    changed["observability_enabled"] = json!(false);
    changed["description"] = json!("Takes the money");
    changed["links"] = json!([{ "title": "Runbook", "url": "https://wiki.example.com/payments" }]);
    changed["tags"] = json!(["pci"]);
    let (status, _) = send(
        &p.dave,
        Method::PUT,
        url(&format!("/services/{id}")),
        Some(changed.clone()),
    )
    .await;
    assert_eq!(status, 403, "a developer does not write the catalog");
    let (status, updated) = send(
        &p.alice,
        Method::PUT,
        url(&format!("/services/{id}")),
        Some(changed),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["tier"], "tier-2");
    assert_eq!(
        updated["observability_dashboard_url"],
        Value::Null,
        "observability off: no link"
    );
    assert_eq!(updated["links"][0]["title"], "Runbook");
    assert_eq!(updated["tags"], json!(["pci"]));
    let (status, _) = send(&p.dave, Method::DELETE, url(&format!("/services/{id}")), None).await;
    assert_eq!(status, 403);
    let beta_id = beta["id"].as_i64().expect("id");
    let response = p
        .alice
        .delete(url(&format!("/services/{beta_id}")))
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    let (status, gone) = send(&p.alice, Method::GET, url(&format!("/services/{beta_id}")), None).await;
    assert_eq!(
        (status, gone["detail"].as_str()),
        (404, Some("Service not found"))
    );
    let entries = app.audit_entries("catalog.service.created").await;
    assert_eq!(
        entries.len(),
        2,
        "one audit entry per service created (the refused one none)"
    );
}

#[tokio::test]
async fn bad_input_is_named_by_field_and_changes_nothing() {
    let app = app().await;
    let p = people(&app).await;
    let url = app.url("/services");
    let cases = [
        // Any name a person writes has a slug ("Payments Service" → payments-service); one
        // without a letter or digit has none. (A tenant that does not exist is created for an
        // admin: `the_seeds_form_names_tenants_and_executors_work_as_they_did`.)
        ("name", json!("!!!")),
        ("name", json!("x".repeat(101))),
        ("repo_url", json!("not a url")),
        ("environments", json!(["dev", "dev"])),
        ("tenant", json!("  ")),
        ("links", json!([{ "title": "x", "url": "javascript:alert(1)" }])),
    ];
    for (field, value) in cases {
        let mut body = payments("alpha");
        body[field] = value;
        let (status, refused) = send(&p.alice, Method::POST, url.clone(), Some(body)).await;
        assert_eq!(
            (status, refused["field"].as_str()),
            (422, Some(field)),
            "{refused}"
        );
    }
    let mut missing = payments("alpha");
    missing.as_object_mut().expect("object").remove("tier");
    let (status, refused) = send(&p.alice, Method::POST, url.clone(), Some(missing)).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["message"].as_str().unwrap_or_default().contains("tier"),
        "{refused}"
    );
    let (status, refused) = send(&p.alice, Method::GET, app.url("/services/abc"), None).await;
    assert_eq!((status, refused["field"].as_str()), (422, Some("service_id")));
    let (_, all) = send(&p.alice, Method::GET, url, None).await;
    assert_eq!(all, json!([]), "nothing was stored");
}

#[tokio::test]
async fn actions_queue_for_developers_report_through_callbacks_and_keep_their_history() {
    let app = app().await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let path = |rest: &str| app.url(&format!("/services/{id}{rest}"));

    // Viewers read, developers and admins act.
    let (status, _) = send(&p.vera, Method::POST, path("/actions/provision"), None).await;
    assert_eq!(status, 403);
    let (status, queued) = send(&p.dave, Method::POST, path("/actions/provision"), None).await;
    assert_eq!(status, 200, "{queued}");
    assert_eq!(
        (
            queued["service_id"].as_i64(),
            queued["action"].as_str(),
            queued["status"].as_str()
        ),
        (Some(id), Some("provision"), Some("queued"))
    );
    let (_, service) = send(&p.vera, Method::GET, path(""), None).await;
    assert_eq!(service["provision_status"], "in_progress");
    let (status, state) = send(
        &p.vera,
        Method::GET,
        path("/actions/status?environment=dev"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (state["service_id"].as_i64(), state["environment"].as_str()),
        (Some(id), Some("dev"))
    );
    assert_eq!(state["status"], "in_progress");

    // Deploys: to an environment of the service (400 otherwise), the first by default.
    let (status, none_yet) = send(&p.vera, Method::GET, path("/actions/deploy/status"), None).await;
    assert_eq!(
        (status, none_yet["detail"].as_str()),
        (404, Some("No deployment found for service"))
    );
    let (status, wrong) = send(
        &p.dave,
        Method::POST,
        path("/actions/deploy"),
        Some(json!({ "environment": "qa" })),
    )
    .await;
    assert_eq!(status, 400, "{wrong}");
    assert_eq!(
        wrong["detail"],
        "Environment 'qa' is not enabled for this service"
    );
    let (status, first) = send(&p.dave, Method::POST, path("/actions/deploy"), None).await;
    assert_eq!(
        (status, first["environment"].as_str()),
        (200, Some("dev")),
        "{first}"
    );
    let (status, deployment) = send(
        &p.alice,
        Method::POST,
        path("/actions/deploy"),
        Some(json!({ "environment": "prod" })),
    )
    .await;
    assert_eq!(status, 200, "{deployment}");
    let deployment_id = deployment["deployment_id"].as_i64().expect("deployment_id");
    assert_eq!(
        (deployment["action"].as_str(), deployment["status"].as_str()),
        (Some("deploy"), Some("queued"))
    );
    let (_, latest) = send(&p.vera, Method::GET, path("/actions/deploy/status"), None).await;
    assert_eq!(
        (latest["deployment_id"].as_i64(), latest["environment"].as_str()),
        (Some(deployment_id), Some("prod"))
    );

    // Callbacks: the token first, then what exists, then the body; nothing changes when refused.
    let callback = |path: &str, token: Option<&str>, body: Value| {
        let mut request = bare_client().post(app.url(path)).json(&body);
        if let Some(token) = token {
            request = request.header("x-callback-token", token);
        }
        async move {
            let response = request.send().await.expect("callback");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let good = json!({ "service_id": id, "tenant": "alpha", "action": "provision", "status": "succeeded", "detail": "namespace ready" });
    for (token, body, expected) in [
        (None, good.clone(), 403),
        (Some("wrong"), good.clone(), 403),
        (Some(DEPLOYMENT_TOKEN), good.clone(), 403),
        (
            Some(PROVISIONING_TOKEN),
            json!({ "service_id": 999_999, "tenant": "alpha", "status": "succeeded" }),
            404,
        ),
        (
            Some(PROVISIONING_TOKEN),
            json!({ "service_id": id, "tenant": "beta", "status": "succeeded" }),
            404,
        ),
        (
            Some(PROVISIONING_TOKEN),
            json!({ "service_id": id, "tenant": "alpha" }),
            422,
        ),
        (
            Some(PROVISIONING_TOKEN),
            json!({ "service_id": id, "tenant": "alpha", "status": "done" }),
            422,
        ),
    ] {
        let (status, refused) = callback("/provisioning/callback", token, body.clone()).await;
        assert_eq!(status, expected, "{body} → {refused}");
        // A sentence, or FastAPI's list naming the field a body got wrong.
        assert!(
            refused["detail"].as_str().is_some() || refused["detail"][0]["loc"].is_array(),
            "{refused}"
        );
    }
    let (_, unchanged) = send(&p.vera, Method::GET, path(""), None).await;
    assert_eq!(
        unchanged["provision_status"], "in_progress",
        "no refused callback changed anything"
    );
    let (status, ok) = callback("/provisioning/callback", Some(PROVISIONING_TOKEN), good).await;
    assert_eq!((status, ok), (200, json!({ "status": "ok" })));
    let (_, provisioned) = send(&p.vera, Method::GET, path(""), None).await;
    assert_eq!(
        (
            provisioned["provision_status"].as_str(),
            provisioned["provision_detail"].as_str()
        ),
        (Some("succeeded"), Some("namespace ready"))
    );

    let deployed = json!({ "deployment_id": deployment_id, "status": "succeeded", "detail": "rolled out", "execution_arn": "run-42" });
    let (status, _) = callback(
        "/services/deployments/callback",
        Some(PROVISIONING_TOKEN),
        deployed.clone(),
    )
    .await;
    assert_eq!(status, 403, "each callback has its own token");
    let (status, _) = callback(
        "/services/deployments/callback",
        Some(DEPLOYMENT_TOKEN),
        json!({ "deployment_id": 999_999, "status": "succeeded" }),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = callback("/services/deployments/callback", Some(DEPLOYMENT_TOKEN), deployed).await;
    assert_eq!(status, 200);
    let (_, latest) = send(&p.vera, Method::GET, path("/actions/deploy/status"), None).await;
    assert_eq!(
        (
            latest["status"].as_str(),
            latest["detail"].as_str(),
            latest["execution_arn"].as_str()
        ),
        (Some("succeeded"), Some("rolled out"), Some("run-42"))
    );

    // The history: who asked for what, newest first, as the executors reported it.
    let (_, history) = send(&p.vera, Method::GET, path("/actions"), None).await;
    let rows: Vec<(String, String, String)> = history
        .as_array()
        .expect("history")
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap_or("").to_owned(),
                a["status"].as_str().unwrap_or("").to_owned(),
                a["requested_by"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("deploy".into(), "succeeded".into(), "alice".into()),
            ("deploy".into(), "queued".into(), "dave".into()),
            ("provision".into(), "succeeded".into(), "dave".into()),
        ]
    );
    assert_eq!(app.audit_entries("catalog.action.reported").await.len(), 2);
}

#[tokio::test]
async fn another_tenants_service_does_not_exist_on_any_route() {
    let app = app().await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let routes = [
        (Method::GET, ""),
        (Method::PUT, ""),
        (Method::DELETE, ""),
        (Method::POST, "/actions/provision"),
        (Method::POST, "/actions/deprovision"),
        (Method::POST, "/actions/deploy"),
        (Method::GET, "/actions/deploy/status"),
        (Method::GET, "/actions/status"),
        (Method::GET, "/actions"),
    ];
    for (method, rest) in routes {
        let body = (method == Method::PUT).then(|| payments("beta"));
        let (status, refused) = send(
            &p.otto,
            method.clone(),
            app.url(&format!("/services/{id}{rest}")),
            body,
        )
        .await;
        assert_eq!(status, 404, "{method} {rest}: {refused}");
        assert_eq!(refused["detail"], "Service not found");
    }
    let (_, still) = send(&p.dave, Method::GET, app.url(&format!("/services/{id}")), None).await;
    assert_eq!(
        still["provision_status"], "not_requested",
        "nothing happened to it"
    );
}

#[tokio::test]
async fn a_webhook_executor_takes_each_action_and_reports_through_the_callbacks() {
    // The executor `prod` uses refuses.
    let (at, mut received) = executor().await;
    let (mut config, file) = test_config().await;
    config.catalog.deployment_callback_token = Some(DEPLOYMENT_TOKEN.to_owned().into());
    config.catalog.webhooks = [
        ("default".to_owned(), format!("http://{at}/run")),
        ("prod".to_owned(), format!("http://{at}/broken")),
    ]
    .into_iter()
    .collect();
    config.catalog.protected_environments = Vec::new();
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let path = |rest: &str| app.url(&format!("/services/{id}{rest}"));

    let (status, provisioning) = send(&p.dave, Method::POST, path("/actions/provision"), None).await;
    assert_eq!(status, 200, "{provisioning}");
    assert_eq!(
        (provisioning["status"].as_str(), provisioning["detail"].as_str()),
        (Some("in_progress"), Some("Provisioning started via webhook"))
    );
    let got = received.recv().await.expect("the executor was called");
    assert_eq!(
        (
            got["action"].as_str(),
            got["service"]["name"].as_str(),
            got["service"]["tenant"].as_str()
        ),
        (Some("provision"), Some("payments"), Some("alpha"))
    );
    assert_eq!(got["callback_path"], "/provisioning/callback");

    let (status, deploying) = send(
        &p.dave,
        Method::POST,
        path("/actions/deploy"),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert_eq!(status, 200, "{deploying}");
    let deployment_id = deploying["deployment_id"].as_i64().expect("deployment_id");
    assert_eq!(deploying["status"], "in_progress");
    assert_eq!(
        deploying["execution_arn"],
        format!("exec-{deployment_id}"),
        "the executor's handle is kept"
    );
    let got = received.recv().await.expect("the executor was called");
    assert_eq!(
        (got["deployment_id"].as_i64(), got["environment"].as_str()),
        (Some(deployment_id), Some("dev"))
    );

    // The executor reports through the seed's callback.
    let response = bare_client()
        .post(app.url("/services/deployments/callback"))
        .header("x-callback-token", DEPLOYMENT_TOKEN)
        .json(&json!({ "deployment_id": deployment_id, "status": "succeeded", "detail": "rolled out" }))
        .send()
        .await
        .expect("callback");
    assert_eq!(response.status(), 200);
    let (_, latest) = send(&p.vera, Method::GET, path("/actions/deploy/status"), None).await;
    assert_eq!(
        (latest["status"].as_str(), latest["execution_arn"].as_str()),
        (Some("succeeded"), Some(format!("exec-{deployment_id}").as_str()))
    );

    // prod's executor refuses: the deploy failed to start, and says why.
    let (status, refused) = send(
        &p.dave,
        Method::POST,
        path("/actions/deploy"),
        Some(json!({ "environment": "prod" })),
    )
    .await;
    assert_eq!(status, 200, "{refused}");
    assert_eq!(refused["status"], "failed");
    assert!(
        refused["detail"].as_str().unwrap_or_default().contains("503"),
        "{refused}"
    );
    assert!(
        received.try_recv().is_err(),
        "the refusing executor is not the recording one"
    );
}

/// A read-scope API token reads exactly what its owner may read — its own tenant's services,
/// actions and pipelines, the tenant's members — and changes nothing.
#[tokio::test]
async fn a_read_token_reads_its_owners_tenant_and_changes_nothing() {
    let app = app().await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let (_, action) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert!(action["deployment_id"].is_i64(), "{action}");
    let (status, job) = send(
        &p.dave,
        Method::POST,
        app.url("/api/v1/jobs"),
        Some(json!({ "slug": "read-token", "intent": "check", "tenant": "alpha" })),
    )
    .await;
    assert_eq!(status, 201, "{job}");
    let job_id = job["job_id"]
        .as_str()
        .or(job["id"].as_str())
        .expect("job id")
        .to_owned();
    let token = |client: &reqwest::Client| {
        let client = client.clone();
        let url = app.url("/_srv/create_my_token");
        async move {
            let created: Value =
                crate::helpers::call_server_fn(&client, &url, "name=reader&scope=read&expires_in_days=1")
                    .await
                    .json()
                    .await
                    .expect("token");
            created["token"].as_str().expect("token").to_owned()
        }
    };
    let read_as = |token: String| crate::helpers::bearer_client(&token);
    let vera = read_as(token(&p.vera).await);
    let otto = read_as(token(&p.otto).await);
    for path in [
        format!("/services/{id}"),
        format!("/services/{id}/actions"),
        format!("/services/{id}/actions/deploy/status"),
        format!("/api/v1/jobs/{job_id}"),
        format!("/api/v1/jobs/{job_id}/gates/status"),
        format!("/api/v1/jobs/{job_id}/artifacts"),
    ] {
        let (status, body) = send(&vera, Method::GET, app.url(&path), None).await;
        assert_eq!(status, 200, "vera's read token on {path}: {body}");
        let (status, _) = send(&otto, Method::GET, app.url(&path), None).await;
        assert_eq!(status, 404, "another tenant's read token on {path}");
    }
    let members = vera
        .post(app.url("/_srv/list_tenant_members"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("slug=alpha")
        .send()
        .await
        .expect("members");
    assert_eq!(members.status(), 200);
    // And it changes nothing, even where its owner could.
    let dave = read_as(token(&p.dave).await);
    let (status, _) = send(
        &dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        &dave,
        Method::POST,
        app.url(&format!("/api/v1/jobs/{job_id}/cancel")),
        None,
    )
    .await;
    assert_eq!(status, 403);
}

/// A webhook executor that answers with a redirect has not taken the action: Heimdall does not
/// follow it (its request would go wherever the redirect points, an internal address included).
#[tokio::test]
async fn a_webhook_executors_redirect_is_not_followed() {
    let internal_hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hits = internal_hits.clone();
    let router = axum::Router::new()
        .route(
            "/run",
            axum::routing::post(|| async {
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, "/internal/secret")],
                )
            }),
        )
        .route(
            "/internal/secret",
            axum::routing::any(move || {
                let hits = hits.clone();
                async move {
                    hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    axum::Json(json!({ "execution_id": "reached-the-inside" }))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let at = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    let (mut config, file) = test_config().await;
    config.catalog.webhooks = [("default".to_owned(), format!("http://{at}/run"))]
        .into_iter()
        .collect();
    config.catalog.protected_environments = Vec::new();
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let (status, deploying) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev" })),
    )
    .await;
    assert_eq!(status, 200, "{deploying}");
    assert_eq!(deploying["status"], "failed", "{deploying}");
    assert!(
        deploying["detail"].as_str().unwrap_or_default().contains("307"),
        "{deploying}"
    );
    assert_eq!(
        internal_hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
}

/// What the IDP portal's own page and scripts see when something is wrong: FastAPI's `detail`
/// in the seed's words, and fields it does not know ignored, as its models ignored them.
#[tokio::test]
async fn the_seeds_client_reads_its_own_detail_texts_and_extra_fields_pass() {
    let app = app().await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    for (client, detail) in [
        (bare_client(), "Not authenticated"),
        (crate::helpers::bearer_client("not.a.jwt"), "Invalid token"),
    ] {
        let response = client.get(app.url("/services")).send().await.expect("request");
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["detail"], detail);
    }
    let (status, gone) = send(&p.alice, Method::GET, app.url("/services/999999"), None).await;
    assert_eq!(
        (status, gone["detail"].as_str()),
        (404, Some("Service not found"))
    );
    // A body that does not parse: FastAPI's list, naming where.
    let response = p
        .alice
        .post(app.url("/services"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["detail"][0]["loc"][0], "body", "{body}");
    // The seed's deploy body with a field Heimdall does not know.
    let (status, deploying) = send(
        &p.dave,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "dev", "force": true })),
    )
    .await;
    assert_eq!(status, 200, "{deploying}");
    assert_eq!(deploying["environment"], "dev");
}

/// The seed's form and its executors: a name with spaces and capitals is kept and given a slug,
/// an admin's new team gets its tenant, the webhook body carries what the seed's state machines
/// read, and a callback without an action id settles the action the executor holds.
#[tokio::test]
async fn the_seeds_form_names_tenants_and_executors_work_as_they_did() {
    let (at, mut received) = executor().await;
    let (mut config, file) = test_config().await;
    config.catalog.provisioning_callback_token = Some(PROVISIONING_TOKEN.to_owned().into());
    config.catalog.webhooks = [("default".to_owned(), format!("http://{at}/run"))]
        .into_iter()
        .collect();
    config.catalog.protected_environments = Vec::new();
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;

    let mut form = payments("Growth Team");
    form["name"] = json!("Payments API");
    let (status, created) = send(&p.alice, Method::POST, app.url("/services"), Some(form.clone())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (
            created["name"].as_str(),
            created["slug"].as_str(),
            created["tenant"].as_str()
        ),
        (Some("Payments API"), Some("payments-api"), Some("growth-team")),
        "{created}"
    );
    let id = created["id"].as_i64().expect("id");
    // The same name again in that tenant is taken (by its slug).
    let (status, _) = send(&p.alice, Method::POST, app.url("/services"), Some(form)).await;
    assert_eq!(status, 409);
    // A developer may not create a tenant by naming one.
    let (status, refused) = send(
        &p.dave,
        Method::POST,
        app.url("/services"),
        Some(payments("Nobody Yet")),
    )
    .await;
    assert_eq!(status, 403, "services are registered by admins: {refused}");

    // Two environments provisioned: the executor gets the seed's fields for each.
    let path = |rest: &str| app.url(&format!("/services/{id}{rest}"));
    let mut handed = Vec::new();
    for environment in ["dev", "prod"] {
        let (status, answer) = send(
            &p.alice,
            Method::POST,
            path("/actions/provision"),
            Some(json!({ "environment": environment })),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        handed.push(answer["action_id"].as_i64().expect("action id"));
        let got = received.recv().await.expect("the executor was called");
        assert_eq!(got["tenant"]["name"], "growth-team", "{got}");
        assert_eq!(got["tenant"]["namespace"], "tenant-growth-team", "{got}");
        assert_eq!(got["tenant"]["rds_schema"], "tenant_growth_team", "{got}");
        assert_eq!(got["service"]["environments"], json!(["dev", "prod"]), "{got}");
        assert_eq!(got["service"]["observability_enabled"], true, "{got}");
        assert!(
            got["tenant"].get("db_password").is_none(),
            "no secret in the body: {got}"
        );
    }
    let callback = |body: Value| {
        bare_client()
            .post(app.url("/provisioning/callback"))
            .header("x-callback-token", PROVISIONING_TOKEN)
            .json(&body)
            .send()
    };
    // The seed's shape while both are held: which one is not guessed.
    let seed_shape = json!({ "service_id": id, "tenant": "growth-team", "action": "provision", "status": "succeeded", "detail": "ready" });
    let ambiguous = callback(seed_shape.clone()).await.expect("callback");
    assert_eq!(ambiguous.status(), 409);
    let ambiguous: Value = ambiguous.json().await.expect("JSON");
    let said = ambiguous["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        said.contains(&format!("#{}", handed[0])) && said.contains(&format!("#{}", handed[1])),
        "{said}"
    );
    // Named by environment, then the seed's shape settles the one left.
    let mut dev = seed_shape.clone();
    dev["environment"] = json!("dev");
    assert_eq!(callback(dev).await.expect("callback").status(), 200);
    assert_eq!(callback(seed_shape).await.expect("callback").status(), 200);
    for action_id in handed {
        let action = action_in_history(&app, &p.alice, id, action_id).await;
        assert_eq!(action["status"], "succeeded", "{action}");
    }
}
