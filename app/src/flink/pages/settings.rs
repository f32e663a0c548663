//! Display settings kept in the browser (local storage), and the dialog that changes them.

use super::*;

/// Display settings kept in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Settings {
    pub(super) parallelism: bool,
    pub(super) version: bool,
    pub(super) image: bool,
    /// Rows per page; 0 shows all.
    pub(super) page_size: usize,
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

pub(super) const SETTINGS_KEY: &str = "heimdall.flink.settings";

impl Settings {
    /// `p,v,i,size`: four fields, no JSON parser needed.
    pub(super) fn encode(self) -> String {
        format!(
            "{},{},{},{}",
            u8::from(self.parallelism),
            u8::from(self.version),
            u8::from(self.image),
            self.page_size
        )
    }

    pub(super) fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(',');
        let flag = |p: Option<&str>| p.map(|v| v == "1");
        Some(Self {
            parallelism: flag(parts.next())?,
            version: flag(parts.next())?,
            image: flag(parts.next())?,
            page_size: parts.next()?.parse().ok().filter(|s| PAGE_SIZES.contains(s))?,
        })
    }

    pub(super) fn load() -> Self {
        storage()
            .and_then(|s| s.get_item(SETTINGS_KEY).ok().flatten())
            .and_then(|t| Self::decode(&t))
            .unwrap_or_default()
    }

    pub(super) fn save(self) {
        if let Some(s) = storage() {
            let _ = s.set_item(SETTINGS_KEY, &self.encode());
        }
    }
}

pub(super) fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

#[component]
pub(super) fn SettingsDialog(open: RwSignal<bool>, settings: RwSignal<Settings>) -> impl IntoView {
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
