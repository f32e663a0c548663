use leptos::prelude::*;

/// A dense table with a sticky header; rows come as children (`<tr>`s).
#[component]
pub fn DataTable(headers: Vec<&'static str>, children: Children) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800">
            <table class="stack min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
                <thead class="sticky top-0 bg-slate-50 dark:bg-slate-900">
                    <tr>
                        {headers
                            .into_iter()
                            .map(|h| view! {
                                <th scope="col" class="px-3 py-2 text-left font-semibold text-slate-600 dark:text-slate-300">{h}</th>
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">{children()}</tbody>
            </table>
        </div>
    }
}
