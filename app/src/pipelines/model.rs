//! Pipeline and gate types shared by the store, the service and (later) the pages.

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
