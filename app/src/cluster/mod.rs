//! The Kubernetes connection: one client (in-cluster, else kubeconfig, else "not configured")
//! and its reachability. Heimdall runs without a cluster and says so.

mod model;

pub use model::ClusterStatus;

// Server-only: one gate for everything that runs on the server.
ssr! {
    mod ssr;
    mod watch;

    pub use ssr::{Cluster, ClusterError};
    pub use watch::{WatchBackoff, WatchState, set_state};
}
