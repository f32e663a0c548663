//! The pipeline pages' server functions: a pipeline started from the page, advanced by a worker
//! over REST to a gate; who sees it waiting (the list's filter, the nav's count), what its gate
//! card says to each person, a rejection with notes, a resume; and the creation limit shared
//! by the page and the API.

use app::identity::Role;
use serde_json::{Value, json};

use super::support::relaxed_config;
use crate::helpers::{TestApp, call_server_fn, spawn_app_with};

async fn server_fn(client: &reqwest::Client, app: &TestApp, name: &str, body: &str) -> (u16, Value) {
    let response = call_server_fn(client, &app.url(&format!("/_srv/{name}")), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn report(app: &TestApp, worker: &reqwest::Client, id: &str, stage: &str) -> Value {
    let response = worker
        .post(app.url(&format!("/api/v1/jobs/{id}/stages/{stage}/report")))
        .json(&json!({ "outcome": "succeeded", "artifacts": [{ "name": format!("{stage}.md"), "uri": format!("s3://bucket/{stage}.md") }] }))
        .send()
        .await
        .expect("report");
    assert_eq!(response.status(), 200, "report {stage}");
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn a_pipeline_from_the_page_waits_for_the_right_people_and_says_so() {
    let (config, file) = relaxed_config().await;
    let app = spawn_app_with(config, file).await;
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let arno = app.create_user("arno", Role::Developer, Some("alpha")).await;
    let vic = app.create_user("vic", Role::Viewer, Some("alpha")).await;
    let otto = app.create_user("otto", Role::Developer, Some("beta")).await;
    let (rita, arno, vic, otto) = (
        app.client_for(&rita).await,
        app.client_for(&arno).await,
        app.client_for(&vic).await,
        app.client_for(&otto).await,
    );

    // Rita starts one from the page: the configured stages (the seed's), her only tenant.
    let (status, id) = server_fn(
        &rita,
        &app,
        "create_pipeline",
        "slug=episode-8&intent=history&tenant=&brief=The+fall+of+Rome",
    )
    .await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().expect("the new id").to_owned();

    // A worker (Rita's session here; any API client) runs outline and research; script's gate opens.
    let response = rita
        .post(app.url(&format!("/api/v1/jobs/{id}/claim")))
        .send()
        .await
        .expect("claim");
    assert_eq!(response.status(), 200);
    report(&app, &rita, &id, "outline").await;
    let at_gate = report(&app, &rita, &id, "research").await;
    assert_eq!(at_gate["status"], "needs_approval", "{at_gate}");
    assert_eq!(at_gate["stage"], "script");

    // It waits for Arno: the nav's count, the list's filter, the mark on the row.
    let count = |v: &Value| v["approvals_waiting"].as_str().map(str::to_owned);
    for (who, client, expected) in [
        ("arno", &arno, "1"),
        ("rita", &rita, ""),
        ("vic", &vic, ""),
        ("otto", &otto, ""),
    ] {
        let (status, overview) = server_fn(client, &app, "get_overview", "").await;
        assert_eq!(status, 200);
        assert_eq!(
            count(&overview).as_deref(),
            Some(expected),
            "{who}'s count: {overview}"
        );
    }
    let (status, waiting) = server_fn(&arno, &app, "list_pipelines", "waiting=true").await;
    assert_eq!(status, 200, "{waiting}");
    assert_eq!(
        waiting["pipelines"].as_array().map(Vec::len),
        Some(1),
        "{waiting}"
    );
    assert_eq!(waiting["pipelines"][0]["id"], id.as_str());
    assert_eq!(waiting["pipelines"][0]["waiting_for_you"], true);
    assert_eq!(waiting["pipelines"][0]["tenant"], "alpha");
    assert_eq!(waiting["can_create"], true);
    let (_, none) = server_fn(&rita, &app, "list_pipelines", "waiting=true").await;
    assert_eq!(
        none["pipelines"],
        json!([]),
        "Rita asked for it: it does not wait for her"
    );
    let (_, by_status) = server_fn(
        &vic,
        &app,
        "list_pipelines",
        "waiting=false&status=needs_approval&tenant=alpha",
    )
    .await;
    assert_eq!(by_status["pipelines"][0]["id"], id.as_str(), "{by_status}");
    assert_eq!(by_status["pipelines"][0]["waiting_for_you"], false);
    assert_eq!(by_status["can_create"], false, "viewers do not start pipelines");
    let (_, other_status) = server_fn(&vic, &app, "list_pipelines", "waiting=false&status=paused").await;
    assert_eq!(other_status["pipelines"], json!([]));
    let (status, unknown) = server_fn(&vic, &app, "list_pipelines", "waiting=false&tenant=nowhere").await;
    assert_eq!(status, 422, "{unknown}");
    let (_, otto_list) = server_fn(&otto, &app, "list_pipelines", "waiting=false").await;
    assert_eq!(
        otto_list["pipelines"],
        json!([]),
        "another tenant's pipelines are not listed"
    );
    assert_eq!(otto_list["tenants"], json!(["beta"]));

    // The gate card: its rules in words, and to each person whether they may decide.
    let (status, page) = server_fn(&arno, &app, "get_pipeline", &format!("id={id}")).await;
    assert_eq!(status, 200, "{page}");
    let stages = page["stages"].as_array().expect("stages");
    assert_eq!(stages.len(), 9);
    assert_eq!(
        stages
            .iter()
            .map(|s| s["state"].as_str().unwrap_or(""))
            .take(4)
            .collect::<Vec<_>>(),
        ["done", "done", "current", "upcoming"]
    );
    let gate = &stages[2]["gate"];
    assert_eq!(gate["you_may_not"], Value::Null, "Arno may decide: {gate}");
    let rules = gate["who_may_decide"].as_str().unwrap_or_default();
    assert!(
        rules.contains("developer or admin") && rules.contains("not the requester"),
        "{rules}"
    );
    assert_eq!(
        stages[0]["gate"]["config"]["required"], false,
        "outline's gate is the seed's optional one"
    );
    assert!(page["summary"]["waiting_for_you"].as_bool().unwrap_or(false));
    assert_eq!(page["artifacts"].as_array().map(Vec::len), Some(2), "{page}");
    let kinds: Vec<&str> = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    assert!(kinds.contains(&"gate_opened"), "{kinds:?}");
    assert!(
        page["params"]
            .as_str()
            .unwrap_or_default()
            .contains("The fall of Rome")
    );
    let (_, for_rita) = server_fn(&rita, &app, "get_pipeline", &format!("id={id}")).await;
    assert!(
        for_rita["stages"][2]["gate"]["you_may_not"]
            .as_str()
            .unwrap_or_default()
            .contains("you requested"),
        "{for_rita}"
    );
    let (_, for_vic) = server_fn(&vic, &app, "get_pipeline", &format!("id={id}")).await;
    assert!(
        for_vic["stages"][2]["gate"]["you_may_not"].as_str().is_some(),
        "{for_vic}"
    );
    assert_eq!(for_vic["can_operate"], false);
    let (status, _) = server_fn(&otto, &app, "get_pipeline", &format!("id={id}")).await;
    assert_eq!(status, 404, "another tenant's pipeline does not exist for Otto");

    // A rejection (notes optional by default: `notes_required` on the gate) pauses the pipeline and the card shows who and why.
    let decide = |approve: bool, notes: &str| format!("id={id}&stage=script&approve={approve}&notes={notes}");
    let (status, _) = server_fn(&vic, &app, "decide_gate", &decide(true, "")).await;
    assert_eq!(status, 403, "a viewer does not decide");
    let (status, said) = server_fn(&arno, &app, "decide_gate", &decide(false, "tighten+act+two")).await;
    assert_eq!(status, 200, "{said}");
    assert!(
        said.as_str().unwrap_or_default().starts_with("Rejected"),
        "{said}"
    );
    let (status, late) = server_fn(&arno, &app, "decide_gate", &decide(true, "")).await;
    assert_eq!(status, 409, "decided already: {late}");
    assert!(
        late["message"]
            .as_str()
            .unwrap_or_default()
            .contains("already decided by arno"),
        "{late}"
    );
    let (_, paused) = server_fn(&vic, &app, "get_pipeline", &format!("id={id}")).await;
    assert_eq!(paused["summary"]["status"], "paused");
    let decision = &paused["stages"][2]["gate"]["decision"];
    assert_eq!(
        (
            decision["decision"].as_str(),
            decision["by"].as_str(),
            decision["notes"].as_str()
        ),
        (Some("rejected"), Some("arno"), Some("tighten act two"))
    );
    let (_, overview) = server_fn(&arno, &app, "get_overview", "").await;
    assert_eq!(
        count(&overview).as_deref(),
        Some(""),
        "nothing waits for Arno now"
    );
    let entries = app.audit_entries("pipeline.gate.decided").await;
    assert_eq!(entries.len(), 1, "one decision, one audit entry");

    // Rita resumes it; a viewer cannot; cancelling a running pipeline ends it.
    let (status, _) = server_fn(&vic, &app, "resume_pipeline", &format!("id={id}")).await;
    assert_eq!(status, 403);
    let (status, applied) = server_fn(&rita, &app, "resume_pipeline", &format!("id={id}")).await;
    assert_eq!((status, applied.as_u64()), (200, Some(0)), "no patch attached");
    let (_, resumed) = server_fn(&vic, &app, "get_pipeline", &format!("id={id}")).await;
    assert_eq!(resumed["summary"]["status"], "running");
    let (status, _) = server_fn(&rita, &app, "cancel_pipeline", &format!("id={id}")).await;
    assert_eq!(status, 200);
    let (_, canceled) = server_fn(&vic, &app, "get_pipeline", &format!("id={id}")).await;
    assert_eq!(canceled["summary"]["status"], "canceled");
    let (status, again) = server_fn(&rita, &app, "cancel_pipeline", &format!("id={id}")).await;
    assert_eq!(status, 409, "an ended pipeline stays ended: {again}");
}

#[tokio::test]
async fn the_page_and_the_api_share_one_creation_limit_per_person() {
    let (config, file) = relaxed_config().await;
    let app = spawn_app_with(config, file).await;
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let arno = app.create_user("arno", Role::Developer, Some("alpha")).await;
    let (rita, arno) = (app.client_for(&rita).await, app.client_for(&arno).await);
    // An invalid request does not count.
    let (status, invalid) = server_fn(&rita, &app, "create_pipeline", "slug=&intent=i&tenant=&brief=").await;
    assert_eq!(
        (status, invalid["field"].as_str()),
        (422, Some("slug")),
        "{invalid}"
    );
    for n in 0..3 {
        let (status, body) = server_fn(
            &rita,
            &app,
            "create_pipeline",
            &format!("slug=p{n}&intent=i&tenant=&brief="),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    for n in 3..5 {
        let response = rita
            .post(app.url("/api/v1/jobs"))
            .json(&json!({ "slug": format!("p{n}"), "intent": "i" }))
            .send()
            .await
            .expect("create");
        assert_eq!(response.status(), 201);
    }
    // The sixth in the minute, whichever way it comes, is refused with the wait.
    let page_refusal = rita
        .post(app.url("/_srv/create_pipeline"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("slug=p5&intent=i&tenant=&brief=")
        .send()
        .await
        .expect("create");
    assert_eq!(page_refusal.status(), 429);
    let wait: u64 = page_refusal.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!(wait >= 1, "the page's refusal says how long to wait too");
    let refused: serde_json::Value = page_refusal.json().await.expect("JSON");
    assert_eq!(refused["error"], "rate_limited");
    let response = rita
        .post(app.url("/api/v1/jobs"))
        .json(&json!({ "slug": "p6", "intent": "i" }))
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    // Arno keeps his own budget; nothing was created beyond the five.
    let (status, _) = server_fn(&arno, &app, "create_pipeline", "slug=a0&intent=i&tenant=&brief=").await;
    assert_eq!(status, 200);
    let (_, list) = server_fn(&arno, &app, "list_pipelines", "waiting=false").await;
    assert_eq!(list["pipelines"].as_array().map(Vec::len), Some(6), "{list}");
}
