//! What the pipeline pages show, built from the service's checked reads: the list with its
//! "waiting for you" marks, and one pipeline with its stage timeline, gate cards (who may
//! decide, and whether the viewer may), artifacts and its newest events.

use chrono::Duration;

use super::approval::may_not_approve;
use super::error::Result;
use super::model::{
    ArtifactView, EventView, GateView, PipelineDetail, PipelineList, PipelineSummary, StageState, StageView,
};
use super::service::PipelineService;
use super::state::PipelineStatus;
use super::store::{GateRow, PipelineRow};
use crate::identity::{Permission, Principal};

/// The most rows the list shows, and the events the page starts with.
const LIST_LIMIT: usize = 200;
const EVENTS_SHOWN: i64 = 200;

/// The list's filter.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<PipelineStatus>,
    /// A tenant's slug.
    pub tenant: Option<String>,
    pub waiting_for_me: bool,
    /// Only the caller's own (those they asked for).
    pub mine: bool,
}

/// A gate's rules in words.
fn who_may_decide(gate: &GateRow) -> String {
    let config = gate.config();
    let roles: Vec<&str> = config.allowed_roles.iter().map(|r| r.as_str()).collect();
    let mut words = vec![if roles.is_empty() {
        "nobody (no role allowed)".to_owned()
    } else {
        roles.join(" or ")
    }];
    words.push(match config.approvals_needed {
        1 => "1 approval".to_owned(),
        n => format!("{n} approvals from different people"),
    });
    if !config.allow_self_approval {
        words.push("not the requester".into());
    }
    if let Some(after) = config.auto_approve_after_s {
        words.push(format!("after {after} s: {}", config.timeout_action.as_str()));
    }
    words.join(" · ")
}

impl PipelineService {
    fn summary(&self, p: &PipelineRow, tenants: &[(i64, String)], waiting: bool) -> PipelineSummary {
        PipelineSummary {
            id: p.id.clone(),
            slug: p.slug.clone(),
            intent: p.intent.clone(),
            tenant: p.tenant_id.and_then(|t| {
                tenants
                    .iter()
                    .find(|(id, _)| *id == t)
                    .map(|(_, slug)| slug.clone())
            }),
            status: p.status().unwrap_or(PipelineStatus::Failed),
            stage: p.stage.clone(),
            requested_by: p.requested_by.clone(),
            updated_at: p.updated_at,
            waiting_for_you: waiting,
        }
    }

    /// How many pipelines wait for the caller's approval (the nav and the overview).
    pub async fn waiting_count(&self, principal: &Principal) -> Result<usize> {
        if principal.authorize(Permission::Operate).is_err() {
            return Ok(0);
        }
        Ok(self.waiting_for(principal).await?.len())
    }

    /// The pipelines page. `tenants` maps every tenant's id to its slug.
    pub async fn page_list(
        &self,
        principal: &Principal,
        filter: &ListFilter,
        tenants: &[(i64, String)],
    ) -> Result<PipelineList> {
        let waiting_rows = self.waiting_for(principal).await?;
        let waiting: Vec<String> = waiting_rows.iter().map(|p| p.id.clone()).collect();
        let rows = if filter.waiting_for_me {
            waiting_rows
        } else {
            self.list(principal, filter.status, 1000).await?
        };
        let tenant_id = match &filter.tenant {
            Some(slug) => Some(
                tenants
                    .iter()
                    .find(|(_, s)| s == slug)
                    .map(|(id, _)| *id)
                    .ok_or_else(|| crate::error::FieldError::new("tenant", format!("no tenant {slug:?}")))?,
            ),
            None => None,
        };
        let kept: Vec<&PipelineRow> = rows
            .iter()
            .filter(|p| tenant_id.is_none() || p.tenant_id == tenant_id)
            .filter(|p| !filter.mine || (principal.actor_id().is_some() && p.requested_by_id == principal.actor_id()))
            .filter(|p| filter.status.is_none_or(|s| p.status() == Some(s)))
            .collect();
        Ok(PipelineList {
            truncated: kept.len() > LIST_LIMIT,
            pipelines: kept
                .into_iter()
                .take(LIST_LIMIT)
                .map(|p| self.summary(p, tenants, waiting.contains(&p.id)))
                .collect(),
            tenants: tenants
                .iter()
                .filter(|(id, _)| principal.authorize(Permission::Tenant(*id)).is_ok())
                .map(|(_, slug)| slug.clone())
                .collect(),
            can_create: principal.authorize(Permission::Operate).is_ok(),
        })
    }

    /// One pipeline's page.
    pub async fn page_detail(
        &self,
        principal: &Principal,
        id: &str,
        tenants: &[(i64, String)],
    ) -> Result<PipelineDetail> {
        let (p, gates) = self.gates(principal, id).await?;
        let store = self.store();
        let stage_names: Vec<String> = serde_json::from_str(&p.stages).unwrap_or_default();
        let current = stage_names.iter().position(|s| *s == p.stage);
        let completed = p.status() == Some(PipelineStatus::Completed);
        let mut stages = Vec::with_capacity(stage_names.len());
        let mut waiting = false;
        for (i, name) in stage_names.iter().enumerate() {
            let state = match current {
                _ if completed => StageState::Done,
                Some(c) if i < c => StageState::Done,
                Some(c) if i == c => StageState::Current,
                _ => StageState::Upcoming,
            };
            let gate = match gates.iter().find(|g| g.stage == *name) {
                Some(g) => {
                    let approvals = store.approvals(id, name).await?;
                    let you_may_not = may_not_approve(principal, &p, g, &approvals);
                    waiting |= you_may_not.is_none();
                    let config = g.config();
                    Some(GateView {
                        due_at: match (g.opened_at, config.auto_approve_after_s, &g.decision) {
                            (Some(opened), Some(after), None) => Some(
                                opened + Duration::seconds(i64::try_from(after).unwrap_or(i64::MAX / 1000)),
                            ),
                            _ => None,
                        },
                        who_may_decide: who_may_decide(g),
                        opened_at: g.opened_at,
                        decision: g.decision(),
                        config,
                        approvals,
                        you_may_not,
                    })
                }
                None => None,
            };
            stages.push(StageView {
                name: name.clone(),
                state,
                gate,
            });
        }
        let params: serde_json::Value = serde_json::from_str(&p.params).unwrap_or_default();
        Ok(PipelineDetail {
            summary: self.summary(&p, tenants, waiting),
            params: serde_json::to_string_pretty(&params).unwrap_or_default(),
            stages,
            artifacts: store
                .artifacts(id)
                .await?
                .into_iter()
                .map(|a| ArtifactView {
                    stage: a.stage,
                    name: a.name,
                    uri: a.uri,
                    size_bytes: a.size_bytes,
                    sha256: a.sha256,
                })
                .collect(),
            events: store
                .latest_events(id, EVENTS_SHOWN)
                .await?
                .into_iter()
                .map(|e| EventView {
                    id: e.id,
                    kind: e.kind,
                    stage: e.stage,
                    message: e.message,
                    at: e.created_at,
                })
                .collect(),
            can_operate: principal.authorize(Permission::Operate).is_ok(),
        })
    }
}
