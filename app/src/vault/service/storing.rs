//! Storing tokens: sealing them to their row, the seed's `POST /v1/refresh-token` (one refresh
//! token per Keycloak session, kept in place), and the audit of what was stored.

use super::*;

impl VaultService {
    pub(super) fn seal(&self, on: &On, token: &str, id: &str, subject: &str, kind: TokenKind) -> Sealed {
        on.keyring.seal(
            token,
            RowBinding {
                row_id: id,
                user: subject,
                kind: kind.as_str(),
            },
        )
    }

    pub(super) async fn insert(
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

    pub(super) async fn put_refresh(
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

    pub(super) async fn stored(
        &self,
        caller: &VaultCaller,
        meta: &RequestMeta,
        id: &str,
        kind: TokenKind,
        how: &str,
    ) {
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
}
