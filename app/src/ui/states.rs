use leptos::prelude::*;

use crate::error::AppError;

/// Shown while data loads.
#[component]
pub fn Loading(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <div class="flex items-center gap-2 text-sm text-slate-500 dark:text-slate-400" role="status">
            <span class="h-3 w-3 animate-spin rounded-full border-2 border-slate-300 border-t-indigo-500"></span>
            {label}
        </div>
    }
}

/// Shown when a list has nothing in it: what is missing and what to do about it.
#[component]
pub fn EmptyState(#[prop(into)] title: String, #[prop(into)] hint: String) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-dashed border-slate-300 p-8 text-center dark:border-slate-700">
            <p class="font-medium">{title}</p>
            <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">{hint}</p>
        </div>
    }
}

/// An error from the server, said plainly.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-md border border-rose-300 bg-rose-50 p-3 text-sm text-rose-800 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-200">
            {error.for_people()}
        </div>
    }
}
