//! Whether the page the server sent has been hydrated: until then the browser must draw exactly
//! what the server drew, so anything that would draw something else (a live stream's message,
//! an overlay the server did not draw) waits for it.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

#[cfg(feature = "hydrate")]
thread_local! {
    static HYDRATED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// `true` once hydration is done (always `false` on the server); tracked, so an effect or a view
/// that reads it runs again when it turns.
pub fn page_hydrated() -> bool {
    #[cfg(feature = "hydrate")]
    return HYDRATED.with(|h| h.get());
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Called once, by the entry point, when hydration is done.
#[cfg(feature = "hydrate")]
pub fn mark_page_hydrated() {
    HYDRATED.with(|h| h.set(true));
}
