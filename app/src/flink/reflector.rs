//! Watching `FlinkDeployment`s into in-memory stores. Each watch reports its state, so
//! readiness can wait for the first sync and name a failing watch (a missing RBAC verb, a
//! missing CRD) instead of serving an empty list as if it were true.

use futures::StreamExt;
use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_stream};
use tokio::sync::watch;

use super::FlinkDeployment;

/// Which namespaces to watch, from `joblocator_k8s_operator.namespace_to_watch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchedNamespaces {
    All,
    Some(Vec<String>),
}

impl WatchedNamespaces {
    /// Comma-separated names; `*`, `all`, `ALL` or `_all_` (the seeds' spellings) mean every
    /// namespace.
    pub fn parse(value: &str) -> Self {
        let names: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        if names
            .iter()
            .any(|n| matches!(n.as_str(), "*" | "all" | "ALL" | "_all_"))
        {
            Self::All
        } else {
            Self::Some(names)
        }
    }
}

/// Where one watch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchState {
    /// Started, first list not complete yet.
    Syncing,
    /// The store mirrors the API server.
    Ready,
    /// The last attempt failed; the watch retries with backoff. Holds the API server's words.
    Failed(String),
}

/// One running watch: its store and its state.
#[derive(Clone)]
pub struct FlinkWatch {
    /// The namespace, or `None` for the whole cluster.
    pub namespace: Option<String>,
    pub store: Store<FlinkDeployment>,
    state: watch::Receiver<WatchState>,
}

impl FlinkWatch {
    pub fn state(&self) -> WatchState {
        self.state.borrow().clone()
    }

    /// For messages: `namespace "x"` or `all namespaces`.
    pub fn scope(&self) -> String {
        self.namespace
            .as_ref()
            .map_or_else(|| "all namespaces".to_owned(), |ns| format!("namespace {ns:?}"))
    }
}

/// Starts one watch per namespace (or one cluster-wide) on the current Tokio runtime.
pub fn spawn_watches(
    client: &kube::Client,
    namespaces: &WatchedNamespaces,
    label_selector: Option<&str>,
) -> Vec<FlinkWatch> {
    match namespaces {
        WatchedNamespaces::All => vec![spawn_watch(Api::all(client.clone()), None, label_selector)],
        WatchedNamespaces::Some(names) => names
            .iter()
            .map(|ns| {
                spawn_watch(
                    Api::namespaced(client.clone(), ns),
                    Some(ns.clone()),
                    label_selector,
                )
            })
            .collect(),
    }
}

fn spawn_watch(
    api: Api<FlinkDeployment>,
    namespace: Option<String>,
    label_selector: Option<&str>,
) -> FlinkWatch {
    let mut config = watcher::Config::default();
    if let Some(selector) = label_selector {
        config = config.labels(selector);
    }
    let (store, writer) = reflector::store();
    let (tx, rx) = watch::channel(WatchState::Syncing);
    // managedFields can be most of an object's size and is never shown: not cached.
    let stream = watch_stream(api, config)
        .default_backoff()
        .modify(|fd: &mut FlinkDeployment| fd.metadata.managed_fields = None)
        .reflect(writer);
    let scope = namespace.clone().unwrap_or_else(|| "*".to_owned());
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::InitDone | Event::Apply(_) | Event::Delete(_)) => {
                    tx.send_if_modified(|state| set(state, WatchState::Ready));
                }
                Ok(Event::Init | Event::InitApply(_)) => {}
                Err(e) => {
                    let message = e.to_string();
                    if tx.send_if_modified(|state| set(state, WatchState::Failed(message.clone()))) {
                        tracing::warn!(namespace = %scope, error = %message, "FlinkDeployment watch failed");
                    }
                }
            }
        }
    });
    FlinkWatch {
        namespace,
        store,
        state: rx,
    }
}

/// Replaces `state` and says whether it changed (so a failure is logged once, not per retry).
fn set(state: &mut WatchState, next: WatchState) -> bool {
    if *state == next {
        false
    } else {
        *state = next;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::WatchedNamespaces;

    #[test]
    fn the_seeds_spellings_of_all_namespaces_are_understood() {
        for all in ["*", "all", "ALL", "_all_", "flink, *"] {
            assert_eq!(WatchedNamespaces::parse(all), WatchedNamespaces::All, "{all}");
        }
    }

    #[test]
    fn a_comma_list_is_trimmed_and_empty_entries_dropped() {
        assert_eq!(
            WatchedNamespaces::parse(" flink, streaming ,,"),
            WatchedNamespaces::Some(vec!["flink".into(), "streaming".into()])
        );
    }
}
