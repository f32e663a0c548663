//! Building and running the application: `Application::build` connects everything and binds a
//! listener; `run_until_stopped` serves until the shutdown signal. Tests use the same pair on
//! port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use tokio::net::TcpListener;

use app::admin::AdminService;
use app::audit::Audit;
use app::cluster::Cluster;
use app::db::{Database, PoolSettings};
use app::flink::{FlinkService, FlinkSettings, Patterns};
use app::home::BuildInfo;
use app::identity::store::{ADMIN_BOOTSTRAPPED_AT, IdentityStore, NewUser};
use app::identity::{
    AllowList, AuthSettings, IdentityService, JwtKey, ProviderSettings, Role, ThrottlePolicy,
    generate_password, hash_password,
};
use app::state::AppState;

use crate::config::Config;

/// Length of the generated first-start admin password.
const BOOTSTRAP_PASSWORD_LEN: usize = 24;

/// The credentials of the admin created on the very first start, shown once.
pub struct BootstrapAdmin {
    pub username: String,
    pub password: SecretString,
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    shutdown_timeout: Duration,
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
        let admin = AdminService::new(
            identity_store,
            audit.clone(),
            password_min_length,
            identity.throttle(),
        );
        let state = AppState {
            leptos_options: leptos_options(config, site_addr),
            db,
            cluster,
            flink,
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
        };
        if !config.server.site_root.join("pkg").is_dir() {
            tracing::warn!(
                site_root = %config.server.site_root.display(),
                "no built site here: pages render but without styles or hydration (build with `scripts/heimdall run`)"
            );
        }
        Ok(Self {
            listener,
            state,
            shutdown_timeout: Duration::from_secs(config.server.shutdown_timeout_secs),
            bootstrap_admin,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
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
            state,
            shutdown_timeout,
            ..
        } = self;
        let db = state.db.clone();
        let flink = state.flink.clone();
        let router = crate::http::router(state);
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        // The peer address feeds sessions, the audit log and the per-address login backoff.
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(listener, service).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            // Live feeds never finish by themselves; end them so the stop is not held up.
            flink.close_feeds();
            let _ = stopping_tx.send(());
        });
        let mut serve = std::pin::pin!(serve.into_future());
        tokio::select! {
            result = &mut serve => result.context("server failed")?,
            () = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(shutdown_timeout).await;
            } => tracing::warn!("in-flight requests did not finish within {} s; stopping anyway", shutdown_timeout.as_secs()),
        }
        db.close().await;
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

/// `auth.*` in the shape the authenticator uses.
pub fn auth_settings(config: &Config) -> AuthSettings {
    use secrecy::ExposeSecret;
    let auth = &config.auth;
    let mut settings = AuthSettings::with_random_key();
    match &auth.session_secret_key {
        Some(key) => settings.jwt_key = JwtKey(key.expose_secret().as_bytes().to_vec()),
        None => tracing::warn!(
            "auth.session_secret_key is not set: bearer JWTs are signed with a random key and end at restart"
        ),
    }
    // Secure cookies unless this is plain HTTP on loopback, where browsers would drop them.
    let plain_local = match &config.server.public_url {
        Some(url) => url::Url::parse(url).is_ok_and(|u| {
            u.scheme() == "http" && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
        }),
        None => config.server.host.is_loopback(),
    };
    settings.enabled = auth.enabled;
    settings.cookie_name = auth.cookie_name.clone();
    settings.cookie_secure = auth.cookie_secure.unwrap_or(!plain_local);
    settings.session_idle = chrono::Duration::seconds(secs(auth.session_idle_timeout_secs));
    settings.session_max_age = chrono::Duration::seconds(secs(auth.session_max_age_secs));
    settings.jwt_lifetime = chrono::Duration::seconds(secs(auth.jwt_lifetime_secs));
    settings.password_min_length = auth.password_min_length;
    settings.registration_enabled = auth.registration_enabled;
    settings.allow_list = AllowList::new(&auth.allowed_emails, &auth.allowed_domains);
    settings.admin_token = auth.admin_token.clone();
    settings.lockout = ThrottlePolicy {
        account_attempts: auth.lockout.account_attempts,
        ip_attempts: auth.lockout.ip_attempts,
        base_lock: Duration::from_secs(auth.lockout.base_lock_secs),
        max_lock: Duration::from_secs(auth.lockout.max_lock_secs),
        ..ThrottlePolicy::default()
    };
    settings.public_url = config.server.public_url.clone();
    settings.google = match (&auth.google_client_id, &auth.google_client_secret) {
        (Some(id), Some(secret)) => Some(ProviderSettings {
            issuer: auth.google_issuer.clone(),
            client_id: id.clone(),
            client_secret: secret.clone(),
            redirect_url: auth.redirect_url.clone(),
            role_map: Vec::new(),
            default_role: Some(auth.google_default_role),
            sync_role: false,
        }),
        _ => None,
    };
    let kc = &auth.keycloak;
    settings.keycloak = match (&kc.issuer, &kc.client_secret) {
        (Some(issuer), Some(secret)) => Some(ProviderSettings {
            issuer: issuer.clone(),
            client_id: kc.client_id.clone(),
            client_secret: secret.clone(),
            redirect_url: kc.redirect_url.clone(),
            role_map: kc.role_mapping.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            default_role: kc.default_role,
            sync_role: kc.sync_role,
        }),
        _ => None,
    };
    settings
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX / 1000)
}

fn leptos_options(config: &Config, site_addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("heimdall")
        .site_root(config.server.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(site_addr)
        .build()
}
