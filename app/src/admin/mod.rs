//! Administration: users (search, create, role, deactivate, reset password, tenants), tenants,
//! and reading the audit log. Built on identity's store and the audit handle; every operation
//! checks `Permission::Administer` itself (`service.rs`), so the admin server functions and the
//! seed's `/users/{id}` routes share one rule.

mod api;
mod model;
mod pages;

pub use api::*;
pub use model::*;
pub use pages::{AdminAuditPage, AdminRoute, AdminTenantsPage, AdminUsersPage};

// Server-only: one gate for everything that runs on the server.
ssr! {
    mod audit_names;
    mod error;
    pub mod rest;
    mod service;

    pub use error::AdminError;
    pub use service::AdminService;
}
