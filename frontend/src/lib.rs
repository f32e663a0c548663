//! The browser entry point: hydrates the server-rendered page and nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // A page may be a lazy route whose code is a separate WASM chunk: hydration waits for it to
    // load (what `leptos::mount::hydrate_lazy` does), and only then is the page marked hydrated.
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        let owner = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        owner.forget();
        // Live streams open now, not while the page's HTML is still being claimed.
        app::ui::hydrated::mark_page_hydrated();
        // Browser tests wait for this marker before using controls that only work hydrated.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
