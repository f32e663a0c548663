//! Pipeline and gate types shared by the store, the service and the pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a gate's decision was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Rejected,
    /// Its timer ran out with `timeout_action = expire`.
    Expired,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Approved, Self::Rejected, Self::Expired]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// What a gate's timer does when nobody decided in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutAction {
    #[default]
    Approve,
    Reject,
    Expire,
}

impl TimeoutAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Expire => "expire",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Approve, Self::Reject, Self::Expire]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// A gate as configured (the seed's `gates.<stage>: {required, auto_approve,
/// auto_approve_after_s}`, plus who may decide and how many must).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    pub required: bool,
    pub auto_approve: bool,
    /// The timer: after this many seconds at the gate, `timeout_action` happens.
    pub auto_approve_after_s: Option<u64>,
    /// Distinct people who must approve.
    pub approvals_needed: u32,
    /// Roles that may decide (`developer`, `admin`).
    pub allowed_roles: Vec<crate::identity::Role>,
    /// Whether whoever requested the pipeline may approve it.
    pub allow_self_approval: bool,
    pub timeout_action: TimeoutAction,
    /// Whether a rejection must say why (the seed's console sends none: off by default).
    pub notes_required: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        use crate::identity::Role;
        Self {
            required: true,
            auto_approve: false,
            auto_approve_after_s: None,
            approvals_needed: 1,
            allowed_roles: vec![Role::Developer, Role::Admin],
            allow_self_approval: false,
            timeout_action: TimeoutAction::Approve,
            notes_required: false,
        }
    }
}

/// A gate's decision, once there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateDecision {
    pub decision: Decision,
    pub by: String,
    pub at: DateTime<Utc>,
    pub notes: Option<String>,
    /// Whether a timer decided it.
    pub automatic: bool,
}

/// One row of the pipelines list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineSummary {
    pub id: String,
    pub slug: String,
    pub intent: String,
    /// The tenant's slug; `None` for a pipeline of no tenant (every reader sees it).
    pub tenant: Option<String>,
    pub status: crate::pipelines::PipelineStatus,
    pub stage: String,
    pub requested_by: String,
    pub updated_at: DateTime<Utc>,
    /// At a gate the caller may decide now.
    pub waiting_for_you: bool,
}

/// The pipelines page: the rows the filter kept, and what the filter and the form offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineList {
    pub pipelines: Vec<PipelineSummary>,
    /// Slugs of the tenants the caller may filter on and create pipelines in.
    pub tenants: Vec<String>,
    pub can_create: bool,
    /// Whether the list stopped at its limit (newest first).
    pub truncated: bool,
}

/// Where a stage is, for the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    Done,
    Current,
    Upcoming,
}

/// A gate as its card shows it: its rules in words, where it stands, and whether the viewer
/// may decide it (or why not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateView {
    pub config: GateConfig,
    pub opened_at: Option<DateTime<Utc>>,
    /// When its timer acts, while it is open.
    pub due_at: Option<DateTime<Utc>>,
    pub decision: Option<GateDecision>,
    /// Who has approved so far (gates that need several people).
    pub approvals: Vec<String>,
    /// "developer or admin · 1 approval · not the requester".
    pub who_may_decide: String,
    /// `None` when the viewer may decide now, else why not.
    pub you_may_not: Option<String>,
}

/// One stage on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageView {
    pub name: String,
    pub state: StageState,
    pub gate: Option<GateView>,
}

/// One event of the pipeline's log (the poll's field names; the stream's, the seed's `type`
/// and `ts`, are read too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub id: i64,
    #[serde(rename = "event_type", alias = "type")]
    pub kind: String,
    pub stage: Option<String>,
    pub message: String,
    #[serde(rename = "timestamp", alias = "ts")]
    pub at: DateTime<Utc>,
}

/// What a stage produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactView {
    pub stage: String,
    pub name: String,
    pub uri: String,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
}

/// The pipeline page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineDetail {
    pub summary: PipelineSummary,
    /// The parameters, as indented JSON.
    pub params: String,
    pub stages: Vec<StageView>,
    pub artifacts: Vec<ArtifactView>,
    /// The newest events, oldest first; the live stream continues after the last.
    pub events: Vec<EventView>,
    /// Whether the viewer may cancel or resume (developers and admins).
    pub can_operate: bool,
}
