//! The Vault page's operations: the view of a user's tokens and sessions, and the page's own
//! revoke, consent and end-session on behalf of the signed-in user (or, for admins, anyone).

use super::*;

impl VaultService {
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

    pub(super) async fn users(&self) -> Result<Vec<VaultUser>> {
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

    pub(super) async fn sessions_of(&self, on: &On, subject: &str) -> Result<Vec<KeycloakSession>> {
        let (online, offline) = tokio::join!(
            on.keycloak.user_sessions(subject),
            on.keycloak.offline_sessions(subject)
        );
        let mut sessions: Vec<KeycloakSession> = online?.into_iter().map(|s| session(s, false)).collect();
        sessions.extend(offline?.into_iter().map(|s| session(s, true)));
        Ok(sessions)
    }

    /// `subject` as the principal may act on it: their own, or anyone's for admins.
    pub(super) async fn subject_for(
        &self,
        principal: &Principal,
        subject: Option<&str>,
    ) -> Result<VaultCaller> {
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
}
