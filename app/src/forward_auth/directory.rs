//! The CARTA session directory: which user a session belongs to, read from the labels of the
//! Services and Pods in one namespace. Two metadata watches (labels only, selected on the
//! session label) keep an index in memory, so a decision costs no API request and a removed
//! session is refused as soon as the watch says so. A session the index does not know yet
//! gets one direct read (it may have been created a moment ago) and, when that finds nothing,
//! a short negative entry, which the watch clears the moment the session appears. Direct reads
//! are budgeted (20 a second): made-up ids cannot turn into a flood on the API server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{ListParams, ObjectMeta};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, Event, watcher as watch_stream};
use kube::{Api, Resource};
use tokio::sync::watch;

use crate::cluster::{WatchBackoff, WatchState, set_state};

/// A label value is at most 63 characters: a longer id cannot name a session.
const MAX_LABEL_VALUE: usize = 63;
/// Negative entries kept at most; beyond, the expired go, then all.
const MAX_MISSES: usize = 4096;
/// Direct reads per second at most while the watches are synced. Each unknown id would
/// otherwise cost two list requests: a stream of made-up ids must not become a stream of
/// requests to the API server. A real new session is delivered by the watch in milliseconds.
const DIRECT_READS_PER_SECOND: u32 = 20;

/// Where sessions live and how they are labelled (the seed's `TARGET_NAMESPACE`,
/// `SESSION_LABEL_KEY`, `USER_LABEL_KEY`).
#[derive(Debug, Clone)]
pub struct CartaSettings {
    pub namespace: String,
    pub session_label: String,
    pub user_label: String,
    /// How long a session the API server did not know is refused without asking again,
    /// unless the watch reports it first.
    pub miss_ttl: Duration,
}

/// The kind of object that carried the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Service,
    Pod,
}

impl Holder {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Pod => "pod",
        }
    }
}

/// The user of a session and what said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOwner {
    pub user: String,
    pub holder: Holder,
}

/// The directory could not answer: its watches are not synced and the API server did not
/// answer the direct read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("session lookup unavailable: {0}")]
pub struct LookupUnavailable(pub String);

/// Cheap to clone; the watches stop when the last clone is dropped.
#[derive(Clone)]
pub struct SessionDirectory {
    inner: Arc<Inner>,
}

struct Inner {
    settings: CartaSettings,
    client: kube::Client,
    services: Kind,
    pods: Kind,
    misses: Mutex<HashMap<String, Instant>>,
    /// This second's start and the direct reads made in it.
    direct_reads: Mutex<(Instant, u32)>,
    /// Direct reads made since start (what the budget let through).
    direct_reads_made: std::sync::atomic::AtomicU64,
    tasks: OnceLock<[tokio::task::AbortHandle; 2]>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.get().into_iter().flatten() {
            task.abort();
        }
    }
}

/// One watched kind: its index and its state.
struct Kind {
    holder: Holder,
    index: RwLock<Index>,
    state: watch::Sender<WatchState>,
    /// `state` is `Ready`: what every decision asks, without the channel's lock.
    ready: std::sync::atomic::AtomicBool,
}

impl Kind {
    fn new(holder: Holder) -> Self {
        Self {
            holder,
            index: RwLock::new(Index::default()),
            state: watch::Sender::new(WatchState::Syncing),
            ready: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_state(&self, next: WatchState, namespace: &str) {
        let failed = matches!(next, WatchState::Failed(_));
        let message = match &next {
            WatchState::Failed(e) => e.clone(),
            _ => String::new(),
        };
        let modified = self.state.send_if_modified(|state| set_state(state, next));
        self.ready.store(
            *self.state.borrow() == WatchState::Ready,
            std::sync::atomic::Ordering::Release,
        );
        if modified && failed {
            tracing::warn!(kind = self.holder.as_str(), namespace, error = %message, "CARTA session watch failed");
        }
    }
}

/// The session labels of one kind's objects, by object name and by session.
#[derive(Default)]
struct Index {
    objects: HashMap<String, Labels>,
    /// Session → names of the objects carrying it (almost always one).
    sessions: HashMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Labels {
    session: String,
    user: Option<String>,
}

impl Index {
    fn put(&mut self, name: String, labels: Option<Labels>) {
        self.remove(&name);
        if let Some(labels) = labels {
            let names = self.sessions.entry(labels.session.clone()).or_default();
            names.push(name.clone());
            names.sort();
            self.objects.insert(name, labels);
        }
    }

    fn remove(&mut self, name: &str) {
        let Some(old) = self.objects.remove(name) else {
            return;
        };
        if let Some(names) = self.sessions.get_mut(&old.session) {
            names.retain(|n| n != name);
            if names.is_empty() {
                self.sessions.remove(&old.session);
            }
        }
    }

    /// The users of the objects carrying `session`, by object name; empty labels left out.
    /// The users this kind's objects give `session` (empty labels are no user).
    fn users<'a>(&'a self, session: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.sessions
            .get(session)
            .into_iter()
            .flatten()
            .filter_map(|name| self.objects.get(name)?.user.as_deref())
            .filter_map(usable_user)
    }

    #[cfg(test)]
    fn user(&self, session: &str) -> Option<String> {
        one_owner(self.users(session), std::iter::empty()).map(|owner| owner.user)
    }
}

impl SessionDirectory {
    /// Starts the two watches on the current Tokio runtime.
    pub fn start(client: kube::Client, settings: CartaSettings) -> Self {
        let config = watcher::Config::default().labels(&settings.session_label);
        // Labels are all a decision needs: metadata-only lists and watches.
        let services: Api<PartialObjectMeta<Service>> = Api::namespaced(client.clone(), &settings.namespace);
        let pods: Api<PartialObjectMeta<Pod>> = Api::namespaced(client.clone(), &settings.namespace);
        let inner = Arc::new(Inner {
            settings,
            client,
            services: Kind::new(Holder::Service),
            pods: Kind::new(Holder::Pod),
            misses: Mutex::new(HashMap::new()),
            direct_reads: Mutex::new((Instant::now(), 0)),
            direct_reads_made: std::sync::atomic::AtomicU64::new(0),
            tasks: OnceLock::new(),
        });
        // The tasks hold a weak handle, so dropping the directory ends them.
        let weak = Arc::downgrade(&inner);
        let _ = inner.tasks.set([
            tokio::spawn(run_watch(weak.clone(), Holder::Service, services, config.clone())).abort_handle(),
            tokio::spawn(run_watch(weak, Holder::Pod, pods, config)).abort_handle(),
        ]);
        Self { inner }
    }

    pub fn settings(&self) -> &CartaSettings {
        &self.inner.settings
    }

    /// Each watch's kind and state, for readiness.
    pub fn watch_states(&self) -> [(Holder, WatchState); 2] {
        [
            (Holder::Service, self.inner.services.state.borrow().clone()),
            (Holder::Pod, self.inner.pods.state.borrow().clone()),
        ]
    }

    /// Every session both indexes hold, Services first: `(session, user, holder, object)`.
    pub fn sessions(&self) -> Vec<(String, Option<String>, Holder, String)> {
        let mut all = Vec::new();
        for kind in [&self.inner.services, &self.inner.pods] {
            let index = kind.index.read().unwrap_or_else(PoisonError::into_inner);
            let mut these: Vec<_> = index
                .objects
                .iter()
                .map(|(name, labels)| {
                    (
                        labels.session.clone(),
                        labels.user.clone(),
                        kind.holder,
                        name.clone(),
                    )
                })
                .collect();
            these.sort_by(|a, b| a.3.cmp(&b.3));
            all.extend(these);
        }
        all
    }

    /// On every decision: compares in place, no copy of the states.
    fn synced(&self) -> bool {
        [&self.inner.services, &self.inner.pods]
            .iter()
            .all(|kind| kind.ready.load(std::sync::atomic::Ordering::Acquire))
    }

    /// The user of `session`: a Service's label first, then a Pod's (the seed's order).
    /// With both watches synced, from memory; a miss is confirmed by one direct read. With a
    /// watch not synced (starting, or failing), a direct read, and if the API server does not
    /// answer either, the last synced state.
    pub async fn owner(&self, session: &str) -> Result<Option<SessionOwner>, LookupUnavailable> {
        if session.is_empty() || session.len() > MAX_LABEL_VALUE {
            return Ok(None);
        }
        let synced = self.synced();
        let indexed = self.indexed(session);
        if synced {
            if indexed.is_some() {
                return Ok(indexed);
            }
            if self.missed_recently(session) || !self.take_direct_read() {
                return Ok(None);
            }
        }
        match self.read_directly(session).await {
            Ok(found) => {
                if found.is_none() && synced {
                    self.remember_miss(session);
                }
                Ok(found)
            }
            Err(error) if synced => {
                tracing::warn!(%error, "reading a CARTA session directly failed; the synced index says unknown");
                Ok(None)
            }
            Err(error) => match indexed {
                Some(owner) => Ok(Some(owner)),
                None => Err(LookupUnavailable(error)),
            },
        }
    }

    /// From memory only (what the watches have seen).
    pub fn indexed(&self, session: &str) -> Option<SessionOwner> {
        let (services, pods) = (self.inner.services.index(), self.inner.pods.index());
        one_owner(services.users(session), pods.users(session))
    }

    /// Whether this second's budget of direct reads has room; takes one if so.
    fn take_direct_read(&self) -> bool {
        let mut budget = self
            .inner
            .direct_reads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        take_from_budget(&mut budget, Instant::now(), DIRECT_READS_PER_SECOND)
    }

    fn missed_recently(&self, session: &str) -> bool {
        let misses = self.inner.misses.lock().unwrap_or_else(PoisonError::into_inner);
        misses
            .get(session)
            .is_some_and(|at| at.elapsed() < self.inner.settings.miss_ttl)
    }

    fn remember_miss(&self, session: &str) {
        let mut misses = self.inner.misses.lock().unwrap_or_else(PoisonError::into_inner);
        if misses.len() >= MAX_MISSES {
            let ttl = self.inner.settings.miss_ttl;
            misses.retain(|_, at| at.elapsed() < ttl);
            if misses.len() >= MAX_MISSES {
                misses.clear();
            }
        }
        misses.insert(session.to_owned(), Instant::now());
    }

    /// How many direct reads this directory has made (each one Service list, then one Pod list).
    pub fn direct_reads_made(&self) -> u64 {
        self.inner
            .direct_reads_made
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// One list per kind with the session label selector: Services, then Pods.
    async fn read_directly(&self, session: &str) -> Result<Option<SessionOwner>, String> {
        self.inner
            .direct_reads_made
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let settings = &self.inner.settings;
        // `session` is letters and digits only (the parser's rule), so the selector is exact.
        let params = ListParams::default().labels(&format!("{}={session}", settings.session_label));
        let services: Api<Service> = Api::namespaced(self.inner.client.clone(), &settings.namespace);
        let found = services.list_metadata(&params).await.map_err(|e| e.to_string())?;
        let from_services = users_of(found.items.iter().map(|o| &o.metadata), &settings.user_label);
        let pods: Api<Pod> = Api::namespaced(self.inner.client.clone(), &settings.namespace);
        let found = pods.list_metadata(&params).await.map_err(|e| e.to_string())?;
        let from_pods = users_of(found.items.iter().map(|o| &o.metadata), &settings.user_label);
        Ok(one_owner(
            from_services.iter().map(String::as_str),
            from_pods.iter().map(String::as_str),
        ))
    }

    fn kind(&self, holder: Holder) -> &Kind {
        match holder {
            Holder::Service => &self.inner.services,
            Holder::Pod => &self.inner.pods,
        }
    }
}

/// One-second windows of at most `per_second` takes.
fn take_from_budget(budget: &mut (Instant, u32), now: Instant, per_second: u32) -> bool {
    if now.duration_since(budget.0) >= Duration::from_secs(1) {
        *budget = (now, 0);
    }
    if budget.1 < per_second {
        budget.1 += 1;
        true
    } else {
        false
    }
}

/// A user label's value, when it names a user: not empty, not only whitespace.
fn usable_user(value: &str) -> Option<&str> {
    (!value.trim().is_empty()).then_some(value)
}

/// The usable user labels of `objects`, by object name.
fn users_of<'a>(objects: impl Iterator<Item = &'a ObjectMeta>, user_label: &str) -> Vec<String> {
    let mut named: Vec<(&str, &str)> = objects
        .filter_map(|m| {
            let user = usable_user(m.labels.as_ref()?.get(user_label)?)?;
            Some((m.name.as_deref().unwrap_or_default(), user))
        })
        .collect();
    named.sort_unstable();
    named.into_iter().map(|(_, user)| user.to_owned()).collect()
}

/// The session's one user: every object that names a user names the same one (a Service then
/// says so, else a Pod). Objects that disagree are refused — the seed would have answered with
/// whichever it met first, and a session is never someone the labels do not agree on.
fn one_owner<'a>(
    from_services: impl Iterator<Item = &'a str>,
    from_pods: impl Iterator<Item = &'a str>,
) -> Option<SessionOwner> {
    let mut from_services = from_services.peekable();
    let holder = if from_services.peek().is_some() {
        Holder::Service
    } else {
        Holder::Pod
    };
    let mut all = from_services.chain(from_pods);
    let first = all.next()?;
    if let Some(other) = all.find(|user| *user != first) {
        tracing::warn!(
            first = %first,
            other = %other,
            "CARTA session refused: its Services and Pods name different users"
        );
        return None;
    }
    Some(SessionOwner {
        user: first.to_owned(),
        holder,
    })
}

fn labels_of(meta: &ObjectMeta, settings: &CartaSettings) -> Option<Labels> {
    let labels = meta.labels.as_ref()?;
    Some(Labels {
        session: labels.get(&settings.session_label)?.clone(),
        user: labels.get(&settings.user_label).cloned(),
    })
}

/// One kind's watch, for as long as the directory lives: list, then follow, until an error;
/// then a fresh list after a backoff (as the Flink watches do, so a quiet namespace does not
/// look failed forever). A relist builds a new index and swaps it in whole.
async fn run_watch<K>(
    directory: Weak<Inner>,
    holder: Holder,
    api: Api<PartialObjectMeta<K>>,
    config: watcher::Config,
) where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    let mut backoff = WatchBackoff::default();
    loop {
        let stream = watch_stream(api.clone(), config.clone());
        let mut stream = std::pin::pin!(stream);
        let mut relist: Option<Index> = None;
        while let Some(event) = stream.next().await {
            let Some(inner) = directory.upgrade() else {
                return;
            };
            let directory = SessionDirectory { inner };
            let settings = directory.settings();
            let kind = directory.kind(holder);
            let write = || kind.index.write().unwrap_or_else(PoisonError::into_inner);
            match event {
                Err(e) => {
                    kind.set_state(WatchState::Failed(e.to_string()), &settings.namespace);
                    break;
                }
                Ok(Event::Init) => relist = Some(Index::default()),
                Ok(Event::InitApply(object)) => {
                    if let (Some(index), Some(name)) = (relist.as_mut(), object.metadata.name.clone()) {
                        index.put(name, labels_of(&object.metadata, settings));
                    }
                }
                Ok(Event::InitDone) => {
                    *write() = relist.take().unwrap_or_default();
                    directory
                        .inner
                        .misses
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clear();
                    backoff.reset();
                    kind.set_state(WatchState::Ready, &settings.namespace);
                }
                Ok(Event::Apply(object)) => {
                    let Some(name) = object.metadata.name.clone() else {
                        continue;
                    };
                    let labels = labels_of(&object.metadata, settings);
                    if let Some(labels) = &labels {
                        directory
                            .inner
                            .misses
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .remove(&labels.session);
                    }
                    write().put(name, labels);
                }
                Ok(Event::Delete(object)) => {
                    if let Some(name) = &object.metadata.name {
                        write().remove(name);
                    }
                }
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

#[cfg(test)]
mod tests;
