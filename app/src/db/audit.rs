//! The `audit_log` table: append-only, read with filters.

use chrono::Utc;

use super::{Database, Result, with_pool};
use crate::admin::{AuditEntry, AuditFilter, Outcome};

/// One thing to record.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub outcome: Outcome,
    pub ip: String,
    pub detail: String,
}

/// The newest entries the audit page shows at once.
const AUDIT_PAGE: i64 = 200;

impl Database {
    pub async fn record_audit(&self, record: &AuditRecord) -> Result<()> {
        let now = Utc::now();
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO audit_log (actor_id, actor, action, target, outcome, ip, detail, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(record.actor_id)
        .bind(&record.actor)
        .bind(record.action)
        .bind(&record.target)
        .bind(record.outcome.as_str())
        .bind(&record.ip)
        .bind(&record.detail)
        .bind(now)
        .execute(pool)
        .await
        .map(drop)?);
        Ok(())
    }

    /// The newest entries matching `filter` (action prefix, actor substring, exact outcome).
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        // `%` is the only wildcard stripped; a literal `_` matching any one character is harmless.
        let action = format!("{}%", filter.action.trim().replace('%', ""));
        let actor = format!("%{}%", filter.actor.trim().to_lowercase().replace('%', ""));
        let rows = with_pool!(self, pool => sqlx::query_as(
            "SELECT id, actor_id, actor, action, target, outcome, ip, detail, created_at FROM audit_log \
             WHERE action LIKE $1 AND lower(actor) LIKE $2 AND ($3 = '' OR outcome = $3) \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(&action)
        .bind(&actor)
        .bind(filter.outcome.trim())
        .bind(AUDIT_PAGE)
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }
}
