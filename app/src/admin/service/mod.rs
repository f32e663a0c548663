//! `AdminService`: the admin operations, shared by the admin server functions and the seed's
//! `/users/{id}` routes. Each checks `Permission::Administer` itself, so no caller can forget.
//! A change to a user, the sessions it ends and its audit entries land in one transaction.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::error::{AdminError, Result};
use super::model::{AdminUserPatch, NewUserForm, UserSummary, UserWithPassword};
use crate::audit::{Audit, AuditAction, AuditEntry, AuditEvent, AuditFilter};
use crate::db::{DbError, Tx};
use crate::error::FieldError;
use crate::identity::store::{IdentityStore, NewUser, UserPatch, UserRow};
use crate::identity::{
    LoginThrottle, PasswordHash, Permission, Principal, TenantInfo, TenantRef, account_name,
    check_password_length, clean_name, generate_password, hash_password, looks_like_email, now_ms,
};
use crate::request::RequestMeta;

mod tenants;

/// Length of passwords Heimdall generates for admins to hand over.
const GENERATED_PASSWORD_LEN: usize = 20;

/// Cheap to clone; built once in `AppState`.
#[derive(Clone, Debug)]
pub struct AdminService {
    store: IdentityStore,
    audit: Audit,
    /// `auth.password_min_length`: passwords an admin sets follow the same rule as everyone's.
    password_min_length: usize,
    /// The sign-in backoff identity keeps: admins see locks and lift them.
    throttle: Arc<LoginThrottle>,
}

impl AdminService {
    pub fn new(
        store: IdentityStore,
        audit: Audit,
        password_min_length: usize,
        throttle: Arc<LoginThrottle>,
    ) -> Self {
        Self {
            store,
            audit,
            password_min_length,
            throttle,
        }
    }

    /// Seconds left on the user's sign-in lock (by username or email), if any, from the
    /// locks now held (`LoginThrottle::account_locks`).
    fn lock_of(locks: &HashMap<String, Duration>, row: &UserRow) -> Option<u64> {
        std::iter::once(row.username.as_str())
            .chain(row.email.as_deref())
            .filter_map(|key| locks.get(&account_name(key)).copied())
            .max()
            .map(|d| d.as_secs().max(1))
    }

    /// Lifts a sign-in lock (and forgets the failures behind it).
    #[tracing::instrument(name = "admin.unlock_user", skip_all, fields(user = id), err(level = "info"))]
    pub async fn unlock_user(
        &self,
        principal: &Principal,
        id: i64,
        meta: &RequestMeta,
    ) -> Result<UserSummary> {
        principal.authorize(Permission::Administer)?;
        let row = self.find(id).await?;
        let mut lifted = self.throttle.unlock_account(&row.username).await?;
        if let Some(email) = &row.email {
            lifted |= self.throttle.unlock_account(email).await?;
        }
        let detail = if lifted {
            "failures forgotten"
        } else {
            "was not locked"
        };
        self.audit
            .record(
                AuditEvent::success(AuditAction::UserUnlocked)
                    .by(principal.actor_id(), &principal.display_name())
                    .target(&row.username)
                    .from(meta)
                    .detail(detail),
            )
            .await;
        self.load_summary(id).await
    }

    /// Users matching `query`, with providers and tenants (three queries, whatever the count).
    #[tracing::instrument(name = "admin.list_users", skip_all, err(level = "info"))]
    pub async fn list_users(&self, principal: &Principal, query: &str) -> Result<Vec<UserSummary>> {
        principal.authorize(Permission::Administer)?;
        let store = &self.store;
        let (rows, links, memberships, locks) = tokio::try_join!(
            store.search_users(query),
            store.all_link_providers(),
            store.all_memberships(),
            self.throttle.account_locks(now_ms())
        )?;
        let mut providers: HashMap<i64, Vec<String>> = HashMap::new();
        for (user_id, provider) in links {
            providers.entry(user_id).or_default().push(provider);
        }
        let mut tenants: HashMap<i64, Vec<TenantRef>> = HashMap::new();
        for (user_id, id, slug, name) in memberships {
            tenants
                .entry(user_id)
                .or_default()
                .push(TenantRef { id, slug, name });
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let p = providers.remove(&row.id).unwrap_or_default();
                let t = tenants.remove(&row.id).unwrap_or_default();
                let locked = Self::lock_of(&locks, &row);
                summary(row, p, t, locked)
            })
            .collect())
    }

    pub async fn get_user(&self, principal: &Principal, id: i64) -> Result<UserSummary> {
        principal.authorize(Permission::Administer)?;
        self.load_summary(id).await
    }

    async fn find(&self, id: i64) -> Result<UserRow> {
        self.store.find_user(id).await.map_err(|e| match e {
            DbError::NotFound => AdminError::NotFound(format!("no user with id {id}")),
            other => other.into(),
        })
    }

    async fn load_summary(&self, id: i64) -> Result<UserSummary> {
        let row = self.find(id).await?;
        let providers = self
            .store
            .list_links(id)
            .await?
            .into_iter()
            .map(|l| l.provider)
            .collect();
        let tenants = self.store.user_tenants(id).await?;
        let locks = self.throttle.account_locks(now_ms()).await?;
        let locked = Self::lock_of(&locks, &row);
        Ok(summary(row, providers, tenants, locked))
    }

    #[tracing::instrument(name = "admin.create_user", skip_all, fields(username = %form.username), err(level = "info"))]
    pub async fn create_user(
        &self,
        principal: &Principal,
        form: NewUserForm,
        meta: &RequestMeta,
    ) -> Result<UserWithPassword> {
        principal.authorize(Permission::Administer)?;
        let username = clean_name("username", &form.username, false)?;
        if username.contains(char::is_whitespace) {
            return Err(FieldError::new("username", "no spaces in usernames").into());
        }
        let email = optional_email(&form.email)?;
        let (password, shown) = match form.password.as_str() {
            "" => {
                let generated = generate_password(GENERATED_PASSWORD_LEN);
                let shown = generated.expose_secret().to_owned();
                (generated, Some(shown))
            }
            given => (SecretString::from(given.to_owned()), None),
        };
        let password_hash = self.password_hash(password).await?;
        let mut tx = self.store.db().begin().await?;
        let row = self
            .store
            .insert_user_in(
                &mut tx,
                &NewUser {
                    username,
                    email,
                    display_name: clean_name("display_name", &form.display_name, true)?,
                    password_hash: Some(password_hash),
                    role: form.role,
                },
            )
            .await
            .map_err(AdminError::conflict_as(
                "a user with this username or email already exists",
            ))?;
        // An email an admin sets is one Heimdall vouches for (a provider may link by it).
        let row = if row.email.is_some() {
            self.store
                .update_user_in(
                    &mut tx,
                    row.id,
                    &UserPatch {
                        email_verified: Some(true),
                        ..UserPatch::default()
                    },
                )
                .await?
        } else {
            row
        };
        self.record_in(
            &mut tx,
            principal,
            meta,
            AuditAction::UserCreated,
            &row.username,
            &format!("role {}", row.role),
        )
        .await?;
        tx.commit().await?;
        Ok(UserWithPassword {
            user: summary(row, Vec::new(), Vec::new(), None),
            password: shown,
        })
    }

    /// Role, active flag, name, email or password. An admin cannot demote or deactivate
    /// themselves (so the last admin cannot lock everyone out by accident). Deactivating or a
    /// new password ends the user's sessions; the change, the ended sessions and the audit
    /// entries are one transaction.
    #[tracing::instrument(name = "admin.update_user", skip_all, fields(user = id), err(level = "info"))]
    pub async fn update_user(
        &self,
        principal: &Principal,
        id: i64,
        patch: AdminUserPatch,
        meta: &RequestMeta,
    ) -> Result<UserSummary> {
        principal.authorize(Permission::Administer)?;
        let before = self.load_summary(id).await?;
        let is_self = principal.actor_id() == Some(id);
        if is_self && (patch.role.is_some_and(|r| r != before.role) || patch.active == Some(false)) {
            return Err(AdminError::Conflict(
                "you cannot change your own role or deactivate yourself".into(),
            ));
        }
        let mut changes = UserPatch {
            role: patch.role,
            active: patch.active,
            ..UserPatch::default()
        };
        if let Some(name) = &patch.display_name {
            changes.display_name = Some(clean_name("display_name", name, true)?);
        }
        if let Some(email) = &patch.email {
            let email = optional_email(email)?;
            // Only an email the admin changes becomes one Heimdall vouches for: re-saving a
            // form with the address the user typed in must not bless it.
            if email != before.email {
                changes.email_verified = Some(email.is_some());
            }
            changes.email = Some(email);
        }
        if let Some(password) = &patch.password {
            changes.password_hash = Some(self.password_hash(SecretString::from(password.clone())).await?);
        }
        let target = before.username.as_str();
        let mut tx = self.store.db().begin().await?;
        self.store
            .update_user_in(&mut tx, id, &changes)
            .await
            .map_err(AdminError::conflict_as("another user already has this email"))?;
        if let Some(role) = patch.role.filter(|r| *r != before.role) {
            let detail = format!("{} → {role}", before.role);
            self.record_in(
                &mut tx,
                principal,
                meta,
                AuditAction::UserRoleChanged,
                target,
                &detail,
            )
            .await?;
        }
        if let Some(active) = patch.active.filter(|a| *a != before.active) {
            let action = if active {
                AuditAction::UserActivated
            } else {
                self.store.revoke_all_sessions_in(&mut tx, id).await?;
                AuditAction::UserDeactivated
            };
            self.record_in(&mut tx, principal, meta, action, target, "")
                .await?;
        }
        if changes.password_hash.is_some() {
            self.store.revoke_all_sessions_in(&mut tx, id).await?;
            self.record_in(
                &mut tx,
                principal,
                meta,
                AuditAction::UserPasswordReset,
                target,
                "",
            )
            .await?;
        }
        tx.commit().await?;
        self.load_summary(id).await
    }

    /// Sets a generated password (shown once) and ends the user's sessions.
    pub async fn reset_password(
        &self,
        principal: &Principal,
        id: i64,
        meta: &RequestMeta,
    ) -> Result<UserWithPassword> {
        principal.authorize(Permission::Administer)?;
        let password = generate_password(GENERATED_PASSWORD_LEN);
        let shown = password.expose_secret().to_owned();
        let patch = AdminUserPatch {
            password: Some(shown.clone()),
            ..AdminUserPatch::default()
        };
        let user = self.update_user(principal, id, patch, meta).await?;
        Ok(UserWithPassword {
            user,
            password: Some(shown),
        })
    }

    #[tracing::instrument(name = "admin.delete_user", skip_all, fields(user = id), err(level = "info"))]
    pub async fn delete_user(&self, principal: &Principal, id: i64, meta: &RequestMeta) -> Result<()> {
        principal.authorize(Permission::Administer)?;
        if principal.actor_id() == Some(id) {
            return Err(AdminError::Conflict("you cannot delete yourself".into()));
        }
        let user = self.load_summary(id).await?;
        let mut tx = self.store.db().begin().await?;
        self.store.delete_user_in(&mut tx, id).await?;
        self.record_in(
            &mut tx,
            principal,
            meta,
            AuditAction::UserDeleted,
            &user.username,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(name = "admin.set_user_tenants", skip_all, fields(user = id), err(level = "info"))]
    pub async fn set_user_tenants(
        &self,
        principal: &Principal,
        id: i64,
        tenant_ids: Vec<i64>,
        meta: &RequestMeta,
    ) -> Result<UserSummary> {
        principal.authorize(Permission::Administer)?;
        let user = self.load_summary(id).await?;
        let known: Vec<i64> = self
            .store
            .list_tenants()
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        if let Some(unknown) = tenant_ids.iter().find(|t| !known.contains(t)) {
            return Err(FieldError::new("tenant_ids", format!("no tenant with id {unknown}")).into());
        }
        let mut tx = self.store.db().begin().await?;
        self.store.set_memberships_in(&mut tx, id, &tenant_ids).await?;
        let detail = format!("tenants {tenant_ids:?}");
        self.record_in(
            &mut tx,
            principal,
            meta,
            AuditAction::MembershipChanged,
            &user.username,
            &detail,
        )
        .await?;
        tx.commit().await?;
        self.load_summary(id).await
    }

    /// Checks the configured minimum length and hashes (argon2id, off the runtime).
    async fn password_hash(&self, password: SecretString) -> Result<PasswordHash> {
        check_password_length(password.expose_secret(), self.password_min_length)
            .map_err(|m| FieldError::new("password", m))?;
        hash_password(password).await.map_err(AdminError::Internal)
    }

    /// Records a successful admin change inside its transaction.
    async fn record_in(
        &self,
        tx: &mut Tx,
        principal: &Principal,
        meta: &RequestMeta,
        action: AuditAction,
        target: &str,
        detail: &str,
    ) -> Result<()> {
        let event = AuditEvent::success(action)
            .by(principal.actor_id(), &principal.display_name())
            .target(target)
            .from(meta)
            .detail(detail);
        Ok(self.audit.record_in(tx, &event).await?)
    }
}

/// An optional email from a form: empty means none.
fn optional_email(raw: &str) -> Result<Option<String>, FieldError> {
    match raw.trim() {
        "" => Ok(None),
        email if looks_like_email(email) => Ok(Some(email.to_lowercase())),
        _ => Err(FieldError::new(
            "email",
            "enter an email address such as name@example.com",
        )),
    }
}

fn summary(
    row: UserRow,
    providers: Vec<String>,
    tenants: Vec<TenantRef>,
    locked_for_secs: Option<u64>,
) -> UserSummary {
    UserSummary {
        id: row.id,
        username: row.username,
        email: row.email,
        display_name: row.display_name,
        role: row.role,
        active: row.active,
        has_password: row.password_hash.is_some(),
        providers,
        tenants,
        created_at: row.created_at,
        last_login_at: row.last_login_at,
        locked_for_secs,
    }
}
