//! The token vault against the real Keycloak (realms `heimdall` and `heimdall-rotating`): the
//! seed's `/v1/*` API, the envelope's integrity and rotation, concurrent mints, the Vault page's
//! server functions. The consent in Chromium is `end2end/tests/vault.test.mjs`.

mod api;
mod integrity;
mod pages;
pub(crate) mod support;
