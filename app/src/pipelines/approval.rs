//! Who may approve a gate: one rule for the decision itself, the "waiting for me" filter, the
//! nav count and the gate cards.

use super::state::PipelineStatus;
use super::store::{GateRow, PipelineRow};
use crate::identity::{Permission, Principal};

/// Why `principal` may not approve `gate` now, or `None` when they may. One rule for the
/// "waiting for me" filter, the nav count and the gate cards; `decide` enforces the same.
pub(crate) fn may_not_approve(
    principal: &Principal,
    pipeline: &PipelineRow,
    gate: &GateRow,
    approvals: &[String],
) -> Option<String> {
    let config = gate.config();
    if gate.decision.is_some() {
        return Some("decided".into());
    }
    if pipeline.status() != Some(PipelineStatus::NeedsApproval) || pipeline.stage != gate.stage {
        return Some("the pipeline is not waiting at this gate".into());
    }
    if let Err(e) = principal.authorize(Permission::Operate) {
        return Some(e.to_string());
    }
    if !principal
        .role()
        .is_some_and(|r| config.allowed_roles.contains(&r))
    {
        return Some("your role may not decide this gate".into());
    }
    if !config.allow_self_approval && requested_it(principal, pipeline) {
        return Some("you requested this pipeline: someone else approves it".into());
    }
    if approvals.contains(&principal.display_name()) {
        return Some("you have approved; it waits for someone else".into());
    }
    None
}

/// Whether `principal` requested `pipeline`. A user is known by id; the static admin token is
/// one actor too — what the token requested, the token does not approve where a gate forbids
/// self-approval (every protected-environment deploy).
pub(crate) fn requested_it(principal: &Principal, pipeline: &PipelineRow) -> bool {
    match principal.actor_id() {
        Some(id) => pipeline.requested_by_id == Some(id),
        None => {
            matches!(principal.via, crate::identity::Via::AdminToken)
                && pipeline.requested_by_id.is_none()
                && pipeline.requested_by == principal.display_name()
        }
    }
}
