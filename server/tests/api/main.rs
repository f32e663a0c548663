//! Integration tests of the whole application over HTTP, against the backend selected by
//! `HEIMDALL_TEST_DATABASE` (see `app::db::testing`). One module per domain, so a test's name
//! says its part: `scripts/heimdall test identity` runs `identity::…` (see the README).

mod auth_matrix;
mod flink;
mod helpers;
mod identity;
mod platform;
