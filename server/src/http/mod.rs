//! The axum router: Leptos pages and server functions, health and version routes, and the
//! layers every request passes through (request id, tracing, compression, cache headers).

mod health;
mod layers;

use axum::Router;
use leptos_axum::{LeptosRoutes, generate_route_list};

use app::state::AppState;
use app::{App, shell};

/// Builds the whole router over `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_state = state.clone();
    let app_router = Router::new()
        .merge(health::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            move || leptos::prelude::provide_context(leptos_state.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    layers::apply(app_router)
}
