//! `catalog.*`: the service catalog's dashboard link and the executors' callback tokens (the
//! IDP-portal seed's `PROVISIONING_CALLBACK_TOKEN` and `DEPLOYMENT_CALLBACK_TOKEN`, read bare
//! too). Tokens are secrets: written back as `***`.

use app::catalog::CatalogSettings;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::load::secret;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
}

impl CatalogConfig {
    pub fn settings(&self) -> CatalogSettings {
        CatalogSettings {
            dashboard_url_template: self.dashboard_url_template.clone().filter(|t| !t.is_empty()),
            provisioning_callback_token: self.provisioning_callback_token.clone(),
            deployment_callback_token: self.deployment_callback_token.clone(),
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
        problems
    }
}
