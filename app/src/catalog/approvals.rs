//! Deploys to protected environments: the action waits (`awaiting_approval`) for its pipeline's
//! `deploy` gate. A task on the pipelines' event bus — which carries every replica's events on
//! PostgreSQL — settles it when the gate is decided: approved, the deploy goes to its executor
//! and the pipeline completes; rejected (or expired), the action is rejected with the notes and
//! nothing is applied. Settling is a guarded update (`awaiting_approval` → …), so of replicas
//! hearing the same decision one acts; at start, actions whose gate was decided while no server
//! ran are settled from the database.

use tokio::sync::broadcast::error::RecvError;

use super::error::{CatalogError, Result};
use super::model::ActionKind;
use super::service::CatalogService;
use crate::pipelines::Decision;
use crate::request::RequestMeta;

const AWAITING: &str = "awaiting_approval";

impl CatalogService {
    /// Starts settling approvals until the pipelines' bus closes (graceful shutdown).
    pub fn start(&self) {
        // Other replicas' changes, for the service pages' live history (PostgreSQL).
        let store = self.store().clone();
        let closed = self.closed();
        tokio::spawn(async move {
            tokio::select! {
                () = store.listen() => {}
                () = closed => {}
            }
        });
        let service = self.clone();
        let bus = self.pipelines().store().bus().clone();
        // Subscribed before the catch-up: a decision in between is heard twice, settled once.
        let mut events = bus.subscribe();
        let closed = bus.closed();
        tokio::spawn(async move {
            let run = async {
                service.follow_on().await;
                service.catch_up().await;
                loop {
                    match events.recv().await {
                        Ok(event)
                            if matches!(
                                event.kind.as_str(),
                                "gate_approved" | "gate_rejected" | "gate_expired"
                            ) =>
                        {
                            service.settle(&event.pipeline_id).await;
                        }
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) => service.catch_up().await,
                        Err(RecvError::Closed) => break,
                    }
                }
            };
            tokio::select! {
                () = run => {}
                () = closed => {}
            }
        });
    }

    /// Settles every waiting action whose gate has been decided.
    async fn catch_up(&self) {
        match self.store().awaiting_approval().await {
            Ok(waiting) => {
                for pipeline in waiting.iter().filter_map(|a| a.pipeline_id.as_deref()) {
                    self.settle(pipeline).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the deploys awaiting approval"),
        }
    }

    async fn settle(&self, pipeline_id: &str) {
        if let Err(e) = self.try_settle(pipeline_id).await {
            tracing::warn!(pipeline = pipeline_id, error = %e, "settling a deploy's approval failed");
        }
    }

    async fn try_settle(&self, pipeline_id: &str) -> Result<()> {
        let Some(action) = self.store().action_of_pipeline(pipeline_id).await? else {
            return Ok(());
        };
        if action.status != AWAITING || action.action != ActionKind::Deploy {
            return Ok(());
        }
        let gate = self.pipelines().store().gate(pipeline_id, "deploy").await?;
        let Some(decided) = gate.and_then(|g| g.decision()) else {
            return Ok(());
        };
        if decided.decision == Decision::Approved {
            let detail = format!("Approved by {}; deployment queued", decided.by);
            if !self
                .store()
                .settle_decided(action.id, AWAITING, "queued", &detail, Some(&decided.by))
                .await?
            {
                return Ok(()); // Another replica took it.
            }
            // The approval has done its work: its pipeline completes before the hand-over, so
            // whoever sees the deploy under way sees the pipeline done.
            if let Err(e) = self.pipelines().conclude(pipeline_id, "catalog", true).await {
                tracing::warn!(pipeline = pipeline_id, error = %e, "the approval pipeline did not complete");
            }
            let record = self
                .store()
                .action(action.id)
                .await?
                .ok_or_else(|| CatalogError::NotFound("no such action".into()))?;
            if let Some(row) = self.store().get(action.service_id).await? {
                self.dispatch(&RequestMeta::default(), &row, record).await?;
            }
        } else {
            let detail = match decided.notes.as_deref() {
                Some(notes) => format!("Rejected by {}: {notes}", decided.by),
                None => format!(
                    "{} by {}: nothing was deployed",
                    decided.decision.as_str(),
                    decided.by
                ),
            };
            // The pipeline ends first (guarded, once), so whoever sees the deploy rejected
            // sees its pipeline ended.
            if let Err(e) = self.pipelines().conclude(pipeline_id, "catalog", false).await {
                tracing::warn!(pipeline = pipeline_id, error = %e, "the approval pipeline did not end");
            }
            self.store()
                .settle_decided(action.id, AWAITING, "rejected", &detail, Some(&decided.by))
                .await?;
        }
        Ok(())
    }
}
