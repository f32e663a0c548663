//! `VaultService`: every vault operation, each checking its caller itself, shared by the seed's
//! REST routes (`rest.rs`) and the Vault page's server functions.
//!
//! Who owns a token: the Keycloak user (`sub`) it was issued to. A caller proves to be that user
//! with a Keycloak access token (introspected: active, with `sub`), or with a Heimdall session
//! or API token of a Heimdall user linked to that Keycloak subject. Someone else's token id is
//! `token_not_found`, exactly like an id that does not exist.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use chrono::{TimeZone, Utc};
use oauth2::PkceCodeChallenge;
use secrecy::{ExposeSecret, SecretString};

use super::consent::{CONSENT_TTL_SECS, StateKey};
use super::crypto::{Keyring, RowBinding, Sealed};
use super::error::{Result, VaultCode, VaultError};
use super::keycloak::{AdminSession, KeycloakVault, TokenSet};
use super::model::{KeycloakSession, StoredToken, VaultUser, VaultView};
use super::seed::{
    AccessTokenResult, OfflineConsentResult, OfflineTokenResult, OfflineTokenRevocation, RefreshTokenIdResult,
};
use super::store::{ConsentRow, NewToken, Rewrite, TokenKind, TokenRow, VaultStore};
use crate::audit::{Audit, AuditAction, AuditEvent};
use crate::db::Database;
use crate::identity::oidc::verify_id_token;
use crate::identity::secrets::{hash_secret, random_secret};
use crate::identity::{IdentityService, Permission, Principal};
use crate::request::RequestMeta;

// One file per flow (each adds to `impl VaultService`): storing, minting, deleting,
// consenting, and the Vault page's operations.
mod consenting;
mod deleting;
mod minting;
mod page;
mod storing;

pub use super::settings::VaultSettings;

/// How long a mint waits for another mint of the same token before it gives up (`busy`).
const MINT_WAIT: Duration = Duration::from_secs(30);

/// Who is calling the vault.
#[derive(Debug, Clone)]
pub struct VaultCaller {
    /// The Keycloak user the caller is.
    pub subject: String,
    /// The Keycloak session of the caller's access token (`sid`); none for Heimdall credentials.
    pub session_state: Option<String>,
    /// A name for the audit log.
    pub name: String,
    pub user_id: Option<i64>,
    /// Set when the caller came with Heimdall credentials (their scope still applies).
    principal: Option<Principal>,
}

impl VaultCaller {
    /// Changing the vault (storing, minting, deleting) needs more than a read-only API token.
    fn may_change(&self) -> Result<()> {
        if let Some(p) = &self.principal {
            p.authorize(Permission::OwnAccount)?;
        }
        Ok(())
    }
}

struct On {
    keyring: Keyring,
    keycloak: KeycloakVault,
    consent_redirect_url: Option<String>,
}

struct Inner {
    on: Result<On, String>,
    store: VaultStore,
    identity: IdentityService,
    audit: Audit,
    state_key: StateKey,
    locks: std::sync::Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

#[derive(Clone)]
pub struct VaultService(Arc<Inner>);

impl VaultService {
    /// `settings` is `Err(reason)` when the vault is off (no keyring, no Keycloak).
    pub fn new(
        db: Database,
        identity: IdentityService,
        audit: Audit,
        settings: Result<VaultSettings, String>,
    ) -> Self {
        let state_key = StateKey::derive(&identity.settings().jwt_key.0);
        let on = settings.map(|s| On {
            keyring: s.keyring,
            keycloak: KeycloakVault::new(s.keycloak),
            consent_redirect_url: s.consent_redirect_url,
        });
        Self(Arc::new(Inner {
            on,
            store: VaultStore::new(db),
            identity,
            audit,
            state_key,
            locks: std::sync::Mutex::default(),
        }))
    }

    /// Why the vault is off, if it is.
    pub fn off_reason(&self) -> Option<&str> {
        self.0.on.as_ref().err().map(String::as_str)
    }

    fn on(&self) -> Result<&On> {
        self.0.on.as_ref().map_err(|reason| VaultError::disabled(reason))
    }

    pub fn store(&self) -> &VaultStore {
        &self.0.store
    }

    // ----- who is calling -------------------------------------------------------------------

    /// The caller of a `/v1/*` request: a Keycloak access token (introspected) or Heimdall
    /// credentials of a user linked to Keycloak.
    #[tracing::instrument(name = "vault.caller", skip_all)]
    pub async fn caller(&self, headers: &HeaderMap, meta: &RequestMeta) -> Result<VaultCaller> {
        let on = self.on()?;
        if let Some(token) = bearer(headers)? {
            if self.is_keycloak_token(&token) {
                return self.keycloak_caller(on, &token).await;
            }
        } else if !headers.contains_key(header::COOKIE) {
            return Err(VaultError::unauthorized("Authorization header is required"));
        }
        let principal = self
            .0
            .identity
            .resolve(headers, meta)
            .await
            .map_err(|e| VaultError::unauthorized(e.to_string()))?;
        self.principal_caller(&principal).await
    }

    /// The caller behind Heimdall credentials (a server function's principal).
    #[tracing::instrument(name = "vault.principal_caller", skip_all)]
    pub async fn principal_caller(&self, principal: &Principal) -> Result<VaultCaller> {
        let user_id = principal.user_id()?;
        let subject = self
            .0
            .identity
            .store()
            .linked_subject(user_id, "keycloak")
            .await?
            .ok_or_else(|| {
                VaultError::new(
                    VaultCode::Forbidden,
                    "your Heimdall account has no Keycloak identity: sign in with Keycloak once to link it",
                )
            })?;
        Ok(VaultCaller {
            subject,
            session_state: None,
            name: principal.display_name(),
            user_id: Some(user_id),
            principal: Some(principal.clone()),
        })
    }

    /// A JWT whose (unverified) issuer is the vault's Keycloak realm; it is verified by asking
    /// Keycloak. Anything else is a Heimdall credential and never leaves Heimdall.
    fn is_keycloak_token(&self, token: &str) -> bool {
        let Ok(on) = self.on() else { return false };
        unverified_claim(token, "iss").is_some_and(|iss| iss.trim_end_matches('/') == on.keycloak.issuer())
    }

    async fn keycloak_caller(&self, on: &On, token: &str) -> Result<VaultCaller> {
        let info = on.keycloak.introspect(token).await?;
        if !info.active {
            return Err(VaultError::new(VaultCode::TokenNotActive, "Token is not active"));
        }
        let subject = info
            .sub
            .filter(|s| !s.is_empty())
            .ok_or_else(|| VaultError::new(VaultCode::InvalidRequest, "Token missing required claim: sub"))?;
        // The seed requires the token's Keycloak session as well (400 without it).
        let session_state = info
            .sid
            .or(info.session_state)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                VaultError::new(
                    VaultCode::InvalidRequest,
                    "Token missing required claim: session_state",
                )
            })?;
        let linked = self
            .0
            .identity
            .store()
            .find_linked_user("keycloak", &subject)
            .await?;
        Ok(VaultCaller {
            name: linked
                .as_ref()
                .map_or_else(|| format!("keycloak:{subject}"), |u| u.username.clone()),
            user_id: linked.map(|u| u.id),
            session_state: Some(session_state),
            subject,
            principal: None,
        })
    }

    /// `GET /v1/validate-token`: whether Keycloak calls the bearer token active.
    #[tracing::instrument(name = "vault.validate", skip_all)]
    pub async fn validate(&self, headers: &HeaderMap) -> Result<()> {
        let on = self.on()?;
        let token =
            bearer(headers)?.ok_or_else(|| VaultError::unauthorized("Authorization header is required"))?;
        if !self.is_keycloak_token(&token) || !on.keycloak.introspect(&token).await?.active {
            return Err(VaultError::new(VaultCode::TokenNotActive, "Token is not active"));
        }
        Ok(())
    }

    // ----- rotation -----------------------------------------------------------------------------

    /// Re-seals every row not under `keyring`'s active key. Safe while servers run: each row
    /// is swapped only if it still holds what was read (a mint that rewrote it meanwhile sealed
    /// the newer token itself), and read again otherwise. Returns how many rows were re-sealed.
    #[tracing::instrument(name = "vault.rotate", skip_all)]
    pub async fn rotate(store: &VaultStore, keyring: &Keyring) -> Result<u64> {
        let mut rotated = 0;
        let mut after = String::new();
        loop {
            let page = store.not_under(keyring.active_key_id(), &after, 200).await?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            for mut row in page {
                for _attempt in 0..20 {
                    let Some(new) = keyring.reseal(&row.sealed(), row.binding())? else {
                        break;
                    };
                    if store.swap_sealed(&row.id, &row.sealed(), &new).await? {
                        rotated += 1;
                        break;
                    }
                    match store.get(&row.id).await? {
                        Some(fresh) => row = fresh,
                        None => break,
                    }
                }
            }
        }
        Ok(rotated)
    }
}

/// The consent callback's query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ConsentCallback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Where Keycloak sends the browser after consent.
pub const CALLBACK_PATH: &str = "/v1/offline-token/callback";

/// The bearer token, if an `Authorization` header is there; another scheme is an error.
fn bearer(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default().trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(VaultError::unauthorized(
            "Invalid authentication scheme. Expected: Bearer",
        ));
    }
    Ok(Some(token.trim().to_owned()))
}

/// One claim of a JWT's payload, read without verifying anything: only to route the token to
/// whoever can verify it, or to refuse early.
fn unverified_claim(token: &str, claim: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get(claim)?.as_str().map(str::to_owned)
}

/// The seed takes ids as UUIDs (422 otherwise); they are stored in their canonical form.
fn parse_id(id: &str) -> Result<String> {
    uuid::Uuid::parse_str(id.trim())
        .map(|u| u.to_string())
        .map_err(|e| VaultError::malformed("query.id", format!("id must be a UUID: {e}")))
}

fn stored_token(row: &TokenRow) -> StoredToken {
    StoredToken {
        id: row.id.clone(),
        kind: row.kind().as_str().to_owned(),
        session_state: row.session_state.clone(),
        key_id: row.key_id.clone(),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    }
}

fn session(s: AdminSession, offline: bool) -> KeycloakSession {
    let at = |ms: i64| (ms > 0).then(|| Utc.timestamp_millis_opt(ms).single()).flatten();
    KeycloakSession {
        id: s.id,
        offline,
        ip: s.ip_address.unwrap_or_default(),
        started: at(s.start),
        last_access: at(s.last_access),
        clients: s.clients.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_in_canonical_form() {
        assert_eq!(
            parse_id(" 6F9619FF-8B86-D011-B42D-00C04FC964FF ").as_deref().ok(),
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        );
        let err = parse_id("../etc").expect_err("not a UUID");
        assert_eq!(err.code, VaultCode::RequestValidation);
        assert_eq!(err.field.as_deref(), Some("query.id"));
        assert!(err.reason.unwrap_or_default().starts_with("id must be a UUID"));
    }

    #[test]
    fn the_bearer_scheme_is_checked() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().expect("value"));
            h
        };
        assert_eq!(bearer(&HeaderMap::new()).ok().flatten(), None);
        assert_eq!(
            bearer(&headers("Bearer abc")).ok().flatten().as_deref(),
            Some("abc")
        );
        assert_eq!(
            bearer(&headers("bearer  abc ")).ok().flatten().as_deref(),
            Some("abc")
        );
        assert!(bearer(&headers("Basic YTpi")).is_err());
        assert!(bearer(&headers("Bearer ")).is_err());
    }

    #[test]
    fn claims_are_read_from_the_payload_only() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"iss":"http://kc/realms/r","sub":"u1"}"#);
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig");
        assert_eq!(
            unverified_claim(&token, "iss").as_deref(),
            Some("http://kc/realms/r")
        );
        assert_eq!(unverified_claim(&token, "sub").as_deref(), Some("u1"));
        assert_eq!(unverified_claim(&token, "aud"), None);
        assert_eq!(unverified_claim("hmt_notajwt", "iss"), None);
    }
}
