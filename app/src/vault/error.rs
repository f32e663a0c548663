//! `VaultError`: what the vault says when it says no, with the auth-manager seed's codes and
//! statuses (`{error, code, reason}` on the wire), so the seed's clients read it unchanged.

use super::crypto::CryptoError;
use super::keycloak::KeycloakError;
use crate::db::DbError;
use crate::error::AppError;
use crate::identity::AccessError;

/// The seed's error codes, plus the ones Heimdall adds (`forbidden`, `vault_disabled`,
/// `token_unreadable`, `busy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultCode {
    Unauthorized,
    TokenNotActive,
    TokenNotFound,
    ValidationError,
    InvalidRequest,
    /// A malformed request (query or body): the seed's 422 `validation_error`, naming the field.
    RequestValidation,
    InvalidAckState,
    KeycloakError,
    KeycloakCallbackError,
    DatabaseError,
    InternalError,
    Forbidden,
    VaultDisabled,
    TokenUnreadable,
    Busy,
}

impl VaultCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::TokenNotActive => "token_not_active",
            Self::TokenNotFound => "token_not_found",
            Self::ValidationError | Self::RequestValidation => "validation_error",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidAckState => "invalid_ack_state",
            Self::KeycloakError => "keycloak_error",
            Self::KeycloakCallbackError => "keycloak_callback_error",
            Self::DatabaseError => "database_error",
            Self::InternalError => "internal_error",
            Self::Forbidden => "forbidden",
            Self::VaultDisabled => "vault_disabled",
            Self::TokenUnreadable => "token_unreadable",
            Self::Busy => "busy",
        }
    }

    /// The seed's `errors_mapping` (Keycloak and database trouble are 502 there).
    pub fn status(self) -> u16 {
        match self {
            Self::Unauthorized | Self::TokenNotActive => 401,
            Self::Forbidden => 403,
            Self::TokenNotFound => 404,
            Self::ValidationError | Self::InvalidRequest | Self::InvalidAckState => 400,
            Self::RequestValidation => 422,
            Self::KeycloakError | Self::KeycloakCallbackError | Self::DatabaseError => 502,
            Self::VaultDisabled | Self::Busy => 503,
            Self::InternalError | Self::TokenUnreadable => 500,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{error} ({})", code.as_str())]
pub struct VaultError {
    pub code: VaultCode,
    pub error: String,
    pub reason: Option<String>,
    /// The malformed field (`query.id`, `body.refresh_token`), for `details`.
    pub field: Option<String>,
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;

impl VaultError {
    pub fn new(code: VaultCode, error: impl Into<String>) -> Self {
        Self {
            code,
            error: error.into(),
            reason: None,
            field: None,
        }
    }

    /// A malformed request: 422 naming `field` (as the seed's `{"query.id": "…"}` details).
    pub fn malformed(field: &str, reason: impl Into<String>) -> Self {
        Self {
            code: VaultCode::RequestValidation,
            error: "Validation error".into(),
            reason: Some(reason.into()),
            field: Some(field.to_owned()),
        }
    }

    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            VaultCode::TokenNotFound,
            "No data found for this persistent token id",
        )
    }

    pub fn unauthorized(error: impl Into<String>) -> Self {
        Self::new(VaultCode::Unauthorized, error)
    }

    pub fn disabled(reason: &str) -> Self {
        Self::new(VaultCode::VaultDisabled, "the token vault is off").because(reason)
    }
}

impl From<DbError> for VaultError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "vault: database error");
        Self::new(VaultCode::DatabaseError, "the vault's database failed")
    }
}

impl From<KeycloakError> for VaultError {
    fn from(e: KeycloakError) -> Self {
        tracing::warn!(error = %e, "vault: Keycloak said no");
        let error = match &e {
            KeycloakError::Unavailable { .. } => "Keycloak is unavailable",
            KeycloakError::Refused { .. } => "Keycloak refused the request",
        };
        Self::new(VaultCode::KeycloakError, error).because(e.to_string())
    }
}

impl From<CryptoError> for VaultError {
    fn from(e: CryptoError) -> Self {
        tracing::error!(error = %e, "vault: a stored token failed to open");
        Self::new(VaultCode::TokenUnreadable, e.to_string())
    }
}

impl From<AccessError> for VaultError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Unauthenticated(m) => Self::unauthorized(m),
            AccessError::Forbidden(m) => Self::new(VaultCode::Forbidden, m),
        }
    }
}

impl From<VaultError> for AppError {
    fn from(e: VaultError) -> Self {
        let message = match &e.reason {
            Some(reason) => format!("{}: {reason}", e.error),
            None => e.error.clone(),
        };
        match e.code {
            VaultCode::Unauthorized | VaultCode::TokenNotActive => AppError::unauthenticated(message),
            VaultCode::Forbidden => AppError::forbidden(message),
            VaultCode::TokenNotFound => AppError::not_found(message),
            VaultCode::ValidationError
            | VaultCode::InvalidRequest
            | VaultCode::InvalidAckState
            | VaultCode::RequestValidation => {
                AppError::invalid(e.field.as_deref().unwrap_or("request"), message)
            }
            VaultCode::Busy => AppError::conflict(message),
            VaultCode::KeycloakError
            | VaultCode::KeycloakCallbackError
            | VaultCode::DatabaseError
            | VaultCode::VaultDisabled
            | VaultCode::TokenUnreadable
            | VaultCode::InternalError => AppError::Unavailable { message },
        }
    }
}
