//! Integration tests of the whole application over HTTP, against the backend selected by
//! `HEIMDALL_TEST_DATABASE` (see `app::db::testing`).

mod auth;
mod auth_matrix;
mod bootstrap;
mod health;
mod helpers;
mod kubernetes;
mod oauth;
mod pages;
mod server_fns;
