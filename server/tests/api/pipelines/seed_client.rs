//! The operator console's own client, replayed: the request sequence its Gradio console and
//! scripts send (`fastapi_app/routes.py`), with the answers the seed gives — paths, statuses,
//! field names and `detail` texts — written down here from its source. Heimdall is stricter
//! only where `docs/pipelines.md` says so.

use serde_json::{Value, json};

use crate::helpers::{TestApp, bare_client, bearer_client, send, spawn_app_with, test_config};

const ADMIN_TOKEN: &str = "seed-console-admin-token";

async fn app() -> TestApp {
    super::support::with_admin_token(ADMIN_TOKEN).await
}

fn action(decision: &str, stage: &str, notes: &str) -> Value {
    json!({ "decision": decision, "stage": stage, "notes": notes, "operator": "admin" })
}

#[tokio::test]
async fn the_consoles_sequence_gets_the_seeds_answers() {
    use reqwest::Method;
    let app = app().await;
    let seed = bearer_client(ADMIN_TOKEN);

    // Health, with and without the prefix.
    let (status, health) = send(&bare_client(), Method::GET, app.url("/healthz"), None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("healthy")));
    assert!(health["timestamp"].is_number(), "{health}");
    let (status, health) = send(&bare_client(), Method::GET, app.url("/api/v1/healthz"), None).await;
    assert_eq!(status, 200);
    assert_eq!(health["ok"], true, "{health}");
    assert_eq!(health["services"]["database"], true, "{health}");
    assert!(
        health["version"].is_string() && health["timestamp"].is_string(),
        "{health}"
    );

    // 401s in HTTPBearer's words, naming the scheme.
    for (client, detail) in [
        (bare_client(), "Not authenticated"),
        (bearer_client("not-the-token"), "Invalid authentication token"),
    ] {
        let response = client.get(app.url("/api/v1/jobs")).send().await.expect("request");
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["detail"], detail);
    }

    // The sanitized configuration: the seed's sections, the admin token's key not there at all.
    let response = seed
        .get(app.url("/api/v1/config/operator"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(
        !text.contains("admin_token") && !text.contains(ADMIN_TOKEN),
        "{text}"
    );
    let config: Value = serde_json::from_str(&text).expect("JSON");
    let mut sections: Vec<&str> = config
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    sections.sort_unstable();
    assert_eq!(sections, ["gates", "pipeline", "security", "server", "storage"]);
    assert!(config["server"]["port"].is_u64(), "{config}");
    assert_eq!(config["security"]["rate_limiting"]["job_creation_per_minute"], 5);
    assert_eq!(config["gates"]["outline"]["required"], false);
    assert_eq!(config["gates"]["outline"]["auto_approve_after_s"], 1800);
    let (status, valid) = send(&seed, Method::POST, app.url("/api/v1/config/validate"), None).await;
    assert_eq!((status, valid["valid"].as_bool()), (200, Some(true)), "{valid}");
    assert_eq!(valid["message"], "Configuration is valid");

    // The brief compiler and the patch catalogue.
    let example = "3-4 min explainer on baby sleep regression, comforting tone, linen texture, CTA off";
    let (status, compiled) = send(
        &seed,
        Method::POST,
        app.url("/api/v1/compile-brief"),
        Some(json!({ "free_text_brief": example })),
    )
    .await;
    assert_eq!(status, 200, "{compiled}");
    assert_eq!(compiled["compiled_brief"]["tone"], "comforting");
    assert_eq!(compiled["compiled_brief"]["video"]["target_length_max"], 4);
    assert_eq!(compiled["original_text"], example);
    assert!(compiled["assumptions"].is_array());
    let (status, empty) = send(
        &seed,
        Method::POST,
        app.url("/api/v1/compile-brief"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, empty["detail"].as_str()),
        (400, Some("free_text_brief is required"))
    );
    let (status, types) = send(&seed, Method::GET, app.url("/api/v1/patches/types"), None).await;
    assert_eq!(status, 200);
    for kind in ["script", "storyboard", "audio"] {
        assert!(
            types["patch_types"][kind]["examples"].is_array(),
            "{kind}: {types}"
        );
    }

    // A job from free text: its brief is the compiled one.
    let (status, job) = send(
        &seed,
        Method::POST,
        app.url("/api/v1/jobs"),
        Some(
            json!({ "slug": "sleep", "intent": "narrative_history", "meta": { "free_text_brief": example } }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["cfg"]["brief"]["tone"], "comforting", "{job}");
    let id = job["id"].as_str().expect("id").to_owned();
    let url = |path: &str| app.url(&format!("/api/v1/jobs/{id}{path}"));

    // Decisions ahead of the pipeline: kept, each once, as the seed kept them.
    let (status, answer) = send(
        &seed,
        Method::POST,
        url("/approve"),
        Some(action("approved", "outline", "")),
    )
    .await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (200, Some("Gate outline approved successfully"))
    );
    let (status, answer) = send(
        &seed,
        Method::POST,
        url("/reject"),
        Some(action("rejected", "script", "")),
    )
    .await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (200, Some("Gate script rejected successfully")),
        "a rejection with empty notes, as the seed's console sends it"
    );
    let (status, again) = send(
        &seed,
        Method::POST,
        url("/approve"),
        Some(action("approved", "outline", "")),
    )
    .await;
    assert_eq!(status, 409, "decided once: {again}");
    let (status, unknown) = send(
        &seed,
        Method::POST,
        url("/approve"),
        Some(action("approved", "nowhere", "")),
    )
    .await;
    assert_eq!(
        (status, unknown["detail"].as_str()),
        (404, Some("No gate found for stage nowhere"))
    );
    let (status, missing) = send(&seed, Method::GET, app.url("/api/v1/jobs/nope"), None).await;
    assert_eq!(
        (status, missing["detail"].as_str()),
        (404, Some("Job nope not found"))
    );

    let (_, decisions) = send(&seed, Method::GET, url("/gates/decisions"), None).await;
    assert_eq!(decisions["total_decisions"], 2, "{decisions}");
    assert_eq!(decisions["decisions"]["outline"]["approved"], true);
    assert_eq!(decisions["decisions"]["script"]["approved"], false);
    let (status, one) = send(&seed, Method::GET, url("/gates/outline/decision"), None).await;
    assert_eq!((status, one["by"].as_str()), (200, Some("admin-token")));
    let (status, none) = send(&seed, Method::GET, url("/gates/audio/decision"), None).await;
    assert_eq!(
        (status, none["detail"].as_str()),
        (404, Some("No gate decision found for stage audio"))
    );
    let (_, gates) = send(&seed, Method::GET, url("/gates/status"), None).await;
    assert_eq!(
        (
            gates["job_status"].as_str(),
            gates["total_gates"].as_u64(),
            gates["approved_gates"].as_u64(),
            gates["rejected_gates"].as_u64(),
            gates["pending_gates"].as_u64()
        ),
        (Some("queued"), Some(9), Some(1), Some(1), Some(7)),
        "{gates}"
    );

    // The events poll: the seed's fields, `since` as its ISO timestamp or an event id.
    let (_, all) = send(&seed, Method::GET, url("/events"), None).await;
    let first = &all["events"][0];
    assert_eq!(first["event_type"], "job_created", "{all}");
    assert!(
        first["payload"].is_object() && first.get("metadata").is_none(),
        "{first}"
    );
    let created_at = first["timestamp"].as_str().expect("timestamp").to_owned();
    let since = url(&format!("/events?since={}", urlencode(&created_at)));
    let (status, later) = send(&seed, Method::GET, since, None).await;
    assert_eq!(status, 200, "{later}");
    let kinds: Vec<&str> = later["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event_type"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        ["gate_approved", "gate_rejected"],
        "after the creation: {later}"
    );
    let (status, bad) = send(&seed, Method::GET, url("/events?since=yesterday"), None).await;
    assert_eq!(
        (status, bad["detail"].as_str()),
        (
            400,
            Some("Invalid 'since' timestamp format. Use ISO 8601 format.")
        )
    );

    // A worker arrives: outline (approved ahead) runs, research (optional) passes, script
    // (rejected ahead) holds it paused until a resume.
    let (_, claimed) = send(&seed, Method::POST, url("/claim"), None).await;
    assert_eq!(
        (claimed["status"].as_str(), claimed["stage"].as_str()),
        (Some("running"), Some("outline"))
    );
    let report = json!({ "outcome": "succeeded" });
    let (_, next) = send(
        &seed,
        Method::POST,
        url("/stages/outline/report"),
        Some(report.clone()),
    )
    .await;
    assert_eq!(
        (next["status"].as_str(), next["stage"].as_str()),
        (Some("running"), Some("research"))
    );
    let (_, held) = send(&seed, Method::POST, url("/stages/research/report"), Some(report)).await;
    assert_eq!(
        (held["status"].as_str(), held["stage"].as_str()),
        (Some("paused"), Some("script")),
        "{held}"
    );
    let (status, passed) = send(
        &seed,
        Method::POST,
        url("/approve"),
        Some(action("approved", "outline", "")),
    )
    .await;
    assert_eq!(status, 409, "{passed}");
    let (status, resumed) = send(&seed, Method::POST, url("/resume"), None).await;
    assert_eq!(
        (status, resumed["message"].as_str()),
        (200, Some("Job resumed successfully"))
    );
    let (_, job) = send(&seed, Method::GET, url(""), None).await;
    assert_eq!(
        (job["status"].as_str(), job["stage"].as_str()),
        (Some("running"), Some("script"))
    );

    // The live stream's first message, in the seed's shape.
    let response = seed
        .get(url("/events/stream"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("stream");
    let mut body = response.bytes_stream();
    let chunk = {
        use futures::StreamExt;
        tokio::time::timeout(std::time::Duration::from_secs(30), body.next())
            .await
            .expect("the first message")
            .expect("open")
            .expect("bytes")
    };
    let text = String::from_utf8_lossy(&chunk).into_owned();
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .expect("a data line");
    let connected: Value = serde_json::from_str(data.trim()).expect("JSON");
    assert_eq!(connected["type"], "connected");
    assert_eq!(
        connected["message"],
        format!("Connected to job {id} event stream")
    );
    assert_eq!(connected["payload"]["job_id"], id.as_str());
    assert!(
        connected["ts"].is_string() && connected["stage"].is_null(),
        "{connected}"
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn wrong_json_types_and_oversized_text_are_refused_naming_the_field() {
    use reqwest::Method;
    let app = app().await;
    let seed = bearer_client(ADMIN_TOKEN);
    let long = "x".repeat(2_001);
    for (body, field) in [
        (json!({ "slug": "s", "intent": "i", "brief": "a brief" }), "brief"),
        (
            json!({ "slug": "s", "intent": "i", "brief_config": [1, 2] }),
            "brief_config",
        ),
        (json!({ "slug": "s", "intent": "i", "meta": 5 }), "meta"),
        (json!({ "slug": "s", "intent": long }), "intent"),
        (
            json!({ "slug": "s", "intent": "i", "meta": { "free_text_brief": 7 } }),
            "free_text_brief",
        ),
    ] {
        let (status, answer) = send(&seed, Method::POST, app.url("/api/v1/jobs"), Some(body)).await;
        assert_eq!(status, 422, "{field}: {answer}");
        assert_eq!(
            answer["field"].as_str().map(|f| f.ends_with(field)),
            Some(true),
            "{answer}"
        );
        let loc = answer["detail"][0]["loc"].as_array().expect("FastAPI's loc");
        assert_eq!(loc.last().and_then(Value::as_str), Some(field), "{answer}");
    }
    // Unknown fields are ignored, as the seed's models ignore them.
    let (status, job) = send(
        &seed,
        Method::POST,
        app.url("/api/v1/jobs"),
        Some(json!({ "slug": "s", "intent": "i", "priority": "high" })),
    )
    .await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().expect("id");
    let notes = "n".repeat(10_001);
    let (status, answer) = send(
        &seed,
        Method::POST,
        app.url(&format!("/api/v1/jobs/{id}/reject")),
        Some(action("rejected", "script", &notes)),
    )
    .await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("notes")),
        "{answer}"
    );
}

/// A one-stage pipeline waiting at its `deploy` gate, with brief `{version: "42"}`.
async fn waiting(app: &TestApp, seed: &reqwest::Client) -> String {
    let (_, job) = send(
        seed,
        reqwest::Method::POST,
        app.url("/api/v1/jobs"),
        Some(json!({ "slug": "p", "intent": "i", "stages": ["deploy"], "gates": { "deploy": { "allow_self_approval": true } }, "brief": { "version": "42" } })),
    )
    .await;
    let id = job["id"].as_str().expect("id").to_owned();
    let (_, opened) = send(
        seed,
        reqwest::Method::POST,
        app.url(&format!("/api/v1/jobs/{id}/claim")),
        None,
    )
    .await;
    assert_eq!(opened["status"], "needs_approval");
    id
}

#[tokio::test]
async fn a_patch_that_does_not_apply_on_resume_reopens_the_gate_for_a_new_decision() {
    use reqwest::Method;
    let app = app().await;
    let seed = bearer_client(ADMIN_TOKEN);
    let failing = json!({ "op": "test", "path": "/brief/version", "value": "41" });
    for then in ["approve", "reject"] {
        let id = waiting(&app, &seed).await;
        let url = |path: &str| app.url(&format!("/api/v1/jobs/{id}{path}"));
        let mut reject = action("rejected", "deploy", "");
        reject["patch"] = failing.clone();
        let (status, _) = send(&seed, Method::POST, url("/reject"), Some(reject)).await;
        assert_eq!(status, 200);
        let (status, refused) = send(&seed, Method::POST, url("/resume"), None).await;
        assert_eq!(status, 409, "{refused}");
        assert!(
            refused["detail"]
                .as_str()
                .is_some_and(|d| d.contains("open again")),
            "{refused}"
        );
        let (_, gates) = send(&seed, Method::GET, url("/gates/status"), None).await;
        assert_eq!(gates["job_status"], "paused", "nothing else moved: {gates}");
        assert_eq!(
            gates["gates"][0]["approved"],
            Value::Null,
            "decidable again: {gates}"
        );
        if then == "approve" {
            let (status, _) = send(
                &seed,
                Method::POST,
                url("/approve"),
                Some(action("approved", "deploy", "")),
            )
            .await;
            assert_eq!(status, 200);
            let (_, job) = send(&seed, Method::GET, url(""), None).await;
            assert_eq!(job["status"], "running");
        } else {
            let mut again = action("rejected", "deploy", "use 43");
            again["patch"] = json!({ "op": "replace", "path": "/brief/version", "value": "43" });
            let (status, _) = send(&seed, Method::POST, url("/reject"), Some(again)).await;
            assert_eq!(status, 200);
            let (status, resumed) = send(&seed, Method::POST, url("/resume"), None).await;
            assert_eq!(
                (status, resumed["patches_applied"].as_u64()),
                (200, Some(1)),
                "{resumed}"
            );
            let (_, job) = send(&seed, Method::GET, url(""), None).await;
            assert_eq!(
                (job["status"].as_str(), job["params"]["brief"]["version"].as_str()),
                (Some("running"), Some("43"))
            );
        }
    }
}

#[tokio::test]
async fn a_patch_applies_directly_to_the_parameters_or_is_kept_for_the_stage() {
    use reqwest::Method;
    let app = app().await;
    let seed = bearer_client(ADMIN_TOKEN);
    let id = waiting(&app, &seed).await;
    let url = |path: &str| app.url(&format!("/api/v1/jobs/{id}{path}"));
    let (status, answer) = send(
        &seed,
        Method::POST,
        url("/patches/deploy/apply"),
        Some(json!({ "op": "replace", "path": "/brief/version", "value": "44" })),
    )
    .await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (200, Some("Patch applied successfully to deploy"))
    );
    let typed = json!({ "type": "text_replace", "replacements": [{ "old": "a", "new": "b" }] });
    let (status, _) = send(
        &seed,
        Method::POST,
        url("/patches/deploy/apply"),
        Some(typed.clone()),
    )
    .await;
    assert_eq!(status, 200);
    let (_, job) = send(&seed, Method::GET, url(""), None).await;
    assert_eq!(job["params"]["brief"]["version"], "44");
    assert_eq!(job["params"]["patches"]["deploy"][0], typed);
    let (status, bad) = send(
        &seed,
        Method::POST,
        url("/patches/deploy/apply"),
        Some(json!({ "nope": 1 })),
    )
    .await;
    assert_eq!((status, bad["field"].as_str()), (422, Some("patch")), "{bad}");
    let (status, _) = send(&seed, Method::POST, url("/patches/nowhere/apply"), Some(typed)).await;
    assert_eq!(status, 422);
    let (_, events) = send(&seed, Method::GET, url("/events"), None).await;
    let direct = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event_type"] == "patch_applied_direct")
        .count();
    assert_eq!(direct, 2, "{events}");
}

#[tokio::test]
async fn the_default_request_limit_lets_a_worker_and_the_console_run_and_it_can_be_off() {
    use reqwest::Method;
    // The defaults, as shipped.
    let (mut config, file) = test_config().await;
    config.auth.admin_token = Some(ADMIN_TOKEN.into());
    let app = spawn_app_with(config, file).await;
    let seed = bearer_client(ADMIN_TOKEN);
    // A worker takes a job through the seed's nine stages as fast as it can, approving its
    // required gates with a user account, while the console polls events and gates after
    // every step: all in a burst, far faster than a real loop.
    let ada = app.create_user("ada", app::identity::Role::Admin, None).await;
    let ada = app.client_for(&ada).await;
    let mut requests = 0;
    let mut statuses = Vec::new();
    let (status, job) = send(
        &seed,
        Method::POST,
        app.url("/api/v1/jobs"),
        Some(json!({ "slug": "w", "intent": "i" })),
    )
    .await;
    statuses.push(status);
    let id = job["id"].as_str().expect("id").to_owned();
    let url = |path: &str| app.url(&format!("/api/v1/jobs/{id}{path}"));
    let (status, mut job) = send(&seed, Method::POST, url("/claim"), None).await;
    statuses.push(status);
    requests += 2;
    while job["status"] != "completed" {
        let stage = job["stage"].as_str().expect("stage").to_owned();
        if job["status"] == "needs_approval" {
            let (status, _) = send(
                &ada,
                Method::POST,
                url("/approve"),
                Some(action("approved", &stage, "")),
            )
            .await;
            statuses.push(status);
        } else {
            let (status, next) = send(
                &seed,
                Method::POST,
                url(&format!("/stages/{stage}/report")),
                Some(json!({ "outcome": "succeeded" })),
            )
            .await;
            statuses.push(status);
            job = next;
        }
        for poll in ["/events", "/gates/status"] {
            let (status, _) = send(&seed, Method::GET, url(poll), None).await;
            statuses.push(status);
        }
        if job["status"] != "completed" {
            let (status, fresh) = send(&seed, Method::GET, url(""), None).await;
            statuses.push(status);
            job = fresh;
        }
        requests += 4;
        assert!(requests < 200, "the loop ends: {job}");
    }
    assert!(requests > 40, "a real loop: {requests} requests");
    assert!(statuses.iter().all(|s| *s < 300), "never throttled: {statuses:?}");

    // Off: a limit of one a minute that is not enforced.
    let (mut config, file) = test_config().await;
    config.auth.admin_token = Some(ADMIN_TOKEN.into());
    config.pipelines.rate_limit.enabled = false;
    config.pipelines.rate_limit.requests_per_minute = 1;
    config.pipelines.rate_limit.burst = 1;
    config.pipelines.rate_limit.jobs_per_minute = 1;
    let app = spawn_app_with(config, file).await;
    for n in 0..8 {
        let (status, _) = send(
            &seed,
            Method::POST,
            app.url("/api/v1/jobs"),
            Some(json!({ "slug": "w", "intent": "i" })),
        )
        .await;
        assert_eq!(status, 201, "creation {n}");
    }
}

/// The job list reads every job's gates and artifacts at once: each job still gets its own.
#[tokio::test]
async fn the_job_list_gives_each_job_its_own_gates_and_artifacts() {
    use reqwest::Method;
    let app = app().await;
    let seed = bearer_client(ADMIN_TOKEN);
    let mut ids = Vec::new();
    for (slug, stages, gates) in [
        ("one", json!(["build"]), json!({})),
        ("two", json!(["build", "ship"]), json!({ "ship": {} })),
        (
            "three",
            json!(["a", "b", "c"]),
            json!({ "b": { "approvals_needed": 2 }, "c": {} }),
        ),
    ] {
        let (status, job) = send(
            &seed,
            Method::POST,
            app.url("/api/v1/jobs"),
            Some(json!({ "slug": slug, "intent": "i", "stages": stages, "gates": gates })),
        )
        .await;
        assert_eq!(status, 201, "{job}");
        ids.push(job["id"].as_str().expect("id").to_owned());
    }
    // Only "two" produces something.
    let url = |path: &str| app.url(&format!("/api/v1/jobs/{}{path}", ids[1]));
    send(&seed, Method::POST, url("/claim"), None).await;
    let (status, _) = send(
        &seed,
        Method::POST,
        url("/stages/build/report"),
        Some(json!({ "outcome": "succeeded", "artifacts": [{ "name": "image", "uri": "registry.example.com/two:1" }] })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, listed) = send(&seed, Method::GET, app.url("/api/v1/jobs"), None).await;
    let listed = listed.as_array().expect("jobs");
    for ((id, artifacts), gates) in ids.iter().zip([0, 1, 0]).zip([0, 1, 2]) {
        let job = listed.iter().find(|j| j["id"] == id.as_str()).expect("listed");
        assert_eq!(job["gates"].as_array().map(Vec::len), Some(gates), "{job}");
        let alone = send(&seed, Method::GET, app.url(&format!("/api/v1/jobs/{id}")), None)
            .await
            .1;
        assert_eq!(
            job["gates"], alone["gates"],
            "{id}: the list's gates are the job's own"
        );
        assert_eq!(
            job["artifacts"].as_array().map(Vec::len),
            Some(artifacts),
            "{job}"
        );
    }
}
