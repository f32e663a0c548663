//! `AppState`, the composition root: one service per domain, built once by the server binary.
//! Handlers reach the service they need through `FromRef` (`State<PipelineService>`); server
//! functions through the Leptos context that `provide` fills for each request. No domain
//! imports this module (`scripts/lib/check-layout.py`).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::admin::AdminService;
use crate::audit::Audit;
use crate::catalog::CatalogService;
use crate::cluster::Cluster;
use crate::db::Database;
use crate::flink::FlinkService;
use crate::forward_auth::ForwardAuthService;
use crate::home::BuildInfo;
use crate::identity::IdentityService;
use crate::pipelines::PipelineService;
use crate::vault::VaultService;

/// The services and settings every request may reach, behind one reference count: axum clones
/// the state for every request a handler or a `from_fn_with_state` middleware answers, and a
/// field-by-field clone (settings maps included) was 43 % of a ForwardAuth decision in the
/// flame graph (`docs/forward-auth.md`). Fields read through `Deref`: `state.identity`.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// Each part of the state as a handler's `State<…>` (what `#[derive(FromRef)]` would give a
/// struct of these fields).
macro_rules! parts_from_ref {
    ($($field:ident: $type:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $type {
            fn from_ref(state: &AppState) -> Self {
                state.0.$field.clone()
            }
        })*
    };
}

parts_from_ref!(
    leptos_options: LeptosOptions,
    db: Database,
    cluster: Cluster,
    flink: FlinkService,
    forward_auth: ForwardAuthService,
    build: BuildInfo,
    audit: Audit,
    identity: IdentityService,
    admin: AdminService,
    vault: VaultService,
    pipelines: PipelineService,
    catalog: CatalogService,
    trusted_proxies: crate::request::TrustedProxies,
    cors: crate::request::Cors,
    feeds: crate::rest::live::Closing,
);

pub struct AppStateInner {
    pub leptos_options: LeptosOptions,
    /// The seam itself: health, version and the overview's database facts.
    pub db: Database,
    pub cluster: Cluster,
    /// Flink jobs: the FlinkDeployment watches, the live feed, actions and the proxy's targets.
    pub flink: FlinkService,
    /// ForwardAuth: the CARTA session directory and session-mode answers for reverse proxies.
    pub forward_auth: ForwardAuthService,
    pub build: BuildInfo,
    /// The audit log's handle (the CSRF guard and permission checks record through it).
    pub audit: Audit,
    /// Sessions, tokens, sign-ins, accounts and the credential check.
    pub identity: IdentityService,
    /// Users, tenants and the audit log, for admins.
    pub admin: AdminService,
    /// The token vault: stored Keycloak tokens, minting, consent, sessions.
    pub vault: VaultService,
    /// Pipelines with approval gates: creation, workers, decisions.
    pub pipelines: PipelineService,
    /// The service catalog: services by tenant, their actions and history.
    pub catalog: CatalogService,
    /// `server.trusted_proxies`: whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::request::TrustedProxies,
    /// `server.body_read_timeout_secs`: how long a request body may stall.
    pub body_read_timeout: std::time::Duration,
    /// `server.cors`: which other sites' pages may call the REST routes with a bearer token.
    pub cors: crate::request::Cors,
    /// Closed once at shutdown: ends every live feed.
    pub feeds: crate::rest::live::Closing,
}

impl AppState {
    /// Hands each service to the server functions of one request (`crate::request::service`):
    /// a domain reaches its own service and never this struct.
    pub fn provide(&self) {
        use leptos::prelude::provide_context;
        provide_context(self.db.clone());
        provide_context(self.cluster.clone());
        provide_context(self.flink.clone());
        provide_context(self.forward_auth.clone());
        provide_context(self.build.clone());
        provide_context(self.audit.clone());
        provide_context(self.identity.clone());
        provide_context(self.admin.clone());
        provide_context(self.vault.clone());
        provide_context(self.pipelines.clone());
        provide_context(self.catalog.clone());
    }
}
