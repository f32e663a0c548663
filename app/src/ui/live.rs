//! A page's live stream: one `EventSource` opened inside an effect and closed with it. The
//! browser reconnects by itself after a drop (sending `Last-Event-ID` where the stream gives
//! ids); the page hears each message's data and each drop.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::wasm_bindgen::closure::Closure;

/// Opens `url` as Server-Sent Events: every unnamed message's data goes to `on_message`, a
/// dropped connection to `on_drop`. Closed when the calling reactive scope is cleaned up.
/// `false` when the browser cannot open one.
pub fn listen(
    url: &str,
    mut on_message: impl FnMut(String) + 'static,
    mut on_drop: impl FnMut() + 'static,
) -> bool {
    let Ok(source) = web_sys::EventSource::new(url) else {
        return false;
    };
    let message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if let Some(data) = ev.data().as_string() {
            on_message(data);
        }
    });
    source.set_onmessage(Some(message.as_ref().unchecked_ref()));
    // Both closures live as long as the source: it is closed on cleanup, then both go.
    message.forget();
    let drop = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| on_drop());
    source.set_onerror(Some(drop.as_ref().unchecked_ref()));
    drop.forget();
    let source = StoredValue::new_local(source);
    on_cleanup(move || source.with_value(web_sys::EventSource::close));
    true
}
