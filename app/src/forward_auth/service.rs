//! `ForwardAuthService`: the two questions a reverse proxy asks, answered from memory.
//! CARTA mode reads the session directory (Kubernetes labels); session mode reads Heimdall's
//! own sessions and tokens through the identity service, keeping each answer for a few
//! seconds so a busy proxy does not cost three database reads per request — and dropping them
//! all the moment identity takes access away in this process (a sign-out, a revoked token, a
//! role or membership change).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};

use super::carta::{self, IdSource};
use super::directory::{CartaSettings, Holder, SessionDirectory};
use super::model::{CartaSessionView, CartaStatus, ForwardAuthStatus, RuleView, WatchView};
use super::session::{AccessRule, OriginalRequest, ProxyKind, login_address, rules_for};
use crate::cluster::WatchState;
use crate::error::AppError;
use crate::identity::{
    AccessError, IdentityError, IdentityService, Permission, Principal, Role, cookie_value,
};
use crate::request::RequestMeta;

/// Session mode's path.
pub const SESSION_PATH: &str = "/forward-auth/session";

/// The first four characters of a session id and an ellipsis: enough to tell sessions apart
/// on the page, not enough to pass as one.
fn hint(session: &str) -> String {
    let shown: String = session.chars().take(4).collect();
    format!("{shown}…")
}

/// A SHA-256 digest: what the session-mode cache is keyed by, so it holds no secret.
type Digest = [u8; 32];

fn digest(kind: &[u8], secret: &[u8]) -> Digest {
    use sha2::Digest as _;
    sha2::Sha256::new()
        .chain_update(kind)
        .chain_update(secret)
        .finalize()
        .into()
}

/// Entries the session-mode cache holds at most; beyond, the expired go, then all.
const MAX_CACHED: usize = 10_000;

/// `forward_auth.*` in the shape the service uses.
#[derive(Debug, Clone)]
pub struct ForwardAuthSettings {
    /// `None`: CARTA mode is off.
    pub carta: Option<CartaSettings>,
    /// CARTA mode's path on Heimdall's own listener.
    pub carta_path: String,
    pub rules: Vec<AccessRule>,
    /// Where signed-out browsers sign in (`<base>/login`); `None`: the address the proxy used
    /// to reach Heimdall.
    pub login_base: Option<String>,
    /// How long a session-mode answer is reused; zero turns the cache off.
    pub cache_ttl: Duration,
    /// The proxy whose headers say where a request was going (`forward_auth.session.proxy`).
    pub proxy: ProxyKind,
}

impl Default for ForwardAuthSettings {
    fn default() -> Self {
        Self {
            carta: None,
            carta_path: "/forward-auth/carta".into(),
            rules: Vec::new(),
            login_base: None,
            cache_ttl: Duration::from_secs(5),
            proxy: ProxyKind::Nginx,
        }
    }
}

/// CARTA mode's answer, in the seed's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartaDecision {
    Allow {
        session: String,
        user: String,
        source: IdSource,
        holder: Holder,
    },
    /// Neither header names a session (403 "missing session id").
    MissingSession,
    /// No Service or Pod gives the session a user (403 "userid not found").
    UnknownUser { session: String },
    /// The directory cannot answer (503).
    Unavailable(String),
}

/// Who session mode vouches for. Equal when the same person with the same role and tenants is vouched for (how the answer
/// was written out is not part of it).
#[derive(Debug, Clone)]
pub struct Vouched {
    pub user: String,
    pub email: Option<String>,
    pub role: Role,
    /// Tenant slugs.
    pub tenants: Vec<String>,
    /// The pass's body and headers, made on first use and kept with this vouching.
    wire: OnceLock<super::rest::Wire>,
}

impl PartialEq for Vouched {
    fn eq(&self, other: &Self) -> bool {
        (&self.user, &self.email, self.role, &self.tenants)
            == (&other.user, &other.email, other.role, &other.tenants)
    }
}

impl Eq for Vouched {}

impl Vouched {
    pub fn new(user: String, email: Option<String>, role: Role, tenants: Vec<String>) -> Self {
        Self {
            user,
            email,
            role,
            tenants,
            wire: OnceLock::new(),
        }
    }

    pub(super) fn wire(&self) -> &super::rest::Wire {
        self.wire.get_or_init(|| super::rest::Wire::of(self))
    }

    /// `role:<role>` then `tenant:<slug>` for each tenant, comma-separated.
    pub fn groups(&self) -> Vec<String> {
        std::iter::once(format!("role:{}", self.role.as_str()))
            .chain(self.tenants.iter().map(|t| format!("tenant:{t}")))
            .collect()
    }

    fn refusal(&self, rule: &AccessRule) -> Option<String> {
        if let Some(role) = rule.role
            && self.role < role
        {
            return Some(format!("this needs the {} role", role.as_str()));
        }
        if let Some(tenant) = &rule.tenant
            && self.role != Role::Admin
            && !self.tenants.contains(tenant)
        {
            return Some(format!("this needs membership of tenant {tenant:?}"));
        }
        None
    }
}

/// Session mode's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionDecision {
    Allow(Arc<Vouched>),
    /// Nobody signed in (401), with where to sign in.
    SignIn {
        login_url: String,
        reason: String,
    },
    /// Signed in, but a rule wants more (403).
    Forbidden {
        user: String,
        reason: String,
    },
}

/// Which credential session mode asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    Cookie,
    Bearer,
}

#[derive(Clone)]
pub struct ForwardAuthService(Arc<Inner>);

struct Inner {
    settings: ForwardAuthSettings,
    /// `Some` when CARTA mode is on and a cluster is configured.
    directory: Option<SessionDirectory>,
    identity: IdentityService,
    /// Credential digest → when, identity's access generation then, and the answer.
    cache: RwLock<HashMap<Digest, Cached>>,
}

struct Cached {
    at: Instant,
    generation: u64,
    vouched: Arc<Vouched>,
}

impl ForwardAuthService {
    /// Starts the CARTA watches when CARTA mode is on and there is a cluster.
    pub fn start(
        client: Option<kube::Client>,
        settings: ForwardAuthSettings,
        identity: IdentityService,
    ) -> Self {
        let directory = match (&settings.carta, client) {
            (Some(carta), Some(client)) => {
                tracing::info!(namespace = %carta.namespace, session_label = %carta.session_label, user_label = %carta.user_label, "watching CARTA sessions");
                Some(SessionDirectory::start(client, carta.clone()))
            }
            (Some(_), None) => {
                tracing::warn!(
                    "forward_auth.carta is on but no Kubernetes cluster is configured: CARTA requests get 503"
                );
                None
            }
            (None, _) => None,
        };
        Self(Arc::new(Inner {
            settings,
            directory,
            identity,
            cache: RwLock::new(HashMap::new()),
        }))
    }

    pub fn settings(&self) -> &ForwardAuthSettings {
        &self.0.settings
    }

    pub fn carta_enabled(&self) -> bool {
        self.0.settings.carta.is_some()
    }

    pub fn directory(&self) -> Option<&SessionDirectory> {
        self.0.directory.as_ref()
    }

    /// What keeps CARTA mode from answering, if it is on: no cluster, or a watch not synced.
    pub fn readiness(&self) -> Result<(), String> {
        if !self.carta_enabled() {
            return Ok(());
        }
        let Some(directory) = &self.0.directory else {
            return Err("CARTA mode needs a Kubernetes cluster and none is configured".into());
        };
        for (holder, state) in directory.watch_states() {
            let scope = format!(
                "{}s in namespace {:?}",
                holder.as_str(),
                directory.settings().namespace
            );
            match state {
                WatchState::Ready => {}
                WatchState::Syncing => {
                    return Err(format!("CARTA sessions ({scope}): first sync in progress"));
                }
                WatchState::Failed(e) => {
                    return Err(format!("watching CARTA sessions ({scope}) failed: {e}"));
                }
            }
        }
        Ok(())
    }

    /// The set-up of both modes and the CARTA sessions the watches know, for admins.
    pub fn status(&self, principal: &Principal) -> Result<ForwardAuthStatus, AccessError> {
        principal.authorize(Permission::Administer)?;
        let settings = &self.0.settings;
        let carta = settings.carta.as_ref().map(|carta| CartaStatus {
            path: settings.carta_path.clone(),
            namespace: carta.namespace.clone(),
            session_label: carta.session_label.clone(),
            user_label: carta.user_label.clone(),
            watches: self.0.directory.as_ref().map(|d| {
                d.watch_states()
                    .into_iter()
                    .map(|(holder, state)| {
                        let (state, error) = match state {
                            WatchState::Syncing => ("syncing", None),
                            WatchState::Ready => ("ready", None),
                            WatchState::Failed(e) => ("failed", Some(e)),
                        };
                        WatchView {
                            kind: format!("{}s", holder.as_str()),
                            state: state.to_owned(),
                            error,
                        }
                    })
                    .collect()
            }),
            sessions: self
                .0
                .directory
                .as_ref()
                .map(SessionDirectory::sessions)
                .unwrap_or_default()
                .into_iter()
                .map(|(session, user, holder, object)| CartaSessionView {
                    session_hint: hint(&session),
                    user,
                    holder: holder.as_str().to_owned(),
                    object,
                })
                .collect(),
        });
        Ok(ForwardAuthStatus {
            session_path: SESSION_PATH.to_owned(),
            login_base: settings.login_base.clone(),
            cache_secs: settings.cache_ttl.as_secs(),
            return_hosts: self
                .0
                .identity
                .settings()
                .return_hosts
                .patterns()
                .map(ToString::to_string)
                .collect(),
            rules: settings
                .rules
                .iter()
                .map(|rule| RuleView {
                    host: rule.host.as_ref().map(ToString::to_string),
                    path_prefix: rule.path_prefix.clone(),
                    role: rule.role,
                    tenant: rule.tenant.clone(),
                })
                .collect(),
            carta,
        })
    }

    /// CARTA mode: the session id from `Referer`, else `X-Forwarded-Uri`; its user from the
    /// labels. Anyone who knows a live session URL passes — the seed's model, kept for its
    /// clients; session mode is the one that checks who is asking.
    // At debug: a span per decision is a proxy's every request (the short path's reason).
    #[tracing::instrument(name = "forward_auth.carta", level = "debug", skip_all)]
    pub async fn carta(&self, headers: &HeaderMap) -> CartaDecision {
        // A header sent twice: the last one, as the seed's dict of headers kept it.
        let referer = headers
            .get_all(header::REFERER)
            .iter()
            .next_back()
            .map(|v| v.as_bytes());
        let forwarded = headers
            .get_all("x-forwarded-uri")
            .iter()
            .next_back()
            .map(|v| v.as_bytes());
        let Some((session, source)) = carta::session_id(referer, forwarded) else {
            tracing::debug!("no CARTA session id in Referer or X-Forwarded-Uri");
            return CartaDecision::MissingSession;
        };
        let Some(directory) = &self.0.directory else {
            return CartaDecision::Unavailable(
                "CARTA mode needs a Kubernetes cluster and none is configured".into(),
            );
        };
        match directory.owner(session).await {
            Ok(Some(owner)) => CartaDecision::Allow {
                session: session.to_owned(),
                user: owner.user,
                source,
                holder: owner.holder,
            },
            Ok(None) => {
                tracing::debug!("no user for the CARTA session");
                CartaDecision::UnknownUser {
                    session: session.to_owned(),
                }
            }
            Err(e) => CartaDecision::Unavailable(e.to_string()),
        }
    }

    /// Session mode: the caller's Heimdall session (cookie) or bearer token, then the first
    /// access rule for where the request was going. Where the request was going is read only
    /// when it matters: for a rule, or for the login's return address.
    /// `meta` makes the request's metadata, which only a cache miss or a sign-in reads.
    #[tracing::instrument(name = "forward_auth.session", level = "debug", skip_all)]
    pub async fn session(
        &self,
        headers: &HeaderMap,
        meta: &(dyn Fn() -> RequestMeta + Sync),
    ) -> Result<SessionDecision, AppError> {
        let sign_in = |reason: &str| {
            // No configured base: the address the proxy reached Heimdall at.
            let base = meta().base_url(self.0.settings.login_base.as_deref());
            let target = OriginalRequest::from_headers(headers, self.0.settings.proxy);
            SessionDecision::SignIn {
                login_url: login_address(&base, target.as_ref(), &self.0.identity.settings().return_hosts),
                reason: reason.to_owned(),
            }
        };
        let vouched = match self.vouch(headers, meta).await {
            Ok(Some(vouched)) => vouched,
            Ok(None) => return Ok(sign_in("sign in first")),
            Err(IdentityError::BadCredentials(reason)) => return Ok(sign_in(&reason)),
            Err(other) => return Err(other.into()),
        };
        let rules = &self.0.settings.rules;
        if !rules.is_empty() {
            // Rules exist, so where the request was going decides; not knowing is a refusal.
            let Some(target) = OriginalRequest::from_headers(headers, self.0.settings.proxy) else {
                let proxy = self.0.settings.proxy;
                tracing::info!(
                    user = %vouched.user,
                    proxy = proxy.as_str(),
                    "session mode refused: the proxy's headers do not name a target"
                );
                return Ok(SessionDecision::Forbidden {
                    user: vouched.user.clone(),
                    reason: format!(
                        "where this request was going is unknown: access rules need the proxy's {} (forward_auth.session.proxy = {})",
                        proxy.trusted_headers().join(", "),
                        proxy.as_str()
                    ),
                });
            };
            if let Some(reason) = rules_for(rules, &target)
                .into_iter()
                .find_map(|rule| vouched.refusal(rule))
            {
                tracing::debug!(user = %vouched.user, %reason, "session mode refused");
                return Ok(SessionDecision::Forbidden {
                    user: vouched.user.clone(),
                    reason,
                });
            }
        }
        Ok(SessionDecision::Allow(vouched))
    }

    /// The signed-in user behind the request's credential, from the cache when fresh.
    async fn vouch(
        &self,
        headers: &HeaderMap,
        meta: &(dyn Fn() -> RequestMeta + Sync),
    ) -> Result<Option<Arc<Vouched>>, IdentityError> {
        let Some((key, credential)) = self.credential(headers) else {
            return Ok(None);
        };
        let ttl = self.0.settings.cache_ttl;
        // Read before the database is: a revocation from here on makes this answer stale.
        let generation = self.0.identity.store().access_generation();
        if let Some(hit) = self
            .0
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            && hit.at.elapsed() < ttl
            && hit.generation == generation
        {
            return Ok(Some(hit.vouched.clone()));
        }
        let principal = match credential {
            // The app behind the proxy may use `Authorization` itself (Basic, its own tokens):
            // with a session cookie present, only the cookie is asked about.
            Credential::Cookie => {
                let mut without_authorization = headers.clone();
                without_authorization.remove(header::AUTHORIZATION);
                self.0.identity.resolve(&without_authorization, &meta()).await?
            }
            Credential::Bearer => self.0.identity.resolve(headers, &meta()).await?,
        };
        let Some(actor) = principal.actor else {
            return Ok(None);
        };
        let (email, tenants) = match actor.id {
            Some(id) => {
                let store = self.0.identity.store();
                let email = store.find_user(id).await?.email;
                let tenants = store
                    .user_tenants(id)
                    .await?
                    .into_iter()
                    .map(|t| t.slug)
                    .collect();
                (email, tenants)
            }
            // The static admin token: no user row.
            None => (None, Vec::new()),
        };
        let vouched = Arc::new(Vouched::new(actor.username, email, actor.role, tenants));
        if !ttl.is_zero() {
            let mut cache = self.0.cache.write().unwrap_or_else(PoisonError::into_inner);
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, hit| hit.at.elapsed() < ttl && hit.generation == generation);
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
            }
            cache.insert(
                key,
                Cached {
                    at: Instant::now(),
                    generation,
                    vouched: vouched.clone(),
                },
            );
        }
        Ok(Some(vouched))
    }

    /// The credential to vouch for — the session cookie when there is one (a browser), else
    /// the bearer token — and a digest of it to key the cache by (not the secret itself).
    fn credential(&self, headers: &HeaderMap) -> Option<(Digest, Credential)> {
        if let Some(cookie) = cookie_value(headers, &self.0.identity.settings().cookie_name) {
            return Some((digest(b"cookie:", cookie.as_bytes()), Credential::Cookie));
        }
        headers
            .get(header::AUTHORIZATION)
            .map(|value| (digest(b"bearer:", value.as_bytes()), Credential::Bearer))
    }
}
