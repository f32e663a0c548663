use leptos::ev::MouseEvent;
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ButtonKind {
    Primary,
    #[default]
    Secondary,
    Danger,
    Ghost,
}

impl ButtonKind {
    fn classes(self) -> &'static str {
        match self {
            Self::Primary => "bg-indigo-600 text-white hover:bg-indigo-500",
            Self::Secondary => {
                "bg-white text-slate-800 ring-1 ring-slate-300 hover:bg-slate-50 \
                 dark:bg-slate-800 dark:text-slate-100 dark:ring-slate-600 dark:hover:bg-slate-700"
            }
            Self::Danger => "bg-rose-600 text-white hover:bg-rose-500",
            Self::Ghost => "text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800",
        }
    }
}

/// A button. `on_click` buttons need the hydrated app; use a form submit for actions that must
/// work before hydration.
#[component]
pub fn Button(
    #[prop(optional)] kind: ButtonKind,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional, into)] on_click: Option<Callback<MouseEvent>>,
    #[prop(optional, into)] submit: bool,
    #[prop(optional, into)] test_id: Option<&'static str>,
    #[prop(optional, into)] label: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <button
            type=if submit { "submit" } else { "button" }
            class=format!(
                "inline-flex items-center gap-2 rounded-md px-3 py-1.5 text-sm font-medium shadow-sm \
                 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 \
                 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:opacity-50 {}",
                kind.classes(),
            )
            disabled=move || disabled.get()
            data-testid=test_id
            aria-label=label
            on:click=move |ev| {
                if let Some(cb) = on_click {
                    cb.run(ev);
                }
            }
        >
            {children()}
        </button>
    }
}
