use leptos::prelude::*;

/// A titled panel.
#[component]
pub fn Card(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 class="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">
                {title}
            </h2>
            {children()}
        </section>
    }
}
