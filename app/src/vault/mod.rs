//! The token vault (the auth-manager seed's job): Keycloak offline and refresh tokens kept
//! encrypted, access tokens minted from them on demand.
//!
//! In progress. Landed so far: `crypto.rs`, the envelope — AES-256-GCM under a rotating
//! keyring, each ciphertext bound to its row (id, user, kind) as associated data. Next: the
//! `vault_tokens` store, the consent flow, the seed's `/v1/*` API, sessions, the Vault page.

#[cfg(feature = "ssr")]
mod crypto;

#[cfg(feature = "ssr")]
pub use crypto::{CryptoError, Keyring, NONCE_LEN, RowBinding, Sealed};
