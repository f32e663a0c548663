//! `Principal`: who is making a request and how they proved it, and `Permission`: the one
//! check every server function and REST handler makes before doing anything.

use crate::error::AppError;
use crate::identity::{Role, TokenScope};

/// Why a permission check said no: nobody signed in (401) or the wrong person (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
}

impl From<AccessError> for AppError {
    fn from(err: AccessError) -> Self {
        match err {
            AccessError::Unauthenticated(m) => Self::unauthenticated(m),
            AccessError::Forbidden(m) => Self::forbidden(m),
        }
    }
}

/// A signed-in actor. The static admin token has no user row, hence no id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<i64>,
    pub username: String,
    pub role: Role,
}

/// How the request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Anonymous,
    /// The browser's session cookie.
    Cookie {
        session_id: i64,
    },
    /// A bearer JWT from `/auth/jwt/login` or `/auth/login`, tied to a session row.
    Jwt {
        session_id: i64,
    },
    /// A personal API token.
    ApiToken {
        token_id: i64,
        scope: TokenScope,
    },
    /// The configured static `ADMIN_TOKEN` (operator-console seed).
    AdminToken,
}

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub actor: Option<Actor>,
    pub tenant_ids: Vec<i64>,
    pub via: Via,
    /// `auth.enabled`; when false, anonymous callers may read.
    pub auth_enabled: bool,
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See operational state (overview, jobs). Anonymous when auth is disabled.
    Read,
    /// See one's own account: profile, sessions, tokens. Needs a user; read tokens may.
    ViewOwnAccount,
    /// Change one's own account: profile, sessions, tokens. Needs a user.
    OwnAccount,
    /// Change operational state (deploy, approve): developers and admins.
    Operate,
    /// Users, tenants, audit: admins.
    Administer,
    /// See a tenant's objects: its members and admins.
    Tenant(i64),
}

impl Principal {
    pub fn anonymous(auth_enabled: bool) -> Self {
        Self {
            actor: None,
            tenant_ids: Vec::new(),
            via: Via::Anonymous,
            auth_enabled,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.actor.as_ref().map(|a| a.role)
    }

    /// The tenants whose objects this caller may read, for a query to filter by (as
    /// `authorize(Permission::Tenant(_))` decides one at a time): `None` for every tenant (an
    /// admin), else the caller's memberships (none when signed out).
    pub fn readable_tenants(&self) -> Option<&[i64]> {
        match &self.actor {
            Some(actor) if actor.role == Role::Admin => None,
            Some(_) => Some(&self.tenant_ids),
            None => Some(&[]),
        }
    }

    /// The user id of the actor, when there is a user row (not for the admin token).
    pub fn actor_id(&self) -> Option<i64> {
        self.actor.as_ref().and_then(|a| a.id)
    }

    /// A name for the audit log.
    pub fn display_name(&self) -> String {
        self.actor
            .as_ref()
            .map_or_else(|| "anonymous".to_owned(), |a| a.username.clone())
    }

    /// `Ok` when the caller may do `permission`; `Unauthenticated` (401) when nobody is signed
    /// in and it would matter, `Forbidden` (403) when the signed-in caller may not.
    pub fn authorize(&self, permission: Permission) -> Result<(), AccessError> {
        let Some(actor) = &self.actor else {
            if permission == Permission::Read && !self.auth_enabled {
                return Ok(());
            }
            return Err(AccessError::Unauthenticated("sign in first"));
        };
        if let Via::ApiToken {
            scope: TokenScope::Read,
            ..
        } = self.via
            // Reading a tenant's objects is reading: a read token sees what its owner sees.
            && !matches!(
                permission,
                Permission::Read | Permission::ViewOwnAccount | Permission::Tenant(_)
            )
        {
            return Err(AccessError::Forbidden("this API token is read-only"));
        }
        let allowed = match permission {
            Permission::Read => true,
            Permission::ViewOwnAccount | Permission::OwnAccount => actor.id.is_some(),
            Permission::Operate => actor.role >= Role::Developer,
            Permission::Administer => actor.role == Role::Admin,
            Permission::Tenant(id) => actor.role == Role::Admin || self.tenant_ids.contains(&id),
        };
        if allowed {
            return Ok(());
        }
        Err(AccessError::Forbidden(match permission {
            Permission::ViewOwnAccount | Permission::OwnAccount => {
                "the admin token has no account; sign in as a user"
            }
            Permission::Operate => "this needs the developer or admin role",
            Permission::Administer => "this needs the admin role",
            Permission::Tenant(_) => "you are not a member of this tenant",
            Permission::Read => "not allowed",
        }))
    }

    /// The signed-in user's id, for account operations (their permission is checked apart).
    pub fn user_id(&self) -> Result<i64, AccessError> {
        self.authorize(Permission::ViewOwnAccount)?;
        self.actor_id()
            .ok_or(AccessError::Unauthenticated("sign in first"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, tenants: &[i64], via: Via) -> Principal {
        Principal {
            actor: Some(Actor {
                id: Some(7),
                username: "u".into(),
                role,
            }),
            tenant_ids: tenants.to_vec(),
            via,
            auth_enabled: true,
        }
    }

    const COOKIE: Via = Via::Cookie { session_id: 1 };

    /// The list filter agrees with the one-at-a-time check for every kind of caller.
    #[test]
    fn readable_tenants_is_the_tenant_check_as_a_filter() {
        let callers = [
            Principal::anonymous(true),
            Principal::anonymous(false),
            user(Role::Viewer, &[], COOKIE),
            user(Role::Developer, &[1, 3], COOKIE),
            user(Role::Admin, &[], COOKIE),
        ];
        for caller in &callers {
            for tenant in 0..5 {
                let by_check = caller.authorize(Permission::Tenant(tenant)).is_ok();
                let by_filter = caller.readable_tenants().is_none_or(|ids| ids.contains(&tenant));
                assert_eq!(by_check, by_filter, "{caller:?}, tenant {tenant}");
            }
        }
        assert_eq!(user(Role::Developer, &[1, 3], COOKIE).readable_tenants(), Some(&[1, 3][..]));
        assert_eq!(user(Role::Admin, &[], COOKIE).readable_tenants(), None);
    }

    /// One row per caller: the status each permission answers with (0 = allowed).
    #[test]
    fn the_permission_table_holds() {
        use Permission::*;
        let perms = [Read, ViewOwnAccount, OwnAccount, Operate, Administer, Tenant(1)];
        let cases: Vec<(&str, Principal, [u16; 6])> = vec![
            (
                "anonymous, auth on",
                Principal::anonymous(true),
                [401, 401, 401, 401, 401, 401],
            ),
            (
                "anonymous, auth off",
                Principal::anonymous(false),
                [0, 401, 401, 401, 401, 401],
            ),
            (
                "viewer",
                user(Role::Viewer, &[], COOKIE),
                [0, 0, 0, 403, 403, 403],
            ),
            (
                "developer in tenant 1",
                user(Role::Developer, &[1], COOKIE),
                [0, 0, 0, 0, 403, 0],
            ),
            (
                "developer in tenant 2",
                user(Role::Developer, &[2], COOKIE),
                [0, 0, 0, 0, 403, 403],
            ),
            ("admin", user(Role::Admin, &[], COOKIE), [0, 0, 0, 0, 0, 0]),
            (
                "admin with a read token",
                user(
                    Role::Admin,
                    &[],
                    Via::ApiToken {
                        token_id: 1,
                        scope: TokenScope::Read,
                    },
                ),
                [0, 0, 403, 403, 403, 0],
            ),
            (
                "developer in tenant 1 with a read token",
                user(
                    Role::Developer,
                    &[1],
                    Via::ApiToken {
                        token_id: 2,
                        scope: TokenScope::Read,
                    },
                ),
                [0, 0, 403, 403, 403, 0],
            ),
            (
                "viewer in tenant 2 with a read token",
                user(
                    Role::Viewer,
                    &[2],
                    Via::ApiToken {
                        token_id: 3,
                        scope: TokenScope::Read,
                    },
                ),
                [0, 0, 403, 403, 403, 403],
            ),
            (
                "admin token",
                Principal {
                    actor: Some(Actor {
                        id: None,
                        username: "admin-token".into(),
                        role: Role::Admin,
                    }),
                    tenant_ids: vec![],
                    via: Via::AdminToken,
                    auth_enabled: true,
                },
                [0, 403, 403, 0, 0, 0],
            ),
        ];
        for (name, principal, expected) in cases {
            for (perm, want) in perms.iter().zip(expected) {
                let got = principal
                    .authorize(*perm)
                    .err()
                    .map_or(0, |e| AppError::from(e).status_code());
                assert_eq!(got, want, "{name} asking for {perm:?}");
            }
        }
    }
}
