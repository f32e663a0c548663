//! The page for any path no route claims (and for an admin section that does not exist).

use leptos::prelude::*;
use leptos_meta::Title;

/// Any path no route claims. Answers 404 on the server, not 200.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <div class="py-16 text-center">
            <p class="text-sm font-semibold text-indigo-600 dark:text-indigo-400">"404"</p>
            <h1 class="mt-2 text-2xl font-semibold">"There is no page here"</h1>
            <p class="mt-2 text-sm text-slate-500 dark:text-slate-400">"Check the address, or go back to the overview."</p>
            <a href="/" class="mt-4 inline-block text-sm font-medium text-indigo-600 dark:text-indigo-400 hover:underline">"Overview"</a>
        </div>
    }
}
