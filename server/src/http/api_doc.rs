//! One OpenAPI 3.1 document for every REST route (`/openapi.json`) and a page that reads it
//! (`/docs`), generated from the `DOC` table each domain's `rest.rs` keeps beside its router. The
//! test `every_router_path_is_in_the_openapi_document` reads the routers' `.route(…)` calls
//! and fails on any path the document lacks, so a route cannot land undocumented.
//!
//! No external viewer: Scalar and Swagger UI load their scripts from a CDN, which Heimdall's
//! Content-Security-Policy (rightly) refuses; the page is server-written HTML.

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use serde_json::{Map, Value, json};

use app::rest::doc::{Auth, Op};
use app::state::AppState;

/// Every section's table, in the order the page shows them.
pub fn sections() -> [(&'static str, &'static str, &'static [Op]); 11] {
    [
        ("api", "This document", DOC),
        (
            "health",
            "Liveness, readiness and version, at each seed's paths",
            super::health::DOC,
        ),
        (
            "auth",
            "Sign-in: the seeds' cookie, JWT and provider routes",
            app::identity::rest::DOC,
        ),
        (
            "users",
            "Accounts (the Heimdall seed's fastapi-users routes)",
            app::admin::rest::DOC,
        ),
        (
            "flink",
            "Flink jobs from FlinkDeployments, the live feed and the Flink REST proxy",
            app::flink::rest::DOC,
        ),
        (
            "forward-auth",
            "ForwardAuth answers for reverse proxies (session and CARTA modes)",
            app::forward_auth::rest::DOC,
        ),
        (
            "vault",
            "The token vault: the auth-manager seed's API",
            app::vault::rest::DOC,
        ),
        (
            "pipelines",
            "Pipelines with approval gates: the operator-console seed's jobs API and the workers' routes",
            app::pipelines::rest::DOC,
        ),
        (
            "catalog",
            "The service catalog: the IDP-portal seed's services, actions and executor callbacks",
            app::catalog::rest::DOC,
        ),
        (
            "home",
            "The home page's counts for the caller, live",
            app::home::rest::DOC,
        ),
        (
            "metrics",
            "Prometheus metrics (only with metrics.token configured)",
            super::metrics::DOC,
        ),
    ]
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document, built from the tables.
pub fn document(version: &str) -> Value {
    let mut paths = Map::new();
    for (tag, _, ops) in sections() {
        for op in ops {
            let path = openapi_path(op.path);
            let item = paths.entry(path.clone()).or_insert_with(|| json!({}));
            let methods: Vec<String> = if op.method == "ANY" {
                METHODS.iter().map(|m| (*m).to_owned()).collect()
            } else {
                vec![op.method.to_ascii_lowercase()]
            };
            for method in methods {
                item[method] = operation(tag, op, &path);
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Heimdall",
            "version": version,
            "description": "Every REST route of Heimdall, at the seeds' documented paths. Browser pages and server \
                            functions (`/_srv/*`) are not listed: they are the UI's own.",
        },
        "tags": sections().iter().map(|(name, description, _)| json!({"name": name, "description": description})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A Heimdall bearer JWT or API token (`hmt_…`), or the static admin token"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "heimdall_auth", "description": "The browser session"},
                "keycloak": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A Keycloak access token, checked by introspection"},
                "metrics": {"type": "http", "scheme": "bearer", "description": "`metrics.token`, for Prometheus"},
            }
        }
    })
}

/// `{*rest}` (axum's catch-all) as an OpenAPI parameter `{rest}`.
fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn operation(tag: &str, op: &Op, path: &str) -> Value {
    let mut parameters: Vec<Value> = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(op.query.iter().map(|p| {
        json!({"name": p.name, "in": "query", "required": p.required, "description": p.description, "schema": {"type": "string"}})
    }));
    let mut responses = Map::new();
    for (status, description) in op.responses {
        responses.insert(status.to_string(), json!({"description": description}));
    }
    if responses.is_empty() {
        responses.insert("200".into(), json!({"description": "OK"}));
    }
    let mut value = json!({
        "tags": [tag],
        "summary": op.summary,
        "operationId": format!("{}_{}", op.method.to_ascii_lowercase(), path.trim_matches('/').replace(['/', '{', '}', '-', '*'], "_")),
        "parameters": parameters,
        "responses": responses,
    });
    match op.auth {
        Auth::Public => {}
        Auth::Heimdall => value["security"] = json!([{"cookie": []}, {"bearer": []}]),
        Auth::KeycloakOrHeimdall => {
            value["security"] = json!([{"keycloak": []}, {"cookie": []}, {"bearer": []}]);
        }
        Auth::MetricsToken => value["security"] = json!([{"metrics": []}]),
    }
    if let Some(example) = op.body {
        let example: Value = serde_json::from_str(example).unwrap_or(Value::Null);
        value["requestBody"] =
            json!({"required": true, "content": {"application/json": {"example": example}}});
    }
    value
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_page))
}

pub const DOC: &[Op] = &[
    Op::new("GET", "/openapi.json", "This document", Auth::Public),
    Op::new("GET", "/docs", "This document as a page", Auth::Public),
];

async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(document(&state.build.version))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The browsable page: every section, operation, parameter and answer, no script.
async fn docs_page(State(state): State<AppState>) -> Html<String> {
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Heimdall API</title>\
         <link rel=\"stylesheet\" href=\"/pkg/heimdall.css\"></head><body class=\"bg-slate-50 text-slate-900\">\
         <main class=\"mx-auto max-w-5xl space-y-6 break-words p-4 md:p-6\"><h1 class=\"text-2xl font-semibold\">Heimdall API {}</h1>\
         <p>The machine-readable document is <a class=\"underline\" href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1).</p>",
        escape(&state.build.version)
    );
    for (tag, description, ops) in sections() {
        html.push_str(&format!(
            "<section id=\"{tag}\"><h2 class=\"text-xl font-semibold\">{tag}</h2><p class=\"text-sm text-slate-600\">{}</p><ul>",
            escape(description)
        ));
        for op in ops {
            let auth = match op.auth {
                Auth::Public => "no sign-in",
                Auth::Heimdall => "Heimdall session or token",
                Auth::KeycloakOrHeimdall => "Keycloak access token, or the owner's Heimdall credentials",
                Auth::MetricsToken => "the metrics token",
            };
            html.push_str(&format!(
                "<li class=\"mt-3\" data-testid=\"api-op\"><code class=\"font-mono font-semibold break-all\">{} {}</code> — {} <span class=\"text-xs text-slate-600\">({auth})</span>",
                op.method,
                escape(op.path),
                escape(op.summary)
            ));
            if !op.query.is_empty() || !op.responses.is_empty() {
                html.push_str("<ul class=\"ml-6 text-sm\">");
                for p in op.query {
                    html.push_str(&format!(
                        "<li><code class=\"break-all\">?{}</code>{} — {}</li>",
                        escape(p.name),
                        if p.required { " (required)" } else { "" },
                        escape(p.description)
                    ));
                }
                for (status, meaning) in op.responses {
                    html.push_str(&format!("<li><code>{status}</code> {}</li>", escape(meaning)));
                }
                html.push_str("</ul>");
            }
            if let Some(body) = op.body {
                html.push_str(&format!(
                    "<pre class=\"ml-6 overflow-x-auto whitespace-pre-wrap break-all text-xs\">{}</pre>",
                    escape(body)
                ));
            }
            html.push_str("</li>");
        }
        html.push_str("</ul></section>");
    }
    html.push_str("</main></body></html>");
    Html(html)
}
