//! One OpenAPI document for every REST route: the routers' `.route(…)` calls, read from the
//! source, must each be in `/openapi.json` with their methods; `/docs` shows them all.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::spawn_app;

/// The files that may hold routes: the server's own (`server/src/http/`) and every domain's
/// REST routes (`app/src/<domain>/rest.rs` or `rest/`).
fn route_files() -> Vec<std::path::PathBuf> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut files = Vec::new();
    let rust_in = |dir: std::path::PathBuf, files: &mut Vec<std::path::PathBuf>| {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    };
    rust_in(format!("{root}/server/src/http").into(), &mut files);
    for domain in std::fs::read_dir(format!("{root}/app/src")).expect("app/src") {
        let domain = domain.expect("entry").path();
        if domain.join("rest.rs").is_file() {
            files.push(domain.join("rest.rs"));
        }
        if domain.join("rest").is_dir() {
            rust_in(domain.join("rest"), &mut files);
        }
    }
    assert!(files.len() > 8, "the route files were not found: {files:?}");
    files
}

/// `(path, methods)` of every `.route(path, …)` call in the route files. A path given by a
/// name rather than a literal is resolved here; an unknown name fails the test, so a new kind
/// of route cannot slip past unread.
fn router_routes() -> Vec<(String, BTreeSet<String>)> {
    let mut routes = Vec::new();
    for path in route_files() {
        let source = std::fs::read_to_string(&path).expect("source");
        let mut rest = source.as_str();
        while let Some(at) = rest.find(".route(") {
            let line_start = rest[..at].rfind('\n').map_or(0, |i| i + 1);
            let in_comment = rest[line_start..at].trim_start().starts_with("//");
            rest = &rest[at + ".route(".len()..];
            if in_comment {
                continue;
            }
            // The call's arguments, up to its closing parenthesis.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("a closed call");
            let call = &rest[..end];
            let (first, handlers) = call.split_once(',').expect("path, handler");
            let first = first.trim();
            let route = match first.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(literal) => literal.to_owned(),
                None => match first {
                    "CALLBACK_PATH" => app::vault::CALLBACK_PATH.to_owned(),
                    "SESSION_PATH" => app::forward_auth::SESSION_PATH.to_owned(),
                    // `forward_auth.carta.path`, documented at its default.
                    "&forward_auth.settings().carta_path" => {
                        heimdall::config::Config::default().forward_auth.carta.path
                    }
                    other => panic!(
                        "{}: resolve the route path {other:?} in this test",
                        path.display()
                    ),
                },
            };
            let mut methods = BTreeSet::new();
            for method in ["get", "post", "put", "patch", "delete", "any"] {
                let called = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0
                        || !handlers.as_bytes()[i - 1].is_ascii_alphanumeric()
                            && handlers.as_bytes()[i - 1] != b'_'
                });
                if called {
                    methods.insert(method.to_owned());
                }
            }
            routes.push((route, methods));
        }
    }
    routes
}

#[tokio::test]
async fn every_router_path_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = router_routes();
    assert!(
        routes.len() >= 38,
        "the scan found the routers' calls: {}",
        routes.len()
    );
    let mut missing = Vec::new();
    for (path, methods) in routes {
        // Server functions are the UI's own, not REST.
        if path == "/_srv/{*name}" {
            continue;
        }
        let documented = path.replace("{*", "{");
        let Some(item) = doc["paths"].get(&documented) else {
            missing.push(format!("{path} (no entry)"));
            continue;
        };
        for method in methods {
            let wanted: Vec<&str> = if method == "any" {
                vec!["get", "post"]
            } else {
                vec![method.as_str()]
            };
            for m in wanted {
                if item.get(m).is_none() {
                    missing.push(format!("{} {path}", m.to_ascii_uppercase()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from /openapi.json:\n{}",
        missing.join("\n")
    );
    // Path parameters are declared.
    let callback = &doc["paths"]["/users/{id}"]["get"]["parameters"][0];
    assert_eq!(
        (callback["name"].as_str(), callback["in"].as_str()),
        (Some("id"), Some("path"))
    );
    assert!(doc["paths"]["/v1/access-token"]["post"]["security"].is_array());
}

#[tokio::test]
async fn the_docs_page_lists_every_operation_without_a_script() {
    let app = spawn_app().await;
    let response = crate::helpers::bare_client()
        .get(app.url("/docs"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "public, no sign-in");
    let html = response.text().await.expect("page");
    let doc: Value = app.get("/openapi.json").await.json().await.expect("JSON");
    let ops: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, |o| o.len()))
        .sum();
    assert!(ops > 40, "{ops} operations");
    let page = html.replace("{*", "{");
    for path in doc["paths"].as_object().expect("paths").keys() {
        assert!(page.contains(path.as_str()), "{path} is on the page");
    }
    assert!(!html.contains("<script"), "no script: the CSP stays strict");
}
