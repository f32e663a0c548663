//! The home page's counts (`get_home`) and their live feed (`/api/home/events`): each person
//! sees what waits for them and what they asked for, nothing of a tenant they are not in, and
//! the feed sends new counts when a change moves them.

use app::identity::Role;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{TestApp, call_server_fn, spawn_app_with};
use crate::pipelines::support::relaxed_config;

async fn home(app: &TestApp, client: &reqwest::Client) -> Value {
    let response = call_server_fn(client, &app.url("/_srv/get_home"), "").await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

/// The count of the tile `key`, and where it leads; `None` when the page has no such tile.
fn tile(home: &Value, key: &str) -> Option<(u64, String)> {
    ["needs_you", "broken"].iter().find_map(|section| {
        home[section]
            .as_array()?
            .iter()
            .find(|t| t["key"] == key)
            .map(|t| {
                (
                    t["count"].as_u64().expect("a count"),
                    t["href"].as_str().expect("an address").to_owned(),
                )
            })
    })
}

fn recent(home: &Value) -> Vec<String> {
    home["recent"]
        .as_array()
        .expect("recent")
        .iter()
        .map(|r| r["label"].as_str().expect("label").to_owned())
        .collect()
}

/// Creates the pipeline `slug` as `client` and sends the worker's `steps` (path, outcome) in
/// order, each answered 200; its id.
async fn run(app: &TestApp, client: &reqwest::Client, slug: &str, steps: &[(&str, &str)]) -> String {
    let created: Value = client
        .post(app.url("/api/v1/jobs"))
        .json(&json!({ "slug": slug, "intent": "history" }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("JSON");
    let id = created["id"].as_str().expect("an id").to_owned();
    for (step, outcome) in steps {
        let response = client
            .post(app.url(&format!("/api/v1/jobs/{id}/{step}")))
            .json(&json!({ "outcome": outcome }))
            .send()
            .await
            .expect("a worker's step");
        assert_eq!(response.status(), 200, "{step}");
    }
    id
}

async fn list_pipelines(app: &TestApp, client: &reqwest::Client, body: &str) -> Vec<String> {
    let response = call_server_fn(client, &app.url("/_srv/list_pipelines"), body).await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.expect("JSON");
    list["pipelines"]
        .as_array()
        .expect("pipelines")
        .iter()
        .map(|p| p["slug"].as_str().expect("slug").to_owned())
        .collect()
}

#[tokio::test]
async fn each_person_sees_what_waits_for_them_and_what_they_asked_for_and_nothing_of_other_tenants() {
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

    // Before anything: every count is zero, nothing moved.
    let empty = home(&app, &arno).await;
    assert_eq!(
        tile(&empty, "approvals"),
        Some((0, "/pipelines?waiting=1".into())),
        "{empty}"
    );
    assert_eq!(
        tile(&empty, "my-pipelines"),
        Some((0, "/pipelines?mine=1".into()))
    );
    assert_eq!(tile(&empty, "pipelines-failed").map(|t| t.0), Some(0));
    assert!(recent(&empty).is_empty());

    // Arno's feed is open before Rita's pipeline reaches its gate.
    let feed = arno
        .get(app.url("/api/home/events"))
        .send()
        .await
        .expect("the feed");
    assert_eq!(feed.status(), 200);
    let mut body = feed.bytes_stream();
    let mut seen = String::new();
    let mut next_home = async || -> Value {
        loop {
            if let Some(at) = seen.find("\n\n") {
                let frame: String = seen.drain(..at + 2).collect();
                if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) {
                    return serde_json::from_str(data.trim()).expect("the counts as JSON");
                }
                continue; // A keep-alive comment.
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(30), body.next())
                .await
                .expect("the feed said something within 30 s")
                .expect("the feed is open")
                .expect("bytes");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    assert_eq!(tile(&next_home().await, "approvals").map(|t| t.0), Some(0));

    // Rita starts one and a worker runs it to its gate.
    let id = run(
        &app,
        &rita,
        "episode-3",
        &[
            ("claim", "succeeded"),
            ("stages/outline/report", "succeeded"),
            ("stages/research/report", "succeeded"),
        ],
    )
    .await;

    // Arno's feed says it waits for him, without asking (counts are sent only when they change,
    // so the message that says 1 is the one after the gate opened).
    let mut pushed = next_home().await;
    while tile(&pushed, "approvals").map(|t| t.0) != Some(1) {
        pushed = next_home().await;
    }
    assert_eq!(recent(&pushed), ["episode-3"]);

    // Each person's counts.
    for (who, client, approvals, mine, sees_it) in [
        ("arno", &arno, 1, 0, true),
        ("rita", &rita, 0, 1, true),
        ("vic", &vic, 0, 0, true),
        ("otto", &otto, 0, 0, false),
    ] {
        let h = home(&app, client).await;
        assert_eq!(tile(&h, "approvals").map(|t| t.0), Some(approvals), "{who}: {h}");
        assert_eq!(tile(&h, "my-pipelines").map(|t| t.0), Some(mine), "{who}: {h}");
        assert_eq!(recent(&h) == ["episode-3"], sees_it, "{who}: {h}");
        if mine == 1 {
            let tiles = h["needs_you"].as_array().expect("tiles");
            let own = tiles.iter().find(|t| t["key"] == "my-pipelines").expect("tile");
            assert_eq!(own["detail"], "1 under way", "{who}: {own}");
        }
        // The count is the list it opens.
        let listed = list_pipelines(&app, client, "waiting=false&mine=true").await;
        assert_eq!(
            listed.len(),
            usize::try_from(mine).expect("small"),
            "{who}'s own: {listed:?}"
        );
        let waiting = list_pipelines(&app, client, "waiting=true").await;
        assert_eq!(
            waiting.len(),
            usize::try_from(approvals).expect("small"),
            "{who}'s waiting: {waiting:?}"
        );
    }

    // Rita cancels it: Arno's feed drops the count to zero; the failed count stays zero.
    let response = rita
        .post(app.url(&format!("/api/v1/jobs/{id}/cancel")))
        .json(&json!({}))
        .send()
        .await
        .expect("cancel");
    assert_eq!(response.status(), 200);
    let mut pushed = next_home().await;
    while tile(&pushed, "approvals").map(|t| t.0) != Some(0) {
        pushed = next_home().await;
    }
    assert_eq!(tile(&pushed, "pipelines-failed").map(|t| t.0), Some(0));
    // Rita's count is still the list it opens (hers: one, canceled), no longer "under way".
    let hers = home(&app, &rita).await;
    let mine = hers["needs_you"]
        .as_array()
        .expect("tiles")
        .iter()
        .find(|t| t["key"] == "my-pipelines")
        .expect("her pipelines")
        .clone();
    assert_eq!(
        (mine["count"].as_u64(), &mine["detail"]),
        (Some(1), &Value::Null),
        "{mine}"
    );

    // Another one fails at its first stage: broken for alpha, nothing for beta.
    run(
        &app,
        &rita,
        "episode-4",
        &[("claim", "succeeded"), ("stages/outline/report", "failed")],
    )
    .await;
    let mut pushed = next_home().await;
    while tile(&pushed, "pipelines-failed").map(|t| t.0) != Some(1) {
        pushed = next_home().await;
    }
    assert_eq!(
        tile(&pushed, "pipelines-failed").map(|t| t.1).as_deref(),
        Some("/pipelines?status=failed")
    );
    assert_eq!(
        tile(&home(&app, &otto).await, "pipelines-failed").map(|t| t.0),
        Some(0)
    );
    let failed = list_pipelines(&app, &arno, "status=failed&waiting=false").await;
    assert_eq!(failed, ["episode-4"]);
}
