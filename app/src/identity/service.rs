//! `IdentityService`: identity's one service. Here: what it holds, and turning a request's
//! credentials (session cookie, bearer JWT, personal API token, static admin token) into a
//! `Principal`. Signing in is in `sign_in.rs`; sessions and JWTs in `sessions.rs`; account
//! changes in `accounts.rs`. Server functions and REST handlers stay thin over it.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use chrono::Utc;
use secrecy::ExposeSecret;

use super::error::{IdentityError, Result};
use super::oauth::OAuthProvider;
use super::password::PasswordHash;
use super::principal::{Actor, Principal, Via};
use super::secrets::{API_TOKEN_PREFIX, SESSION_PREFIX, hash_secret, secrets_match};
use super::settings::AuthSettings;
use super::store::IdentityStore;
use super::throttle::LoginThrottle;
use crate::audit::{Audit, AuditAction, AuditEvent};
use crate::db::DbError;
use crate::identity::{LoginMethod, LoginMethods, Role};
use crate::request::RequestMeta;

/// Sessions and tokens record their last use at most this often (not a write per request).
const TOUCH_EVERY_SECS: i64 = 60;

/// Cheap to clone; built once in `AppState`.
#[derive(Clone)]
pub struct IdentityService(pub(super) Arc<Inner>);

pub(super) struct Inner {
    pub(super) store: IdentityStore,
    pub(super) audit: Audit,
    pub(super) settings: AuthSettings,
    /// Shared with the admin service, which shows locks and lifts them.
    pub(super) throttle: Arc<LoginThrottle>,
    /// Verified against when the username is unknown, so both answers take as long.
    pub(super) dummy_hash: tokio::sync::OnceCell<PasswordHash>,
    google: Option<OAuthProvider>,
    keycloak: Option<OAuthProvider>,
}

impl IdentityService {
    pub fn new(store: IdentityStore, audit: Audit, settings: AuthSettings) -> Self {
        let google = settings
            .google
            .clone()
            .map(|s| OAuthProvider::new(LoginMethod::Google, s));
        let keycloak = settings
            .keycloak
            .clone()
            .map(|s| OAuthProvider::new(LoginMethod::Keycloak, s));
        Self(Arc::new(Inner {
            throttle: Arc::new(LoginThrottle::new(settings.lockout.clone(), store.clone())),
            store,
            audit,
            settings,
            dummy_hash: tokio::sync::OnceCell::new(),
            google,
            keycloak,
        }))
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.0.settings
    }

    /// Identity's tables (admin builds on them; tests seed them).
    pub fn store(&self) -> &IdentityStore {
        &self.0.store
    }

    /// A tenant's id by its slug, for another domain's request that names one; `None` when
    /// there is no such tenant.
    pub async fn tenant_id(&self, slug: &str) -> Option<i64> {
        self.0.store.find_tenant_by_slug(slug).await.ok().map(|t| t.id)
    }

    /// Every tenant's id and slug, for a page that names tenants.
    pub async fn tenant_slugs(&self) -> crate::db::Result<Vec<(i64, String)>> {
        Ok(self
            .0
            .store
            .list_tenants()
            .await?
            .into_iter()
            .map(|t| (t.id, t.slug))
            .collect())
    }

    /// The sign-in backoff, for the admin service.
    pub fn throttle(&self) -> Arc<LoginThrottle> {
        Arc::clone(&self.0.throttle)
    }

    pub(super) fn audit(&self) -> &Audit {
        &self.0.audit
    }

    /// How many users exist (the overview's database check).
    pub async fn count_users(&self) -> Result<i64> {
        Ok(self.0.store.count_users().await?)
    }

    pub fn methods(&self) -> LoginMethods {
        LoginMethods {
            password: true,
            google: self.0.google.is_some(),
            keycloak: self.0.keycloak.is_some(),
            registration: self.0.settings.registration_enabled,
        }
    }

    /// The configured provider for `method`, or a 404 naming it.
    pub fn provider(&self, method: LoginMethod) -> Result<&OAuthProvider> {
        let provider = match method {
            LoginMethod::Google => self.0.google.as_ref(),
            LoginMethod::Keycloak => self.0.keycloak.as_ref(),
            LoginMethod::Password => None,
        };
        provider
            .ok_or_else(|| IdentityError::NotFound(format!("{} sign-in is not configured", method.as_str())))
    }

    /// Who sent this request. A bearer credential that does not check out is a 401 (with an
    /// audit entry), never a silent fall back to anonymous; a stale cookie is just anonymous.
    #[tracing::instrument(name = "identity.resolve", skip_all, err(level = "debug"))]
    pub async fn resolve(&self, headers: &HeaderMap, meta: &RequestMeta) -> Result<Principal> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    IdentityError::BadCredentials("the Authorization header must be `Bearer <token>`".into())
                })?;
            let result = self.resolve_bearer(token).await;
            if let Err(IdentityError::BadCredentials(message)) = &result {
                self.0
                    .audit
                    .record(
                        AuditEvent::denied(AuditAction::TokenRejected)
                            .from(meta)
                            .detail(message),
                    )
                    .await;
            }
            return result;
        }
        if let Some(cookie) = cookie_value(headers, &self.0.settings.cookie_name)
            && let Some(principal) = self.resolve_cookie(&cookie).await?
        {
            return Ok(principal);
        }
        Ok(Principal::anonymous(self.0.settings.enabled))
    }

    async fn resolve_bearer(&self, token: &str) -> Result<Principal> {
        let db = &self.0.store;
        if token.starts_with(API_TOKEN_PREFIX) {
            let row = db
                .find_api_token_by_hash(&hash_secret(token))
                .await?
                .ok_or_else(|| bad("unknown API token"))?;
            let now = Utc::now();
            if row.revoked_at.is_some() {
                return Err(bad("this API token has been revoked"));
            }
            if row.expires_at.is_some_and(|at| at <= now) {
                return Err(bad("this API token has expired"));
            }
            if row
                .last_used_at
                .is_none_or(|at| (now - at).num_seconds() >= TOUCH_EVERY_SECS)
            {
                db.touch_api_token(row.id, now).await?;
            }
            let via = Via::ApiToken {
                token_id: row.id,
                scope: row.scope,
            };
            return self
                .principal_for(row.user_id, via)
                .await?
                .ok_or_else(|| bad("the token's user is deactivated"));
        }
        if let Some(admin_token) = &self.0.settings.admin_token
            && secrets_match(token, admin_token.expose_secret())
        {
            return Ok(Principal {
                actor: Some(Actor {
                    id: None,
                    username: "admin-token".into(),
                    role: Role::Admin,
                }),
                tenant_ids: Vec::new(),
                via: Via::AdminToken,
                auth_enabled: self.0.settings.enabled,
            });
        }
        let claims = self.verify_jwt(token)?;
        let session = db
            .find_session(claims.sid)
            .await?
            .filter(|s| s.kind == "bearer" && s.revoked_at.is_none() && s.expires_at > Utc::now())
            .ok_or_else(|| bad("this bearer token has been signed out"))?;
        let user_id: i64 = claims
            .sub
            .parse()
            .map_err(|_| bad("the bearer token's subject is not a user id"))?;
        if user_id != session.user_id {
            return Err(bad("the bearer token does not match its session"));
        }
        self.principal_for(
            user_id,
            Via::Jwt {
                session_id: session.id,
            },
        )
        .await?
        .ok_or_else(|| bad("this account is deactivated"))
    }

    async fn resolve_cookie(&self, cookie: &str) -> Result<Option<Principal>> {
        if !cookie.starts_with(SESSION_PREFIX) {
            return Ok(None);
        }
        let db = &self.0.store;
        let Some(session) = db.find_session_by_hash(&hash_secret(cookie)).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        let idle = now - session.last_seen_at;
        if session.kind != "cookie"
            || session.revoked_at.is_some()
            || session.expires_at <= now
            || idle > self.0.settings.session_idle
        {
            return Ok(None);
        }
        if idle.num_seconds() >= TOUCH_EVERY_SECS {
            db.touch_session(session.id, now).await?;
        }
        self.principal_for(
            session.user_id,
            Via::Cookie {
                session_id: session.id,
            },
        )
        .await
    }

    /// The principal of an active user, with their tenants; `None` when deactivated or gone.
    async fn principal_for(&self, user_id: i64, via: Via) -> Result<Option<Principal>> {
        let user = match self.0.store.find_user(user_id).await {
            Ok(user) if user.active => user,
            Ok(_) | Err(DbError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let tenant_ids = self
            .0
            .store
            .user_tenants(user_id)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        Ok(Some(Principal {
            actor: Some(Actor {
                id: Some(user.id),
                username: user.username,
                role: user.role,
            }),
            tenant_ids,
            via,
            auth_enabled: self.0.settings.enabled,
        }))
    }
}

/// A bearer credential that did not check out.
fn bad(message: &str) -> IdentityError {
    IdentityError::BadCredentials(message.to_owned())
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// How often a live stream re-checks its credential when nothing in this process said access
/// changed: a session ended on another replica, a token that simply ran out.
pub const LIVE_RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

impl IdentityService {
    /// Resolves once the credential in `headers` no longer gives the access `still_allowed`
    /// checks: signed out, revoked, expired, deactivated, demoted, removed from the tenant.
    /// A live stream (`.take_until` this) then ends. `user` is who opened it (`None`: anonymous
    /// or the admin token). A change that can take that user's access away in this process
    /// wakes it at once; otherwise it looks again every [`LIVE_RECHECK`].
    pub fn credential_ended<F, Fut>(
        &self,
        headers: HeaderMap,
        meta: RequestMeta,
        user: Option<i64>,
        still_allowed: F,
    ) -> impl std::future::Future<Output = ()> + Send + 'static + use<F, Fut>
    where
        F: Fn(Principal) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = bool> + Send,
    {
        let identity = self.clone();
        let mut changes = self.store().access_changes();
        let signed_in = user.is_some();
        let mut seen = changes.borrow().0;
        async move {
            loop {
                let woken = tokio::select! {
                    changed = changes.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        // Someone else's access changed: nothing to look at (a sign-out does
                        // not make every open stream ask the database) — unless changes came
                        // faster than this stream looked, and one of the missed may be ours.
                        let (generation, whose) = *changes.borrow_and_update();
                        let missed = generation > seen + 1;
                        seen = generation;
                        if user != Some(whose) && !missed {
                            continue;
                        }
                        true
                    }
                    () = tokio::time::sleep(LIVE_RECHECK) => false,
                };
                // A change is announced as it is written, a moment before its transaction
                // commits: look just after, and once more a second later to be sure.
                let looks: &[u64] = if woken { &[50, 1000] } else { &[0] };
                for wait in looks {
                    tokio::time::sleep(std::time::Duration::from_millis(*wait)).await;
                    let allowed = match identity.resolve(&headers, &meta).await {
                        // A stream opened signed in does not go on anonymously.
                        Ok(principal) if signed_in && principal.actor.is_none() => false,
                        Ok(principal) => still_allowed(principal).await,
                        Err(IdentityError::BadCredentials(_) | IdentityError::Access(_)) => false,
                        // The database did not answer: keep the stream; the next look decides.
                        Err(_) => true,
                    };
                    if !allowed {
                        tracing::debug!("a live stream's credential ended: the stream ends");
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "theme=dark; heimdall_auth=hms_abc".parse().expect("header"),
        );
        headers.append(header::COOKIE, "other=1".parse().expect("header"));
        assert_eq!(
            cookie_value(&headers, "heimdall_auth").as_deref(),
            Some("hms_abc")
        );
        assert_eq!(cookie_value(&headers, "other").as_deref(), Some("1"));
        assert_eq!(cookie_value(&headers, "missing"), None);
    }
}
