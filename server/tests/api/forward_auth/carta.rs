//! CARTA mode against the real API server, Heimdall running under the shipped RBAC.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::support::{
    SESSION_LABEL, USER_LABEL, ask, create_pod, create_service, granted_namespace, ready_carta,
    relabel_service, spawn_carta,
};
use crate::cluster_support::{admin_client, delete_namespaces, eventually, fresh_namespace};
use crate::helpers::bare_client;

const PATH: &str = "/forward-auth/carta";

#[tokio::test]
async fn a_labelled_service_passes_with_the_user_header_and_the_seeds_body() {
    let (admin, ns) = granted_namespace().await;
    create_service(&admin, &ns, "carta-abc123", "abc123", Some("alice")).await;
    let app = ready_carta(&ns, |_| {}).await;

    let (status, token, body) = ask(
        &bare_client(),
        &app.url(PATH),
        &[("x-forwarded-uri", "/session/carta/abc123/?socketUrl=wss://x")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(token.as_deref(), Some("alice"));
    let body: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(
        body,
        json!({ "ok": true, "session": "abc123", "userid": "alice" })
    );
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn a_session_only_a_pod_carries_passes_too() {
    let (admin, ns) = granted_namespace().await;
    create_pod(&admin, &ns, "carta-pod", "podonly7", Some("bob")).await;
    // A Service with the session but no user does not hide the Pod's user.
    create_service(&admin, &ns, "carta-nouser", "podonly7", None).await;
    let app = ready_carta(&ns, |_| {}).await;

    let (status, token, _) = ask(
        &bare_client(),
        &app.url(PATH),
        &[("referer", "https://canfar.example/session/carta/podonly7/")],
    )
    .await;
    assert_eq!((status, token.as_deref()), (200, Some("bob")));
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn removed_labels_are_refused_within_a_second() {
    let (admin, ns) = granted_namespace().await;
    create_service(&admin, &ns, "carta-live", "live1", Some("carol")).await;
    create_service(&admin, &ns, "carta-live2", "live2", Some("carol")).await;
    let app = ready_carta(&ns, |_| {}).await;
    let client = bare_client();
    let url = app.url(PATH);
    for session in ["live1", "live2"] {
        let uri = format!("/session/carta/{session}");
        let (status, _, _) = ask(&client, &url, &[("x-forwarded-uri", &uri)]).await;
        assert_eq!(status, 200, "{session} passes while labelled");
    }

    // The user label goes from one, the session label from the other: both refused as soon as
    // the watch says so — well within 30 s (a slow machine's seconds), far below the seed's
    // 600 s cache, which is what this tells apart.
    for (session, name, patch) in [
        ("live1", "carta-live", json!({ USER_LABEL: null })),
        ("live2", "carta-live2", json!({ SESSION_LABEL: null })),
    ] {
        let uri = format!("/session/carta/{session}");
        let removed = Instant::now();
        relabel_service(&admin, &ns, name, patch).await;
        loop {
            let (status, token, body) = ask(&client, &url, &[("x-forwarded-uri", &uri)]).await;
            if status == 403 {
                assert_eq!(body, "userid not found");
                assert_eq!(token, None);
                break;
            }
            assert!(
                removed.elapsed() < Duration::from_secs(30),
                "{session} still passes {:?} after its label was removed",
                removed.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn unknown_ids_missing_headers_and_malformed_uris_get_the_seeds_reasons() {
    let (admin, ns) = granted_namespace().await;
    let app = ready_carta(&ns, |_| {}).await;
    let client = bare_client();
    let url = app.url(PATH);

    let missing: &[&[(&str, &str)]] = &[
        &[],
        &[("x-forwarded-uri", "/")],
        &[("x-forwarded-uri", "/session/carta/")],
        &[("x-forwarded-uri", "/session/carta/-bad")],
        &[("x-forwarded-uri", "/session/notebook/abc123")],
        &[("referer", "not a url at all")],
        &[("referer", "https://x/sessions/carta/abc")],
    ];
    for headers in missing {
        let (status, token, body) = ask(&client, &url, headers).await;
        assert_eq!(
            (status, body.as_str(), token),
            (403, "missing session id", None),
            "{headers:?}"
        );
    }
    let unknown: &[&[(&str, &str)]] = &[
        &[("x-forwarded-uri", "/session/carta/nosuchsession")],
        // Longer than a label value can be: never a session.
        &[("x-forwarded-uri", &*format!("/session/carta/{}", "a".repeat(80)))],
    ];
    for headers in unknown {
        let (status, token, body) = ask(&client, &url, headers).await;
        assert_eq!(
            (status, body.as_str(), token),
            (403, "userid not found", None),
            "{headers:?}"
        );
    }
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn the_referer_wins_over_the_forwarded_uri() {
    let (admin, ns) = granted_namespace().await;
    create_service(&admin, &ns, "carta-ref", "fromref", Some("referer-user")).await;
    create_service(&admin, &ns, "carta-uri", "fromuri", Some("uri-user")).await;
    let app = ready_carta(&ns, |_| {}).await;

    let (status, token, _) = ask(
        &bare_client(),
        &app.url(PATH),
        &[
            ("referer", "https://canfar.example/session/carta/fromref/"),
            ("x-forwarded-uri", "/session/carta/fromuri/socket"),
        ],
    )
    .await;
    assert_eq!((status, token.as_deref()), (200, Some("referer-user")));
    // A Referer without a session leaves the choice to X-Forwarded-Uri.
    let (status, token, _) = ask(
        &bare_client(),
        &app.url(PATH),
        &[
            ("referer", "https://canfar.example/"),
            ("x-forwarded-uri", "/session/carta/fromuri/socket"),
        ],
    )
    .await;
    assert_eq!((status, token.as_deref()), (200, Some("uri-user")));
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn a_session_created_after_a_miss_passes_as_soon_as_it_exists() {
    let (admin, ns) = granted_namespace().await;
    // A long negative cache: only the watch clearing it lets the new session through quickly.
    let app = ready_carta(&ns, |c| c.forward_auth.carta.miss_cache_ms = 600_000).await;
    let client = bare_client();
    let url = app.url(PATH);
    let headers = [("x-forwarded-uri", "/session/carta/newborn1")];
    assert_eq!(ask(&client, &url, &headers).await.0, 403, "not there yet");

    create_service(&admin, &ns, "carta-newborn", "newborn1", Some("dave")).await;
    let token = eventually("the new session passes", || async {
        let (status, token, _) = ask(&client, &url, &headers).await;
        (status == 200).then_some(token)
    })
    .await;
    assert_eq!(token.as_deref(), Some("dave"));
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn with_its_watch_refused_the_directory_reads_directly_and_readiness_says_why() {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    use kube::Api;
    use kube::api::PostParams;

    let admin = admin_client().await;
    let ns = fresh_namespace(&admin).await;
    // `list` without `watch`: the watches fail, the one-off reads work.
    let role: Role = serde_json::from_value(json!({
        "metadata": { "name": "carta-list-only" },
        "rules": [{ "apiGroups": [""], "resources": ["services", "pods"], "verbs": ["list"] }],
    }))
    .expect("role");
    Api::<Role>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &role)
        .await
        .expect("create role");
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": "carta-list-only" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "carta-list-only" },
        "subjects": [{ "kind": "ServiceAccount", "name": "heimdall", "namespace": "heimdall" }],
    }))
    .expect("binding");
    Api::<RoleBinding>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &binding)
        .await
        .expect("create binding");
    create_service(&admin, &ns, "carta-direct", "direct1", Some("erin")).await;
    let app = spawn_carta(&ns, |_| {}).await;

    let (status, body) = crate::cluster_support::readyz_until(&app, |status, body| {
        status == 503
            && body["error"]
                .as_str()
                .is_some_and(|e| e.contains("watching CARTA sessions"))
    })
    .await;
    assert_eq!(status, 503);
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("watching CARTA sessions"), "{error}");
    assert!(
        error.contains("forbidden") || error.contains("Forbidden"),
        "{error}"
    );

    let client = bare_client();
    let (status, token, _) = ask(
        &client,
        &app.url(PATH),
        &[("x-forwarded-uri", "/session/carta/direct1")],
    )
    .await;
    assert_eq!((status, token.as_deref()), (200, Some("erin")));
    let (status, _, body) = ask(
        &client,
        &app.url(PATH),
        &[("x-forwarded-uri", "/session/carta/unknown2")],
    )
    .await;
    assert_eq!((status, body.as_str()), (403, "userid not found"));
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn the_dedicated_listener_answers_any_path_and_method_after_its_health_routes() {
    let (admin, ns) = granted_namespace().await;
    create_service(&admin, &ns, "carta-side", "side1", Some("frank")).await;
    let app = ready_carta(&ns, |c| {
        c.forward_auth.carta.listen = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    let base = format!("http://{}", app.carta_addr.expect("the CARTA listener is up"));
    let client = bare_client();

    let live = client.get(format!("{base}/livez")).send().await.expect("livez");
    assert_eq!(live.status().as_u16(), 200);
    assert_eq!(
        live.json::<Value>().await.expect("JSON"),
        json!({ "status": "ok" })
    );
    let ready = client.get(format!("{base}/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);
    assert_eq!(
        ready.json::<Value>().await.expect("JSON"),
        json!({ "status": "ready" })
    );

    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = client
            .request(method.clone(), format!("{base}/any/path/at/all?x=1"))
            .header("x-forwarded-uri", "/session/carta/side1/")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200, "{method}");
        assert_eq!(
            response
                .headers()
                .get("carta-auth-token")
                .and_then(|v| v.to_str().ok()),
            Some("frank"),
            "{method}"
        );
        let refused = client
            .request(method.clone(), format!("{base}/other"))
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status().as_u16(), 403, "{method}");
    }
    // The health paths answer GET; any other method there is a check, as the seed's catch-all
    // answered it.
    for path in ["/livez", "/readyz"] {
        let checked = client
            .post(format!("{base}{path}"))
            .header("x-forwarded-uri", "/session/carta/side1/")
            .send()
            .await
            .expect("request");
        assert_eq!(checked.status().as_u16(), 200, "POST {path}");
        assert_eq!(checked.headers()["carta-auth-token"], "frank", "POST {path}");
    }
    // As many header lines as a browser behind two proxies sends (the seed's server counted
    // none): 300 of them still get an answer, not 431.
    let mut many = client
        .get(format!("{base}/busy"))
        .header("x-forwarded-uri", "/session/carta/side1/");
    for i in 0..300 {
        many = many.header(format!("x-extra-{i}"), "1");
    }
    let answered = many.send().await.expect("request");
    assert_eq!(answered.status().as_u16(), 200);
    // The same header twice: the last one decides, as the seed's dict of headers kept it.
    let twice = client
        .get(format!("{base}/twice"))
        .header("x-forwarded-uri", "/session/carta/nosuch1/")
        .header("x-forwarded-uri", "/session/carta/side1/")
        .send()
        .await
        .expect("request");
    assert_eq!(twice.status().as_u16(), 200);
    let twice = client
        .get(format!("{base}/twice"))
        .header("x-forwarded-uri", "/session/carta/side1/")
        .header("x-forwarded-uri", "/session/carta/nosuch1/")
        .send()
        .await
        .expect("request");
    assert_eq!(twice.status().as_u16(), 403);
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn the_admin_page_lists_live_sessions_without_giving_their_ids_away() {
    let (admin, ns) = granted_namespace().await;
    create_service(&admin, &ns, "carta-listed", "listedsession42", Some("grace")).await;
    create_pod(&admin, &ns, "carta-nouser", "orphan7", None).await;
    let app = ready_carta(&ns, |_| {}).await;
    app.sign_in_as_admin().await;

    let status: Value = app
        .server_fn("get_forward_auth_status")
        .await
        .json()
        .await
        .expect("JSON");
    let carta = &status["carta"];
    assert_eq!(carta["namespace"], ns);
    assert_eq!(
        carta["watches"],
        json!([
            { "kind": "services", "state": "ready", "error": null },
            { "kind": "pods", "state": "ready", "error": null },
        ])
    );
    assert_eq!(
        carta["sessions"],
        json!([
            { "session_hint": "list…", "user": "grace", "holder": "service", "object": "carta-listed" },
            { "session_hint": "orph…", "user": null, "holder": "pod", "object": "carta-nouser" },
        ])
    );
    let text = status.to_string();
    assert!(
        !text.contains("listedsession42"),
        "a session id is a credential: {text}"
    );
    assert_eq!(status["session_path"], "/forward-auth/session");
    delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn made_up_session_ids_do_not_become_a_flood_of_api_requests() {
    let (admin, ns) = granted_namespace().await;
    let app = ready_carta(&ns, |_| {}).await;
    let client = bare_client();
    let url = app.url(PATH);
    let directory = app
        .state
        .forward_auth
        .directory()
        .expect("CARTA mode has a directory")
        .clone();

    let before = directory.direct_reads_made();
    let started = Instant::now();
    for i in 0..300 {
        let uri = format!("/session/carta/madeup{i}");
        let (status, _, body) = ask(&client, &url, &[("x-forwarded-uri", &uri)]).await;
        assert_eq!((status, body.as_str()), (403, "userid not found"));
    }
    let seconds = started.elapsed().as_secs();
    let reads = directory.direct_reads_made() - before;
    // 20 direct reads per one-second window (each one Service list, then one Pod list): in
    // `seconds` whole seconds the loop touches at most `seconds + 2` windows (the first may have
    // opened before it started, the last is partial), each allowing its full 20 at once.
    // Without the budget these 300 ids would have cost 300 reads. Counted by this server, so
    // other tests' lists on the shared API server do not count.
    assert!(
        reads <= 20 * (seconds + 2),
        "{reads} direct reads for 300 made-up ids in {seconds} whole seconds"
    );
    assert!(reads >= 1, "a miss is still confirmed by a direct read");
    delete_namespaces(&admin, &[&ns]).await;
}
