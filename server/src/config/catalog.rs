//! `catalog.*`: the service catalog's dashboard link and the executors' callback tokens (the
//! IDP-portal seed's `PROVISIONING_CALLBACK_TOKEN` and `DEPLOYMENT_CALLBACK_TOKEN`, read bare
//! too). Tokens are secrets: written back as `***`.

use app::catalog::CatalogSettings;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::load::secret;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogConfig {
    /// The Grafana (or any) link of a service with observability on; `{name}`, `{tenant}` and
    /// `{id}` are filled in. Unset: no link.
    pub dashboard_url_template: Option<String>,
    /// What `POST /provisioning/callback` must carry in `X-Callback-Token`. Unset: it refuses all.
    #[serde(with = "secret")]
    pub provisioning_callback_token: Option<SecretString>,
    /// What `POST /services/deployments/callback` must carry. Unset: it refuses all.
    #[serde(with = "secret")]
    pub deployment_callback_token: Option<SecretString>,
    /// The webhook executor: environment → the URL each action there is POSTed to (`default`
    /// for every other environment and for provisioning without one).
    pub webhooks: std::collections::BTreeMap<String, String>,
    /// Environments a deploy to which waits for a person's approval (a pipeline gate).
    pub protected_environments: Vec<String>,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            dashboard_url_template: None,
            provisioning_callback_token: None,
            deployment_callback_token: None,
            webhooks: std::collections::BTreeMap::new(),
            protected_environments: vec!["prod".to_owned()],
        }
    }
}

impl CatalogConfig {
    pub fn settings(&self) -> CatalogSettings {
        CatalogSettings {
            dashboard_url_template: self.dashboard_url_template.clone().filter(|t| !t.is_empty()),
            provisioning_callback_token: self.provisioning_callback_token.clone(),
            deployment_callback_token: self.deployment_callback_token.clone(),
            webhooks: self.webhooks.clone(),
            protected_environments: self.protected_environments.clone(),
        }
    }

    /// One line per problem.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(template) = self.dashboard_url_template.as_deref().filter(|t| !t.is_empty()) {
            let sample = template
                .replace("{name}", "x")
                .replace("{tenant}", "x")
                .replace("{id}", "1");
            if !url::Url::parse(&sample).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                problems.push(format!(
                    "catalog.dashboard_url_template: {template:?} does not make an http(s) URL"
                ));
            }
        }
        for (environment, url) in &self.webhooks {
            if !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                problems.push(format!(
                    "catalog.webhooks.{environment}: {url:?} is not an http(s) URL"
                ));
            }
        }
        problems
    }
}
