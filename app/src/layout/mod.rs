//! The app shell: header with navigation (by role) and the user menu, the "not configured" and
//! "auth off" banners, toasts, and the page.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::cluster::ClusterStatus;
use crate::home::{OverviewResource, get_overview};
use crate::identity::{Logout, Role, ViewerResource, get_viewer, use_viewer};
use crate::ui::{Badge, ThemeToggle, ToastHost, Tone, provide_toasts};

/// Navigation entries and the least role that sees each. A domain joins this list when its
/// pages exist, never before. Hiding is for tidiness; the server functions enforce access.
const NAV_SECTIONS: &[(&str, &str, Option<Role>)] = &[
    ("Overview", "/", None),
    ("Flink jobs", "/flink", None),
    ("Pipelines", "/pipelines", None),
    ("Catalog", "/catalog", None),
    ("Vault", "/vault", Some(Role::Viewer)),
    ("Users", "/admin/users", Some(Role::Admin)),
    ("Tenants", "/admin/tenants", Some(Role::Admin)),
    ("Audit log", "/admin/audit", Some(Role::Admin)),
    ("ForwardAuth", "/admin/forward-auth", Some(Role::Admin)),
    ("System", "/admin/system", Some(Role::Admin)),
];

/// The skip link's target, focused by hand: the router takes over same-page links, so the
/// browser's own move of the focus to `#main` would not happen.
fn skip_to_main(ev: leptos::ev::MouseEvent) {
    ev.prevent_default();
    if let Some(main) = document().get_element_by_id("main")
        && let Ok(main) = leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(main)
    {
        let _ = main.focus();
    }
}

#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    provide_toasts();
    let location = use_location();
    // Re-read on navigation: signing in or out ends in a navigation.
    let viewer = Resource::new(move || location.pathname.get(), |_| get_viewer());
    provide_context(ViewerResource(viewer));
    let viewer = use_viewer();
    let role = move || viewer.get().and_then(|v| v.user).map(|u| u.role);
    let overview = Resource::new(move || location.pathname.get(), |_| get_overview());
    provide_context(OverviewResource(overview));
    // The phone's menu, closed by every navigation (a link in it was followed).
    let menu_open = RwSignal::new(false);
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    view! {
        <div class="min-h-screen bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100">
            // The first Tab stop: past the navigation straight to the page.
            <a href="#main" data-testid="skip-link" on:click=skip_to_main class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:font-medium focus:text-indigo-700 focus:shadow dark:focus:bg-slate-900 dark:focus:text-indigo-300">
                "Skip to content"
            </a>
            <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
                // Below `md` the sections and the user menu fold behind a Menu button; from `md`
                // up they sit in one row. One list either way: the phone's menu is the same links.
                <nav class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2" aria-label="Main">
                    <a href="/" class="flex items-center gap-2 font-semibold tracking-tight">
                        <span class="inline-block h-5 w-5 rounded bg-indigo-600"></span>
                        "Heimdall"
                    </a>
                    <div class="ml-auto flex items-center gap-2 md:order-last md:ml-0">
                        <ThemeToggle/>
                        <button
                            type="button"
                            data-testid="menu-toggle"
                            aria-controls="main-menu"
                            aria-expanded=move || if menu_open.get() { "true" } else { "false" }
                            class="rounded-md px-2 py-1 text-sm font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-100 md:hidden dark:text-slate-200 dark:ring-slate-600 dark:hover:bg-slate-800"
                            on:click=move |_| menu_open.update(|open| *open = !*open)
                        >
                            "Menu"
                        </button>
                    </div>
                    <div
                        id="main-menu"
                        class=move || if menu_open.get() {
                            "flex w-full flex-col gap-3 pb-2 md:w-auto md:flex-1 md:flex-row md:items-center md:pb-0"
                        } else {
                            "hidden md:flex md:flex-1 md:flex-row md:items-center md:gap-3"
                        }
                    >
                    <ul class="flex flex-col gap-1 text-sm md:flex-row md:flex-wrap" data-testid="main-nav">
                        <Transition fallback=|| ()>
                        {move || {
                            let waiting = overview.get().and_then(Result::ok).map(|o| o.approvals_waiting).unwrap_or_default();
                            NAV_SECTIONS
                            .iter()
                            .filter(|(_, _, least)| least.is_none_or(|least| role().is_some_and(|r| r >= least)))
                            .map(|(label, href, _)| {
                                // The pipelines waiting for the viewer: an attribute the
                                // stylesheet draws as a badge after the label (an element of its
                                // own costs the initial bundle more).
                                let count = (*href == "/pipelines" && !waiting.is_empty()).then(|| waiting.clone());
                                view! {
                                <li>
                                    <A
                                        href=*href
                                        attr:data-count=count
                                        attr:class="block rounded-md px-2 py-1 text-slate-600 hover:bg-slate-100 aria-[current=page]:bg-slate-100 aria-[current=page]:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-[current=page]:bg-slate-800 dark:aria-[current=page]:text-white data-[count]:after:ml-1 data-[count]:after:rounded-full data-[count]:after:bg-rose-600 data-[count]:after:px-1.5 data-[count]:after:text-xs data-[count]:after:font-semibold data-[count]:after:text-white data-[count]:after:content-[attr(data-count)]"
                                    >
                                        {*label}
                                    </A>
                                </li>
                            }})
                            .collect_view()
                        }}
                        </Transition>
                    </ul>
                    <div class="flex items-center gap-3 border-t border-slate-200 pt-3 md:ml-auto md:border-0 md:pt-0 dark:border-slate-800">
                        <Transition fallback=|| ()><UserMenu/></Transition>
                    </div>
                    </div>
                </nav>
            </header>
            <Transition fallback=|| ()><AuthOffBanner/></Transition>
            <NotConfiguredBanner overview/>
            <main id="main" tabindex="-1" class="mx-auto max-w-7xl px-4 py-6 outline-none">{children()}</main>
            <ToastHost/>
        </div>
    }
}

/// The signed-in user with their role, the account link and sign-out; or a sign-in link.
#[component]
fn UserMenu() -> impl IntoView {
    let viewer = use_viewer();
    let logout = ServerAction::<Logout>::new();
    view! {
        {move || viewer.get().map(|v| match v.user {
            Some(u) => view! {
                <div class="flex items-center gap-2 text-sm" data-testid="user-menu">
                    <a href="/account" class="font-medium hover:underline" data-testid="user-name">{u.username}</a>
                    <Badge tone=match u.role { Role::Admin => Tone::Danger, Role::Developer => Tone::Info, Role::Viewer => Tone::Neutral }>
                        <span data-testid="user-role">{u.role.as_str()}</span>
                    </Badge>
                    <ActionForm action=logout>
                        <button type="submit" data-testid="logout" class="rounded-md px-2 py-1 text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800">"Sign out"</button>
                    </ActionForm>
                </div>
            }.into_any(),
            None => view! {
                <a href="/login" class="text-sm font-medium text-indigo-600 dark:text-indigo-400 hover:underline" data-testid="sign-in-link">"Sign in"</a>
            }.into_any(),
        })}
    }
}

/// With `auth.enabled = false` anyone can read; say so, so nobody mistakes it for a locked door.
#[component]
fn AuthOffBanner() -> impl IntoView {
    let viewer = use_viewer();
    view! {
        <Show when=move || viewer.get().is_some_and(|v| !v.auth_enabled)>
            <div role="status" data-testid="banner-auth-off" class="border-b border-sky-200 bg-sky-50 px-4 py-2 text-sm text-sky-900 dark:border-sky-900 dark:bg-sky-950 dark:text-sky-200">
                <strong>"Authentication is off. "</strong>
                "Anyone who can reach Heimdall can read it; signing in is still required to change anything (auth.enabled)."
            </div>
        </Show>
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
