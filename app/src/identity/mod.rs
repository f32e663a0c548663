//! Identity and access: who a request comes from (`Principal`) and what it may do
//! (`Permission`); password, Google and Keycloak sign-in; sessions, bearer JWTs and personal API
//! tokens; allow-lists and brute-force backoff; the login and account pages.
//!
//! Layout (the recipe every domain follows, see `docs/architecture.md`): `model.rs` wire types,
//! `api.rs` server functions, `pages.rs` components; behind `ssr`: `store/` the repository,
//! `service.rs` the service (with `sign_in.rs`, `sessions.rs`, `accounts.rs`, `oauth.rs`),
//! `error.rs` its typed error.

mod allowlist;
mod api;
mod model;
mod pages;

#[cfg(feature = "ssr")]
mod accounts;
#[cfg(feature = "ssr")]
mod context;
#[cfg(feature = "ssr")]
mod credentials;
#[cfg(feature = "ssr")]
mod error;
#[cfg(feature = "ssr")]
pub mod oauth;
#[cfg(feature = "ssr")]
pub mod oidc;
#[cfg(feature = "ssr")]
mod password;
#[cfg(feature = "ssr")]
mod principal;
#[cfg(feature = "ssr")]
mod providers;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
mod return_to;
#[cfg(feature = "ssr")]
pub mod secrets;
#[cfg(feature = "ssr")]
mod service;
#[cfg(feature = "ssr")]
mod sessions;
#[cfg(feature = "ssr")]
mod settings;
#[cfg(feature = "ssr")]
mod sign_in;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
mod throttle;

pub use allowlist::{AllowList, check_password_length};
pub use api::*;
pub use model::*;
pub use pages::{
    AccountPage, AccountRoute, LoginPage, LoginRoute, RegisterPage, RegisterRoute, ViewerResource, use_viewer,
};

#[cfg(feature = "ssr")]
pub use accounts::{SelfPatch, clean_name, looks_like_email};
#[cfg(feature = "ssr")]
pub use context::RequestContext;
#[cfg(feature = "ssr")]
pub use error::IdentityError;
#[cfg(feature = "ssr")]
pub use password::{PasswordHash, generate_password, hash_password, verify_password};
#[cfg(feature = "ssr")]
pub use principal::{AccessError, Actor, Permission, Principal, Via};
#[cfg(feature = "ssr")]
pub use return_to::{HostPattern, ReturnHosts, safe_return_to};
#[cfg(feature = "ssr")]
pub use service::{IdentityService, cookie_value};
#[cfg(feature = "ssr")]
pub use sessions::IssuedJwt;
#[cfg(feature = "ssr")]
pub use settings::{AuthConfig, AuthSettings, JwtKey, KeycloakConfig, LockoutConfig, ProviderSettings};
#[cfg(feature = "ssr")]
pub use sign_in::login_action;
#[cfg(feature = "ssr")]
pub use throttle::{LoginThrottle, ThrottlePolicy, account_name, now_ms};
