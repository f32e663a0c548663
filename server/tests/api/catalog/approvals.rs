//! Deploys to a protected environment wait for someone else's approval on a pipeline gate;
//! approved, the deploy goes to its executor and the pipeline completes; rejected, nothing is
//! applied and the action says why. On both databases.

use reqwest::Method;
use serde_json::json;

use super::support::{action_in_history, executor, people, register, send};
use crate::cluster_support::eventually;
use crate::helpers::{spawn_app_with, test_config};

#[tokio::test]
async fn a_deploy_to_prod_waits_for_approval_and_a_rejection_applies_nothing() {
    let (at, mut received) = executor().await;
    let (mut config, file) = test_config().await;
    config.catalog.webhooks = [("default".to_owned(), format!("http://{at}/run"))]
        .into_iter()
        .collect();
    assert_eq!(
        config.catalog.protected_environments,
        ["prod"],
        "prod is protected by default"
    );
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let deploy_prod = || {
        send(
            &p.dave,
            Method::POST,
            app.url(&format!("/services/{id}/actions/deploy")),
            Some(json!({ "environment": "prod" })),
        )
    };
    let deployment = |deployment_id: i64| action_in_history(&app, &p.vera, id, deployment_id);

    // Dave asks; it waits, and its pipeline waits at its gate.
    let (status, waiting) = deploy_prod().await;
    assert_eq!(status, 200, "{waiting}");
    assert_eq!(waiting["status"], "awaiting_approval");
    let first = waiting["deployment_id"].as_i64().expect("deployment_id");
    let pipeline = waiting["pipeline_id"].as_str().expect("pipeline_id").to_owned();
    let (_, job) = send(
        &p.vera,
        Method::GET,
        app.url(&format!("/api/v1/jobs/{pipeline}")),
        None,
    )
    .await;
    assert_eq!(
        (job["status"].as_str(), job["stage"].as_str()),
        (Some("needs_approval"), Some("deploy")),
        "{job}"
    );
    assert!(
        received.try_recv().is_err(),
        "nothing went to the executor before approval"
    );
    let approve = |decision: &str, notes: Option<&str>| json!({ "decision": decision, "stage": "deploy", "notes": notes, "operator": "someone", "patch": null });
    let url = |verb: &str| app.url(&format!("/api/v1/jobs/{pipeline}/{verb}"));
    let (status, _) = send(
        &p.dave,
        Method::POST,
        url("approve"),
        Some(approve("approved", None)),
    )
    .await;
    assert_eq!(status, 403, "Dave asked: someone else approves");

    // Alice approves: the deploy goes to the executor, the pipeline completes.
    let (status, decided) = send(
        &p.alice,
        Method::POST,
        url("approve"),
        Some(approve("approved", None)),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    let handed = eventually("the approved deploy reaches the executor", || async {
        let d = deployment(first).await;
        (d["status"] == "in_progress").then_some(d)
    })
    .await;
    assert_eq!(handed["execution_ref"], format!("exec-{first}"));
    // Who decided stays on the action after its detail moves on with the rollout.
    assert_eq!(handed["decided_by"], "alice", "{handed}");
    let got = received.recv().await.expect("the executor was called");
    assert_eq!(
        (got["deployment_id"].as_i64(), got["environment"].as_str()),
        (Some(first), Some("prod"))
    );
    let (_, job) = send(
        &p.vera,
        Method::GET,
        app.url(&format!("/api/v1/jobs/{pipeline}")),
        None,
    )
    .await;
    assert_eq!(job["status"], "completed", "{job}");

    // The next one is rejected with notes: nothing is applied, the action says why.
    let (_, waiting) = deploy_prod().await;
    let second = waiting["deployment_id"].as_i64().expect("deployment_id");
    let pipeline = waiting["pipeline_id"].as_str().expect("pipeline_id").to_owned();
    let (status, _) = send(
        &p.alice,
        Method::POST,
        app.url(&format!("/api/v1/jobs/{pipeline}/reject")),
        Some(approve("rejected", Some("not on a Friday"))),
    )
    .await;
    assert_eq!(status, 200);
    let rejected = eventually("the rejection settles the deploy", || async {
        let d = deployment(second).await;
        (d["status"] == "rejected").then_some(d)
    })
    .await;
    assert_eq!(rejected["detail"], "Rejected by alice: not on a Friday");
    assert_eq!(rejected["decided_by"], "alice");
    assert!(
        received.try_recv().is_err(),
        "a rejected deploy never reaches the executor"
    );
    let (_, job) = send(
        &p.vera,
        Method::GET,
        app.url(&format!("/api/v1/jobs/{pipeline}")),
        None,
    )
    .await;
    assert_eq!(job["status"], "canceled", "{job}");
    // Another tenant's developer cannot see the approval pipeline either.
    let (status, _) = send(
        &p.otto,
        Method::GET,
        app.url(&format!("/api/v1/jobs/{pipeline}")),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_callback_settles_only_what_an_executor_holds_and_never_goes_back() {
    const TOKEN: &str = "deployment-callback-token-for-tests";
    let (mut config, file) = test_config().await;
    config.catalog.deployment_callback_token = Some(TOKEN.to_owned().into());
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let deploy = |environment: &'static str| {
        send(
            &p.dave,
            Method::POST,
            app.url(&format!("/services/{id}/actions/deploy")),
            Some(json!({ "environment": environment })),
        )
    };
    let callback = |deployment_id: i64, status: &'static str| {
        let url = app.url("/services/deployments/callback");
        async move {
            let response = crate::helpers::bare_client()
                .post(url)
                .header("x-callback-token", TOKEN)
                .json(&json!({ "deployment_id": deployment_id, "status": status, "detail": "from the executor" }))
                .send()
                .await
                .expect("callback");
            let status = response.status().as_u16();
            (
                status,
                response.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let now = |deployment_id: i64| action_in_history(&app, &p.vera, id, deployment_id);

    // A prod deploy waits for approval: no executor holds it, so no callback settles it.
    let (_, waiting) = deploy("prod").await;
    let prod = waiting["deployment_id"].as_i64().expect("deployment_id");
    let refusals_before = app.audit_entries("catalog.action_reported").await.len();
    for status in ["succeeded", "failed", "in_progress", "queued"] {
        let (code, body) = callback(prod, status).await;
        assert_eq!(code, 409, "{status}: {body}");
        assert!(body.to_string().contains("waits for approval"), "{body}");
    }
    assert_eq!(now(prod).await["status"], "awaiting_approval", "nothing changed");
    assert_eq!(
        app.audit_entries("catalog.action_reported").await.len(),
        refusals_before + 4,
        "each refusal audited"
    );

    // A dev deploy is queued for the (external) executor: it may move forward, never back.
    let (_, queued) = deploy("dev").await;
    let dev = queued["deployment_id"].as_i64().expect("deployment_id");
    assert_eq!(queued["status"], "queued");
    assert_eq!(callback(dev, "in_progress").await.0, 200);
    assert_eq!(
        callback(dev, "queued").await.0,
        409,
        "in_progress → queued is backwards"
    );
    assert_eq!(
        callback(dev, "in_progress").await.0,
        200,
        "a repeated progress report is fine"
    );
    assert_eq!(callback(dev, "succeeded").await.0, 200);
    assert_eq!(now(dev).await["status"], "succeeded");
    for late in ["in_progress", "failed", "succeeded", "queued"] {
        let (code, body) = callback(dev, late).await;
        assert_eq!(code, 409, "{late} after succeeded: {body}");
    }
    assert_eq!(
        now(dev).await["status"],
        "succeeded",
        "a stale report changed nothing"
    );
}

#[tokio::test]
async fn the_admin_token_does_not_approve_the_deploy_it_requested() {
    const ADMIN_TOKEN: &str = "static-admin-token-for-the-self-approval-test";
    let (mut config, file) = test_config().await;
    config.auth.admin_token = Some(ADMIN_TOKEN.into());
    let app = spawn_app_with(config, file).await;
    let p = people(&app).await;
    let id = register(&app, &p).await;
    let token = crate::helpers::bearer_client(ADMIN_TOKEN);
    let (status, waiting) = send(
        &token,
        Method::POST,
        app.url(&format!("/services/{id}/actions/deploy")),
        Some(json!({ "environment": "prod" })),
    )
    .await;
    assert_eq!(status, 200, "{waiting}");
    assert_eq!(waiting["status"], "awaiting_approval");
    let pipeline = waiting["pipeline_id"].as_str().expect("pipeline").to_owned();
    let approve =
        json!({ "decision": "approved", "stage": "deploy", "operator": "ops", "notes": null, "patch": null });
    let url = app.url(&format!("/api/v1/jobs/{pipeline}/approve"));
    let (status, refused) = send(&token, Method::POST, url.clone(), Some(approve.clone())).await;
    assert_eq!(status, 403, "the token requested it: {refused}");
    assert!(
        refused.to_string().contains("someone else approves it"),
        "{refused}"
    );
    let (_, job) = send(
        &p.vera,
        Method::GET,
        app.url(&format!("/api/v1/jobs/{pipeline}")),
        None,
    )
    .await;
    assert_eq!(job["status"], "needs_approval", "still waiting");
    // Someone else may.
    let (status, approved) = send(&p.dave, Method::POST, url, Some(approve)).await;
    assert_eq!(status, 200, "{approved}");
}
