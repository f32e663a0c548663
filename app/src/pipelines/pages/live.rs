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
        if !crate::ui::hydrated::page_hydrated() {
            return;
        }
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
