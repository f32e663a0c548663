//! Catalog types shared by the store, the service, the REST routes and the pages. The
//! field names are the IDP-portal seed's, so its clients read them unchanged; Heimdall's own
//! (`description`, `links`, `tags`) come after.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A link shown on a service's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLink {
    pub title: String,
    pub url: String,
}

/// A service as a client writes it (the seed's `ServiceInput`, plus Heimdall's fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInput {
    pub name: String,
    pub repo_url: String,
    pub owner_team: String,
    /// `go` or `python` in the seed; any short lowercase word here.
    pub runtime: String,
    pub tier: String,
    #[serde(default)]
    pub environments: Vec<String>,
    /// The tenant's slug.
    pub tenant: String,
    #[serde(default)]
    pub observability_enabled: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub links: Vec<ServiceLink>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A service as the catalog shows it (the seed's `Service`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: i64,
    /// The name as registered ("Payments API"), as the seed returned it.
    pub name: String,
    /// The DNS label Kubernetes objects and URLs use ("payments-api"); the name itself when it
    /// is one.
    pub slug: String,
    pub repo_url: String,
    pub owner_team: String,
    pub runtime: String,
    pub tier: String,
    pub environments: Vec<String>,
    pub tenant: String,
    pub observability_enabled: bool,
    pub provision_status: String,
    pub provision_detail: String,
    /// From `catalog.dashboard_url_template`, when observability is on.
    pub observability_dashboard_url: Option<String>,
    pub description: String,
    pub links: Vec<ServiceLink>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What can be done to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Provision,
    Deprovision,
    Deploy,
}

impl ActionKind {
    /// The action's noun in messages: "Provisioning", "Deprovisioning", "Deployment".
    pub fn title(self) -> &'static str {
        match self {
            Self::Provision => "Provisioning",
            Self::Deprovision => "Deprovisioning",
            Self::Deploy => "Deployment",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provision => "provision",
            Self::Deprovision => "deprovision",
            Self::Deploy => "deploy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Provision, Self::Deprovision, Self::Deploy]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// One action asked for, and where it stands: the service's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub id: i64,
    pub service_id: i64,
    pub action: ActionKind,
    pub environment: Option<String>,
    /// One of `ACTION_STATES`.
    pub status: String,
    pub detail: String,
    /// The external executor's handle (the seed's `execution_arn`).
    pub execution_ref: Option<String>,
    pub requested_by: String,
    /// The pipeline whose approval gate a deploy to a protected environment waits for.
    pub pipeline_id: Option<String>,
    /// What a deploy applies (`repository:version`).
    pub image: Option<String>,
    /// Who decided its approval gate (a deploy to a protected environment), once decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an action asks for besides its kind: the seed's `DeployRequest` (`environment`), and
/// Heimdall's `image` / `version` for a deploy on Kubernetes (default: the configured image
/// template, filled with the service's name and the version, `latest` when none is given).
/// Unknown fields are ignored, as the seed's pydantic models ignore them (`{"force": true}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRequest {
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

/// Every status an action can be in, in the order an action passes through them.
pub const ACTION_STATES: [&str; 7] = [
    "awaiting_approval",
    "queued",
    "in_progress",
    "succeeded",
    "failed",
    "timed_out",
    "rejected",
];

/// Whether an action in `status` is still under way (a chip shows a spinner, the page listens).
pub fn action_is_open(status: &str) -> bool {
    matches!(status, "awaiting_approval" | "queued" | "in_progress")
}

/// The catalog list page: the services the viewer may see that match the filters, the values
/// the filters offer, and what the viewer may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogList {
    pub services: Vec<Service>,
    /// How many the viewer may see before filtering.
    pub total: usize,
    pub tenants: Vec<String>,
    pub tiers: Vec<String>,
    pub runtimes: Vec<String>,
    /// Admins write the catalog: the "New service" form, with every tenant to choose from.
    pub can_write: bool,
    pub form_tenants: Vec<String>,
}

/// One environment of a service on its page: where provisioning and the newest deploy stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentState {
    pub name: String,
    /// A deploy here waits for someone's approval.
    pub protected: bool,
    pub provision: Option<ActionRecord>,
    pub deploy: Option<ActionRecord>,
}

/// A service's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePage {
    pub service: Service,
    pub environments: Vec<EnvironmentState>,
    /// Newest first.
    pub history: Vec<ActionRecord>,
    /// Admins: edit and delete.
    pub can_write: bool,
    /// Developers and admins: provision, deploy, deprovision.
    pub can_act: bool,
    pub form_tenants: Vec<String>,
}
