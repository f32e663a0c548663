//! `catalog.*`, as read from the configuration and as the service holds it: the dashboard link,
//! the executors' callback tokens (the IDP-portal seed's `PROVISIONING_CALLBACK_TOKEN` and
//! `DEPLOYMENT_CALLBACK_TOKEN`, read bare too), the webhooks, the protected environments and the
//! Kubernetes executor's names. Tokens are secrets: written back as `***`.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::settings::secret;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogSettings {
    /// The Grafana (or any) link of a service with observability on; `{name}`, `{tenant}` and
    /// `{id}` are filled in. Unset or empty: no link.
    pub dashboard_url_template: Option<String>,
    /// What `POST /provisioning/callback` must carry in `X-Callback-Token`. Unset: it refuses all.
    #[serde(with = "secret")]
    pub provisioning_callback_token: Option<SecretString>,
    /// What `POST /services/deployments/callback` must carry. Unset: it refuses all.
    #[serde(with = "secret")]
    pub deployment_callback_token: Option<SecretString>,
    /// The webhook executor (the seed's Step Functions shape): environment → the URL each
    /// action there is POSTed to, `default` for the rest; its status then arrives through the
    /// callbacks. An environment with none: the action waits for a callback.
    pub webhooks: BTreeMap<String, String>,
    /// Environments a deploy to which waits for a person's approval (a pipeline gate).
    pub protected_environments: Vec<String>,
    /// The Kubernetes executor, used where a cluster is configured.
    pub kubernetes: KubernetesSettings,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            dashboard_url_template: None,
            provisioning_callback_token: None,
            deployment_callback_token: None,
            webhooks: BTreeMap::new(),
            protected_environments: vec!["prod".to_owned()],
            kubernetes: KubernetesSettings::default(),
        }
    }
}

impl CatalogSettings {

    /// The dashboard link's template, when one is set.
    pub fn dashboard_template(&self) -> Option<&str> {
        self.dashboard_url_template.as_deref().filter(|t| !t.is_empty())
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

/// `catalog.kubernetes.*`: what provision and deploy apply.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KubernetesSettings {
    /// Off: even with a cluster, actions go to the webhooks (or wait for a callback).
    pub enabled: bool,
    /// `{tenant}`, `{service}`, `{environment}`: one environment's namespace.
    pub namespace_template: String,
    /// `{tenant}`: the group the namespace's RoleBinding names (as the cluster's authenticator
    /// sees it).
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

impl Default for KubernetesSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            namespace_template: "{tenant}-{service}-{environment}".into(),
            tenant_group_template: "tenant:{tenant}".into(),
            cluster_role: "edit".into(),
            quota: [
                ("pods", "20"),
                ("requests.cpu", "2"),
                ("requests.memory", "4Gi"),
                ("limits.memory", "8Gi"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            image_template: "{name}:{version}".into(),
            replicas: 1,
            rollout_timeout_secs: 600,
        }
    }
}

impl KubernetesSettings {
    /// How long a rollout may take before the action is `timed_out`.
    pub fn rollout_timeout(&self) -> Duration {
        Duration::from_secs(self.rollout_timeout_secs)
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
