//! Watching `FlinkDeployment`s into in-memory stores. Each watch reports its state, so
//! readiness can wait for the first sync and name a failing watch (a missing RBAC verb, a
//! missing CRD, an API server that went away) instead of serving an empty list as if it were
//! true; and every change is announced on one broadcast channel, which the live job feed
//! (Server-Sent Events) turns into messages. Failing watches retry with backoff, never fatal.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::Api;
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_stream};
use tokio::sync::{broadcast, watch};

use super::crd::FlinkDeploymentObject;
use crate::cluster::{WatchBackoff, WatchState, set_state as set};

const GROUP: &str = "flink.apache.org";
const KIND: &str = "FlinkDeployment";
const PLURAL: &str = "flinkdeployments";
/// The versions whose fields Heimdall reads (they are the same for what it reads).
const UNDERSTOOD: [&str; 2] = ["v1", "v1beta1"];

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

/// What changed, announced to every live feed.
#[derive(Debug, Clone)]
pub enum JobChange {
    /// Created or changed.
    Applied(Arc<FlinkDeploymentObject>),
    /// Gone; the `namespace/name` key.
    Deleted(String),
    /// A watch (re)listed: its store was replaced wholesale, so feeds send a fresh snapshot.
    Resynced,
    /// A watch's state changed (failed, recovered).
    State,
}

/// One running watch: its store and its state.
#[derive(Clone)]
pub struct FlinkWatch {
    /// The namespace, or `None` for the whole cluster.
    pub namespace: Option<String>,
    pub store: Store<FlinkDeploymentObject>,
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

/// Picks the version to watch: the server's preferred one when Heimdall understands it, else
/// `v1` when served, else `v1beta1` (the Java seed hard-wired one version and answered 500
/// when the cluster moved on).
pub fn pick_version(served: &[String], preferred: Option<&str>) -> &'static str {
    if let Some(preferred) = preferred
        && let Some(v) = UNDERSTOOD.iter().find(|v| **v == preferred)
    {
        return v;
    }
    if served.iter().any(|v| v == "v1") {
        "v1"
    } else {
        "v1beta1"
    }
}

/// The `ApiResource` of `FlinkDeployment` in `version`.
pub fn api_resource(version: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, version, KIND), PLURAL)
}

/// Asks the API server which versions of `flink.apache.org` it serves (bounded: 5 s) and picks
/// one; when it cannot say (down, CRD missing), `v1beta1`, and the watch reports the trouble.
pub async fn discover_api_resource(client: &kube::Client) -> ApiResource {
    let asked = tokio::time::timeout(Duration::from_secs(5), kube::discovery::group(client, GROUP)).await;
    let version = match asked {
        Ok(Ok(group)) => {
            let served: Vec<String> = group.versions().map(str::to_owned).collect();
            pick_version(&served, group.preferred_version())
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "discovering {GROUP} failed; watching v1beta1");
            "v1beta1"
        }
        Err(_) => {
            tracing::warn!("discovering {GROUP} timed out; watching v1beta1");
            "v1beta1"
        }
    };
    tracing::info!(version, "watching FlinkDeployments in {GROUP}/{version}");
    api_resource(version)
}

/// Starts one watch per namespace (or one cluster-wide) on the current Tokio runtime.
pub fn spawn_watches(
    client: &kube::Client,
    resource: &ApiResource,
    namespaces: &WatchedNamespaces,
    label_selector: Option<&str>,
    changes: &broadcast::Sender<JobChange>,
) -> Vec<FlinkWatch> {
    match namespaces {
        WatchedNamespaces::All => vec![spawn_watch(
            Api::all_with(client.clone(), resource),
            resource,
            None,
            label_selector,
            changes.clone(),
        )],
        WatchedNamespaces::Some(names) => names
            .iter()
            .map(|ns| {
                spawn_watch(
                    Api::namespaced_with(client.clone(), ns, resource),
                    resource,
                    Some(ns.clone()),
                    label_selector,
                    changes.clone(),
                )
            })
            .collect(),
    }
}

fn spawn_watch(
    api: Api<FlinkDeploymentObject>,
    resource: &ApiResource,
    namespace: Option<String>,
    label_selector: Option<&str>,
    changes: broadcast::Sender<JobChange>,
) -> FlinkWatch {
    let mut config = watcher::Config::default();
    if let Some(selector) = label_selector {
        config = config.labels(selector);
    }
    let mut writer = reflector::store::Writer::new(resource.clone());
    let store = writer.as_reader();
    let (tx, rx) = watch::channel(WatchState::Syncing);
    let scope = namespace.clone().unwrap_or_else(|| "*".to_owned());
    tokio::spawn(async move {
        let mut backoff = WatchBackoff::default();
        // Each round lists, then watches, until an error; the next round starts with a fresh
        // list. kube's own retry would resume the watch from the last resourceVersion, which
        // says nothing when nothing changed — a namespace without news would look failed
        // forever after the API server came back. The store keeps the last list in between.
        loop {
            // managedFields can be most of an object's size and is never shown: not cached.
            let stream = watch_stream(api.clone(), config.clone())
                .modify(|fd: &mut FlinkDeploymentObject| fd.metadata.managed_fields = None);
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                let event = match event {
                    Ok(event) => event,
                    Err(e) => {
                        let message = e.to_string();
                        if tx.send_if_modified(|state| set(state, WatchState::Failed(message.clone()))) {
                            tracing::warn!(namespace = %scope, error = %message, "FlinkDeployment watch failed");
                            let _ = changes.send(JobChange::State);
                        }
                        break;
                    }
                };
                writer.apply_watcher_event(&event);
                // Nobody listening is fine: `send` only fails when there are no feeds.
                match event {
                    Event::Apply(fd) => {
                        mark_ready(&tx, &changes);
                        let _ = changes.send(JobChange::Applied(Arc::new(fd)));
                    }
                    Event::Delete(fd) => {
                        mark_ready(&tx, &changes);
                        let key = format!(
                            "{}/{}",
                            fd.metadata.namespace.unwrap_or_default(),
                            fd.metadata.name.unwrap_or_default()
                        );
                        let _ = changes.send(JobChange::Deleted(key));
                    }
                    Event::InitDone => {
                        backoff.reset();
                        mark_ready(&tx, &changes);
                        let _ = changes.send(JobChange::Resynced);
                    }
                    Event::Init | Event::InitApply(_) => {}
                }
            }
            let delay = backoff.next_delay();
            tokio::time::sleep(delay).await;
        }
    });
    FlinkWatch {
        namespace,
        store,
        state: rx,
    }
}

fn mark_ready(tx: &watch::Sender<WatchState>, changes: &broadcast::Sender<JobChange>) {
    if tx.send_if_modified(|state| set(state, WatchState::Ready)) {
        let _ = changes.send(JobChange::State);
    }
}

#[cfg(test)]
mod tests {
    use super::{WatchedNamespaces, pick_version};

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

    #[test]
    fn the_preferred_version_is_served_when_understood() {
        let both = vec!["v1".to_owned(), "v1beta1".to_owned()];
        assert_eq!(pick_version(&both, Some("v1")), "v1");
        assert_eq!(pick_version(&both, Some("v1beta1")), "v1beta1");
        // A preferred version Heimdall does not know: the newest it does.
        let three = vec!["v2alpha1".to_owned(), "v1".to_owned(), "v1beta1".to_owned()];
        assert_eq!(pick_version(&three, Some("v2alpha1")), "v1");
        assert_eq!(pick_version(&["v1beta1".to_owned()], None), "v1beta1");
        assert_eq!(pick_version(&[], None), "v1beta1");
    }
}
