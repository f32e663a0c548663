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
#[cfg(feature = "ssr")]
mod crd;
#[cfg(feature = "ssr")]
mod error;
#[cfg(feature = "ssr")]
mod job;
mod model;
mod pages;
#[cfg(feature = "ssr")]
mod patterns;
#[cfg(feature = "ssr")]
mod reflector;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
mod service;

pub use api::*;
#[cfg(feature = "ssr")]
pub use crd::{
    FlatResource, FlinkDeployment, FlinkDeploymentObject, FlinkDeploymentSpec, FlinkDeploymentStatus,
    FlinkJobSpec, FlinkJobStatus, ProcessSpec,
};
#[cfg(feature = "ssr")]
pub use error::FlinkError;
#[cfg(feature = "ssr")]
pub use job::to_flink_job;
pub use model::*;
pub use pages::FlinkJobsRoute;
#[cfg(feature = "ssr")]
pub use patterns::{Patterns, normalise_key};
#[cfg(feature = "ssr")]
pub use reflector::{FlinkWatch, JobChange, WatchedNamespaces, api_resource, pick_version};
#[cfg(feature = "ssr")]
pub use service::{FIELD_MANAGER, FeedMessage, FlinkService, FlinkSettings};
