//! The catalog pages, one lazy route (its own WASM chunk) at `/catalog` and `/catalog/{id}`:
//! the list (search and filters in the address: `?q=`, `?tenant=`, `?tier=`, `?runtime=`) with
//! the "New service" form at `/catalog/new`; a service's page with its environments' status
//! chips, Provision / Deploy / Deprovision behind a confirmation, its history kept live by the
//! service's event stream, and — for admins — Edit (`?edit=1`) and Delete.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::{LazyRoute, NavigateOptions, lazy_route};

use super::api::{DeleteService, RunServiceAction, SaveService, get_service_page, list_services};
use super::model::{ActionRecord, CatalogList, EnvironmentState, Service, ServicePage, action_is_open};
use crate::error::AppError;
use crate::ui::{
    Badge, Button, ButtonKind, Card, ConfirmDialog, DataTable, EmptyState, ErrorNotice, FormError,
    INPUT_CLASS, Loading, Tone, use_toasts,
};

mod form;
mod service;

use form::*;
use service::*;

fn status_tone(status: &str) -> Tone {
    match status {
        "succeeded" => Tone::Success,
        "failed" | "timed_out" | "rejected" => Tone::Danger,
        "awaiting_approval" => Tone::Warning,
        "queued" | "in_progress" => Tone::Info,
        _ => Tone::Neutral,
    }
}

fn status_label(status: &str) -> String {
    status.replace('_', " ")
}

use crate::error::error_text;

/// The message for `field` when the last save was refused because of it.
fn field_error(save: ServerAction<SaveService>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || match save.value().get() {
        Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message),
        _ => None,
    })
}

/// Every catalog page, as one lazy route.
pub struct CatalogRoute;

#[lazy_route]
impl LazyRoute for CatalogRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        let params = use_params_map();
        let id = move || params.with(|p| p.get("id"));
        view! {
            {move || match id() {
                None => view! { <CatalogPage/> }.into_any(),
                Some(id) if id == "new" => view! { <NewServicePage/> }.into_any(),
                Some(id) => match id.parse::<i64>() {
                    Ok(id) => view! { <ServicePageView id=id/> }.into_any(),
                    Err(_) => view! { <ErrorNotice error=AppError::not_found("Service not found")/> }.into_any(),
                },
            }}
        }
        .into_any()
    }
}

/// Rewrites one filter in the address (the list follows the address).
fn filter_href(query: &leptos_router::params::ParamsMap, name: &str, value: &str) -> String {
    let mut parts: Vec<String> = ["q", "tenant", "tier", "runtime"]
        .into_iter()
        .filter(|k| *k != name)
        .filter_map(|k| {
            query
                .get(k)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", urlencoding(&v)))
        })
        .collect();
    if !value.is_empty() {
        parts.push(format!("{name}={}", urlencoding(value)));
    }
    if parts.is_empty() {
        "/catalog".to_owned()
    } else {
        format!("/catalog?{}", parts.join("&"))
    }
}

/// Enough escaping for a search term in a query string.
fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name)).unwrap_or_default();
    let list = Resource::new(
        move || (param("q"), param("tenant"), param("tier"), param("runtime")),
        |(q, tenant, tier, runtime)| list_services(q, tenant, tier, runtime),
    );
    view! {
        <Title text="Service catalog"/>
        <div class="space-y-6">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">"Service catalog"</h1>
                <p class="text-sm text-slate-500 dark:text-slate-400">
                    "Your tenants' services: provision an environment, deploy, tear it down."
                </p>
            </div>
            <Transition fallback=|| view! { <Loading label="Loading the catalog"/> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(l) => view! { <CatalogListBody l=l/> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

#[component]
fn CatalogListBody(l: CatalogList) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let go = move |name: &'static str, value: String| {
        let href = query.with_untracked(|q| filter_href(q, name, &value));
        navigate(&href, NavigateOptions::default());
    };
    let current = move |name: &str| query.with_untracked(|q| q.get(name)).unwrap_or_default();
    let filters_on = ["q", "tenant", "tier", "runtime"]
        .iter()
        .any(|k| !current(k).is_empty());
    let search_go = go.clone();
    let select = move |name: &'static str, label: &'static str, values: Vec<String>| {
        let now = current(name);
        let go = go.clone();
        view! {
            <label class="text-sm">{label} " "
                <select class=INPUT_CLASS data-testid=format!("filter-{name}") on:change=move |ev| go(name, event_target_value(&ev))>
                    <option value="" selected=now.is_empty()>"any"</option>
                    {values.into_iter().map(|v| view! { <option value=v.clone() selected=now == v>{v.clone()}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    let search = RwSignal::new(current("q"));
    view! {
        <div class="flex flex-wrap items-end gap-4" data-testid="catalog-filters">
            <form class="text-sm" role="search" on:submit=move |ev| {
                ev.prevent_default();
                search_go("q", search.get_untracked().trim().to_owned());
            }>
                <label>"Search "
                    <input type="search" name="q" class=INPUT_CLASS data-testid="catalog-search"
                        placeholder="name, team, tag…" aria-label="Search services"
                        prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
                </label>
            </form>
            {select("tenant", "Tenant", l.tenants.clone())}
            {select("tier", "Tier", l.tiers.clone())}
            {select("runtime", "Runtime", l.runtimes.clone())}
            {l.can_write.then(|| view! {
                <a href="/catalog/new" class="ml-auto rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
                    data-testid="service-new">"New service"</a>
            })}
        </div>
        {if l.services.is_empty() {
            let (title, hint) = if filters_on && l.total > 0 {
                ("Nothing matches", "No service you can see matches the search and filters.")
            } else if l.can_write {
                ("No services yet", "Register one with New service, or POST /services.")
            } else {
                ("No services yet", "An admin registers your tenant's services.")
            };
            view! { <EmptyState title=title hint=hint/> }.into_any()
        } else {
            view! {
                <DataTable headers=vec!["Service", "Tenant", "Team", "Runtime", "Tier", "Environments", "Provisioning"]>
                    {l.services.into_iter().map(|s| view! {
                        <tr data-testid="service-row">
                            <td data-label="Service" class="px-3 py-2">
                                <a href=format!("/catalog/{}", s.id) class="font-medium text-indigo-600 dark:text-indigo-400 hover:underline" data-testid="service-link">{s.name.clone()}</a>
                                <p class="text-xs text-slate-500 dark:text-slate-400">{s.description.clone()}</p>
                            </td>
                            <td data-label="Tenant" class="px-3 py-2 text-xs">{s.tenant.clone()}</td>
                            <td data-label="Team" class="px-3 py-2">{s.owner_team.clone()}</td>
                            <td data-label="Runtime" class="px-3 py-2">{s.runtime.clone()}</td>
                            <td data-label="Tier" class="px-3 py-2">{s.tier.clone()}</td>
                            <td data-label="Environments" class="px-3 py-2 text-xs">{s.environments.join(", ")}</td>
                            <td data-label="Provisioning" class="px-3 py-2"><Badge tone=status_tone(&s.provision_status)>{status_label(&s.provision_status)}</Badge></td>
                        </tr>
                    }).collect_view()}
                </DataTable>
            }.into_any()
        }}
    }
}
