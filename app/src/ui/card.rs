use leptos::prelude::*;

/// A panel, titled when `title` is not empty (an untitled one has no empty heading for a
/// screen reader to announce).
#[component]
pub fn Card(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            {(!title.is_empty()).then(|| view! {
                <h2 class="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">
                    {title}
                </h2>
            })}
            {children()}
        </section>
    }
}
