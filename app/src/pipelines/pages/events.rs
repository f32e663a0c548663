//! The live event log.

use super::*;

/// The pipeline's events, newest at the bottom; live while the stream is connected.
#[component]
pub(super) fn EventLog(events: RwSignal<Vec<EventView>>, live: RwSignal<Option<bool>>) -> impl IntoView {
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
                        view! { <li class="text-slate-500 dark:text-slate-400">"No events yet."</li> }.into_any()
                    } else {
                        list.into_iter().map(|e| view! {
                            <li data-testid="event" data-kind=e.kind.clone() data-id=e.id>
                                <span class="text-slate-500 dark:text-slate-400">{crate::ui::time::seconds(e.at)}</span>
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
