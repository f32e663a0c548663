//! Integration tests of the whole application over HTTP, against the backend selected by
//! `HEIMDALL_TEST_DATABASE` (see `app::db::testing`). One module per domain, so a test's name
//! says its part: `scripts/heimdall test identity` runs `identity::…` (see the README).

mod auth_matrix;
mod catalog;
mod cluster_support;
mod flink;
mod forward_auth;
mod helpers;
mod identity;
mod pipelines;
mod platform;
mod replicas;
mod seeds;
mod statements;
mod vault;
