//! The list itself: filters, the feed's state, status chips, the table and the cards, the
//! pager, and the small pieces they share.

use super::*;

/// `2026-11-24 16:53:07 UTC` from epoch milliseconds.
/// A moment the operator recorded (epoch milliseconds) as "3 d ago", exact on hover; nothing
/// when there is none.
pub(super) fn ago(ms: Option<i64>) -> impl IntoView {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|at| view! { <crate::ui::time::Ago at/> })
}

pub(super) fn when(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|d| format!("{} UTC", crate::ui::time::seconds(d)))
        .unwrap_or_default()
}

pub(super) fn resources_line(label: &str, replicas: i64, cpu: &str, mem: &str) -> String {
    let plural = if replicas == 1 { "" } else { "s" };
    format!(
        "{label}{plural}: {replicas} × {} cpu, {} memory",
        or_na(cpu),
        or_na(mem)
    )
}

pub(super) fn or_na(s: &str) -> &str {
    if s.is_empty() { "n/a" } else { s }
}

/// A filter drop-down bound to the URL query key `key`; choosing resets the page.
#[component]
pub(super) fn FilterSelect(
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

#[component]
pub(super) fn FeedIndicator(feed: RwSignal<Feed>, total: Signal<Option<usize>>) -> impl IntoView {
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
                        {move || total.get().map(|n| format!("· {n} jobs")).unwrap_or_default()}
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

/// Counts by status (over every job, whatever the filters); a click filters by it.
#[component]
pub(super) fn StatusChips(counts: Signal<Vec<(String, usize)>>, url: UrlState) -> impl IntoView {
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
pub(super) fn StatusDot(status: String) -> impl IntoView {
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
pub(super) fn TypeBadge(job_type: JobType) -> impl IntoView {
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
pub(super) fn JobFacts(job: FlinkJob, settings: RwSignal<Settings>) -> impl IntoView {
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
pub(super) fn Links(job: FlinkJob) -> impl IntoView {
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
pub(super) fn SortHeader(label: &'static str, key: SortKey, url: UrlState) -> impl IntoView {
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
pub(super) fn JobTable(
    rows: Memo<Vec<FlinkJob>>,
    settings: RwSignal<Settings>,
    url: UrlState,
) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <table class="stack min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="jobs-table">
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
                                <td data-label="Flink job" class="px-3 py-2 align-top">
                                    <div class="flex items-start gap-2">
                                        <TypeBadge job_type=job.job_type/>
                                        <div class="min-w-0">
                                            <p class="font-medium" data-testid="job-name">{job.display_name.clone()}</p>
                                            <JobFacts job=job.clone() settings/>
                                            <ErrorLine error=job.error.clone()/>
                                        </div>
                                    </div>
                                </td>
                                <td data-label="Namespace" class="px-3 py-2 align-top text-slate-600 dark:text-slate-300">{job.namespace.clone()}</td>
                                <td data-label="Status" class="px-3 py-2 align-top"><StatusDot status=job.shown_status().to_owned()/></td>
                                <td data-label="Resources" class="px-3 py-2 align-top text-xs">
                                    <p>{resources_line("JobManager", job.resources.jm.replicas, &job.resources.jm.cpu, &job.resources.jm.mem)}</p>
                                    {(job.resources.tm.replicas > 0).then(|| view! {
                                        <p>{resources_line("TaskManager", job.resources.tm.replicas, &job.resources.tm.cpu, &job.resources.tm.mem)}</p>
                                    })}
                                </td>
                                <td data-label="Started" class="whitespace-nowrap px-3 py-2 align-top text-xs" data-testid="job-started">{ago(job.start_time)}</td>
                                <td data-label="Endpoints" class="px-3 py-2 align-top text-xs"><Links job=job.clone()/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A failing job's reason under its name: the first line, cut to fit (all of it on hover and in
/// the drawer), so the list says why without opening each job.
#[component]
fn ErrorLine(error: Option<String>) -> impl IntoView {
    error.filter(|e| !e.trim().is_empty()).map(|e| {
        let first = e.lines().next().unwrap_or_default().trim();
        let short = if first.chars().count() > 140 {
            format!("{}…", first.chars().take(139).collect::<String>())
        } else {
            first.to_owned()
        };
        view! {
            <p data-testid="job-error-line" title=e.clone() class="mt-1 max-w-md text-xs break-words text-rose-700 dark:text-rose-300">{short}</p>
        }
    })
}

#[component]
pub(super) fn JobCards(
    rows: Memo<Vec<FlinkJob>>,
    settings: RwSignal<Settings>,
    url: UrlState,
) -> impl IntoView {
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
                        <StatusDot status=job.shown_status().to_owned()/>
                        <ErrorLine error=job.error.clone()/>
                        <JobFacts job=job.clone() settings/>
                        <p class="text-xs text-slate-500 dark:text-slate-400">"Started " {ago(job.start_time)}</p>
                        <div class="text-xs"><Links job/></div>
                    </article>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
pub(super) fn Pager(
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
