//! `IdentityError`: what can go wrong inside the identity service, typed so callers branch on
//! variants (the OAuth callback audits `OAuthState` apart), mapped to the client-facing
//! `AppError` once, here.

use super::principal::AccessError;
use crate::db::DbError;
use crate::error::{AppError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// A credential (password, bearer token, ID token) that did not check out.
    #[error("{0}")]
    BadCredentials(String),
    #[error("too many failed sign-ins for {what}; try again in {retry_after_secs} s")]
    Locked {
        what: &'static str,
        retry_after_secs: u64,
    },
    /// Good credentials, but this person may not do it (deactivated, not on the allow-list,
    /// no mapped role, a token minting a token).
    #[error("{0}")]
    Refused(String),
    /// The OAuth `state` of a callback is unknown, used, expired or from another browser.
    #[error("{0}")]
    OAuthState(&'static str),
    /// The provider refused to exchange the callback's code.
    #[error("{provider} refused the sign-in code; start again")]
    OAuthCode { provider: &'static str },
    /// The provider could not be reached or answered nonsense.
    #[error("{0}")]
    ProviderUnavailable(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = IdentityError> = std::result::Result<T, E>;

impl IdentityError {
    /// A unique violation said in words; any other database error unchanged.
    pub fn conflict_as(message: &'static str) -> impl Fn(DbError) -> Self {
        move |e| match e {
            DbError::Conflict { .. } => Self::Conflict(message.to_owned()),
            other => Self::Db(other),
        }
    }
}

impl From<IdentityError> for AppError {
    fn from(err: IdentityError) -> Self {
        use IdentityError as E;
        match err {
            E::Access(e) => e.into(),
            E::Invalid(e) => e.into(),
            E::BadCredentials(message) => Self::unauthenticated(message),
            e @ E::Locked { retry_after_secs, .. } => Self::RateLimited {
                retry_after_secs,
                message: e.to_string(),
            },
            E::Refused(message) => Self::forbidden(message),
            E::OAuthState(message) => Self::invalid("state", message),
            e @ E::OAuthCode { .. } => Self::invalid("code", e.to_string()),
            E::ProviderUnavailable(message) => Self::unavailable(message),
            E::NotFound(message) => Self::not_found(message),
            E::Conflict(message) => Self::conflict(message),
            E::Db(e) => e.into(),
            E::Internal(cause) => Self::internal(cause),
        }
    }
}
