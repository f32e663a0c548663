//! The `catalog_actions` table: an action asked for, settled, followed, reported, and a
//! service's history.

use super::*;

impl CatalogStore {
    /// Records an action asked for (and, for provisioning, the service's status with it).
    pub async fn start_action(
        &self,
        new: &NewAction<'_>,
        audit: &Audit,
        entry: &AuditEvent,
    ) -> Result<ActionRecord> {
        let NewAction {
            service_id,
            action,
            environment,
            detail,
            requested_by,
            status,
            pipeline_id,
            image,
        } = *new;
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let sql = format!(
            "INSERT INTO catalog_actions (service_id, action, environment, status, detail, requested_by, pipeline_id, \
             image, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {ACTION_COLUMNS}"
        );
        let row: ActionRow = with_tx!(&mut tx, conn => sqlx::query_as(&sql)
            .bind(service_id)
            .bind(action.as_str())
            .bind(environment)
            .bind(status)
            .bind(detail)
            .bind(requested_by)
            .bind(pipeline_id)
            .bind(image)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?);
        if action != ActionKind::Deploy {
            with_tx!(&mut tx, conn => sqlx::query(
                "UPDATE catalog_services SET provision_status = 'in_progress', provision_detail = $2, updated_at = $3 \
                 WHERE id = $1",
            )
            .bind(service_id)
            .bind(detail)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        }
        audit.record_in(&mut tx, entry).await?;
        tx.commit().await?;
        self.changed(service_id);
        Ok(row.into())
    }

    /// Moves an action from `from` to `to` (with `detail`) only if it is still in `from`: of
    /// replicas settling the same approval, one wins. Returns whether this call did.
    pub async fn settle(&self, id: i64, from: &str, to: &str, detail: &str) -> Result<bool> {
        self.settle_decided(id, from, to, detail, None).await
    }

    /// `settle`, recording who decided the action's approval gate (kept when `None`).
    pub async fn settle_decided(
        &self,
        id: i64,
        from: &str,
        to: &str,
        detail: &str,
        decided_by: Option<&str>,
    ) -> Result<bool> {
        let service: Option<i64> = with_pool!(&self.db, pool => sqlx::query_scalar(
            "UPDATE catalog_actions SET status = $3, detail = $4, updated_at = $5, \
             decided_by = COALESCE($6, decided_by) WHERE id = $1 AND status = $2 RETURNING service_id",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(detail)
        .bind(Utc::now())
        .bind(decided_by)
        .fetch_optional(pool)
        .await?);
        if let Some(service) = service {
            self.changed(service);
        }
        Ok(service.is_some())
    }

    /// Deploys the Kubernetes executor applied and still follows (`execution_ref` names the
    /// Deployment): a restarted server follows them on.
    pub async fn following(&self) -> Result<Vec<ActionRecord>> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM catalog_actions WHERE status = 'in_progress' \
             AND execution_ref LIKE 'kubernetes:%' ORDER BY id"
        );
        let rows: Vec<ActionRow> = with_pool!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Actions waiting for their pipeline's gate.
    pub async fn awaiting_approval(&self) -> Result<Vec<ActionRecord>> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM catalog_actions WHERE status = 'awaiting_approval' ORDER BY id"
        );
        let rows: Vec<ActionRow> = with_pool!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The action a pipeline decides, if any.
    pub async fn action_of_pipeline(&self, pipeline_id: &str) -> Result<Option<ActionRecord>> {
        let sql = format!("SELECT {ACTION_COLUMNS} FROM catalog_actions WHERE pipeline_id = $1");
        let row: Option<ActionRow> =
            with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(pipeline_id).fetch_optional(pool).await?);
        Ok(row.map(Into::into))
    }

    pub async fn action(&self, id: i64) -> Result<Option<ActionRecord>> {
        let sql = format!("SELECT {ACTION_COLUMNS} FROM catalog_actions WHERE id = $1");
        let row: Option<ActionRow> =
            with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        Ok(row.map(Into::into))
    }

    /// The newest action of `kinds` on a service (in `environment`, when given).
    pub async fn latest_action(
        &self,
        service_id: i64,
        kinds: &[ActionKind],
        environment: Option<&str>,
    ) -> Result<Option<ActionRecord>> {
        Ok(self.history(service_id, 500).await?.into_iter().find(|a| {
            kinds.contains(&a.action) && environment.is_none_or(|e| a.environment.as_deref() == Some(e))
        }))
    }

    /// What `requested_by` asked for since `since`, newest first (the home page's counts).
    pub async fn actions_by(
        &self,
        requested_by: &str,
        since: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> Result<Vec<ActionRecord>> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM catalog_actions WHERE requested_by = $1 AND updated_at >= $2 \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<ActionRow> = with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(requested_by).bind(since).bind(limit).fetch_all(pool).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// A service's actions, newest first.
    pub async fn history(&self, service_id: i64, limit: i64) -> Result<Vec<ActionRecord>> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM catalog_actions WHERE service_id = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<ActionRow> = with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(service_id).bind(limit).fetch_all(pool).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// An executor's report on an action: its status and detail, and for provisioning the
    /// service's status too, with the audit entry — only while the action is in one of `from`
    /// and, for a callback (`by_callback`), an external executor holds it (not Heimdall's own
    /// Kubernetes executor); `None` otherwise, with nothing changed.
    #[allow(clippy::too_many_arguments)]
    pub async fn report(
        &self,
        action_id: i64,
        from: &[&'static str],
        by_callback: bool,
        status: &str,
        detail: &str,
        execution_ref: Option<&str>,
        audit: &Audit,
        entry: &AuditEvent,
    ) -> Result<Option<ActionRecord>> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        // `from` holds fixed status names (never input): safe to write into the statement.
        let from = from
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let held = if by_callback {
            "AND (execution_ref IS NULL OR execution_ref NOT LIKE 'kubernetes:%')"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE catalog_actions SET status = $2, detail = $3, execution_ref = COALESCE($4, execution_ref), \
             updated_at = $5 WHERE id = $1 AND status IN ({from}) {held} RETURNING {ACTION_COLUMNS}"
        );
        let row: Option<ActionRow> = with_tx!(&mut tx, conn => sqlx::query_as(&sql)
            .bind(action_id)
            .bind(status)
            .bind(detail)
            .bind(execution_ref)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?);
        let Some(row) = row else {
            return Ok(None);
        };
        if row.action != ActionKind::Deploy.as_str() {
            with_tx!(&mut tx, conn => sqlx::query(
                "UPDATE catalog_services SET provision_status = $2, provision_detail = $3, updated_at = $4 WHERE id = $1",
            )
            .bind(row.service_id)
            .bind(status)
            .bind(detail)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        }
        audit.record_in(&mut tx, entry).await?;
        tx.commit().await?;
        self.changed(row.service_id);
        Ok(Some(row.into()))
    }
}
