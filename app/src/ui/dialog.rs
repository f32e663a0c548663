use leptos::prelude::*;

use super::{Button, ButtonKind};

/// Asks before a destructive action. Escape or "Cancel" closes it; the confirm button is the
/// only way to run `on_confirm`. The dialog takes the keyboard focus when it opens, so Escape
/// reaches it (the button that opened it sits behind the overlay), and gives it back to that
/// button when it closes, so a keyboard user goes on from where they were.
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(into)] confirm_label: String,
    on_confirm: Callback<()>,
    /// What the question needs besides its message: a warning, the fields of what to do.
    #[prop(optional)]
    children: Option<ChildrenFn>,
) -> impl IntoView {
    let (title, message, confirm_label) = (
        StoredValue::new(title),
        StoredValue::new(message),
        StoredValue::new(confirm_label),
    );
    let dialog = NodeRef::<leptos::html::Div>::new();
    // What had the focus when the dialog opened. Browser-only: a DOM node is thread-bound, and
    // a server render is cleaned up on whichever worker thread finishes it.
    #[cfg(feature = "hydrate")]
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if open.get() {
            if let Some(el) = dialog.get() {
                if opener.with_value(Option::is_none) {
                    let active = document()
                        .active_element()
                        .and_then(|a| leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(a).ok());
                    opener.set_value(active);
                }
                let _ = el.focus();
            }
        } else if let Some(back) = opener.try_update_value(Option::take).flatten() {
            // A live update may have redrawn the opener since; a detached one cannot take focus.
            if back.is_connected() {
                let _ = back.focus();
            }
        }
    });
    view! {
        <Show when=move || open.get()>
            <div
                class="fixed inset-0 z-40 flex items-center justify-center bg-slate-900/50"
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                <div
                    node_ref=dialog
                    tabindex="-1"
                    role="alertdialog"
                    aria-modal="true"
                    aria-labelledby="confirm-title"
                    class="w-full max-w-md rounded-lg bg-white p-5 shadow-xl outline-none dark:bg-slate-900"
                >
                    <h2 id="confirm-title" class="text-lg font-semibold">{title.get_value()}</h2>
                    <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{message.get_value()}</p>
                    {children.clone().map(|c| view! { <div class="mt-3 space-y-3">{c()}</div> })}
                    <div class="mt-4 flex justify-end gap-2">
                        <Button on_click=move |_| open.set(false)>"Cancel"</Button>
                        <Button
                            kind=ButtonKind::Danger
                            on_click=move |_| {
                                open.set(false);
                                on_confirm.run(());
                            }
                        >
                            {confirm_label.get_value()}
                        </Button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
