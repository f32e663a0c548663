//! Sessions and bearer tokens: opening a browser session (the cookie), issuing a short-lived
//! bearer JWT tied to a session row, checking one, and ending the session a request came with.

use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::error::{IdentityError, Result};
use super::principal::{Principal, Via};
use super::secrets::{SESSION_PREFIX, hash_secret, random_secret};
use super::service::IdentityService;
use super::store::{NewSession, UserRow};
use crate::audit::{AuditAction, AuditEvent};
use crate::error::FieldError;
use crate::identity::{LoginMethod, Role};
use crate::request::RequestMeta;

/// Issuer and audience of Heimdall's own bearer JWTs.
const JWT_ISSUER: &str = "heimdall";
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct BearerClaims {
    pub(super) sub: String,
    pub(super) sid: i64,
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

impl IdentityService {
    /// Checks a bearer JWT's signature, issuer, audience and expiry; says which failed.
    pub(super) fn verify_jwt(&self, token: &str) -> Result<BearerClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[JWT_ISSUER]);
        validation.set_audience(&[JWT_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let key = DecodingKey::from_secret(&self.0.settings.jwt_key.0);
        jsonwebtoken::decode::<BearerClaims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                IdentityError::BadCredentials(
                    match e.kind() {
                        ErrorKind::ExpiredSignature => "the bearer token has expired",
                        ErrorKind::InvalidAudience => "the bearer token is for another audience",
                        ErrorKind::InvalidIssuer => "the bearer token is from another issuer",
                        ErrorKind::InvalidSignature => "the bearer token's signature is invalid",
                        ErrorKind::InvalidAlgorithm => "the bearer token's algorithm is not accepted",
                        _ => "the bearer token is malformed",
                    }
                    .to_owned(),
                )
            })
    }

    /// Opens a browser session; returns the `Set-Cookie` value.
    #[tracing::instrument(name = "identity.open_cookie_session", skip_all, fields(user = %user.username), err)]
    pub async fn open_cookie_session(
        &self,
        user: &UserRow,
        method: LoginMethod,
        meta: &RequestMeta,
    ) -> Result<String> {
        let secret = random_secret(SESSION_PREFIX);
        let max_age = self.0.settings.session_max_age;
        self.0
            .store
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
    #[tracing::instrument(name = "identity.issue_jwt", skip_all, fields(user = %user.username), err)]
    pub async fn issue_jwt(
        &self,
        user: &UserRow,
        method: LoginMethod,
        meta: &RequestMeta,
    ) -> Result<IssuedJwt> {
        self.issue_jwt_lasting(user, method, meta, self.0.settings.jwt_lifetime)
            .await
    }

    /// `issue_jwt` for the IDP portal's `/auth/login` (`auth.idp_login_lifetime_secs`).
    pub async fn issue_idp_login_jwt(&self, user: &UserRow, meta: &RequestMeta) -> Result<IssuedJwt> {
        self.issue_jwt_lasting(
            user,
            LoginMethod::Password,
            meta,
            self.0.settings.idp_login_lifetime,
        )
        .await
    }

    async fn issue_jwt_lasting(
        &self,
        user: &UserRow,
        method: LoginMethod,
        meta: &RequestMeta,
        lifetime: chrono::Duration,
    ) -> Result<IssuedJwt> {
        let now = Utc::now();
        let sid = self
            .0
            .store
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
        .map_err(|e| IdentityError::Internal(format!("signing a JWT: {e}")))?;
        Ok(IssuedJwt {
            token,
            expires_in: lifetime.num_seconds(),
        })
    }

    /// Ends the session this request came with (cookie or JWT). Other credentials have no
    /// session to end.
    #[tracing::instrument(name = "identity.end_session", skip_all, err)]
    pub async fn end_session(&self, principal: &Principal, meta: &RequestMeta) -> Result<()> {
        let user_id = principal.user_id()?;
        let (Via::Cookie { session_id } | Via::Jwt { session_id }) = principal.via else {
            return Err(FieldError::new("session", "this request has no session to sign out of").into());
        };
        self.0.store.revoke_session(user_id, session_id).await?;
        self.0
            .audit
            .record(
                AuditEvent::success(AuditAction::Logout)
                    .by(Some(user_id), &principal.display_name())
                    .from(meta),
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
        let domain = self
            .0
            .settings
            .cookie_domain
            .as_deref()
            .map_or_else(String::new, |d| format!("; Domain={d}"));
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}{domain}",
            self.0.settings.cookie_name
        )
    }

    /// `Set-Cookie` that deletes the session cookie.
    pub fn clear_cookie_header(&self) -> String {
        self.cookie_header("", 0)
    }
}
