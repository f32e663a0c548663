//! Flink jobs: `FlinkDeployment`s held in memory by reflectors (one per watched namespace, or
//! one for the whole cluster), turned into the Java Heimdall's `FlinkJob` by one pure function,
//! served from memory (`/api/jobs`, `/jobs`, the live feed) and acted on (suspend, resume,
//! restart, savepoint) by developers and admins.
//!
//! - `model.rs` — the types the browser and the server share.
//! - `crd.rs`, `job.rs`, `patterns.rs` — the resource, the pure mapping, display names and links.
//! - `reflector.rs` — watches, their states and the change channel.
//! - `service.rs` — every operation, each checking the `Principal`.
//! - `api.rs` — the server functions; `pages/` — the `/flink` page (a lazy route: the page, its address state, settings, table and drawer).

mod api;
mod model;
mod pages;

pub use api::*;
pub use model::*;
pub use pages::FlinkJobsRoute;

// Server-only: one gate for everything that runs on the server.
ssr! {
    mod crd;
    mod error;
    mod job;
    mod patterns;
    mod reflector;
    pub mod rest;
    mod service;

    pub use crd::{
        FlatResource, FlinkDeployment, FlinkDeploymentObject, FlinkDeploymentSpec, FlinkDeploymentStatus,
        FlinkJobSpec, FlinkJobStatus, ProcessSpec,
    };
    pub use error::FlinkError;
    pub use job::to_flink_job;
    pub use patterns::{Patterns, normalise_key};
    pub use reflector::{FlinkWatch, JobChange, WatchedNamespaces, api_resource, pick_version};
    pub use service::{FIELD_MANAGER, FeedMessage, FlinkService, FlinkSettings, JobListBytes, gzip_etag};
}
