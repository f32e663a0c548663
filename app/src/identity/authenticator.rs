//! The `Authenticator`: turns a request's credentials (session cookie, bearer JWT, personal API
//! token, static admin token) into a `Principal`, checks passwords with brute-force backoff,
//! opens and ends sessions, and writes the audit entries of all of it.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, header};
use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::oauth::OAuthProvider;
use super::password::{PasswordHash, hash_password, verify_password};
use super::principal::{Actor, Principal, Via};
use super::request::RequestMeta;
use super::secrets::{API_TOKEN_PREFIX, SESSION_PREFIX, hash_secret, random_secret, secrets_match};
use super::settings::AuthSettings;
use super::throttle::{Locked, LoginThrottle};
use crate::admin::Outcome;
use crate::db::{AuditRecord, Database, NewSession, UserRow};
use crate::error::AppError;
use crate::identity::{LoginMethod, LoginMethods, Role};

/// Issuer and audience of Heimdall's own bearer JWTs.
const JWT_ISSUER: &str = "heimdall";
/// Sessions and tokens record their last use at most this often (not a write per request).
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, Serialize, Deserialize)]
struct BearerClaims {
    sub: String,
    sid: i64,
    role: Role,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// A bearer JWT just issued.
pub struct IssuedJwt {
    pub token: String,
    pub expires_in: i64,
}

/// Cheap to clone; one per application.
#[derive(Clone)]
pub struct Authenticator(Arc<Inner>);

struct Inner {
    db: Database,
    settings: AuthSettings,
    throttle: LoginThrottle,
    /// Verified against when the username is unknown, so both answers take as long.
    dummy_hash: tokio::sync::OnceCell<PasswordHash>,
    google: Option<OAuthProvider>,
    keycloak: Option<OAuthProvider>,
}

impl Authenticator {
    pub fn new(db: Database, settings: AuthSettings) -> Self {
        let google = settings
            .google
            .clone()
            .map(|s| OAuthProvider::new(LoginMethod::Google, s));
        let keycloak = settings
            .keycloak
            .clone()
            .map(|s| OAuthProvider::new(LoginMethod::Keycloak, s));
        Self(Arc::new(Inner {
            throttle: LoginThrottle::new(settings.lockout.clone()),
            db,
            settings,
            dummy_hash: tokio::sync::OnceCell::new(),
            google,
            keycloak,
        }))
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.0.settings
    }

    pub fn db(&self) -> &Database {
        &self.0.db
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
    pub fn provider(&self, method: LoginMethod) -> Result<&OAuthProvider, AppError> {
        let provider = match method {
            LoginMethod::Google => self.0.google.as_ref(),
            LoginMethod::Keycloak => self.0.keycloak.as_ref(),
            LoginMethod::Password => None,
        };
        provider.ok_or_else(|| AppError::not_found(format!("{} sign-in is not configured", method.as_str())))
    }

    /// Who sent this request. A bearer credential that does not check out is a 401 (with an
    /// audit entry), never a silent fall back to anonymous; a stale cookie is just anonymous.
    pub async fn resolve(&self, headers: &HeaderMap, meta: &RequestMeta) -> Result<Principal, AppError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    AppError::unauthenticated("the Authorization header must be `Bearer <token>`")
                })?;
            return match self.resolve_bearer(token).await {
                Ok(principal) => Ok(principal),
                Err(AppError::Unauthenticated { message }) => {
                    self.audit(
                        None,
                        "anonymous",
                        "token.rejected",
                        "",
                        Outcome::Denied,
                        meta,
                        &message,
                    )
                    .await;
                    Err(AppError::Unauthenticated { message })
                }
                Err(other) => Err(other),
            };
        }
        if let Some(cookie) = cookie_value(headers, &self.0.settings.cookie_name)
            && let Some(principal) = self.resolve_cookie(&cookie).await?
        {
            return Ok(principal);
        }
        Ok(Principal::anonymous(self.0.settings.enabled))
    }

    async fn resolve_bearer(&self, token: &str) -> Result<Principal, AppError> {
        let db = &self.0.db;
        if token.starts_with(API_TOKEN_PREFIX) {
            let row = db
                .find_api_token_by_hash(&hash_secret(token))
                .await?
                .ok_or_else(|| AppError::unauthenticated("unknown API token"))?;
            let now = Utc::now();
            if row.revoked_at.is_some() {
                return Err(AppError::unauthenticated("this API token has been revoked"));
            }
            if row.expires_at.is_some_and(|at| at <= now) {
                return Err(AppError::unauthenticated("this API token has expired"));
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
                .ok_or_else(|| AppError::unauthenticated("the token's user is deactivated"));
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
            .ok_or_else(|| AppError::unauthenticated("this bearer token has been signed out"))?;
        let user_id: i64 = claims
            .sub
            .parse()
            .map_err(|_| AppError::unauthenticated("the bearer token's subject is not a user id"))?;
        if user_id != session.user_id {
            return Err(AppError::unauthenticated(
                "the bearer token does not match its session",
            ));
        }
        self.principal_for(
            user_id,
            Via::Jwt {
                session_id: session.id,
            },
        )
        .await?
        .ok_or_else(|| AppError::unauthenticated("this account is deactivated"))
    }

    async fn resolve_cookie(&self, cookie: &str) -> Result<Option<Principal>, AppError> {
        if !cookie.starts_with(SESSION_PREFIX) {
            return Ok(None);
        }
        let db = &self.0.db;
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
    async fn principal_for(&self, user_id: i64, via: Via) -> Result<Option<Principal>, AppError> {
        let user = match self.0.db.find_user(user_id).await {
            Ok(user) if user.active => user,
            Ok(_) | Err(crate::db::DbError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let tenant_ids = self
            .0
            .db
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

    fn verify_jwt(&self, token: &str) -> Result<BearerClaims, AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[JWT_ISSUER]);
        validation.set_audience(&[JWT_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let key = DecodingKey::from_secret(&self.0.settings.jwt_key.0);
        jsonwebtoken::decode::<BearerClaims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                AppError::unauthenticated(match e.kind() {
                    ErrorKind::ExpiredSignature => "the bearer token has expired",
                    ErrorKind::InvalidAudience => "the bearer token is for another audience",
                    ErrorKind::InvalidIssuer => "the bearer token is from another issuer",
                    ErrorKind::InvalidSignature => "the bearer token's signature is invalid",
                    ErrorKind::InvalidAlgorithm => "the bearer token's algorithm is not accepted",
                    _ => "the bearer token is malformed",
                })
            })
    }

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

    /// Opens a browser session; returns the `Set-Cookie` value.
    pub async fn open_cookie_session(
        &self,
        user: &UserRow,
        method: LoginMethod,
        meta: &RequestMeta,
    ) -> Result<String, AppError> {
        let secret = random_secret(SESSION_PREFIX);
        let max_age = self.0.settings.session_max_age;
        self.0
            .db
            .insert_session(&NewSession {
                token_hash: &hash_secret(&secret),
                user_id: user.id,
                kind: "cookie",
                method: method.as_str(),
                user_agent: &meta.user_agent,
                ip: &meta.ip,
                expires_at: Utc::now() + max_age,
            })
            .await?;
        Ok(self.cookie_header(&secret, max_age.num_seconds()))
    }

    /// Issues a short-lived bearer JWT backed by a session row, so logout revokes it.
    pub async fn issue_jwt(
        &self,
        user: &UserRow,
        method: LoginMethod,
        meta: &RequestMeta,
    ) -> Result<IssuedJwt, AppError> {
        let lifetime = self.0.settings.jwt_lifetime;
        let now = Utc::now();
        let sid = self
            .0
            .db
            .insert_session(&NewSession {
                token_hash: &hash_secret(&random_secret("jti_")),
                user_id: user.id,
                kind: "bearer",
                method: method.as_str(),
                user_agent: &meta.user_agent,
                ip: &meta.ip,
                expires_at: now + lifetime,
            })
            .await?;
        let claims = BearerClaims {
            sub: user.id.to_string(),
            sid,
            role: user.role,
            iss: JWT_ISSUER.into(),
            aud: JWT_ISSUER.into(),
            iat: now.timestamp(),
            exp: (now + lifetime).timestamp(),
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.0.settings.jwt_key.0),
        )
        .map_err(AppError::internal)?;
        Ok(IssuedJwt {
            token,
            expires_in: lifetime.num_seconds(),
        })
    }

    /// Ends the session this request came with (cookie or JWT). Other credentials have no
    /// session to end.
    pub async fn end_session(&self, principal: &Principal, meta: &RequestMeta) -> Result<(), AppError> {
        let user_id = principal.user_id()?;
        let (Via::Cookie { session_id } | Via::Jwt { session_id }) = principal.via else {
            return Err(AppError::invalid(
                "session",
                "this request has no session to sign out of",
            ));
        };
        self.0.db.revoke_session(user_id, session_id).await?;
        self.audit(
            Some(user_id),
            &principal.display_name(),
            "logout",
            "",
            Outcome::Success,
            meta,
            "",
        )
        .await;
        Ok(())
    }

    /// `Set-Cookie` for the session cookie.
    pub fn cookie_header(&self, value: &str, max_age_secs: i64) -> String {
        let secure = if self.0.settings.cookie_secure {
            "; Secure"
        } else {
            ""
        };
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}",
            self.0.settings.cookie_name
        )
    }

    /// `Set-Cookie` that deletes the session cookie.
    pub fn clear_cookie_header(&self) -> String {
        self.cookie_header("", 0)
    }

    /// Appends to the audit log. A failure to record is logged, not raised: the request's own
    /// outcome stands.
    #[allow(clippy::too_many_arguments)]
    pub async fn audit(
        &self,
        actor_id: Option<i64>,
        actor: &str,
        action: &'static str,
        target: &str,
        outcome: Outcome,
        meta: &RequestMeta,
        detail: &str,
    ) {
        let record = AuditRecord {
            actor_id,
            actor: actor.chars().take(200).collect(),
            action,
            target: target.chars().take(200).collect(),
            outcome,
            ip: meta.ip.clone(),
            detail: detail.chars().take(500).collect(),
        };
        if let Err(err) = self.0.db.record_audit(&record).await {
            tracing::error!(error = %err, action, "could not write the audit log");
        }
    }
}

pub fn login_action(method: LoginMethod) -> &'static str {
    match method {
        LoginMethod::Password => "login.password",
        LoginMethod::Google => "login.google",
        LoginMethod::Keycloak => "login.keycloak",
    }
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
