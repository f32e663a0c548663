//! Password sign-in with brute-force backoff, and the checks every sign-in path shares once the
//! credentials are good (active account, allow-lists), with their audit entries.

use std::time::Instant;

use secrecy::{ExposeSecret, SecretString};

use super::authenticator::Authenticator;
use super::password::{hash_password, verify_password};
use super::request::RequestMeta;
use super::throttle::Locked;
use crate::admin::Outcome;
use crate::db::UserRow;
use crate::error::AppError;
use crate::identity::LoginMethod;

impl Authenticator {
    /// Checks a username (or email) and password. Unknown users cost the same argon2
    /// verification as known ones; failures count towards per-account and per-address locks.
    pub async fn password_login(
        &self,
        username: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<UserRow, AppError> {
        let username = username.trim();
        if username.is_empty() || password.expose_secret().is_empty() {
            return Err(AppError::invalid("username", "enter a username and a password"));
        }
        let now = Instant::now();
        if let Err(locked) = self.0.throttle.check(username, &meta.ip, now) {
            let (what, left) = match locked {
                Locked::Account(d) => ("this account", d),
                Locked::Address(d) => ("your address", d),
            };
            let secs = left.as_secs().max(1);
            let message = format!("too many failed sign-ins for {what}; try again in {secs} s");
            self.audit(
                None,
                username,
                "login.password",
                username,
                Outcome::Denied,
                meta,
                &message,
            )
            .await;
            return Err(AppError::RateLimited {
                retry_after_secs: secs,
                message,
            });
        }
        let user = self.find_login_user(username).await?;
        let verified = match user.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(hash) => verify_password(password, hash).await,
            None => {
                let dummy = self
                    .0
                    .dummy_hash
                    .get_or_try_init(|| hash_password(SecretString::from("not a real password")))
                    .await
                    .map_err(AppError::internal)?;
                verify_password(password, dummy.clone()).await;
                false
            }
        };
        let Some(user) = user.filter(|_| verified) else {
            self.0.throttle.record_failure(username, &meta.ip, now);
            let detail = "wrong username or password";
            self.audit(
                None,
                username,
                "login.password",
                username,
                Outcome::Failure,
                meta,
                detail,
            )
            .await;
            return Err(AppError::unauthenticated(detail));
        };
        self.admit(&user, LoginMethod::Password, meta).await?;
        self.0.throttle.record_success(username);
        Ok(user)
    }

    async fn find_login_user(&self, username: &str) -> Result<Option<UserRow>, AppError> {
        match self.0.db.find_user_by_username(username).await {
            Ok(user) => Ok(Some(user)),
            Err(crate::db::DbError::NotFound) if username.contains('@') => {
                Ok(self.0.db.find_user_by_email(username).await?)
            }
            Err(crate::db::DbError::NotFound) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// The checks every login path shares once the credentials are good: the account is
    /// active and its email passes the allow-lists. Records the outcome.
    pub async fn admit(
        &self,
        user: &UserRow,
        method: LoginMethod,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let action = login_action(method);
        if !user.active {
            let message = "this account is deactivated; ask an administrator";
            self.audit(
                Some(user.id),
                &user.username,
                action,
                &user.username,
                Outcome::Denied,
                meta,
                message,
            )
            .await;
            return Err(AppError::forbidden(message));
        }
        if let Some(email) = &user.email {
            self.check_allowed(email, action, meta).await?;
        }
        self.0.db.touch_last_login(user.id).await?;
        self.audit(
            Some(user.id),
            &user.username,
            action,
            &user.username,
            Outcome::Success,
            meta,
            "",
        )
        .await;
        tracing::info!(user = %user.username, method = method.as_str(), "signed in");
        Ok(())
    }

    /// The allow-lists, with an audit entry when they refuse.
    pub async fn check_allowed(
        &self,
        email: &str,
        action: &'static str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        if self.0.settings.allow_list.permits(email) {
            return Ok(());
        }
        let message = format!("{email} is not allowed to sign in here");
        self.audit(
            None,
            email,
            action,
            email,
            Outcome::Denied,
            meta,
            "not on the allow-list",
        )
        .await;
        Err(AppError::forbidden(message))
    }
}

pub fn login_action(method: LoginMethod) -> &'static str {
    match method {
        LoginMethod::Password => "login.password",
        LoginMethod::Google => "login.google",
        LoginMethod::Keycloak => "login.keycloak",
    }
}
