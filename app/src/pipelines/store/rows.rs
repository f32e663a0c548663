//! The rows the pipelines' tables hold and the arguments their writes take.

use super::*;

/// A pipeline row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PipelineRow {
    pub id: String,
    pub slug: String,
    pub intent: String,
    pub tenant_id: Option<i64>,
    pub status: String,
    pub stage: String,
    /// JSON array of the stage names, in order.
    pub stages: String,
    pub params: String,
    pub requested_by_id: Option<i64>,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PipelineRow {
    pub fn status(&self) -> Option<PipelineStatus> {
        PipelineStatus::parse(&self.status)
    }
}

/// A gate row: its configuration and, once decided, its decision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GateRow {
    pub pipeline_id: String,
    pub stage: String,
    pub required: bool,
    pub auto_approve: bool,
    pub auto_approve_after_s: Option<i64>,
    pub approvals_needed: i64,
    pub allowed_roles: String,
    pub allow_self_approval: bool,
    pub timeout_action: String,
    pub notes_required: bool,
    pub opened_at: Option<DateTime<Utc>>,
    pub decision: Option<String>,
    pub decided_by_id: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    pub patch: Option<String>,
    pub automatic: bool,
}

impl GateRow {
    pub fn config(&self) -> GateConfig {
        GateConfig {
            required: self.required,
            auto_approve: self.auto_approve,
            auto_approve_after_s: self.auto_approve_after_s.and_then(|s| u64::try_from(s).ok()),
            approvals_needed: u32::try_from(self.approvals_needed).unwrap_or(1),
            allowed_roles: serde_json::from_str(&self.allowed_roles).unwrap_or_default(),
            allow_self_approval: self.allow_self_approval,
            timeout_action: TimeoutAction::parse(&self.timeout_action).unwrap_or_default(),
            notes_required: self.notes_required,
        }
    }

    pub fn decision(&self) -> Option<GateDecision> {
        Some(GateDecision {
            decision: Decision::parse(self.decision.as_deref()?)?,
            by: self.decided_by.clone().unwrap_or_default(),
            at: self.decided_at?,
            notes: self.notes.clone(),
            automatic: self.automatic,
        })
    }
}

pub(super) const GATE_COLUMNS: &str = "pipeline_id, stage, required, auto_approve, auto_approve_after_s, approvals_needed, \
     allowed_roles, allow_self_approval, timeout_action, notes_required, opened_at, decision, decided_by_id, decided_by, decided_at, \
     notes, patch, automatic";
pub(super) const PIPELINE_COLUMNS: &str = "id, slug, intent, tenant_id, status, stage, stages, params, requested_by_id, requested_by, created_at, updated_at";

/// A pipeline to create, with its gates.
pub struct NewPipeline<'a> {
    pub id: &'a str,
    pub slug: &'a str,
    pub intent: &'a str,
    pub tenant_id: Option<i64>,
    pub stages: &'a [String],
    pub params: &'a serde_json::Value,
    pub requested_by_id: Option<i64>,
    pub requested_by: &'a str,
    pub gates: &'a [(String, GateConfig)],
}

/// Who decides, what, and what it does to the pipeline.
pub struct Decide<'a> {
    pub pipeline_id: &'a str,
    pub stage: &'a str,
    pub decision: Decision,
    /// The user deciding (`None` for a timer or the static admin token).
    pub by_id: Option<i64>,
    pub by: &'a str,
    pub notes: Option<&'a str>,
    /// JSON patch operations attached to a rejection (applied on resume).
    pub patch: Option<&'a serde_json::Value>,
    pub automatic: bool,
    /// The status and stage the pipeline must be in, and where the decision takes it: `None`
    /// for a decision made ahead of the pipeline (kept on the gate, applied when it arrives).
    pub from: PipelineStatus,
    pub at_stage: &'a str,
    pub to: Option<PipelineStatus>,
    /// How many distinct approvals the gate needs (read from its configuration).
    pub approvals_needed: u32,
}

/// What a decision call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// The gate is decided and the pipeline moved.
    Final,
    /// One more approval recorded; the gate still waits for others.
    Approval { have: u32, need: u32 },
}

/// Why a decision did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("already decided: {} by {by} at {at}", decision.as_str())]
    AlreadyDecided {
        decision: Decision,
        by: String,
        at: DateTime<Utc>,
    },
    #[error("you have already approved this gate")]
    AlreadyApproved,
    /// The pipeline was not (or no longer) in the status the decision expects.
    #[error("the pipeline is {0}, not waiting for this decision")]
    NotWaiting(String),
    #[error("no such pipeline or gate")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DecideError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// A guarded move of a pipeline (see `transition_with`).
pub struct Move<'a> {
    pub id: &'a str,
    pub from: PipelineStatus,
    /// When set, the pipeline must also be at this stage.
    pub from_stage: Option<&'a str>,
    pub to: PipelineStatus,
    pub stage: &'a str,
    pub params: Option<&'a serde_json::Value>,
    pub artifacts: &'a [ArtifactRow],
}

/// What a stage produced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct ArtifactRow {
    pub stage: String,
    pub name: String,
    pub uri: String,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    #[serde(default = "Utc::now")]
    pub created_at: DateTime<Utc>,
}

/// Pipelines' gates and artifacts, by pipeline id.
pub type JobParts = std::collections::HashMap<String, (Vec<GateRow>, Vec<ArtifactRow>)>;

/// An artifact with its pipeline (the batch read).
#[derive(sqlx::FromRow)]
pub(super) struct OwnedArtifact {
    pub(super) pipeline_id: String,
    #[sqlx(flatten)]
    pub(super) artifact: ArtifactRow,
}

/// An open gate whose timer will act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedGate {
    pub pipeline_id: String,
    pub stage: String,
    pub action: TimeoutAction,
    pub due_at: DateTime<Utc>,
}

/// One event to append.
pub struct NewEvent<'a> {
    pub kind: &'a str,
    pub stage: Option<&'a str>,
    pub status: Option<PipelineStatus>,
    pub message: &'a str,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub pipeline_id: String,
    pub kind: String,
    pub stage: Option<String>,
    pub status: Option<String>,
    pub message: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}
