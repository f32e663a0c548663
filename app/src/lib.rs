//! The Heimdall Leptos application: routes, pages, server functions and the types they share
//! with the browser. Server-only code sits behind the `ssr` feature.

/// Server-only items of a module: one gate instead of a `cfg` line on each (every domain's
/// `mod.rs` keeps its service, store, routes and settings behind it).
macro_rules! ssr {
    ($($item:item)*) => { $( #[cfg(feature = "ssr")] $item )* };
}

pub mod admin;
pub mod audit;
pub mod catalog;
pub mod cluster;
pub mod error;
pub mod flink;
pub mod forward_auth;
pub mod home;
pub mod identity;
pub mod layout;
pub mod pipelines;
pub mod ui;
pub mod vault;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
pub mod settings;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "test-support")]
pub mod testing;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, ParamSegment, StaticSegment};

use crate::admin::AdminRoute;
use crate::catalog::CatalogRoute;
use crate::error::AppError;
use crate::flink::FlinkJobsRoute;
use crate::home::HomeRoute;
use crate::identity::{AccountRoute, LoginRoute, RegisterRoute};
use crate::layout::AppLayout;
use crate::pipelines::PipelinesRoute;
use crate::ui::{ErrorNotice, THEME_BOOT_SCRIPT};
use crate::vault::VaultRoute;

/// The page's Content Security Policy: scripts only from this site or inline with this
/// response's nonce (the hydration script, the theme script, streamed resource data), WASM
/// compiled by the browser (`wasm-unsafe-eval`, never `unsafe-eval`), styles and requests to
/// this site only, and no framing.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Each response gets a fresh nonce (leptos_axum provides it); the header carries the same.
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = axum::http::HeaderValue::from_str(&content_security_policy(&nonce))
    {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <script nonce=leptos::nonce::use_nonce() inner_html=THEME_BOOT_SCRIPT></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/heimdall.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Heimdall".to_owned() } else { format!("{page} · Heimdall") }/>
        <Router>
            <AppLayout>
                <ErrorBoundary fallback=|errors| view! {
                    <div class="space-y-2">
                        <h1 class="text-xl font-semibold">"Something went wrong"</h1>
                        {move || errors.get().into_iter().map(|(_, e)| {
                            let error = e.downcast_ref::<AppError>().cloned().unwrap_or(AppError::Internal);
                            view! { <ErrorNotice error/> }
                        }).collect_view()}
                    </div>
                }>
                    // The shell and the overview are in the initial bundle; every
                    // other section is a lazy route, fetched (as its own WASM chunk) on first use.
                    <Routes fallback=ui::NotFoundPage>
                        <Route path=StaticSegment("") view={Lazy::<HomeRoute>::new()}/>
                        <Route path=StaticSegment("login") view={Lazy::<LoginRoute>::new()}/>
                        <Route path=StaticSegment("register") view={Lazy::<RegisterRoute>::new()}/>
                        <Route path=StaticSegment("account") view={Lazy::<AccountRoute>::new()}/>
                        <Route path=StaticSegment("flink") view={Lazy::<FlinkJobsRoute>::new()}/>
                        <Route path=StaticSegment("vault") view={Lazy::<VaultRoute>::new()}/>
                        <Route path=StaticSegment("pipelines") view={Lazy::<PipelinesRoute>::new()}/>
                        <Route path=(StaticSegment("pipelines"), ParamSegment("id")) view={Lazy::<PipelinesRoute>::new()}/>
                        <Route path=StaticSegment("catalog") view={Lazy::<CatalogRoute>::new()}/>
                        <Route path=(StaticSegment("catalog"), ParamSegment("id")) view={Lazy::<CatalogRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), ParamSegment("section")) view={Lazy::<AdminRoute>::new()}/>
                    </Routes>
                </ErrorBoundary>
            </AppLayout>
        </Router>
    }
}
