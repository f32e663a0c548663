//! The Flink jobs domain against the real kube-apiserver, with Heimdall running under its own
//! RBAC: watches and readiness, the job list and its live feed, actions, the proxy.

mod jobs;
mod proxy;
pub(crate) mod support;
mod watches;
