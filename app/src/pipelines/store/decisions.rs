//! The exactly-once decision (see the module comment) and, when one matched nothing, why.

use super::*;

impl PipelineStore {
    /// Decides a gate exactly once (see the module comment). `audit` is written in the same
    /// transaction as the decision.
    pub async fn decide(
        &self,
        d: &Decide<'_>,
        event: &NewEvent<'_>,
        audit: &Audit,
        entry: &AuditEvent,
    ) -> Result<Decided, DecideError> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        // Several approvals wanted: record this person's first (the write that takes the lock).
        if d.decision == Decision::Approved && d.approvals_needed > 1 && !d.automatic {
            let by_id = d.by_id.ok_or(DecideError::AlreadyApproved)?;
            let added = with_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO gate_approvals (pipeline_id, stage, user_id, username, approved_at) \
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM pipeline_gates \
                 WHERE pipeline_id = $1 AND stage = $2 AND decision IS NULL) ON CONFLICT DO NOTHING",
            )
            .bind(d.pipeline_id)
            .bind(d.stage)
            .bind(by_id)
            .bind(d.by)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
            if added == 0 {
                drop(tx);
                return Err(self.why_not(d).await);
            }
            let have: i64 = with_tx!(&mut tx, conn => sqlx::query_scalar(
                "SELECT COUNT(*) FROM gate_approvals WHERE pipeline_id = $1 AND stage = $2",
            )
            .bind(d.pipeline_id)
            .bind(d.stage)
            .fetch_one(&mut *conn)
            .await?);
            let have = u32::try_from(have).unwrap_or(u32::MAX);
            if have < d.approvals_needed {
                let appended = Self::append_in(
                    &mut tx,
                    d.pipeline_id,
                    &NewEvent {
                        kind: "gate_approval_recorded",
                        stage: Some(d.stage),
                        status: None,
                        message: &format!("{} approved {} ({have} of {})", d.by, d.stage, d.approvals_needed),
                        payload: serde_json::json!({ "by": d.by, "have": have, "need": d.approvals_needed }),
                    },
                )
                .await?;
                audit.record_in(&mut tx, entry).await?;
                tx.commit().await?;
                self.published(vec![appended]);
                return Ok(Decided::Approval {
                    have,
                    need: d.approvals_needed,
                });
            }
        }
        // The pipeline first (the write that takes its lock): it must still be where the
        // decision was computed — moved by it, or, decided ahead, only touched. A worker moving
        // it to this gate meanwhile waits for this commit and then finds the gate decided
        // (`transition_with`).
        let moved = with_tx!(&mut tx, conn => sqlx::query(
            "UPDATE pipelines SET status = COALESCE($3, status), updated_at = $4 \
             WHERE id = $1 AND status = $2 AND stage = $5",
        )
        .bind(d.pipeline_id)
        .bind(d.from.as_str())
        .bind(d.to.map(PipelineStatus::as_str))
        .bind(now)
        .bind(d.at_stage)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        if moved == 0 {
            drop(tx);
            return Err(self.why_not(d).await);
        }
        let decided = with_tx!(&mut tx, conn => sqlx::query(
            "UPDATE pipeline_gates SET decision = $3, decided_by_id = $4, decided_by = $5, decided_at = $6, notes = $7, \
             patch = $8, automatic = $9 WHERE pipeline_id = $1 AND stage = $2 AND decision IS NULL",
        )
        .bind(d.pipeline_id)
        .bind(d.stage)
        .bind(d.decision.as_str())
        .bind(d.by_id)
        .bind(d.by)
        .bind(now)
        .bind(d.notes)
        .bind(d.patch.map(ToString::to_string))
        .bind(d.automatic)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        if decided == 0 {
            drop(tx);
            return Err(self.why_not(d).await);
        }
        let appended = Self::append_in(&mut tx, d.pipeline_id, event).await?;
        audit.record_in(&mut tx, entry).await?;
        tx.commit().await?;
        self.published(vec![appended]);
        metrics::counter!("heimdall_gate_decisions_total", "decision" => d.decision.as_str()).increment(1);
        Ok(Decided::Final)
    }

    /// Why a decision matched nothing, read after its transaction rolled back.
    pub(super) async fn why_not(&self, d: &Decide<'_>) -> DecideError {
        let gate = match self.gate(d.pipeline_id, d.stage).await {
            Ok(Some(gate)) => gate,
            Ok(None) => return DecideError::NotFound,
            Err(e) => return e.into(),
        };
        if let Some(done) = gate.decision() {
            return DecideError::AlreadyDecided {
                decision: done.decision,
                by: done.by,
                at: done.at,
            };
        }
        match self.get(d.pipeline_id).await {
            Ok(Some(p)) if p.status != d.from.as_str() || p.stage != d.at_stage => {
                DecideError::NotWaiting(p.status)
            }
            Ok(Some(_)) => DecideError::AlreadyApproved,
            Ok(None) => DecideError::NotFound,
            Err(e) => e.into(),
        }
    }
}
