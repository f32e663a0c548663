//! The Kubernetes executor: catalog actions applied to the cluster directly, by server-side
//! apply with field manager `heimdall`, every object labelled with its tenant, service and
//! environment.
//!
//! - provision: the environment's namespace, a `ResourceQuota` and a `RoleBinding` giving the
//!   tenant's group the configured ClusterRole there;
//! - deploy: a `Deployment` of the requested image; its rollout is followed through a watch
//!   (observed generation, updated / available replicas, conditions) until it succeeds, fails or
//!   times out;
//! - deprovision: deletes what provision (and deploy) created.
//!
//! The verbs these calls need are exactly those of `deploy/rbac/heimdall.yaml`'s catalog role.

use std::collections::BTreeMap;

pub use super::settings::KubernetesSettings;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, Namespace, PodSpec, PodTemplateSpec, ResourceQuota, ResourceQuotaSpec, ResourceRequirements,
};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{DeleteParams, ObjectMeta, Patch, PatchParams};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The field manager of every object Heimdall applies.
pub const FIELD_MANAGER: &str = "heimdall";
pub const LABEL_TENANT: &str = "heimdall.io/tenant";
pub const LABEL_SERVICE: &str = "heimdall.io/service";
pub const LABEL_ENVIRONMENT: &str = "heimdall.io/environment";
const QUOTA_NAME: &str = "heimdall-quota";
const ROLE_BINDING_NAME: &str = "heimdall-tenant";

impl KubernetesSettings {
    /// The image of a deploy: the one asked for (tagged `version` when it carries no tag),
    /// else the template's; the version is `latest` when none is given.
    pub fn image(&self, tenant: &str, service: &str, image: Option<&str>, version: Option<&str>) -> String {
        let version = version.unwrap_or("latest");
        match image {
            Some(image)
                if image.rsplit('/').next().is_some_and(|last| last.contains(':')) || image.contains('@') =>
            {
                image.to_owned()
            }
            Some(image) => format!("{image}:{version}"),
            None => self
                .image_template
                .replace("{name}", service)
                .replace("{tenant}", tenant)
                .replace("{version}", version),
        }
    }
}

/// One environment of one service: where its objects go and how they are labelled.
#[derive(Debug, Clone)]
pub struct Target {
    pub tenant: String,
    pub service: String,
    pub environment: String,
}

/// Where a deploy's rollout stands (`rollout`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    Progressing,
    Succeeded(String),
    Failed(String),
}

/// The Deployment a deploy applied, to follow: `kubernetes:<namespace>/<name>@<generation>`
/// is the action's `execution_ref`, so a restarted server follows it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub namespace: String,
    pub name: String,
    pub generation: i64,
}

impl Applied {
    pub fn reference(&self) -> String {
        format!("kubernetes:{}/{}@{}", self.namespace, self.name, self.generation)
    }

    pub fn parse(reference: &str) -> Option<Self> {
        let rest = reference.strip_prefix("kubernetes:")?;
        let (path, generation) = rest.rsplit_once('@')?;
        let (namespace, name) = path.split_once('/')?;
        Some(Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            generation: generation.parse().ok()?,
        })
    }
}

/// A refusal from the API server (or a name that cannot be one), said for the action's detail.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ExecutorError(pub String);

impl From<kube::Error> for ExecutorError {
    fn from(e: kube::Error) -> Self {
        Self(match e {
            kube::Error::Api(status) => {
                format!("the API server answered {}: {}", status.code, status.message)
            }
            other => format!("the API server could not be reached ({other})"),
        })
    }
}

type Result<T> = std::result::Result<T, ExecutorError>;

/// Where a rollout stands, the way `kubectl rollout status` reads it: nothing is decided until
/// the controller has observed `generation`; a `ProgressDeadlineExceeded` or a `ReplicaFailure`
/// fails it; it succeeds when every desired replica is updated and available and no old one is
/// left.
pub fn rollout(deployment: &Deployment, generation: i64) -> Rollout {
    let Some(status) = deployment.status.as_ref() else {
        return Rollout::Progressing;
    };
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Progressing;
    }
    for condition in status.conditions.iter().flatten() {
        let message = condition.message.clone().unwrap_or_default();
        let (kind, state) = (condition.type_.as_deref(), condition.status.as_deref());
        if kind == Some("Progressing")
            && state == Some("False")
            && condition.reason.as_deref() == Some("ProgressDeadlineExceeded")
        {
            return Rollout::Failed(format!("the rollout exceeded its progress deadline: {message}"));
        }
        if kind == Some("ReplicaFailure") && state == Some("True") {
            return Rollout::Failed(format!("replicas failed: {message}"));
        }
    }
    let desired = deployment.spec.replicas.unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    if updated >= desired && available >= desired && total <= updated {
        Rollout::Succeeded(format!("{available}/{desired} replicas available"))
    } else {
        Rollout::Progressing
    }
}

/// A DNS label from a template: too long or malformed is an error, never a silent rename.
fn dns_label(what: &str, value: &str) -> Result<String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ExecutorError(format!(
            "{what} {value:?} is not a Kubernetes name (lowercase letters, digits and '-', at most 63)"
        )))
    }
}

#[derive(Clone)]
pub struct KubernetesExecutor {
    client: Client,
    /// Shared: the catalog's service, and this with it, is cloned for every request.
    settings: std::sync::Arc<KubernetesSettings>,
}

impl KubernetesExecutor {
    pub fn new(client: Client, settings: KubernetesSettings) -> Self {
        Self {
            client,
            settings: std::sync::Arc::new(settings),
        }
    }

    pub fn settings(&self) -> &KubernetesSettings {
        &self.settings
    }

    /// The namespace of `target`.
    pub fn namespace(&self, target: &Target) -> Result<String> {
        dns_label(
            "the namespace",
            &self
                .settings
                .namespace_template
                .replace("{tenant}", &target.tenant)
                .replace("{service}", &target.service)
                .replace("{environment}", &target.environment),
        )
    }

    fn labels(target: &Target) -> BTreeMap<String, String> {
        [
            ("app.kubernetes.io/managed-by", FIELD_MANAGER),
            (LABEL_TENANT, target.tenant.as_str()),
            (LABEL_SERVICE, target.service.as_str()),
            (LABEL_ENVIRONMENT, target.environment.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn meta(target: &Target, name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: namespace.map(str::to_owned),
            labels: Some(Self::labels(target)),
            ..ObjectMeta::default()
        }
    }

    async fn apply<K>(&self, api: &Api<K>, object: &K) -> Result<K>
    where
        K: Resource + Clone + std::fmt::Debug + Serialize + DeserializeOwned,
    {
        let name = object.meta().name.clone().unwrap_or_default();
        Ok(api
            .patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(object),
            )
            .await?)
    }

    /// The namespace, its quota and the tenant's role binding. Says what it applied.
    pub async fn provision(&self, target: &Target) -> Result<String> {
        let namespace = self.namespace(target)?;
        let group = self
            .settings
            .tenant_group_template
            .replace("{tenant}", &target.tenant);
        // k8s-openapi writes `apiVersion` and `kind`, which apply needs in the body.
        let ns = Namespace {
            metadata: Self::meta(target, &namespace, None),
            ..Namespace::default()
        };
        self.apply(&Api::<Namespace>::all(self.client.clone()), &ns)
            .await?;
        let quota = ResourceQuota {
            metadata: Self::meta(target, QUOTA_NAME, Some(&namespace)),
            spec: Some(ResourceQuotaSpec {
                hard: Some(
                    self.settings
                        .quota
                        .iter()
                        .map(|(k, v)| (k.clone(), Quantity(v.clone())))
                        .collect(),
                ),
                ..ResourceQuotaSpec::default()
            }),
            ..ResourceQuota::default()
        };
        self.apply(&Api::namespaced(self.client.clone(), &namespace), &quota)
            .await?;
        let binding = RoleBinding {
            metadata: Self::meta(target, ROLE_BINDING_NAME, Some(&namespace)),
            role_ref: RoleRef {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: "ClusterRole".into(),
                name: self.settings.cluster_role.clone(),
            },
            subjects: Some(vec![Subject {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: "Group".into(),
                name: group.clone(),
                namespace: None,
            }]),
        };
        self.apply(&Api::namespaced(self.client.clone(), &namespace), &binding)
            .await?;
        Ok(format!(
            "namespace {namespace}: quota {QUOTA_NAME}, group {group} bound to {}",
            self.settings.cluster_role
        ))
    }

    /// Deletes what provision and deploy created: the Deployment, the binding, the quota, then
    /// the namespace (whose finalizers the cluster runs). Absent objects are fine.
    pub async fn deprovision(&self, target: &Target) -> Result<String> {
        let namespace = self.namespace(target)?;
        let gone = |r: std::result::Result<(), kube::Error>| match r {
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            other => other,
        };
        let params = DeleteParams::default();
        gone(
            Api::<Deployment>::namespaced(self.client.clone(), &namespace)
                .delete(&target.service, &params)
                .await
                .map(drop),
        )?;
        gone(
            Api::<RoleBinding>::namespaced(self.client.clone(), &namespace)
                .delete(ROLE_BINDING_NAME, &params)
                .await
                .map(drop),
        )?;
        gone(
            Api::<ResourceQuota>::namespaced(self.client.clone(), &namespace)
                .delete(QUOTA_NAME, &params)
                .await
                .map(drop),
        )?;
        gone(
            Api::<Namespace>::all(self.client.clone())
                .delete(&namespace, &params)
                .await
                .map(drop),
        )?;
        Ok(format!("namespace {namespace} and its objects deleted"))
    }

    /// Applies the Deployment of `image`; follow it with `follow`.
    pub async fn deploy(&self, target: &Target, image: &str) -> Result<Applied> {
        let namespace = self.namespace(target)?;
        let name = dns_label("the deployment", &target.service)?;
        let selector: BTreeMap<String, String> = [("app.kubernetes.io/name".to_owned(), name.clone())]
            .into_iter()
            .collect();
        let mut pod_labels = Self::labels(target);
        pod_labels.extend(selector.clone());
        let quantity = |s: &str| Quantity(s.to_owned());
        let deployment = Deployment {
            metadata: Self::meta(target, &name, Some(&namespace)),
            spec: DeploymentSpec {
                replicas: Some(self.settings.replicas),
                selector: LabelSelector {
                    match_labels: Some(selector),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(pod_labels),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: name.clone(),
                            image: Some(image.to_owned()),
                            // The namespace's quota counts requests: a pod without them is refused.
                            resources: Some(ResourceRequirements {
                                requests: Some(
                                    [
                                        ("cpu".to_owned(), quantity("100m")),
                                        ("memory".to_owned(), quantity("128Mi")),
                                    ]
                                    .into_iter()
                                    .collect(),
                                ),
                                limits: Some(
                                    [("memory".to_owned(), quantity("256Mi"))].into_iter().collect(),
                                ),
                                ..ResourceRequirements::default()
                            }),
                            ..Container::default()
                        }],
                        ..PodSpec::default()
                    }),
                },
                ..DeploymentSpec::default()
            },
            ..Deployment::default()
        };
        let applied = self
            .apply(&Api::namespaced(self.client.clone(), &namespace), &deployment)
            .await?;
        Ok(Applied {
            namespace,
            name,
            generation: applied.metadata.generation.unwrap_or(1),
        })
    }

    /// Follows a rollout through a watch until it is decided, or `rollout_timeout` passes
    /// (`None`). A Deployment deleted meanwhile fails it.
    pub async fn follow(&self, applied: &Applied) -> Option<Rollout> {
        let api = Api::<Deployment>::namespaced(self.client.clone(), &applied.namespace);
        let generation = applied.generation;
        let decided =
            move |d: Option<&Deployment>| d.is_none_or(|d| rollout(d, generation) != Rollout::Progressing);
        match tokio::time::timeout(
            self.settings.rollout_timeout(),
            kube::runtime::wait::await_condition(api, &applied.name, decided),
        )
        .await
        {
            Err(_) => None,
            Ok(Ok(Some(d))) => Some(rollout(&d, generation)),
            Ok(Ok(None)) => Some(Rollout::Failed(
                "the Deployment was deleted during its rollout".into(),
            )),
            Ok(Err(e)) => Some(Rollout::Failed(format!("the rollout could not be watched: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests;
