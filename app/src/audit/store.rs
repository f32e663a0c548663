//! The `audit_log` table: append-only, read with filters.

use chrono::{DateTime, Utc};

use super::event::AuditEvent;
use super::model::{AuditEntry, AuditFilter};
use crate::db::{Database, Result, Tx, with_pool, with_tx};

/// The entries one read returns (a page of the audit page).
const AUDIT_PAGE: i64 = super::model::AUDIT_PAGE_SIZE as i64;

const INSERT: &str = "INSERT INTO audit_log (actor_id, actor, action, target, outcome, ip, detail, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

/// Binds an event to `INSERT`'s parameters, for either backend.
macro_rules! bind_event {
    ($event:expr) => {
        sqlx::query(INSERT)
            .bind($event.actor_id)
            .bind(&$event.actor)
            .bind($event.action.as_str())
            .bind(&$event.target)
            .bind($event.outcome.as_str())
            .bind(&$event.ip)
            .bind(&$event.detail)
            .bind(Utc::now())
    };
}

#[derive(Clone, Debug)]
pub(super) struct AuditStore {
    db: Database,
}

impl AuditStore {
    pub(super) fn new(db: Database) -> Self {
        Self { db }
    }

    pub(super) async fn insert(&self, event: &AuditEvent) -> Result<()> {
        with_pool!(&self.db, pool => bind_event!(event).execute(pool).await.map(drop)?);
        Ok(())
    }

    pub(super) async fn insert_in(tx: &mut Tx, event: &AuditEvent) -> Result<()> {
        with_tx!(tx, conn => bind_event!(event).execute(&mut *conn).await.map(drop)?);
        Ok(())
    }

    /// The newest entries matching `filter` (action prefix, actor substring, exact outcome).
    pub(super) async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        // `%` is the only wildcard stripped; a literal `_` matching any one character is harmless.
        let action = format!("{}%", filter.action.trim().replace('%', ""));
        let actor = format!("%{}%", filter.actor.trim().to_lowercase().replace('%', ""));
        // "Any time" is the epoch: one statement either way.
        let since = match filter.since_hours {
            0 => DateTime::<Utc>::UNIX_EPOCH,
            hours => Utc::now() - chrono::Duration::hours(i64::from(hours)),
        };
        let before = if filter.before > 0 { filter.before } else { i64::MAX };
        let rows = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, actor_id, actor, action, target, outcome, ip, detail, created_at FROM audit_log \
             WHERE action LIKE $1 AND lower(actor) LIKE $2 AND ($3 = '' OR outcome = $3) \
             AND id < $5 AND created_at >= $6 ORDER BY id DESC LIMIT $4",
        )
        .bind(&action)
        .bind(&actor)
        .bind(filter.outcome.trim())
        .bind(AUDIT_PAGE)
        .bind(before)
        .bind(since)
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }
}
