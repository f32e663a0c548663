//! Flink jobs: `FlinkDeployment`s held in memory by reflectors (one per watched namespace, or
//! one for the whole cluster), so requests read the store and never list from the API server.
//! The job list and its pages build on this.

#[cfg(feature = "ssr")]
mod crd;
#[cfg(feature = "ssr")]
mod reflector;

#[cfg(feature = "ssr")]
pub use crd::{FlinkDeployment, FlinkDeploymentSpec, FlinkDeploymentStatus, FlinkJobSpec, FlinkJobStatus};
#[cfg(feature = "ssr")]
pub use reflector::{FlinkWatch, WatchState, WatchedNamespaces, spawn_watches};
