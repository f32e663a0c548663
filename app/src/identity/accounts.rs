//! Account operations shared by server functions and the seed REST routes: provider logins
//! that create or link users, self-registration, profile and password changes, personal API
//! tokens and sessions.

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use super::allowlist::check_password_length;
use super::authenticator::Authenticator;
use super::oauth::ProviderIdentity;
use super::password::{hash_password, verify_password};
use super::principal::{Permission, Principal, Via};
use super::request::RequestMeta;
use super::secrets::{API_TOKEN_PREFIX, hash_secret, random_secret};
use super::sign_in::login_action;
use crate::admin::Outcome;
use crate::db::{DbError, NewUser, UserPatch, UserRow};
use crate::error::AppError;
use crate::identity::{ApiTokenInfo, CurrentUser, NewApiToken, Role, SessionInfo, TokenScope};

/// Longest accepted display name, token name and the like.
const MAX_NAME_LEN: usize = 100;

impl Authenticator {
    /// Signs in (and if needed creates or links) the user a provider vouched for. A first
    /// login links an existing account with the same verified email, else creates one.
    pub async fn provider_login(
        &self,
        id: &ProviderIdentity,
        meta: &RequestMeta,
    ) -> Result<UserRow, AppError> {
        let action = login_action(id.method);
        self.check_allowed(&id.email, action, meta).await?;
        let provider = id.method.as_str();
        let Some(role) = id.role else {
            let message = format!("your {provider} account has no role that maps to a Heimdall role");
            self.audit(
                None,
                &id.email,
                action,
                &id.email,
                Outcome::Denied,
                meta,
                &message,
            )
            .await;
            return Err(AppError::forbidden(message));
        };
        let db = self.db();
        let mut user = if let Some(user) = db.find_linked_user(provider, &id.subject).await? {
            user
        } else if let Some(user) = db.find_user_by_email(&id.email).await? {
            db.link_identity(user.id, provider, &id.subject, Some(&id.email))
                .await?;
            self.audit(
                Some(user.id),
                &user.username,
                "user.linked",
                provider,
                Outcome::Success,
                meta,
                "",
            )
            .await;
            user
        } else {
            let user = db
                .insert_user(&NewUser {
                    username: id.email.clone(),
                    email: Some(id.email.clone()),
                    display_name: id
                        .name
                        .clone()
                        .or_else(|| id.preferred_username.clone())
                        .unwrap_or_default(),
                    password_hash: None,
                    role,
                })
                .await?;
            db.link_identity(user.id, provider, &id.subject, Some(&id.email))
                .await?;
            let detail = format!("first {provider} sign-in, role {role}");
            self.audit(
                Some(user.id),
                &user.username,
                "user.created",
                &user.username,
                Outcome::Success,
                meta,
                &detail,
            )
            .await;
            user
        };
        let sync = self
            .provider(id.method)
            .map(|p| p.settings().sync_role)
            .unwrap_or(false);
        if sync && user.role != role {
            let before = user.role;
            user = db
                .update_user(
                    user.id,
                    &UserPatch {
                        role: Some(role),
                        ..UserPatch::default()
                    },
                )
                .await?;
            let detail = format!("{before} → {role} (from {provider})");
            self.audit(
                Some(user.id),
                provider,
                "user.role_changed",
                &user.username,
                Outcome::Success,
                meta,
                &detail,
            )
            .await;
        }
        self.admit(&user, id.method, meta).await?;
        Ok(user)
    }

    /// Self-registration (`auth.registration_enabled`): a viewer with the given email.
    pub async fn register(
        &self,
        email: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<UserRow, AppError> {
        if !self.settings().registration_enabled {
            return Err(AppError::not_found("registration is switched off here"));
        }
        let email = email.trim().to_lowercase();
        if !looks_like_email(&email) {
            return Err(AppError::invalid(
                "email",
                "enter an email address such as name@example.com",
            ));
        }
        self.check_allowed(&email, "user.registered", meta).await?;
        let password_hash = self.new_password_hash(password).await?;
        let user = self
            .db()
            .insert_user(&NewUser {
                username: email.clone(),
                email: Some(email.clone()),
                display_name: String::new(),
                password_hash: Some(password_hash),
                role: Role::Viewer,
            })
            .await
            .map_err(|e| match e {
                DbError::Conflict(_) => AppError::conflict("a user with this email already exists"),
                other => other.into(),
            })?;
        self.audit(
            Some(user.id),
            &user.username,
            "user.registered",
            &user.username,
            Outcome::Success,
            meta,
            "",
        )
        .await;
        Ok(user)
    }

    /// Checks the configured minimum length and hashes (argon2id, off the runtime).
    pub async fn new_password_hash(&self, password: SecretString) -> Result<super::PasswordHash, AppError> {
        check_password_length(password.expose_secret(), self.settings().password_min_length)
            .map_err(|m| AppError::invalid("password", m))?;
        hash_password(password).await.map_err(AppError::internal)
    }

    /// The wire view of a user, with tenants.
    pub async fn current_user(&self, user: &UserRow) -> Result<CurrentUser, AppError> {
        let tenants = self.db().user_tenants(user.id).await?;
        Ok(CurrentUser {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            role: user.role,
            is_active: user.active,
            is_superuser: user.role == Role::Admin,
            is_verified: true,
            tenants,
            created_at: user.created_at,
            last_login_at: user.last_login_at,
        })
    }

    /// The signed-in user's own row.
    pub async fn me(&self, principal: &Principal) -> Result<UserRow, AppError> {
        Ok(self.db().find_user(principal.user_id()?).await?)
    }

    /// Changes one's own display name, email or password (the current password is needed
    /// to set a new one when the account has one).
    pub async fn update_me(
        &self,
        principal: &Principal,
        patch: SelfPatch,
        meta: &RequestMeta,
    ) -> Result<UserRow, AppError> {
        principal.authorize(Permission::OwnAccount)?;
        let user = self.me(principal).await?;
        let mut changes = UserPatch::default();
        if let Some(name) = patch.display_name {
            changes.display_name = Some(clean_name("display_name", &name, true)?);
        }
        if let Some(email) = patch.email {
            let email = email.trim().to_lowercase();
            if !looks_like_email(&email) {
                return Err(AppError::invalid(
                    "email",
                    "enter an email address such as name@example.com",
                ));
            }
            self.check_allowed(&email, "user.updated", meta).await?;
            changes.email = Some(Some(email));
        }
        if let Some(new_password) = patch.password {
            if let Some(hash) = user.password_hash.clone() {
                let current = patch.current_password.unwrap_or_else(|| SecretString::from(""));
                if !verify_password(current, hash).await {
                    return Err(AppError::invalid(
                        "current_password",
                        "the current password is wrong",
                    ));
                }
            }
            changes.password_hash = Some(self.new_password_hash(new_password).await?);
        }
        let updated = self
            .db()
            .update_user(user.id, &changes)
            .await
            .map_err(|e| match e {
                DbError::Conflict(_) => AppError::conflict("another user already has this email"),
                other => other.into(),
            })?;
        if changes.password_hash.is_some() {
            self.audit(
                Some(user.id),
                &user.username,
                "user.password_changed",
                &user.username,
                Outcome::Success,
                meta,
                "",
            )
            .await;
        }
        Ok(updated)
    }

    pub async fn my_sessions(&self, principal: &Principal) -> Result<Vec<SessionInfo>, AppError> {
        let current = match principal.via {
            Via::Cookie { session_id } | Via::Jwt { session_id } => Some(session_id),
            _ => None,
        };
        let mut sessions = self.db().list_sessions(principal.user_id()?).await?;
        for s in &mut sessions {
            s.current = Some(s.id) == current;
        }
        Ok(sessions)
    }

    pub async fn revoke_my_session(
        &self,
        principal: &Principal,
        id: i64,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        principal.authorize(Permission::OwnAccount)?;
        let user_id = principal.user_id()?;
        if !self.db().revoke_session(user_id, id).await? {
            return Err(AppError::not_found("no such active session"));
        }
        self.audit(
            Some(user_id),
            &principal.display_name(),
            "session.revoked",
            &format!("session {id}"),
            Outcome::Success,
            meta,
            "",
        )
        .await;
        Ok(())
    }

    /// "Sign out everywhere": every session and bearer JWT of the user, this one included.
    pub async fn revoke_all_my_sessions(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
    ) -> Result<u64, AppError> {
        principal.authorize(Permission::OwnAccount)?;
        let user_id = principal.user_id()?;
        let n = self.db().revoke_all_sessions(user_id).await?;
        let detail = format!("{n} session(s)");
        self.audit(
            Some(user_id),
            &principal.display_name(),
            "logout.everywhere",
            "",
            Outcome::Success,
            meta,
            &detail,
        )
        .await;
        Ok(n)
    }

    pub async fn my_tokens(&self, principal: &Principal) -> Result<Vec<ApiTokenInfo>, AppError> {
        Ok(self.db().list_api_tokens(principal.user_id()?).await?)
    }

    /// Creates a personal API token; the only time its secret is returned.
    pub async fn create_token(
        &self,
        principal: &Principal,
        name: &str,
        scope: TokenScope,
        expires_in_days: Option<u32>,
        meta: &RequestMeta,
    ) -> Result<NewApiToken, AppError> {
        principal.authorize(Permission::OwnAccount)?;
        // A token never mints another: a leaked read token must not become a write token.
        if matches!(principal.via, Via::ApiToken { .. }) {
            return Err(AppError::forbidden(
                "create API tokens from a signed-in session, not with another token",
            ));
        }
        let user_id = principal.user_id()?;
        let name = clean_name("name", name, false)?;
        if expires_in_days.is_some_and(|d| d == 0 || d > 3650) {
            return Err(AppError::invalid(
                "expires_in_days",
                "choose between 1 and 3650 days, or no expiry",
            ));
        }
        let token = random_secret(API_TOKEN_PREFIX);
        let hint: String = token.chars().take(API_TOKEN_PREFIX.len() + 4).collect();
        let expires_at = expires_in_days.map(|d| Utc::now() + chrono::Duration::days(i64::from(d)));
        let info = self
            .db()
            .insert_api_token(user_id, &name, &hash_secret(&token), &hint, scope, expires_at)
            .await?;
        let detail = format!("{} scope", scope.as_str());
        self.audit(
            Some(user_id),
            &principal.display_name(),
            "token.created",
            &name,
            Outcome::Success,
            meta,
            &detail,
        )
        .await;
        Ok(NewApiToken { token, info })
    }

    pub async fn revoke_token(
        &self,
        principal: &Principal,
        id: i64,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        principal.authorize(Permission::OwnAccount)?;
        let user_id = principal.user_id()?;
        if !self.db().revoke_api_token(user_id, id).await? {
            return Err(AppError::not_found("no such active token"));
        }
        self.audit(
            Some(user_id),
            &principal.display_name(),
            "token.revoked",
            &format!("token {id}"),
            Outcome::Success,
            meta,
            "",
        )
        .await;
        Ok(())
    }
}

/// The fields a user may change about themselves.
#[derive(Debug, Default)]
pub struct SelfPatch {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password: Option<SecretString>,
    pub current_password: Option<SecretString>,
}

/// A trimmed, bounded, printable name; `allow_empty` for optional ones.
pub fn clean_name(field: &str, value: &str, allow_empty: bool) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() && !allow_empty {
        return Err(AppError::invalid(field, "enter a name"));
    }
    if value.chars().count() > MAX_NAME_LEN {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_NAME_LEN} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::invalid(field, "no control characters"));
    }
    Ok(value.to_owned())
}

/// Good enough to catch typos; the provider or a mail link is the real proof.
pub fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email.len() <= 254
        }
        None => false,
    }
}
