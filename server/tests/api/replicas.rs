//! Three replicas over one PostgreSQL database, as the Helm chart runs them: nothing one replica
//! needs lives only in another's memory. The sign-in backoff holds across them, a due gate
//! timer fires once, an event reaches the live streams on all three, pipeline creation limits
//! are shared, and a replica killed mid-way loses nothing. On SQLite — the single-replica
//! default — the second start on the same file is refused, saying so, and each test goes on
//! with its one replica (the same assertions, none of them skipped).

use std::time::Duration;

use app::db::testing::TempDbFile;
use app::identity::Role;
use futures::StreamExt;
use heimdall::config::Config;
use serde_json::json;

use crate::helpers::{TestApp, new_client, sign_in, spawn_app_with};
use crate::pipelines::support::{approvals, open_gate, relaxed_config, timed_gate};

/// `n` replicas on `config`'s database on PostgreSQL. On SQLite, checks that a second replica on
/// the same file is refused with the reason and returns the one.
async fn replicas(config: Config, file: TempDbFile, n: usize) -> Vec<TestApp> {
    let first = spawn_app_with(config.clone(), file).await;
    if matches!(first.state.db, app::db::Database::Sqlite(_)) {
        let refused = heimdall::startup::Application::build_with_listener(
            &config,
            tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        )
        .await
        .err()
        .expect("a second server on one SQLite file is refused");
        let message = format!("{refused:#}");
        assert!(
            message.contains("already served by another Heimdall"),
            "{message}"
        );
        assert!(
            message.contains("PostgreSQL"),
            "it says what to do instead: {message}"
        );
        return vec![first];
    }
    let mut all = vec![first];
    for _ in 1..n {
        all.push(spawn_app_with(config.clone(), TempDbFile::default()).await);
    }
    all
}

/// A password sign-in of `username` on `app`: its status.
async fn sign_in_status(app: &TestApp, username: &str, password: &str) -> u16 {
    sign_in(&new_client(), &app.url("/auth/cookie/login"), username, password)
        .await
        .status()
        .as_u16()
}

/// Reads `stream` until `needle` has arrived (one deadline for the whole wait); the text read.
async fn read_until(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    needle: &str,
) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !text.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("{needle} within 20 s; got {text}"))
            .expect("open")
            .expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

/// The live event stream of pipeline `id` on `app`, opened after the events so far.
async fn stream(
    app: &TestApp,
    client: &reqwest::Client,
    id: &str,
) -> impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + use<> {
    let events = app
        .state
        .pipelines
        .store()
        .events(id, 0, 1000)
        .await
        .expect("events");
    let after = events.last().map_or(0, |e| e.id);
    let response = client
        .get(app.url(&format!("/api/v1/jobs/{id}/events/stream?since={after}")))
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    read_until(&mut body, "connected").await;
    body
}

#[tokio::test]
async fn the_sign_in_backoff_holds_across_replicas() {
    let (config, file) = relaxed_config().await;
    let apps = replicas(config, file, 3).await;
    let dana = apps[0].create_user("dana", Role::Developer, None).await;
    // Five wrong passwords, each on the next replica.
    for attempt in 0..5 {
        let app = &apps[attempt % apps.len()];
        assert_eq!(
            sign_in_status(app, "dana", "wrong-password").await,
            400,
            "attempt {attempt} is only wrong"
        );
    }
    // The sixth is refused on every replica, even with the right password.
    for app in &apps {
        assert_eq!(
            sign_in_status(app, &dana.username, &dana.password).await,
            429,
            "refused on {}",
            app.addr
        );
    }
    // An administrator on another replica sees the lock and lifts it; every replica lets dana in.
    let admin = &apps[apps.len() - 1];
    let ada = admin.create_user("ada", Role::Admin, None).await;
    let ada = admin.client_for(&ada).await;
    let users: serde_json::Value =
        crate::helpers::call_server_fn(&ada, &admin.url("/_srv/list_users"), "query=dana")
            .await
            .json()
            .await
            .expect("JSON");
    assert!(
        users[0]["locked_for_secs"].as_u64().is_some_and(|s| s >= 1),
        "{users}"
    );
    let unlocked =
        crate::helpers::call_server_fn(&ada, &admin.url("/_srv/unlock_user"), &format!("id={}", dana.id))
            .await;
    assert_eq!(unlocked.status(), 200);
    for app in &apps {
        assert_eq!(
            sign_in_status(app, &dana.username, &dana.password).await,
            204,
            "lifted on {}",
            app.addr
        );
    }
}

#[tokio::test]
async fn a_decision_reaches_the_streams_on_every_replica_and_a_due_timer_fires_once() {
    let (config, file) = relaxed_config().await;
    let apps = replicas(config, file, 3).await;
    let arno = apps[0].create_user("arno", Role::Developer, Some("alpha")).await;
    let (id, rita, rita_on_first) = timed_gate(&apps[0], 600).await;

    // A person's decision on the first replica: every replica's stream has it, once.
    let mut streams = Vec::new();
    for app in &apps {
        let client = app.client_for(&rita).await;
        streams.push(stream(app, &client, &id).await);
    }
    let arno_client = apps[0].client_for(&arno).await;
    let decided = arno_client
        .post(apps[0].url(&format!("/api/v1/jobs/{id}/approve")))
        .json(&json!({ "decision": "approved", "stage": "deploy", "operator": "arno" }))
        .send()
        .await
        .expect("approve");
    assert_eq!(decided.status(), 200);
    for (i, s) in streams.iter_mut().enumerate() {
        let text = read_until(s, "\"gate_approved\"").await;
        assert_eq!(
            text.matches("\"gate_approved\"").count(),
            1,
            "replica {i}: {text}"
        );
    }

    // A timer due in 2 s, known to every replica from the database: it fires once.
    let timed = open_gate(
        &apps[0],
        &rita_on_first,
        json!({ "auto_approve_after_s": 2, "timeout_action": "approve" }),
    )
    .await;
    let mut watchers = Vec::new();
    for app in &apps {
        let client = app.client_for(&rita).await;
        watchers.push(stream(app, &client, &timed).await);
    }
    for s in &mut watchers {
        read_until(s, "\"gate_approved\"").await;
    }
    // Every replica had the timer; give the slower ones their chance to (wrongly) fire again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(approvals(&apps[0], &timed).await, 1, "one decision, one event");
    let gate = apps[0]
        .state
        .pipelines
        .store()
        .gate(&timed, "deploy")
        .await
        .expect("read")
        .expect("gate");
    assert!(gate.decision().is_some_and(|d| d.automatic && d.by == "timer"));
}

#[tokio::test]
async fn the_creation_limit_is_one_budget_across_replicas() {
    let (config, file) = relaxed_config().await;
    let per_minute = config.pipelines.rate_limit.jobs_per_minute;
    let apps = replicas(config, file, 3).await;
    let rita = apps[0].create_user("rita", Role::Developer, Some("alpha")).await;
    let clients = futures::future::join_all(apps.iter().map(|a| a.client_for(&rita))).await;
    let create = |i: usize| {
        let (app, client) = (&apps[i % apps.len()], &clients[i % apps.len()]);
        client
            .post(app.url("/api/v1/jobs"))
            .json(&json!({ "slug": format!("p{i}"), "intent": "i" }))
            .send()
    };
    for i in 0..per_minute as usize {
        assert_eq!(create(i).await.expect("create").status(), 201, "creation {i}");
    }
    // Over the minute's budget, whichever replica is asked.
    for i in 0..apps.len() {
        let refused = create(i).await.expect("create");
        assert_eq!(refused.status(), 429, "replica {i}");
        assert!(refused.headers().contains_key("retry-after"));
    }
}

#[tokio::test]
async fn a_replica_killed_mid_way_loses_nothing() {
    let (config, file) = relaxed_config().await;
    let mut apps = replicas(config.clone(), file, 3).await;
    let rita_user = apps[0].create_user("rita", Role::Developer, Some("alpha")).await;
    let dana = apps[0].create_user("dana", Role::Developer, None).await;
    let rita = apps[0].client_for(&rita_user).await;
    // Mid-way: a gate open with its timer pending, and sign-in failures counted, on the replica
    // about to die.
    let id = open_gate(
        &apps[0],
        &rita,
        json!({ "auto_approve_after_s": 3, "timeout_action": "approve" }),
    )
    .await;
    for _ in 0..5 {
        assert_eq!(sign_in_status(&apps[0], "dana", "wrong-password").await, 400);
    }
    // Killed: no graceful shutdown, its tasks stop where they are.
    let mut dead = apps.remove(0);
    dead.state.pipelines.store().bus().close();
    let task = dead.handle.take().expect("server task");
    task.abort();
    let _ = task.await;
    // On SQLite, the replacement is a restart of the one process.
    if apps.is_empty() {
        apps.push(spawn_app_with(config, TempDbFile::default()).await);
    }
    let survivor = &apps[apps.len() - 1];
    // The timer the dead replica was waiting on fires on a survivor, once; the stream replays
    // from the start, so it is heard whenever it fired.
    let client = survivor.client_for(&rita_user).await;
    let response = client
        .get(survivor.url(&format!("/api/v1/jobs/{id}/events/stream?since=0")))
        .send()
        .await
        .expect("stream");
    let mut body = response.bytes_stream();
    let text = read_until(&mut body, "\"gate_approved\"").await;
    assert!(
        text.contains("\"gate_opened\""),
        "the gate opened on the dead replica is there: {text}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(approvals(survivor, &id).await, 1, "fired once");
    // The failures counted on the dead replica hold: dana is locked on every survivor.
    for app in &apps {
        assert_eq!(
            sign_in_status(app, &dana.username, &dana.password).await,
            429,
            "the dead replica's count holds on {}",
            app.addr
        );
    }
    drop(dead);
}

#[tokio::test]
async fn a_bearer_token_from_one_replica_works_on_every_replica() {
    let (mut config, file) = relaxed_config().await;
    // The chart's Secret carries it: every replica signs and checks with the same key.
    config.auth.session_secret_key = Some("a-shared-signing-key-of-more-than-32-bytes".to_owned().into());
    let apps = replicas(config, file, 3).await;
    let rita = apps[0].create_user("rita", Role::Developer, None).await;
    let login = new_client()
        .post(apps[0].url("/auth/jwt/login"))
        .form(&[
            ("username", rita.username.as_str()),
            ("password", rita.password.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let body: serde_json::Value = login.json().await.expect("JSON");
    let token = body["access_token"].as_str().expect("a token").to_owned();
    for app in &apps {
        let me = new_client()
            .get(app.url("/users/me"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status(), 200, "accepted on {}", app.addr);
    }
}
