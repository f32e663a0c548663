//! `PipelineError`: what the pipeline service says when it says no, mapped to `AppError` once.

use super::state::IllegalTransition;
use super::store::DecideError;
use crate::db::DbError;
use crate::error::{AppError, FieldError};
use crate::identity::AccessError;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// No such pipeline or gate — also one the caller may not see.
    #[error("{0}")]
    NotFound(String),
    /// The state machine refuses (409, with its reason).
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// Someone else decided first (409: "already decided by X at T").
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbError),
    /// Over a per-caller limit (429 with the wait).
    #[error("{0}")]
    Limited(AppError),
}

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

impl From<DecideError> for PipelineError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::AlreadyDecided { decision, by, at } => Self::Conflict(format!(
                "already decided by {by} at {}: {}",
                at.format("%Y-%m-%dT%H:%M:%SZ"),
                decision.as_str()
            )),
            DecideError::AlreadyApproved => Self::Conflict("you have already approved this gate".into()),
            DecideError::NotWaiting(status) => Self::Conflict(format!(
                "the pipeline is {status}: it is not waiting for this decision"
            )),
            DecideError::NotFound => Self::NotFound("no such pipeline or gate".into()),
            DecideError::Db(e) => Self::Db(e),
        }
    }
}

impl From<AppError> for PipelineError {
    /// Only the limits answer with an `AppError` of their own.
    fn from(e: AppError) -> Self {
        Self::Limited(e)
    }
}

impl From<PipelineError> for AppError {
    fn from(err: PipelineError) -> Self {
        match err {
            PipelineError::Access(e) => e.into(),
            PipelineError::Invalid(e) => e.into(),
            PipelineError::NotFound(m) => AppError::not_found(m),
            PipelineError::Illegal(e) => AppError::conflict(e.to_string()),
            PipelineError::Conflict(m) => AppError::conflict(m),
            PipelineError::Db(e) => e.into(),
            PipelineError::Limited(e) => e,
        }
    }
}
