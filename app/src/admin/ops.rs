//! Admin operations, shared by the admin server functions and the seed's `/users/{id}` routes.
//! Each checks `Permission::Administer` itself, so no caller can forget.

use std::collections::HashMap;

use secrecy::SecretString;

use super::model::{AdminUserPatch, NewUserForm, Outcome, TenantInfo, UserSummary, UserWithPassword};
use crate::db::{DbError, NewUser, UserPatch, UserRow};
use crate::error::AppError;
use crate::identity::{
    Authenticator, Permission, Principal, RequestMeta, TenantRef, clean_name, generate_password,
    looks_like_email,
};

/// Length of passwords Heimdall generates for admins to hand over.
const GENERATED_PASSWORD_LEN: usize = 20;

fn conflict_as(message: &'static str) -> impl Fn(DbError) -> AppError {
    move |e| match e {
        DbError::Conflict(_) => AppError::conflict(message),
        other => other.into(),
    }
}

/// Users matching `query`, with providers and tenants (three queries, whatever the count).
pub async fn list_users(
    auth: &Authenticator,
    principal: &Principal,
    query: &str,
) -> Result<Vec<UserSummary>, AppError> {
    principal.authorize(Permission::Administer)?;
    let db = auth.db();
    let (rows, links, memberships) = tokio::try_join!(
        db.search_users(query),
        db.all_link_providers(),
        db.all_memberships()
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
            summary(row, p, t)
        })
        .collect())
}

pub async fn get_user(auth: &Authenticator, principal: &Principal, id: i64) -> Result<UserSummary, AppError> {
    principal.authorize(Permission::Administer)?;
    load_summary(auth, id).await
}

async fn load_summary(auth: &Authenticator, id: i64) -> Result<UserSummary, AppError> {
    let db = auth.db();
    let row = db.find_user(id).await.map_err(|e| match e {
        DbError::NotFound => AppError::not_found(format!("no user with id {id}")),
        other => other.into(),
    })?;
    let providers = db.list_links(id).await?.into_iter().map(|l| l.provider).collect();
    let tenants = db.user_tenants(id).await?;
    Ok(summary(row, providers, tenants))
}

fn summary(row: UserRow, providers: Vec<String>, tenants: Vec<TenantRef>) -> UserSummary {
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
    }
}

pub async fn create_user(
    auth: &Authenticator,
    principal: &Principal,
    form: NewUserForm,
    meta: &RequestMeta,
) -> Result<UserWithPassword, AppError> {
    principal.authorize(Permission::Administer)?;
    let username = clean_name("username", &form.username, false)?;
    if username.contains(char::is_whitespace) {
        return Err(AppError::invalid("username", "no spaces in usernames"));
    }
    let email = match form.email.trim() {
        "" => None,
        email if looks_like_email(email) => Some(email.to_lowercase()),
        _ => {
            return Err(AppError::invalid(
                "email",
                "enter an email address such as name@example.com",
            ));
        }
    };
    let (password, shown) = match form.password.as_str() {
        "" => {
            let generated = generate_password(GENERATED_PASSWORD_LEN);
            let shown = secrecy::ExposeSecret::expose_secret(&generated).to_owned();
            (generated, Some(shown))
        }
        given => (SecretString::from(given.to_owned()), None),
    };
    let password_hash = auth.new_password_hash(password).await?;
    let row = auth
        .db()
        .insert_user(&NewUser {
            username,
            email,
            display_name: clean_name("display_name", &form.display_name, true)?,
            password_hash: Some(password_hash),
            role: form.role,
        })
        .await
        .map_err(conflict_as("a user with this username or email already exists"))?;
    let detail = format!("role {}", row.role);
    audit(auth, principal, "user.created", &row.username, meta, &detail).await;
    Ok(UserWithPassword {
        user: summary(row, Vec::new(), Vec::new()),
        password: shown,
    })
}

/// Role, active flag, name, email or password. An admin cannot demote or deactivate
/// themselves (so the last admin cannot lock everyone out by accident). Deactivating ends
/// the user's sessions.
pub async fn update_user(
    auth: &Authenticator,
    principal: &Principal,
    id: i64,
    patch: AdminUserPatch,
    meta: &RequestMeta,
) -> Result<UserSummary, AppError> {
    principal.authorize(Permission::Administer)?;
    let before = load_summary(auth, id).await?;
    let is_self = principal.actor.as_ref().and_then(|a| a.id) == Some(id);
    if is_self && (patch.role.is_some_and(|r| r != before.role) || patch.active == Some(false)) {
        return Err(AppError::conflict(
            "you cannot change your own role or deactivate yourself",
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
        changes.email = Some(match email.trim() {
            "" => None,
            e if looks_like_email(e) => Some(e.to_lowercase()),
            _ => {
                return Err(AppError::invalid(
                    "email",
                    "enter an email address such as name@example.com",
                ));
            }
        });
    }
    if let Some(password) = &patch.password {
        changes.password_hash = Some(
            auth.new_password_hash(SecretString::from(password.clone()))
                .await?,
        );
    }
    auth.db()
        .update_user(id, &changes)
        .await
        .map_err(conflict_as("another user already has this email"))?;
    if let Some(role) = patch.role.filter(|r| *r != before.role) {
        let detail = format!("{} → {role}", before.role);
        audit(
            auth,
            principal,
            "user.role_changed",
            &before.username,
            meta,
            &detail,
        )
        .await;
    }
    if let Some(active) = patch.active.filter(|a| *a != before.active) {
        let action = if active {
            "user.activated"
        } else {
            "user.deactivated"
        };
        if !active {
            auth.db().revoke_all_sessions(id).await?;
        }
        audit(auth, principal, action, &before.username, meta, "").await;
    }
    if changes.password_hash.is_some() {
        auth.db().revoke_all_sessions(id).await?;
        audit(auth, principal, "user.password_reset", &before.username, meta, "").await;
    }
    load_summary(auth, id).await
}

/// Sets a generated password (shown once) and ends the user's sessions.
pub async fn reset_password(
    auth: &Authenticator,
    principal: &Principal,
    id: i64,
    meta: &RequestMeta,
) -> Result<UserWithPassword, AppError> {
    principal.authorize(Permission::Administer)?;
    let password = generate_password(GENERATED_PASSWORD_LEN);
    let shown = secrecy::ExposeSecret::expose_secret(&password).to_owned();
    let user = update_user(
        auth,
        principal,
        id,
        AdminUserPatch {
            password: Some(shown.clone()),
            ..AdminUserPatch::default()
        },
        meta,
    )
    .await?;
    Ok(UserWithPassword {
        user,
        password: Some(shown),
    })
}

pub async fn delete_user(
    auth: &Authenticator,
    principal: &Principal,
    id: i64,
    meta: &RequestMeta,
) -> Result<(), AppError> {
    principal.authorize(Permission::Administer)?;
    if principal.actor.as_ref().and_then(|a| a.id) == Some(id) {
        return Err(AppError::conflict("you cannot delete yourself"));
    }
    let user = load_summary(auth, id).await?;
    auth.db().delete_user(id).await?;
    audit(auth, principal, "user.deleted", &user.username, meta, "").await;
    Ok(())
}

pub async fn set_user_tenants(
    auth: &Authenticator,
    principal: &Principal,
    id: i64,
    tenant_ids: Vec<i64>,
    meta: &RequestMeta,
) -> Result<UserSummary, AppError> {
    principal.authorize(Permission::Administer)?;
    let user = load_summary(auth, id).await?;
    let known: Vec<i64> = auth
        .db()
        .list_tenants()
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    if let Some(unknown) = tenant_ids.iter().find(|t| !known.contains(t)) {
        return Err(AppError::invalid(
            "tenant_ids",
            format!("no tenant with id {unknown}"),
        ));
    }
    auth.db().set_memberships(id, &tenant_ids).await?;
    let detail = format!("tenants {tenant_ids:?}");
    audit(
        auth,
        principal,
        "membership.changed",
        &user.username,
        meta,
        &detail,
    )
    .await;
    load_summary(auth, id).await
}

pub async fn list_tenants(auth: &Authenticator, principal: &Principal) -> Result<Vec<TenantInfo>, AppError> {
    principal.authorize(Permission::Administer)?;
    Ok(auth.db().list_tenants().await?)
}

pub async fn create_tenant(
    auth: &Authenticator,
    principal: &Principal,
    slug: &str,
    name: &str,
    meta: &RequestMeta,
) -> Result<TenantInfo, AppError> {
    principal.authorize(Permission::Administer)?;
    let slug = slug.trim().to_lowercase();
    let valid = !slug.is_empty()
        && slug.len() <= 63
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !valid {
        return Err(AppError::invalid(
            "slug",
            "use 1–63 lower-case letters, digits and dashes, not starting or ending with a dash",
        ));
    }
    let name = clean_name("name", name, false)?;
    let tenant = auth
        .db()
        .insert_tenant(&slug, &name)
        .await
        .map_err(conflict_as("a tenant with this slug already exists"))?;
    audit(auth, principal, "tenant.created", &slug, meta, "").await;
    Ok(tenant)
}

/// A tenant's member usernames: for its members and admins.
pub async fn tenant_members(
    auth: &Authenticator,
    principal: &Principal,
    slug: &str,
) -> Result<Vec<String>, AppError> {
    principal.authorize(Permission::Read)?;
    let tenant = auth.db().find_tenant_by_slug(slug).await.map_err(|e| match e {
        DbError::NotFound => AppError::not_found(format!("no tenant {slug:?}")),
        other => other.into(),
    })?;
    principal.authorize(Permission::Tenant(tenant.id))?;
    Ok(auth.db().tenant_members(tenant.id).await?)
}

async fn audit(
    auth: &Authenticator,
    principal: &Principal,
    action: &'static str,
    target: &str,
    meta: &RequestMeta,
    detail: &str,
) {
    let actor_id = principal.actor.as_ref().and_then(|a| a.id);
    auth.audit(
        actor_id,
        &principal.display_name(),
        action,
        target,
        Outcome::Success,
        meta,
        detail,
    )
    .await;
}
