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

fn error_text<T>(result: Option<Result<T, AppError>>) -> Option<String> {
    result.and_then(Result::err).map(|e| e.to_string())
}

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
                <p class="text-sm text-slate-500">
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
                            <td class="px-3 py-2">
                                <a href=format!("/catalog/{}", s.id) class="font-medium text-indigo-600 hover:underline" data-testid="service-link">{s.name.clone()}</a>
                                <p class="text-xs text-slate-500">{s.description.clone()}</p>
                            </td>
                            <td class="px-3 py-2 text-xs">{s.tenant.clone()}</td>
                            <td class="px-3 py-2">{s.owner_team.clone()}</td>
                            <td class="px-3 py-2">{s.runtime.clone()}</td>
                            <td class="px-3 py-2">{s.tier.clone()}</td>
                            <td class="px-3 py-2 text-xs">{s.environments.join(", ")}</td>
                            <td class="px-3 py-2"><Badge tone=status_tone(&s.provision_status)>{status_label(&s.provision_status)}</Badge></td>
                        </tr>
                    }).collect_view()}
                </DataTable>
            }.into_any()
        }}
    }
}

#[component]
fn NewServicePage() -> impl IntoView {
    let list = Resource::new(
        || (),
        |()| list_services(String::new(), String::new(), String::new(), String::new()),
    );
    view! {
        <Title text="New service"/>
        <div class="space-y-6">
            <a href="/catalog" class="text-sm text-indigo-600 hover:underline">"← Service catalog"</a>
            <h1 class="text-2xl font-semibold tracking-tight">"New service"</h1>
            <Transition fallback=|| view! { <Loading label="Loading"/> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(l) if !l.can_write => view! {
                        <ErrorNotice error=AppError::forbidden("only admins register services")/>
                    }.into_any(),
                    Ok(l) => view! { <ServiceForm service=None tenants=l.form_tenants/> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

/// The create / edit form; each refused field says why beside it.
#[component]
fn ServiceForm(service: Option<Service>, tenants: Vec<String>) -> impl IntoView {
    let save = ServerAction::<SaveService>::new();
    let navigate = use_navigate();
    let toasts = use_toasts();
    let editing = service.is_some();
    Effect::new(move |_| {
        if let Some(Ok(id)) = save.value().get() {
            toasts.success(if editing {
                "Service saved"
            } else {
                "Service registered"
            });
            navigate(&format!("/catalog/{id}"), NavigateOptions::default());
        }
    });
    let s = service.clone();
    let value = move |f: fn(&Service) -> String| s.as_ref().map(f).unwrap_or_default();
    let current_tenant = service.as_ref().map(|s| s.tenant.clone()).unwrap_or_default();
    let field = move |name: &'static str, label: &'static str, initial: String, hint: &'static str| {
        let error = field_error(save, name);
        view! {
            <label class="text-sm">{label}
                <input name=name value=initial class=INPUT_CLASS data-testid=format!("service-{name}") placeholder=hint
                    aria-invalid=move || error.get().is_some().to_string()/>
                <span class="block text-xs text-red-600" data-testid=format!("error-{name}")>{move || error.get()}</span>
            </label>
        }
    };
    let tenant_error = field_error(save, "tenant");
    let links_error = field_error(save, "links");
    let description_error = field_error(save, "description");
    view! {
        <Card title=if editing { "Edit service" } else { "Register a service" }>
            <ActionForm action=save attr:class="grid gap-3 md:grid-cols-2" attr:data-testid="service-form">
                {service.as_ref().map(|s| view! { <input type="hidden" name="id" value=s.id/> })}
                {field("name", "Name", value(|s| s.name.clone()), "payments")}
                <label class="text-sm">"Tenant"
                    <select name="tenant" class=INPUT_CLASS data-testid="service-tenant">
                        {tenants.into_iter().map(|t| {
                            let selected = t == current_tenant;
                            let label = t.clone();
                            view! { <option value=t selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                    <span class="block text-xs text-red-600" data-testid="error-tenant">{move || tenant_error.get()}</span>
                </label>
                {field("repo_url", "Repository URL", value(|s| s.repo_url.clone()), "https://git.example.com/payments")}
                {field("owner_team", "Owner team", value(|s| s.owner_team.clone()), "Payments")}
                {field("runtime", "Runtime", value(|s| s.runtime.clone()), "go")}
                {field("tier", "Tier", value(|s| s.tier.clone()), "tier-1")}
                {field("environments", "Environments (comma-separated)", value(|s| s.environments.join(", ")), "dev, prod")}
                {field("tags", "Tags (comma-separated)", value(|s| s.tags.join(", ")), "payments, pci")}
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="observability_enabled" value="on" data-testid="service-observability"
                        checked=service.as_ref().is_some_and(|s| s.observability_enabled)/>
                    "Observability (dashboard link)"
                </label>
                <label class="text-sm md:col-span-2">"Description"
                    <textarea name="description" rows="2" class=INPUT_CLASS data-testid="service-description">
                        {service.as_ref().map(|s| s.description.clone()).unwrap_or_default()}
                    </textarea>
                    <span class="block text-xs text-red-600" data-testid="error-description">{move || description_error.get()}</span>
                </label>
                <label class="text-sm md:col-span-2">"Links (one per line: title, then URL)"
                    <textarea name="links" rows="2" class=INPUT_CLASS data-testid="service-links" placeholder="Runbook https://wiki.example.com/payments">
                        {service.as_ref().map(|s| s.links.iter().map(|l| format!("{} {}", l.title, l.url)).collect::<Vec<_>>().join("\n")).unwrap_or_default()}
                    </textarea>
                    <span class="block text-xs text-red-600" data-testid="error-links">{move || links_error.get()}</span>
                </label>
                <div class="flex items-center gap-3 md:col-span-2">
                    <Button kind=ButtonKind::Primary submit=true test_id="service-save" disabled=save.pending()>
                        {if editing { "Save" } else { "Register service" }}
                    </Button>
                    {service.as_ref().map(|s| view! { <a href=format!("/catalog/{}", s.id) class="text-sm text-slate-500 hover:underline">"Cancel"</a> })}
                    <FormError message=Signal::derive(move || match save.value().get() {
                        // A field's own error is shown beside it.
                        Some(Err(AppError::Invalid { .. })) => Some("Some fields need attention.".to_owned()),
                        other => error_text(other),
                    })/>
                </div>
            </ActionForm>
        </Card>
    }
}

/// What the confirmation would do.
#[derive(Clone, PartialEq)]
enum Ask {
    Act(&'static str, String),
    Delete,
}

#[component]
fn ServicePageView(id: i64) -> impl IntoView {
    let run = ServerAction::<RunServiceAction>::new();
    let remove = ServerAction::<DeleteService>::new();
    // Bumped by each change the service's stream announces: the page reads it again.
    let tick = RwSignal::new(0_u32);
    let query = use_query_map();
    let editing = move || query.with(|q| q.get("edit")).is_some_and(|v| !v.is_empty());
    // Leaving the form (saved or not) reads the service again.
    let page = Resource::new(
        move || (id, tick.get(), run.version().get(), editing()),
        |(id, ..)| get_service_page(id),
    );
    let live = RwSignal::new(None::<bool>);
    #[cfg(feature = "hydrate")]
    live::connect(id, tick, live);
    let asking = RwSignal::new(None::<Ask>);
    let open = RwSignal::new(false);
    let image = RwSignal::new(String::new());
    let version = RwSignal::new(String::new());
    let toasts = use_toasts();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(a)) = run.value().get() {
            toasts.success(format!(
                "{} {}: {}",
                a.action.as_str(),
                a.environment.clone().unwrap_or_default(),
                status_label(&a.status)
            ));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            toasts.success("Service deleted");
            navigate("/catalog", NavigateOptions::default());
        }
    });
    let confirm = Callback::new(move |()| match asking.get_untracked() {
        Some(Ask::Act(action, environment)) => {
            let text =
                |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty());
            let deploy = action == "deploy";
            run.dispatch(RunServiceAction {
                id,
                action: action.to_owned(),
                environment: Some(environment),
                image: if deploy { text(image) } else { None },
                version: if deploy { text(version) } else { None },
            });
        }
        Some(Ask::Delete) => {
            remove.dispatch(DeleteService { id });
        }
        None => {}
    });
    let (title, message, label) = (
        Signal::derive(move || match asking.get() {
            Some(Ask::Act(action, env)) => format!("{}{} {env}?", action[..1].to_uppercase(), &action[1..]),
            _ => "Delete this service?".to_owned(),
        }),
        Signal::derive(move || match asking.get() {
            Some(Ask::Act("provision", env)) => {
                format!("Creates the {env} environment: its namespace, quota and your tenant's access.")
            }
            Some(Ask::Act("deprovision", env)) => {
                format!("Removes the {env} environment and everything deployed in it.")
            }
            Some(Ask::Act(_, env)) => format!("Rolls out {} to {env}.", {
                let i = image.get_untracked();
                let v = version.get_untracked();
                match (i.trim(), v.trim()) {
                    ("", "") => "the default image".to_owned(),
                    ("", v) => format!("version {v}"),
                    (i, "") => i.to_owned(),
                    (i, v) => format!("{i}:{v}"),
                }
            }),
            _ => "Its history goes with it. Environments already provisioned stay until deprovisioned."
                .to_owned(),
        }),
        Signal::derive(move || match asking.get() {
            Some(Ask::Act(action, _)) => format!("{}{}", action[..1].to_uppercase(), &action[1..]),
            _ => "Delete".to_owned(),
        }),
    );
    let action_error = move || {
        [
            run.value().get().and_then(Result::err),
            remove.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <div class="space-y-6">
            {move || action_error().map(|e| view! { <div data-testid="service-error"><ErrorNotice error=e/></div> })}
            <Transition fallback=|| view! { <Loading label="Loading the service"/> }>
                {move || page.get().map(|r| match r {
                    Err(e) => view! { <Title text="Service"/><ErrorNotice error=e/> }.into_any(),
                    Ok(p) if editing() => view! {
                        <Title text=format!("Edit {}", p.service.name)/>
                        <ServiceForm service=Some(p.service) tenants=p.form_tenants/>
                    }.into_any(),
                    Ok(p) => view! { <ServiceBody p=p asking=asking open=open image=image version=version live=live/> }.into_any(),
                })}
            </Transition>
            {move || open.get().then(|| view! {
                <ConfirmDialog open=open title=title.get() message=message.get() confirm_label=label.get() on_confirm=confirm/>
            })}
        </div>
    }
}

#[component]
fn ServiceBody(
    p: ServicePage,
    asking: RwSignal<Option<Ask>>,
    open: RwSignal<bool>,
    image: RwSignal<String>,
    version: RwSignal<String>,
    live: RwSignal<Option<bool>>,
) -> impl IntoView {
    let s = p.service.clone();
    let ask = move |what: Ask| {
        asking.set(Some(what));
        open.set(true);
    };
    let details = [
        ("Tenant", s.tenant.clone()),
        ("Owner team", s.owner_team.clone()),
        ("Runtime", s.runtime.clone()),
        ("Tier", s.tier.clone()),
        ("Tags", s.tags.join(", ")),
    ];
    view! {
        <Title text=s.name.clone()/>
        <div class="flex flex-wrap items-start justify-between gap-3">
            <div>
                <a href="/catalog" class="text-sm text-indigo-600 hover:underline">"← Service catalog"</a>
                <h1 class="text-2xl font-semibold tracking-tight" data-testid="service-title">{s.name.clone()}</h1>
                <p class="text-sm text-slate-500">{s.description.clone()}</p>
            </div>
            {p.can_write.then(|| view! {
                <div class="flex gap-2">
                    <a href=format!("/catalog/{}?edit=1", s.id) class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800"
                        data-testid="service-edit">"Edit"</a>
                    <Button kind=ButtonKind::Danger test_id="service-delete" on_click=move |_| ask(Ask::Delete)>"Delete…"</Button>
                </div>
            })}
        </div>
        <Card title="Details">
            <dl class="grid gap-x-6 gap-y-1 text-sm md:grid-cols-3">
                {details.into_iter().map(|(k, v)| view! {
                    <div><dt class="text-xs text-slate-500">{k}</dt><dd>{if v.is_empty() { "—".to_owned() } else { v }}</dd></div>
                }).collect_view()}
                <div><dt class="text-xs text-slate-500">"Repository"</dt>
                    <dd><a href=s.repo_url.clone() rel="noopener noreferrer" class="text-indigo-600 hover:underline break-all">{s.repo_url.clone()}</a></dd></div>
            </dl>
            <ul class="mt-3 flex flex-wrap gap-3 text-sm" data-testid="service-link-list">
                {s.observability_dashboard_url.clone().map(|u| view! { <li><a href=u rel="noopener noreferrer" class="text-indigo-600 hover:underline">"Dashboard"</a></li> })}
                {s.links.iter().map(|l| view! { <li><a href=l.url.clone() rel="noopener noreferrer" class="text-indigo-600 hover:underline">{l.title.clone()}</a></li> }).collect_view()}
            </ul>
        </Card>
        <Card title="Environments">
            {p.can_act.then(|| view! {
                <div class="mb-3 flex flex-wrap gap-3 text-sm">
                    <label>"Image " <input class=INPUT_CLASS data-testid="deploy-image" placeholder="registry.example.com/payments"
                        prop:value=move || image.get() on:input=move |ev| image.set(event_target_value(&ev))/></label>
                    <label>"Version " <input class=INPUT_CLASS data-testid="deploy-version" placeholder="latest"
                        prop:value=move || version.get() on:input=move |ev| version.set(event_target_value(&ev))/></label>
                </div>
            })}
            <div class="grid gap-3 md:grid-cols-2" data-testid="environments">
                {p.environments.into_iter().map(|e| view! { <EnvironmentCard e=e can_act=p.can_act ask=ask/> }).collect_view()}
            </div>
        </Card>
        <Card title="History">
            <p class="mb-2 text-xs" data-testid="history-feed" aria-live="polite">
                {move || match live.get() {
                    Some(true) => "● live",
                    Some(false) => "○ reconnecting…",
                    None => "○ connecting…",
                }}
            </p>
            <History history=p.history/>
        </Card>
    }
    .into_any()
}

fn chip(record: Option<&ActionRecord>, none: &'static str) -> AnyView {
    match record {
        None => view! { <Badge tone=Tone::Neutral>{none}</Badge> }.into_any(),
        Some(a) => {
            let label = status_label(&a.status);
            let label = if a.action.as_str() == "deprovision" && a.status == "succeeded" {
                "deprovisioned".to_owned()
            } else if action_is_open(&a.status) {
                format!("⟳ {label}")
            } else {
                label
            };
            let (tone, detail) = (status_tone(&a.status), a.detail.clone());
            view! {
                <span title=detail>
                    <Badge tone=tone>{label}</Badge>
                </span>
            }
            .into_any()
        }
    }
}

#[component]
fn EnvironmentCard(
    e: EnvironmentState,
    can_act: bool,
    ask: impl Fn(Ask) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = e.name.clone();
    let busy = e.provision.as_ref().is_some_and(|a| action_is_open(&a.status))
        || e.deploy.as_ref().is_some_and(|a| action_is_open(&a.status));
    let button = move |action: &'static str, label: &'static str, kind: ButtonKind| {
        let env = name.clone();
        view! {
            <Button kind=kind test_id=action disabled=Signal::derive(move || busy)
                on_click=move |_| ask(Ask::Act(action, env.clone()))>{label}</Button>
        }
    };
    let deploy_detail = e.deploy.as_ref().map(|a| {
        format!(
            "{}{}",
            a.image.clone().map(|i| format!("{i} · ")).unwrap_or_default(),
            a.detail
        )
    });
    let pipeline = e
        .deploy
        .as_ref()
        .filter(|a| a.status == "awaiting_approval")
        .and_then(|a| a.pipeline_id.clone());
    view! {
        <section class="rounded-md border border-slate-200 p-3 dark:border-slate-800" data-testid="environment" data-env=e.name>
            <h3 class="flex items-center gap-2 font-semibold">
                {e.name.clone()}
                {e.protected.then(|| view! { <Badge tone=Tone::Warning>"approval required"</Badge> })}
            </h3>
            <p class="mt-1 flex items-center gap-2 text-sm">"Provisioned: "
                <span data-testid="env-provision">{chip(e.provision.as_ref(), "not requested")}</span></p>
            <p class="mt-1 flex items-center gap-2 text-sm">"Deployed: "
                <span data-testid="env-deploy">{chip(e.deploy.as_ref(), "never")}</span></p>
            {deploy_detail.map(|d| view! { <p class="mt-1 text-xs text-slate-500 break-all" data-testid="env-deploy-detail">{d}</p> })}
            {pipeline.map(|id| view! {
                <p class="mt-1 text-xs"><a href=format!("/pipelines/{id}") class="text-indigo-600 hover:underline" data-testid="env-approval">"Waiting for approval: open the pipeline"</a></p>
            })}
            {can_act.then(|| view! {
                <div class="mt-3 flex flex-wrap gap-2">
                    {button("provision", "Provision…", ButtonKind::Secondary)}
                    {button("deploy", "Deploy…", ButtonKind::Primary)}
                    {button("deprovision", "Deprovision…", ButtonKind::Danger)}
                </div>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn History(history: Vec<ActionRecord>) -> impl IntoView {
    if history.is_empty() {
        return view! { <EmptyState title="Nothing yet" hint="Provision, deploy or deprovision: each action is kept here."/> }.into_any();
    }
    view! {
        <DataTable headers=vec!["When", "Action", "Environment", "Status", "By", "Detail"]>
            {history.into_iter().map(|a| { let status = a.status.clone(); view! {
                <tr data-testid="history-row" data-status=status>
                    <td class="px-3 py-2 text-xs">{crate::ui::time::seconds(a.created_at)}</td>
                    <td class="px-3 py-2">{a.action.as_str()}</td>
                    <td class="px-3 py-2">{a.environment.clone().unwrap_or_else(|| "all".into())}</td>
                    <td class="px-3 py-2"><Badge tone=status_tone(&a.status)>{status_label(&a.status)}</Badge></td>
                    <td class="px-3 py-2">{a.requested_by.clone()}</td>
                    <td class="px-3 py-2 text-xs break-all">{a.detail}</td>
                </tr>
            }}).collect_view()}
        </DataTable>
    }
    .into_any()
}

#[cfg(feature = "hydrate")]
mod live {
    //! The browser end of the live history: the service's change stream; each change re-reads
    //! the page.

    use leptos::prelude::*;

    pub(super) fn connect(id: i64, tick: RwSignal<u32>, live: RwSignal<Option<bool>>) {
        Effect::new(move |_| {
            let opened = crate::ui::live::listen(
                &format!("/services/{id}/events"),
                // The first message says the stream is open; every other one is a change.
                move |data| {
                    if data == "connected" {
                        live.set(Some(true));
                    } else {
                        tick.update(|t| *t = t.wrapping_add(1));
                    }
                },
                move || live.set(Some(false)),
            );
            if !opened {
                live.set(Some(false));
            }
        });
    }
}
