//! Administration: users (search, create, role, deactivate, reset password, tenants), tenants,
//! and the audit log. Every operation needs the admin role, checked in `ops.rs`.

mod api;
mod model;
/// The operations behind the server functions, for the REST routes to share.
#[cfg(feature = "ssr")]
pub mod ops;
mod pages;

pub use api::*;
pub use model::*;
pub use pages::{AdminAuditPage, AdminTenantsPage, AdminUsersPage};
