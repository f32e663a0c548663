//! Configuration: one typed `Config`, loaded once at start-up from defaults, then an optional
//! TOML or YAML file (`--config` / `HEIMDALL_CONFIG`), then `HEIMDALL_*` environment variables
//! with `__` for nesting (the names the seed services' users already set). Every key is listed
//! in `docs/configuration.md`.

mod load;
mod validate;

#[cfg(test)]
mod auth;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use app::db::DatabaseUrl;
use serde::{Deserialize, Serialize};

pub use app::forward_auth::{AccessRuleConfig, CartaConfig, ForwardAuthConfig};
pub use app::identity::{AuthConfig, KeycloakConfig, LockoutConfig};
pub use app::vault::VaultConfig;

pub use load::ConfigError;

/// Heimdall's whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub kubernetes: KubernetesConfig,
    /// Flink job discovery (the Heimdall seed's `joblocator.k8s-operator` block).
    pub joblocator_k8s_operator: JobLocatorConfig,
    /// `display-name` (or `DISPLAY_NAME`): `$jobName`, `$namespace`, `$metadata.<label>`. Also a
    /// JSON object in `HEIMDALL_PATTERNS` (the Python seed's `.env.example`).
    #[serde(deserialize_with = "load::lenient_map")]
    pub patterns: BTreeMap<String, String>,
    /// Endpoint links per job: `flink-ui`, `flink-api`, `metrics`, `logs` and any custom key;
    /// an empty pattern hides the link. Also a JSON object in `HEIMDALL_ENDPOINT_PATH_PATTERNS`.
    #[serde(deserialize_with = "load::lenient_map")]
    pub endpoint_path_patterns: BTreeMap<String, String>,
    /// `/proxy/{app}/…` targets: app → base URL (a JSON object in `HEIMDALL_PROXY_TARGET_MAP`);
    /// unmapped apps go to `http://{app}-rest:8081`.
    #[serde(deserialize_with = "load::lenient_map")]
    pub proxy_target_map: BTreeMap<String, String>,
    /// How long `/proxy` waits for the Flink REST API before answering 504.
    pub proxy_timeout_secs: u64,
    /// Overrides the version shown in the UI and `/version` (the seed's `HEIMDALL_APP_VERSION`).
    #[serde(deserialize_with = "load::lenient_string")]
    pub app_version: Option<String>,
    pub bootstrap: BootstrapConfig,
    /// Sign-in, sessions, tokens, providers (`auth.*`; the Heimdall seed's `HEIMDALL_AUTH__*`).
    pub auth: AuthConfig,
    /// Answers for reverse proxies: session mode and the CARTA sidecar's mode.
    pub forward_auth: ForwardAuthConfig,
    /// The token vault's keyring (`vault.keys`, `vault.active_key`).
    pub vault: VaultConfig,
    /// Pipelines' default stages and gates.
    pub pipelines: app::pipelines::PipelineSettings,
    /// The service catalog: its dashboard link and executors' callback tokens.
    pub catalog: app::catalog::CatalogSettings,
    /// Prometheus `/metrics`.
    pub metrics: MetricsConfig,
}

/// `metrics.token`: `/metrics` answers only a scrape carrying it as a bearer token; unset,
/// there is no `/metrics` at all. A secret: written back as `***`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    #[serde(with = "load::secret")]
    pub token: Option<secrecy::SecretString>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            log: LogConfig::default(),
            kubernetes: KubernetesConfig::default(),
            joblocator_k8s_operator: JobLocatorConfig::default(),
            // The display name defaults to `$jobName` inside `Patterns`, so a user key in any spelling
            // (`display_name`, `DISPLAY_NAME`) is the only one.
            patterns: BTreeMap::new(),
            endpoint_path_patterns: BTreeMap::new(),
            proxy_target_map: BTreeMap::new(),
            proxy_timeout_secs: 30,
            app_version: None,
            bootstrap: BootstrapConfig::default(),
            auth: AuthConfig::default(),
            forward_auth: ForwardAuthConfig::default(),
            vault: VaultConfig::default(),
            pipelines: app::pipelines::PipelineSettings::default(),
            catalog: app::catalog::CatalogSettings::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    /// Address to bind. Anything but loopback needs `allow_external_bind`.
    pub host: IpAddr,
    pub port: u16,
    /// Opt-in for binding a non-loopback address (the operator-console seed's rule).
    pub allow_external_bind: bool,
    /// Folder holding the built site (`pkg/` with the WASM, CSS, and public assets).
    pub site_root: PathBuf,
    /// How long in-flight requests may run after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// The URL users reach Heimdall at (e.g. `https://heimdall.example.com`), for OAuth redirect
    /// URIs and the session cookie's `Secure` flag. Unset: the `Host` the browser used.
    pub public_url: Option<String>,
    /// Networks (CIDRs or addresses) of the proxies in front of Heimdall: only from these is
    /// `X-Forwarded-For` believed for the client's address (sessions, the audit log, sign-in
    /// backoff). Empty: the peer is the client.
    #[serde(deserialize_with = "load::lenient_list")]
    pub trusted_proxies: Vec<String>,
    /// How long a client has to send a request's headers before its connection is closed.
    pub header_read_timeout_secs: u64,
    /// How long a request body may go without a byte arriving before the request ends.
    pub body_read_timeout_secs: u64,
    /// Other sites' pages that may call the REST routes, bearer requests only (one setting for
    /// every section; `pipelines.cors` is its older name for the pipelines API).
    pub cors: app::request::Cors,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 3000,
            allow_external_bind: false,
            site_root: PathBuf::from("target/site"),
            shutdown_timeout_secs: 20,
            public_url: None,
            trusted_proxies: Vec::new(),
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 15,
            cors: app::request::Cors::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `sqlite:<path>` (or a bare path) or `postgres://user:password@host:port/db`.
    #[serde(with = "load::database_url")]
    pub url: DatabaseUrl,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::parse("sqlite:heimdall.db").unwrap_or_else(|_| unreachable!("valid literal")),
            max_connections: 10,
            acquire_timeout_secs: 5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line for log shippers.
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,heimdall=debug,sqlx=warn`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KubernetesConfig {
    /// `false` runs without a cluster even when one could be found.
    pub enabled: bool,
    /// An explicit kubeconfig; unset means in-cluster, then `$KUBECONFIG`, then `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use; unset means its current context.
    pub context: Option<String>,
}

impl Default for KubernetesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            kubeconfig: None,
            context: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobLocatorConfig {
    pub enabled: bool,
    /// Comma-separated namespaces; `*`, `all` or `_all_` watch the whole cluster.
    pub namespace_to_watch: String,
    /// Optional label selector applied to `FlinkDeployment`s.
    pub label_selector: Option<String>,
}

impl Default for JobLocatorConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            namespace_to_watch: "default".into(),
            label_selector: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BootstrapConfig {
    /// Username of the admin created on the very first start.
    pub admin_username: String,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            admin_username: "admin".into(),
        }
    }
}
