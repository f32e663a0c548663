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
