//! `CatalogError`: what the catalog says when it says no, mapped to `AppError` once. The seed's
//! REST routes answer `UnknownEnvironment` with its 400; everywhere else it is a 422 naming the
//! field.

use crate::db::DbError;
use crate::error::{AppError, FieldError};
use crate::identity::AccessError;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// No such service (also one of another tenant), action or tenant.
    #[error("{0}")]
    NotFound(String),
    /// A deploy to an environment the service does not have.
    #[error("Environment '{0}' is not enabled for this service")]
    UnknownEnvironment(String),
    /// A callback without the right `X-Callback-Token`.
    #[error("Invalid callback token")]
    BadCallbackToken,
    /// The name is taken in the tenant.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(DbError),
    /// Opening the approval pipeline was refused (its limit, its rules): said as it said it.
    #[error("{0}")]
    Approval(AppError),
}

impl From<DbError> for CatalogError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict { .. } => Self::Conflict("a service of that name exists in the tenant".into()),
            other => Self::Db(other),
        }
    }
}

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

impl From<CatalogError> for AppError {
    fn from(err: CatalogError) -> Self {
        match err {
            CatalogError::Access(e) => e.into(),
            CatalogError::Invalid(e) => e.into(),
            CatalogError::NotFound(m) => AppError::not_found(m),
            e @ CatalogError::UnknownEnvironment(_) => AppError::invalid("environment", e.to_string()),
            e @ CatalogError::BadCallbackToken => AppError::forbidden(e.to_string()),
            CatalogError::Conflict(m) => AppError::conflict(m),
            CatalogError::Db(e) => e.into(),
            CatalogError::Approval(e) => e,
        }
    }
}
