//! Building and running the application: `Application::build` connects everything and binds a
//! listener; `run_until_stopped` serves until the shutdown signal. Tests use the same pair on
//! port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use tokio::net::TcpListener;

use app::admin::AdminService;
use app::audit::{Audit, AuditAction, AuditEvent};
use app::catalog::{CatalogService, CatalogStore};
use app::cluster::Cluster;
use app::db::{Database, PoolSettings, SqliteServeLock};
use app::flink::{FlinkService, FlinkSettings, Patterns};
use app::forward_auth::ForwardAuthService;
use app::home::BuildInfo;
use app::identity::store::{ADMIN_BOOTSTRAPPED_AT, IdentityStore, NewUser};
use app::identity::{AuthSettings, IdentityService, Role, generate_password, hash_password};
use app::pipelines::{PipelineService, PipelineStore};
use app::state::{AppState, AppStateInner};
use app::vault::{VaultService, VaultSettings, VaultStore};

use crate::config::Config;
use crate::http::forward_auth::ShortPath;

/// Length of the generated first-start admin password.
const BOOTSTRAP_PASSWORD_LEN: usize = 24;

/// The credentials of the admin created on the very first start, shown once.
pub struct BootstrapAdmin {
    pub username: String,
    pub password: SecretString,
}

pub struct Application {
    listener: TcpListener,
    /// The CARTA sidecar's own listener, when `forward_auth.carta.listen` is set.
    carta_listener: Option<TcpListener>,
    state: AppState,
    shutdown_timeout: Duration,
    /// `server.header_read_timeout_secs`.
    header_read_timeout: Duration,
    /// `metrics.token`: with it, `/metrics`.
    metrics_token: Option<SecretString>,
    /// Held while serving a SQLite file (released when the server stops).
    sqlite_lock: Option<SqliteServeLock>,
    /// `Some` only on the start that created the first admin.
    pub bootstrap_admin: Option<BootstrapAdmin>,
}

impl Application {
    /// Connects to the database (and migrates it), the cluster, and binds `server.host:port`.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let addr = SocketAddr::new(config.server.host, config.server.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        Self::build_with_listener(config, listener).await
    }

    pub async fn build_with_listener(config: &Config, listener: TcpListener) -> anyhow::Result<Self> {
        if config.forward_auth.carta.enabled
            && let Ok(ttl) = std::env::var("CACHE_TTL_SECONDS")
        {
            // The seed's answer cache: accepted so its deployment starts unchanged; the watch
            // keeps Heimdall's index fresh, so a removed session is refused at once instead.
            tracing::info!(
                cache_ttl_seconds = %ttl,
                "CACHE_TTL_SECONDS is accepted and not needed: CARTA sessions come from a watch, fresh as the API server's events"
            );
        }
        let carta_listener = match config.forward_auth.carta.listen {
            Some(addr) if config.forward_auth.carta.enabled => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (forward_auth.carta.listen)"))?,
            ),
            _ => None,
        };
        // A SQLite file serves one process: a second `serve` on it stops here, saying so.
        let sqlite_lock = config.database.url.lock_sqlite_file()?;
        let db = connect_database(config).await?;
        let identity_store = IdentityStore::new(db.clone());
        let bootstrap_admin = bootstrap_admin(&identity_store, &config.bootstrap.admin_username).await?;
        let cluster = connect_cluster(config).await?;
        let site_addr = listener.local_addr().context("listener has no local address")?;
        // One service per domain, each holding what it needs; built once, shared by every request.
        let audit = Audit::new(db.clone());
        let flink =
            FlinkService::start(cluster.client().cloned(), flink_settings(config), audit.clone()).await;
        let settings = auth_settings(config);
        let password_min_length = settings.password_min_length;
        let identity = IdentityService::new(identity_store.clone(), audit.clone(), settings);
        let forward_auth = ForwardAuthService::start(
            cluster.client().cloned(),
            config.forward_auth.settings(config.server.public_url.clone()),
            identity.clone(),
        );
        let vault = start_vault(config, &db, &identity, &audit).await?;
        let admin = AdminService::new(
            identity_store.clone(),
            audit.clone(),
            password_min_length,
            identity.throttle(),
        );
        let mut pipeline_settings = config.pipelines.clone().in_force();
        // The operator console's `server` section, as its `/api/v1/config/operator` showed it.
        pipeline_settings.server_facts = serde_json::json!({
            "host": config.server.host.to_string(),
            "port": config.server.port,
            "workers": 1,
            "log_level": config.log.level,
            "allow_external_bind": config.server.allow_external_bind,
        });
        let pipelines =
            PipelineService::new(PipelineStore::new(db.clone()), audit.clone(), pipeline_settings);
        // Events from every replica (PostgreSQL) and the gate timers, from the database: also
        // those that came due while no server ran.
        pipelines.start();
        let catalog = CatalogService::new(
            CatalogStore::new(db.clone()),
            identity_store.clone(),
            audit.clone(),
            config.catalog.clone(),
            pipelines.clone(),
            // The Kubernetes executor: where a cluster is configured, unless turned off.
            cluster
                .client()
                .cloned()
                .filter(|_| config.catalog.kubernetes.enabled),
        );
        // Deploys waiting for approval: settled as their gates are decided (and at start, those
        // decided while no server ran).
        catalog.start();
        let state = AppState::new(AppStateInner {
            leptos_options: leptos_options(config, site_addr),
            db,
            cluster,
            flink,
            forward_auth,
            build: BuildInfo {
                version: config
                    .app_version
                    .clone()
                    .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
                git_commit: env!("HEIMDALL_GIT_COMMIT").to_owned(),
            },
            audit,
            identity,
            admin,
            vault,
            pipelines,
            catalog,
            // Checked by `Config::validate`.
            trusted_proxies: app::request::TrustedProxies::parse(&config.server.trusted_proxies)
                .unwrap_or_default(),
            body_read_timeout: Duration::from_secs(config.server.body_read_timeout_secs),
            cors: effective_cors(config),
            feeds: app::rest::live::Closing::default(),
        });
        if !config.server.site_root.join("pkg").is_dir() {
            tracing::warn!(
                site_root = %config.server.site_root.display(),
                "no built site here: pages render but without styles or hydration (build with `scripts/heimdall run`)"
            );
        }
        Ok(Self {
            listener,
            carta_listener,
            state,
            shutdown_timeout: Duration::from_secs(config.server.shutdown_timeout_secs),
            header_read_timeout: Duration::from_secs(config.server.header_read_timeout_secs),
            metrics_token: config.metrics.token.clone().inspect(|_| {
                crate::http::metrics::install();
            }),
            sqlite_lock,
            bootstrap_admin,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The CARTA listener's address, when there is one.
    pub fn carta_addr(&self) -> Option<SocketAddr> {
        self.carta_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish (bounded by
    /// `server.shutdown_timeout_secs`) and closes the database pool.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            carta_listener,
            state,
            shutdown_timeout,
            header_read_timeout,
            metrics_token,
            sqlite_lock,
            ..
        } = self;
        // The CARTA listener stops with the main one: a watch channel both shutdowns wait on.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let carta = carta_listener.map(|carta_listener| {
            let router = crate::http::carta_router(&state);
            let short = Arc::new(ShortPath::carta(&state));
            let mut stop_rx = stop_rx.clone();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop_rx.wait_for(|stop| *stop).await;
                };
                crate::serve::serve(
                    carta_listener,
                    short,
                    router,
                    header_read_timeout,
                    Some(crate::serve::CARTA_MAX_HEADERS),
                    stopped,
                )
                .await;
            })
        });
        let db = state.db.clone();
        let feeds = state.feeds.clone();
        let pipeline_events = state.pipelines.store().bus().clone();
        let short = Arc::new(ShortPath::heimdall(&state));
        let router = crate::http::router(state, metrics_token);
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        // The peer address (`ConnectInfo`) feeds sessions, the audit log and the per-address
        // login backoff.
        let serve = crate::serve::serve(listener, short, router, header_read_timeout, None, async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            // Live feeds never finish by themselves; end them so the stop is not held up (and
            // the background tasks that follow the pipelines' events).
            feeds.close();
            pipeline_events.close();
            let _ = stop_tx.send(true);
            let _ = stopping_tx.send(());
        });
        let mut serve = std::pin::pin!(serve);
        tokio::select! {
            () = &mut serve => {}
            () = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(shutdown_timeout).await;
            } => tracing::warn!("in-flight requests did not finish within {} s; stopping anyway", shutdown_timeout.as_secs()),
        }
        if let Some(carta) = carta {
            let _ = tokio::time::timeout(shutdown_timeout, carta).await;
        }
        db.close().await;
        drop(sqlite_lock);
        tracing::info!("stopped");
        Ok(())
    }
}

/// Connects and migrates. The error names the backend and the redacted URL.
pub async fn connect_database(config: &Config) -> anyhow::Result<Database> {
    let settings = PoolSettings {
        max_connections: config.database.max_connections,
        acquire_timeout: Duration::from_secs(config.database.acquire_timeout_secs),
    };
    let db = Database::connect(&config.database.url, &settings).await?;
    db.migrate()
        .await
        .with_context(|| format!("database {}", config.database.url.redacted()))?;
    tracing::info!(backend = db.backend().name(), url = %config.database.url, "database ready");
    Ok(db)
}

async fn bootstrap_admin(db: &IdentityStore, username: &str) -> anyhow::Result<Option<BootstrapAdmin>> {
    // Every later start ends here, without paying for an argon2 hash it would throw away.
    // Two first starts racing past this check are settled by `IdentityStore::bootstrap_admin`.
    if db
        .get_setting(ADMIN_BOOTSTRAPPED_AT)
        .await
        .context("reading the bootstrap marker")?
        .is_some()
    {
        return Ok(None);
    }
    let password = generate_password(BOOTSTRAP_PASSWORD_LEN);
    let hash = hash_password(password.clone())
        .await
        .map_err(anyhow::Error::msg)?;
    let admin = NewUser {
        username: username.to_owned(),
        email: None,
        display_name: "Administrator".into(),
        password_hash: Some(hash),
        role: Role::Admin,
    };
    let created = db
        .bootstrap_admin(&admin)
        .await
        .context("creating the first admin")?;
    Ok(created.map(|row| BootstrapAdmin {
        username: row.username,
        password,
    }))
}

async fn connect_cluster(config: &Config) -> anyhow::Result<Cluster> {
    let k8s = &config.kubernetes;
    let cluster = if !k8s.enabled {
        Cluster::not_configured("switched off (kubernetes.enabled = false)")
    } else if let Some(path) = &k8s.kubeconfig {
        Cluster::from_kubeconfig(path, k8s.context.clone()).await?
    } else {
        Cluster::infer().await?
    };
    match cluster.client() {
        Some(_) => tracing::info!("kubernetes client configured"),
        None => tracing::info!("kubernetes not configured: cluster features are off"),
    }
    Ok(cluster)
}

/// `joblocator_k8s_operator`, the patterns and the proxy map in the shape the Flink service uses.
pub fn flink_settings(config: &Config) -> FlinkSettings {
    let locator = &config.joblocator_k8s_operator;
    FlinkSettings {
        enabled: locator.enabled,
        namespaces: locator.namespace_to_watch.clone(),
        label_selector: locator.label_selector.clone().filter(|s| !s.trim().is_empty()),
        patterns: Patterns::new(&config.patterns, &config.endpoint_path_patterns),
        proxy_targets: config.proxy_target_map.clone(),
        proxy_timeout: Duration::from_secs(config.proxy_timeout_secs),
    }
}

/// The token vault: on with a keyring and Keycloak (validation made sure both or neither), and
/// refusing to start when stored rows are sealed with a key the keyring lacks — they could not
/// be opened, and the operator should know now, not at the first mint.
async fn start_vault(
    config: &Config,
    db: &Database,
    identity: &IdentityService,
    audit: &Audit,
) -> anyhow::Result<VaultService> {
    let settings = vault_settings(config);
    let stored_keys = VaultStore::new(db.clone()).key_ids().await?;
    match &settings {
        Ok(s) => {
            let missing: Vec<&String> = stored_keys.iter().filter(|id| !s.keyring.has_key(id)).collect();
            if !missing.is_empty() {
                anyhow::bail!(
                    "vault: stored tokens are sealed with key(s) {missing:?}, which vault.keys lacks; \
                     put them back (and run `heimdall vault rotate` before removing a key)"
                );
            }
            tracing::info!(
                keys = config.vault.keys.len(),
                active = s.keyring.active_key_id(),
                "vault: on"
            );
        }
        Err(reason) => tracing::info!("vault: off ({reason})"),
    }
    Ok(VaultService::new(
        db.clone(),
        identity.clone(),
        audit.clone(),
        settings,
    ))
}

/// `heimdall vault rotate`: re-seals every row under the active key, beside running servers;
/// returns how many rows were re-sealed (and records it in the audit log).
pub async fn rotate_vault(config: &Config) -> anyhow::Result<u64> {
    let settings = vault_settings(config).map_err(|reason| anyhow::anyhow!("the vault is off: {reason}"))?;
    let db = connect_database(config).await?;
    let rotated = VaultService::rotate(&VaultStore::new(db.clone()), &settings.keyring)
        .await
        .map_err(|e| anyhow::anyhow!("rotation stopped: {e}"))?;
    Audit::new(db.clone())
        .record(
            AuditEvent::success(AuditAction::VaultRotated)
                .by(None, "heimdall vault rotate")
                .detail(&format!(
                    "{rotated} row(s) re-sealed under key {:?}",
                    settings.keyring.active_key_id()
                )),
        )
        .await;
    db.close().await;
    Ok(rotated)
}

/// `vault.*` and `auth.keycloak.*` in the shape the vault uses; `Err` says why it is off.
pub fn vault_settings(config: &Config) -> Result<VaultSettings, String> {
    config.vault.settings(auth_settings(config).keycloak)
}

/// `auth.*` in the shape the authenticator uses.
pub fn auth_settings(config: &Config) -> AuthSettings {
    config.auth.settings(
        config.server.public_url.as_deref(),
        config.server.host.is_loopback(),
    )
}

fn leptos_options(config: &Config, site_addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("heimdall")
        .site_root(config.server.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(site_addr)
        .build()
}

/// `server.cors`, or the older `pipelines.cors` when a configuration still sets it.
fn effective_cors(config: &Config) -> app::request::Cors {
    match &config.pipelines.cors {
        Some(older) => {
            tracing::warn!("pipelines.cors is now server.cors (it applies to every REST route): move it");
            older.clone()
        }
        None => config.server.cors.clone(),
    }
}
