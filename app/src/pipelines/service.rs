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

/// The longest slug, intent and decision notes (the seed had no caps: a 2,000,000-character
/// intent was stored as given). `docs/pipelines.md` lists them.
pub const MAX_SLUG: usize = 100;
pub const MAX_INTENT: usize = 2_000;
pub const MAX_NOTES: usize = 10_000;
/// Typed patches kept for one stage's worker at most (each direct patch adds one).
pub const MAX_KEPT_PATCHES: usize = 100;

/// Defaults from the configuration: the stages a pipeline has and the gates on them.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    pub stages: Vec<String>,
    pub gates: BTreeMap<String, GateConfig>,
    pub limits: RateLimits,
    pub retention: Retention,
    /// What the operator console's `/api/v1/config/operator` shows of the server (its
    /// `server` section: host, port, log level…), set by the server at start-up.
    pub server_facts: serde_json::Value,
}

/// How long events are kept (the seed's storage retention: 30 days, 1,000 a pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Retention {
    pub days: u32,
    pub max_events_per_job: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            days: 30,
            max_events_per_job: 1000,
        }
    }
}

/// Per-client limits on the pipelines API (the seed declared them and never enforced them: its
/// clients were written against none, so the general limit's default leaves room for a busy
/// worker and a console polling beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Both limits on (the seed's `security.rate_limiting.enabled`).
    pub enabled: bool,
    /// Pipelines one client may create per minute.
    pub jobs_per_minute: u32,
    /// Requests one client may make per minute on `/api/v1/jobs…`, with `burst` at once.
    pub requests_per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimits {
    /// A worker driving pipelines through nine stages while the seed's console polls its events
    /// every 2 s makes about 150 requests a minute (`docs/pipelines.md`); 1,200 a minute with 120
    /// at once leaves it eight times that and still stops a runaway loop.
    fn default() -> Self {
        Self {
            enabled: true,
            jobs_per_minute: 5,
            requests_per_minute: 1200,
            burst: 120,
        }
    }
}

impl Default for PipelineSettings {
    /// The seed's stages and its `conf/operator.yaml` gates: required ones at script,
    /// storyboard, assets and audio; optional auto-approving ones (with the seed's timers) at
    /// the other five, which a pipeline passes unless someone rejected them in advance.
    fn default() -> Self {
        // Optional gates hold nothing up, so whoever requested the pipeline may approve them
        // too (the seed's one admin token creates and decides everything).
        let optional = |after_s: u64| GateConfig {
            required: false,
            auto_approve: true,
            auto_approve_after_s: Some(after_s),
            allow_self_approval: true,
            ..GateConfig::default()
        };
        let mut gates: BTreeMap<String, GateConfig> = ["script", "storyboard", "assets", "audio"]
            .into_iter()
            .map(|s| (s.to_owned(), GateConfig::default()))
            .collect();
        for (stage, after_s) in [
            ("outline", 1800),
            ("research", 2700),
            ("animatics", 5400),
            ("assemble", 7200),
            ("acceptance", 1800),
        ] {
            gates.insert(stage.to_owned(), optional(after_s));
        }
        Self {
            stages: SEED_STAGES.iter().map(|s| (*s).to_owned()).collect(),
            gates,
            limits: RateLimits::default(),
            retention: Retention::default(),
            server_facts: serde_json::Value::Null,
        }
    }
}

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
    settings: PipelineSettings,
    /// Creations per caller, whether through REST or the pages, on any replica.
    creations: super::limits::SharedLimit,
}

impl PipelineService {
    pub fn new(store: PipelineStore, audit: Audit, settings: PipelineSettings) -> Self {
        let creations = super::limits::SharedLimit::new(
            store.db().clone(),
            "pipelines.create",
            settings.limits.jobs_per_minute,
            "Job creation rate limit exceeded. Please wait before creating another job.",
        );
        Self {
            store,
            audit,
            settings,
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
        if self.settings.limits.enabled {
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

    /// The pipelines the caller may see, newest first, optionally of one status.
    #[tracing::instrument(name = "pipelines.list", skip_all)]
    pub async fn list(
        &self,
        principal: &Principal,
        status: Option<PipelineStatus>,
    ) -> Result<Vec<PipelineRow>> {
        principal.authorize(Permission::Read)?;
        Ok(self
            .store
            .list(status, 1000)
            .await?
            .into_iter()
            .filter(|p| {
                p.tenant_id
                    .is_none_or(|t| principal.authorize(Permission::Tenant(t)).is_ok())
            })
            .collect())
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
        let mut waiting = Vec::new();
        for pipeline in self.list(principal, Some(PipelineStatus::NeedsApproval)).await? {
            let Some(gate) = self.store.gate(&pipeline.id, &pipeline.stage).await? else {
                continue;
            };
            let approvals = self.store.approvals(&pipeline.id, &pipeline.stage).await?;
            if super::views::may_not_approve(principal, &pipeline, &gate, &approvals).is_none() {
                waiting.push(pipeline);
            }
        }
        Ok(waiting)
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

    /// Resumes a paused pipeline at its stage, first applying the JSON patch attached to the
    /// rejection there to the pipeline's parameters (the seed applied it to the stage's
    /// artifact). Returns how many patches were applied. A patch that does not apply changes
    /// nothing but the gate: it is reopened, so people decide again — approve, or reject with
    /// another patch — and the caller hears why (409).
    #[tracing::instrument(name = "pipelines.resume", skip_all)]
    pub async fn resume(&self, principal: &Principal, id: &str) -> Result<usize> {
        let pipeline = self.get(principal, id).await?;
        principal.authorize(Permission::Operate)?;
        let gate = self.store.gate(id, &pipeline.stage).await?;
        let patch = gate.as_ref().and_then(|g| g.patch.as_deref());
        let mut params: serde_json::Value = serde_json::from_str(&pipeline.params).unwrap_or_default();
        let applied = match patch {
            Some(patch) if pipeline.status() == Some(PipelineStatus::Paused) => {
                let applies = serde_json::from_str::<json_patch::Patch>(patch)
                    .map_err(|e| e.to_string())
                    .and_then(|patch| json_patch::patch(&mut params, &patch).map_err(|e| e.to_string()));
                if let Err(why) = applies {
                    let by = principal.display_name();
                    let reopened = self
                        .store
                        .reopen_gate(
                            id,
                            &pipeline.stage,
                            &NewEvent {
                                kind: "patch_failed",
                                stage: Some(&pipeline.stage),
                                status: Some(PipelineStatus::Paused),
                                message: &format!(
                                    "the rejection's patch at {} did not apply ({why}); the gate is open again",
                                    pipeline.stage
                                ),
                                payload: serde_json::json!({ "by": by, "error": why }),
                            },
                        )
                        .await?;
                    return Err(PipelineError::Conflict(if reopened {
                        format!(
                            "the rejection's patch does not apply to the parameters: {why}; the gate at {} is open again: approve it, or reject it with another patch",
                            pipeline.stage
                        )
                    } else {
                        "the pipeline changed meanwhile; look again".to_owned()
                    }));
                }
                1
            }
            _ => 0,
        };
        let stage = pipeline.stage.clone();
        self.apply(
            principal,
            &pipeline,
            Transition::Resume,
            &stage,
            (applied > 0).then_some(&params),
            &[],
            "job_resumed",
        )
        .await?;
        Ok(applied)
    }

    /// Applies a patch to a pipeline's parameters now (the seed's direct patch endpoint): JSON
    /// patch operations change them; the seed's typed patches (`{"type": "text_replace", …}`)
    /// are kept under `patches.<stage>` for the worker of that stage. The event says who did it.
    #[tracing::instrument(name = "pipelines.apply_patch", skip_all)]
    pub async fn apply_patch(
        &self,
        principal: &Principal,
        id: &str,
        stage: &str,
        patch: &serde_json::Value,
    ) -> Result<()> {
        principal.authorize(Permission::Operate)?;
        let pipeline = self.get(principal, id).await?;
        let stages: Vec<String> = serde_json::from_str(&pipeline.stages).unwrap_or_default();
        if !stages.iter().any(|s| s == stage) {
            return Err(
                FieldError::new("stage", format!("{stage:?} is not one of the pipeline's stages")).into(),
            );
        }
        if pipeline.status().is_none_or(PipelineStatus::has_ended) {
            return Err(PipelineError::Conflict(format!(
                "the pipeline is {}: it has ended",
                pipeline.status
            )));
        }
        let mut params: serde_json::Value = serde_json::from_str(&pipeline.params).unwrap_or_default();
        let operations = if patch.is_array() {
            patch.clone()
        } else {
            serde_json::Value::Array(vec![patch.clone()])
        };
        if is_json_patch(&operations) {
            let operations: json_patch::Patch =
                serde_json::from_value(operations).map_err(|e| FieldError::new("patch", e.to_string()))?;
            json_patch::patch(&mut params, &operations).map_err(|e| {
                PipelineError::Conflict(format!("the patch does not apply to the parameters: {e}"))
            })?;
        } else if patch.get("type").and_then(serde_json::Value::as_str).is_some() {
            if !params.is_object() {
                params = serde_json::json!({});
            }
            let kept = &mut params["patches"];
            if !kept.is_object() {
                *kept = serde_json::json!({});
            }
            let list = &mut kept[stage];
            if !list.is_array() {
                *list = serde_json::json!([]);
            }
            if let Some(list) = list.as_array_mut() {
                if list.len() >= MAX_KEPT_PATCHES {
                    return Err(PipelineError::Conflict(format!(
                        "{MAX_KEPT_PATCHES} patches are kept for {stage} already: its worker applies them first"
                    )));
                }
                list.push(patch.clone());
            }
        } else {
            return Err(FieldError::new(
                "patch",
                "expected JSON patch operations ({op, path, value}) or a typed patch ({type, …}: see /api/v1/patches/types)",
            )
            .into());
        }
        let by = principal.display_name();
        let changed = self
            .store
            .replace_params(
                id,
                &pipeline.params,
                &params,
                &NewEvent {
                    kind: "patch_applied_direct",
                    stage: Some(stage),
                    status: None,
                    message: &format!("Patch applied directly by {by}"),
                    payload: serde_json::json!({ "operator": by, "patch": patch, "stage": stage }),
                },
            )
            .await?;
        if changed {
            Ok(())
        } else {
            Err(PipelineError::Conflict(
                "the pipeline changed meanwhile; look again".into(),
            ))
        }
    }

    /// Ends a pipeline on behalf of another domain that ran its work (the catalog, after the
    /// deploy its gate approved was handed over): completed from running, or canceled from
    /// paused after a rejection. Guarded on the status like every move; `false` when the
    /// pipeline was elsewhere.
    #[tracing::instrument(name = "pipelines.conclude", skip_all)]
    pub async fn conclude(&self, id: &str, by: &str, completed: bool) -> Result<bool> {
        let Some(pipeline) = self.store.get(id).await? else {
            return Ok(false);
        };
        let from = pipeline.status().unwrap_or(PipelineStatus::Failed);
        let transition = if completed {
            Transition::Complete
        } else {
            Transition::Cancel
        };
        let Ok(to) = next(from, transition) else {
            return Ok(false);
        };
        let kind = if completed {
            "job_completed"
        } else {
            "job_canceled"
        };
        Ok(self
            .store
            .transition(
                id,
                from,
                to,
                &pipeline.stage,
                &NewEvent {
                    kind,
                    stage: Some(&pipeline.stage),
                    status: Some(to),
                    message: &format!("{} by {by}", transition.as_str()),
                    payload: serde_json::json!({ "by": by }),
                },
            )
            .await?)
    }

    /// A worker takes up a queued pipeline: the first stage runs, or its gate opens (or, decided
    /// in advance, its decision applies).
    #[tracing::instrument(name = "pipelines.claim", skip_all)]
    pub async fn claim(&self, principal: &Principal, id: &str) -> Result<PipelineRow> {
        let pipeline = self.get(principal, id).await?;
        let stages: Vec<String> = serde_json::from_str(&pipeline.stages).unwrap_or_default();
        let first = stages.first().cloned().unwrap_or_default();
        let (transition, kind) = match self.gate_ahead(id, &first).await? {
            Ahead::Pass => (Transition::Start, "stage_started"),
            Ahead::Wait => (Transition::AwaitGate, "gate_opened"),
            Ahead::Halt => (Transition::Halt, "job_paused"),
        };
        self.apply(principal, &pipeline, transition, &first, None, &[], kind)
            .await?;
        self.get(principal, id).await
    }

    /// A worker reports the running stage: failed ends the pipeline; succeeded moves to the
    /// next stage — through its gate, if it has one (a decision made in advance applies now) —
    /// or completes the pipeline after the last.
    #[tracing::instrument(name = "pipelines.report", skip_all)]
    pub async fn report(
        &self,
        principal: &Principal,
        id: &str,
        stage: &str,
        succeeded: bool,
        artifacts: &[ArtifactRow],
    ) -> Result<PipelineRow> {
        let pipeline = self.get(principal, id).await?;
        if pipeline.stage != stage {
            return Err(PipelineError::Conflict(format!(
                "the pipeline is at {:?}, not at {stage:?}",
                pipeline.stage
            )));
        }
        let stages: Vec<String> = serde_json::from_str(&pipeline.stages).unwrap_or_default();
        let following = stages
            .iter()
            .position(|s| s == stage)
            .and_then(|i| stages.get(i + 1))
            .cloned();
        let (transition, to_stage, kind) = match (succeeded, following) {
            (false, _) => (Transition::Fail, stage.to_owned(), "stage_failed"),
            (true, None) => (Transition::Complete, stage.to_owned(), "job_completed"),
            (true, Some(next_stage)) => match self.gate_ahead(id, &next_stage).await? {
                Ahead::Pass => (Transition::Advance, next_stage, "stage_started"),
                Ahead::Wait => (Transition::AwaitGate, next_stage, "gate_opened"),
                Ahead::Halt => (Transition::Halt, next_stage, "job_paused"),
            },
        };
        self.apply(principal, &pipeline, transition, &to_stage, None, artifacts, kind)
            .await?;
        self.get(principal, id).await
    }

    /// What the gate of `stage` does to a pipeline arriving there: nothing (no gate, an optional
    /// or auto-approving one without a timer, or approved in advance), wait for people (a
    /// required gate; an auto-approving one with a timer waits for its timer), or hold it
    /// paused (rejected in advance).
    async fn gate_ahead(&self, id: &str, stage: &str) -> Result<Ahead> {
        let Some(gate) = self.store.gate(id, stage).await? else {
            return Ok(Ahead::Pass);
        };
        Ok(match gate.decision().map(|d| d.decision) {
            Some(Decision::Approved) => Ahead::Pass,
            Some(Decision::Rejected | Decision::Expired) => Ahead::Halt,
            None if gate.required && (!gate.auto_approve || gate.auto_approve_after_s.is_some()) => {
                Ahead::Wait
            }
            None => Ahead::Pass,
        })
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

/// What a gate does to a pipeline arriving at it.
enum Ahead {
    Pass,
    Wait,
    Halt,
}

/// Whether the pipeline has yet to reach the gate of `stage`: a later stage than its own, or
/// its own while it is queued (the first stage's gate opens when a worker claims it).
fn ahead(pipeline: &PipelineRow, status: PipelineStatus, stage: &str) -> bool {
    let stages: Vec<String> = serde_json::from_str(&pipeline.stages).unwrap_or_default();
    let at = |s: &str| stages.iter().position(|x| x == s);
    match (at(stage), at(&pipeline.stage)) {
        (Some(gate), Some(current)) => {
            gate > current || (gate == current && status == PipelineStatus::Queued)
        }
        _ => false,
    }
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
