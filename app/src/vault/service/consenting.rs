//! The offline-access consent: where to send the user, and the callback that stores the token
//! (the account that consented must be the one that asked).

use super::*;

impl VaultService {
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

    pub(super) async fn finish_consent_inner(
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
}
