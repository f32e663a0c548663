//! The pipeline pages, each a lazy route (its own WASM chunk): the list (`/pipelines`, filters
//! in the address: `?status=`, `?tenant=`, `?waiting=1`) with the form that starts one, and a
//! pipeline (`/pipelines/{id}`): its stage timeline, gate cards with Approve / Reject, the live
//! event log (the seed's event stream, subscribed to, never polled), artifacts, parameters.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::{LazyRoute, NavigateOptions, lazy_route};

use super::api::{CancelPipeline, CreatePipeline, DecideGate, ResumePipeline, get_pipeline, list_pipelines};
use super::model::{EventView, GateView, PipelineDetail, PipelineList, StageState, StageView};
use super::state::PipelineStatus;
use crate::ui::{
    Badge, Button, ButtonKind, Card, ConfirmDialog, DataTable, EmptyState, ErrorNotice, FormError,
    INPUT_CLASS, Loading, Tone, use_toasts,
};

mod detail;
mod events;
mod gate;
#[cfg(feature = "hydrate")]
mod live;

pub use detail::*;
use events::*;

fn status_tone(status: PipelineStatus) -> Tone {
    match status {
        PipelineStatus::NeedsApproval | PipelineStatus::Paused => Tone::Warning,
        PipelineStatus::Running | PipelineStatus::Queued => Tone::Info,
        PipelineStatus::Completed => Tone::Success,
        PipelineStatus::Failed => Tone::Danger,
        PipelineStatus::Canceled => Tone::Neutral,
    }
}

fn status_label(status: PipelineStatus) -> &'static str {
    match status {
        PipelineStatus::NeedsApproval => "needs approval",
        other => other.as_str(),
    }
}

use crate::error::error_text;

/// Both pipeline pages, as one lazy route (one chunk; the initial bundle carries one lazy-route
/// instantiation for them, not two): the list at `/pipelines`, one at `/pipelines/{id}`.
pub struct PipelinesRoute;

#[lazy_route]
impl LazyRoute for PipelinesRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        let params = use_params_map();
        let one = move || params.with(|p| p.get("id").is_some());
        view! {
            {move || if one() { view! { <PipelinePage/> }.into_any() } else { view! { <PipelinesPage/> }.into_any() }}
        }
        .into_any()
    }
}

/// The list, its filters and the "New pipeline" form.
#[component]
pub fn PipelinesPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name)).filter(|v| !v.is_empty());
    let create = ServerAction::<CreatePipeline>::new();
    let list = Resource::new(
        move || {
            (
                param("status"),
                param("tenant"),
                param("waiting").is_some(),
                param("mine").is_some(),
            )
        },
        |(status, tenant, waiting, mine)| list_pipelines(status, tenant, waiting, Some(mine)),
    );
    let navigate = use_navigate();
    // A created pipeline opens its own page.
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/pipelines/{id}"), NavigateOptions::default());
        }
    });
    let show_form = RwSignal::new(false);
    view! {
        <Title text="Pipelines"/>
        <div class="space-y-6">
            <div class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Pipelines"</h1>
                    <p class="text-sm text-slate-500 dark:text-slate-400">
                        "Stages run by workers through the API; gates wait for the right people to approve or reject."
                    </p>
                </div>
            </div>
            <Transition fallback=|| view! { <Loading label="Loading pipelines"/> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(l) => view! { <PipelineListBody l=l create=create show_form=show_form/> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

/// Rewrites one filter in the address (the list follows the address).
fn filter_href(query: &leptos_router::params::ParamsMap, name: &str, value: &str) -> String {
    let mut parts: Vec<String> = ["status", "tenant", "waiting", "mine"]
        .into_iter()
        .filter(|k| *k != name)
        .filter_map(|k| query.get(k).filter(|v| !v.is_empty()).map(|v| format!("{k}={v}")))
        .collect();
    if !value.is_empty() {
        parts.push(format!("{name}={value}"));
    }
    if parts.is_empty() {
        "/pipelines".to_owned()
    } else {
        format!("/pipelines?{}", parts.join("&"))
    }
}

#[component]
fn PipelineListBody(
    l: PipelineList,
    create: ServerAction<CreatePipeline>,
    show_form: RwSignal<bool>,
) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let go = move |name: &'static str, value: String| {
        let href = query.with_untracked(|q| filter_href(q, name, &value));
        navigate(&href, NavigateOptions::default());
    };
    let current = move |name: &str| query.with_untracked(|q| q.get(name)).unwrap_or_default();
    let (status_now, tenant_now, waiting_now, mine_now) = (
        current("status"),
        current("tenant"),
        !current("waiting").is_empty(),
        !current("mine").is_empty(),
    );
    let filters_on = !status_now.is_empty() || !tenant_now.is_empty() || waiting_now || mine_now;
    let go_mine = go.clone();
    let tenants = l.tenants.clone();
    let form_tenants = l.tenants.clone();
    let go_status = go.clone();
    let go_tenant = go.clone();
    view! {
        <div class="flex flex-wrap items-end gap-4" data-testid="pipeline-filters">
            <label class="text-sm">"Status "
                <select class=INPUT_CLASS data-testid="filter-status" on:change=move |ev| go_status("status", event_target_value(&ev))>
                    <option value="" selected=status_now.is_empty()>"any"</option>
                    {PipelineStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=status_now == s.as_str()>{status_label(s)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="text-sm">"Tenant "
                <select class=INPUT_CLASS data-testid="filter-tenant" on:change=move |ev| go_tenant("tenant", event_target_value(&ev))>
                    <option value="" selected=tenant_now.is_empty()>"any"</option>
                    {tenants.into_iter().map(|t| view! {
                        <option value=t.clone() selected=tenant_now == t>{t.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="flex items-center gap-2 pb-1.5 text-sm">
                <input
                    type="checkbox"
                    data-testid="filter-waiting"
                    prop:checked=waiting_now
                    on:change=move |ev| go("waiting", if event_target_checked(&ev) { "1".into() } else { String::new() })
                />
                "Waiting for my approval"
            </label>
            <label class="flex items-center gap-2 pb-1.5 text-sm">
                <input
                    type="checkbox"
                    data-testid="filter-mine"
                    prop:checked=mine_now
                    on:change=move |ev| go_mine("mine", if event_target_checked(&ev) { "1".into() } else { String::new() })
                />
                "Mine"
            </label>
            {l.can_create.then(|| view! {
                <div class="ml-auto">
                    <Button kind=ButtonKind::Primary test_id="pipeline-new" on_click=move |_| show_form.update(|s| *s = !*s)>
                        "New pipeline"
                    </Button>
                </div>
            })}
        </div>
        <Show when=move || show_form.get()>
            <NewPipelineForm create=create tenants=form_tenants.clone()/>
        </Show>
        {if l.pipelines.is_empty() {
            let (title, hint) = if filters_on {
                ("Nothing matches", "No pipeline you can see matches these filters.")
            } else {
                ("No pipelines yet", "Start one with New pipeline, or POST /api/v1/jobs.")
            };
            view! { <EmptyState title=title hint=hint/> }.into_any()
        } else {
            view! {
                <DataTable headers=vec!["Pipeline", "Tenant", "Status", "Stage", "Requested by", "Updated"]>
                    {l.pipelines.into_iter().map(|p| view! {
                        <tr data-testid="pipeline-row">
                            <td data-label="Pipeline" class="px-3 py-2">
                                <a href=format!("/pipelines/{}", p.id) class="font-medium text-indigo-600 dark:text-indigo-400 hover:underline" data-testid="pipeline-link">{p.slug.clone()}</a>
                                <p class="text-xs text-slate-500 dark:text-slate-400">{p.intent.clone()}</p>
                            </td>
                            <td data-label="Tenant" class="px-3 py-2 text-xs">{p.tenant.clone().unwrap_or_else(|| "—".into())}</td>
                            <td data-label="Status" class="px-3 py-2">
                                <Badge tone=status_tone(p.status)><span data-testid="pipeline-status">{status_label(p.status)}</span></Badge>
                                {p.waiting_for_you.then(|| view! { <span class="ml-1"><Badge tone=Tone::Danger>"your approval"</Badge></span> })}
                            </td>
                            <td data-label="Stage" class="px-3 py-2">{p.stage.clone()}</td>
                            <td data-label="Requested by" class="px-3 py-2">{p.requested_by.clone()}</td>
                            <td data-label="Updated" class="px-3 py-2"><crate::ui::time::Ago at=p.updated_at/></td>
                        </tr>
                    }).collect_view()}
                </DataTable>
            }.into_any()
        }}
        {l.truncated.then(|| view! { <p class="text-xs text-slate-500 dark:text-slate-400">"Showing the newest 200; narrow the filters to see older ones."</p> })}
    }
}

#[component]
fn NewPipelineForm(create: ServerAction<CreatePipeline>, tenants: Vec<String>) -> impl IntoView {
    let many = tenants.len() > 1;
    view! {
        <Card title="New pipeline">
            <ActionForm action=create attr:class="grid gap-3 md:grid-cols-2" attr:data-testid="pipeline-form">
                <label class="text-sm">"Name (slug)"
                    <input name="slug" required maxlength="100" class=INPUT_CLASS data-testid="pipeline-slug" placeholder="release-2026-11"/>
                </label>
                <label class="text-sm">"Intent"
                    <input name="intent" class=INPUT_CLASS data-testid="pipeline-intent" placeholder="What it is for"/>
                </label>
                {if many {
                    view! {
                        <label class="text-sm">"Tenant"
                            <select name="tenant" required class=INPUT_CLASS data-testid="pipeline-tenant">
                                {tenants.into_iter().map(|t| {
                                    let label = t.clone();
                                    view! { <option value=t>{label}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }.into_any()
                } else {
                    // One tenant (or none, for admins): the service picks it.
                    view! { <input type="hidden" name="tenant" value=tenants.first().cloned().unwrap_or_default()/> }.into_any()
                }}
                <label class="text-sm md:col-span-2">"Brief"
                    <textarea name="brief" rows="2" class=INPUT_CLASS data-testid="pipeline-brief"></textarea>
                </label>
                <div class="md:col-span-2 flex items-center gap-3">
                    <Button kind=ButtonKind::Primary submit=true test_id="pipeline-create" disabled=create.pending()>"Start pipeline"</Button>
                    <FormError message=Signal::derive(move || error_text(create.value().get()))/>
                </div>
            </ActionForm>
        </Card>
    }
}
