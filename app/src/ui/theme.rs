use leptos::prelude::*;

const STORAGE_KEY: &str = "heimdall-theme";

/// Runs in `<head>` before first paint, so a dark-mode user never sees a white flash.
pub const THEME_BOOT_SCRIPT: &str = "try{var t=localStorage.getItem('heimdall-theme');\
if(t==='dark'||(!t&&window.matchMedia('(prefers-color-scheme: dark)').matches))\
{document.documentElement.classList.add('dark')}}catch(e){}";

/// Switches between light and dark, remembered in `localStorage`.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let toggle = move |_| {
        let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        else {
            return;
        };
        let dark = root.class_list().toggle("dark").unwrap_or(false);
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(STORAGE_KEY, if dark { "dark" } else { "light" });
        }
    };
    view! {
        <button
            type="button"
            class="rounded-md p-1.5 text-slate-500 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800"
            aria-label="Toggle dark mode"
            title="Toggle dark mode"
            data-testid="theme-toggle"
            on:click=toggle
        >
            <span class="dark:hidden">"☾"</span>
            <span class="hidden dark:inline">"☀"</span>
        </button>
    }
}
