//! The token vault (the auth-manager seed's job): Keycloak offline and refresh tokens kept
//! encrypted, access tokens minted from them on demand, the user's Keycloak sessions.
//!
//! Files: `crypto.rs` the envelope (AES-256-GCM under a rotating keyring, each ciphertext bound
//! to its row); `store.rs` the `vault_tokens` and `vault_consents` tables and the mint lock;
//! `keycloak.rs` the token endpoint, introspection and admin API; `consent.rs` the consent's
//! signed state; `service/` every operation, each checking its caller (one file per flow); `seed.rs` the seed's
//! response shapes; `error.rs` its codes; `model.rs`, `api.rs`, `pages.rs` the Vault page
//! (`/vault`, its own chunk). The seed's REST routes are `rest.rs`.
//! See `docs/vault.md`.

mod api;
mod model;
mod pages;

pub use api::*;
pub use model::*;
pub use pages::{VaultPage, VaultRoute};

// Server-only: one gate for everything that runs on the server.
ssr! {
    mod consent;
    mod crypto;
    mod error;
    mod keycloak;
    pub mod rest;
    pub mod seed;
    mod service;
    mod settings;
    mod store;

    pub use crypto::{CryptoError, Keyring, NONCE_LEN, RowBinding, Sealed};
    pub use error::{VaultCode, VaultError};
    pub use service::{CALLBACK_PATH, ConsentCallback, VaultCaller, VaultService, VaultSettings};
    pub use settings::VaultConfig;
    pub use store::{NewToken, TokenKind, TokenRow, VaultStore};
}
