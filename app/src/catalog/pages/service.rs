//! One service's page: its environments' status chips, Provision / Deploy / Deprovision
//! behind a confirmation, its live history, and (admins) Edit and Delete.

use super::*;

/// What the confirmation would do: an action on an environment (with what to warn about
/// first), or deleting the service.
#[derive(Clone, PartialEq)]
pub enum Ask {
    Act(&'static str, String, Option<String>),
    Delete,
}

#[component]
pub(super) fn ServicePageView(id: i64) -> impl IntoView {
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
        Some(Ask::Act(action, environment, _)) => {
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
            Some(Ask::Act(action, env, _)) => {
                format!("{}{} {env}?", action[..1].to_uppercase(), &action[1..])
            }
            _ => "Delete this service?".to_owned(),
        }),
        Signal::derive(move || match asking.get() {
            Some(Ask::Act("provision", env, _)) => {
                format!("Creates the {env} environment: its namespace, quota and your tenant's access.")
            }
            Some(Ask::Act("deprovision", env, _)) => {
                format!("Removes the {env} environment and everything deployed in it.")
            }
            Some(Ask::Act(_, env, _)) => format!(
                "Rolls out the image and version below to {env}; left empty, the service's configured image."
            ),
            _ => "Its history goes with it. Environments already provisioned stay until deprovisioned."
                .to_owned(),
        }),
        Signal::derive(move || match asking.get() {
            Some(Ask::Act(action, _, _)) => format!("{}{}", action[..1].to_uppercase(), &action[1..]),
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
                    Ok(p) => view! { <ServiceBody p=p asking=asking open=open live=live/> }.into_any(),
                })}
            </Transition>
            {move || open.get().then(|| view! {
                <ConfirmDialog open=open title=title.get() message=message.get() confirm_label=label.get() on_confirm=confirm>
                    <DeployFields asking image version/>
                </ConfirmDialog>
            })}
        </div>
    }
}

#[component]
pub(super) fn ServiceBody(
    p: ServicePage,
    asking: RwSignal<Option<Ask>>,
    open: RwSignal<bool>,
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
                <a href="/catalog" class="text-sm text-indigo-600 dark:text-indigo-400 hover:underline">"← Service catalog"</a>
                <h1 class="text-2xl font-semibold tracking-tight" data-testid="service-title">{s.name.clone()}</h1>
                <p class="text-sm text-slate-500 dark:text-slate-400">{s.description.clone()}</p>
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
                    <div><dt class="text-xs text-slate-500 dark:text-slate-400">{k}</dt><dd>{if v.is_empty() { "—".to_owned() } else { v }}</dd></div>
                }).collect_view()}
                <div><dt class="text-xs text-slate-500 dark:text-slate-400">"Repository"</dt>
                    <dd><a href=s.repo_url.clone() rel="noopener noreferrer" class="text-indigo-600 dark:text-indigo-400 hover:underline break-all">{s.repo_url.clone()}</a></dd></div>
            </dl>
            <ul class="mt-3 flex flex-wrap gap-3 text-sm" data-testid="service-link-list">
                {s.observability_dashboard_url.clone().map(|u| view! { <li><a href=u rel="noopener noreferrer" class="text-indigo-600 dark:text-indigo-400 hover:underline">"Dashboard"</a></li> })}
                {s.links.iter().map(|l| view! { <li><a href=l.url.clone() rel="noopener noreferrer" class="text-indigo-600 dark:text-indigo-400 hover:underline">{l.title.clone()}</a></li> }).collect_view()}
            </ul>
        </Card>
        <Card title="Environments">
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

pub(super) fn chip(record: Option<&ActionRecord>, none: &'static str) -> AnyView {
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
pub(super) fn EnvironmentCard(
    e: EnvironmentState,
    can_act: bool,
    ask: impl Fn(Ask) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = e.name.clone();
    let busy = e.provision.as_ref().is_some_and(|a| action_is_open(&a.status))
        || e.deploy.as_ref().is_some_and(|a| action_is_open(&a.status));
    // A deploy to an environment that is not provisioned lands nowhere useful: say so first.
    let provisioned = e
        .provision
        .as_ref()
        .is_some_and(|a| a.action == crate::catalog::ActionKind::Provision && a.status == "succeeded");
    let warning = (!provisioned).then(|| match e.provision.as_ref() {
        None => format!(
            "{} was never provisioned: it has no namespace, quota or access yet. Provision it first, or deploy anyway.",
            e.name
        ),
        Some(a) => format!(
            "{} is not provisioned (its last {} {}). Provision it first, or deploy anyway.",
            e.name,
            a.action.as_str(),
            status_label(&a.status)
        ),
    });
    let button = move |action: &'static str, label: &'static str, kind: ButtonKind| {
        let env = name.clone();
        let warning = if action == "deploy" { warning.clone() } else { None };
        view! {
            <Button kind=kind test_id=action disabled=Signal::derive(move || busy)
                on_click=move |_| ask(Ask::Act(action, env.clone(), warning.clone()))>{label}</Button>
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
            {deploy_detail.map(|d| view! { <p class="mt-1 text-xs text-slate-500 dark:text-slate-400 break-all" data-testid="env-deploy-detail">{d}</p> })}
            {pipeline.map(|id| view! {
                <p class="mt-1 text-xs"><a href=format!("/pipelines/{id}") class="text-indigo-600 dark:text-indigo-400 hover:underline" data-testid="env-approval">"Waiting for approval: open the pipeline"</a></p>
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

/// The Deploy question's own part: the warning for an environment that is not provisioned, and
/// the image and version to roll out (kept between questions, so a second deploy starts from
/// the last one). Nothing for the other questions.
#[component]
fn DeployFields(
    asking: RwSignal<Option<Ask>>,
    image: RwSignal<String>,
    version: RwSignal<String>,
) -> impl IntoView {
    let Some(Ask::Act("deploy", _, warning)) = asking.get_untracked() else {
        return ().into_any();
    };
    view! {
        {warning.map(|w| view! {
            <p role="alert" data-testid="deploy-warning" class="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">{w}</p>
        })}
        <div class="grid gap-3 sm:grid-cols-2">
            <label class="text-sm">"Image"
                <input class=INPUT_CLASS data-testid="deploy-image" placeholder="registry.example.com/payments"
                    prop:value=move || image.get() on:input=move |ev| image.set(event_target_value(&ev))/></label>
            <label class="text-sm">"Version"
                <input class=INPUT_CLASS data-testid="deploy-version" placeholder="latest"
                    prop:value=move || version.get() on:input=move |ev| version.set(event_target_value(&ev))/></label>
        </div>
    }
    .into_any()
}

#[component]
pub(super) fn History(history: Vec<ActionRecord>) -> impl IntoView {
    if history.is_empty() {
        return view! { <EmptyState title="Nothing yet" hint="Provision, deploy or deprovision: each action is kept here."/> }.into_any();
    }
    view! {
        <DataTable headers=vec!["When", "Action", "Environment", "Status", "By", "Detail"]>
            {history.into_iter().map(|a| { let status = a.status.clone(); let rejected = a.status == "rejected"; view! {
                <tr data-testid="history-row" data-status=status>
                    <td data-label="When" class="px-3 py-2 text-xs"><crate::ui::time::Ago at=a.created_at/></td>
                    <td data-label="Action" class="px-3 py-2">{a.action.as_str()}</td>
                    <td data-label="Environment" class="px-3 py-2">{a.environment.clone().unwrap_or_else(|| "all".into())}</td>
                    <td data-label="Status" class="px-3 py-2"><Badge tone=status_tone(&a.status)>{status_label(&a.status)}</Badge></td>
                    <td data-label="By" class="px-3 py-2">
                        {a.requested_by.clone()}
                        // Who let a protected deploy through (or stopped it), linking its pipeline.
                        {a.decided_by.clone().map(|by| {
                            let verb = if rejected { "rejected by" } else { "approved by" };
                            let text = format!("{verb} {by}");
                            view! {
                                <p class="text-xs" data-testid="history-decided">
                                    {match a.pipeline_id.clone() {
                                        Some(id) => view! { <a href=format!("/pipelines/{id}") class="text-indigo-700 hover:underline dark:text-indigo-300">{text}</a> }.into_any(),
                                        None => view! { <span>{text}</span> }.into_any(),
                                    }}
                                </p>
                            }
                        })}
                    </td>
                    <td data-label="Detail" class="px-3 py-2 text-xs break-all">{a.detail}</td>
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
            if !crate::ui::hydrated::page_hydrated() {
                return;
            }
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
