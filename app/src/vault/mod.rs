//! The token vault (the auth-manager seed's job): Keycloak offline and refresh tokens kept
//! encrypted, access tokens minted from them on demand, the user's Keycloak sessions.
//!
//! Files: `crypto.rs` the envelope (AES-256-GCM under a rotating keyring, each ciphertext bound
//! to its row); `store.rs` the `vault_tokens` and `vault_consents` tables and the mint lock;
//! `keycloak.rs` the token endpoint, introspection and admin API; `consent.rs` the consent's
//! signed state; `service/` every operation, each checking its caller (one file per flow); `seed.rs` the seed's
//! response shapes; `error.rs` its codes; `model.rs`, `api.rs`, `pages.rs` the Vault page
//! (`/vault`, its own chunk). The seed's REST routes are `server/src/http/vault_routes.rs`.
//! See `docs/vault.md`.

mod api;
mod model;
mod pages;

#[cfg(feature = "ssr")]
mod consent;
#[cfg(feature = "ssr")]
mod crypto;
#[cfg(feature = "ssr")]
mod error;
#[cfg(feature = "ssr")]
mod keycloak;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
mod service;
#[cfg(feature = "ssr")]
mod settings;
#[cfg(feature = "ssr")]
mod store;

pub use api::*;
pub use model::*;
pub use pages::{VaultPage, VaultRoute};

#[cfg(feature = "ssr")]
pub use crypto::{CryptoError, Keyring, NONCE_LEN, RowBinding, Sealed};
#[cfg(feature = "ssr")]
pub use error::{VaultCode, VaultError};
#[cfg(feature = "ssr")]
pub use service::{CALLBACK_PATH, ConsentCallback, VaultCaller, VaultService, VaultSettings};
#[cfg(feature = "ssr")]
pub use settings::VaultConfig;
#[cfg(feature = "ssr")]
pub use store::{NewToken, TokenKind, TokenRow, VaultStore};
