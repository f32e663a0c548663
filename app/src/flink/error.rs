//! `FlinkError`: what can go wrong in the Flink jobs service, mapped to `AppError` once, here.

use crate::error::AppError;
use crate::identity::AccessError;

#[derive(Debug, thiserror::Error)]
pub enum FlinkError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("{0}")]
    NotFound(String),
    /// The action does not fit the job's state (resume a running job, suspend a session cluster).
    #[error("{0}")]
    Conflict(String),
    /// No cluster, or the API server did not do what was asked; in words for the user.
    #[error("{0}")]
    Unavailable(String),
}

pub type Result<T, E = FlinkError> = std::result::Result<T, E>;

impl From<FlinkError> for AppError {
    fn from(err: FlinkError) -> Self {
        match err {
            FlinkError::Access(e) => e.into(),
            FlinkError::NotFound(message) => Self::not_found(message),
            FlinkError::Conflict(message) => Self::conflict(message),
            FlinkError::Unavailable(message) => Self::unavailable(message),
        }
    }
}
