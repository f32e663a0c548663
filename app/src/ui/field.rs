use leptos::prelude::*;

/// The input classes every form shares.
pub const INPUT_CLASS: &str = "block w-full rounded-md border-0 bg-white px-2.5 py-1.5 text-sm text-slate-900 \
     shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset \
     focus:ring-indigo-500 dark:bg-slate-800 dark:text-slate-100 dark:ring-slate-600";

/// A labelled text input; `name` is the form field (and server function argument) it fills.
#[component]
pub fn TextField(
    #[prop(into)] label: String,
    name: &'static str,
    #[prop(optional)] input_type: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(optional, into)] placeholder: Option<String>,
    #[prop(optional, into)] value: Option<String>,
) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium text-slate-700 dark:text-slate-300">{label}</label>
            <input
                id=id
                name=name
                type=input_type.unwrap_or("text")
                autocomplete=autocomplete
                required=required
                autofocus=autofocus
                placeholder=placeholder
                value=value
                class=INPUT_CLASS
            />
        </div>
    }
}

/// A form's error line, announced to screen readers.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p role="alert" data-testid="form-error" class="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:bg-rose-950 dark:text-rose-200">
                {move || message.get()}
            </p>
        </Show>
    }
}
