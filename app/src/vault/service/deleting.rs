//! Deleting a stored token, and with the last one of a Keycloak offline session, the session.

use super::*;

impl VaultService {
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

    pub(super) async fn revoke_row(
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
}
