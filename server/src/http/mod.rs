//! The axum router, the composition of the process: Leptos pages and server functions, health
//! and version routes, each domain's REST routes (`app::<domain>::rest::routes`, merged here
//! under `server.cors`), the guards (CSRF, sign-in redirect, server-function statuses), and the
//! layers every other request passes through (request id, tracing, compression, cache headers);
//! in front of it all, in the accept loop, ForwardAuth's decisions on their own short path
//! (`forward_auth`).

mod api_doc;
mod cors;
pub mod forward_auth;
mod guards;
mod health;
mod layers;
pub mod metrics;
mod text_guard;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::any;
use leptos_axum::{LeptosRoutes, generate_route_list};

use app::state::AppState;
use app::{App, shell};

/// The CARTA sidecar's own listener (`forward_auth.carta.listen`): its health routes; every
/// other request there is ForwardAuth's short path (`forward_auth::ShortPath::carta`).
pub fn carta_router(state: &AppState) -> Router {
    forward_auth::carta_health(state)
}

/// Builds the whole router over `state`; `/metrics` when `metrics_token` is set.
pub fn router(state: AppState, metrics_token: Option<secrecy::SecretString>) -> Router {
    let routes = generate_route_list(App);
    let leptos_state = state.clone();
    // The REST sections, under `server.cors` (a preflight is answered before any limit
    // counts it).
    let rest = Router::new()
        .merge(app::identity::rest::routes())
        .merge(app::admin::rest::routes())
        .merge(app::flink::rest::routes())
        .merge(app::vault::rest::routes())
        .merge(app::pipelines::rest::routes(&state.pipelines))
        .merge(app::catalog::rest::routes())
        .merge(app::home::rest::routes());
    let rest = match cors::layer(&state.cors) {
        Some(layer) => rest.layer(layer),
        None => rest,
    };
    let app_router = Router::new()
        .merge(health::routes())
        .merge(rest)
        .merge(api_doc::routes())
        .route("/_srv/{*name}", any(guards::unknown_server_fn))
        .leptos_routes_with_context(&state, routes, move || leptos_state.provide(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(guards::server_fn_status))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guards::sign_in_redirect,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), guards::csrf))
        .layer(middleware::from_fn(text_guard::refuse_control_characters))
        .layer(middleware::from_fn(guards::body_limit))
        .layer(DefaultBodyLimit::max(guards::BODY_LIMIT))
        .with_state(state.clone())
        // The scrape proves itself with its own token, not a session.
        .merge(metrics::routes(metrics_token).with_state(state.clone()))
        // Outermost: every request counted under its route, whatever a guard answered.
        .layer(middleware::from_fn(metrics::record))
        // Before anything reads the client's address.
        .layer(middleware::from_fn_with_state(state.clone(), client_address));
    // ForwardAuth's answers are not here: they sit outside the page guards (see
    // `app::forward_auth::rest`) and these layers, on the short path the accept loop takes
    // before this router (`forward_auth::ShortPath`).
    layers::apply(app_router, layers::hsts_wanted(&state), state.body_read_timeout)
}

/// Works out the client's address once per request (`server.trusted_proxies`) and leaves it in
/// the extensions, where `RequestMeta` reads it.
async fn client_address(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(peer) = peer {
        let client = state.trusted_proxies.client(peer, request.headers());
        request.extensions_mut().insert(app::request::ClientAddr(client));
    }
    next.run(request).await
}
