use std::time::Duration;

use leptos::prelude::*;

use super::Tone;

#[derive(Debug, Clone)]
struct Toast {
    id: u64,
    tone: Tone,
    message: String,
}

/// The toast queue, provided once by the layout.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

/// How long a toast stays before it dismisses itself.
const TOAST_LIFETIME: Duration = Duration::from_secs(6);

impl Toasts {
    pub fn success(self, message: impl Into<String>) {
        self.push(Tone::Success, message.into());
    }

    pub fn error(self, message: impl Into<String>) {
        self.push(Tone::Danger, message.into());
    }

    fn push(self, tone: Tone, message: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.items.update(|items| items.push(Toast { id, tone, message }));
        set_timeout(move || self.dismiss(id), TOAST_LIFETIME);
    }

    fn dismiss(self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }
}

pub fn provide_toasts() -> Toasts {
    let toasts = Toasts {
        items: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(0),
    };
    provide_context(toasts);
    toasts
}

pub fn use_toasts() -> Toasts {
    expect_context()
}

/// Renders the queue in the corner; each toast can be dismissed by hand. A plain list rather
/// than `<For>`: a few toasts need no keyed diffing, and the shell (in the initial WASM bundle)
/// is the only place that would pull that code in.
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="fixed bottom-4 right-4 z-50 flex w-80 flex-col gap-2" aria-live="polite">
            {move || toasts.items.get().into_iter().map(|toast| view! {
                <div
                    role="status"
                    class=format!(
                        "flex items-start justify-between gap-2 rounded-md p-3 text-sm shadow-lg {}",
                        if toast.tone == Tone::Danger {
                            "bg-rose-600 text-white"
                        } else {
                            "bg-slate-800 text-white dark:bg-slate-700"
                        },
                    )
                >
                    <span>{toast.message.clone()}</span>
                    <button
                        class="opacity-70 hover:opacity-100"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            }).collect_view()}
        </div>
    }
}
