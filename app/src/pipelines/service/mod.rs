//! `PipelineService`: every pipeline operation, each checking the caller's `Principal` itself —
//! who may see a pipeline (its tenant's members, admins), who may decide a gate (its allowed
//! roles, not the requester unless the gate allows it), what the state machine allows — shared
//! by the seed's REST routes and the pages' server functions.

use std::collections::BTreeMap;

use super::error::{PipelineError, Result};
use super::model::{Decision, GateConfig};
use super::state::{PipelineStatus, Transition, next};
use super::store::{
    ArtifactRow, Decide, Decided, GateRow, Move, NewEvent, NewPipeline, PipelineRow, PipelineStore,
};
use crate::audit::{Audit, AuditAction, AuditEvent};
use crate::error::FieldError;
use crate::identity::{Permission, Principal};
use crate::request::RequestMeta;

mod decisions;
mod patches;
mod workers;

pub use super::settings::{PipelineSettings, RateLimits, Retention, SEED_STAGES};

/// The longest slug, intent and decision notes (the seed had no caps: a 2,000,000-character
/// intent was stored as given). `docs/pipelines.md` lists them.
pub const MAX_SLUG: usize = 100;
pub const MAX_INTENT: usize = 2_000;
pub const MAX_NOTES: usize = 10_000;
/// Typed patches kept for one stage's worker at most (each direct patch adds one).
pub const MAX_KEPT_PATCHES: usize = 100;

/// Whether `value` is a list of RFC 6902 operations.
pub fn is_json_patch(value: &serde_json::Value) -> bool {
    serde_json::from_value::<json_patch::Patch>(value.clone()).is_ok()
}

/// Where a poll of a pipeline's log starts: after an event id, or (the seed's) after a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Id(i64),
    Time(chrono::DateTime<chrono::Utc>),
}

/// A pipeline to create, as a caller asks for it.
#[derive(Debug, Clone, Default)]
pub struct CreatePipeline {
    pub slug: String,
    pub intent: String,
    /// The tenant's id; by default the caller's only tenant.
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
    /// Shared: the service is cloned for every request that reaches it.
    settings: std::sync::Arc<PipelineSettings>,
    /// Creations per caller, whether through REST or the pages, on any replica.
    creations: super::limits::SharedLimit,
}

impl PipelineService {
    pub fn new(store: PipelineStore, audit: Audit, settings: PipelineSettings) -> Self {
        let creations = super::limits::SharedLimit::new(
            store.db().clone(),
            "pipelines.create",
            settings.rate_limit.jobs_per_minute,
            "Job creation rate limit exceeded. Please wait before creating another job.",
        );
        Self {
            store,
            audit,
            settings: std::sync::Arc::new(settings),
            creations,
        }
    }

    pub fn store(&self) -> &PipelineStore {
        &self.store
    }

    pub(super) fn audit(&self) -> &Audit {
        &self.audit
    }

    /// The configured default stages and gates.
    pub fn settings(&self) -> &PipelineSettings {
        &self.settings
    }

    /// Creates a pipeline (developers and admins, in one of their tenants). Returns its id.
    #[tracing::instrument(name = "pipelines.create", skip_all)]
    pub async fn create(&self, principal: &Principal, request: CreatePipeline) -> Result<String> {
        principal.authorize(Permission::Operate)?;
        // The tenant named, else the caller's only one; admins (and the seed's admin token) may
        // create a pipeline of no tenant, which every reader sees.
        let tenant = match (request.tenant_id, principal.tenant_ids.as_slice()) {
            (Some(tenant), _) => Some(tenant),
            (None, [only]) => Some(*only),
            (None, _) if principal.authorize(Permission::Administer).is_ok() => None,
            (None, _) => {
                return Err(
                    FieldError::new("tenant", "a pipeline belongs to a tenant: name one of yours").into(),
                );
            }
        };
        if let Some(tenant) = tenant {
            principal.authorize(Permission::Tenant(tenant))?;
        }
        let slug = request.slug.trim();
        if slug.is_empty() || slug.chars().count() > MAX_SLUG {
            return Err(FieldError::new("slug", format!("1 to {MAX_SLUG} characters")).into());
        }
        if request.intent.chars().count() > MAX_INTENT {
            return Err(FieldError::new("intent", format!("at most {MAX_INTENT} characters")).into());
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
        // Counted once the request is valid: a typo does not use up the caller's minute. A
        // user is counted by id, the admin token as one caller.
        if self.settings.rate_limit.enabled {
            self.creations
                .check(&principal.actor_id().map_or_else(
                    || format!("name:{}", principal.display_name()),
                    |id| format!("user:{id}"),
                ))
                .await?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let gates: Vec<(String, GateConfig)> = gates.into_iter().collect();
        self.store
            .create(&NewPipeline {
                id: &id,
                slug,
                intent: &request.intent,
                tenant_id: tenant,
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
    #[tracing::instrument(name = "pipelines.get", skip_all)]
    pub async fn get(&self, principal: &Principal, id: &str) -> Result<PipelineRow> {
        principal.authorize(Permission::Read)?;
        let row = self
            .store
            .get(id)
            .await?
            .ok_or_else(|| PipelineError::NotFound(format!("Job {id} not found")))?;
        match row.tenant_id {
            Some(tenant) if principal.authorize(Permission::Tenant(tenant)).is_err() => {
                Err(PipelineError::NotFound(format!("Job {id} not found")))
            }
            _ => Ok(row),
        }
    }

    /// The newest `limit` pipelines the caller may see, optionally of one status: the tenant
    /// filter is the query's, so reading the newest hundred reads a hundred rows.
    #[tracing::instrument(name = "pipelines.list", skip_all)]
    pub async fn list(
        &self,
        principal: &Principal,
        status: Option<PipelineStatus>,
        limit: i64,
    ) -> Result<Vec<PipelineRow>> {
        principal.authorize(Permission::Read)?;
        let rows = self
            .store
            .list(status, principal.readable_tenants(), limit)
            .await?;
        debug_assert!(rows.iter().all(|p| p
            .tenant_id
            .is_none_or(|t| principal.authorize(Permission::Tenant(t)).is_ok())));
        Ok(rows)
    }

    /// A page of a pipeline's log, oldest first: at most `limit` (1 to 1,000) events after
    /// `since`, and whether more follow.
    pub async fn events(
        &self,
        principal: &Principal,
        id: &str,
        since: Since,
        limit: i64,
    ) -> Result<(Vec<super::store::EventRow>, bool)> {
        self.get(principal, id).await?;
        let limit = limit.clamp(1, 1000);
        let mut rows = match since {
            Since::Id(after) => self.store.events(id, after, limit + 1).await?,
            // Retention keeps at most its cap of events a pipeline: read them, keep the later.
            Since::Time(after) => self
                .store
                .events(id, 0, 100_000)
                .await?
                .into_iter()
                .filter(|e| e.created_at > after)
                .take(usize::try_from(limit + 1).unwrap_or(1001))
                .collect(),
        };
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(100));
        Ok((rows, more))
    }

    /// Pipeline `id`'s events after event `after`, then each new one as it commits (see
    /// `feed.rs`). The caller checked the viewer may see the pipeline.
    pub fn live_events(
        &self,
        id: &str,
        after: i64,
    ) -> impl futures::Stream<Item = super::store::EventRow> + Send + use<> {
        super::feed::live_events(&self.store, id, after)
    }

    /// The pipelines' gates and artifacts in a fixed number of queries (a list shows them all).
    #[tracing::instrument(name = "pipelines.gates_and_artifacts_of", skip_all)]
    pub async fn gates_and_artifacts_of(&self, rows: &[PipelineRow]) -> Result<super::store::JobParts> {
        let ids: Vec<&str> = rows.iter().map(|p| p.id.as_str()).collect();
        Ok(self.store.gates_and_artifacts_of(&ids).await?)
    }

    /// A pipeline the caller may see, with its gates.
    #[tracing::instrument(name = "pipelines.gates", skip_all)]
    pub async fn gates(&self, principal: &Principal, id: &str) -> Result<(PipelineRow, Vec<GateRow>)> {
        let pipeline = self.get(principal, id).await?;
        Ok((pipeline, self.store.gates(id).await?))
    }

    /// What the stages of a pipeline the caller may see produced.
    #[tracing::instrument(name = "pipelines.artifacts", skip_all)]
    pub async fn artifacts(&self, principal: &Principal, id: &str) -> Result<Vec<ArtifactRow>> {
        self.get(principal, id).await?;
        Ok(self.store.artifacts(id).await?)
    }

    /// The pipelines waiting for the caller's decision: at a gate the caller's role may decide,
    /// not requested by them (unless the gate allows it), not yet approved by them.
    #[tracing::instrument(name = "pipelines.waiting_for", skip_all)]
    pub async fn waiting_for(&self, principal: &Principal) -> Result<Vec<PipelineRow>> {
        if principal.role().is_none() {
            return Ok(Vec::new());
        }
        let at_gates = self
            .list(principal, Some(PipelineStatus::NeedsApproval), 1000)
            .await?;
        let at: Vec<(&str, &str)> = at_gates
            .iter()
            .map(|p| (p.id.as_str(), p.stage.as_str()))
            .collect();
        let gates = self.store.gates_at(&at).await?;
        Ok(at_gates
            .iter()
            .filter(|pipeline| {
                gates.get(&pipeline.id).is_some_and(|(gate, approvals)| {
                    super::approval::may_not_approve(principal, pipeline, gate, approvals).is_none()
                })
            })
            .cloned()
            .collect())
    }

    /// Cancels a pipeline that has not ended (developers and admins of its tenant).
    #[tracing::instrument(name = "pipelines.cancel", skip_all)]
    pub async fn cancel(&self, principal: &Principal, id: &str) -> Result<()> {
        let pipeline = self.get(principal, id).await?;
        let stage = pipeline.stage.clone();
        self.apply(
            principal,
            &pipeline,
            Transition::Cancel,
            &stage,
            None,
            &[],
            "job_canceled",
        )
        .await
    }

    /// Applies `transition` with a guard on the status and stage it was computed from.
    #[allow(
        clippy::too_many_arguments,
        reason = "one guarded move: each argument is part of it"
    )]
    async fn apply(
        &self,
        principal: &Principal,
        pipeline: &PipelineRow,
        transition: Transition,
        to_stage: &str,
        params: Option<&serde_json::Value>,
        artifacts: &[ArtifactRow],
        kind: &str,
    ) -> Result<()> {
        principal.authorize(Permission::Operate)?;
        let from = pipeline.status().unwrap_or(PipelineStatus::Failed);
        let to = next(from, transition)?;
        let by = principal.display_name();
        let moved = self
            .store
            .transition_with(
                &Move {
                    id: &pipeline.id,
                    from,
                    from_stage: Some(&pipeline.stage),
                    to,
                    stage: to_stage,
                    params,
                    artifacts,
                },
                &NewEvent {
                    kind,
                    stage: Some(to_stage),
                    status: Some(to),
                    message: &format!("{} by {by}", transition.as_str()),
                    payload: serde_json::json!({ "by": by, "artifacts": artifacts.len() }),
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
