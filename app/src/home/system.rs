//! The System page (`/admin/system`): what this Heimdall runs on — version, database, Kubernetes,
//! the Flink watches — and a database round trip on demand. Diagnostics for whoever runs it, off
//! the home page.

use leptos::prelude::*;
use leptos_meta::Title;

use super::model::Overview;
use super::pages::OverviewResource;
use crate::cluster::ClusterStatus;
use crate::ui::{Badge, Button, ButtonKind, Card, ErrorNotice, Loading, Tone, use_toasts};

#[component]
pub fn SystemPage() -> impl IntoView {
    let OverviewResource(overview) = expect_context();
    view! {
        <Title text="System"/>
        <div class="space-y-6">
            <header>
                <h1 class="text-2xl font-semibold tracking-tight">"System"</h1>
                <p class="text-sm text-slate-500 dark:text-slate-400">
                    "What this Heimdall is running on, checked live."
                </p>
            </header>
            <Transition fallback=|| view! { <Loading label="Loading the system's state"/> }>
                {move || overview.get().map(|result| match result {
                    Ok(o) => view! { <OverviewCards overview=o/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                })}
            </Transition>
            <DatabaseCheckPanel/>
        </div>
    }
}

#[component]
fn OverviewCards(overview: Overview) -> impl IntoView {
    let Overview {
        build,
        database,
        cluster,
        jobs,
        ..
    } = overview;
    let db_version = database.server_version.clone();
    let (db_tone, db_label) = if db_version.is_some() {
        (Tone::Success, "reachable")
    } else {
        (Tone::Danger, "unreachable")
    };
    let (cluster_tone, cluster_label, cluster_detail) = match &cluster {
        ClusterStatus::Connected { version, source } => {
            (Tone::Success, "connected", format!("{version} · {source}"))
        }
        ClusterStatus::NotConfigured { reason } => (Tone::Neutral, "not configured", reason.clone()),
        ClusterStatus::Unreachable { error, source } => {
            (Tone::Danger, "unreachable", format!("{error} · {source}"))
        }
    };
    view! {
        <div class="grid gap-4 md:grid-cols-2 xl:grid-cols-4">
            <Card title="Heimdall">
                <p class="text-lg font-medium" data-testid="version">{build.version}</p>
                <p class="text-xs text-slate-500 dark:text-slate-400">"commit " <code>{build.git_commit}</code></p>
            </Card>
            <Card title="Database">
                <div class="flex items-center gap-2">
                    <span class="text-lg font-medium" data-testid="db-backend">{database.backend}</span>
                    <Badge tone=db_tone>{db_label}</Badge>
                </div>
                <p class="text-xs text-slate-500 dark:text-slate-400">
                    {db_version.map_or_else(|| "no answer".to_owned(), |v| format!("server {v}"))}
                </p>
            </Card>
            <Card title="Kubernetes">
                <div class="flex items-center gap-2">
                    <Badge tone=cluster_tone>{cluster_label}</Badge>
                </div>
                <p class="text-xs text-slate-500 dark:text-slate-400 break-words" data-testid="cluster-detail">
                    {cluster_detail}
                </p>
            </Card>
            <Card title="Flink jobs">
                <a href="/flink" class="block hover:text-indigo-600 dark:hover:text-indigo-400" data-testid="job-counts">
                    <span class="text-sm">{jobs.summary}</span>
                </a>
            </Card>
        </div>
    }
}

/// Runs `check_database` and words its answer. Lazy (`#[lazy]`): the call, the decoding of its
/// answer and the wording are fetched on the first click, not carried by the initial bundle.
#[leptos::lazy]
async fn database_round_trip() -> Result<String, String> {
    match super::api::check_database().await {
        Ok(c) => Ok(format!(
            "{} {} answered in {} ms · {} user(s)",
            c.backend,
            c.server_version,
            millis(c.round_trip_us),
            c.users
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs the database check on demand. The button needs the hydrated app (it is not a form),
/// which is what the browser test relies on.
#[component]
fn DatabaseCheckPanel() -> impl IntoView {
    let check = Action::new_local(|_: &()| database_round_trip());
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Err(e)) = check.value().get() {
            toasts.error(format!("Database check failed: {e}"));
        }
    });
    view! {
        <Card title="Database round trip">
            <div class="flex flex-wrap items-center gap-4">
                <Button
                    kind=ButtonKind::Primary
                    disabled=check.pending()
                    on_click=move |_| { check.dispatch(()); }
                    test_id="check-database"
                >
                    {move || if check.pending().get() { "Checking…" } else { "Check database" }}
                </Button>
                <p class="text-sm" data-testid="database-check-result" aria-live="polite">
                    {move || match check.value().get() {
                        None => "Not checked yet.".to_owned(),
                        Some(Ok(line) | Err(line)) => line,
                    }}
                </p>
            </div>
        </Card>
    }
}

/// Microseconds as milliseconds with one decimal (`12345` → `12.3`), in integers: a float here
/// would link float parsing and formatting into the initial WASM bundle for this one number.
fn millis(us: u64) -> String {
    let tenths = us.saturating_add(50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_show_milliseconds_with_one_decimal() {
        assert_eq!(super::millis(12_345), "12.3");
        assert_eq!(super::millis(60), "0.1");
        assert_eq!(super::millis(7_000), "7.0");
        assert_eq!(super::millis(0), "0.0");
    }
}
