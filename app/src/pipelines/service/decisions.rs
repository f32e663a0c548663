//! People's decisions on gates: at the gate the pipeline waits at, or ahead of it (kept on the
//! gate until the pipeline arrives), under the gate's rules — roles, self-approval, notes.

use super::*;
use crate::pipelines::approval::requested_it;

impl PipelineService {
    /// Approves or rejects the gate at `action.stage`. The caller's role must be one the gate
    /// allows, and the requester may not approve their own pipeline unless the gate says so;
    /// a gate with `notes_required` needs notes on a rejection. A gate the pipeline waits at
    /// moves it; one it has not reached yet keeps the decision, which applies when the pipeline
    /// arrives (the seed's pre-approval). Exactly one decision wins; the others hear who made it.
    #[tracing::instrument(name = "pipelines.decide", skip_all)]
    pub async fn decide(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        id: &str,
        decision: Decision,
        action: &GateAction,
    ) -> Result<Decided> {
        principal.authorize(Permission::Operate)?;
        let pipeline = self.get(principal, id).await?;
        let gate =
            self.store.gate(id, &action.stage).await?.ok_or_else(|| {
                PipelineError::NotFound(format!("No gate found for stage {}", action.stage))
            })?;
        if let Some(done) = gate.decision() {
            // The same words the loser of a race hears.
            return Err(crate::pipelines::store::DecideError::AlreadyDecided {
                decision: done.decision,
                by: done.by,
                at: done.at,
            }
            .into());
        }
        let config = gate.config();
        let role = principal.role();
        if !role.is_some_and(|r| config.allowed_roles.contains(&r)) {
            return Err(crate::identity::AccessError::Forbidden("your role may not decide this gate").into());
        }
        if decision == Decision::Approved && !config.allow_self_approval && requested_it(principal, &pipeline)
        {
            return Err(crate::identity::AccessError::Forbidden(
                "you requested this pipeline: someone else approves it",
            )
            .into());
        }
        if decision == Decision::Approved && config.approvals_needed > 1 && principal.actor_id().is_none() {
            // Approvals are counted by person; the static admin token is nobody in particular.
            return Err(crate::identity::AccessError::Forbidden(
                "this gate counts approvals by person: approve with a user account, not the admin token",
            )
            .into());
        }
        if action
            .notes
            .as_deref()
            .is_some_and(|n| n.chars().count() > MAX_NOTES)
        {
            return Err(FieldError::new("notes", format!("at most {MAX_NOTES} characters")).into());
        }
        let notes = action.notes.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if decision == Decision::Rejected && config.notes_required && notes.is_none() {
            return Err(FieldError::new("notes", "say why: this gate's rejections need notes").into());
        }
        let from = pipeline.status().unwrap_or(PipelineStatus::Failed);
        let transition = if decision == Decision::Approved {
            Transition::Approve
        } else {
            Transition::Reject
        };
        // Waiting here (or paused here with the gate reopened): the decision moves it.
        let here = pipeline.stage == action.stage
            && matches!(from, PipelineStatus::NeedsApproval | PipelineStatus::Paused);
        let to = if here {
            Some(next(from, transition)?)
        } else {
            if from.has_ended() {
                next(from, transition)?;
            }
            if !ahead(&pipeline, from, &action.stage) {
                return Err(PipelineError::Conflict(format!(
                    "the pipeline has passed {:?}: deciding its gate now changes nothing",
                    action.stage
                )));
            }
            None
        };
        let by = principal.display_name();
        let verb = decision.as_str();
        let entry = AuditEvent::success(AuditAction::PipelineGateDecided)
            .by(principal.actor_id(), &by)
            .target(&format!("{id}/{}", action.stage))
            .from(meta)
            .detail(&format!(
                "{verb}{}{}",
                if to.is_none() { " in advance" } else { "" },
                notes.map(|n| format!(": {n}")).unwrap_or_default()
            ));
        let payload = serde_json::json!({
            "by": by, "operator": by, "decision": verb, "notes": notes,
            "has_patch": action.patch.is_some(), "in_advance": to.is_none(),
        });
        let message = if to.is_some() {
            format!("{} {verb} by {by}", action.stage)
        } else {
            format!("{} {verb} in advance by {by}", action.stage)
        };
        Ok(self
            .store
            .decide(
                &Decide {
                    pipeline_id: id,
                    stage: &action.stage,
                    decision,
                    by_id: principal.actor_id(),
                    by: &by,
                    notes,
                    patch: action.patch.as_ref(),
                    automatic: false,
                    from,
                    at_stage: &pipeline.stage,
                    to,
                    approvals_needed: config.approvals_needed,
                },
                &NewEvent {
                    kind: if decision == Decision::Approved {
                        "gate_approved"
                    } else {
                        "gate_rejected"
                    },
                    stage: Some(&action.stage),
                    status: to,
                    message: &message,
                    payload,
                },
                &self.audit,
                &entry,
            )
            .await?)
    }
}

/// Whether the pipeline has yet to reach the gate of `stage`: a later stage than its own, or
/// its own while it is queued (the first stage's gate opens when a worker claims it).
pub(super) fn ahead(pipeline: &PipelineRow, status: PipelineStatus, stage: &str) -> bool {
    let stages: Vec<String> = serde_json::from_str(&pipeline.stages).unwrap_or_default();
    let at = |s: &str| stages.iter().position(|x| x == s);
    match (at(stage), at(&pipeline.stage)) {
        (Some(gate), Some(current)) => {
            gate > current || (gate == current && status == PipelineStatus::Queued)
        }
        _ => false,
    }
}
