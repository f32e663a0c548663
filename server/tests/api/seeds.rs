//! Each seed's own client, replayed: the request sequence its UI and scripts send, written
//! down from the seed's source in `server/tests/seeds/<seed>.json` with the seed's answers —
//! status, the fields its client reads and their types, the `detail` texts — and sent to
//! Heimdall. No seed process runs: the fixture is the seed's recorded behaviour.
//!
//! A fixture is `{seed, source, steps: [{name, method, path, auth?, headers?, body?, form?,
//! expect: {status, body?, keys?, types?, text?, headers?}, save?}]}`:
//! - `auth`: `bearer:<value>` (after substitution), or nothing;
//! - `${name}` in paths, headers and bodies is a value the setup gave or a step saved
//!   (`save: {name: "/json/pointer"}`);
//! - `expect.body` is matched as a subset (objects key by key, arrays element by element),
//!   `"${any}"` matching anything present; `keys` must be present; `types` maps JSON pointers
//!   to `string`, `number`, `integer`, `boolean`, `array`, `object` or `null`; `text` is the
//!   exact plain-text body.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{bare_client, spawn_app_with, test_config};

/// Runs `fixture` against the server at `base` (`http://host:port`) with the setup's `vars`.
async fn replay(base: &str, fixture: &str, mut vars: HashMap<String, String>) {
    let fixture: Value = serde_json::from_str(fixture).expect("the fixture is JSON");
    let seed = fixture["seed"].as_str().expect("seed").to_owned();
    let steps = fixture["steps"].as_array().expect("steps");
    assert!(!steps.is_empty(), "{seed}: a fixture with steps");
    for step in steps {
        let name = step["name"].as_str().expect("every step has a name");
        let context = format!("{seed} / {name}");
        let method =
            reqwest::Method::from_bytes(step["method"].as_str().unwrap_or("GET").as_bytes()).expect("method");
        let path = substitute_str(step["path"].as_str().expect("path"), &vars);
        let mut request = bare_client().request(method, format!("{base}{path}"));
        if let Some(auth) = step["auth"].as_str() {
            let auth = substitute_str(auth, &vars);
            if let Some(token) = auth.strip_prefix("bearer:") {
                request = request.bearer_auth(token);
            }
        }
        if let Some(headers) = step["headers"].as_object() {
            for (k, v) in headers {
                request = request.header(k, substitute_str(v.as_str().unwrap_or_default(), &vars));
            }
        }
        if let Some(body) = step.get("body") {
            request = request.json(&substitute(body, &vars));
        }
        if let Some(form) = step["form"].as_object() {
            let pairs: Vec<(String, String)> = form
                .iter()
                .map(|(k, v)| (k.clone(), substitute_str(v.as_str().unwrap_or_default(), &vars)))
                .collect();
            request = request.form(&pairs);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{context}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let expect = &step["expect"];
        assert_eq!(
            Some(u64::from(status)),
            expect["status"].as_u64(),
            "{context}: status; body {text}"
        );
        if let Some(wanted) = expect["headers"].as_object() {
            for (k, v) in wanted {
                let got = headers.get(k).and_then(|h| h.to_str().ok());
                assert_eq!(got, v.as_str(), "{context}: header {k}");
            }
        }
        if let Some(wanted) = expect["text"].as_str() {
            assert_eq!(text, wanted, "{context}: the plain-text body");
            continue;
        }
        let needs_json =
            ["body", "keys", "types"].iter().any(|k| expect.get(*k).is_some()) || step.get("save").is_some();
        if !needs_json {
            continue;
        }
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{context}: not JSON ({e}): {text}"));
        if let Some(wanted) = expect.get("body") {
            let wanted = substitute(wanted, &vars);
            if let Err(at) = subset(&wanted, &body, "") {
                panic!("{context}: the body differs at {at}\n  wanted ⊆ {wanted}\n  got      {body}");
            }
        }
        for key in expect["keys"].as_array().into_iter().flatten() {
            let pointer = key.as_str().expect("a pointer");
            assert!(
                body.pointer(pointer).is_some(),
                "{context}: no {pointer} in {body}"
            );
        }
        for (pointer, kind) in expect["types"].as_object().into_iter().flatten() {
            let got = body
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{context}: no {pointer} in {body}"));
            assert_eq!(
                type_of(got),
                kind.as_str().expect("a type"),
                "{context}: {pointer} = {got}"
            );
        }
        for (name, pointer) in step["save"].as_object().into_iter().flatten() {
            let value = body
                .pointer(pointer.as_str().expect("a pointer"))
                .unwrap_or_else(|| panic!("{context}: nothing at {pointer} to save"));
            let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            vars.insert(name.clone(), value);
        }
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `Ok` when `wanted` is contained in `got`; else where they differ.
fn subset(wanted: &Value, got: &Value, at: &str) -> Result<(), String> {
    match (wanted, got) {
        (Value::String(s), _) if s == "${any}" => Ok(()),
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                let here = format!("{at}/{k}");
                subset(v, g.get(k).ok_or_else(|| here.clone())?, &here)?;
            }
            Ok(())
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (w, g)) in w.iter().zip(g).enumerate() {
                subset(w, g, &format!("{at}/{i}"))?;
            }
            Ok(())
        }
        (Value::Number(w), Value::Number(g)) if w.as_f64() == g.as_f64() => Ok(()),
        (w, g) if w == g => Ok(()),
        _ => Err(if at.is_empty() {
            "/".to_owned()
        } else {
            at.to_owned()
        }),
    }
}

fn substitute_str(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

/// `${name}` replaced in every string; a string that is exactly `${name}` of a number stays
/// a number.
fn substitute(value: &Value, vars: &HashMap<String, String>) -> Value {
    match value {
        Value::String(s) if s == "${any}" => value.clone(),
        Value::String(s) => {
            let replaced = substitute_str(s, vars);
            match (s.starts_with("${") && s.ends_with('}'), replaced.parse::<i64>()) {
                (true, Ok(n)) => json!(n),
                _ => Value::String(replaced),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, vars)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn the_matcher_tells_a_subset_from_a_difference() {
    let got = json!({ "a": 1, "b": { "c": [1, 2], "d": "x" }, "e": null });
    assert!(subset(&json!({ "b": { "c": [1, 2] } }), &got, "").is_ok());
    assert!(subset(&json!({ "a": 1.0, "e": null, "b": { "d": "${any}" } }), &got, "").is_ok());
    assert_eq!(
        subset(&json!({ "b": { "c": [1] } }), &got, ""),
        Err("/b/c".to_owned())
    );
    assert_eq!(subset(&json!({ "z": 1 }), &got, ""), Err("/z".to_owned()));
    assert_eq!(
        subset(&json!({ "b": { "d": "y" } }), &got, ""),
        Err("/b/d".to_owned())
    );
    let v = vars(&[("id", "7"), ("t", "abc")]);
    assert_eq!(
        substitute(&json!({ "n": "${id}", "s": "x-${t}" }), &v),
        json!({ "n": 7, "s": "x-abc" })
    );
}

const ADMIN_TOKEN: &str = "seed-replay-admin-token";

#[tokio::test]
async fn the_operator_consoles_client_sequence() {
    let app = crate::pipelines::support::with_admin_token(ADMIN_TOKEN).await;
    replay(
        &app.url(""),
        include_str!("../seeds/operator-console.json"),
        vars(&[("admin_token", ADMIN_TOKEN)]),
    )
    .await;
}

#[tokio::test]
async fn the_idp_portals_client_sequence() {
    let (mut config, file) = test_config().await;
    config.catalog.provisioning_callback_token = Some("seed-callback-token".to_owned().into());
    config.catalog.deployment_callback_token = Some("seed-callback-token".to_owned().into());
    config.catalog.protected_environments = Vec::new();
    let app = spawn_app_with(config, file).await;
    // The seed's `admin` is the bootstrap admin of this start.
    let admin = app.bootstrap_admin.as_ref().expect("the bootstrap admin");
    assert_eq!(admin.username, "admin");
    let admin_password = secrecy::ExposeSecret::expose_secret(&admin.password).to_owned();
    let dev = app
        .create_user("dev", app::identity::Role::Developer, Some("payments"))
        .await;
    let viewer = app
        .create_user("viewer", app::identity::Role::Viewer, Some("payments"))
        .await;
    replay(
        &app.url(""),
        include_str!("../seeds/idp-portal.json"),
        vars(&[
            ("admin_password", &admin_password),
            ("dev_password", &dev.password),
            ("viewer_password", &viewer.password),
            ("callback_token", "seed-callback-token"),
        ]),
    )
    .await;
}

#[tokio::test]
async fn the_python_heimdalls_client_sequence() {
    let app = crate::helpers::spawn_app().await;
    let reader = app
        .create_user("reader@example.com", app::identity::Role::Viewer, None)
        .await;
    replay(
        &app.url(""),
        include_str!("../seeds/heimdall-python.json"),
        vars(&[("username", &reader.username), ("password", &reader.password)]),
    )
    .await;
}

#[tokio::test]
async fn the_java_heimdalls_svelte_ui_reads_jobs_and_config() {
    use crate::flink::support::{application_spec, create_deployment, spawn_watching};
    let admin = crate::cluster_support::admin_client().await;
    let ns = crate::cluster_support::fresh_namespace(&admin).await;
    let app = spawn_watching(crate::cluster_support::service_account_kubeconfig(), &ns).await;
    app.sign_in_as_admin().await;
    create_deployment(
        &admin,
        &ns,
        "orders",
        json!({ "team": "payments" }),
        application_spec(2),
    )
    .await;
    // The list is live: wait (on the data, not the clock) for the job to be in it.
    crate::cluster_support::eventually("listed", || async {
        let jobs: Value = app
            .client
            .get(app.url("/jobs"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        jobs.as_array()?
            .iter()
            .any(|j| j["name"] == "orders")
            .then_some(())
    })
    .await;
    // The UI's own requests carry the session cookie of the signed-in page.
    let cookie = app.session_cookie().await;
    replay(
        &app.url(""),
        include_str!("../seeds/heimdall-java.json"),
        vars(&[("ns", &ns), ("cookie", &cookie)]),
    )
    .await;
    crate::cluster_support::delete_namespaces(&admin, &[&ns]).await;
}

#[tokio::test]
async fn the_auth_managers_client_sequence() {
    let app = crate::vault::support::vault_app().await;
    replay(
        &app.url(""),
        include_str!("../seeds/auth-manager.json"),
        HashMap::new(),
    )
    .await;
}

#[tokio::test]
async fn the_carta_sidecars_client_sequence() {
    use crate::forward_auth::support::{create_service, granted_namespace, ready_carta};
    let (admin, ns) = granted_namespace().await;
    create_service(&admin, &ns, "carta-replay", "replay42", Some("ada")).await;
    let app = ready_carta(&ns, |c| {
        c.forward_auth.carta.listen = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    // The sidecar's listener: the fixture's paths are its, at its own address.
    let carta = format!("http://{}", app.carta_addr.expect("the CARTA listener"));
    replay(
        &carta,
        include_str!("../seeds/carta-sidecar.json"),
        HashMap::new(),
    )
    .await;
    crate::cluster_support::delete_namespaces(&admin, &[&ns]).await;
}
