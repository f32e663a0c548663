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

/// Display settings kept in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    parallelism: bool,
    version: bool,
    image: bool,
    /// Rows per page; 0 shows all.
    page_size: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            parallelism: true,
            version: true,
            image: true,
            page_size: 20,
        }
    }
}

const SETTINGS_KEY: &str = "heimdall.flink.settings";
const PAGE_SIZES: [usize; 5] = [10, 20, 50, 100, 0];

impl Settings {
    /// `p,v,i,size`: four fields, no JSON parser needed.
    fn encode(self) -> String {
        format!(
            "{},{},{},{}",
            u8::from(self.parallelism),
            u8::from(self.version),
            u8::from(self.image),
            self.page_size
        )
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(',');
        let flag = |p: Option<&str>| p.map(|v| v == "1");
        Some(Self {
            parallelism: flag(parts.next())?,
            version: flag(parts.next())?,
            image: flag(parts.next())?,
            page_size: parts.next()?.parse().ok().filter(|s| PAGE_SIZES.contains(s))?,
        })
    }

    fn load() -> Self {
        storage()
            .and_then(|s| s.get_item(SETTINGS_KEY).ok().flatten())
            .and_then(|t| Self::decode(&t))
            .unwrap_or_default()
    }

    fn save(self) {
        if let Some(s) = storage() {
            let _ = s.set_item(SETTINGS_KEY, &self.encode());
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// Sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Name,
    Namespace,
    Status,
    Resources,
    Started,
}

impl SortKey {
    fn parse(s: &str) -> Self {
        match s {
            "namespace" => Self::Namespace,
            "status" => Self::Status,
            "resources" => Self::Resources,
            "started" => Self::Started,
            _ => Self::Name,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Namespace => "namespace",
            Self::Status => "status",
            Self::Resources => "resources",
            Self::Started => "started",
        }
    }
}

/// Orders two jobs by `key`, ascending; a missing start time sorts last either way (the seed's
/// numeric sort was inverted and put missing values first on descending).
fn compare(a: &FlinkJob, b: &FlinkJob, key: SortKey, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let flip = |o: Ordering| if descending { o.reverse() } else { o };
    let tie = || (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name));
    match key {
        SortKey::Name => flip(
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then_with(tie),
        ),
        SortKey::Namespace => flip(a.namespace.cmp(&b.namespace).then_with(tie)),
        SortKey::Status => flip(a.status.cmp(&b.status).then_with(tie)),
        SortKey::Resources => flip(
            a.resources
                .total_replicas()
                .cmp(&b.resources.total_replicas())
                .then_with(tie),
        ),
        SortKey::Started => match (a.start_time, b.start_time) {
            (Some(x), Some(y)) => flip(x.cmp(&y).then_with(tie)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => tie(),
        },
    }
}

/// `2026-11-24 16:53:07 UTC` from epoch milliseconds.
fn when(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|d| format!("{} UTC", crate::ui::time::seconds(d)))
        .unwrap_or_default()
}

fn resources_line(label: &str, replicas: i64, cpu: &str, mem: &str) -> String {
    let plural = if replicas == 1 { "" } else { "s" };
    format!(
        "{label}{plural}: {replicas} × {} cpu, {} memory",
        or_na(cpu),
        or_na(mem)
    )
}

fn or_na(s: &str) -> &str {
    if s.is_empty() { "n/a" } else { s }
}

/// Reads and writes the page's URL query: every change replaces the history entry, so the
/// back button leaves the page instead of stepping through keystrokes.
#[derive(Clone, Copy)]
struct UrlState {
    query: Memo<leptos_router::params::ParamsMap>,
}

impl UrlState {
    fn get(self, key: &'static str) -> String {
        self.query.with(|q| q.get(key).unwrap_or_default())
    }

    fn set(self, changes: &[(&str, String)]) {
        let mut pairs: Vec<(String, String)> = self.query.with_untracked(|q| {
            q.into_iter()
                .map(|(k, v)| (k.to_string(), v.to_owned()))
                .collect()
        });
        for (key, value) in changes {
            pairs.retain(|(k, _)| k != key);
            if !value.is_empty() {
                pairs.push(((*key).to_owned(), value.clone()));
            }
        }
        let query: String = url_encode(&pairs);
        let navigate = use_navigate();
        let target = if query.is_empty() {
            "/flink".to_owned()
        } else {
            format!("/flink?{query}")
        };
        navigate(
            &target,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    }
}

fn url_encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

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

/// A filter drop-down bound to the URL query key `key`; choosing resets the page.
#[component]
fn FilterSelect(
    label: &'static str,
    all: &'static str,
    key: &'static str,
    test_id: &'static str,
    options: Memo<Vec<String>>,
    url: UrlState,
) -> impl IntoView {
    let current = move || url.get(key);
    view! {
        <div class="w-full sm:w-48">
            <select
                class=INPUT_CLASS
                aria-label=label
                data-testid=test_id
                prop:value=current
                on:change=move |ev| url.set(&[(key, event_target_value(&ev)), ("page", String::new())])
            >
                <option value="">{all}</option>
                {move || options.get().into_iter().map(|s| {
                    let v = s.clone();
                    view! { <option value=v selected=move || current() == s>{s.clone()}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

fn distinct(jobs: RwSignal<Option<Vec<FlinkJob>>>, field: impl Fn(&FlinkJob) -> String) -> Vec<String> {
    jobs.with(|list| {
        let mut values: Vec<String> = list.iter().flatten().map(&field).collect();
        values.sort();
        values.dedup();
        values
    })
}

#[component]
fn FeedIndicator(feed: RwSignal<Feed>, jobs: RwSignal<Option<Vec<FlinkJob>>>) -> impl IntoView {
    view! {
        <div data-testid="feed-status" class="flex items-center gap-2 text-sm" aria-live="polite">
            {move || match feed.get() {
                Feed::Live => view! {
                    <span class="relative flex h-2.5 w-2.5">
                        <span class="absolute inline-flex h-full w-full animate-ping rounded-full bg-emerald-400 opacity-60"></span>
                        <span class="relative inline-flex h-2.5 w-2.5 rounded-full bg-emerald-500"></span>
                    </span>
                    <span data-state="live">"Live"</span>
                    <span class="text-slate-500 dark:text-slate-400">
                        {move || jobs.with(|j| j.as_ref().map(|j| format!("· {} jobs", j.len())).unwrap_or_default())}
                    </span>
                }.into_any(),
                Feed::Connecting => view! {
                    <span class="h-2.5 w-2.5 rounded-full bg-slate-400"></span>
                    <span data-state="connecting">"Connecting…"</span>
                }.into_any(),
                Feed::Stale(reason) => {
                    let detail = reason.clone();
                    view! {
                    <span class="h-2.5 w-2.5 rounded-full bg-amber-500"></span>
                    <span data-state="stale" class="font-medium text-amber-700 dark:text-amber-400" title=reason.clone()>
                        "Stale: showing the last list"
                    </span>
                    <span class="max-w-md truncate text-xs text-slate-500 dark:text-slate-400" title=reason>{detail}</span>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// Counts by status; a click filters by it.
#[component]
fn StatusChips(jobs: RwSignal<Option<Vec<FlinkJob>>>, url: UrlState) -> impl IntoView {
    let counts = Memo::new(move |_| {
        jobs.with(|list| {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for job in list.iter().flatten() {
                match counts.iter_mut().find(|(s, _)| *s == job.status) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((job.status.clone(), 1)),
                }
            }
            counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            counts
        })
    });
    view! {
        <div class="flex flex-wrap gap-2" data-testid="status-chips">
            {move || counts.get().into_iter().map(|(status, n)| {
                let tone = status_tone(&status);
                let s = status.clone();
                view! {
                    <button
                        type="button"
                        class="rounded-full focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500"
                        title=format!("Show only {status} jobs")
                        on:click=move |_| url.set(&[("status", s.clone()), ("page", String::new())])
                    >
                        <Badge tone>{format!("{status} · {n}")}</Badge>
                    </button>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
fn StatusDot(status: String) -> impl IntoView {
    let dot = match status_tone(&status) {
        Tone::Success => "bg-emerald-500",
        Tone::Danger => "bg-rose-500",
        Tone::Neutral | Tone::Info => "bg-slate-400",
        Tone::Warning => "bg-amber-500",
    };
    view! {
        <span class="inline-flex items-center gap-1.5 whitespace-nowrap" data-testid="job-status">
            <span class=format!("h-2.5 w-2.5 rounded-full {dot}") aria-hidden="true"></span>
            {status}
        </span>
    }
}

#[component]
fn TypeBadge(job_type: JobType) -> impl IntoView {
    let (letter, title) = match job_type {
        JobType::Application => ("A", "Application deployment"),
        JobType::Session => ("S", "Session cluster"),
    };
    view! {
        <span
            class="inline-flex h-5 w-5 items-center justify-center rounded bg-indigo-100 text-xs font-semibold text-indigo-700 dark:bg-indigo-900/60 dark:text-indigo-300"
            title=title
            aria-label=title
        >
            {letter}
        </span>
    }
}

#[component]
fn JobFacts(job: FlinkJob, settings: RwSignal<Settings>) -> impl IntoView {
    let s = settings.get_untracked();
    let mut facts = Vec::new();
    if s.parallelism {
        facts.push(if job.parallelism > 0 {
            format!("parallelism {}", job.parallelism)
        } else {
            "parallelism n/a".to_owned()
        });
    }
    if s.version && !job.flink_version.is_empty() {
        facts.push(format!("Flink {}", job.flink_version));
    }
    if s.image {
        facts.push(or_na(&job.short_image).to_owned());
    }
    view! {
        <p class="truncate text-xs text-slate-500 dark:text-slate-400" title=job.short_image>
            {facts.join(" · ")}
        </p>
    }
}

#[component]
fn Links(job: FlinkJob) -> impl IntoView {
    view! {
        <div class="flex flex-wrap gap-x-3 gap-y-1">
            {job.links.into_iter().map(|l| view! {
                <a
                    href=l.url
                    target="_blank"
                    rel="noopener noreferrer"
                    class="text-indigo-600 hover:underline dark:text-indigo-400"
                    on:click=|ev| ev.stop_propagation()
                >
                    {l.title}
                    <span class="sr-only">" (opens in a new tab)"</span>
                </a>
            }).collect_view()}
        </div>
    }
}

#[component]
fn SortHeader(label: &'static str, key: SortKey, url: UrlState) -> impl IntoView {
    let active = move || SortKey::parse(&url.get("sort")) == key;
    let descending = move || url.get("dir") == "desc";
    let aria = move || match (active(), descending()) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    view! {
        <th scope="col" aria-sort=aria class="px-3 py-2 text-left font-semibold text-slate-600 dark:text-slate-300">
            <button
                type="button"
                class="inline-flex items-center gap-1 hover:text-indigo-600 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500"
                data-testid=format!("sort-{}", key.as_str())
                on:click=move |_| {
                    let dir = if active() && !descending() { "desc" } else { "" };
                    url.set(&[("sort", key.as_str().to_owned()), ("dir", dir.to_owned())]);
                }
            >
                {label}
                <span aria-hidden="true" class="text-xs">
                    {move || match (active(), descending()) {
                        (false, _) => "↕",
                        (true, false) => "▲",
                        (true, true) => "▼",
                    }}
                </span>
            </button>
        </th>
    }
}

#[component]
fn JobTable(rows: Memo<Vec<FlinkJob>>, settings: RwSignal<Settings>, url: UrlState) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <table class="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="jobs-table">
                <thead class="bg-slate-50 dark:bg-slate-900">
                    <tr>
                        <SortHeader label="Flink job" key=SortKey::Name url/>
                        <SortHeader label="Namespace" key=SortKey::Namespace url/>
                        <SortHeader label="Status" key=SortKey::Status url/>
                        <SortHeader label="Resources" key=SortKey::Resources url/>
                        <SortHeader label="Started" key=SortKey::Started url/>
                        <th scope="col" class="px-3 py-2 text-left font-semibold text-slate-600 dark:text-slate-300">"Endpoints"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {move || rows.get().into_iter().map(|job| {
                        let key = job.key();
                        let open = move || url.set(&[("job", key.clone())]);
                        let open_key = open.clone();
                        view! {
                            <tr
                                class="cursor-pointer hover:bg-slate-50 focus:bg-indigo-50 focus:outline-none dark:hover:bg-slate-800/60 dark:focus:bg-slate-800"
                                tabindex="0"
                                data-testid="job-row"
                                data-key=job.key()
                                on:click=move |_| open()
                                on:keydown=move |ev| if ev.key() == "Enter" { open_key() }
                            >
                                <td class="px-3 py-2 align-top">
                                    <div class="flex items-start gap-2">
                                        <TypeBadge job_type=job.job_type/>
                                        <div class="min-w-0">
                                            <p class="font-medium" data-testid="job-name">{job.display_name.clone()}</p>
                                            <JobFacts job=job.clone() settings/>
                                        </div>
                                    </div>
                                </td>
                                <td class="px-3 py-2 align-top text-slate-600 dark:text-slate-300">{job.namespace.clone()}</td>
                                <td class="px-3 py-2 align-top"><StatusDot status=job.status.clone()/></td>
                                <td class="px-3 py-2 align-top text-xs">
                                    <p>{resources_line("JobManager", job.resources.jm.replicas, &job.resources.jm.cpu, &job.resources.jm.mem)}</p>
                                    {(job.resources.tm.replicas > 0).then(|| view! {
                                        <p>{resources_line("TaskManager", job.resources.tm.replicas, &job.resources.tm.cpu, &job.resources.tm.mem)}</p>
                                    })}
                                </td>
                                <td class="whitespace-nowrap px-3 py-2 align-top text-xs" data-testid="job-started">{when(job.start_time)}</td>
                                <td class="px-3 py-2 align-top text-xs"><Links job=job.clone()/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn JobCards(rows: Memo<Vec<FlinkJob>>, settings: RwSignal<Settings>, url: UrlState) -> impl IntoView {
    view! {
        <div class="grid gap-4 sm:grid-cols-2 xl:grid-cols-3" data-testid="jobs-cards">
            {move || rows.get().into_iter().map(|job| {
                let key = job.key();
                let open = move || url.set(&[("job", key.clone())]);
                let open_key = open.clone();
                view! {
                    <article
                        class="cursor-pointer space-y-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 focus:outline-none focus:ring-2 focus:ring-indigo-500 dark:border-slate-800 dark:bg-slate-900"
                        tabindex="0"
                        data-testid="job-card"
                        on:click=move |_| open()
                        on:keydown=move |ev| if ev.key() == "Enter" { open_key() }
                    >
                        <div class="flex items-start justify-between gap-2">
                            <div class="min-w-0">
                                <p class="truncate font-medium">{job.display_name.clone()}</p>
                                <p class="text-xs text-slate-500 dark:text-slate-400">{job.namespace.clone()}</p>
                            </div>
                            <TypeBadge job_type=job.job_type/>
                        </div>
                        <StatusDot status=job.status.clone()/>
                        <JobFacts job=job.clone() settings/>
                        <p class="text-xs text-slate-500 dark:text-slate-400">"Started " {when(job.start_time)}</p>
                        <div class="text-xs"><Links job/></div>
                    </article>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
fn Pager(
    url: UrlState,
    page: impl Fn() -> usize + Copy + Send + Sync + 'static,
    pages: impl Fn() -> usize + Copy + Send + Sync + 'static,
    shown: Signal<usize>,
    page_size: Signal<usize>,
) -> impl IntoView {
    let go = move |p: usize| url.set(&[("page", if p <= 1 { String::new() } else { p.to_string() })]);
    view! {
        <Show when=move || { shown.get() > 0 }>
            <nav class="flex flex-wrap items-center justify-between gap-2 text-sm" aria-label="Pages">
                <p class="text-slate-500 dark:text-slate-400" data-testid="page-summary">
                    {move || {
                        let (size, total) = (page_size.get(), shown.get());
                        if size == 0 {
                            format!("{total} jobs")
                        } else {
                            let first = (page() - 1) * size + 1;
                            format!("{first}–{} of {total} jobs", (first + size - 1).min(total))
                        }
                    }}
                </p>
                <div class="flex items-center gap-2">
                    <label class="flex items-center gap-1 text-slate-500 dark:text-slate-400">
                        "Rows"
                        <select
                            class=format!("{INPUT_CLASS} w-auto py-1")
                            data-testid="page-size"
                            on:change=move |ev| url.set(&[("size", event_target_value(&ev)), ("page", String::new())])
                        >
                            {PAGE_SIZES.into_iter().map(|s| view! {
                                <option value=s.to_string() selected=move || page_size.get() == s>
                                    {if s == 0 { "All".to_owned() } else { s.to_string() }}
                                </option>
                            }).collect_view()}
                        </select>
                    </label>
                    <Button kind=ButtonKind::Secondary disabled=Signal::derive(move || page() <= 1) test_id="page-prev" on_click=move |_| go(page() - 1)>
                        "Previous"
                    </Button>
                    <span data-testid="page-number">{move || format!("Page {} of {}", page(), pages())}</span>
                    <Button kind=ButtonKind::Secondary disabled=Signal::derive(move || page() >= pages()) test_id="page-next" on_click=move |_| go(page() + 1)>
                        "Next"
                    </Button>
                </div>
            </nav>
        </Show>
    }
}

#[component]
fn SettingsDialog(open: RwSignal<bool>, settings: RwSignal<Settings>) -> impl IntoView {
    let toggle = move |f: fn(&mut Settings) -> &mut bool| {
        settings.update(|s| {
            let flag = f(s);
            *flag = !*flag;
        });
        settings.get_untracked().save();
    };
    view! {
        <Show when=move || open.get()>
            <div
                class="fixed inset-0 z-40 flex items-center justify-center bg-slate-900/50"
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                <div role="dialog" aria-modal="true" aria-labelledby="settings-title" data-testid="settings-dialog"
                    class="w-full max-w-sm space-y-4 rounded-lg bg-white p-5 shadow-xl dark:bg-slate-900">
                    <h2 id="settings-title" class="text-lg font-semibold">"Display settings"</h2>
                    <p class="text-sm text-slate-500 dark:text-slate-400">
                        "The list updates itself as the cluster changes; there is nothing to refresh. These settings stay in this browser."
                    </p>
                    <fieldset class="space-y-2 text-sm">
                        <label class="flex items-center gap-2">
                            <input type="checkbox" data-testid="show-parallelism" prop:checked=move || settings.get().parallelism on:change=move |_| toggle(|s| &mut s.parallelism)/>
                            "Show parallelism"
                        </label>
                        <label class="flex items-center gap-2">
                            <input type="checkbox" data-testid="show-version" prop:checked=move || settings.get().version on:change=move |_| toggle(|s| &mut s.version)/>
                            "Show Flink version"
                        </label>
                        <label class="flex items-center gap-2">
                            <input type="checkbox" data-testid="show-image" prop:checked=move || settings.get().image on:change=move |_| toggle(|s| &mut s.image)/>
                            "Show image"
                        </label>
                        <label class="flex items-center gap-2">
                            "Rows per page"
                            <select class=format!("{INPUT_CLASS} w-auto py-1") on:change=move |ev| {
                                let size = event_target_value(&ev).parse().unwrap_or(20);
                                settings.update(|s| s.page_size = size);
                                settings.get_untracked().save();
                            }>
                                {PAGE_SIZES.into_iter().map(|s| view! {
                                    <option value=s.to_string() selected=move || settings.get().page_size == s>
                                        {if s == 0 { "All".to_owned() } else { s.to_string() }}
                                    </option>
                                }).collect_view()}
                            </select>
                        </label>
                    </fieldset>
                    <div class="flex justify-end">
                        <Button kind=ButtonKind::Primary test_id="close-settings" on_click=move |_| open.set(false)>"Done"</Button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

#[component]
fn Fact(label: &'static str, value: Option<String>) -> impl IntoView {
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
struct DrawerState {
    action: ServerAction<FlinkJobAction>,
    pending: RwSignal<Option<JobAction>>,
    confirm_open: RwSignal<bool>,
    /// The YAML with the key of the job it is of: another job's is not shown.
    yaml: RwSignal<Option<(String, Result<String, String>)>>,
}

impl DrawerState {
    fn new() -> Self {
        let state = Self {
            action: ServerAction::<FlinkJobAction>::new(),
            pending: RwSignal::new(None),
            confirm_open: RwSignal::new(false),
            yaml: RwSignal::new(None),
        };
        let toasts = use_toasts();
        Effect::new(move |_| match state.action.value().get() {
            Some(Ok(())) => toasts.success("Done: the operator picks the change up from the spec."),
            Some(Err(e)) => toasts.error(e.to_string()),
            None => {}
        });
        state
    }
}

#[component]
fn JobDrawer(job: FlinkJob, url: UrlState, state: DrawerState) -> impl IntoView {
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
                let result = flink_job_yaml(namespace, name).await.map_err(|e| e.to_string());
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
                <StatusDot status=job.status.clone()/>
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
                    Ok(text) => view! { <pre class="max-h-96 overflow-auto rounded bg-slate-950 p-3 text-xs text-slate-100" data-testid="job-yaml">{text}</pre> }.into_any(),
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
