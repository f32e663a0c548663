//! `AdminError`: what can go wrong in the admin service, mapped to `AppError` once, here.

use crate::db::DbError;
use crate::error::{AppError, FieldError};
use crate::identity::AccessError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    NotFound(String),
    /// A duplicate or a change an admin may not make to themselves, in words.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = AdminError> = std::result::Result<T, E>;

impl AdminError {
    /// A unique violation said in words; any other database error unchanged.
    pub fn conflict_as(message: &'static str) -> impl Fn(DbError) -> Self {
        move |e| match e {
            DbError::Conflict { .. } => Self::Conflict(message.to_owned()),
            other => Self::Db(other),
        }
    }
}

impl From<AdminError> for AppError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Access(e) => e.into(),
            AdminError::Invalid(e) => e.into(),
            AdminError::NotFound(message) => Self::not_found(message),
            AdminError::Conflict(message) => Self::conflict(message),
            AdminError::Db(e) => e.into(),
            AdminError::Internal(cause) => Self::internal(cause),
        }
    }
}
