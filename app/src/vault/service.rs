//! `VaultService`: every vault operation, each checking its caller itself, shared by the seed's
//! REST routes (`server/src/http/vault_routes.rs`) and the Vault page's server functions.
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
use crate::identity::{IdentityService, Permission, Principal, ProviderSettings};
use crate::request::RequestMeta;

/// How long a mint waits for another mint of the same token before it gives up (`busy`).
const MINT_WAIT: Duration = Duration::from_secs(30);

/// What the vault needs when it is on.
#[derive(Clone)]
pub struct VaultSettings {
    pub keyring: Keyring,
    /// The realm and confidential client (Heimdall's Keycloak sign-in).
    pub keycloak: ProviderSettings,
    /// Overrides `<public url>/v1/offline-token/callback` as the consent's redirect URI.
    pub consent_redirect_url: Option<String>,
}

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

    // ----- storing ----------------------------------------------------------------------------

    fn seal(&self, on: &On, token: &str, id: &str, subject: &str, kind: TokenKind) -> Sealed {
        on.keyring.seal(
            token,
            RowBinding {
                row_id: id,
                user: subject,
                kind: kind.as_str(),
            },
        )
    }

    async fn insert(
        &self,
        on: &On,
        subject: &str,
        kind: TokenKind,
        token: &SecretString,
        session_state: &str,
        attributes: &serde_json::Value,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = self.seal(on, token.expose_secret(), &id, subject, kind);
        self.0
            .store
            .insert(&NewToken {
                id: &id,
                subject,
                kind,
                sealed: &sealed,
                token_hash: &hash_secret(token.expose_secret()),
                session_state,
                attributes: &attributes.to_string(),
            })
            .await?;
        Ok(id)
    }

    async fn put_refresh(
        &self,
        on: &On,
        subject: &str,
        token: &SecretString,
        session_state: &str,
        attributes: &serde_json::Value,
    ) -> Result<String> {
        let id = self
            .0
            .store
            .put_refresh(
                subject,
                session_state,
                &attributes.to_string(),
                &hash_secret(token.expose_secret()),
                |id| self.seal(on, token.expose_secret(), id, subject, TokenKind::Refresh),
            )
            .await?;
        Ok(id)
    }

    async fn stored(&self, caller: &VaultCaller, meta: &RequestMeta, id: &str, kind: TokenKind, how: &str) {
        self.0
            .audit
            .record(
                AuditEvent::success(AuditAction::VaultTokenStored)
                    .by(caller.user_id, &caller.name)
                    .target(id)
                    .from(meta)
                    .detail(&format!("{} token, {how}", kind.as_str())),
            )
            .await;
    }

    /// `POST /v1/refresh-token`: keeps the caller's refresh token (one per user: replaces it).
    #[tracing::instrument(name = "vault.store_refresh", skip_all)]
    pub async fn store_refresh(
        &self,
        caller: &VaultCaller,
        meta: &RequestMeta,
        refresh_token: SecretString,
    ) -> Result<RefreshTokenIdResult> {
        let on = self.on()?;
        caller.may_change()?;
        if refresh_token.expose_secret().trim().is_empty() {
            return Err(VaultError::malformed("body.refresh_token", "must not be empty"));
        }
        // Whose token this is, before it is kept under the caller's name: one naming another
        // subject is somebody else's; one naming none (Keycloak's refresh tokens carry their
        // session, `sid`, not always `sub`) must belong to one of the caller's own Keycloak
        // sessions. A token that says neither cannot be told apart from a stolen one. (Claims
        // are read unverified: a forged token passes this but is refused by Keycloak at the
        // first mint, so it gains nothing.)
        let belongs = |ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(VaultError::new(
                    VaultCode::InvalidRequest,
                    "this refresh token belongs to another user",
                ))
            }
        };
        match (
            unverified_claim(refresh_token.expose_secret(), "sub"),
            unverified_claim(refresh_token.expose_secret(), "sid"),
        ) {
            (Some(sub), _) => belongs(sub == caller.subject)?,
            (None, Some(sid)) => {
                let (online, offline) = tokio::try_join!(
                    on.keycloak.user_sessions(&caller.subject),
                    on.keycloak.offline_sessions(&caller.subject)
                )?;
                belongs(online.iter().chain(&offline).any(|s| s.id == sid))?;
            }
            (None, None) => {
                return Err(VaultError::new(
                    VaultCode::InvalidRequest,
                    "this is not a Keycloak refresh token: it names neither its user nor its session",
                ));
            }
        }
        // The token's own Keycloak session (its `sid`), else the caller's (the seed's choice):
        // revoking or ending that session must find the token.
        let session = unverified_claim(refresh_token.expose_secret(), "sid")
            .or_else(|| caller.session_state.clone())
            .unwrap_or_default();
        let id = self
            .put_refresh(
                on,
                &caller.subject,
                &refresh_token,
                &session,
                &serde_json::json!({}),
            )
            .await?;
        self.stored(caller, meta, &id, TokenKind::Refresh, "given by its owner")
            .await;
        Ok(RefreshTokenIdResult {
            persistent_token_id: id,
        })
    }

    // ----- minting ------------------------------------------------------------------------------

    /// The in-process lock of one token row; mints of one row wait here first, so one replica
    /// sends one refresh at a time and the database lock is only contended across replicas.
    fn row_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .0
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(lock) = locks.get(id).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() > 1024 {
            locks.retain(|_, w| w.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(id.to_owned(), Arc::downgrade(&lock));
        lock
    }

    /// Opens the caller's row `id`, refreshes it at Keycloak and (with `keep_rotated`) writes
    /// the rotated token back, all under the row's lock. Returns the row as it was and
    /// Keycloak's answer.
    async fn refresh_row(
        &self,
        on: &On,
        caller: &VaultCaller,
        id: &str,
        keep_rotated: bool,
    ) -> Result<(TokenRow, TokenSet)> {
        let lock = self.row_lock(id);
        let _held = tokio::time::timeout(MINT_WAIT, lock.lock()).await.map_err(|_| {
            VaultError::new(
                VaultCode::Busy,
                "another mint of this token is taking too long; try again",
            )
        })?;
        let (row_lock, row) = self.0.store.lock_row(id).await?;
        let row = row
            .filter(|r| r.subject == caller.subject)
            .ok_or_else(VaultError::not_found)?;
        let token = on.keyring.open(&row.sealed(), row.binding())?;
        let set = on.keycloak.refresh(&token).await;
        metrics::counter!("heimdall_vault_mints_total", "outcome" => if set.is_ok() { "minted" } else { "refused" })
            .increment(1);
        let set = set?;
        let rewrite = set
            .refresh_token
            .as_ref()
            .filter(|_| keep_rotated)
            .map(|rotated| {
                let sealed = on.keyring.seal(rotated.expose_secret(), row.binding());
                (sealed, hash_secret(rotated.expose_secret()))
            });
        let session = set.session_state.clone().unwrap_or_default();
        let rewrite = rewrite.as_ref().map(|(sealed, hash)| Rewrite {
            sealed,
            token_hash: hash,
            session_state: &session,
        });
        self.0.store.rewrite(row_lock, id, rewrite.as_ref()).await?;
        Ok((row, set))
    }

    /// `POST /v1/access-token?id=`: a fresh access token from the caller's stored token.
    #[tracing::instrument(name = "vault.access_token", skip_all)]
    pub async fn access_token(&self, caller: &VaultCaller, id: &str) -> Result<AccessTokenResult> {
        let on = self.on()?;
        caller.may_change()?;
        let id = parse_id(id)?;
        let (_, set) = self.refresh_row(on, caller, &id, true).await?;
        Ok(AccessTokenResult {
            access_token: set.access_token.expose_secret().to_owned(),
            expires_in: set.expires_in,
        })
    }

    /// `POST /v1/offline-token-id`: a new offline token from the caller's offline token of this
    /// session (else their newest), stored as a new row.
    #[tracing::instrument(name = "vault.new_offline_token", skip_all)]
    pub async fn new_offline_token(
        &self,
        caller: &VaultCaller,
        meta: &RequestMeta,
    ) -> Result<OfflineTokenResult> {
        let on = self.on()?;
        caller.may_change()?;
        let source = self
            .0
            .store
            .newest(
                &caller.subject,
                TokenKind::Offline,
                caller.session_state.as_deref(),
            )
            .await?
            .ok_or_else(|| {
                VaultError::new(
                    VaultCode::TokenNotFound,
                    "No offline token was found to generate a new one",
                )
            })?;
        // The new token goes to a new row; the source keeps its own.
        let (source, set) = self.refresh_row(on, caller, &source.id, false).await?;
        let token = set
            .refresh_token
            .ok_or_else(|| VaultError::new(VaultCode::KeycloakError, "Could not generate new token"))?;
        let session = set.session_state.unwrap_or_else(|| source.session_state.clone());
        let id = self
            .insert(
                on,
                &caller.subject,
                TokenKind::Offline,
                &token,
                &session,
                &serde_json::json!({ "from": source.id }),
            )
            .await?;
        self.stored(caller, meta, &id, TokenKind::Offline, "from an offline token")
            .await;
        Ok(OfflineTokenResult {
            persistent_token_id: id,
            session_state_id: session,
        })
    }

    /// `POST /v1/refresh-token-id`: refreshes the caller's stored refresh token and keeps the
    /// rotated one in its place.
    #[tracing::instrument(name = "vault.new_refresh_token_id", skip_all)]
    pub async fn new_refresh_token_id(&self, caller: &VaultCaller) -> Result<RefreshTokenIdResult> {
        let on = self.on()?;
        caller.may_change()?;
        let row = self
            .0
            .store
            .newest(
                &caller.subject,
                TokenKind::Refresh,
                caller.session_state.as_deref(),
            )
            .await?
            .ok_or_else(|| {
                VaultError::new(
                    VaultCode::TokenNotFound,
                    "No refresh token was found with this session",
                )
            })?;
        let (row, set) = self.refresh_row(on, caller, &row.id, true).await?;
        if set.refresh_token.is_none() {
            return Err(VaultError::new(
                VaultCode::KeycloakError,
                "No refresh token was generated",
            ));
        }
        Ok(RefreshTokenIdResult {
            persistent_token_id: row.id,
        })
    }

    // ----- deleting ---------------------------------------------------------------------------

    /// `DELETE /v1/offline-token-id?id=`: deletes the caller's token and, when no other stored
    /// offline token shares its Keycloak session, ends that offline session. Keycloak is asked
    /// first: if it fails, nothing is deleted.
    #[tracing::instrument(name = "vault.revoke", skip_all)]
    pub async fn revoke(
        &self,
        caller: &VaultCaller,
        meta: &RequestMeta,
        id: &str,
    ) -> Result<OfflineTokenRevocation> {
        caller.may_change()?;
        let id = parse_id(id)?;
        let row = self
            .0
            .store
            .get(&id)
            .await?
            .filter(|r| r.subject == caller.subject)
            .ok_or_else(|| VaultError::new(VaultCode::TokenNotFound, "No offline token was found"))?;
        self.revoke_row(row, caller.user_id, &caller.name, meta).await
    }

    async fn revoke_row(
        &self,
        row: TokenRow,
        actor_id: Option<i64>,
        actor: &str,
        meta: &RequestMeta,
    ) -> Result<OfflineTokenRevocation> {
        let on = self.on()?;
        let shared = row.session_state.is_empty()
            || self
                .0
                .store
                .shares_session(&row.session_state, &row.id, TokenKind::Offline)
                .await?;
        let mut session_revoked = false;
        if row.kind() == TokenKind::Offline && !shared {
            session_revoked = on.keycloak.delete_session(&row.session_state, true).await?;
        }
        let deleted = self.0.store.delete(&row.id).await?;
        self.0
            .audit
            .record(
                AuditEvent::success(AuditAction::VaultTokenRevoked)
                    .by(actor_id, actor)
                    .target(&row.id)
                    .from(meta)
                    .detail(&format!(
                        "{} token of {}; Keycloak offline session {}",
                        row.kind().as_str(),
                        row.subject,
                        if session_revoked {
                            "ended"
                        } else {
                            "kept (shared or already gone)"
                        }
                    )),
            )
            .await;
        Ok(OfflineTokenRevocation {
            message: "Offline token revoked successfully".into(),
            persistent_token_id: row.id,
            token_deleted: deleted,
            session_revoked,
            had_shared_session: shared && !row.session_state.is_empty(),
        })
    }

    // ----- consent ----------------------------------------------------------------------------

    /// `GET /v1/offline-token`: the Keycloak URL where the caller grants offline access.
    /// `return_to` (the Vault page) makes the callback send the browser back there.
    #[tracing::instrument(name = "vault.start_consent", skip_all)]
    pub async fn start_consent(
        &self,
        caller: &VaultCaller,
        meta: &RequestMeta,
        return_to: Option<&str>,
    ) -> Result<OfflineConsentResult> {
        let on = self.on()?;
        caller.may_change()?;
        let metadata = on.keycloak.metadata().await?;
        let session = caller.session_state.clone().unwrap_or_default();
        let state = self
            .0
            .state_key
            .issue(&caller.subject, &session, &random_secret(""));
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = random_secret("");
        let redirect_uri = on.consent_redirect_url.clone().unwrap_or_else(|| {
            format!(
                "{}{CALLBACK_PATH}",
                meta.base_url(self.0.identity.settings().public_url.as_deref())
            )
        });
        self.0
            .store
            .insert_consent(
                &hash_secret(&state),
                &ConsentRow {
                    subject: caller.subject.clone(),
                    session_state: session.clone(),
                    pkce_verifier: verifier.secret().clone(),
                    nonce: nonce.clone(),
                    redirect_uri: redirect_uri.clone(),
                    return_to: return_to
                        .filter(|r| r.starts_with('/') && !r.starts_with("//"))
                        .map(str::to_owned),
                    expires_at: Utc::now() + chrono::Duration::seconds(CONSENT_TTL_SECS),
                },
            )
            .await?;
        let mut url = url::Url::parse(&metadata.authorization_endpoint).map_err(|e| {
            VaultError::new(
                VaultCode::KeycloakError,
                "Keycloak's authorization endpoint is not a URL",
            )
            .because(e.to_string())
        })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", on.keycloak.client_id())
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", "openid profile email offline_access")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        Ok(OfflineConsentResult {
            consent_url: url.to_string(),
            session_state_id: session,
            message: "Please visit the consent URL to authorize offline access".into(),
        })
    }

    /// `GET /v1/offline-token/callback`: checks the state (signature, expiry, once), exchanges
    /// the code, checks that the account that consented is the one that asked, and stores the
    /// offline token. Returns the result and where to send a browser, if anywhere.
    #[tracing::instrument(name = "vault.finish_consent", skip_all)]
    pub async fn finish_consent(
        &self,
        meta: &RequestMeta,
        callback: &ConsentCallback,
    ) -> (Result<OfflineTokenResult>, Option<String>) {
        let mut return_to = None;
        let result = self.finish_consent_inner(callback, &mut return_to).await;
        match &result {
            Ok(done) => {
                self.0
                    .audit
                    .record(
                        AuditEvent::success(AuditAction::VaultTokenStored)
                            .by(None, "keycloak-consent")
                            .target(&done.persistent_token_id)
                            .from(meta)
                            .detail("offline token, by consent"),
                    )
                    .await;
            }
            Err(e) => {
                self.0
                    .audit
                    .record(
                        AuditEvent::denied(AuditAction::VaultConsentRejected)
                            .from(meta)
                            .detail(&e.to_string()),
                    )
                    .await;
            }
        }
        (result, return_to)
    }

    async fn finish_consent_inner(
        &self,
        callback: &ConsentCallback,
        return_to: &mut Option<String>,
    ) -> Result<OfflineTokenResult> {
        let on = self.on()?;
        if let Some(error) = callback
            .error
            .as_deref()
            .or(callback.error_description.as_deref())
        {
            return Err(VaultError::new(
                VaultCode::KeycloakCallbackError,
                error.to_owned(),
            ));
        }
        let state = callback
            .state
            .as_deref()
            .ok_or_else(|| VaultError::malformed("query.state", "Field required"))?;
        let code = callback
            .code
            .as_deref()
            .ok_or_else(|| VaultError::malformed("query.code", "Field required"))?;
        let subject = self.0.state_key.verify(state).map_err(|why| {
            VaultError::new(VaultCode::InvalidAckState, "Ack state was tampered").because(why)
        })?;
        let pending = self
            .0
            .store
            .take_consent(&hash_secret(state))
            .await?
            .filter(|p| p.subject == subject && p.expires_at > Utc::now())
            .ok_or_else(|| {
                VaultError::new(VaultCode::InvalidAckState, "Ack state was tampered")
                    .because("this consent link was already used or has expired; start again")
            })?;
        return_to.clone_from(&pending.return_to);
        let set = on
            .keycloak
            .exchange_code(code, &pending.pkce_verifier, &pending.redirect_uri)
            .await
            .map_err(|e| VaultError::from(e).because("Could not generate offline token"))?;
        // The account that consented must be the one that asked: otherwise someone could have
        // their offline token stored under another user (or the other way round).
        let jwks = on.keycloak.jwks().await?;
        let id_token = set
            .id_token
            .as_deref()
            .ok_or_else(|| VaultError::new(VaultCode::KeycloakError, "Keycloak returned no ID token"))?;
        let claims = verify_id_token(
            id_token,
            &jwks,
            on.keycloak.issuer(),
            on.keycloak.client_id(),
            &pending.nonce,
        )
        .map_err(|e| {
            VaultError::new(VaultCode::KeycloakError, "the ID token did not verify").because(e.to_string())
        })?;
        if claims.sub != pending.subject {
            return Err(VaultError::new(
                VaultCode::Forbidden,
                "a different Keycloak account consented than the one that asked; sign in to Keycloak as yourself",
            ));
        }
        if !set.has_scope("offline_access") {
            return Err(
                VaultError::new(VaultCode::KeycloakError, "Keycloak did not grant offline access").because(
                    "the offline_access scope is missing: is it an optional client scope of the client?",
                ),
            );
        }
        let token = set.refresh_token.as_ref().ok_or_else(|| {
            VaultError::new(
                VaultCode::KeycloakError,
                "No refresh token received from Keycloak",
            )
        })?;
        let session = set.session_state.clone().unwrap_or(pending.session_state);
        let id = self
            .insert(
                on,
                &pending.subject,
                TokenKind::Offline,
                token,
                &session,
                &serde_json::json!({}),
            )
            .await?;
        Ok(OfflineTokenResult {
            persistent_token_id: id,
            session_state_id: session,
        })
    }

    // ----- the Vault page ---------------------------------------------------------------------

    /// The page's view of `subject`'s tokens and sessions: the caller's own, or (admins) anyone's.
    #[tracing::instrument(name = "vault.view", skip_all)]
    pub async fn view(&self, principal: &Principal, subject: Option<&str>) -> Result<VaultView> {
        principal.authorize(Permission::ViewOwnAccount)?;
        let is_admin = principal.authorize(Permission::Administer).is_ok();
        let mut view = VaultView {
            off_reason: self.off_reason().map(str::to_owned),
            subject: None,
            username: None,
            tokens: Vec::new(),
            sessions: Vec::new(),
            sessions_error: None,
            users: Vec::new(),
            is_admin,
        };
        if is_admin {
            view.users = self.users().await?;
        }
        let subject = match subject.filter(|s| !s.is_empty()) {
            Some(other) => {
                principal.authorize(Permission::Administer)?;
                other.to_owned()
            }
            None => match principal.actor_id() {
                Some(id) => match self.0.identity.store().linked_subject(id, "keycloak").await? {
                    Some(s) => s,
                    None => return Ok(view),
                },
                None => return Ok(view),
            },
        };
        view.username = self
            .0
            .identity
            .store()
            .find_linked_user("keycloak", &subject)
            .await?
            .map(|u| u.username);
        view.tokens = self
            .0
            .store
            .list(&subject)
            .await?
            .iter()
            .map(stored_token)
            .collect();
        if let Ok(on) = self.on() {
            match self.sessions_of(on, &subject).await {
                Ok(sessions) => view.sessions = sessions,
                Err(e) => view.sessions_error = Some(e.to_string()),
            }
        }
        view.subject = Some(subject);
        Ok(view)
    }

    async fn users(&self) -> Result<Vec<VaultUser>> {
        let mut users: Vec<VaultUser> = self
            .0
            .identity
            .store()
            .linked_users("keycloak")
            .await?
            .into_iter()
            .map(|(subject, username)| VaultUser {
                subject,
                username: Some(username),
                tokens: 0,
            })
            .collect();
        for (subject, count) in self.0.store.subjects().await? {
            match users.iter_mut().find(|u| u.subject == subject) {
                Some(user) => user.tokens = count,
                None => users.push(VaultUser {
                    subject,
                    username: None,
                    tokens: count,
                }),
            }
        }
        Ok(users)
    }

    async fn sessions_of(&self, on: &On, subject: &str) -> Result<Vec<KeycloakSession>> {
        let (online, offline) = tokio::join!(
            on.keycloak.user_sessions(subject),
            on.keycloak.offline_sessions(subject)
        );
        let mut sessions: Vec<KeycloakSession> = online?.into_iter().map(|s| session(s, false)).collect();
        sessions.extend(offline?.into_iter().map(|s| session(s, true)));
        Ok(sessions)
    }

    /// `subject` as the principal may act on it: their own, or anyone's for admins.
    async fn subject_for(&self, principal: &Principal, subject: Option<&str>) -> Result<VaultCaller> {
        match subject.filter(|s| !s.is_empty()) {
            Some(other) => {
                principal.authorize(Permission::Administer)?;
                Ok(VaultCaller {
                    subject: other.to_owned(),
                    session_state: None,
                    name: principal.display_name(),
                    user_id: principal.actor_id(),
                    principal: Some(principal.clone()),
                })
            }
            None => self.principal_caller(principal).await,
        }
    }

    /// Deletes a stored token from the Vault page (the owner, or an admin for anyone).
    #[tracing::instrument(name = "vault.revoke_for", skip_all)]
    pub async fn revoke_for(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        subject: Option<&str>,
        id: &str,
    ) -> Result<OfflineTokenRevocation> {
        let caller = self.subject_for(principal, subject).await?;
        self.revoke(&caller, meta, id).await
    }

    /// Starts the consent from the Vault page; the callback comes back to `/vault`.
    #[tracing::instrument(name = "vault.start_consent_for", skip_all)]
    pub async fn start_consent_for(&self, principal: &Principal, meta: &RequestMeta) -> Result<String> {
        let caller = self.principal_caller(principal).await?;
        Ok(self
            .start_consent(&caller, meta, Some("/vault"))
            .await?
            .consent_url)
    }

    /// Ends one of `subject`'s Keycloak sessions (the user's own, or anyone's for admins), and
    /// deletes the stored tokens that lived in it: they can never mint again.
    #[tracing::instrument(name = "vault.end_session", skip_all)]
    pub async fn end_session(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        subject: Option<&str>,
        session_id: &str,
        offline: bool,
    ) -> Result<u64> {
        let on = self.on()?;
        let caller = self.subject_for(principal, subject).await?;
        caller.may_change()?;
        let sessions = self.sessions_of(on, &caller.subject).await?;
        if !sessions
            .iter()
            .any(|s| s.id == session_id && s.offline == offline)
        {
            return Err(VaultError::new(
                VaultCode::TokenNotFound,
                "no such session of this user",
            ));
        }
        on.keycloak.delete_session(session_id, offline).await?;
        let dropped = if offline {
            self.0
                .store
                .delete_session_tokens(&caller.subject, session_id)
                .await?
        } else {
            0
        };
        self.0
            .audit
            .record(
                AuditEvent::success(AuditAction::VaultSessionRevoked)
                    .by(principal.actor_id(), &principal.display_name())
                    .target(session_id)
                    .from(meta)
                    .detail(&format!(
                        "{} session of {}; {dropped} stored token(s) deleted",
                        if offline { "offline" } else { "online" },
                        caller.subject
                    )),
            )
            .await;
        Ok(dropped)
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
