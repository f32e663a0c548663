//! The Flink jobs page (`/flink`, a lazy route: its own WASM chunk) and the overview's counts.
//!
//! The list arrives over Server-Sent Events (`/api/jobs/events?size=…`): the page the address
//! asks for (filters, sort, page, the open job) cut on the server from its in-memory list, with
//! the counts around it, and again after every change that alters it. No timer refreshes
//! anything, and at 10,000 jobs the browser holds the rows it shows. Filters, sort, view, page
//! and the open job live in the URL; display settings in the browser's local storage.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::{LazyRoute, NavigateOptions, lazy_route};

use super::api::{FlinkJobAction, flink_job_yaml, flink_jobs_view};
use super::model::{FlinkJob, JobAction, JobQuery, JobType, JobsView, PAGE_SIZES, SortKey, status_tone};
use crate::identity::{Role, use_viewer};
use crate::ui::{
    Badge, Button, ButtonKind, ConfirmDialog, EmptyState, INPUT_CLASS, Loading, Tone, use_toasts,
};

/// Where the feed stands, as the page shows it (only the browser moves it past `Connecting`).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Feed {
    Connecting,
    Live,
    /// Heimdall or the API server cannot be followed right now; the list is the last one seen.
    Stale(String),
}

/// The jobs page (`/flink`).
pub struct FlinkJobsRoute;

#[lazy_route]
impl LazyRoute for FlinkJobsRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <FlinkJobsPage/> }.into_any()
    }
}

mod address;
mod drawer;
mod settings;
mod table;

use address::*;
use drawer::*;
use settings::*;
use table::*;

#[component]
fn FlinkJobsPage() -> impl IntoView {
    let jobs: RwSignal<Option<JobsView>> = RwSignal::new(None);
    let feed = RwSignal::new(Feed::Connecting);

    let url = UrlState {
        query: use_query_map(),
    };
    let settings = RwSignal::new(Settings::default());
    Effect::new(move |_| settings.set(Settings::load()));
    let settings_open = RwSignal::new(false);
    let filter_ref = NodeRef::<leptos::html::Input>::new();

    // `/` focuses the name filter; Escape closes the drawer.
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
        if ev.key() == "/" && !typing {
            ev.prevent_default();
            if let Some(input) = filter_ref.get() {
                let _ = input.focus();
            }
        } else if ev.key() == "Escape" && !url.get("job").is_empty() {
            url.set(&[("job", String::new())]);
        }
    });
    on_cleanup(move || keys.remove());

    let name_filter = move || url.get("q");
    let status_filter = move || url.get("status");
    let ns_filter = move || url.get("ns");
    let page_size = move || page_size(url, settings);
    // What the feed is asked for: a new question opens a new feed (the last one closes).
    let query = Memo::new(move |_| JobQuery {
        q: name_filter(),
        status: status_filter(),
        ns: ns_filter(),
        sort: url.get("sort"),
        dir: url.get("dir"),
        page: url.get("page"),
        size: page_size().to_string(),
        job: url.get("job"),
    });
    // The first view, rendered on the server (the first HTML has the rows) and handed to the
    // browser with the page; from then on the live feed's views replace it.
    let first = OnceResource::new(flink_jobs_view(query.get_untracked()));
    #[cfg(feature = "hydrate")]
    live::connect(jobs, feed, query);
    let list = List {
        feed,
        url,
        settings,
        settings_open,
        filter_ref,
        query,
    };
    view! {
        <Title text="Flink jobs"/>
        // Rendered once the first view is there: on the server that is before the HTML goes
        // out, in the browser (hydrating) at once, with the view that came with the page.
        <Suspense fallback=|| view! { <Loading label="Loading Flink jobs"/> }>
            {move || Suspend::new(async move {
                let initial = first.await.ok();
                // Off for this process's life: one notice naming the cause, nothing to filter.
                if let Some(reason) = initial.as_ref().filter(|v| v.status.off).map(|v| v.status.problem.clone().unwrap_or_default()) {
                    return view! { <FlinkOff reason/> }.into_any();
                }
                // The feed's latest view, else the one the page came with.
                let jobs = Signal::derive(move || jobs.get().or_else(|| initial.clone()));
                // Built untracked: only the list's own closures follow its signals, so a new view
                // or filter never rebuilds (and unfocuses) the whole list.
                untrack(|| jobs_list(list, jobs))
            })}
        </Suspense>
    }
}

/// Why the page has no jobs to show at all, with the way to turn discovery on.
#[component]
fn FlinkOff(reason: String) -> impl IntoView {
    view! {
        <div class="space-y-4">
            <h1 class="text-2xl font-semibold tracking-tight">"Flink jobs"</h1>
            <div role="status" data-testid="flink-off" class="rounded-md border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
                <p class="font-medium">{format!("Flink job discovery is off: {reason}.")}</p>
                <p class="mt-1">
                    "Heimdall lists the FlinkDeployments of the namespaces in "
                    <code>"joblocator_k8s_operator.namespace_to_watch"</code>
                    " once it reaches a cluster: running in one, or through "
                    <code>"kubernetes.kubeconfig"</code>
                    ". See docs/flink.md."
                </p>
            </div>
        </div>
    }
}

/// The rows per page the address asks for, else the display settings'.
fn page_size(url: UrlState, settings: RwSignal<Settings>) -> usize {
    url.get("size")
        .parse::<usize>()
        .ok()
        .filter(|s| PAGE_SIZES.contains(s))
        .unwrap_or_else(|| settings.get().page_size)
}

/// What the list needs of the page around it.
#[derive(Clone, Copy)]
struct List {
    feed: RwSignal<Feed>,
    url: UrlState,
    settings: RwSignal<Settings>,
    settings_open: RwSignal<bool>,
    filter_ref: NodeRef<leptos::html::Input>,
    /// What the address asks for now; the view shown may still answer the last question.
    query: Memo<JobQuery>,
}

/// The list, its filters, counts and pager, and the open job: everything drawn from a view.
fn jobs_list(list: List, jobs: Signal<Option<JobsView>>) -> AnyView {
    let List {
        feed,
        url,
        settings,
        settings_open,
        filter_ref,
        query,
    } = list;
    // The rows shown answer an earlier question until the feed's view for this one arrives.
    let busy = move || jobs.with(|v| v.as_ref().is_some_and(|v| v.query != query.get()));
    let name_filter = move || url.get("q");
    let status_filter = move || url.get("status");
    let ns_filter = move || url.get("ns");
    let cards = move || url.get("view") == "cards";
    let page_size = move || page_size(url, settings);
    let field = move |f: fn(&JobsView) -> usize| move || jobs.with(|v| v.as_ref().map_or(1, f));
    let page = field(|v| v.page);
    let pages = field(|v| v.pages);
    let page_rows = Memo::new(move |_| jobs.with(|v| v.as_ref().map(|v| v.jobs.clone()).unwrap_or_default()));
    let statuses = Memo::new(move |_| {
        jobs.with(|v| {
            v.iter()
                .flat_map(|v| v.statuses.iter().map(|(s, _)| s.clone()))
                .collect()
        })
    });
    let namespaces =
        Memo::new(move |_| jobs.with(|v| v.as_ref().map(|v| v.namespaces.clone()).unwrap_or_default()));
    let counts =
        Signal::derive(move || jobs.with(|v| v.as_ref().map(|v| v.statuses.clone()).unwrap_or_default()));
    let total = Signal::derive(move || jobs.with(|v| v.as_ref().map(|v| v.total)));
    let matched = Signal::derive(move || jobs.with(|v| v.as_ref().map_or(0, |v| v.matched)));
    let filtering =
        move || !name_filter().is_empty() || !status_filter().is_empty() || !ns_filter().is_empty();

    let drawer = DrawerState::new();
    let selected = Memo::new(move |_| {
        let key = url.get("job");
        if key.is_empty() {
            return None;
        }
        jobs.with(|v| {
            v.as_ref()
                .and_then(|v| v.selected.clone())
                .filter(|j| j.key() == key)
        })
    });

    // Built apart and type-erased: one nested view type this deep overflows the compiler's
    // query depth in builds without `erase_components` (the tests').
    let toolbar = view! {
            <div class="flex flex-wrap items-center gap-2" role="search">
                <div class="w-full sm:w-64">
                <input
                    node_ref=filter_ref
                    type="search"
                    class=INPUT_CLASS
                    placeholder="Filter by name  ( / )"
                    aria-label="Filter by name"
                    data-testid="job-filter"
                    prop:value=name_filter
                    on:input=move |ev| url.set(&[("q", event_target_value(&ev)), ("page", String::new())])
                />
                </div>
                <FilterSelect label="Filter by status" all="All statuses" key="status" test_id="status-filter" options=statuses url/>
                <FilterSelect label="Filter by namespace" all="All namespaces" key="ns" test_id="namespace-filter" options=namespaces url/>
                <Show when=filtering>
                    <Button kind=ButtonKind::Ghost on_click=move |_| url.set(&[("q", String::new()), ("status", String::new()), ("ns", String::new()), ("page", String::new())])>
                        "Clear filters"
                    </Button>
                </Show>
                <div class="ml-auto flex items-center gap-1" role="group" aria-label="View">
                    <Button
                        kind=ButtonKind::Ghost
                        test_id="view-table"
                        label="Table view"
                        on_click=move |_| url.set(&[("view", String::new())])
                    >
                        <span aria-hidden="true" class=move || if cards() { "" } else { "font-semibold text-indigo-600 dark:text-indigo-400" }>"Table"</span>
                    </Button>
                    <Button
                        kind=ButtonKind::Ghost
                        test_id="view-cards"
                        label="Cards view"
                        on_click=move |_| url.set(&[("view", "cards".to_owned())])
                    >
                        <span aria-hidden="true" class=move || if cards() { "font-semibold text-indigo-600 dark:text-indigo-400" } else { "" }>"Cards"</span>
                    </Button>
                    <Button kind=ButtonKind::Secondary test_id="open-settings" on_click=move |_| settings_open.set(true)>
                        "Settings"
                    </Button>
                </div>
            </div>

    }
    .into_any();
    view! {
        <div class="space-y-4">
            <header class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Flink jobs"</h1>
                    <p class="text-sm text-slate-500 dark:text-slate-400">
                        "Every FlinkDeployment the operator runs, followed live."
                    </p>
                </div>
                <FeedIndicator feed total/>
            </header>

            <StatusChips counts url/>

            {toolbar}

            <div
                data-testid="jobs-list"
                aria-busy=move || busy().to_string()
                class=move || if busy() { "space-y-4 opacity-60 transition-opacity" } else { "space-y-4" }
            >
            {move || match total.get() {
                None => match feed.get() {
                    Feed::Stale(reason) => view! {
                        <div role="alert" data-testid="jobs-error" class="rounded-md border border-rose-300 bg-rose-50 p-3 text-sm text-rose-800 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-200">
                            "Couldn't load the job list: " {reason}
                        </div>
                    }.into_any(),
                    _ => view! { <Loading label="Loading Flink jobs"/> }.into_any(),
                },
                // An empty list because a watch fails is that failure, not a label selector.
                Some(0) => match jobs.with(|v| v.as_ref().and_then(|v| v.status.problem.clone())) {
                    Some(problem) => view! {
                        <div role="status" data-testid="jobs-not-in-sync" class="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
                            "No jobs to show: the list is not in sync with Kubernetes (" {problem} ")."
                        </div>
                    }.into_any(),
                    None => view! {
                        <EmptyState
                            title="No Flink jobs found"
                            hint="No FlinkDeployment in the watched namespaces (joblocator_k8s_operator.namespace_to_watch) matches the label selector."
                        />
                    }.into_any(),
                },
                Some(_) if matched.get() == 0 => view! {
                    <EmptyState title="No job matches these filters" hint="Change or clear the filters above."/>
                }.into_any(),
                Some(_) => if cards() {
                    view! { <JobCards rows=page_rows settings url/> }.into_any()
                } else {
                    view! { <JobTable rows=page_rows settings url/> }.into_any()
                },
            }}

            {view! { <Pager url page pages shown=matched page_size=Signal::derive(page_size)/> }.into_any()}
            </div>
        </div>
        {view! { <SettingsDialog open=settings_open settings/> }.into_any()}
        // An overlay, drawn once the page is hydrated and never part of the server's HTML: drawn
        // there, the release build's hydration panicked on it every time (a mismatch the debug
        // build does not show) and the page never became interactive (#26, item 11).
        {move || selected.get().filter(|_| crate::ui::hydrated::page_hydrated()).map(|job| view! { <JobDrawer job url state=drawer/> })}
        {move || (!url.get("job").is_empty() && selected.with(Option::is_none) && jobs.with(|v| v.as_ref().is_some_and(|v| v.query.job == url.get("job")))).then(|| view! {
            <div role="status" class="fixed bottom-4 right-4 rounded-md bg-slate-900 px-3 py-2 text-sm text-white">
                "That job is no longer in the list."
            </div>
        })}
    }
    .into_any()
}

#[cfg(feature = "hydrate")]
mod live {
    //! The browser end of the live feed: one `EventSource` for the view the address asks for,
    //! replaced when the address changes, closed when the page goes.

    use leptos::prelude::*;
    use leptos::serde_json;
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;

    use super::{Feed, address::url_encode};
    use crate::flink::model::{JobQuery, JobsView};

    fn data(ev: &web_sys::Event) -> Option<String> {
        ev.dyn_ref::<web_sys::MessageEvent>()?.data().as_string()
    }

    fn address(query: &JobQuery) -> String {
        let pairs = [
            ("q", &query.q),
            ("status", &query.status),
            ("ns", &query.ns),
            ("sort", &query.sort),
            ("dir", &query.dir),
            ("page", &query.page),
            ("size", &query.size),
            ("job", &query.job),
        ];
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        format!("/api/jobs/events?{}", url_encode(&pairs))
    }

    pub(super) fn connect(jobs: RwSignal<Option<JobsView>>, feed: RwSignal<Feed>, query: Memo<JobQuery>) {
        let current: StoredValue<Option<web_sys::EventSource>, LocalStorage> = StoredValue::new_local(None);
        let close = move || {
            current.update_value(|source| {
                if let Some(source) = source.take() {
                    source.close();
                }
            });
        };
        Effect::new(move |_| {
            if !crate::ui::hydrated::page_hydrated() {
                return;
            }
            let asked = query.get();
            close();
            let Ok(source) = web_sys::EventSource::new(&address(&asked)) else {
                feed.set(Feed::Stale("this browser cannot open a live feed".into()));
                return;
            };
            let listen = |name: &str, handler: Box<dyn FnMut(web_sys::Event)>| {
                let closure = Closure::wrap(handler);
                let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
                // Lives as long as its source: closed when the view changes or the page goes.
                closure.forget();
            };
            listen(
                "view",
                Box::new(move |ev| {
                    if let Some(view) = data(&ev).and_then(|d| serde_json::from_str::<JobsView>(&d).ok()) {
                        feed.set(if view.status.live {
                            Feed::Live
                        } else {
                            Feed::Stale(
                                view.status
                                    .problem
                                    .clone()
                                    .unwrap_or_else(|| "not in sync with Kubernetes".to_owned()),
                            )
                        });
                        jobs.set(Some(view));
                    }
                }),
            );
            listen(
                "error",
                Box::new(move |_| {
                    // The browser reconnects by itself; the server then sends the view afresh.
                    feed.set(Feed::Stale(
                        "lost the connection to Heimdall; reconnecting".into(),
                    ));
                }),
            );
            current.set_value(Some(source));
        });
        on_cleanup(close);
    }
}
