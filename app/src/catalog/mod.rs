//! The service catalog (the IDP-portal seed's job): services registered by tenant, and the
//! self-serve actions run on them — provision, deprovision, deploy — with their history.
//!
//! `model.rs` the seed's shapes; `store.rs` the `catalog_services` and `catalog_actions`
//! tables; `service/` every operation (fields, actions, callbacks beside the rest), each
//! checking its caller (tenant visibility, admins write, developers and admins act), and the
//! executors' callbacks (`X-Callback-Token`);
//! `approvals.rs` deploys to protected environments, settled by a pipeline's gate;
//! `executors.rs` who runs an action in an environment (a webhook, Kubernetes, or a callback)
//! and `kubernetes.rs` the Kubernetes executor (server-side apply, rollouts followed by watch);
//! `error.rs` its refusals. The seed's REST routes are `server/src/http/catalog_routes.rs`.
//! `views.rs` what the pages show, `api.rs` their server functions, `pages.rs` the pages (one
//! lazy route). See `docs/catalog.md`.

mod api;
mod model;
mod pages;

#[cfg(feature = "ssr")]
mod approvals;
#[cfg(feature = "ssr")]
mod error;
#[cfg(feature = "ssr")]
mod executors;
#[cfg(feature = "ssr")]
pub mod kubernetes;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
mod service;
#[cfg(feature = "ssr")]
mod settings;
#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
mod views;

pub use api::*;
pub use model::*;
pub use pages::CatalogRoute;

#[cfg(feature = "ssr")]
pub use error::CatalogError;
#[cfg(feature = "ssr")]
pub use service::{ACTION_STATUSES, CatalogService, Handed, Report};
#[cfg(feature = "ssr")]
pub use settings::{CatalogSettings, KubernetesSettings};
#[cfg(feature = "ssr")]
pub use store::{CatalogStore, EVERYTHING, NewAction, ServiceFields, ServiceRow};
#[cfg(feature = "ssr")]
pub use views::CatalogFilter;
