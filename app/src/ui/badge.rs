use leptos::prelude::*;

/// A status colour. States map to tones in one place per domain, never ad hoc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Warning,
    Danger,
    Info,
    Neutral,
}

impl Tone {
    fn classes(self) -> &'static str {
        match self {
            Self::Success => "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300",
            Self::Warning => "bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300",
            Self::Danger => "bg-rose-100 text-rose-800 dark:bg-rose-900/50 dark:text-rose-300",
            Self::Info => "bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300",
            Self::Neutral => "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
        }
    }
}

#[component]
pub fn Badge(tone: Tone, children: Children) -> impl IntoView {
    view! {
        <span class=format!(
            "inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium {}",
            tone.classes(),
        )>{children()}</span>
    }
}
