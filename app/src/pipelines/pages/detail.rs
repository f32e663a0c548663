//! One pipeline's page, kept current by its event stream: the stage timeline and the
//! confirmation behind Approve / Reject / Cancel.

use super::gate::GateCard;
use super::*;

/// What the confirmation would do.
#[derive(Clone, Copy, PartialEq)]
pub enum Ask {
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
    super::live::connect(id, since, events, tick, live);
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
pub(super) fn PipelineBody(
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
                <a href="/pipelines" class="text-sm text-indigo-600 dark:text-indigo-400 hover:underline">"← Pipelines"</a>
                <h1 class="text-2xl font-semibold tracking-tight" data-testid="pipeline-title">{s.slug.clone()}</h1>
                <p class="text-sm text-slate-500 dark:text-slate-400">{s.intent.clone()}</p>
                <p class="mt-1 flex flex-wrap items-center gap-2 text-sm">
                    <Badge tone=status_tone(s.status)><span data-testid="pipeline-status">{status_label(s.status)}</span></Badge>
                    <span>"at " <strong data-testid="pipeline-stage">{s.stage.clone()}</strong></span>
                    <span class="text-slate-500 dark:text-slate-400">{format!("· tenant {} · requested by {} · id {}", s.tenant.clone().unwrap_or_else(|| "none".into()), s.requested_by, id)}</span>
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
                        StageState::Upcoming => ("bg-slate-300 dark:bg-slate-700", "text-slate-500 dark:text-slate-400"),
                    };
                    let state = match st.state { StageState::Done => "done", StageState::Current => "current", StageState::Upcoming => "upcoming" };
                    view! {
                        <li class=format!("flex items-center gap-2 rounded-md border border-slate-200 px-2 py-1 text-sm dark:border-slate-800 {text}")
                            data-testid="stage" data-state=state>
                            <span class=format!("inline-block h-2.5 w-2.5 rounded-full {dot}")></span>
                            {st.name.clone()}
                            {st.gate.is_some().then(|| view! {
                                // An SVG, not an emoji: without an emoji font the mark was an empty box.
                                <svg data-testid="gate-mark" role="img" aria-label="approval gate" viewBox="0 0 16 16" class="h-3.5 w-3.5 fill-none stroke-current stroke-[1.5]">
                                    <title>"approval gate"</title>
                                    <path d="M8 1.5 2.5 3.5v4c0 3.2 2.3 5.9 5.5 7 3.2-1.1 5.5-3.8 5.5-7v-4L8 1.5Z"/>
                                    <path d="m5.5 8 1.8 1.8L10.8 6.3"/>
                                </svg>
                            })}
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
                                <td data-label="Stage" class="px-3 py-2">{a.stage}</td>
                                <td data-label="Name" class="px-3 py-2">{a.name}</td>
                                <td data-label="Where" class="px-3 py-2 font-mono text-xs break-all">{a.uri}</td>
                                <td data-label="Size" class="px-3 py-2">{a.size_bytes.map(|b| format!("{b} B")).unwrap_or_default()}</td>
                                <td data-label="SHA-256" class="px-3 py-2 font-mono text-xs" title=a.sha256>{hash}</td>
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
