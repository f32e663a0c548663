//! The app shell: header with navigation, the "not configured" banner, toasts, and the page.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::cluster::ClusterStatus;
use crate::home::{OverviewResource, get_overview};
use crate::ui::{ThemeToggle, ToastHost, provide_toasts};

/// Navigation entries. A domain joins this list when its pages exist, never before.
const NAV_SECTIONS: &[(&str, &str)] = &[("Overview", "/")];

#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    provide_toasts();
    let overview = Resource::new(|| (), |()| get_overview());
    provide_context(OverviewResource(overview));
    view! {
        <div class="min-h-screen bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100">
            <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
                <nav class="mx-auto flex max-w-7xl items-center gap-6 px-4 py-2" aria-label="Main">
                    <a href="/" class="flex items-center gap-2 font-semibold tracking-tight">
                        <span class="inline-block h-5 w-5 rounded bg-indigo-600"></span>
                        "Heimdall"
                    </a>
                    <ul class="flex gap-1 text-sm">
                        {NAV_SECTIONS
                            .iter()
                            .map(|(label, href)| view! {
                                <li>
                                    <A
                                        href=*href
                                        attr:class="rounded-md px-2 py-1 text-slate-600 hover:bg-slate-100 aria-[current=page]:bg-slate-100 aria-[current=page]:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-[current=page]:bg-slate-800 dark:aria-[current=page]:text-white"
                                    >
                                        {*label}
                                    </A>
                                </li>
                            })
                            .collect_view()}
                    </ul>
                    <div class="ml-auto"><ThemeToggle/></div>
                </nav>
            </header>
            <NotConfiguredBanner overview/>
            <main class="mx-auto max-w-7xl px-4 py-6">{children()}</main>
            <ToastHost/>
        </div>
    }
}

/// Says plainly which integrations are off, so an empty page is never a mystery.
#[component]
fn NotConfiguredBanner(
    overview: Resource<Result<crate::home::Overview, crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || overview.get().and_then(Result::ok).and_then(|o| match o.cluster {
                ClusterStatus::Connected { .. } => None,
                ClusterStatus::NotConfigured { reason } => Some(view! {
                    <div role="status" data-testid="banner-kubernetes" class="border-b border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200">
                        <strong>"Kubernetes is not configured. "</strong>
                        "Features that read the cluster are off until Heimdall runs in-cluster or finds a kubeconfig "
                        "(kubernetes.kubeconfig). "
                        <span class="opacity-70">{reason}</span>
                    </div>
                }.into_any()),
                ClusterStatus::Unreachable { error, .. } => Some(view! {
                    <div role="alert" data-testid="banner-kubernetes" class="border-b border-rose-200 bg-rose-50 px-4 py-2 text-sm text-rose-900 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200">
                        <strong>"Kubernetes is unreachable: "</strong>{error}
                    </div>
                }.into_any()),
            })}
        </Transition>
    }
}
