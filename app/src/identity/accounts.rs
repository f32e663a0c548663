//! Account operations shared by server functions and the seed REST routes: provider logins
//! that create or link users, self-registration, profile and password changes (the caller's
//! links, sessions and tokens are `credentials.rs`). A change that spans rows (a user, a link,
//! its audit entry) is one transaction.

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use super::allowlist::check_password_length;
use super::error::{IdentityError, Result};
use super::oauth::ProviderIdentity;
use super::password::{PasswordHash, hash_password, verify_password};
use super::principal::{Permission, Principal, Via};
use super::service::IdentityService;
use super::sign_in::login_action;
use super::store::{NewUser, UserPatch, UserRow};
use crate::audit::{AuditAction, AuditEvent};
use crate::error::FieldError;
use crate::identity::{CurrentUser, LoginMethod, Role};
use crate::request::RequestMeta;

/// How recent a provider sign-in must be to stand in for the password of an account without
/// one (changing its email).
const FRESH_SIGN_IN_MINUTES: i64 = 10;

/// Longest accepted display name, token name and the like.
const MAX_NAME_LEN: usize = 100;

impl IdentityService {
    /// Signs in (and if needed creates or links) the user a provider vouched for. A first
    /// login links an existing account with the same verified email, else creates one.
    #[tracing::instrument(name = "identity.provider_login", skip_all, fields(provider = id.method.as_str()), err(level = "info"))]
    pub async fn provider_login(&self, id: &ProviderIdentity, meta: &RequestMeta) -> Result<UserRow> {
        let action = login_action(id.method);
        self.check_allowed(&id.email, action, meta).await?;
        let provider = id.method.as_str();
        let Some(role) = id.role else {
            let message = format!("your {provider} account has no role that maps to a Heimdall role");
            self.audit()
                .record(
                    AuditEvent::denied(action)
                        .by(None, &id.email)
                        .target(&id.email)
                        .from(meta)
                        .detail(&message),
                )
                .await;
            return Err(IdentityError::Refused(message));
        };
        let store = self.store();
        let mut user = if let Some(user) = store.find_linked_user(provider, &id.subject).await? {
            user
        } else if let Some(user) = store.find_user_by_email(&id.email).await? {
            // An account with this email exists. Only an email an admin set links by itself;
            // one the user typed in proves nothing (anyone can type the boss's address). The
            // holder links the provider from the account page instead, signed in to it.
            if !user.email_verified {
                let message = format!(
                    "an account with the email {} already exists here: sign in to it, then link {provider} on your account page (or ask an admin)",
                    id.email
                );
                self.audit()
                    .record(
                        AuditEvent::denied(action)
                            .by(None, &id.email)
                            .target(&user.username)
                            .from(meta)
                            .detail(&format!(
                                "{provider} identity not linked: the account's email was not set by an admin"
                            )),
                    )
                    .await;
                return Err(IdentityError::Refused(message));
            }
            self.link(&user, id, "by the email an admin set", meta).await?;
            user
        } else {
            let mut tx = store.db().begin().await?;
            let user = store
                .insert_user_in(
                    &mut tx,
                    &NewUser {
                        username: id.email.clone(),
                        email: Some(id.email.clone()),
                        display_name: id
                            .name
                            .clone()
                            .or_else(|| id.preferred_username.clone())
                            .unwrap_or_default(),
                        password_hash: None,
                        role,
                    },
                )
                .await?;
            store
                .link_identity_in(&mut tx, user.id, provider, &id.subject, Some(&id.email))
                .await?;
            let event = AuditEvent::success(AuditAction::UserCreated)
                .by(Some(user.id), &user.username)
                .target(&user.username)
                .from(meta)
                .detail(&format!("first {provider} sign-in, role {role}"));
            self.audit().record_in(&mut tx, &event).await?;
            tx.commit().await?;
            user
        };
        let sync = self
            .provider(id.method)
            .map(|p| p.settings().sync_role)
            .unwrap_or(false);
        if sync && user.role != role {
            let before = user.role;
            let mut tx = store.db().begin().await?;
            user = store
                .update_user_in(
                    &mut tx,
                    user.id,
                    &UserPatch {
                        role: Some(role),
                        ..UserPatch::default()
                    },
                )
                .await?;
            let event = AuditEvent::success(AuditAction::UserRoleChanged)
                .by(Some(user.id), provider)
                .target(&user.username)
                .from(meta)
                .detail(&format!("{before} → {role} (from {provider})"));
            self.audit().record_in(&mut tx, &event).await?;
            tx.commit().await?;
        }
        self.admit(&user, id.method, meta).await?;
        Ok(user)
    }

    /// Links a provider identity to the account of the signed-in user who started the sign-in
    /// from the account page (`start_provider_link`): the person holds both. Refused when the
    /// browser is no longer signed in as that user, or the identity belongs to someone else.
    #[tracing::instrument(name = "identity.link_provider", skip_all, fields(provider = id.method.as_str()), err(level = "info"))]
    pub async fn link_provider(
        &self,
        principal: &Principal,
        id: &ProviderIdentity,
        meta: &RequestMeta,
    ) -> Result<UserRow> {
        principal.authorize(Permission::OwnAccount)?;
        let user_id = principal.user_id()?;
        if id.link_user != Some(user_id) {
            return Err(IdentityError::Refused(
                "this link was started by another account: sign in to yours and start again".into(),
            ));
        }
        let provider = id.method.as_str();
        let store = self.store();
        if let Some(holder) = store.find_linked_user(provider, &id.subject).await? {
            if holder.id == user_id {
                return Ok(holder);
            }
            return Err(IdentityError::Refused(format!(
                "this {provider} account is already linked to another Heimdall account"
            )));
        }
        if store.linked_subject(user_id, provider).await?.is_some() {
            return Err(IdentityError::Refused(format!(
                "your account is already linked to another {provider} account"
            )));
        }
        let user = store.find_user(user_id).await?;
        self.link(&user, id, "signed in to both", meta).await?;
        Ok(user)
    }

    /// Links the provider identity to `user`, with its audit entry saying why, in one
    /// transaction.
    async fn link(&self, user: &UserRow, id: &ProviderIdentity, why: &str, meta: &RequestMeta) -> Result<()> {
        let provider = id.method.as_str();
        let store = self.store();
        let mut tx = store.db().begin().await?;
        store
            .link_identity_in(&mut tx, user.id, provider, &id.subject, Some(&id.email))
            .await?;
        let event = AuditEvent::success(AuditAction::UserLinked)
            .by(Some(user.id), &user.username)
            .target(provider)
            .from(meta)
            .detail(why);
        self.audit().record_in(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Self-registration (`auth.registration_enabled`): a viewer with the given email.
    #[tracing::instrument(name = "identity.register", skip_all, err(level = "info"))]
    pub async fn register(&self, email: &str, password: SecretString, meta: &RequestMeta) -> Result<UserRow> {
        if !self.settings().registration_enabled {
            return Err(IdentityError::NotFound(
                "registration is switched off here".into(),
            ));
        }
        let email = email.trim().to_lowercase();
        if !looks_like_email(&email) {
            return Err(FieldError::new("email", "enter an email address such as name@example.com").into());
        }
        self.check_allowed(&email, AuditAction::UserRegistered, meta)
            .await?;
        let password_hash = self.new_password_hash(password).await?;
        let store = self.store();
        let mut tx = store.db().begin().await?;
        let user = store
            .insert_user_in(
                &mut tx,
                &NewUser {
                    username: email.clone(),
                    email: Some(email.clone()),
                    display_name: String::new(),
                    password_hash: Some(password_hash),
                    role: Role::Viewer,
                },
            )
            .await
            .map_err(IdentityError::conflict_as(
                "a user with this email already exists",
            ))?;
        let event = AuditEvent::success(AuditAction::UserRegistered)
            .by(Some(user.id), &user.username)
            .target(&user.username)
            .from(meta);
        self.audit().record_in(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Checks the configured minimum length and hashes (argon2id, off the runtime).
    pub async fn new_password_hash(&self, password: SecretString) -> Result<PasswordHash> {
        check_password_length(password.expose_secret(), self.settings().password_min_length)
            .map_err(|m| FieldError::new("password", m))?;
        hash_password(password).await.map_err(IdentityError::Internal)
    }

    /// The wire view of a user, with tenants.
    pub async fn current_user(&self, user: &UserRow) -> Result<CurrentUser> {
        let tenants = self.store().user_tenants(user.id).await?;
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
    pub async fn me(&self, principal: &Principal) -> Result<UserRow> {
        Ok(self.store().find_user(principal.user_id()?).await?)
    }

    /// The signed-in user's wire view.
    pub async fn my_account(&self, principal: &Principal) -> Result<CurrentUser> {
        self.current_user(&self.me(principal).await?).await
    }

    /// Changes one's own display name, email or password (the current password is needed
    /// to set a new one when the account has one).
    #[tracing::instrument(name = "identity.update_me", skip_all, fields(user = %principal.display_name()), err(level = "info"))]
    pub async fn update_me(
        &self,
        principal: &Principal,
        patch: SelfPatch,
        meta: &RequestMeta,
    ) -> Result<UserRow> {
        principal.authorize(Permission::OwnAccount)?;
        let user = self.me(principal).await?;
        let mut changes = UserPatch::default();
        if let Some(name) = patch.display_name {
            changes.display_name = Some(clean_name("display_name", &name, true)?);
        }
        let current_session = match principal.via {
            Via::Cookie { session_id } | Via::Jwt { session_id } => Some(session_id),
            _ => None,
        };
        let mut email_changed = false;
        if let Some(email) = patch.email {
            let email = email.trim().to_lowercase();
            if !looks_like_email(&email) {
                return Err(
                    FieldError::new("email", "enter an email address such as name@example.com").into(),
                );
            }
            if user.email.as_deref() != Some(email.as_str()) {
                // An email names the account to providers and to password resets: only the
                // person, proven again, may change it — never a token that leaked.
                if matches!(principal.via, Via::ApiToken { .. } | Via::AdminToken) {
                    return Err(IdentityError::Refused(
                        "an email is changed signed in, not with an API token".into(),
                    ));
                }
                self.prove_again(&user, current_session, patch.current_password.clone())
                    .await?;
                self.check_allowed(&email, AuditAction::UserUpdated, meta).await?;
                changes.email = Some(Some(email));
                // The user typed it: Heimdall cannot vouch for it.
                changes.email_verified = Some(false);
                email_changed = true;
            }
        }
        if let Some(new_password) = patch.password {
            if let Some(hash) = user.password_hash.clone() {
                let current = patch.current_password.unwrap_or_else(|| SecretString::from(""));
                if !verify_password(current, hash).await {
                    return Err(FieldError::new("current_password", "the current password is wrong").into());
                }
            }
            changes.password_hash = Some(self.new_password_hash(new_password).await?);
        }
        let store = self.store();
        let mut tx = store.db().begin().await?;
        let updated = store
            .update_user_in(&mut tx, user.id, &changes)
            .await
            .map_err(IdentityError::conflict_as("another user already has this email"))?;
        if changes.password_hash.is_some() {
            let event = AuditEvent::success(AuditAction::UserPasswordChanged)
                .by(Some(user.id), &user.username)
                .target(&user.username)
                .from(meta);
            self.audit().record_in(&mut tx, &event).await?;
        }
        if email_changed {
            let event = AuditEvent::success(AuditAction::UserUpdated)
                .by(Some(user.id), &user.username)
                .target(&user.username)
                .from(meta)
                .detail("email changed; other sessions ended");
            self.audit().record_in(&mut tx, &event).await?;
        }
        // A new password or email ends every other session: whoever else held one is out.
        if changes.password_hash.is_some() || email_changed {
            store
                .revoke_other_sessions_in(&mut tx, user.id, current_session)
                .await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    /// The person behind a sensitive change proves it again: the current password when the
    /// account has one, else a provider sign-in within the last `FRESH_SIGN_IN_MINUTES`.
    async fn prove_again(
        &self,
        user: &UserRow,
        session: Option<i64>,
        current_password: Option<SecretString>,
    ) -> Result<()> {
        if let Some(hash) = user.password_hash.clone() {
            let current = current_password.unwrap_or_else(|| SecretString::from(""));
            if verify_password(current, hash).await {
                return Ok(());
            }
            return Err(FieldError::new("current_password", "the current password is wrong").into());
        }
        let fresh = match session {
            Some(id) => self
                .store()
                .session_origin(id)
                .await?
                .is_some_and(|(method, at)| {
                    method != LoginMethod::Password.as_str()
                        && Utc::now() - at < chrono::Duration::minutes(FRESH_SIGN_IN_MINUTES)
                }),
            None => false,
        };
        if fresh {
            Ok(())
        } else {
            Err(FieldError::new(
                "current_password",
                format!(
                    "sign in with your provider again (within {FRESH_SIGN_IN_MINUTES} minutes) to change this"
                ),
            )
            .into())
        }
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
pub fn clean_name(field: &'static str, value: &str, allow_empty: bool) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() && !allow_empty {
        return Err(FieldError::new(field, "enter a name"));
    }
    if value.chars().count() > MAX_NAME_LEN {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_NAME_LEN} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, "no control characters"));
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
