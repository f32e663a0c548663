//! The signed-in caller's own credentials: linked sign-in providers, sessions (list, end one,
//! end all) and personal API tokens (list, create, revoke).

use chrono::Utc;

use super::accounts::clean_name;
use super::error::{IdentityError, Result};
use super::principal::{Permission, Principal, Via};
use super::secrets::{API_TOKEN_PREFIX, hash_secret, random_secret};
use super::service::IdentityService;
use crate::audit::{AuditAction, AuditEvent};
use crate::error::FieldError;
use crate::identity::{ApiTokenInfo, LinkedIdentity, NewApiToken, SessionInfo, TokenScope};
use crate::request::RequestMeta;

impl IdentityService {
    pub async fn my_links(&self, principal: &Principal) -> Result<Vec<LinkedIdentity>> {
        Ok(self.store().list_links(principal.user_id()?).await?)
    }

    pub async fn my_sessions(&self, principal: &Principal) -> Result<Vec<SessionInfo>> {
        let current = match principal.via {
            Via::Cookie { session_id } | Via::Jwt { session_id } => Some(session_id),
            _ => None,
        };
        let mut sessions = self.store().list_sessions(principal.user_id()?).await?;
        for s in &mut sessions {
            s.current = Some(s.id) == current;
        }
        Ok(sessions)
    }

    #[tracing::instrument(name = "identity.revoke_my_session", skip_all, fields(session = id), err(level = "info"))]
    pub async fn revoke_my_session(&self, principal: &Principal, id: i64, meta: &RequestMeta) -> Result<()> {
        principal.authorize(Permission::OwnAccount)?;
        let user_id = principal.user_id()?;
        if !self.store().revoke_session(user_id, id).await? {
            return Err(IdentityError::NotFound("no such active session".into()));
        }
        self.audit()
            .record(
                AuditEvent::success(AuditAction::SessionRevoked)
                    .by(Some(user_id), &principal.display_name())
                    .target(&format!("session {id}"))
                    .from(meta),
            )
            .await;
        Ok(())
    }

    /// "Sign out everywhere": every session and bearer JWT of the user, this one included.
    #[tracing::instrument(name = "identity.revoke_all_my_sessions", skip_all, err(level = "info"))]
    pub async fn revoke_all_my_sessions(&self, principal: &Principal, meta: &RequestMeta) -> Result<u64> {
        principal.authorize(Permission::OwnAccount)?;
        let user_id = principal.user_id()?;
        let store = self.store();
        let mut tx = store.db().begin().await?;
        let n = store.revoke_all_sessions_in(&mut tx, user_id).await?;
        let event = AuditEvent::success(AuditAction::LogoutEverywhere)
            .by(Some(user_id), &principal.display_name())
            .from(meta)
            .detail(&format!("{n} session(s)"));
        self.audit().record_in(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub async fn my_tokens(&self, principal: &Principal) -> Result<Vec<ApiTokenInfo>> {
        Ok(self.store().list_api_tokens(principal.user_id()?).await?)
    }

    /// Creates a personal API token; the only time its secret is returned.
    #[tracing::instrument(name = "identity.create_token", skip_all, fields(scope = scope.as_str()), err(level = "info"))]
    pub async fn create_token(
        &self,
        principal: &Principal,
        name: &str,
        scope: TokenScope,
        expires_in_days: Option<u32>,
        meta: &RequestMeta,
    ) -> Result<NewApiToken> {
        principal.authorize(Permission::OwnAccount)?;
        // Only a browser session mints a token: a leaked read token must not become a write
        // token, and a 15-minute bearer JWT must not become a token that outlives it by years.
        if !matches!(principal.via, Via::Cookie { .. }) {
            return Err(IdentityError::Refused(
                "create API tokens from a signed-in browser session, not with a token".into(),
            ));
        }
        let user_id = principal.user_id()?;
        let name = clean_name("name", name, false)?;
        let cap = self.settings().api_token_max_days;
        // Unsaid: the longest allowed.
        let expires_in_days = expires_in_days.or((cap > 0).then_some(cap));
        let longest = if cap > 0 { cap } else { 3650 };
        if expires_in_days.is_some_and(|d| d == 0 || d > longest) {
            return Err(FieldError::new(
                "expires_in_days",
                format!("choose between 1 and {longest} days (auth.api_token_max_days)"),
            )
            .into());
        }
        let token = random_secret(API_TOKEN_PREFIX);
        let hint: String = token.chars().take(API_TOKEN_PREFIX.len() + 4).collect();
        let expires_at = expires_in_days.map(|d| Utc::now() + chrono::Duration::days(i64::from(d)));
        let info = self
            .store()
            .insert_api_token(user_id, &name, &hash_secret(&token), &hint, scope, expires_at)
            .await?;
        self.audit()
            .record(
                AuditEvent::success(AuditAction::TokenCreated)
                    .by(Some(user_id), &principal.display_name())
                    .target(&name)
                    .from(meta)
                    .detail(&format!("{} scope", scope.as_str())),
            )
            .await;
        Ok(NewApiToken { token, info })
    }

    #[tracing::instrument(name = "identity.revoke_token", skip_all, fields(token = id), err(level = "info"))]
    pub async fn revoke_token(&self, principal: &Principal, id: i64, meta: &RequestMeta) -> Result<()> {
        principal.authorize(Permission::OwnAccount)?;
        let user_id = principal.user_id()?;
        if !self.store().revoke_api_token(user_id, id).await? {
            return Err(IdentityError::NotFound("no such active token".into()));
        }
        self.audit()
            .record(
                AuditEvent::success(AuditAction::TokenRevoked)
                    .by(Some(user_id), &principal.display_name())
                    .target(&format!("token {id}"))
                    .from(meta),
            )
            .await;
        Ok(())
    }
}
