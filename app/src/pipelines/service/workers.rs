//! What workers do: take up a queued pipeline, report a stage (through the next gate, which may
//! have been decided in advance), and another domain concluding a pipeline it ran.

use super::*;

impl PipelineService {
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
    pub(super) async fn gate_ahead(&self, id: &str, stage: &str) -> Result<Ahead> {
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
}

/// What a gate does to a pipeline arriving at it.
pub(super) enum Ahead {
    Pass,
    Wait,
    Halt,
}
