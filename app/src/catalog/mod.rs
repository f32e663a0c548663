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
//! `error.rs` its refusals. The seed's REST routes are `rest.rs`.
//! `views.rs` what the pages show, `api.rs` their server functions, `pages.rs` the pages (one
//! lazy route). See `docs/catalog.md`.

mod api;
mod model;
mod pages;

pub use api::*;
pub use model::*;
pub use pages::CatalogRoute;

// Server-only: one gate for everything that runs on the server.
ssr! {
    mod approvals;
    mod error;
    mod executors;
    pub mod kubernetes;
    pub mod rest;
    mod seed;
    mod service;
    mod settings;
    mod store;
    mod views;

    pub use error::CatalogError;
    pub use service::{ACTION_STATUSES, CatalogService, Handed, Report};
    pub use settings::{CatalogSettings, KubernetesSettings};
    pub use store::{CatalogStore, EVERYTHING, NewAction, ServiceFields, ServiceRow};
    pub use views::CatalogFilter;
}
