//! The job list, its live feed, the patterns and the actions, against the real API server.

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use app::identity::Role;

use super::support::{
    SseReader, admin_client, application_spec, create_deployment, delete_namespaces, deployments, eventually,
    find, fresh_namespace, jobs_at, readyz_becomes, service_account_kubeconfig, set_status, spawn_watching,
    spawn_watching_with,
};
use crate::helpers::call_server_fn;

#[tokio::test]
async fn api_jobs_follows_create_status_relabel_and_delete_across_two_namespaces() {
    let admin = admin_client().await;
    let (one, two) = (fresh_namespace(&admin).await, fresh_namespace(&admin).await);
    let app = spawn_watching(service_account_kubeconfig(), &format!("{one}, {two}")).await;
    app.sign_in_as_admin().await;
    assert_eq!(readyz_becomes(&app, 200).await.0, 200);

    create_deployment(
        &admin,
        &one,
        "orders",
        json!({ "team": "payments" }),
        application_spec(4),
    )
    .await;
    let mut session = application_spec(0);
    session.as_object_mut().expect("spec").remove("job");
    create_deployment(&admin, &two, "shared", json!({}), session).await;

    let jobs = eventually("both jobs are listed", || async {
        let jobs = jobs_at(&app, "/api/jobs").await;
        (find(&jobs, &one, "orders").is_some() && find(&jobs, &two, "shared").is_some()).then_some(jobs)
    })
    .await;
    let orders = find(&jobs, &one, "orders").expect("orders");
    // The Java Heimdall's fields, from the object as created (no status yet).
    assert_eq!(orders["status"], "UNKNOWN");
    assert_eq!(orders["type"], "APPLICATION");
    assert_eq!(orders["startTime"], Value::Null);
    assert_eq!(orders["shortImage"], "streaming/orders:1.4");
    assert_eq!(orders["flinkVersion"], "1.17");
    assert_eq!(orders["parallelism"], 4);
    assert_eq!(
        orders["resources"]["jm"],
        json!({ "replicas": 1, "cpu": "1.0", "mem": "2048m" })
    );
    assert_eq!(
        orders["resources"]["tm"],
        json!({ "replicas": 2, "cpu": "2.0", "mem": "4096m" })
    );
    assert_eq!(orders["metadata"], json!({ "team": "payments" }));
    assert!(orders["id"].as_str().is_some_and(|id| !id.is_empty()), "the uid");
    let shared = find(&jobs, &two, "shared").expect("shared");
    assert_eq!(shared["type"], "SESSION");
    assert_eq!(shared["parallelism"], 4, "2 slots × 2 TaskManagers");
    // `/jobs` is the same list at the Java seed's path.
    assert_eq!(jobs_at(&app, "/jobs").await, jobs_at(&app, "/api/jobs").await);

    // The operator reports the job running (status subresource).
    set_status(
        &admin,
        &one,
        "orders",
        json!({ "jobStatus": { "state": "RUNNING", "startTime": "1700000000000", "jobId": "a1b2" },
                "lifecycleState": "STABLE", "jobManagerDeploymentStatus": "READY" }),
    )
    .await;
    let orders = eventually("the status change is listed", || async {
        let jobs = jobs_at(&app, "/api/jobs").await;
        find(&jobs, &one, "orders")
            .filter(|j| j["status"] == "RUNNING")
            .cloned()
    })
    .await;
    assert_eq!(orders["startTime"], 1_700_000_000_000_i64);
    assert_eq!(orders["lifecycleState"], "STABLE");
    assert_eq!(orders["jobManagerDeploymentStatus"], "READY");
    assert_eq!(orders["jobId"], "a1b2");

    // Relabelled.
    deployments(&admin, &two)
        .patch(
            "shared",
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "labels": { "team": "platform" } } })),
        )
        .await
        .expect("relabel");
    eventually("the new label is listed", || async {
        let jobs = jobs_at(&app, "/api/jobs").await;
        find(&jobs, &two, "shared")
            .filter(|j| j["metadata"]["team"] == "platform")
            .map(|_| ())
    })
    .await;

    // Deleted.
    deployments(&admin, &one)
        .delete("orders", &Default::default())
        .await
        .expect("delete");
    eventually("the deleted job is gone", || async {
        let jobs = jobs_at(&app, "/api/jobs").await;
        (find(&jobs, &one, "orders").is_none() && find(&jobs, &two, "shared").is_some()).then_some(())
    })
    .await;
    delete_namespaces(&admin, &[&one, &two]).await;
}

#[tokio::test]
async fn the_live_feed_sends_a_snapshot_then_each_change() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    // A long grace period: a stop that waited for the open feed would take all of it.
    let app = spawn_watching_with(service_account_kubeconfig(), &ns, |c| {
        c.server.shutdown_timeout_secs = 120;
    })
    .await;
    app.sign_in_as_admin().await;
    assert_eq!(readyz_becomes(&app, 200).await.0, 200);
    create_deployment(&admin, &ns, "first", json!({}), application_spec(1)).await;
    eventually("listed", || async {
        find(&jobs_at(&app, "/api/jobs").await, &ns, "first").map(|_| ())
    })
    .await;

    let mut feed = SseReader::open(&app.client, &app.url("/api/jobs/events")).await;
    let snapshot = feed.next().await;
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.data["status"]["live"], true);
    let jobs = snapshot.data["jobs"].as_array().expect("jobs");
    assert!(find(jobs, &ns, "first").is_some(), "{jobs:?}");

    create_deployment(&admin, &ns, "second", json!({}), application_spec(2)).await;
    let upsert = feed
        .until(|e| e.event == "upsert" && e.data["name"] == "second")
        .await;
    assert_eq!(upsert.data["parallelism"], 2);

    set_status(
        &admin,
        &ns,
        "second",
        json!({ "jobStatus": { "state": "FAILED" }, "error": "boom" }),
    )
    .await;
    let failed = feed
        .until(|e| e.event == "upsert" && e.data["name"] == "second" && e.data["status"] == "FAILED")
        .await;
    assert_eq!(failed.data["error"], "boom");

    deployments(&admin, &ns)
        .delete("first", &Default::default())
        .await
        .expect("delete");
    let deleted = feed.until(|e| e.event == "delete").await;
    assert_eq!(deleted.data["key"], format!("{ns}/first"));

    // Anonymous callers get no feed when sign-in is on.
    let anonymous = crate::helpers::bare_client()
        .get(app.url("/api/jobs/events"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);

    // A graceful stop ends the feed instead of waiting on it.
    let mut app = app;
    let started = std::time::Instant::now();
    app.stop().await.expect("stops");
    assert!(
        feed.ends_within(std::time::Duration::from_secs(60)).await,
        "the feed ends at shutdown"
    );
    // Far below the 120 s grace a waiting stop would use, far above a slow second.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the stop waited for the feed: {:?}",
        started.elapsed()
    );
    delete_namespaces(&admin, &[&ns]).await;
}

/// The jobs page's feed (`?size=`): the page it asks for, filtered and sorted on the server,
/// with the counts over every job, and a new view when a change alters it.
#[tokio::test]
async fn the_pages_feed_sends_its_page_and_the_counts_then_a_new_view_per_change() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    let app = spawn_watching(service_account_kubeconfig(), &ns).await;
    app.sign_in_as_admin().await;
    assert_eq!(readyz_becomes(&app, 200).await.0, 200);
    for (name, parallelism) in [
        ("alpha", 1),
        ("bravo", 2),
        ("charlie", 3),
        ("delta", 4),
        ("echo", 5),
    ] {
        create_deployment(&admin, &ns, name, json!({}), application_spec(parallelism)).await;
    }
    set_status(
        &admin,
        &ns,
        "delta",
        json!({ "jobStatus": { "state": "FAILED" } }),
    )
    .await;
    eventually("all five listed, delta failed", || async {
        let jobs = jobs_at(&app, "/api/jobs").await;
        (find(&jobs, &ns, "delta")?["status"] == "FAILED"
            && ["alpha", "bravo", "charlie", "echo"]
                .iter()
                .all(|n| find(&jobs, &ns, n).is_some()))
        .then_some(())
    })
    .await;

    // The jobs with an "a" in their names, name descending, with one open in the drawer.
    let url = app.url(&format!(
        "/api/jobs/events?ns={ns}&q=A&sort=name&dir=desc&size=10&page=1&job={ns}/bravo"
    ));
    let mut feed = SseReader::open(&app.client, &url).await;
    let view = feed.next().await;
    assert_eq!(
        view.event, "view",
        "the page's feed answers with views, not the whole list"
    );
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .map(|j| j["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // "a" in alpha, bravo, charlie, delta (any case), not in echo; name descending.
    assert_eq!(names(&view.data), ["delta", "charlie", "bravo", "alpha"]);
    assert_eq!(view.data["matched"], 4);
    assert_eq!(view.data["selected"]["name"], "bravo", "the open job comes along");
    assert_eq!(view.data["status"]["live"], true);
    let statuses = view.data["statuses"].as_array().expect("counts");
    assert!(
        statuses.contains(&json!(["FAILED", 1])),
        "counts are over every job, whatever the filters: {statuses:?}"
    );
    assert!(
        view.data["namespaces"]
            .as_array()
            .expect("namespaces")
            .contains(&json!(ns))
    );

    // Past the last page.
    let url = app.url(&format!("/api/jobs/events?ns={ns}&q=a&sort=name&size=10&page=9"));
    let mut paged = SseReader::open(&app.client, &url).await;
    let last = paged.next().await;
    assert_eq!(last.data["page"], 1, "past the last page is the last page");
    assert_eq!(last.data["pages"], 1);
    assert_eq!(names(&last.data), ["alpha", "bravo", "charlie", "delta"]);

    // A change that alters the page: a new view, pushed.
    create_deployment(&admin, &ns, "aardvark", json!({}), application_spec(1)).await;
    let changed = feed.until(|e| e.event == "view" && e.data["matched"] == 5).await;
    assert_eq!(names(&changed.data).last().map(String::as_str), Some("aardvark"));
    deployments(&admin, &ns)
        .delete("bravo", &Default::default())
        .await
        .expect("delete");
    let gone = feed
        .until(|e| e.event == "view" && e.data["selected"].is_null())
        .await;
    assert_eq!(gone.data["matched"], 4, "{:?}", gone.data);
    delete_namespaces(&admin, &[&ns]).await;
}

/// The jobs page's first HTML has the first page of rows (rendered on the server from the
/// in-memory list), not a spinner waiting for the browser and the feed.
#[tokio::test]
async fn the_jobs_pages_html_has_its_first_page_of_rows() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    let app = spawn_watching(service_account_kubeconfig(), &ns).await;
    app.sign_in_as_admin().await;
    assert_eq!(readyz_becomes(&app, 200).await.0, 200);
    for name in ["ingest-orders", "ingest-payments", "score-fraud"] {
        create_deployment(&admin, &ns, name, json!({}), application_spec(1)).await;
    }
    eventually("listed", || async {
        let jobs = jobs_at(&app, "/api/jobs").await;
        ["ingest-orders", "ingest-payments", "score-fraud"]
            .iter()
            .all(|n| find(&jobs, &ns, n).is_some())
            .then_some(())
    })
    .await;
    let html = |path: String| {
        let app = &app;
        async move {
            let response = app.client.get(app.url(&path)).send().await.expect("page");
            assert_eq!(response.status(), 200);
            response.text().await.expect("HTML")
        }
    };
    let page = html(format!("/flink?ns={ns}")).await;
    assert_eq!(
        page.matches(r#"data-testid="job-row""#).count(),
        3,
        "every row in the HTML"
    );
    for name in ["ingest-orders", "ingest-payments", "score-fraud"] {
        assert!(page.contains(name), "{name} is in the first HTML");
    }
    // The address's filter applies on the server too.
    let filtered = html(format!("/flink?ns={ns}&q=ingest")).await;
    assert_eq!(filtered.matches(r#"data-testid="job-row""#).count(), 2);
    assert!(!filtered.contains("score-fraud"));
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn the_label_selector_and_the_namespace_list_filter_as_configured() {
    let admin = admin_client().await;
    let (one, two, other) = (
        fresh_namespace(&admin).await,
        fresh_namespace(&admin).await,
        fresh_namespace(&admin).await,
    );
    let app = spawn_watching_with(service_account_kubeconfig(), &format!("{one},{two}"), |config| {
        config.joblocator_k8s_operator.label_selector = Some("team=payments".into());
    })
    .await;
    app.sign_in_as_admin().await;
    assert_eq!(readyz_becomes(&app, 200).await.0, 200);
    let payments = json!({ "team": "payments" });
    create_deployment(&admin, &one, "in-one", payments.clone(), application_spec(1)).await;
    create_deployment(&admin, &two, "in-two", payments.clone(), application_spec(1)).await;
    create_deployment(
        &admin,
        &one,
        "other-team",
        json!({ "team": "search" }),
        application_spec(1),
    )
    .await;
    create_deployment(&admin, &other, "unwatched", payments, application_spec(1)).await;

    eventually("the two matching jobs are listed", || async {
        let jobs = jobs_at(&app, "/api/jobs").await;
        (find(&jobs, &one, "in-one").is_some() && find(&jobs, &two, "in-two").is_some()).then_some(())
    })
    .await;
    // Relabelling into the selector brings a job in; the others never appear.
    deployments(&admin, &one)
        .patch(
            "other-team",
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "labels": { "team": "payments" } } })),
        )
        .await
        .expect("relabel");
    let jobs = eventually("the relabelled job joins", || async {
        let jobs = jobs_at(&app, "/api/jobs").await;
        find(&jobs, &one, "other-team").is_some().then_some(jobs)
    })
    .await;
    assert!(
        find(&jobs, &other, "unwatched").is_none(),
        "an unwatched namespace stays out"
    );
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    delete_namespaces(&admin, &[&one, &two, &other]).await;
}

async fn act(
    client: &reqwest::Client,
    app: &crate::helpers::TestApp,
    ns: &str,
    name: &str,
    action: &str,
) -> reqwest::Response {
    call_server_fn(
        client,
        &app.url("/_srv/flink_job_action"),
        &format!("namespace={ns}&name={name}&action={action}"),
    )
    .await
}

async fn job_spec(admin: &kube::Client, ns: &str, name: &str) -> Value {
    let object = deployments(admin, ns).get(name).await.expect("get");
    serde_json::to_value(&object.spec).expect("spec")
}

#[tokio::test]
async fn actions_change_the_spec_as_heimdall_and_a_viewer_is_refused() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    let app = spawn_watching(service_account_kubeconfig(), &ns).await;
    assert_eq!(readyz_becomes(&app, 200).await.0, 200);
    create_deployment(&admin, &ns, "orders", json!({}), application_spec(2)).await;
    let mut session = application_spec(0);
    session.as_object_mut().expect("spec").remove("job");
    create_deployment(&admin, &ns, "shared", json!({}), session).await;
    eventually("listed", || async {
        let jobs = jobs_at_as_admin(&app).await;
        (find(&jobs, &ns, "orders").is_some() && find(&jobs, &ns, "shared").is_some()).then_some(())
    })
    .await;

    let viewer = app.create_user("flink-viewer", Role::Viewer, None).await;
    let viewer = app.client_for(&viewer).await;
    let developer = app.create_user("flink-dev", Role::Developer, None).await;
    let developer = app.client_for(&developer).await;

    // A viewer is refused and nothing changes.
    assert_eq!(act(&viewer, &app, &ns, "orders", "suspend").await.status(), 403);
    assert_eq!(job_spec(&admin, &ns, "orders").await["job"]["state"], "running");
    assert_eq!(
        app.audit_entries("access.denied").await.len(),
        1,
        "the refusal is audited"
    );

    // A developer suspends: the spec changes, written by field manager `heimdall`, audited.
    assert_eq!(
        act(&developer, &app, &ns, "orders", "suspend").await.status(),
        200
    );
    assert_eq!(job_spec(&admin, &ns, "orders").await["job"]["state"], "suspended");
    let object = deployments(&admin, &ns).get("orders").await.expect("get");
    let managers: Vec<String> = object
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.iter().any(|m| m == "heimdall"), "{managers:?}");
    let entries = app.audit_entries("flink.job.suspended").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].target, format!("{ns}/orders"));

    // Suspending twice is a conflict once the list shows the change.
    eventually("the list shows the suspension", || async {
        find(&jobs_at_as_admin(&app).await, &ns, "orders")
            .filter(|j| j["desiredState"] == "suspended")
            .map(|_| ())
    })
    .await;
    let again = act(&developer, &app, &ns, "orders", "suspend").await;
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.expect("JSON");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("suspended")),
        "{body}"
    );

    assert_eq!(act(&developer, &app, &ns, "orders", "resume").await.status(), 200);
    assert_eq!(job_spec(&admin, &ns, "orders").await["job"]["state"], "running");
    eventually("the list shows the job running", || async {
        find(&jobs_at_as_admin(&app).await, &ns, "orders")
            .filter(|j| j["desiredState"] == "running")
            .map(|_| ())
    })
    .await;
    assert_eq!(
        act(&developer, &app, &ns, "orders", "savepoint").await.status(),
        200
    );
    assert_eq!(
        job_spec(&admin, &ns, "orders").await["job"]["savepointTriggerNonce"],
        1
    );
    assert_eq!(
        act(&developer, &app, &ns, "orders", "restart").await.status(),
        200
    );
    assert_eq!(job_spec(&admin, &ns, "orders").await["restartNonce"], 1);
    assert_eq!(app.audit_entries("flink.job.restarted").await.len(), 1);

    // A session cluster has no job to suspend; an unknown job is a 404; a bad action a 4xx.
    assert_eq!(
        act(&developer, &app, &ns, "shared", "suspend").await.status(),
        409
    );
    assert_eq!(
        act(&developer, &app, &ns, "nothing-here", "restart")
            .await
            .status(),
        404
    );
    let bad = act(&developer, &app, &ns, "orders", "explode").await;
    assert!(bad.status().is_client_error(), "{}", bad.status());
    delete_namespaces(&admin, &[&ns]).await;
}

async fn jobs_at_as_admin(app: &crate::helpers::TestApp) -> Vec<Value> {
    app.sign_in_as_admin().await;
    jobs_at(app, "/api/jobs").await
}

#[tokio::test]
async fn config_shows_the_patterns_and_each_job_carries_its_links() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    let app = spawn_watching_with(service_account_kubeconfig(), &ns, |config| {
        config
            .patterns
            .insert("display_name".into(), "$metadata.team / $jobName".into());
        config.endpoint_path_patterns.insert(
            "flink_ui".into(),
            "https://flink.example.com/$namespace/$jobName/".into(),
        );
        config.endpoint_path_patterns.insert("logs".into(), String::new());
        config.endpoint_path_patterns.insert(
            "grafana-board".into(),
            "https://grafana.example.com/d/x?var-job=$jobName".into(),
        );
        config.app_version = Some("9.9.9".into());
    })
    .await;
    app.sign_in_as_admin().await;
    assert_eq!(readyz_becomes(&app, 200).await.0, 200);

    for path in ["/config", "/api/config"] {
        let config: Value = app.get(path).await.json().await.expect("JSON");
        assert_eq!(config["appVersion"], "9.9.9", "{path}");
        assert_eq!(config["patterns"]["display-name"], "$metadata.team / $jobName");
        assert_eq!(
            config["endpointPathPatterns"]["flink-ui"],
            "https://flink.example.com/$namespace/$jobName/"
        );
        assert_eq!(
            config["endpointPathPatterns"]["logs"], "",
            "an empty pattern is shown as hidden"
        );
    }

    let mut spec = application_spec(1);
    spec["flinkConfiguration"]["s3.secret-key"] = json!("hunter2-not-for-readers");
    create_deployment(&admin, &ns, "orders", json!({ "team": "payments" }), spec).await;
    let job = eventually("listed", || async {
        find(&jobs_at(&app, "/api/jobs").await, &ns, "orders").cloned()
    })
    .await;
    assert_eq!(job["displayName"], "payments / orders");
    assert_eq!(
        job["links"],
        json!([
            { "key": "flink-ui", "title": "Flink UI", "url": format!("https://flink.example.com/{ns}/orders/") },
            { "key": "grafana-board", "title": "Grafana Board", "url": "https://grafana.example.com/d/x?var-job=orders" },
        ])
    );

    // The drawer's YAML is the live object, every field included.
    let yaml = call_server_fn(
        &app.client,
        &app.url("/_srv/flink_job_yaml"),
        &format!("namespace={ns}&name=orders"),
    )
    .await;
    assert_eq!(yaml.status(), 200);
    let text: String = yaml.json().await.expect("a JSON string");
    assert!(text.contains("kind: FlinkDeployment"), "{text}");
    assert!(
        text.contains("serviceAccount: flink"),
        "fields Heimdall does not read are there: {text}"
    );
    assert!(!text.contains("managedFields"), "{text}");
    assert!(
        !text.contains("hunter2-not-for-readers"),
        "credentials are redacted: {text}"
    );
    assert!(
        text.contains("s3.secret-key: '***'") || text.contains("s3.secret-key: \"***\""),
        "{text}"
    );
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn the_list_carries_an_etag_that_answers_304_until_the_list_changes() {
    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    let app = spawn_watching(service_account_kubeconfig(), &ns).await;
    app.sign_in_as_admin().await;
    create_deployment(&admin, &ns, "orders", json!({}), application_spec(2)).await;
    eventually("the job is listed", || async {
        find(&jobs_at(&app, "/api/jobs").await, &ns, "orders").map(|_| ())
    })
    .await;
    let first = app.get("/api/jobs").await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().expect("ascii").to_owned();
    assert_eq!(first.headers()["vary"], "accept-encoding");
    assert!(
        first.headers().get("content-encoding").is_none(),
        "asked for no coding"
    );
    let plain = first.bytes().await.expect("body");
    let body: Vec<Value> = serde_json::from_slice(&plain).expect("JSON");
    assert!(find(&body, &ns, "orders").is_some());

    // A client that takes gzip gets the same list compressed, under the gzip copy's own tag;
    // either tag is the same list to `If-None-Match`.
    let gzipped = app
        .client
        .get(app.url("/api/jobs"))
        .header("accept-encoding", "br;q=1, gzip;q=0.8")
        .send()
        .await
        .expect("request");
    assert_eq!(gzipped.status(), 200);
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let gzip_etag = gzipped.headers()["etag"].to_str().expect("ascii").to_owned();
    assert_ne!(gzip_etag, etag, "a strong tag names one coding");
    let compressed = gzipped.bytes().await.expect("body");
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut unpacked)
        .expect("gzip");
    assert_eq!(unpacked, plain, "the same bytes, compressed");
    let refused = app
        .client
        .get(app.url("/api/jobs"))
        .header("accept-encoding", "gzip;q=0")
        .header("if-none-match", &gzip_etag)
        .send()
        .await
        .expect("request");
    assert_eq!(
        refused.status(),
        304,
        "the gzip tag names the list the plain answer would send"
    );
    assert_eq!(refused.headers()["etag"], etag.as_str());
    assert!(refused.headers().get("content-encoding").is_none());

    // Both paths answer the same list: the tag sent back is 304 on either, with no body.
    for path in ["/api/jobs", "/jobs"] {
        let again = app
            .client
            .get(app.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(
            again.bytes().await.expect("body").is_empty(),
            "{path}: a 304 has no body"
        );
    }
    // Another tag is not this list's.
    let other = app
        .client
        .get(app.url("/api/jobs"))
        .header("if-none-match", "\"another-1\"")
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), 200);

    // A change to a job: the next answer is the new list, under a new tag.
    deployments(&admin, &ns)
        .patch(
            "orders",
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "labels": { "team": "payments" } } })),
        )
        .await
        .expect("relabel");
    let changed = eventually("the list changes", || async {
        let response = app
            .client
            .get(app.url("/api/jobs"))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        (response.status() == 200).then_some(response)
    })
    .await;
    assert_ne!(changed.headers()["etag"], etag.as_str());
    let jobs: Vec<Value> = changed.json().await.expect("JSON");
    assert_eq!(
        find(&jobs, &ns, "orders").expect("orders")["metadata"],
        json!({ "team": "payments" })
    );
}
