//! `catalog.*`: the service catalog's dashboard link and the executors' callback tokens (the
//! IDP-portal seed's `PROVISIONING_CALLBACK_TOKEN` and `DEPLOYMENT_CALLBACK_TOKEN`, read bare
//! too). Tokens are secrets: written back as `***`.

use std::collections::BTreeMap;
use std::time::Duration;

use app::catalog::CatalogSettings;
use app::catalog::kubernetes::KubernetesSettings;
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
    /// The Kubernetes executor, used where a cluster is configured.
    pub kubernetes: CatalogKubernetesConfig,
}

/// `catalog.kubernetes.*`: what provision and deploy apply.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogKubernetesConfig {
    /// Off: even with a cluster, actions go to the webhooks (or wait for a callback).
    pub enabled: bool,
    /// `{tenant}`, `{service}`, `{environment}`: one environment's namespace.
    pub namespace_template: String,
    /// `{tenant}`: the group the namespace's RoleBinding names.
    pub tenant_group_template: String,
    /// The ClusterRole the tenant's group gets in its namespaces (Heimdall needs `bind` on it).
    pub cluster_role: String,
    /// The namespace's ResourceQuota (`spec.hard`).
    pub quota: BTreeMap<String, String>,
    /// `{name}`, `{tenant}`, `{version}`: the image of a deploy that names none.
    pub image_template: String,
    pub replicas: i32,
    /// A rollout not finished after this many seconds is `timed_out`.
    pub rollout_timeout_secs: u64,
}

impl Default for CatalogKubernetesConfig {
    fn default() -> Self {
        let d = KubernetesSettings::default();
        Self {
            enabled: true,
            namespace_template: d.namespace_template,
            tenant_group_template: d.tenant_group_template,
            cluster_role: d.cluster_role,
            quota: d.quota,
            image_template: d.image_template,
            replicas: d.replicas,
            rollout_timeout_secs: d.rollout_timeout.as_secs(),
        }
    }
}

impl CatalogKubernetesConfig {
    fn settings(&self) -> KubernetesSettings {
        KubernetesSettings {
            namespace_template: self.namespace_template.clone(),
            tenant_group_template: self.tenant_group_template.clone(),
            cluster_role: self.cluster_role.clone(),
            quota: self.quota.clone(),
            image_template: self.image_template.clone(),
            replicas: self.replicas,
            rollout_timeout: Duration::from_secs(self.rollout_timeout_secs),
        }
    }

    fn problems(&self, problems: &mut Vec<String>) {
        for placeholder in ["{service}", "{environment}"] {
            if !self.namespace_template.contains(placeholder) {
                problems.push(format!(
                    "catalog.kubernetes.namespace_template: {:?} needs {placeholder} (one namespace per environment of a service)",
                    self.namespace_template
                ));
            }
        }
        if self.cluster_role.trim().is_empty() || self.tenant_group_template.trim().is_empty() {
            problems
                .push("catalog.kubernetes.cluster_role and tenant_group_template must not be empty".into());
        }
        if !(0..=100).contains(&self.replicas) {
            problems.push(format!(
                "catalog.kubernetes.replicas: {} is not within 0..=100",
                self.replicas
            ));
        }
        if self.rollout_timeout_secs == 0 {
            problems.push("catalog.kubernetes.rollout_timeout_secs: at least 1".into());
        }
    }
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            dashboard_url_template: None,
            provisioning_callback_token: None,
            deployment_callback_token: None,
            webhooks: std::collections::BTreeMap::new(),
            protected_environments: vec!["prod".to_owned()],
            kubernetes: CatalogKubernetesConfig::default(),
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
            kubernetes: self.kubernetes.settings(),
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
        self.kubernetes.problems(&mut problems);
        problems
    }
}
