//! Gate timers: when an open gate's `auto_approve_after_s` runs out, its `timeout_action`
//! happens — approve, reject, or expire (the pipeline fails). The timers live in the database,
//! not in memory: the task reads the open timed gates, sleeps until the next is due (woken early
//! when a gate opens), and fires each through the same exactly-once decision people use, so a
//! timer fires once also when two replicas race for it, and a gate that came due while no server
//! ran fires at the next start.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::broadcast::error::RecvError;

use super::model::{Decision, TimeoutAction};
use super::service::PipelineService;
use super::state::{PipelineStatus, Transition, next};
use super::store::{Decide, DecideError, NewEvent, TimedGate};
use crate::audit::{AuditAction, AuditEvent};

/// Who the audit log and the events name as the decider.
pub const TIMER: &str = "timer";

/// How often retention runs, the lease it runs under, and how long a claim holds: less than the
/// interval, so a dead holder's lease has run out by the next replica's next hour.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
pub const RETENTION_LEASE: &str = "pipelines.retention";
const RETENTION_LEASE_TTL: Duration = Duration::from_secs(50 * 60);

impl PipelineService {
    /// Starts the background work until the event bus closes (graceful shutdown): on
    /// PostgreSQL, the `LISTEN` that brings every replica's events into this one's bus; the gate
    /// timers.
    pub fn start(&self) {
        let store = self.store().clone();
        let closed = store.bus().closed();
        tokio::spawn(async move {
            tokio::select! {
                () = store.listen() => {}
                () = closed => {}
            }
        });
        let service = self.clone();
        tokio::spawn(async move {
            let closed = service.store().bus().closed();
            tokio::select! {
                () = service.run_timers() => {}
                () = closed => {}
            }
        });
        let service = self.clone();
        tokio::spawn(async move {
            let closed = service.store().bus().closed();
            tokio::select! {
                () = service.run_retention() => {}
                () = closed => {}
            }
        });
    }

    /// Event retention: at start, then hourly (a clock, not a poll of anything that changes), by
    /// one replica at a time — whichever holds the `pipelines.retention` lease. The holder renews
    /// it each hour; if it dies, the lease runs out before the others' next hour and one of them
    /// takes over.
    async fn run_retention(&self) {
        let holder = uuid::Uuid::new_v4().to_string();
        let mut every = tokio::time::interval(RETENTION_EVERY);
        loop {
            every.tick().await;
            let db = self.store().db();
            match db
                .claim_lease(
                    RETENTION_LEASE,
                    &holder,
                    Utc::now().timestamp_millis(),
                    RETENTION_LEASE_TTL,
                )
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "pipelines: cannot claim the retention lease");
                    continue;
                }
            }
            let retention = self.settings().retention;
            let before = Utc::now() - chrono::Duration::days(i64::from(retention.days));
            match self
                .store()
                .prune_events(before, i64::from(retention.max_events_per_job))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "pipelines: old events pruned"),
                Err(e) => tracing::warn!(error = %e, "pipelines: pruning events failed"),
            }
        }
    }

    async fn run_timers(&self) {
        let mut events = self.store().bus().subscribe();
        let mut backoff = Duration::from_millis(500);
        loop {
            let wait = match self.fire_due().await {
                Ok(next_due) => {
                    backoff = Duration::from_millis(500);
                    next_due
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "pipelines: gate timers could not read the database");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    Some(wait)
                }
            };
            let sleep = async {
                match wait {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            // Woken by the clock, or by a gate opening (its timer may be the next one due).
            tokio::select! {
                () = sleep => {}
                woke = wait_for_gate(&mut events) => if !woke { return; }
            }
        }
    }

    /// Fires every due timer; how long until the next one, if any. A timer that could not fire
    /// (the database busy or gone) is tried again in a second: it stays due until it fires.
    async fn fire_due(&self) -> Result<Option<Duration>, crate::db::DbError> {
        let now = Utc::now();
        let gates = self.store().timed_gates().await?;
        let mut retry = false;
        for gate in gates.iter().filter(|g| g.due_at <= now) {
            retry |= !self.fire(gate).await;
        }
        let next_due = gates
            .iter()
            .filter(|g| g.due_at > now)
            .map(|g| (g.due_at - now).to_std().unwrap_or_default())
            .min();
        Ok(if retry {
            Some(next_due.map_or(Duration::from_secs(1), |d| d.min(Duration::from_secs(1))))
        } else {
            next_due
        })
    }

    /// Fires one timer; `false` when it should be tried again.
    async fn fire(&self, gate: &TimedGate) -> bool {
        let (decision, transition) = match gate.action {
            TimeoutAction::Approve => (Decision::Approved, Transition::Approve),
            TimeoutAction::Reject => (Decision::Rejected, Transition::Reject),
            TimeoutAction::Expire => (Decision::Expired, Transition::Expire),
        };
        let Ok(to) = next(PipelineStatus::NeedsApproval, transition) else {
            return true;
        };
        let notes = format!("{} by the timer: nobody decided in time", decision.as_str());
        let entry = AuditEvent::success(AuditAction::PipelineGateDecided)
            .by(None, TIMER)
            .target(&format!("{}/{}", gate.pipeline_id, gate.stage))
            .detail(&notes);
        let kind = match decision {
            Decision::Approved => "gate_approved",
            Decision::Rejected => "gate_rejected",
            Decision::Expired => "gate_expired",
        };
        let result = self
            .store()
            .decide(
                &Decide {
                    pipeline_id: &gate.pipeline_id,
                    stage: &gate.stage,
                    decision,
                    by_id: None,
                    by: TIMER,
                    notes: Some(&notes),
                    patch: None,
                    automatic: true,
                    from: PipelineStatus::NeedsApproval,
                    at_stage: &gate.stage,
                    to: Some(to),
                    approvals_needed: 1,
                },
                &NewEvent {
                    kind,
                    stage: Some(&gate.stage),
                    status: Some(to),
                    message: &format!("{} {}", gate.stage, notes),
                    payload: serde_json::json!({ "by": TIMER, "decision": decision.as_str(), "automatic": true }),
                },
                self.audit(),
                &entry,
            )
            .await;
        match result {
            Ok(_) => {
                tracing::info!(pipeline = %gate.pipeline_id, stage = %gate.stage, decision = decision.as_str(), "pipelines: a gate timer fired");
                true
            }
            // Someone (a person, or another replica's timer) decided first: nothing to do.
            Err(DecideError::AlreadyDecided { .. } | DecideError::NotWaiting(_) | DecideError::NotFound) => {
                true
            }
            Err(e) => {
                tracing::warn!(pipeline = %gate.pipeline_id, error = %e, "pipelines: a gate timer could not fire; trying again");
                false
            }
        }
    }
}

/// Waits for a `gate_opened` event; `false` when the bus is gone.
async fn wait_for_gate(
    events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<super::store::EventRow>>,
) -> bool {
    loop {
        match events.recv().await {
            Ok(event) if event.kind == "gate_opened" => return true,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return true,
            Err(RecvError::Closed) => return false,
        }
    }
}
