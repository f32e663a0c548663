//! What every installation has: health and version routes, pages, the overview's server
//! functions, the first-start admin.

mod assets;
mod bootstrap;
mod hardening;
mod health;
mod home;
mod metrics;
mod openapi;
mod pages;
mod server_fns;
mod statements;
