//! One job's drawer: its facts, links, YAML and actions (each behind a confirmation).

use super::*;

#[component]
pub(super) fn Fact(label: &'static str, value: Option<String>) -> impl IntoView {
    view! {
        <div class="flex justify-between gap-4 py-1">
            <dt class="text-slate-500 dark:text-slate-400">{label}</dt>
            <dd class="text-right font-mono text-xs break-all">{value.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".to_owned())}</dd>
        </div>
    }
}

/// What the drawer keeps while its job changes under it: the drawer re-renders on every status
/// update of the open job, and an open confirmation, a pending action or a loaded YAML must
/// survive that. (Resetting it from an effect on the URL closed an open confirmation on every
/// update: the browser test caught it.)
#[derive(Clone, Copy)]
pub(super) struct DrawerState {
    pub(super) action: ServerAction<FlinkJobAction>,
    pub(super) pending: RwSignal<Option<JobAction>>,
    pub(super) confirm_open: RwSignal<bool>,
    /// The YAML with the key of the job it is of: another job's is not shown.
    pub(super) yaml: RwSignal<Option<(String, Result<String, String>)>>,
}

impl DrawerState {
    pub(super) fn new() -> Self {
        let state = Self {
            action: ServerAction::<FlinkJobAction>::new(),
            pending: RwSignal::new(None),
            confirm_open: RwSignal::new(false),
            yaml: RwSignal::new(None),
        };
        let toasts = use_toasts();
        Effect::new(move |_| match state.action.value().get() {
            Some(Ok(())) => toasts.success("Done: the operator picks the change up from the spec."),
            Some(Err(e)) => toasts.error(e.for_people()),
            None => {}
        });
        state
    }
}

#[component]
pub(super) fn JobDrawer(job: FlinkJob, url: UrlState, state: DrawerState) -> impl IntoView {
    let viewer = use_viewer();
    let may_act = move || {
        viewer
            .get()
            .and_then(|v| v.user)
            .is_some_and(|u| u.role >= Role::Developer)
    };
    let DrawerState {
        action,
        pending,
        confirm_open,
        yaml,
    } = state;
    let (namespace, name) = (job.namespace.clone(), job.name.clone());
    let yaml_key = job.key();
    let load_yaml = {
        let (namespace, name) = (namespace.clone(), name.clone());
        move |_| {
            let (namespace, name) = (namespace.clone(), name.clone());
            leptos::task::spawn_local(async move {
                let key = format!("{namespace}/{name}");
                let result = flink_job_yaml(namespace, name).await.map_err(|e| e.for_people());
                yaml.set(Some((key, result)));
            });
        }
    };
    let run = {
        Callback::new(move |()| {
            if let Some(a) = pending.get_untracked() {
                action.dispatch(FlinkJobAction {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    action: a,
                });
            }
        })
    };
    let actions: Vec<JobAction> = JobAction::ALL
        .into_iter()
        .filter(|a| a.applies_to(&job))
        .collect();
    let title = job.display_name.clone();
    view! {
        <div class="fixed inset-0 z-30 bg-slate-900/30" on:click=move |_| url.set(&[("job", String::new())])></div>
        <aside
            role="dialog"
            aria-modal="true"
            aria-labelledby="drawer-title"
            data-testid="job-drawer"
            class="fixed inset-y-0 right-0 z-30 w-full max-w-xl space-y-5 overflow-y-auto border-l border-slate-200 bg-white p-6 shadow-2xl dark:border-slate-800 dark:bg-slate-900"
        >
            <div class="flex items-start justify-between gap-3">
                <div>
                    <h2 id="drawer-title" class="text-lg font-semibold">{title}</h2>
                    <p class="text-sm text-slate-500 dark:text-slate-400">{job.key()}</p>
                </div>
                <Button kind=ButtonKind::Ghost label="Close" test_id="close-drawer" on_click=move |_| url.set(&[("job", String::new())])>"✕"</Button>
            </div>
            <div class="flex flex-wrap items-center gap-3">
                <StatusDot status=job.shown_status().to_owned()/>
                {job.lifecycle_state.clone().map(|s| view! { <Badge tone=Tone::Info>{format!("lifecycle {s}")}</Badge> })}
                {job.desired_state.clone().map(|s| view! { <Badge tone=Tone::Neutral>{format!("desired {s}")}</Badge> })}
            </div>
            {job.error.clone().map(|e| view! {
                <div role="alert" class="rounded-md border border-rose-300 bg-rose-50 p-3 text-xs text-rose-800 break-words dark:border-rose-800 dark:bg-rose-950 dark:text-rose-200" data-testid="job-error">{e}</div>
            })}
            <Show when=may_act>
                <div class="flex flex-wrap gap-2" data-testid="job-actions">
                    {actions.iter().map(|a| {
                        let a = *a;
                        view! {
                            <Button
                                kind=if matches!(a, JobAction::Suspend | JobAction::Restart) { ButtonKind::Danger } else { ButtonKind::Secondary }
                                disabled=action.pending()
                                test_id=match a {
                                    JobAction::Suspend => "action-suspend",
                                    JobAction::Resume => "action-resume",
                                    JobAction::Restart => "action-restart",
                                    JobAction::Savepoint => "action-savepoint",
                                }
                                on_click=move |_| {
                                    pending.set(Some(a));
                                    confirm_open.set(true);
                                }
                            >
                                {a.label()}
                            </Button>
                        }
                    }).collect_view()}
                </div>
            </Show>
            <dl class="divide-y divide-slate-100 text-sm dark:divide-slate-800">
                <Fact label="Type" value=Some(format!("{:?}", job.job_type).to_uppercase())/>
                <Fact label="JobManager deployment" value=job.job_manager_deployment_status.clone()/>
                <Fact label="Job id" value=job.job_id.clone()/>
                <Fact label="Started" value=Some(when(job.start_time))/>
                <Fact label="Status updated" value=Some(when(job.update_time))/>
                <Fact label="Image" value=Some(job.short_image.clone())/>
                <Fact label="Flink version" value=Some(job.flink_version.clone())/>
                <Fact label="Parallelism" value=Some(job.parallelism.to_string())/>
                <Fact label="Last savepoint" value=job.last_savepoint.clone().map(|s| format!("{} {}", when(s.time), s.location.unwrap_or_default()))/>
                <Fact label="Last checkpoint" value=job.last_checkpoint.clone().map(|s| format!("{} {}", when(s.time), s.trigger_type.unwrap_or_default()))/>
            </dl>
            {(!job.conditions.is_empty()).then(|| view! {
                <section>
                    <h3 class="mb-1 text-sm font-semibold">"Conditions"</h3>
                    <ul class="space-y-1 text-xs">
                        {job.conditions.clone().into_iter().map(|c| view! {
                            <li><span class="font-medium">{c.type_}</span>" = "{c.status}{c.reason.map(|r| format!(" ({r})"))}{c.message.map(|m| format!(": {m}"))}</li>
                        }).collect_view()}
                    </ul>
                </section>
            })}
            {(!job.metadata.is_empty()).then(|| view! {
                <section>
                    <h3 class="mb-1 text-sm font-semibold">"Labels"</h3>
                    <div class="flex flex-wrap gap-1">
                        {job.metadata.clone().into_iter().map(|(k, v)| view! { <Badge tone=Tone::Neutral>{format!("{k}={v}")}</Badge> }).collect_view()}
                    </div>
                </section>
            })}
            <section class="text-sm"><Links job=job.clone()/></section>
            <section>
                <div class="mb-1 flex items-center justify-between">
                    <h3 class="text-sm font-semibold">"YAML"</h3>
                    <Button kind=ButtonKind::Ghost test_id="load-yaml" on_click=load_yaml>"Show the live object"</Button>
                </div>
                {move || yaml.get().filter(|(k, _)| *k == yaml_key).map(|(_, r)| match r {
                    Ok(text) => view! { <pre tabindex="0" aria-label="The live object as YAML" class="max-h-96 overflow-auto rounded bg-slate-950 p-3 text-xs text-slate-100 focus:outline-2 focus:outline-indigo-400" data-testid="job-yaml">{text}</pre> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e}</p> }.into_any(),
                })}
            </section>
        </aside>
        {move || pending.get().map(|a| view! {
            // Rendered per action, so the words match the button pressed.
            <ConfirmDialog open=confirm_open title=format!("{} {}?", a.label(), job.key()) message=a.consequence() confirm_label=a.label() on_confirm=run/>
        })}
    }
}
