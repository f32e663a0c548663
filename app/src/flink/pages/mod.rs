//! The Flink jobs page (`/flink`, a lazy route: its own WASM chunk) and the overview's counts.
//!
//! The list arrives over Server-Sent Events (`/api/jobs/events`): a snapshot, then one message
//! per change. No timer refreshes anything. Filters, sort, view, page and the open job live in
//! the URL; display settings in the browser's local storage.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::{LazyRoute, NavigateOptions, lazy_route};

use super::api::{FlinkJobAction, flink_job_yaml};
use super::model::{FlinkJob, JobAction, JobType, status_tone};
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
    let jobs: RwSignal<Option<Vec<FlinkJob>>> = RwSignal::new(None);
    let feed = RwSignal::new(Feed::Connecting);
    #[cfg(feature = "hydrate")]
    live::connect(jobs, feed);

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
    let sort = move || SortKey::parse(&url.get("sort"));
    let descending = move || url.get("dir") == "desc";
    let cards = move || url.get("view") == "cards";

    let visible = Memo::new(move |_| {
        let q = name_filter().to_lowercase();
        let (status, ns, key, desc) = (status_filter(), ns_filter(), sort(), descending());
        jobs.with(|list| {
            let mut shown: Vec<FlinkJob> = list
                .iter()
                .flatten()
                .filter(|j| {
                    (q.is_empty()
                        || j.display_name.to_lowercase().contains(&q)
                        || j.name.to_lowercase().contains(&q))
                        && (status.is_empty() || j.status == status)
                        && (ns.is_empty() || j.namespace == ns)
                })
                .cloned()
                .collect();
            shown.sort_by(|a, b| compare(a, b, key, desc));
            shown
        })
    });
    let statuses = Memo::new(move |_| distinct(jobs, |j| j.status.clone()));
    let namespaces = Memo::new(move |_| distinct(jobs, |j| j.namespace.clone()));
    let page_size = move || {
        url.get("size")
            .parse::<usize>()
            .ok()
            .filter(|s| PAGE_SIZES.contains(s))
            .unwrap_or_else(|| settings.get().page_size)
    };
    let pages = move || {
        let size = page_size();
        if size == 0 {
            1
        } else {
            visible.with(Vec::len).div_ceil(size).max(1)
        }
    };
    let page = move || url.get("page").parse::<usize>().unwrap_or(1).clamp(1, pages());
    let page_rows = Memo::new(move |_| {
        let size = page_size();
        let page = page();
        visible.with(|v| {
            if size == 0 {
                v.clone()
            } else {
                v.iter().skip((page - 1) * size).take(size).cloned().collect()
            }
        })
    });
    let filtering =
        move || !name_filter().is_empty() || !status_filter().is_empty() || !ns_filter().is_empty();

    let drawer = DrawerState::new();
    let selected = Memo::new(move |_| {
        let key = url.get("job");
        if key.is_empty() {
            return None;
        }
        jobs.with(|list| list.iter().flatten().find(|j| j.key() == key).cloned())
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
                        label="Card view"
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
        <Title text="Flink jobs"/>
        <div class="space-y-4">
            <header class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Flink jobs"</h1>
                    <p class="text-sm text-slate-500 dark:text-slate-400">
                        "Every FlinkDeployment the operator runs, followed live."
                    </p>
                </div>
                <FeedIndicator feed jobs/>
            </header>

            <StatusChips jobs url/>

            {toolbar}

            {move || match jobs.with(|j| j.as_ref().map(Vec::len)) {
                None => match feed.get() {
                    Feed::Stale(reason) => view! {
                        <div role="alert" data-testid="jobs-error" class="rounded-md border border-rose-300 bg-rose-50 p-3 text-sm text-rose-800 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-200">
                            "Couldn't load the job list: " {reason}
                        </div>
                    }.into_any(),
                    _ => view! { <Loading label="Loading Flink jobs"/> }.into_any(),
                },
                Some(0) => view! {
                    <EmptyState
                        title="No Flink jobs found"
                        hint="No FlinkDeployment in the watched namespaces (joblocator_k8s_operator.namespace_to_watch) matches the label selector."
                    />
                }.into_any(),
                Some(_) if visible.with(Vec::is_empty) => view! {
                    <EmptyState title="No job matches these filters" hint="Change or clear the filters above."/>
                }.into_any(),
                Some(_) => if cards() {
                    view! { <JobCards rows=page_rows settings url/> }.into_any()
                } else {
                    view! { <JobTable rows=page_rows settings url/> }.into_any()
                },
            }}

            {view! { <Pager url page pages shown=Signal::derive(move || visible.with(Vec::len)) page_size=Signal::derive(page_size)/> }.into_any()}
        </div>
        {view! { <SettingsDialog open=settings_open settings/> }.into_any()}
        {move || selected.get().map(|job| view! { <JobDrawer job url state=drawer/> })}
        {move || (!url.get("job").is_empty() && selected.with(Option::is_none) && jobs.with(Option::is_some)).then(|| view! {
            <div role="status" class="fixed bottom-4 right-4 rounded-md bg-slate-900 px-3 py-2 text-sm text-white">
                "That job is no longer in the list."
            </div>
        })}
    }
}

#[cfg(feature = "hydrate")]
mod live {
    //! The browser end of the live feed: one `EventSource`, closed when the page goes.

    use leptos::prelude::*;
    use leptos::serde_json;
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;

    use super::Feed;
    use crate::flink::model::{FeedStatus, FlinkJob, JobsSnapshot};

    #[derive(serde::Deserialize)]
    struct Deleted {
        key: String,
    }

    fn apply_status(feed: RwSignal<Feed>, status: FeedStatus) {
        feed.set(if status.live {
            Feed::Live
        } else {
            Feed::Stale(
                status
                    .problem
                    .unwrap_or_else(|| "not in sync with Kubernetes".to_owned()),
            )
        });
    }

    fn data(ev: &web_sys::Event) -> Option<String> {
        ev.dyn_ref::<web_sys::MessageEvent>()?.data().as_string()
    }

    pub(super) fn connect(jobs: RwSignal<Option<Vec<FlinkJob>>>, feed: RwSignal<Feed>) {
        Effect::new(move |_| {
            let Ok(source) = web_sys::EventSource::new("/api/jobs/events") else {
                feed.set(Feed::Stale("this browser cannot open a live feed".into()));
                return;
            };
            let listen = |name: &str, handler: Box<dyn FnMut(web_sys::Event)>| {
                let closure = Closure::wrap(handler);
                let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
                // Lives as long as the page: the source is closed on cleanup, then both go.
                closure.forget();
            };
            listen(
                "snapshot",
                Box::new(move |ev| {
                    if let Some(s) = data(&ev).and_then(|d| serde_json::from_str::<JobsSnapshot>(&d).ok()) {
                        jobs.set(Some(s.jobs));
                        apply_status(feed, s.status);
                    }
                }),
            );
            listen(
                "upsert",
                Box::new(move |ev| {
                    if let Some(job) = data(&ev).and_then(|d| serde_json::from_str::<FlinkJob>(&d).ok()) {
                        jobs.update(|list| {
                            let list = list.get_or_insert_with(Vec::new);
                            match list.iter_mut().find(|j| j.key() == job.key()) {
                                Some(slot) => *slot = job,
                                None => list.push(job),
                            }
                        });
                    }
                }),
            );
            listen(
                "delete",
                Box::new(move |ev| {
                    if let Some(gone) = data(&ev).and_then(|d| serde_json::from_str::<Deleted>(&d).ok()) {
                        jobs.update(|list| {
                            if let Some(list) = list {
                                list.retain(|j| j.key() != gone.key);
                            }
                        });
                    }
                }),
            );
            listen(
                "status",
                Box::new(move |ev| {
                    if let Some(s) = data(&ev).and_then(|d| serde_json::from_str::<FeedStatus>(&d).ok()) {
                        apply_status(feed, s);
                    }
                }),
            );
            listen(
                "error",
                Box::new(move |_| {
                    // The browser reconnects by itself; the server then sends a fresh snapshot.
                    feed.set(Feed::Stale(
                        "lost the connection to Heimdall; reconnecting".into(),
                    ));
                }),
            );
            let source = StoredValue::new_local(source);
            on_cleanup(move || source.with_value(web_sys::EventSource::close));
        });
    }
}
