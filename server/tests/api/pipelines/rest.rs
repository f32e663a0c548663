//! The seed's jobs API end to end over HTTP (the store's race tests are in
//! `app/tests/pipelines/`).

use app::identity::Role;
use serde_json::{Value, json};

use super::support::relaxed_config;
use crate::helpers::{TestApp, bare_client, send, spawn_app_with, test_config};

const ADMIN_TOKEN: &str = "seed-admin-token-for-tests";

async fn app() -> TestApp {
    super::support::with_admin_token(ADMIN_TOKEN).await
}

fn gate_action(decision: &str, notes: Option<&str>) -> Value {
    json!({ "decision": decision, "stage": "deploy", "notes": notes, "operator": "someone", "patch": null })
}

#[tokio::test]
async fn the_seeds_client_creates_a_job_with_the_admin_token_in_the_seeds_shape() {
    let app = app().await;
    let seed = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {ADMIN_TOKEN}").parse().expect("header"),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .expect("client");
    let (status, created) = send(
        &seed,
        reqwest::Method::POST,
        app.url("/api/v1/jobs"),
        Some(
            json!({ "slug": "episode-7", "intent": "narrative_history", "meta": { "free_text_brief": "x" } }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "queued");
    assert_eq!(created["stage"], "outline");
    assert_eq!(created["operator"], "admin-token");
    let gates: Vec<&str> = created["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .map(|g| g["stage"].as_str().expect("stage"))
        .collect();
    // The seed's conf/operator.yaml: a gate at every stage, four of them required.
    assert_eq!(
        gates,
        [
            "acceptance",
            "animatics",
            "assemble",
            "assets",
            "audio",
            "outline",
            "research",
            "script",
            "storyboard"
        ]
    );
    let required: Vec<&str> = created["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .filter(|g| g["required"] == true)
        .map(|g| g["stage"].as_str().expect("stage"))
        .collect();
    assert_eq!(required, ["assets", "audio", "script", "storyboard"]);
    assert!(created["gates"][0]["approved"].is_null());
    let id = created["id"].as_str().expect("id");
    let (status, listed) = send(&seed, reqwest::Method::GET, app.url("/api/v1/jobs"), None).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["id"], id);
    let (status, events) = send(
        &seed,
        reqwest::Method::GET,
        app.url(&format!("/api/v1/jobs/{id}/events?since=0&limit=10")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(events["events"][0]["event_type"], "job_created");
    assert_eq!(events["has_more"], false);
    let (status, config) = send(
        &seed,
        reqwest::Method::GET,
        app.url("/api/v1/config/operator"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(config["pipeline"]["stages"][0], "outline");
    assert_eq!(config["gates"]["script"]["approvals_needed"], 1);
    assert!(
        !config.to_string().contains(ADMIN_TOKEN),
        "never the token itself"
    );
    // Anonymous callers are refused; an unknown job is the seed's 404 with `detail`.
    let (status, _) = send(
        &bare_client(),
        reqwest::Method::GET,
        app.url("/api/v1/jobs"),
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, missing) = send(&seed, reqwest::Method::GET, app.url("/api/v1/jobs/nope"), None).await;
    assert_eq!(status, 404);
    assert!(
        missing["detail"]
            .as_str()
            .is_some_and(|d| d == "Job nope not found"),
        "{missing}"
    );
}

#[tokio::test]
async fn a_worker_brings_a_pipeline_to_its_gate_one_person_decides_and_the_second_hears_who() {
    let app = app().await;
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let arno = app.create_user("arno", Role::Developer, Some("alpha")).await;
    let ada = app.create_user("ada", Role::Admin, None).await;
    let (rita, arno, ada) = (
        app.client_for(&rita).await,
        app.client_for(&arno).await,
        app.client_for(&ada).await,
    );
    let (status, created) = send(
        &rita,
        reqwest::Method::POST,
        app.url("/api/v1/jobs"),
        Some(
            json!({ "slug": "release-42", "intent": "ship", "stages": ["build", "deploy"],
                     "gates": { "deploy": { "required": true } }, "brief": { "version": "42" } }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let url = |path: &str| app.url(&format!("/api/v1/jobs/{id}{path}"));
    let (status, claimed) = send(&rita, reqwest::Method::POST, url("/claim"), None).await;
    assert_eq!(
        (status, claimed["status"].as_str(), claimed["stage"].as_str()),
        (200, Some("running"), Some("build"))
    );
    let (status, at_gate) = send(
        &rita,
        reqwest::Method::POST,
        url("/stages/build/report"),
        Some(json!({ "outcome": "succeeded", "artifacts": [{ "name": "image", "uri": "registry.example.com/app:42" }] })),
    )
    .await;
    assert_eq!(
        (status, at_gate["status"].as_str()),
        (200, Some("needs_approval")),
        "{at_gate}"
    );
    assert_eq!(at_gate["artifacts"][0]["path"], "registry.example.com/app:42");

    // It waits for Arno and Ada, not for Rita, who asked for it.
    let waiting = |client: reqwest::Client| {
        let url = app.url("/api/v1/jobs?waiting_for=me");
        async move {
            send(&client, reqwest::Method::GET, url, None)
                .await
                .1
                .as_array()
                .expect("list")
                .len()
        }
    };
    assert_eq!(
        (
            waiting(arno.clone()).await,
            waiting(ada.clone()).await,
            waiting(rita.clone()).await
        ),
        (1, 1, 0)
    );
    // Rita may not approve her own; Arno and Ada try at once: one wins.
    let (status, own) = send(
        &rita,
        reqwest::Method::POST,
        url("/approve"),
        Some(gate_action("approved", None)),
    )
    .await;
    assert_eq!(status, 403, "{own}");
    let (a, b) = tokio::join!(
        send(
            &arno,
            reqwest::Method::POST,
            url("/approve"),
            Some(gate_action("approved", None))
        ),
        send(
            &ada,
            reqwest::Method::POST,
            url("/approve"),
            Some(gate_action("approved", None))
        ),
    );
    let (winner, loser) = match (a.0, b.0) {
        (200, 409) => ("arno", b.1),
        (409, 200) => ("ada", a.1),
        other => panic!("exactly one decision: {other:?} {a:?} {b:?}"),
    };
    let detail = loser["detail"].as_str().expect("detail");
    assert!(
        detail.contains(&format!("already decided by {winner} at ")),
        "{detail}"
    );
    let (status, decision) = send(&rita, reqwest::Method::GET, url("/gates/deploy/decision"), None).await;
    assert_eq!(
        (status, decision["approved"].as_bool(), decision["by"].as_str()),
        (200, Some(true), Some(winner))
    );
    let (_, gates) = send(&rita, reqwest::Method::GET, url("/gates/status"), None).await;
    assert_eq!(gates["status"], "running");
    assert_eq!(waiting(arno.clone()).await, 0, "decided: it waits for nobody");
    let (status, done) = send(
        &rita,
        reqwest::Method::POST,
        url("/stages/deploy/report"),
        Some(json!({ "outcome": "succeeded" })),
    )
    .await;
    assert_eq!((status, done["status"].as_str()), (200, Some("completed")));
    let (status, ended) = send(&rita, reqwest::Method::POST, url("/cancel"), None).await;
    assert_eq!(status, 409, "an ended pipeline stays ended: {ended}");
    assert!(
        ended["detail"]
            .as_str()
            .is_some_and(|d| d.contains("it has ended")),
        "{ended}"
    );
}

#[tokio::test]
async fn a_rejection_needs_notes_where_the_gate_says_so_pauses_and_resume_applies_its_patch() {
    let app = app().await;
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let arno = app.create_user("arno", Role::Developer, Some("alpha")).await;
    let (rita, arno) = (app.client_for(&rita).await, app.client_for(&arno).await);
    let (_, created) = send(
        &rita,
        reqwest::Method::POST,
        app.url("/api/v1/jobs"),
        Some(json!({ "slug": "r", "intent": "i", "stages": ["deploy"], "gates": { "deploy": { "notes_required": true } }, "brief": { "version": "42" } })),
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let url = |path: &str| app.url(&format!("/api/v1/jobs/{id}{path}"));
    let (_, opened) = send(&rita, reqwest::Method::POST, url("/claim"), None).await;
    assert_eq!(
        opened["status"], "needs_approval",
        "a gate on the first stage opens at the claim"
    );
    for (body, field) in [
        (
            json!({ "decision": "rejected", "stage": "deploy", "operator": "x" }),
            "notes",
        ),
        (
            json!({ "decision": "rejected", "stage": "deploy", "notes": "no" }),
            "operator",
        ),
        (
            json!({ "decision": "maybe", "stage": "deploy", "operator": "x", "notes": "no" }),
            "decision",
        ),
        (
            json!({ "decision": "rejected", "stage": "deploy", "operator": "x", "notes": "no", "patch": { "nope": 1 } }),
            "patch",
        ),
    ] {
        let (status, answer) = send(&arno, reqwest::Method::POST, url("/reject"), Some(body)).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer.to_string().contains(field), "names {field}: {answer}");
    }
    let reject = json!({ "decision": "rejected", "stage": "deploy", "operator": "arno", "notes": "wrong version",
                         "patch": { "op": "replace", "path": "/brief/version", "value": "43" } });
    let (status, answer) = send(&arno, reqwest::Method::POST, url("/reject"), Some(reject)).await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (200, Some("Gate deploy rejected successfully"))
    );
    let (status, resumed) = send(&rita, reqwest::Method::POST, url("/resume"), None).await;
    assert_eq!(
        (status, resumed["patches_applied"].as_i64()),
        (200, Some(1)),
        "{resumed}"
    );
    let (_, job) = send(&rita, reqwest::Method::GET, url(""), None).await;
    assert_eq!(
        (job["status"].as_str(), job["params"]["brief"]["version"].as_str()),
        (Some("running"), Some("43"))
    );
    let (_, events) = send(&rita, reqwest::Method::GET, url("/events?since=0&limit=2"), None).await;
    assert_eq!(
        (events["total"].as_i64(), events["has_more"].as_bool()),
        (Some(2), Some(true))
    );
    let after = events["last_event_id"].as_i64().expect("id");
    let (_, rest) = send(
        &rita,
        reqwest::Method::GET,
        url(&format!("/events?since={after}")),
        None,
    )
    .await;
    let kinds: Vec<&str> = rest["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event_type"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["gate_rejected", "job_resumed"]);
}

/// An open SSE response, read block by block.
struct Sse {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Sse {
    async fn open(client: &reqwest::Client, url: String, last_event_id: Option<i64>) -> Self {
        let mut request = client.get(url).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.expect("stream");
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/event-stream")
        );
        Self {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event block (comments skipped), as its lines; within 15 s (heartbeats do not
    /// count).
    async fn next(&mut self) -> Vec<String> {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let lines: Vec<String> = block
                    .lines()
                    .filter(|l| !l.starts_with(':'))
                    .map(str::to_owned)
                    .collect();
                if !lines.is_empty() {
                    return lines;
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .expect("an event within 15 s")
                .expect("open")
                .expect("bytes");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The data of the next event, and its id (the seed's 5 s heartbeats skipped).
    async fn data(&mut self) -> (Option<i64>, Value) {
        loop {
            let lines = self.next().await;
            let field = |name: &str| {
                lines
                    .iter()
                    .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
            };
            let id = field("id:").map(|v| v.parse().expect("numeric id"));
            let data: Value = serde_json::from_str(&field("data:").expect("data")).expect("JSON data");
            if data["type"] == "heartbeat" {
                assert_eq!((id, data["message"].as_str()), (None, Some("Server alive")));
                continue;
            }
            return (id, data);
        }
    }
}

#[tokio::test]
async fn the_event_stream_delivers_each_event_live_once_and_replays_after_last_event_id() {
    let app = app().await;
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let arno = app.create_user("arno", Role::Developer, Some("alpha")).await;
    let (rita, arno) = (app.client_for(&rita).await, app.client_for(&arno).await);
    let (_, created) = send(
        &rita,
        reqwest::Method::POST,
        app.url("/api/v1/jobs"),
        Some(json!({ "slug": "s", "intent": "i", "stages": ["build", "deploy"], "gates": { "deploy": {} } })),
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let url = |path: &str| app.url(&format!("/api/v1/jobs/{id}{path}"));
    let mut live = Sse::open(&arno, url("/events/stream"), None).await;
    assert_eq!(live.data().await.1["type"], "connected");
    let (first_id, created_event) = live.data().await;
    assert_eq!(created_event["type"], "job_created", "the history first");
    send(&rita, reqwest::Method::POST, url("/claim"), None).await;
    send(
        &rita,
        reqwest::Method::POST,
        url("/stages/build/report"),
        Some(json!({ "outcome": "succeeded" })),
    )
    .await;
    let (_, started) = live.data().await;
    let (opened_id, opened) = live.data().await;
    assert_eq!(
        (started["type"].as_str(), opened["type"].as_str()),
        (Some("stage_started"), Some("gate_opened"))
    );
    assert!(opened_id > first_id);
    // The decision reaches the open stream.
    send(
        &arno,
        reqwest::Method::POST,
        url("/approve"),
        Some(gate_action("approved", None)),
    )
    .await;
    let (_, approved) = live.data().await;
    assert_eq!(
        (approved["type"].as_str(), approved["payload"]["by"].as_str()),
        (Some("gate_approved"), Some("arno"))
    );
    // A reconnect with Last-Event-ID gets what came after, and nothing twice.
    let mut again = Sse::open(&rita, url("/events/stream?events=typed"), opened_id).await;
    let connected = again.next().await;
    assert!(
        connected.contains(&"event: connected".to_owned()),
        "{connected:?}"
    );
    let replayed = loop {
        let block = again.next().await;
        if !block.contains(&"event: heartbeat".to_owned()) {
            break block;
        }
    };
    assert!(
        replayed.contains(&"event: gate_approved".to_owned()),
        "{replayed:?}"
    );
    // Another tenant cannot listen.
    let otto = app.create_user("otto", Role::Developer, Some("beta")).await;
    let refused = app
        .client_for(&otto)
        .await
        .get(url("/events/stream"))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 404);
}

#[tokio::test]
async fn the_sixth_job_in_a_minute_is_refused_with_retry_after_and_the_general_limit_holds() {
    let (mut config, file) = test_config().await;
    config.pipelines.rate_limit.requests_per_minute = 600;
    config.pipelines.rate_limit.burst = 20;
    let app = spawn_app_with(config, file).await;
    let rita = app.create_user("rita", Role::Developer, Some("alpha")).await;
    let rita = app.client_for(&rita).await;
    let create = || {
        rita.post(app.url("/api/v1/jobs"))
            .json(&json!({ "slug": "s", "intent": "i" }))
            .send()
    };
    for n in 1..=5 {
        assert_eq!(
            create().await.expect("request").status(),
            201,
            "creation {n} of the seed's 5 a minute"
        );
    }
    let refused = create().await.expect("request");
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(
        body["detail"],
        "Job creation rate limit exceeded. Please wait before creating another job."
    );
    // Another person keeps their own budget.
    let arno = app.create_user("arno", Role::Developer, Some("alpha")).await;
    let arno = app.client_for(&arno).await;
    let other = arno
        .post(app.url("/api/v1/jobs"))
        .json(&json!({ "slug": "s", "intent": "i" }))
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), 201);

    // The general limit: a small one, so the test sees it.
    let (mut config, file) = test_config().await;
    config.pipelines.rate_limit.requests_per_minute = 3;
    config.pipelines.rate_limit.burst = 3;
    let app = spawn_app_with(config, file).await;
    let statuses: Vec<u16> =
        futures::future::join_all((0..5).map(|_| bare_client().get(app.url("/api/v1/jobs")).send()))
            .await
            .into_iter()
            .map(|r| r.expect("request").status().as_u16())
            .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 3, "{statuses:?}");
}

#[tokio::test]
async fn cors_lets_the_configured_origin_call_with_a_bearer_token_and_nobody_else() {
    const UI: &str = "https://ui.example.com";
    let (mut config, file) = relaxed_config().await;
    config.auth.admin_token = Some(ADMIN_TOKEN.into());
    config.server.cors.allow_origins = vec![UI.into()];
    let app = spawn_app_with(config, file).await;
    let client = bare_client();
    let allow_origin = |r: &reqwest::Response| {
        r.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };

    // The preflight of the UI's create: granted, with what it may send.
    let preflight = client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/jobs"))
        .header("origin", UI)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(allow_origin(&preflight).as_deref(), Some(UI));
    let headers = preflight
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(headers.contains("authorization"), "{headers}");

    // The call itself, with the bearer token: created, readable by the UI.
    let created = client
        .post(app.url("/api/v1/jobs"))
        .header("origin", UI)
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "slug": "from-the-ui", "intent": "i" }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    assert_eq!(allow_origin(&created).as_deref(), Some(UI));

    // Another origin: no grant, and its change is refused as cross-site.
    let other = client
        .post(app.url("/api/v1/jobs"))
        .header("origin", "https://evil.example.com")
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "slug": "from-elsewhere", "intent": "i" }))
        .send()
        .await
        .expect("create");
    assert_eq!(other.status(), 403);
    assert_eq!(allow_origin(&other), None);

    // The session cookie never crosses origins, even from the configured one.
    let ada = app.create_user("ada", Role::Admin, None).await;
    let browser = app.client_for(&ada).await;
    let with_cookie = browser
        .post(app.url("/api/v1/jobs"))
        .header("origin", UI)
        .json(&json!({ "slug": "cookie", "intent": "i" }))
        .send()
        .await
        .expect("create");
    assert_eq!(with_cookie.status(), 403);
    let (_, listed) = send(&browser, reqwest::Method::GET, app.url("/api/v1/jobs"), None).await;
    let slugs: Vec<&str> = listed
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["slug"].as_str())
        .collect();
    assert_eq!(slugs, ["from-the-ui"], "only the granted call created anything");
}

#[tokio::test]
async fn with_cors_off_no_origin_is_granted_and_the_older_key_still_applies() {
    let (mut config, file) = relaxed_config().await;
    config.server.cors.enabled = false;
    let app = spawn_app_with(config, file).await;
    let preflight = bare_client()
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/jobs"))
        .header("origin", "https://ui.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(
        preflight.headers().get("access-control-allow-origin").is_none(),
        "{:?}",
        preflight.headers()
    );
    // `pipelines.cors`, the older name, still decides when a configuration sets it.
    let (mut config, file) = relaxed_config().await;
    config.pipelines.cors = Some(app::request::Cors {
        allow_origins: vec!["https://old.example.com".into()],
        ..Default::default()
    });
    let app = spawn_app_with(config, file).await;
    for (origin, granted) in [
        ("https://old.example.com", true),
        ("https://ui.example.com", false),
    ] {
        let preflight = bare_client()
            .request(reqwest::Method::OPTIONS, app.url("/services"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .expect("preflight");
        assert_eq!(
            preflight.headers().get("access-control-allow-origin").is_some(),
            granted,
            "{origin}"
        );
    }
}

/// The default: any origin's page may call every REST section with a bearer token (the IDP
/// portal's any-origin middleware), and get one from `/auth/login`; the cookie never crosses.
#[tokio::test]
async fn by_default_any_origin_calls_with_a_bearer_token_and_never_with_the_cookie() {
    const UI: &str = "https://idp-ui.example.com";
    let (config, file) = relaxed_config().await;
    let app = spawn_app_with(config, file).await;
    let ada = app.create_user("ada", Role::Admin, None).await;
    for path in [
        "/auth/login",
        "/services",
        "/api/v1/jobs",
        "/v1/offline-token",
        "/users/me",
    ] {
        let preflight = bare_client()
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", UI)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
            .await
            .expect("preflight");
        assert!(preflight.status().is_success(), "{path}: {}", preflight.status());
        assert_eq!(preflight.headers()["access-control-allow-origin"], "*", "{path}");
        assert!(
            preflight
                .headers()
                .get("access-control-allow-credentials")
                .is_none(),
            "never credentials: {path}"
        );
    }
    // The IDP page's login, from its own origin: a token, no cookie.
    let login = bare_client()
        .post(app.url("/auth/login"))
        .header("origin", UI)
        .json(&json!({ "username": ada.username, "password": ada.password }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    assert!(login.headers().get("set-cookie").is_none());
    let token = login.json::<Value>().await.expect("JSON")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let created = bare_client()
        .post(app.url("/services"))
        .header("origin", UI)
        .bearer_auth(&token)
        .json(
            &json!({ "name": "from-the-ui", "repo_url": "https://git.example.com/x", "owner_team": "T",
                       "runtime": "go", "tier": "t1", "environments": ["dev"], "tenant": "ui-team" }),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    // A sign-in that would set a cookie, from another site: refused (login CSRF).
    let cookie_login = bare_client()
        .post(app.url("/auth/cookie/login"))
        .header("origin", UI)
        .form(&[
            ("username", ada.username.as_str()),
            ("password", ada.password.as_str()),
        ])
        .send()
        .await
        .expect("cookie login");
    assert_eq!(cookie_login.status(), 403);
    assert!(cookie_login.headers().get("set-cookie").is_none());
    // A change riding on the cookie, from another site: refused — also when the browser adds
    // cached Basic credentials (a proxy's) of its own accord.
    let browser = app.client_for(&ada).await;
    for basic in [None, Some("Basic YWRhOnNlY3JldA==")] {
        let mut request = browser
            .post(app.url("/api/v1/jobs"))
            .header("origin", UI)
            .json(&json!({ "slug": "cookie", "intent": "i" }));
        if let Some(basic) = basic {
            request = request.header("authorization", basic);
        }
        let with_cookie = request.send().await.expect("create");
        assert_eq!(with_cookie.status(), 403, "{basic:?}");
    }
}
