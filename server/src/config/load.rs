//! Layering the sources and turning their failures into one-line messages.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml, Yaml};
use serde::{Deserialize, Deserializer};

use super::Config;

/// Why the configuration could not be used. Each message names the key, the value (secrets
/// redacted) and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {message}")]
    File { path: String, message: String },
    #[error("invalid configuration: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// Environment variables that are about how to load, not configuration keys.
const NOT_KEYS: &[&str] = &["config"];

impl Config {
    /// Defaults → `file` (TOML or YAML by extension) → `HEIMDALL_*` environment, validated.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            let shown = path.display().to_string();
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: shown,
                    message: "no such file".into(),
                });
            }
            figment = match path.extension().and_then(|e| e.to_str()) {
                Some("toml") => figment.merge(Toml::file_exact(path)),
                Some("yaml" | "yml") => figment.merge(Yaml::file_exact(path)),
                _ => {
                    return Err(ConfigError::File {
                        path: shown,
                        message: "expected a .toml, .yaml or .yml file".into(),
                    });
                }
            };
        }
        // The auth-manager/Heimdall seeds put the database under `auth.database_url`; the
        // plain `HEIMDALL_DATABASE_URL` and `HEIMDALL_DATABASE__URL` win over it.
        let seed_alias = Env::prefixed("HEIMDALL_AUTH__")
            .only(&["database_url"])
            .map(|_| "database.url".into());
        // The operator-console seed's static token is a bare `ADMIN_TOKEN`.
        let admin_token_alias = Env::raw()
            .only(&["admin_token"])
            .map(|_| "auth.admin_token".into());
        // The IDP-portal seed's callback tokens are bare too.
        let callback_token_alias = Env::raw()
            .only(&["provisioning_callback_token", "deployment_callback_token"])
            .map(|key| format!("catalog.{}", key.as_str().to_ascii_lowercase()).into());
        // The CARTA sidecar's bare names (`TARGET_NAMESPACE`, `SESSION_LABEL_KEY`,
        // `USER_LABEL_KEY`); `HEIMDALL_FORWARD_AUTH__CARTA__…` wins over them.
        let carta_alias = Env::raw()
            .only(&["target_namespace", "session_label_key", "user_label_key"])
            .map(|key| format!("forward_auth.carta.{}", key.as_str().to_ascii_lowercase()).into());
        // The Java Heimdall's single-underscore names (`HEIMDALL_PATTERNS_DISPLAY_NAME`,
        // `HEIMDALL_ENDPOINT_PATH_PATTERNS_FLINK_UI`, `HEIMDALL_JOBLOCATOR_K8S_OPERATOR_ENABLED`);
        // the Python seed's `__` forms arrive through `env` below as well.
        let java_patterns = Env::prefixed("HEIMDALL_PATTERNS_")
            .map(|key| format!("patterns.{}", key.as_str().trim_start_matches('_')).into());
        let java_endpoints = Env::prefixed("HEIMDALL_ENDPOINT_PATH_PATTERNS_")
            .map(|key| format!("endpoint_path_patterns.{}", key.as_str().trim_start_matches('_')).into());
        let java_locator = Env::prefixed("HEIMDALL_JOBLOCATOR_K8S_OPERATOR_")
            .filter(|key| !key.as_str().starts_with('_'))
            .map(|key| format!("joblocator_k8s_operator.{}", key.as_str()).into());
        let env = Env::prefixed("HEIMDALL_")
            .split("__")
            .ignore(NOT_KEYS)
            .map(|key| {
                // Keys arrive upper-case here; figment lower-cases them afterwards.
                if key.as_str().eq_ignore_ascii_case("database_url") {
                    "database.url".into()
                } else {
                    key.into()
                }
            });
        // Leptos's own names, which cargo-leptos sets and a binary run elsewhere may carry: the
        // built site's folder and the address to serve on. Heimdall's names win over them.
        figment = figment.merge(
            Env::raw()
                .only(&["leptos_site_root"])
                .map(|_| "server.site_root".into()),
        );
        if let Ok(addr) = std::env::var("LEPTOS_SITE_ADDR") {
            let addr: std::net::SocketAddr = addr.trim().parse().map_err(|_| {
                ConfigError::Invalid(vec![format!(
                    "LEPTOS_SITE_ADDR = {addr:?} is not an address and port such as 127.0.0.1:3000 \
                     (or set HEIMDALL_SERVER__HOST and HEIMDALL_SERVER__PORT instead)"
                )])
            })?;
            figment = figment
                .merge(Serialized::default("server.host", addr.ip()))
                .merge(Serialized::default("server.port", addr.port()));
        }
        let config: Config = figment
            .merge(seed_alias)
            .merge(admin_token_alias)
            .merge(callback_token_alias)
            .merge(carta_alias)
            .merge(java_patterns)
            .merge(java_endpoints)
            .merge(java_locator)
            .merge(env)
            .extract()
            .map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }
}

fn from_figment(err: figment::Error) -> ConfigError {
    let messages = err
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e.metadata.as_ref().map(|m| match &m.source {
                Some(figment::Source::File(path)) => path.display().to_string(),
                _ if m.name.contains("environment") => {
                    format!("HEIMDALL_{}", e.path.join("__").to_ascii_uppercase())
                }
                _ => m.name.to_string(),
            });
            match source {
                Some(source) if !key.is_empty() => format!("{key} (from {source}): {}", e.kind),
                _ if !key.is_empty() => format!("{key}: {}", e.kind),
                _ => e.kind.to_string(),
            }
        })
        .collect();
    ConfigError::Invalid(messages)
}

/// `DatabaseUrl` in the configuration: parsed on the way in, redacted on the way out.
pub(super) mod database_url {
    use app::db::DatabaseUrl;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<DatabaseUrl, D::Error> {
        let raw = String::deserialize(de)?;
        DatabaseUrl::parse(&raw).map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer>(url: &DatabaseUrl, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&url.redacted())
    }
}

/// A string map given as a real map or as a JSON object in a string (the Python seed's
/// `HEIMDALL_PROXY_TARGET_MAP='{"orders": "http://orders-rest:8081"}'` and
/// `HEIMDALL_PATTERNS='{"display_name": "$jobName"}'`).
pub(super) fn lenient_map<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Map(std::collections::BTreeMap<String, String>),
        Text(String),
    }
    match Lenient::deserialize(de)? {
        Lenient::Map(map) => Ok(map),
        Lenient::Text(text) if text.trim().is_empty() => Ok(std::collections::BTreeMap::new()),
        Lenient::Text(text) => serde_json::from_str(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "expected a JSON object of names to text, like {{\"orders\": \"http://orders-rest:8081\"}}: {e}"
            ))
        }),
    }
}

pub(super) use app::settings::{lenient_list, lenient_string, secret};

#[cfg(test)]
#[allow(
    clippy::result_large_err,
    reason = "figment::Jail's closures return figment::Error"
)]
mod tests {
    use std::path::Path;

    use figment::Jail;

    use crate::config::Config;

    #[test]
    fn leptos_own_site_variables_are_honoured_and_heimdalls_win() {
        Jail::expect_with(|jail| {
            jail.set_env("LEPTOS_SITE_ROOT", "/srv/heimdall/site");
            jail.set_env("LEPTOS_SITE_ADDR", "127.0.0.1:8080");
            let config = Config::load(None).expect("loads");
            assert_eq!(config.server.site_root, Path::new("/srv/heimdall/site"));
            assert_eq!(config.server.port, 8080);
            jail.set_env("HEIMDALL_SERVER__SITE_ROOT", "/opt/site");
            jail.set_env("HEIMDALL_SERVER__PORT", "9090");
            let config = Config::load(None).expect("loads");
            assert_eq!(config.server.site_root, Path::new("/opt/site"));
            assert_eq!(config.server.port, 9090);
            Ok(())
        });
    }

    #[test]
    fn a_malformed_leptos_site_addr_is_refused_with_a_clear_line() {
        Jail::expect_with(|jail| {
            jail.set_env("LEPTOS_SITE_ADDR", "localhost");
            let error = Config::load(None).expect_err("refused").to_string();
            assert!(error.contains("LEPTOS_SITE_ADDR"), "{error}");
            assert!(error.contains("HEIMDALL_SERVER__PORT"), "{error}");
            Ok(())
        });
    }
}
