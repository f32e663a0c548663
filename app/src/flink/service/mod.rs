//! `FlinkService`: the Flink jobs domain. Reads come from the reflectors' stores (no API-server
//! request per call); actions patch the `FlinkDeployment` with field manager `heimdall` and are
//! audited. Every operation checks the `Principal` itself, so the server functions, the seed
//! REST routes and the live feed share one rule.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::core::ApiResource;
use kube::runtime::reflector::ObjectRef;
use serde_json::json;
use tokio::sync::broadcast;

use super::crd::FlinkDeploymentObject;
use super::error::{FlinkError, Result};
use super::job::{status_of, to_flink_job};
use super::model::{FeedStatus, FlinkJob, JobAction, JobCounts, JobQuery, JobsView};
use super::patterns::Patterns;
use super::reflector::{self, FlinkWatch, JobChange, WatchedNamespaces};

use crate::audit::{Audit, AuditAction, AuditEvent};
use crate::cluster::WatchState;
use crate::identity::{AccessError, Permission, Principal};
use crate::request::RequestMeta;
pub use feed::FeedMessage;
pub use list::{JobListBytes, gzip_etag};
use feed::translate_changes;

/// The field manager of every write Heimdall makes.
pub const FIELD_MANAGER: &str = "heimdall";

/// How many changes a slow feed may fall behind before it gets a fresh snapshot instead.
const CHANGE_BUFFER: usize = 4096;

/// What the service is configured with (from `joblocator_k8s_operator`, `patterns`,
/// `endpoint_path_patterns`, `proxy_target_map`).
#[derive(Debug, Clone, Default)]
pub struct FlinkSettings {
    pub enabled: bool,
    pub namespaces: String,
    pub label_selector: Option<String>,
    pub patterns: Patterns,
    /// `app` → base URL for `/proxy/{app}/…`; unmapped apps go to `http://{app}-rest:8081`.
    pub proxy_targets: BTreeMap<String, String>,
    pub proxy_timeout: Duration,
}

/// Cheap to clone; built once in `AppState`.
#[derive(Clone)]
pub struct FlinkService {
    inner: Arc<Inner>,
}

struct Inner {
    /// Why there is no job list at all (no cluster, discovery off), when there is none.
    off_reason: Option<String>,
    watches: Vec<FlinkWatch>,
    client: Option<kube::Client>,
    resource: ApiResource,
    settings: FlinkSettings,
    /// What live feeds receive: the watches' changes, translated by one task.
    feed: broadcast::Sender<FeedMessage>,
    /// The list `/jobs` answers, serialized once per change burst.
    list: list::ListCache,
    audit: Audit,
}

impl FlinkService {
    /// Discovers the served version and starts the watches; without a client (or with discovery
    /// off) a service that lists nothing and says why.
    pub async fn start(client: Option<kube::Client>, settings: FlinkSettings, audit: Audit) -> Self {
        let (changes, raw) = broadcast::channel(CHANGE_BUFFER);
        let (feed, _) = broadcast::channel(CHANGE_BUFFER);
        let (off_reason, watches, resource) = match (&client, settings.enabled) {
            (None, _) => (
                Some("Kubernetes is not configured".to_owned()),
                Vec::new(),
                reflector::api_resource("v1beta1"),
            ),
            (Some(_), false) => (
                Some(
                    "Flink job discovery is switched off (joblocator_k8s_operator.enabled = false)"
                        .to_owned(),
                ),
                Vec::new(),
                reflector::api_resource("v1beta1"),
            ),
            (Some(client), true) => {
                let resource = reflector::discover_api_resource(client).await;
                let namespaces = WatchedNamespaces::parse(&settings.namespaces);
                tracing::info!(?namespaces, label_selector = ?settings.label_selector, "watching FlinkDeployments");
                let watches = reflector::spawn_watches(
                    client,
                    &resource,
                    &namespaces,
                    settings.label_selector.as_deref(),
                    &changes,
                );
                (None, watches, resource)
            }
        };
        let service = Self {
            inner: Arc::new(Inner {
                off_reason,
                watches,
                client,
                resource,
                settings,
                feed,
                list: list::ListCache::default(),
                audit,
            }),
        };
        tokio::spawn(translate_changes(raw, Arc::downgrade(&service.inner)));
        service
    }

    /// The watches, for readiness.
    pub fn watches(&self) -> &[FlinkWatch] {
        &self.inner.watches
    }

    /// The patterns, for `/config`: readers only, like the jobs they describe.
    pub fn patterns(&self, principal: &Principal) -> Result<&Patterns> {
        principal.authorize(Permission::Read)?;
        Ok(&self.inner.settings.patterns)
    }

    /// Whether the stores mirror the API server, and if not, why.
    pub fn feed_status(&self) -> FeedStatus {
        if let Some(reason) = &self.inner.off_reason {
            return FeedStatus {
                live: false,
                problem: Some(reason.clone()),
                off: true,
            };
        }
        let problems: Vec<String> = self
            .inner
            .watches
            .iter()
            .filter_map(|w| match w.state() {
                WatchState::Ready => None,
                WatchState::Syncing => Some(format!("{}: first sync in progress", w.scope())),
                WatchState::Failed(e) => Some(format!("{}: {e}", w.scope())),
            })
            .collect();
        FeedStatus {
            live: problems.is_empty(),
            problem: (!problems.is_empty()).then(|| problems.join("; ")),
            off: false,
        }
    }

    /// Converts one stored object with the configured patterns.
    pub fn job_of(&self, fd: &FlinkDeploymentObject) -> FlinkJob {
        to_flink_job(fd, &self.inner.settings.patterns)
    }

    fn all_jobs(&self) -> Vec<FlinkJob> {
        let mut jobs: Vec<FlinkJob> = self
            .inner
            .watches
            .iter()
            .flat_map(|w| w.store.state())
            .map(|fd| self.job_of(&fd))
            .collect();
        jobs.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        jobs
    }

    /// Jobs by status, most common first.
    pub fn counts(&self, principal: &Principal) -> Result<JobCounts> {
        principal.authorize(Permission::Read)?;
        let mut by: BTreeMap<String, u32> = BTreeMap::new();
        let mut total = 0;
        for watch in &self.inner.watches {
            for fd in watch.store.state() {
                *by.entry(status_of(&fd)).or_default() += 1;
                total += 1;
            }
        }
        let mut by_status: Vec<(String, u32)> = by.into_iter().collect();
        by_status.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut parts = vec![format!("{total} {}", if total == 1 { "job" } else { "jobs" })];
        parts.extend(by_status.iter().map(|(status, n)| format!("{status} {n}")));
        let mut summary = parts.join(" · ");
        if let Some(problem) = self.feed_status().problem {
            summary.push_str(" — not live: ");
            summary.push_str(&problem);
        }
        Ok(JobCounts { summary })
    }

    fn stored(&self, namespace: &str, name: &str) -> Result<Arc<FlinkDeploymentObject>> {
        let key = ObjectRef::new_with(name, self.inner.resource.clone()).within(namespace);
        self.inner
            .watches
            .iter()
            .find_map(|w| w.store.get(&key))
            .ok_or_else(|| FlinkError::NotFound(format!("no Flink job {namespace}/{name} is being watched")))
    }

    fn patch_api(&self, namespace: &str) -> Result<Api<FlinkDeploymentObject>> {
        Ok(Api::namespaced_with(
            self.client()?,
            namespace,
            &self.inner.resource,
        ))
    }

    fn client(&self) -> Result<kube::Client> {
        self.inner
            .client
            .clone()
            .ok_or_else(|| FlinkError::Unavailable("Kubernetes is not configured".into()))
    }

    /// The object as the API server has it now, as YAML (one GET, on demand: the drawer's view).
    pub async fn yaml(&self, principal: &Principal, namespace: &str, name: &str) -> Result<String> {
        principal.authorize(Permission::Read)?;
        self.stored(namespace, name)?;
        let client = self.client()?;
        // Untyped, so the YAML shows every field, not only those Heimdall reads.
        let api: Api<kube::core::DynamicObject> =
            Api::namespaced_with(client, namespace, &self.inner.resource);
        let mut object = api.get(name).await.map_err(|e| from_kube(&e, namespace, name))?;
        object.metadata.managed_fields = None;
        // The last-applied annotation repeats the whole spec, secrets included.
        if let Some(annotations) = object.metadata.annotations.as_mut() {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
        let mut value = serde_json::to_value(&object)
            .map_err(|e| FlinkError::Unavailable(format!("cannot render YAML: {e}")))?;
        redact_secrets(&mut value);
        serde_yaml::to_string(&value).map_err(|e| FlinkError::Unavailable(format!("cannot render YAML: {e}")))
    }

    /// Runs `action` on a job: developers and admins only, audited either way. A refusal (no
    /// role, no such job, the wrong state) is logged at INFO; only the API server failing is a
    /// warning — nothing here is an error of Heimdall's.
    #[tracing::instrument(name = "flink.act", skip_all, fields(namespace, name, ?action), err(level = "info"))]
    pub async fn act(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        namespace: &str,
        name: &str,
        action: JobAction,
    ) -> Result<()> {
        principal.authorize(Permission::Operate)?;
        let stored = self.stored(namespace, name)?;
        let job = self.job_of(&stored);
        if !action.applies_to(&job) {
            return Err(FlinkError::Conflict(refusal(action, &job)));
        }
        let patch = match action {
            JobAction::Suspend => json!({ "spec": { "job": { "state": "suspended" } } }),
            JobAction::Resume => json!({ "spec": { "job": { "state": "running" } } }),
            JobAction::Restart => {
                json!({ "spec": { "restartNonce": stored.spec.restart_nonce.unwrap_or(0).saturating_add(1) } })
            }
            JobAction::Savepoint => {
                let current = stored
                    .spec
                    .job
                    .as_ref()
                    .and_then(|j| j.savepoint_trigger_nonce)
                    .unwrap_or(0);
                json!({ "spec": { "job": { "savepointTriggerNonce": current.saturating_add(1) } } })
            }
        };
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        let result = self
            .patch_api(namespace)?
            .patch(name, &params, &Patch::Merge(&patch))
            .await
            .map_err(|e| from_kube(&e, namespace, name));
        let audit_action = match action {
            JobAction::Suspend => AuditAction::FlinkJobSuspended,
            JobAction::Resume => AuditAction::FlinkJobResumed,
            JobAction::Restart => AuditAction::FlinkJobRestarted,
            JobAction::Savepoint => AuditAction::FlinkSavepointTriggered,
        };
        let event = match &result {
            Ok(_) => AuditEvent::success(audit_action),
            Err(e) => AuditEvent::failure(audit_action).detail(&e.to_string()),
        };
        self.inner
            .audit
            .record(
                event
                    .by(principal.actor_id(), &principal.display_name())
                    .target(&format!("{namespace}/{name}"))
                    .from(meta),
            )
            .await;
        result.map(|_| ())
    }

    /// Where `/proxy/{app}/…` goes: the mapped base URL, or `http://{app}-rest:8081`. Signed-in
    /// callers only (also with auth disabled: a proxy into the cluster is not a read).
    pub fn proxy_base(&self, principal: &Principal, app: &str) -> Result<String> {
        if principal.actor.is_none() {
            return Err(AccessError::Unauthenticated("sign in first").into());
        }
        if let Some(base) = self.inner.settings.proxy_targets.get(app) {
            return Ok(base.trim_end_matches('/').to_owned());
        }
        // The name becomes a host name: a DNS label, nothing that could smuggle a host or port.
        let valid = !app.is_empty()
            && app.len() <= 63
            && app
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !app.starts_with('-')
            && !app.ends_with('-');
        if !valid {
            return Err(FlinkError::NotFound(format!(
                "no proxy target for {app:?}: expected a mapped name or a DNS label (a-z, 0-9, -)"
            )));
        }
        Ok(format!("http://{app}-rest:8081"))
    }

    pub fn proxy_timeout(&self) -> Duration {
        self.inner.settings.proxy_timeout
    }
}

/// Whether a configuration key names a credential (`s3.secret-key`, `password`, `api_token` …).
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "credential",
        "access-key",
        "access_key",
        "accesskey",
        "private-key",
        "private_key",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// Replaces the values of credential-looking keys with `***`, everywhere in the object, and the
/// `value` of an env entry whose `name` looks like one: readers see the YAML, and Flink
/// configurations often carry storage keys.
pub(crate) fn redact_secrets(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let env_secret = map.get("name").and_then(Value::as_str).is_some_and(is_secret_key);
            for (key, v) in map.iter_mut() {
                let scalar = !v.is_object() && !v.is_array();
                if scalar && (is_secret_key(key) || (env_secret && key == "value")) {
                    *v = Value::String("***".into());
                } else {
                    redact_secrets(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_secrets),
        _ => {}
    }
}

/// Why `action` does not apply to `job`, in words.
fn refusal(action: JobAction, job: &FlinkJob) -> String {
    let key = job.key();
    match action {
        _ if job.job_type == super::model::JobType::Session => {
            format!(
                "{key} is a session cluster: it has no job to {}",
                action.label().to_lowercase()
            )
        }
        JobAction::Resume => format!("{key} is not suspended"),
        _ => format!("{key} is suspended: resume it first"),
    }
}

fn from_kube(e: &kube::Error, namespace: &str, name: &str) -> FlinkError {
    if !matches!(e, kube::Error::Api(status) if matches!(status.code, 404 | 409)) {
        tracing::warn!(%namespace, %name, error = %e, "the API server did not do a Flink action");
    }
    match e {
        kube::Error::Api(status) if status.code == 404 => {
            FlinkError::NotFound(format!("{namespace}/{name} no longer exists"))
        }
        kube::Error::Api(status) if status.code == 409 => FlinkError::Conflict(status.message.clone()),
        kube::Error::Api(status) if status.code == 403 => FlinkError::Unavailable(format!(
            "Heimdall's service account may not do this (see deploy/rbac/): {}",
            status.message
        )),
        kube::Error::Api(status) => {
            FlinkError::Unavailable(format!("the API server refused: {}", status.message))
        }
        other => FlinkError::Unavailable(format!("the API server did not answer: {other}")),
    }
}

mod feed;
mod list;
#[cfg(test)]
mod tests;
