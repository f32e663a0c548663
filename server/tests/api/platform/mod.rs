//! What every installation has: health and version routes, pages, the overview's server
//! functions, the first-start admin.

mod bootstrap;
mod health;
mod pages;
mod server_fns;
