//! The `pipelines`, `pipeline_gates`, `gate_approvals` and `pipeline_events` tables.
//!
//! **A decision happens once.** `decide` is one transaction whose first statement is the
//! gate's `UPDATE … WHERE decision IS NULL`: on PostgreSQL a second decider blocks on the row
//! and then matches nothing; on SQLite the first write takes the database's write lock, so the
//! second transaction waits (busy timeout) and then matches nothing. Whoever matched nothing
//! reads who won and answers "already decided by X at T". The pipeline's status moves in the
//! same transaction, guarded by the status the decision was computed from, with its event and
//! audit entry: all of it lands, or none.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::bus::EventBus;
use super::model::{Decision, GateConfig, GateDecision, TimeoutAction};
use super::state::PipelineStatus;
use crate::audit::{Audit, AuditEvent};
use crate::db::{Database, DbError, Result, Tx, with_pool, with_tx};

mod decisions;
mod events;
pub(super) mod rows;

pub use rows::*;
use rows::{GATE_COLUMNS, OwnedArtifact, PIPELINE_COLUMNS};

/// The `LISTEN/NOTIFY` channel committed events are announced on (payload: the event id).
pub const NOTIFY_CHANNEL: &str = "heimdall_pipeline_events";

/// How far below the largest id seen a catch-up reads again: transactions that took smaller
/// ids but committed later.
const CATCH_UP_WINDOW: i64 = 1000;

#[derive(Clone)]
pub struct PipelineStore {
    db: Database,
    /// Where committed events go (see `bus.rs`).
    bus: EventBus,
}

impl PipelineStore {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            bus: EventBus::default(),
        }
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// The seam, for the lease retention runs under.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Committed events to this process's streams. On PostgreSQL they arrive through
    /// `LISTEN` instead, like every other replica's (`listen`), so each arrives once.
    fn published(&self, events: Vec<EventRow>) {
        if matches!(self.db, Database::Sqlite(_)) {
            self.bus.publish(events);
        }
    }

    /// Creates the pipeline, its gates and its first event, in one transaction.
    pub async fn create(&self, new: &NewPipeline<'_>) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let stages = serde_json::to_string(new.stages).unwrap_or_else(|_| "[]".into());
        let first = new.stages.first().map_or("", String::as_str);
        with_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO pipelines (id, slug, intent, tenant_id, status, stage, stages, params, requested_by_id, \
             requested_by, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(new.id)
        .bind(new.slug)
        .bind(new.intent)
        .bind(new.tenant_id)
        .bind(first)
        .bind(&stages)
        .bind(new.params.to_string())
        .bind(new.requested_by_id)
        .bind(new.requested_by)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(drop)?);
        for (stage, gate) in new.gates {
            let roles = serde_json::to_string(&gate.allowed_roles).unwrap_or_else(|_| "[]".into());
            with_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO pipeline_gates (pipeline_id, stage, required, auto_approve, auto_approve_after_s, \
                 approvals_needed, allowed_roles, allow_self_approval, timeout_action, notes_required) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(new.id)
            .bind(stage)
            .bind(gate.required)
            .bind(gate.auto_approve)
            .bind(gate.auto_approve_after_s.map(|s| i64::try_from(s).unwrap_or(i64::MAX)))
            .bind(i64::from(gate.approvals_needed.max(1)))
            .bind(&roles)
            .bind(gate.allow_self_approval)
            .bind(gate.timeout_action.as_str())
            .bind(gate.notes_required)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        }
        let created = Self::append_in(
            &mut tx,
            new.id,
            &NewEvent {
                kind: "job_created",
                stage: Some(first),
                status: Some(PipelineStatus::Queued),
                message: &format!("{} created by {}", new.slug, new.requested_by),
                payload: serde_json::json!({ "slug": new.slug, "operator": new.requested_by }),
            },
        )
        .await?;
        tx.commit().await?;
        self.published(vec![created]);
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<PipelineRow>> {
        let sql = format!("SELECT {PIPELINE_COLUMNS} FROM pipelines WHERE id = $1");
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// The slugs of several pipelines by id, one query whatever their number (the audit log
    /// names the pipelines its entries are about). Unknown ids are left out.
    pub async fn slugs_of(&self, ids: &[&str]) -> Result<Vec<(String, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = (1..=ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT id, slug FROM pipelines WHERE id IN ({list})");
        Ok(with_pool!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        }))
    }

    pub async fn gates(&self, pipeline_id: &str) -> Result<Vec<GateRow>> {
        let sql = format!("SELECT {GATE_COLUMNS} FROM pipeline_gates WHERE pipeline_id = $1 ORDER BY stage");
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(pipeline_id).fetch_all(pool).await?))
    }

    /// The gates and artifacts of several pipelines, two queries whatever their number (a list
    /// of jobs is not one query per job), grouped by pipeline.
    pub async fn gates_and_artifacts_of(&self, ids: &[&str]) -> Result<JobParts> {
        let mut by_id: JobParts = ids
            .iter()
            .map(|id| ((*id).to_owned(), (Vec::new(), Vec::new())))
            .collect();
        if ids.is_empty() {
            return Ok(by_id);
        }
        let list = (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {GATE_COLUMNS} FROM pipeline_gates WHERE pipeline_id IN ({list}) ORDER BY pipeline_id, stage"
        );
        let gates: Vec<GateRow> = with_pool!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        let sql = format!(
            "SELECT pipeline_id, stage, name, uri, size_bytes, sha256, created_at FROM pipeline_artifacts \
             WHERE pipeline_id IN ({list}) ORDER BY id"
        );
        let artifacts: Vec<OwnedArtifact> = with_pool!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        for gate in gates {
            if let Some(entry) = by_id.get_mut(&gate.pipeline_id) {
                entry.0.push(gate);
            }
        }
        for owned in artifacts {
            if let Some(entry) = by_id.get_mut(&owned.pipeline_id) {
                entry.1.push(owned.artifact);
            }
        }
        Ok(by_id)
    }

    /// For each `(pipeline, stage)`, the gate at that stage and who has approved it so far, in
    /// two queries whatever their number (the overview's and the nav's "waiting for you"
    /// count asks for every pipeline at a gate). A pipeline with no gate there is left out.
    pub async fn gates_at(
        &self,
        at: &[(&str, &str)],
    ) -> Result<HashMap<String, (GateRow, Vec<String>)>> {
        if at.is_empty() {
            return Ok(HashMap::new());
        }
        let stage_of: HashMap<&str, &str> = at.iter().copied().collect();
        let list = (1..=at.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {GATE_COLUMNS} FROM pipeline_gates WHERE pipeline_id IN ({list})");
        let gates: Vec<GateRow> = with_pool!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql);
            for (id, _) in at {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        let sql = format!(
            "SELECT pipeline_id, stage, username FROM gate_approvals WHERE pipeline_id IN ({list}) \
             ORDER BY approved_at, username"
        );
        let approvals: Vec<(String, String, String)> = with_pool!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql);
            for (id, _) in at {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        let mut found: HashMap<String, (GateRow, Vec<String>)> = gates
            .into_iter()
            .filter(|g| stage_of.get(g.pipeline_id.as_str()) == Some(&g.stage.as_str()))
            .map(|g| (g.pipeline_id.clone(), (g, Vec::new())))
            .collect();
        for (pipeline_id, stage, username) in approvals {
            if let Some((gate, by)) = found.get_mut(&pipeline_id)
                && gate.stage == stage
            {
                by.push(username);
            }
        }
        Ok(found)
    }

    pub async fn gate(&self, pipeline_id: &str, stage: &str) -> Result<Option<GateRow>> {
        let sql = format!("SELECT {GATE_COLUMNS} FROM pipeline_gates WHERE pipeline_id = $1 AND stage = $2");
        Ok(
            with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(pipeline_id).bind(stage).fetch_optional(pool).await?),
        )
    }

    /// Moves a pipeline from `from` to `to` (at `stage`), with an event; `false` when it was
    /// no longer in `from` (someone else moved it first).
    pub async fn transition(
        &self,
        id: &str,
        from: PipelineStatus,
        to: PipelineStatus,
        stage: &str,
        event: &NewEvent<'_>,
    ) -> Result<bool> {
        self.transition_with(
            &Move {
                id,
                from,
                from_stage: None,
                to,
                stage,
                params: None,
                artifacts: &[],
            },
            event,
        )
        .await
    }

    /// `transition`, also guarded on the stage it was computed at, writing new parameters and
    /// the artifacts a worker reported, all in the one transaction.
    pub async fn transition_with(&self, m: &Move<'_>, event: &NewEvent<'_>) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let now = Utc::now();
        let n = with_tx!(&mut tx, conn => sqlx::query(
            "UPDATE pipelines SET status = $3, stage = $4, updated_at = $5, params = COALESCE($6, params) \
             WHERE id = $1 AND status = $2 AND ($7 IS NULL OR stage = $7)",
        )
        .bind(m.id)
        .bind(m.from.as_str())
        .bind(m.to.as_str())
        .bind(m.stage)
        .bind(now)
        .bind(m.params.map(ToString::to_string))
        .bind(m.from_stage)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        if n == 0 {
            return Ok(false);
        }
        let (id, stage, to) = (m.id, m.stage, m.to);
        for artifact in m.artifacts {
            with_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO pipeline_artifacts (pipeline_id, stage, name, uri, size_bytes, sha256, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(&artifact.stage)
            .bind(&artifact.name)
            .bind(&artifact.uri)
            .bind(artifact.size_bytes)
            .bind(&artifact.sha256)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        }
        if to == PipelineStatus::NeedsApproval {
            // Only to a gate still undecided: one decided ahead meanwhile (its decider held the
            // pipeline's row until it committed) sends the worker back to look again.
            let open = with_tx!(&mut tx, conn => sqlx::query(
                "UPDATE pipeline_gates SET opened_at = COALESCE(opened_at, $3) \
                 WHERE pipeline_id = $1 AND stage = $2 AND decision IS NULL",
            )
            .bind(id)
            .bind(stage)
            .bind(Utc::now())
            .execute(&mut *conn)
            .await?
            .rows_affected());
            if open == 0 {
                return Ok(false);
            }
        }
        let appended = Self::append_in(&mut tx, id, event).await?;
        tx.commit().await?;
        self.published(vec![appended]);
        Ok(true)
    }

    /// Reopens the rejected gate a paused pipeline waits at (its patch did not apply): people
    /// decide again. `false` when the pipeline or the gate moved meanwhile.
    pub async fn reopen_gate(&self, id: &str, stage: &str, event: &NewEvent<'_>) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let now = Utc::now();
        let held = with_tx!(&mut tx, conn => sqlx::query(
            "UPDATE pipelines SET updated_at = $3 WHERE id = $1 AND status = 'paused' AND stage = $2",
        )
        .bind(id)
        .bind(stage)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        if held == 0 {
            return Ok(false);
        }
        let reopened = with_tx!(&mut tx, conn => sqlx::query(
            "UPDATE pipeline_gates SET decision = NULL, decided_by_id = NULL, decided_by = NULL, decided_at = NULL, \
             patch = NULL, automatic = FALSE WHERE pipeline_id = $1 AND stage = $2 AND decision = 'rejected'",
        )
        .bind(id)
        .bind(stage)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        if reopened == 0 {
            return Ok(false);
        }
        let appended = Self::append_in(&mut tx, id, event).await?;
        tx.commit().await?;
        self.published(vec![appended]);
        Ok(true)
    }

    /// Replaces a pipeline's parameters if they are still `before` (a patch applied now), with
    /// an event; `false` when someone changed them first.
    pub async fn replace_params(
        &self,
        id: &str,
        before: &str,
        after: &serde_json::Value,
        event: &NewEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let changed = with_tx!(&mut tx, conn => sqlx::query(
            "UPDATE pipelines SET params = $3, updated_at = $4 WHERE id = $1 AND params = $2",
        )
        .bind(id)
        .bind(before)
        .bind(after.to_string())
        .bind(Utc::now())
        .execute(&mut *conn)
        .await?
        .rows_affected());
        if changed == 0 {
            return Ok(false);
        }
        let appended = Self::append_in(&mut tx, id, event).await?;
        tx.commit().await?;
        self.published(vec![appended]);
        Ok(true)
    }

    /// Gates with a timer that are open and undecided, with when they are due.
    pub async fn timed_gates(&self) -> Result<Vec<TimedGate>> {
        let rows: Vec<(String, String, String, i64, DateTime<Utc>)> = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT g.pipeline_id, g.stage, g.timeout_action, g.auto_approve_after_s, g.opened_at \
             FROM pipeline_gates g JOIN pipelines p ON p.id = g.pipeline_id \
             WHERE g.decision IS NULL AND g.opened_at IS NOT NULL AND g.auto_approve_after_s IS NOT NULL \
             AND p.status = 'needs_approval' AND p.stage = g.stage",
        )
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(pipeline_id, stage, action, after_s, opened_at)| TimedGate {
                pipeline_id,
                stage,
                action: TimeoutAction::parse(&action).unwrap_or_default(),
                due_at: opened_at + chrono::Duration::seconds(after_s.max(0)),
            })
            .collect())
    }

    /// Pipelines, newest first.
    /// The newest `limit` pipelines, of one status when given (in SQL: the overview's count
    /// reads only those waiting, on every navigation).
    /// The newest `limit` pipelines, of `status` when given, of no tenant or one of `tenants`
    /// (`None`: of any tenant).
    pub async fn list(
        &self,
        status: Option<PipelineStatus>,
        tenants: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<PipelineRow>> {
        // Tenant ids are integers, written into the statement as numbers: nothing to escape,
        // and one statement whatever the number of memberships on either database.
        let tenant_filter = match tenants {
            None => String::new(),
            Some([]) => " AND tenant_id IS NULL".to_owned(),
            Some(ids) => format!(
                " AND (tenant_id IS NULL OR tenant_id IN ({}))",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            ),
        };
        let sql = format!(
            "SELECT {PIPELINE_COLUMNS} FROM pipelines WHERE ($1 IS NULL OR status = $1){tenant_filter} \
             ORDER BY created_at DESC, id LIMIT $2"
        );
        let status = status.map(PipelineStatus::as_str);
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(status).bind(limit).fetch_all(pool).await?))
    }

    pub async fn artifacts(&self, pipeline_id: &str) -> Result<Vec<ArtifactRow>> {
        Ok(with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT stage, name, uri, size_bytes, sha256, created_at FROM pipeline_artifacts \
             WHERE pipeline_id = $1 ORDER BY id",
        )
        .bind(pipeline_id)
        .fetch_all(pool)
        .await?))
    }

    /// Who has approved a gate so far (several-approver gates).
    pub async fn approvals(&self, pipeline_id: &str, stage: &str) -> Result<Vec<String>> {
        Ok(with_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT username FROM gate_approvals WHERE pipeline_id = $1 AND stage = $2 ORDER BY approved_at, username",
        )
        .bind(pipeline_id)
        .bind(stage)
        .fetch_all(pool)
        .await?))
    }
}
