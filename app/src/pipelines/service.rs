//! `PipelineService`: every pipeline operation, each checking the caller's `Principal` itself —
//! who may see a pipeline (its tenant's members, admins), who may decide a gate (its allowed
//! roles, not the requester unless the gate allows it), what the state machine allows — shared
//! by the seed's REST routes and the pages (both to come).

use std::collections::BTreeMap;

use super::error::{PipelineError, Result};
use super::model::{Decision, GateConfig};
use super::state::{PipelineStatus, Transition, next};
use super::store::{Decide, Decided, NewEvent, NewPipeline, PipelineRow, PipelineStore};
use crate::audit::{Audit, AuditAction, AuditEvent};
use crate::error::FieldError;
use crate::identity::{Permission, Principal};
use crate::request::RequestMeta;

/// The seed's stages, in order (its `Stage` enum).
pub const SEED_STAGES: [&str; 9] = [
    "outline",
    "research",
    "script",
    "storyboard",
    "assets",
    "animatics",
    "audio",
    "assemble",
    "acceptance",
];

/// Defaults from the configuration: the stages a pipeline has and the gates on them.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    pub stages: Vec<String>,
    pub gates: BTreeMap<String, GateConfig>,
}

impl Default for PipelineSettings {
    /// The seed's stages, and its required gates (script, storyboard, assets, audio).
    fn default() -> Self {
        Self {
            stages: SEED_STAGES.iter().map(|s| (*s).to_owned()).collect(),
            gates: ["script", "storyboard", "assets", "audio"]
                .into_iter()
                .map(|s| (s.to_owned(), GateConfig::default()))
                .collect(),
        }
    }
}

/// A pipeline to create, as a caller asks for it.
#[derive(Debug, Clone, Default)]
pub struct CreatePipeline {
    pub slug: String,
    pub intent: String,
    /// The tenant's id; a pipeline belongs to one.
    pub tenant_id: Option<i64>,
    /// Overrides the configured stages.
    pub stages: Option<Vec<String>>,
    /// Overrides (or adds) gates by stage.
    pub gates: BTreeMap<String, GateConfig>,
    pub params: serde_json::Value,
}

/// A person's decision on a gate (the seed's `GateAction`, minus the decision's own field,
/// which the route gives).
#[derive(Debug, Clone)]
pub struct GateAction {
    pub stage: String,
    pub notes: Option<String>,
    pub patch: Option<serde_json::Value>,
}

#[derive(Clone)]
pub struct PipelineService {
    store: PipelineStore,
    audit: Audit,
    settings: PipelineSettings,
}

impl PipelineService {
    pub fn new(store: PipelineStore, audit: Audit, settings: PipelineSettings) -> Self {
        Self {
            store,
            audit,
            settings,
        }
    }

    pub fn store(&self) -> &PipelineStore {
        &self.store
    }

    /// Creates a pipeline (developers and admins, in one of their tenants). Returns its id.
    pub async fn create(&self, principal: &Principal, request: CreatePipeline) -> Result<String> {
        principal.authorize(Permission::Operate)?;
        let tenant = request
            .tenant_id
            .ok_or_else(|| FieldError::new("tenant", "a pipeline belongs to a tenant: name one"))?;
        principal.authorize(Permission::Tenant(tenant))?;
        let slug = request.slug.trim();
        if slug.is_empty() || slug.len() > 100 {
            return Err(FieldError::new("slug", "1 to 100 characters").into());
        }
        let stages = request.stages.unwrap_or_else(|| self.settings.stages.clone());
        if stages.is_empty() || stages.iter().any(|s| s.trim().is_empty()) {
            return Err(FieldError::new("stages", "at least one stage, each with a name").into());
        }
        if let Some(unknown) = request.gates.keys().find(|g| !stages.contains(g)) {
            return Err(FieldError::new(
                "gates",
                format!("{unknown:?} is not one of the pipeline's stages"),
            )
            .into());
        }
        // The configured gates of the stages this pipeline has, then the request's own.
        let mut gates: BTreeMap<String, GateConfig> = self
            .settings
            .gates
            .iter()
            .filter(|(stage, _)| stages.contains(stage))
            .map(|(stage, gate)| (stage.clone(), gate.clone()))
            .collect();
        gates.extend(request.gates);
        if gates.values().any(|g| g.approvals_needed == 0) {
            return Err(FieldError::new("gates", "approvals_needed is at least 1").into());
        }
        let id = uuid::Uuid::new_v4().to_string();
        let gates: Vec<(String, GateConfig)> = gates.into_iter().collect();
        self.store
            .create(&NewPipeline {
                id: &id,
                slug,
                intent: &request.intent,
                tenant_id: Some(tenant),
                stages: &stages,
                params: &request.params,
                requested_by_id: principal.actor_id(),
                requested_by: &principal.display_name(),
                gates: &gates,
            })
            .await?;
        Ok(id)
    }

    /// A pipeline the caller may see: its tenant's members and admins; anyone else gets the
    /// same "not found" as for an id that does not exist.
    pub async fn get(&self, principal: &Principal, id: &str) -> Result<PipelineRow> {
        principal.authorize(Permission::Read)?;
        let row = self
            .store
            .get(id)
            .await?
            .ok_or_else(|| PipelineError::NotFound(format!("no pipeline {id}")))?;
        match row.tenant_id {
            Some(tenant) if principal.authorize(Permission::Tenant(tenant)).is_err() => {
                Err(PipelineError::NotFound(format!("no pipeline {id}")))
            }
            _ => Ok(row),
        }
    }

    /// Approves or rejects the gate at `action.stage`. Rejecting needs notes. The caller's role
    /// must be one the gate allows, and the requester may not approve their own pipeline unless
    /// the gate says so. Exactly one decision wins; the others hear who made it.
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
        let gate = self
            .store
            .gate(id, &action.stage)
            .await?
            .ok_or_else(|| PipelineError::NotFound(format!("no gate at stage {:?}", action.stage)))?;
        if let Some(done) = gate.decision() {
            // The same words the loser of a race hears.
            return Err(super::store::DecideError::AlreadyDecided {
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
        if decision == Decision::Approved
            && !config.allow_self_approval
            && principal.actor_id().is_some()
            && principal.actor_id() == pipeline.requested_by_id
        {
            return Err(crate::identity::AccessError::Forbidden(
                "you requested this pipeline: someone else approves it",
            )
            .into());
        }
        let notes = action.notes.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if decision == Decision::Rejected && notes.is_none() {
            return Err(FieldError::new("notes", "say why: a rejection needs notes").into());
        }
        let from = pipeline.status().unwrap_or(PipelineStatus::Failed);
        let transition = if decision == Decision::Approved {
            Transition::Approve
        } else {
            Transition::Reject
        };
        let to = next(from, transition)?;
        if pipeline.stage != action.stage {
            return Err(PipelineError::Conflict(format!(
                "the pipeline waits at {:?}, not at {:?}",
                pipeline.stage, action.stage
            )));
        }
        let by = principal.display_name();
        let verb = decision.as_str();
        let entry = AuditEvent::success(AuditAction::PipelineGateDecided)
            .by(principal.actor_id(), &by)
            .target(&format!("{id}/{}", action.stage))
            .from(meta)
            .detail(&format!(
                "{verb}{}",
                notes.map(|n| format!(": {n}")).unwrap_or_default()
            ));
        let payload = serde_json::json!({ "by": by, "decision": verb, "notes": notes, "has_patch": action.patch.is_some() });
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
                    status: Some(to),
                    message: &format!("{} {verb} by {by}", action.stage),
                    payload,
                },
                &self.audit,
                &entry,
            )
            .await?)
    }

    /// Cancels a pipeline that has not ended (developers and admins of its tenant).
    pub async fn cancel(&self, principal: &Principal, id: &str) -> Result<()> {
        self.move_pipeline(principal, id, Transition::Cancel, "job_canceled", None)
            .await
    }

    /// Resumes a paused pipeline at its stage.
    pub async fn resume(&self, principal: &Principal, id: &str) -> Result<()> {
        self.move_pipeline(principal, id, Transition::Resume, "job_resumed", None)
            .await
    }

    /// Applies `transition` with a guard on the status it was computed from.
    async fn move_pipeline(
        &self,
        principal: &Principal,
        id: &str,
        transition: Transition,
        kind: &str,
        stage: Option<&str>,
    ) -> Result<()> {
        principal.authorize(Permission::Operate)?;
        let pipeline = self.get(principal, id).await?;
        let from = pipeline.status().unwrap_or(PipelineStatus::Failed);
        let to = next(from, transition)?;
        let stage = stage.unwrap_or(&pipeline.stage);
        let by = principal.display_name();
        let moved = self
            .store
            .transition(
                id,
                from,
                to,
                stage,
                &NewEvent {
                    kind,
                    stage: Some(stage),
                    status: Some(to),
                    message: &format!("{} by {by}", transition.as_str()),
                    payload: serde_json::json!({ "by": by }),
                },
            )
            .await?;
        if moved {
            Ok(())
        } else {
            Err(PipelineError::Conflict(
                "the pipeline changed meanwhile; look again".into(),
            ))
        }
    }
}
