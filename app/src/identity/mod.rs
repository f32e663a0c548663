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

pub use allowlist::{AllowList, check_password_length};
pub use api::*;
pub use model::*;
pub use pages::{
    AccountPage, AccountRoute, LoginPage, LoginRoute, RegisterPage, RegisterRoute, ViewerResource, use_viewer,
};

// Server-only: one gate for everything that runs on the server.
ssr! {
    mod accounts;
    mod context;
    mod credentials;
    mod error;
    pub mod oauth;
    pub mod oidc;
    mod password;
    mod principal;
    mod providers;
    pub mod rest;
    mod return_to;
    pub mod secrets;
    mod service;
    mod sessions;
    mod settings;
    mod sign_in;
    pub mod store;
    mod throttle;

    pub use accounts::{SelfPatch, clean_name, looks_like_email};
    pub use context::RequestContext;
    pub use error::IdentityError;
    pub use password::{PasswordHash, generate_password, hash_password, verify_password};
    pub use principal::{AccessError, Actor, Permission, Principal, Via};
    pub use return_to::{HostPattern, ReturnHosts, safe_return_to};
    pub use service::{IdentityService, cookie_value};
    pub use sessions::IssuedJwt;
    pub use settings::{AuthConfig, AuthSettings, JwtKey, KeycloakConfig, LockoutConfig, ProviderSettings};
    pub use sign_in::login_action;
    pub use throttle::{LoginThrottle, ThrottlePolicy, account_name, now_ms};
}
