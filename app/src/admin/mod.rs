//! Administration: users (search, create, role, deactivate, reset password, tenants), tenants,
//! and reading the audit log. Built on identity's store and the audit handle; every operation
//! checks `Permission::Administer` itself (`service.rs`), so the admin server functions and the
//! seed's `/users/{id}` routes share one rule.

mod api;
#[cfg(feature = "ssr")]
mod error;
mod model;
mod pages;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
mod service;

pub use api::*;
#[cfg(feature = "ssr")]
pub use error::AdminError;
pub use model::*;
pub use pages::{AdminAuditPage, AdminRoute, AdminTenantsPage, AdminUsersPage};
#[cfg(feature = "ssr")]
pub use service::AdminService;
