//! The home page (`/`): what needs the viewer, what is broken, what moved lately.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{LazyRoute, lazy_route};

use super::api::get_home;
use super::model::{Home, HomeTone, Overview, Tile};
use crate::error::AppError;
use crate::ui::time::Ago;
use crate::ui::{EmptyState, ErrorNotice, Loading};

/// The overview, loaded once by the layout and shared with the pages through context.
#[derive(Clone, Copy)]
pub struct OverviewResource(pub Resource<Result<Overview, AppError>>);

/// `/`, loaded on demand (its own WASM chunk, like every other page).
pub struct HomeRoute;

#[lazy_route]
impl LazyRoute for HomeRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <HomePage/> }.into_any()
    }
}

/// What needs the viewer, what is broken, what moved lately: counts that open their lists,
/// drawn by the server and then kept current by `/api/home/events`.
#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |()| get_home());
    // The feed's newest counts; until its first message, the server's.
    let pushed = RwSignal::new(None::<Home>);
    let live = RwSignal::new(None::<bool>);
    #[cfg(feature = "hydrate")]
    live::connect(pushed, live);
    view! {
        <Title text="Overview"/>
        <div class="space-y-8">
            <header class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Overview"</h1>
                    <p class="text-sm text-slate-600 dark:text-slate-400">"What needs you, what is broken, and what moved lately."</p>
                </div>
                <p class="text-xs text-slate-600 dark:text-slate-400" data-testid="home-feed" aria-live="polite">
                    {move || match live.get() {
                        Some(true) => "Live",
                        Some(false) => "Not live: reconnecting…",
                        None => "",
                    }}
                </p>
            </header>
            <Transition fallback=|| view! { <Loading label="Loading the overview"/> }>
                {move || home.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(first) => {
                        let current = Signal::derive(move || pushed.get().unwrap_or_else(|| first.clone()));
                        view! { <HomeBody home=current/> }.into_any()
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn HomeBody(home: Signal<Home>) -> impl IntoView {
    let tiles = move |pick: fn(&Home) -> &Vec<Tile>| {
        move || {
            home.with(|h| pick(h).clone())
                .into_iter()
                .map(|tile| view! { <TileLink tile/> })
                .collect_view()
        }
    };
    view! {
        <section aria-labelledby="needs-you" class="space-y-3">
            <h2 id="needs-you" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Needs you"</h2>
            <div class="grid gap-3 sm:grid-cols-2 xl:grid-cols-4">{tiles(|h| &h.needs_you)}</div>
        </section>
        <section aria-labelledby="broken" class="space-y-3">
            <h2 id="broken" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Broken"</h2>
            <div class="grid gap-3 sm:grid-cols-2 xl:grid-cols-4">{tiles(|h| &h.broken)}</div>
        </section>
        <section aria-labelledby="recent" class="space-y-3">
            <h2 id="recent" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Pipelines that moved lately"</h2>
            {move || {
                let recent = home.with(|h| h.recent.clone());
                if recent.is_empty() {
                    view! { <EmptyState title="No pipelines yet" hint="Pipelines you can see appear here as they move."/> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900" data-testid="recent-list">
                            {recent.into_iter().map(|item| view! {
                                <li class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2 text-sm" data-testid="recent-item">
                                    <a href=item.href class="font-medium text-indigo-700 hover:underline dark:text-indigo-300">{item.label}</a>
                                    <span class="text-slate-700 dark:text-slate-300">{item.status}</span>
                                    <span class="ml-auto text-xs text-slate-600 dark:text-slate-400"><Ago at=item.at/></span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// One count, coloured by what it means, opening the list it counts.
#[component]
fn TileLink(tile: Tile) -> impl IntoView {
    let (frame, number) = match tile.tone {
        HomeTone::Danger => (
            "border-rose-300 bg-rose-50 dark:border-rose-900 dark:bg-rose-950/40",
            "text-rose-700 dark:text-rose-300",
        ),
        HomeTone::Warning => (
            "border-amber-300 bg-amber-50 dark:border-amber-900 dark:bg-amber-950/40",
            "text-amber-800 dark:text-amber-300",
        ),
        HomeTone::Info => (
            "border-sky-300 bg-sky-50 dark:border-sky-900 dark:bg-sky-950/40",
            "text-sky-800 dark:text-sky-300",
        ),
        HomeTone::Quiet => (
            "border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900",
            "text-slate-700 dark:text-slate-300",
        ),
    };
    view! {
        <a
            href=tile.href
            data-testid=format!("tile-{}", tile.key)
            data-count=tile.count
            class=format!("block rounded-lg border p-4 shadow-sm hover:border-indigo-400 focus-visible:outline-2 focus-visible:outline-indigo-500 {frame}")
        >
            <p class=format!("text-3xl font-semibold tabular-nums {number}") data-testid="tile-count">{tile.count}</p>
            <p class="mt-1 text-sm font-medium text-slate-800 dark:text-slate-200">{tile.label}</p>
            {tile.detail.map(|d| view! { <p class="mt-1 text-xs break-words text-slate-700 dark:text-slate-300" data-testid="tile-detail">{d}</p> })}
        </a>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    //! The browser end of the home page's feed: each message is the viewer's counts.

    use leptos::prelude::*;
    use leptos::serde_json;

    use crate::home::Home;

    pub(super) fn connect(pushed: RwSignal<Option<Home>>, live: RwSignal<Option<bool>>) {
        Effect::new(move |_| {
            if !crate::ui::hydrated::page_hydrated() {
                return;
            }
            let opened = crate::ui::live::listen(
                "/api/home/events",
                move |data| {
                    if let Ok(home) = serde_json::from_str::<Home>(&data) {
                        live.set(Some(true));
                        pushed.set(Some(home));
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
