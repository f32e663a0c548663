//! Minting: an access token from a stored refresh or offline token (one refresh at a time per
//! row, the rotated token stored back), and new offline and refresh token ids.

use super::*;

impl VaultService {
    /// The in-process lock of one token row; mints of one row wait here first, so one replica
    /// sends one refresh at a time and the database lock is only contended across replicas.
    pub(super) fn row_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
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
    pub(super) async fn refresh_row(
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
}
