//! Password sign-in with brute-force backoff, and the checks every sign-in path shares once the
//! credentials are good (active account, allow-lists), with their audit entries.

use secrecy::{ExposeSecret, SecretString};

use super::error::{IdentityError, Result};
use super::password::{hash_password, verify_password};
use super::service::IdentityService;
use super::store::UserRow;
use super::throttle::{Locked, now_ms};
use crate::audit::{AuditAction, AuditEvent};
use crate::db::DbError;
use crate::error::FieldError;
use crate::identity::LoginMethod;
use crate::request::RequestMeta;

/// What a wrong username and a wrong password both answer, so neither is revealed.
const WRONG_CREDENTIALS: &str = "wrong username or password";

impl IdentityService {
    /// Checks a username (or email) and password. Unknown users cost the same argon2
    /// verification as known ones; failures count towards per-account and per-address locks.
    #[tracing::instrument(name = "identity.password_login", skip_all, fields(username = %username.trim()), err(level = "info"))]
    pub async fn password_login(
        &self,
        username: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<UserRow> {
        let username = username.trim();
        if username.is_empty() || password.expose_secret().is_empty() {
            return Err(FieldError::new("username", "enter a username and a password").into());
        }
        let now = now_ms();
        // One lock per account, whichever name it is asked by: an existing account counts
        // under its username, so its email does not bring a fresh allowance.
        let user = self.find_login_user(username).await?;
        let account = user.as_ref().map_or(username, |u| u.username.as_str()).to_owned();
        if let Err(locked) = self.0.throttle.check(&account, &meta.ip, now).await? {
            let (what, left) = match locked {
                Locked::Account(d) => ("this account", d),
                Locked::Address(d) => ("your address", d),
            };
            let err = IdentityError::Locked {
                what,
                retry_after_secs: left.as_secs().max(1),
            };
            self.audit()
                .record(
                    AuditEvent::denied(AuditAction::LoginPassword)
                        .by(None, username)
                        .target(username)
                        .from(meta)
                        .detail(&err.to_string()),
                )
                .await;
            return Err(err);
        }
        let verified = match user.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(hash) => verify_password(password, hash).await,
            None => {
                let dummy = self
                    .0
                    .dummy_hash
                    .get_or_try_init(|| hash_password(SecretString::from("not a real password")))
                    .await
                    .map_err(IdentityError::Internal)?;
                verify_password(password, dummy.clone()).await;
                false
            }
        };
        let Some(user) = user.filter(|_| verified) else {
            self.0.throttle.record_failure(&account, &meta.ip, now).await?;
            self.audit()
                .record(
                    AuditEvent::failure(AuditAction::LoginPassword)
                        .by(None, username)
                        .target(username)
                        .from(meta)
                        .detail(WRONG_CREDENTIALS),
                )
                .await;
            return Err(IdentityError::BadCredentials(WRONG_CREDENTIALS.into()));
        };
        self.admit(&user, LoginMethod::Password, meta).await?;
        self.0.throttle.record_success(&account).await?;
        Ok(user)
    }

    async fn find_login_user(&self, username: &str) -> Result<Option<UserRow>> {
        let store = self.store();
        match store.find_user_by_username(username).await {
            Ok(user) => Ok(Some(user)),
            Err(DbError::NotFound) if username.contains('@') => {
                Ok(store.find_user_by_email(username).await?)
            }
            Err(DbError::NotFound) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// The checks every login path shares once the credentials are good: the account is
    /// active and its email passes the allow-lists. Records the outcome.
    pub async fn admit(&self, user: &UserRow, method: LoginMethod, meta: &RequestMeta) -> Result<()> {
        let action = login_action(method);
        let event = |e: AuditEvent| {
            e.by(Some(user.id), &user.username)
                .target(&user.username)
                .from(meta)
        };
        if !user.active {
            let message = "this account is deactivated; ask an administrator";
            self.audit()
                .record(event(AuditEvent::denied(action)).detail(message))
                .await;
            return Err(IdentityError::Refused(message.into()));
        }
        if let Some(email) = &user.email {
            self.check_allowed(email, action, meta).await?;
        }
        self.store().touch_last_login(user.id).await?;
        self.audit().record(event(AuditEvent::success(action))).await;
        tracing::info!(user = %user.username, method = method.as_str(), "signed in");
        Ok(())
    }

    /// The allow-lists, with an audit entry when they refuse.
    pub async fn check_allowed(&self, email: &str, action: AuditAction, meta: &RequestMeta) -> Result<()> {
        if self.settings().allow_list.permits(email) {
            return Ok(());
        }
        self.audit()
            .record(
                AuditEvent::denied(action)
                    .by(None, email)
                    .target(email)
                    .from(meta)
                    .detail("not on the allow-list"),
            )
            .await;
        Err(IdentityError::Refused(format!(
            "{email} is not allowed to sign in here"
        )))
    }
}

/// The audit action of a sign-in by `method`.
pub fn login_action(method: LoginMethod) -> AuditAction {
    match method {
        LoginMethod::Password => AuditAction::LoginPassword,
        LoginMethod::Google => AuditAction::LoginGoogle,
        LoginMethod::Keycloak => AuditAction::LoginKeycloak,
    }
}
