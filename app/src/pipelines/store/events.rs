//! The event log: appending inside a move's transaction, reading it (by id, after an id, the
//! newest), pruning it, and the `LISTEN` relay that feeds every replica's bus.

use super::*;
use crate::db::Notice;

impl PipelineStore {
    /// One event by id.
    pub async fn event(&self, id: i64) -> Result<Option<EventRow>> {
        Ok(with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, pipeline_id, kind, stage, status, message, payload, created_at FROM pipeline_events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    /// Every pipeline's events after `after`, oldest first (catching up after a reconnect).
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        Ok(with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, pipeline_id, kind, stage, status, message, payload, created_at FROM pipeline_events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// On PostgreSQL: every replica's committed events into this process's bus, through
    /// `LISTEN`; after a lost connection, the events it missed from the table. Returns at once
    /// on SQLite.
    pub async fn listen(&self) {
        let Some(mut notices) = self.db.listen(NOTIFY_CHANNEL, "pipelines") else {
            return;
        };
        let mut last: i64 = with_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT COALESCE(MAX(id), 0) FROM pipeline_events"
        )
        .fetch_one(pool)
        .await
        .unwrap_or(0));
        let mut recent = RecentIds::default();
        while let Some(notice) = notices.recv().await {
            match notice {
                Notice::Listening { .. } => {
                    // Whatever committed while not listening, reaching back a window for
                    // transactions that committed after larger ids (streams skip repeats).
                    let mut after = (last - CATCH_UP_WINDOW).max(0);
                    while let Ok(missed) = self.events_after(after, 1000).await {
                        let Some(newest) = missed.last().map(|e| e.id) else {
                            break;
                        };
                        after = newest;
                        last = last.max(newest);
                        let fresh: Vec<EventRow> =
                            missed.into_iter().filter(|e| recent.insert(e.id)).collect();
                        self.bus.publish(fresh);
                    }
                }
                Notice::Payload(payload) => {
                    // Ids commit out of order under concurrency: a smaller id may come after a
                    // larger one, so what was sent is remembered by id, not by the largest.
                    let Ok(id) = payload.parse::<i64>() else {
                        continue;
                    };
                    if recent.insert(id)
                        && let Ok(Some(event)) = self.event(id).await
                    {
                        last = last.max(id);
                        self.bus.publish(vec![event]);
                    }
                }
            }
        }
    }

    /// Retention: deletes events older than `before`, and beyond the newest `keep` of each
    /// pipeline. Returns how many went.
    pub async fn prune_events(&self, before: DateTime<Utc>, keep: i64) -> Result<u64> {
        let old = with_pool!(&self.db, pool => sqlx::query("DELETE FROM pipeline_events WHERE created_at < $1")
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected());
        let excess = with_pool!(&self.db, pool => sqlx::query(
            "DELETE FROM pipeline_events WHERE id IN (SELECT e.id FROM pipeline_events e WHERE \
             (SELECT COUNT(*) FROM pipeline_events n WHERE n.pipeline_id = e.pipeline_id AND n.id > e.id) >= $1)",
        )
        .bind(keep)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(old + excess)
    }

    /// The pipeline's events after `since` (an event id), oldest first.
    pub async fn events(&self, pipeline_id: &str, since: i64, limit: i64) -> Result<Vec<EventRow>> {
        Ok(with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, pipeline_id, kind, stage, status, message, payload, created_at FROM pipeline_events \
             WHERE pipeline_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(pipeline_id)
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// The pipeline's newest `limit` events, oldest first (the page's log).
    pub async fn latest_events(&self, pipeline_id: &str, limit: i64) -> Result<Vec<EventRow>> {
        let mut rows: Vec<EventRow> = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT id, pipeline_id, kind, stage, status, message, payload, created_at FROM pipeline_events \
             WHERE pipeline_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(pipeline_id)
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.reverse();
        Ok(rows)
    }

    pub(super) async fn append_in(tx: &mut Tx, pipeline_id: &str, event: &NewEvent<'_>) -> Result<EventRow> {
        let now = Utc::now();
        let payload = event.payload.to_string();
        let status = event.status.map(PipelineStatus::as_str);
        let id: i64 = with_tx!(tx, conn => sqlx::query_scalar(
            "INSERT INTO pipeline_events (pipeline_id, kind, stage, status, message, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(pipeline_id)
        .bind(event.kind)
        .bind(event.stage)
        .bind(status)
        .bind(event.message)
        .bind(&payload)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?);
        // PostgreSQL tells every replica at commit (and only if it commits); SQLite has one.
        if let Tx::Postgres(t) = tx {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(id.to_string())
                .execute(&mut **t)
                .await?;
        }
        Ok(EventRow {
            id,
            pipeline_id: pipeline_id.to_owned(),
            kind: event.kind.to_owned(),
            stage: event.stage.map(str::to_owned),
            status: status.map(str::to_owned),
            message: event.message.to_owned(),
            payload,
            created_at: now,
        })
    }
}

/// The ids published lately (bounded), so a repeat is recognised whatever its order.
#[derive(Default)]
pub(super) struct RecentIds {
    set: std::collections::HashSet<i64>,
    order: std::collections::VecDeque<i64>,
}

impl RecentIds {
    const KEEP: usize = 4096;

    /// `false` when `id` was seen already.
    pub(super) fn insert(&mut self, id: i64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > Self::KEEP
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}
