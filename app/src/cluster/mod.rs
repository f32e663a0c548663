//! The Kubernetes connection: one client (in-cluster, else kubeconfig, else "not configured")
//! and its reachability. Heimdall runs without a cluster and says so.

mod model;
#[cfg(feature = "ssr")]
mod ssr;
#[cfg(feature = "ssr")]
mod watch;

pub use model::ClusterStatus;
#[cfg(feature = "ssr")]
pub use ssr::{Cluster, ClusterError};
#[cfg(feature = "ssr")]
pub use watch::{WatchBackoff, WatchState, set_state};
