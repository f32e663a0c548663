//! Identity: roles, and (server-side) password hashing. Login, sessions and tenants build on
//! this in their own modules.

mod model;
#[cfg(feature = "ssr")]
pub mod oidc;
#[cfg(feature = "ssr")]
mod password;

pub use model::Role;
#[cfg(feature = "ssr")]
pub use password::{PasswordHash, generate_password, hash_password};
