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
use crate::error::AppError;
use crate::ui::{
    Badge, Button, ButtonKind, Card, ConfirmDialog, DataTable, EmptyState, ErrorNotice, FormError,
    INPUT_CLASS, Loading, Tone, use_toasts,
};

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

fn error_text(result: Option<Result<impl Sized, AppError>>) -> Option<String> {
    result.and_then(Result::err).map(|e| e.to_string())
}

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
        move || (param("status"), param("tenant"), param("waiting").is_some()),
        |(status, tenant, waiting)| list_pipelines(status, tenant, waiting),
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
                    <p class="text-sm text-slate-500">
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
    let mut parts: Vec<String> = ["status", "tenant", "waiting"]
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
    let (status_now, tenant_now, waiting_now) = (
        current("status"),
        current("tenant"),
        !current("waiting").is_empty(),
    );
    let filters_on = !status_now.is_empty() || !tenant_now.is_empty() || waiting_now;
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
                            <td class="px-3 py-2">
                                <a href=format!("/pipelines/{}", p.id) class="font-medium text-indigo-600 hover:underline" data-testid="pipeline-link">{p.slug.clone()}</a>
                                <p class="text-xs text-slate-500">{p.intent.clone()}</p>
                            </td>
                            <td class="px-3 py-2 text-xs">{p.tenant.clone().unwrap_or_else(|| "—".into())}</td>
                            <td class="px-3 py-2">
                                <Badge tone=status_tone(p.status)><span data-testid="pipeline-status">{status_label(p.status)}</span></Badge>
                                {p.waiting_for_you.then(|| view! { <span class="ml-1"><Badge tone=Tone::Danger>"your approval"</Badge></span> })}
                            </td>
                            <td class="px-3 py-2">{p.stage.clone()}</td>
                            <td class="px-3 py-2">{p.requested_by.clone()}</td>
                            <td class="px-3 py-2">{crate::ui::time::minutes(p.updated_at)}</td>
                        </tr>
                    }).collect_view()}
                </DataTable>
            }.into_any()
        }}
        {l.truncated.then(|| view! { <p class="text-xs text-slate-500">"Showing the newest 200; narrow the filters to see older ones."</p> })}
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

/// What the confirmation would do.
#[derive(Clone, Copy, PartialEq)]
enum Ask {
    Approve,
    Reject,
    Cancel,
}

/// One pipeline, kept current by its event stream.
#[component]
pub fn PipelinePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).unwrap_or_default();
    let decide = ServerAction::<DecideGate>::new();
    let cancel = ServerAction::<CancelPipeline>::new();
    let resume = ServerAction::<ResumePipeline>::new();
    // Bumped by each event that arrives live: the page reads the pipeline again.
    let tick = RwSignal::new(0_u32);
    let detail = Resource::new(
        move || {
            (
                id(),
                tick.get(),
                decide.version().get(),
                cancel.version().get(),
                resume.version().get(),
            )
        },
        |(id, ..)| get_pipeline(id),
    );
    let events = RwSignal::new(Vec::<EventView>::new());
    // Where the live stream starts: after the newest event of the first read.
    let since = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            let newest = d.events.last().map_or(0, |e| e.id);
            events.update(|list| {
                for e in d.events {
                    if !list.iter().any(|have| have.id == e.id) {
                        list.push(e);
                    }
                }
                list.sort_by_key(|e| e.id);
            });
            if since.get_untracked().is_none() {
                since.set(Some(newest));
            }
        }
    });
    let live = RwSignal::new(None::<bool>);
    #[cfg(feature = "hydrate")]
    live::connect(id, since, events, tick, live);
    let notes = RwSignal::new(String::new());
    let asking = RwSignal::new(None::<(Ask, String)>);
    let open = RwSignal::new(false);
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(message)) = decide.value().get() {
            toasts.success(message);
            notes.set(String::new());
        }
    });
    let confirm = Callback::new(move |()| {
        let Some((what, stage)) = asking.get_untracked() else {
            return;
        };
        match what {
            Ask::Approve | Ask::Reject => {
                decide.dispatch(DecideGate {
                    id: id(),
                    stage,
                    approve: what == Ask::Approve,
                    notes: notes.get_untracked(),
                });
            }
            Ask::Cancel => {
                cancel.dispatch(CancelPipeline { id: id() });
            }
        }
    });
    let action_error = move || {
        [
            decide.value().get().and_then(Result::err),
            cancel.value().get().and_then(Result::err),
            resume.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    let (title, message, label) = (
        Signal::derive(move || match asking.get().map(|a| a.0) {
            Some(Ask::Approve) => "Approve this gate?".to_owned(),
            Some(Ask::Reject) => "Reject this gate?".to_owned(),
            _ => "Cancel this pipeline?".to_owned(),
        }),
        Signal::derive(move || match asking.get() {
            Some((Ask::Approve, stage)) => {
                format!("The pipeline goes on past {stage}. Your name is recorded with the decision.")
            }
            Some((Ask::Reject, stage)) => {
                format!("The pipeline pauses at {stage} with your notes until someone resumes it.")
            }
            _ => "It stops for good; workers can no longer advance it.".to_owned(),
        }),
        Signal::derive(move || match asking.get().map(|a| a.0) {
            Some(Ask::Approve) => "Approve".to_owned(),
            Some(Ask::Reject) => "Reject".to_owned(),
            _ => "Cancel pipeline".to_owned(),
        }),
    );
    view! {
        <div class="space-y-6">
            {move || action_error().map(|e| view! { <div data-testid="pipeline-error"><ErrorNotice error=e/></div> })}
            <Transition fallback=|| view! { <Loading label="Loading the pipeline"/> }>
                {move || detail.get().map(|r| match r {
                    Err(e) => view! { <Title text="Pipeline"/><ErrorNotice error=e/> }.into_any(),
                    Ok(d) => view! {
                        <PipelineBody d=d notes=notes asking=asking open=open resume=resume live=live/>
                    }.into_any(),
                })}
            </Transition>
            <EventLog events=events live=live/>
            // The dialog's words change with what it asks; it is rebuilt when opened.
            {move || open.get().then(|| view! {
                <ConfirmDialog open=open title=title.get() message=message.get() confirm_label=label.get() on_confirm=confirm/>
            })}
        </div>
    }
}

#[component]
fn PipelineBody(
    d: PipelineDetail,
    notes: RwSignal<String>,
    asking: RwSignal<Option<(Ask, String)>>,
    open: RwSignal<bool>,
    resume: ServerAction<ResumePipeline>,
    live: RwSignal<Option<bool>>,
) -> impl IntoView {
    let _ = live;
    let s = d.summary.clone();
    let id = s.id.clone();
    let ended = s.status.has_ended();
    let paused = s.status == PipelineStatus::Paused;
    let can_operate = d.can_operate;
    let timeline = d.stages.clone();
    let ask_cancel = move |_| {
        asking.set(Some((Ask::Cancel, String::new())));
        open.set(true);
    };
    view! {
        <Title text=s.slug.clone()/>
        <div class="flex flex-wrap items-start justify-between gap-3">
            <div>
                <a href="/pipelines" class="text-sm text-indigo-600 hover:underline">"← Pipelines"</a>
                <h1 class="text-2xl font-semibold tracking-tight" data-testid="pipeline-title">{s.slug.clone()}</h1>
                <p class="text-sm text-slate-500">{s.intent.clone()}</p>
                <p class="mt-1 flex flex-wrap items-center gap-2 text-sm">
                    <Badge tone=status_tone(s.status)><span data-testid="pipeline-status">{status_label(s.status)}</span></Badge>
                    <span>"at " <strong data-testid="pipeline-stage">{s.stage.clone()}</strong></span>
                    <span class="text-slate-500">{format!("· tenant {} · requested by {} · id {}", s.tenant.clone().unwrap_or_else(|| "none".into()), s.requested_by, id)}</span>
                </p>
            </div>
            {(can_operate && !ended).then(|| view! {
                <div class="flex gap-2">
                    {paused.then(|| {
                        let id = id.clone();
                        view! {
                            <Button kind=ButtonKind::Primary test_id="pipeline-resume" disabled=resume.pending()
                                on_click=move |_| { resume.dispatch(ResumePipeline { id: id.clone() }); }>
                                "Resume"
                            </Button>
                        }
                    })}
                    <Button kind=ButtonKind::Danger test_id="pipeline-cancel" on_click=ask_cancel>"Cancel…"</Button>
                </div>
            })}
        </div>
        <Card title="Stages">
            <ol class="flex flex-wrap gap-2" data-testid="stage-timeline">
                {timeline.into_iter().map(|st| {
                    let (dot, text) = match st.state {
                        StageState::Done => ("bg-emerald-500", "text-slate-700 dark:text-slate-300"),
                        StageState::Current => ("bg-indigo-600 ring-4 ring-indigo-200 dark:ring-indigo-900", "font-semibold"),
                        StageState::Upcoming => ("bg-slate-300 dark:bg-slate-700", "text-slate-400"),
                    };
                    let state = match st.state { StageState::Done => "done", StageState::Current => "current", StageState::Upcoming => "upcoming" };
                    view! {
                        <li class=format!("flex items-center gap-2 rounded-md border border-slate-200 px-2 py-1 text-sm dark:border-slate-800 {text}")
                            data-testid="stage" data-state=state>
                            <span class=format!("inline-block h-2.5 w-2.5 rounded-full {dot}")></span>
                            {st.name.clone()}
                            {st.gate.is_some().then(|| view! { <span title="gate" aria-label="gate">"⛩"</span> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </Card>
        <div class="grid gap-4 md:grid-cols-2">
            {d.stages.into_iter().filter(|st| st.gate.is_some()).map(|st| view! {
                <GateCard st=st notes=notes asking=asking open=open/>
            }).collect_view()}
        </div>
        <Card title="Artifacts">
            {if d.artifacts.is_empty() {
                view! { <EmptyState title="No artifacts yet" hint="Workers attach them when they report a stage."/> }.into_any()
            } else {
                view! {
                    <DataTable headers=vec!["Stage", "Name", "Where", "Size", "SHA-256"]>
                        {d.artifacts.into_iter().map(|a| {
                            let hash = a.sha256.as_deref().map(|h| h.chars().take(12).collect::<String>()).unwrap_or_default();
                            view! {
                            <tr data-testid="artifact-row">
                                <td class="px-3 py-2">{a.stage}</td>
                                <td class="px-3 py-2">{a.name}</td>
                                <td class="px-3 py-2 font-mono text-xs break-all">{a.uri}</td>
                                <td class="px-3 py-2">{a.size_bytes.map(|b| format!("{b} B")).unwrap_or_default()}</td>
                                <td class="px-3 py-2 font-mono text-xs" title=a.sha256>{hash}</td>
                            </tr>
                        }}).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </Card>
        <Card title="Parameters">
            <pre class="overflow-x-auto text-xs" data-testid="pipeline-params">{d.params}</pre>
        </Card>
    }
}

/// A gate: its rules, where it stands, and — when it waits for the viewer — the decision.
#[component]
fn GateCard(
    st: StageView,
    notes: RwSignal<String>,
    asking: RwSignal<Option<(Ask, String)>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let Some(g) = st.gate else { return ().into_any() };
    let GateView {
        opened_at,
        due_at,
        decision,
        approvals,
        who_may_decide,
        you_may_not,
        config,
    } = g;
    let stage = st.name.clone();
    let waiting = st.state == StageState::Current && opened_at.is_some() && decision.is_none();
    let state = match (decision, waiting) {
        (Some(d), _) => view! {
            <p class="text-sm" data-testid="gate-decision">
                <Badge tone=match d.decision { super::model::Decision::Approved => Tone::Success, super::model::Decision::Rejected => Tone::Danger, super::model::Decision::Expired => Tone::Neutral }>{d.decision.as_str()}</Badge>
                {format!(" by {} at {}{}", d.by, crate::ui::time::seconds(d.at), if d.automatic { " (timer)" } else { "" })}
            </p>
            {d.notes.map(|n| view! { <p class="mt-1 text-sm italic" data-testid="gate-notes">{format!("“{n}”")}</p> })}
        }.into_any(),
        (None, true) => view! {
            <p class="text-sm" data-testid="gate-waiting"><Badge tone=Tone::Warning>"waiting"</Badge>
                {due_at.map(|t| format!(" · its timer acts at {}", crate::ui::time::seconds(t)))}
            </p>
        }.into_any(),
        (None, false) => view! { <p class="text-sm text-slate-500">"Not reached yet."</p> }.into_any(),
    };
    let needed = config.approvals_needed;
    let progress = (needed > 1).then(|| {
        format!(
            "{} of {needed} approvals{}",
            approvals.len(),
            if approvals.is_empty() {
                String::new()
            } else {
                format!(": {}", approvals.join(", "))
            }
        )
    });
    let decide = match (waiting, you_may_not) {
        (true, None) => {
            let (approve_stage, reject_stage) = (stage.clone(), stage.clone());
            let field = format!("notes-{stage}");
            view! {
                <div class="mt-3 space-y-2">
                    <label for=field.clone() class="block text-sm font-medium">"Notes (needed to reject)"</label>
                    <textarea id=field rows="2" class=INPUT_CLASS data-testid="gate-notes-input"
                        prop:value=move || notes.get()
                        on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
                    <div class="flex gap-2">
                        <Button kind=ButtonKind::Primary test_id="gate-approve" on_click=move |_| {
                            asking.set(Some((Ask::Approve, approve_stage.clone())));
                            open.set(true);
                        }>"Approve…"</Button>
                        <Button kind=ButtonKind::Danger test_id="gate-reject"
                            disabled=Signal::derive(move || notes.get().trim().is_empty())
                            on_click=move |_| {
                                asking.set(Some((Ask::Reject, reject_stage.clone())));
                                open.set(true);
                            }>"Reject…"</Button>
                    </div>
                </div>
            }.into_any()
        }
        (true, Some(why)) => view! { <p class="mt-2 text-sm text-slate-500" data-testid="gate-why-not">{format!("You cannot approve: {why}.")}</p> }.into_any(),
        (false, _) => ().into_any(),
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900"
            data-testid="gate-card" data-stage=stage>
            <h2 class="text-sm font-semibold">{format!("Gate: {stage}")}</h2>
            <p class="mb-2 text-xs text-slate-500" data-testid="gate-who">{format!("Who decides: {who_may_decide}")}</p>
            {state}
            {progress.map(|p| view! { <p class="mt-1 text-xs" data-testid="gate-progress">{p}</p> })}
            {decide}
        </section>
    }
    .into_any()
}

/// The pipeline's events, newest at the bottom; live while the stream is connected.
#[component]
fn EventLog(events: RwSignal<Vec<EventView>>, live: RwSignal<Option<bool>>) -> impl IntoView {
    view! {
        <Card title="Events">
            <p class="mb-2 text-xs" data-testid="event-feed" aria-live="polite">
                {move || match live.get() {
                    Some(true) => "● live",
                    Some(false) => "○ reconnecting…",
                    None => "○ connecting…",
                }}
            </p>
            <ol class="max-h-80 space-y-1 overflow-y-auto font-mono text-xs" data-testid="event-log">
                {move || {
                    let list = events.get();
                    if list.is_empty() {
                        view! { <li class="text-slate-500">"No events yet."</li> }.into_any()
                    } else {
                        list.into_iter().map(|e| view! {
                            <li data-testid="event" data-kind=e.kind.clone() data-id=e.id>
                                <span class="text-slate-500">{crate::ui::time::seconds(e.at)}</span>
                                " " <span class="font-semibold">{e.kind.clone()}</span>
                                {e.stage.map(|s| format!(" [{s}]"))}
                                " " {e.message}
                            </li>
                        }).collect_view().into_any()
                    }
                }}
            </ol>
        </Card>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    //! The browser end of the live log: one `EventSource` on the seed's stream, from the newest
    //! event the page read; the browser resumes with `Last-Event-ID` after a drop.

    use leptos::prelude::*;
    use leptos::serde_json;

    use crate::pipelines::model::EventView;

    pub(super) fn connect(
        id: impl Fn() -> String + Send + Sync + 'static,
        since: RwSignal<Option<i64>>,
        events: RwSignal<Vec<EventView>>,
        tick: RwSignal<u32>,
        live: RwSignal<Option<bool>>,
    ) {
        Effect::new(move |_| {
            let Some(after) = since.get() else { return };
            let url = format!("/api/v1/jobs/{}/events/stream?since={after}", id());
            let opened = crate::ui::live::listen(
                &url,
                move |data| {
                    // The first message says `connected` and has no id: it is not an event.
                    let Ok(event) = serde_json::from_str::<EventView>(&data) else {
                        live.set(Some(true));
                        return;
                    };
                    let mut added = false;
                    events.update(|list| {
                        if !list.iter().any(|e| e.id == event.id) {
                            list.push(event);
                            list.sort_by_key(|e| e.id);
                            added = true;
                        }
                    });
                    if added {
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
