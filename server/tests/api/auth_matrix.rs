//! The authorization matrix: every server function and REST route × {anonymous, viewer,
//! developer, admin, member of another tenant} → the status it must answer. One table; a server
//! function missing from it fails `every_server_function_is_in_the_matrix`, so new endpoints
//! join it.

use std::collections::BTreeSet;

use app::identity::Role;

use crate::helpers::{TestApp, new_client, spawn_app_with, test_config};

/// Callers, in the order of each row's statuses.
const CALLERS: [&str; 5] = ["anonymous", "viewer", "developer", "admin", "other tenant"];

struct Case {
    method: &'static str,
    path: &'static str,
    /// Form body for server functions, JSON for REST; `{target}`, `{victim}`, `{alpha}`, `{pipeline}` and `{service}` are filled in.
    body: &'static str,
    /// Statuses for anonymous, viewer (tenant alpha), developer (tenant alpha), admin, developer
    /// of tenant beta.
    expect: [u16; 5],
    /// Ends the caller's session: run with a fresh sign-in.
    ends_session: bool,
}

const fn sf(path: &'static str, body: &'static str, expect: [u16; 5]) -> Case {
    Case {
        method: "POST",
        path,
        body,
        expect,
        ends_session: false,
    }
}

const fn rest(method: &'static str, path: &'static str, body: &'static str, expect: [u16; 5]) -> Case {
    Case {
        method,
        path,
        body,
        expect,
        ends_session: false,
    }
}

const fn ending(method: &'static str, path: &'static str, expect: [u16; 5]) -> Case {
    Case {
        method,
        path,
        body: "",
        expect,
        ends_session: true,
    }
}

const EVERYONE: [u16; 5] = [200, 200, 200, 200, 200];
const SIGNED_IN: [u16; 5] = [401, 200, 200, 200, 200];
const ADMIN_ONLY: [u16; 5] = [401, 403, 403, 200, 403];
const NO_KEYCLOAK_LINK: [u16; 5] = [401, 403, 403, 403, 403];
const NO_PIPELINE: [u16; 5] = [401, 404, 404, 404, 404];
const GATE_ACTION: &str = r#"{"decision":"approved","stage":"deploy","notes":"ok","operator":"matrix"}"#;
const CATALOG_SERVICE: &str = r#"{"name":"matrix-svc","repo_url":"https://git.example.com/m","owner_team":"t","runtime":"go","tier":"t1","environments":["dev"],"tenant":"alpha"}"#;
/// `{service}` under its own name (another's would be a 409: taken in the tenant).
const CATALOG_SERVICE_KEPT: &str = r#"{"name":"alpha-service","repo_url":"https://git.example.com/a","owner_team":"t","runtime":"go","tier":"t2","environments":["dev"],"tenant":"alpha"}"#;
const REJECTION: &str = r#"{"decision":"rejected","stage":"deploy","notes":"no","operator":"matrix"}"#;

const MATRIX: &[Case] = &[
    // Home
    sf("/_srv/get_viewer", "", EVERYONE),
    sf("/_srv/get_overview", "", SIGNED_IN),
    sf("/_srv/check_database", "", SIGNED_IN),
    // The home page's counts: each domain filters what the caller sees (tested beside them).
    sf("/_srv/get_home", "", SIGNED_IN),
    rest("STREAM", "/api/home/events", "", SIGNED_IN),
    // Sign-in (wrong credentials for everyone; registration is off)
    sf(
        "/_srv/login",
        "username=nobody-one&password=wrong-password",
        [401; 5],
    ),
    sf(
        "/_srv/register_account",
        "email=x%40example.com&password=long-enough",
        [404; 5],
    ),
    // Own account
    sf("/_srv/get_my_account", "", SIGNED_IN),
    sf("/_srv/update_my_profile", "display_name=Someone", SIGNED_IN),
    sf(
        "/_srv/change_my_password",
        "current_password=wrong&new_password=another-long-one",
        [401, 422, 422, 422, 422],
    ),
    sf("/_srv/list_my_links", "", SIGNED_IN),
    sf("/_srv/list_my_sessions", "", SIGNED_IN),
    sf("/_srv/revoke_my_session", "id=999999", [401, 404, 404, 404, 404]),
    sf("/_srv/list_my_tokens", "", SIGNED_IN),
    sf("/_srv/create_my_token", "name=matrix&scope=read", SIGNED_IN),
    sf("/_srv/revoke_my_token", "id=999999", [401, 404, 404, 404, 404]),
    // Administration
    sf("/_srv/list_users", "query=", ADMIN_ONLY),
    sf(
        "/_srv/create_user",
        "form[username]=made-by-matrix&form[role]=viewer",
        ADMIN_ONLY,
    ),
    sf("/_srv/set_user_role", "id={target}&role=developer", ADMIN_ONLY),
    sf("/_srv/set_user_active", "id={target}&active=true", ADMIN_ONLY),
    sf("/_srv/reset_user_password", "id={target}", ADMIN_ONLY),
    sf("/_srv/unlock_user", "id={target}", ADMIN_ONLY),
    sf(
        "/_srv/set_user_tenants",
        "id={target}&tenant_ids[0]={alpha}",
        ADMIN_ONLY,
    ),
    sf("/_srv/list_tenants", "", ADMIN_ONLY),
    sf(
        "/_srv/create_tenant",
        "slug=made-by-matrix&name=Matrix",
        ADMIN_ONLY,
    ),
    sf("/_srv/list_audit", "filter[action]=login", ADMIN_ONLY),
    // Tenant-scoped: members of alpha and admins; to others alpha does not exist (as a
    // tenant that does not, so its name is not confirmed)
    sf(
        "/_srv/list_tenant_members",
        "slug=alpha",
        [401, 200, 200, 200, 404],
    ),
    sf(
        "/_srv/list_tenant_members",
        "slug=no-such-tenant",
        [401, 404, 404, 404, 404],
    ),
    // Flink jobs (no cluster here: there is no job to find)
    sf("/_srv/flink_jobs_view", "query[size]=20", SIGNED_IN),
    sf(
        "/_srv/flink_job_yaml",
        "namespace=flink&name=orders",
        [401, 404, 404, 404, 404],
    ),
    sf(
        "/_srv/flink_job_action",
        "namespace=flink&name=orders&action=restart",
        [401, 403, 404, 404, 404],
    ),
    rest("GET", "/jobs", "", SIGNED_IN),
    rest("GET", "/api/jobs", "", SIGNED_IN),
    rest("GET", "/config", "", SIGNED_IN),
    rest("GET", "/api/config", "", SIGNED_IN),
    rest("STREAM", "/api/jobs/events", "", SIGNED_IN),
    rest("GET", "/proxy/Not_A_Label/jobs", "", [401, 404, 404, 404, 404]),
    // A change through the proxy needs an operator's role before anything is looked up.
    rest("POST", "/proxy/Not_A_Label/jobs", "{}", [401, 403, 404, 404, 404]),
    rest("PAGE", "/flink", "", [303, 200, 200, 200, 200]),
    // ForwardAuth: session mode vouches for whoever is signed in; CARTA mode asks the request
    // for a session URL, not for a caller (the seed's plain-text refusal for everyone).
    sf("/_srv/get_forward_auth_status", "", ADMIN_ONLY),
    rest("PAGE", "/admin/forward-auth", "", [303, 200, 200, 200, 200]),
    rest("GET", "/forward-auth/session", "", SIGNED_IN),
    rest("POST", "/forward-auth/session", "", SIGNED_IN),
    rest("TEXT", "/forward-auth/carta", "", [403; 5]),
    // The token vault (the matrix's users have no Keycloak link: they own nothing there, and
    // are told so with a 403; an admin looks at others only by naming them).
    sf("/_srv/get_vault", "", SIGNED_IN),
    sf("/_srv/start_vault_consent", "", NO_KEYCLOAK_LINK),
    sf(
        "/_srv/revoke_vault_token",
        "id=6f9619ff-8b86-d011-b42d-00c04fc964ff",
        NO_KEYCLOAK_LINK,
    ),
    sf(
        "/_srv/end_keycloak_session",
        "session_id=x&offline=false",
        NO_KEYCLOAK_LINK,
    ),
    rest("PAGE", "/vault", "", [303, 200, 200, 200, 200]),
    rest(
        "POST",
        "/v1/access-token?id=6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "",
        NO_KEYCLOAK_LINK,
    ),
    rest("GET", "/v1/offline-token", "", NO_KEYCLOAK_LINK),
    rest("GET", "/v1/offline-token/callback?code=x&state=y", "", [400; 5]),
    rest("POST", "/v1/offline-token-id", "", NO_KEYCLOAK_LINK),
    rest(
        "DELETE",
        "/v1/offline-token-id?id=6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "",
        NO_KEYCLOAK_LINK,
    ),
    rest(
        "POST",
        "/v1/refresh-token",
        r#"{"refresh_token":"x"}"#,
        NO_KEYCLOAK_LINK,
    ),
    rest("POST", "/v1/refresh-token-id", "", NO_KEYCLOAK_LINK),
    // A Keycloak access token only: a session cookie is not one.
    rest("GET", "/v1/validate-token", "", [401; 5]),
    // Pipelines (the operator-console seed's jobs API). The matrix's pipeline does not exist:
    // every reader gets 404; deciding needs the developer role first.
    rest("GET", "/api/v1/config/operator", "", SIGNED_IN),
    rest("POST", "/api/v1/config/validate", "", SIGNED_IN),
    rest("GET", "/api/v1/patches/types", "", SIGNED_IN),
    rest(
        "POST",
        "/api/v1/compile-brief",
        r#"{"free_text_brief":"a 3 min video on bees"}"#,
        SIGNED_IN,
    ),
    rest(
        "POST",
        "/api/v1/jobs/none/patches/deploy/apply",
        r#"{"op":"add","path":"/x","value":1}"#,
        [401, 403, 404, 404, 404],
    ),
    rest("GET", "/api/v1/jobs", "", SIGNED_IN),
    rest(
        "POST",
        "/api/v1/jobs",
        r#"{"slug":"matrix","intent":"i"}"#,
        [401, 403, 201, 201, 201],
    ),
    rest("GET", "/api/v1/jobs/none", "", NO_PIPELINE),
    rest(
        "POST",
        "/api/v1/jobs/none/approve",
        GATE_ACTION,
        [401, 403, 404, 404, 404],
    ),
    rest(
        "POST",
        "/api/v1/jobs/none/reject",
        REJECTION,
        [401, 403, 404, 404, 404],
    ),
    rest("POST", "/api/v1/jobs/none/cancel", "", NO_PIPELINE),
    rest("POST", "/api/v1/jobs/none/resume", "", NO_PIPELINE),
    rest("GET", "/api/v1/jobs/none/artifacts", "", NO_PIPELINE),
    rest("GET", "/api/v1/jobs/none/gates/status", "", NO_PIPELINE),
    rest("GET", "/api/v1/jobs/none/gates/decisions", "", NO_PIPELINE),
    rest("GET", "/api/v1/jobs/none/gates/deploy/decision", "", NO_PIPELINE),
    rest("GET", "/api/v1/jobs/none/events?since=0", "", NO_PIPELINE),
    rest("STREAM", "/api/v1/jobs/none/events/stream", "", NO_PIPELINE),
    rest("POST", "/api/v1/jobs/none/claim", "", NO_PIPELINE),
    rest(
        "POST",
        "/api/v1/jobs/none/stages/deploy/report",
        r#"{"outcome":"succeeded"}"#,
        NO_PIPELINE,
    ),
    // The pipeline pages. `{pipeline}` is tenant alpha's: the member of another tenant is told
    // it does not exist.
    sf("/_srv/list_pipelines", "waiting=false", SIGNED_IN),
    sf(
        "/_srv/list_pipelines",
        "waiting=true&status=bogus",
        [401, 422, 422, 422, 422],
    ),
    sf("/_srv/get_pipeline", "id={pipeline}", [401, 200, 200, 200, 404]),
    sf("/_srv/get_pipeline", "id=none", NO_PIPELINE),
    sf(
        "/_srv/create_pipeline",
        "slug=matrix-page&intent=i&brief=",
        [401, 403, 200, 200, 200],
    ),
    sf(
        "/_srv/decide_gate",
        "id={pipeline}&stage=deploy&approve=true&notes=",
        // Queued: the developer's decision is taken ahead of the pipeline (the seed's
        // pre-approval); the admin after them hears it is decided.
        [401, 403, 200, 409, 404],
    ),
    sf("/_srv/cancel_pipeline", "id=none", [401, 403, 404, 404, 404]),
    sf(
        "/_srv/resume_pipeline",
        "id={pipeline}",
        [401, 403, 409, 409, 404],
    ),
    rest("GET", "/api/v1/jobs/{pipeline}", "", [401, 200, 200, 200, 404]),
    rest("PAGE", "/pipelines", "", [303, 200, 200, 200, 200]),
    // The service catalog (the IDP-portal seed's API). `{service}` is tenant alpha's: the
    // member of another tenant is told it does not exist; admins write, developers act.
    rest("GET", "/services", "", SIGNED_IN),
    rest("POST", "/services", CATALOG_SERVICE, [401, 403, 403, 201, 403]),
    rest("GET", "/services/{service}", "", [401, 200, 200, 200, 404]),
    rest(
        "PUT",
        "/services/{service}",
        CATALOG_SERVICE_KEPT,
        [401, 403, 403, 200, 404],
    ),
    rest("DELETE", "/services/999999", "", [401, 404, 404, 404, 404]),
    rest(
        "POST",
        "/services/{service}/actions/provision",
        "",
        [401, 403, 200, 200, 404],
    ),
    rest(
        "POST",
        "/services/{service}/actions/deprovision",
        "",
        [401, 403, 200, 200, 404],
    ),
    rest(
        "POST",
        "/services/{service}/actions/deploy",
        "",
        [401, 403, 200, 200, 404],
    ),
    rest(
        "GET",
        "/services/{service}/actions/deploy/status",
        "",
        [401, 200, 200, 200, 404],
    ),
    rest(
        "GET",
        "/services/{service}/actions/status",
        "",
        [401, 200, 200, 200, 404],
    ),
    rest(
        "GET",
        "/services/{service}/actions",
        "",
        [401, 200, 200, 200, 404],
    ),
    rest(
        "STREAM",
        "/services/{service}/events",
        "",
        [401, 200, 200, 200, 404],
    ),
    rest("STREAM", "/services/999999/events", "", [401, 404, 404, 404, 404]),
    // The catalog pages: the same rules through the server functions.
    rest("PAGE", "/catalog", "", [303, 200, 200, 200, 200]),
    sf("/_srv/list_services", "search=&tenant=&tier=&runtime=", SIGNED_IN),
    sf(
        "/_srv/get_service_page",
        "id={service}",
        [401, 200, 200, 200, 404],
    ),
    sf("/_srv/get_service_page", "id=999999", [401, 404, 404, 404, 404]),
    sf(
        "/_srv/save_service",
        "name=alpha-service&repo_url=https%3A%2F%2Fgit.example.com%2Fa&owner_team=t&runtime=go&tier=t2&environments=dev&tenant=alpha&description=&links=&tags=&id={service}",
        [401, 403, 403, 200, 404],
    ),
    sf(
        "/_srv/save_service",
        "name=made-by-page&repo_url=https%3A%2F%2Fgit.example.com%2Fb&owner_team=t&runtime=go&tier=t2&environments=dev&tenant=alpha&description=&links=&tags=",
        [401, 403, 403, 200, 403],
    ),
    sf("/_srv/delete_service", "id=999999", [401, 404, 404, 404, 404]),
    sf(
        "/_srv/run_service_action",
        "id={service}&action=provision",
        [401, 403, 200, 200, 404],
    ),
    sf(
        "/_srv/run_service_action",
        "id={service}&action=deploy&environment=dev&version=1.0.0",
        [401, 403, 200, 200, 404],
    ),
    // Callbacks prove themselves with X-Callback-Token, not a session: none here.
    rest(
        "POST",
        "/provisioning/callback",
        r#"{"service_id":1,"tenant":"alpha","status":"succeeded"}"#,
        [403; 5],
    ),
    rest(
        "POST",
        "/services/deployments/callback",
        r#"{"deployment_id":1,"status":"succeeded"}"#,
        [403; 5],
    ),
    // REST: the seeds' paths
    rest("GET", "/users/me", "", SIGNED_IN),
    rest("PATCH", "/users/me", r#"{"display_name":"Someone"}"#, SIGNED_IN),
    rest("GET", "/users/{target}", "", ADMIN_ONLY),
    rest(
        "PATCH",
        "/users/{target}",
        r#"{"display_name":"Target"}"#,
        ADMIN_ONLY,
    ),
    rest("DELETE", "/users/{victim}", "", [401, 403, 403, 204, 403]),
    rest("POST", "/auth/jwt/login", "", [422; 5]),
    rest("POST", "/auth/cookie/login", "", [422; 5]),
    rest(
        "POST",
        "/auth/login",
        r#"{"username":"nobody-two","password":"wrong-password"}"#,
        [401; 5],
    ),
    rest(
        "POST",
        "/auth/register",
        r#"{"email":"x@example.com","password":"long-enough"}"#,
        [404; 5],
    ),
    rest("GET", "/auth/google/authorize", "", [404; 5]),
    // Keycloak is configured here (the vault needs it): its sign-in starts.
    rest("GET", "/auth/keycloak/login", "", [303; 5]),
    // Linking needs a signed-in browser session (Google is not configured here).
    rest("GET", "/auth/keycloak/link", "", [401, 303, 303, 303, 303]),
    rest("GET", "/auth/google/link", "", [401, 404, 404, 404, 404]),
    rest("GET", "/auth/google/callback?code=x&state=y", "", [404; 5]),
    rest("GET", "/healthz", "", EVERYONE),
    // Not ready here, for everyone alike: CARTA mode is on (for its row) without a cluster.
    rest("GET", "/readyz", "", [503; 5]),
    rest("GET", "/version", "", EVERYONE),
    // The API's own description: public, like the seed's.
    rest("GET", "/openapi.json", "", EVERYONE),
    rest("PAGE", "/docs", "", EVERYONE),
    // Prometheus: its own token only; no session, not even an admin's, opens it.
    rest("GET", "/metrics", "", [401; 5]),
    // Pages: a signed-out browser is sent to the login page; data stays behind the functions.
    rest("PAGE", "/", "", [303, 200, 200, 200, 200]),
    rest("PAGE", "/account", "", [303, 200, 200, 200, 200]),
    rest("PAGE", "/admin/users", "", [303, 200, 200, 200, 200]),
    rest("PAGE", "/admin/system", "", [303, 200, 200, 200, 200]),
    rest("PAGE", "/login", "", EVERYONE),
    // Ending a session (fresh sign-in per caller)
    ending("POST", "/_srv/logout", [401, 200, 200, 200, 200]),
    ending("POST", "/_srv/logout_everywhere", SIGNED_IN),
    ending("POST", "/auth/cookie/logout", [401, 204, 204, 204, 204]),
    ending("POST", "/auth/jwt/logout", [401, 204, 204, 204, 204]),
];

struct World {
    callers: Vec<Option<crate::helpers::TestUser>>,
    target: i64,
    victim: i64,
    alpha: i64,
    /// A queued pipeline of tenant alpha, with a gate at `deploy`.
    pipeline: String,
    /// A catalog service of tenant alpha, with the environment `dev`.
    service: i64,
}

async fn world(app: &TestApp) -> World {
    let viewer = app
        .create_user("matrix-viewer", Role::Viewer, Some("alpha"))
        .await;
    let developer = app
        .create_user("matrix-developer", Role::Developer, Some("alpha"))
        .await;
    let admin = app.create_user("matrix-admin", Role::Admin, None).await;
    let other = app
        .create_user("matrix-other", Role::Developer, Some("beta"))
        .await;
    let target = app.create_user("matrix-target", Role::Viewer, None).await;
    let victim = app.create_user("matrix-victim", Role::Viewer, None).await;
    let alpha = app
        .state
        .identity
        .store()
        .find_tenant_by_slug("alpha")
        .await
        .expect("alpha")
        .id;
    let pipeline = "00000000-0000-4000-8000-00000000a1fa".to_owned();
    app.state
        .pipelines
        .store()
        .create(&app::pipelines::NewPipeline {
            id: &pipeline,
            slug: "alpha-pipeline",
            intent: "the matrix's",
            tenant_id: Some(alpha),
            stages: &["deploy".to_owned()],
            params: &serde_json::json!({}),
            requested_by_id: None,
            requested_by: "matrix",
            gates: &[("deploy".to_owned(), app::pipelines::GateConfig::default())],
        })
        .await
        .expect("alpha's pipeline");
    let service = app
        .state
        .catalog
        .store()
        .create(
            &app::catalog::ServiceFields {
                tenant_id: alpha,
                name: "alpha-service",
                display_name: "",
                repo_url: "https://git.example.com/alpha",
                owner_team: "alpha",
                runtime: "go",
                tier: "t1",
                environments: &["dev".to_owned()],
                observability_enabled: false,
                description: "",
                links: &[],
                tags: &[],
            },
            &app.state.audit,
            app::audit::AuditEvent::success(app::audit::AuditAction::CatalogServiceCreated),
        )
        .await
        .expect("alpha's service");
    World {
        callers: vec![None, Some(viewer), Some(developer), Some(admin), Some(other)],
        target: target.id,
        victim: victim.id,
        alpha,
        pipeline,
        service,
    }
}

async fn client_as(app: &TestApp, who: Option<&crate::helpers::TestUser>) -> reqwest::Client {
    match who {
        Some(user) => app.client_for(user).await,
        None => new_client(),
    }
}

async fn send(app: &TestApp, client: &reqwest::Client, case: &Case, w: &World) -> (u16, String) {
    let fill = |s: &str| {
        s.replace("{target}", &w.target.to_string())
            .replace("{victim}", &w.victim.to_string())
            .replace("{alpha}", &w.alpha.to_string())
            .replace("{pipeline}", &w.pipeline)
            .replace("{service}", &w.service.to_string())
    };
    let url = app.url(&fill(case.path));
    let body = fill(case.body);
    let request = match case.method {
        "PAGE" => client.get(url).header("accept", "text/html"),
        // A live feed never ends: its status is the answer; an error's body is read below.
        "STREAM" => {
            let response = client.get(url).send().await.expect("request");
            let status = response.status().as_u16();
            let body = if status >= 400 {
                response.text().await.unwrap_or_default()
            } else {
                String::new()
            };
            return (status, body);
        }
        "GET" | "TEXT" => client.get(url),
        "DELETE" => client.delete(url),
        "PUT" => client
            .put(url)
            .header("content-type", "application/json")
            .body(body),
        "PATCH" => client
            .patch(url)
            .header("content-type", "application/json")
            .body(body),
        _ if case.path.starts_with("/_srv/") => client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
        _ => client
            .post(url)
            .header("content-type", "application/json")
            .body(body),
    };
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_route_answers_each_caller_as_the_matrix_says() {
    let (mut config, file) = test_config().await;
    config.forward_auth.carta.enabled = true;
    // Every caller asks every route here, fast: the pipelines' request limit (tested in
    // `pipelines::rest`) would answer 429 instead of the status the matrix is about.
    config.pipelines.rate_limit.requests_per_minute = 100_000;
    config.pipelines.rate_limit.burst = 10_000;
    // The vault on, over the test Keycloak, so its routes answer as they would in production.
    let keycloak = app::testing::KeycloakRealm::from_env();
    config.auth.keycloak.issuer = Some(keycloak.issuer);
    config.auth.keycloak.client_id = keycloak.client_id;
    config.auth.keycloak.client_secret = Some(keycloak.client_secret.into());
    config.vault.keys.insert(
        "a".into(),
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".into(),
    );
    config.metrics.token = Some("matrix-metrics-token-0123456789".to_owned().into());
    let app = spawn_app_with(config, file).await;
    let w = world(&app).await;
    let mut signed_in = Vec::new();
    for who in &w.callers {
        signed_in.push(client_as(&app, who.as_ref()).await);
    }
    let mut failures = Vec::new();
    for case in MATRIX {
        for (i, who) in w.callers.iter().enumerate() {
            let fresh;
            let client = if case.ends_session {
                fresh = client_as(&app, who.as_ref()).await;
                &fresh
            } else {
                &signed_in[i]
            };
            let (status, body) = send(&app, client, case, &w).await;
            if status != case.expect[i] {
                failures.push(format!(
                    "{} {} as {}: expected {}, got {status}: {}",
                    case.method,
                    case.path,
                    CALLERS[i],
                    case.expect[i],
                    body.chars().take(200).collect::<String>()
                ));
            }
            // Whatever the answer, no secret material rides on it.
            assert!(!body.contains("$argon2"), "{} leaked a password hash", case.path);
            assert!(!body.contains("hms_"), "{} leaked a session id", case.path);
            if status >= 400 && !matches!(case.method, "PAGE" | "TEXT") {
                assert!(
                    serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| v.get("error").is_some()),
                    "{} {} as {}: an error answers with a JSON body naming it, got {body:?}",
                    case.method,
                    case.path,
                    CALLERS[i]
                );
            }
            assert_ne!(status, 500, "{} as {}", case.path, CALLERS[i]);
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_server_function_is_in_the_matrix() {
    let registered: BTreeSet<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    let covered: BTreeSet<&str> = MATRIX
        .iter()
        .map(|c| c.path)
        .filter(|p| p.starts_with("/_srv/"))
        .collect();
    let missing: Vec<_> = registered.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "server functions missing from MATRIX: {missing:?}"
    );
    assert!(registered.len() >= 20, "the registry was read: {registered:?}");
}
