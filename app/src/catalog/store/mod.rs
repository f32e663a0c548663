//! The `catalog_services` and `catalog_actions` tables. Writes that touch a service and its
//! history (an action asked for, a status reported) land in one transaction with their audit
//! entry, or not at all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use super::model::{ActionKind, ActionRecord, ServiceLink};
use crate::audit::{Audit, AuditEvent};
use crate::db::{Database, Notice, Result, with_pool, with_tx};

mod actions;

/// A service row, with its tenant's slug.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceRow {
    pub id: i64,
    pub tenant_id: i64,
    pub tenant: String,
    /// The slug.
    pub name: String,
    /// The name as registered, when it was not the slug itself.
    pub display_name: String,
    pub repo_url: String,
    pub owner_team: String,
    pub runtime: String,
    pub tier: String,
    /// JSON list.
    pub environments: String,
    pub observability_enabled: bool,
    pub description: String,
    /// JSON list of `{title, url}`.
    pub links: String,
    /// JSON list.
    pub tags: String,
    pub provision_status: String,
    pub provision_detail: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ServiceRow {
    pub fn environments(&self) -> Vec<String> {
        serde_json::from_str(&self.environments).unwrap_or_default()
    }

    pub fn links(&self) -> Vec<ServiceLink> {
        serde_json::from_str(&self.links).unwrap_or_default()
    }

    pub fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ActionRow {
    id: i64,
    service_id: i64,
    action: String,
    environment: Option<String>,
    status: String,
    detail: String,
    execution_ref: Option<String>,
    requested_by: String,
    pipeline_id: Option<String>,
    image: Option<String>,
    decided_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ActionRow> for ActionRecord {
    fn from(r: ActionRow) -> Self {
        Self {
            id: r.id,
            service_id: r.service_id,
            action: ActionKind::parse(&r.action).unwrap_or(ActionKind::Deploy),
            environment: r.environment,
            status: r.status,
            detail: r.detail,
            execution_ref: r.execution_ref,
            requested_by: r.requested_by,
            pipeline_id: r.pipeline_id,
            image: r.image,
            decided_by: r.decided_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A service's fields as validated by the service layer.
pub struct ServiceFields<'a> {
    pub tenant_id: i64,
    /// The slug (a DNS label).
    pub name: &'a str,
    /// The name as registered, when it is not the slug itself; else empty.
    pub display_name: &'a str,
    pub repo_url: &'a str,
    pub owner_team: &'a str,
    pub runtime: &'a str,
    pub tier: &'a str,
    pub environments: &'a [String],
    pub observability_enabled: bool,
    pub description: &'a str,
    pub links: &'a [ServiceLink],
    pub tags: &'a [String],
}

/// An action to record.
#[derive(Clone, Copy)]
pub struct NewAction<'a> {
    pub service_id: i64,
    pub action: ActionKind,
    pub environment: Option<&'a str>,
    pub detail: &'a str,
    pub requested_by: &'a str,
    /// `queued`, or `awaiting_approval` with the pipeline whose gate decides.
    pub status: &'a str,
    pub pipeline_id: Option<&'a str>,
    /// A deploy's image reference (`repository:version`).
    pub image: Option<&'a str>,
}

const SERVICE_SELECT: &str = "SELECT s.id, s.tenant_id, t.slug AS tenant, s.name, s.display_name, s.repo_url, s.owner_team, s.runtime, \
     s.tier, s.environments, s.observability_enabled, s.description, s.links, s.tags, s.provision_status, \
     s.provision_detail, s.created_at, s.updated_at FROM catalog_services s JOIN tenants t ON t.id = s.tenant_id";
const ACTION_COLUMNS: &str = "id, service_id, action, environment, status, detail, execution_ref, requested_by, pipeline_id, image, decided_by, created_at, updated_at";

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// The PostgreSQL channel every replica's catalog changes cross on.
const NOTIFY_CHANNEL: &str = "heimdall_catalog";

/// Sent on `changes` when any service may have changed (a page re-reads whatever it shows).
pub const EVERYTHING: i64 = -1;

#[derive(Clone)]
pub struct CatalogStore {
    db: Database,
    /// The id of each service whose actions changed, once committed: the service page's live
    /// history listens (`changes`). Fed by this process and, on PostgreSQL, by every other
    /// replica through `NOTIFY` (`listen`); the table is the truth, so a page that hears
    /// "changed" re-reads it.
    changes: broadcast::Sender<i64>,
    /// This process among the replicas: its own notifications come back and are skipped.
    replica: Arc<str>,
}

impl CatalogStore {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            changes: broadcast::Sender::new(256),
            replica: uuid::Uuid::new_v4().simple().to_string().into(),
        }
    }

    /// Hears the id of every service whose actions change from now on, on any replica.
    pub fn changes(&self) -> broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    /// Announces a committed change here at once and, on PostgreSQL, to the other replicas.
    fn changed(&self, service_id: i64) {
        let _ = self.changes.send(service_id);
        if let Database::Postgres(pool) = &self.db {
            let (pool, payload) = (pool.clone(), format!("{}:{service_id}", self.replica));
            tokio::spawn(async move {
                if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(NOTIFY_CHANNEL)
                    .bind(payload)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "catalog: could not tell the other replicas of a change");
                }
            });
        }
    }

    /// On PostgreSQL, brings the other replicas' changes into `changes` until dropped. After
    /// a reconnect every page re-reads (`EVERYTHING`): what changed while the connection was
    /// down is not known.
    pub async fn listen(&self) {
        let Some(mut notices) = self.db.listen(NOTIFY_CHANNEL, "catalog") else {
            return;
        };
        while let Some(notice) = notices.recv().await {
            match notice {
                Notice::Listening { again: true } => {
                    let _ = self.changes.send(EVERYTHING);
                }
                Notice::Listening { again: false } => {}
                Notice::Payload(payload) => {
                    if let Some((from, id)) = payload.split_once(':')
                        && from != &*self.replica
                        && let Ok(id) = id.parse::<i64>()
                    {
                        let _ = self.changes.send(id);
                    }
                }
            }
        }
    }

    /// Every service, by id (callers filter by tenant).
    pub async fn list(&self) -> Result<Vec<ServiceRow>> {
        let sql = format!("{SERVICE_SELECT} ORDER BY s.id");
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
    }

    pub async fn get(&self, id: i64) -> Result<Option<ServiceRow>> {
        let sql = format!("{SERVICE_SELECT} WHERE s.id = $1");
        Ok(with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// Inserts a service with its audit entry; a name taken in the tenant is
    /// `DbError::Conflict`. Returns the new id.
    pub async fn create(&self, f: &ServiceFields<'_>, audit: &Audit, entry: AuditEvent) -> Result<i64> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let id: i64 = with_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO catalog_services (tenant_id, name, repo_url, owner_team, runtime, tier, environments, \
             observability_enabled, description, links, tags, created_at, updated_at, display_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING id",
        )
        .bind(f.tenant_id)
        .bind(f.name)
        .bind(f.repo_url)
        .bind(f.owner_team)
        .bind(f.runtime)
        .bind(f.tier)
        .bind(json(f.environments))
        .bind(f.observability_enabled)
        .bind(f.description)
        .bind(json(f.links))
        .bind(json(f.tags))
        .bind(now)
        .bind(f.display_name)
        .fetch_one(&mut *conn)
        .await?);
        audit.record_in(&mut tx, &entry.target(&id.to_string())).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a service's fields; `false` when there is no such service.
    pub async fn update(
        &self,
        id: i64,
        f: &ServiceFields<'_>,
        audit: &Audit,
        entry: &AuditEvent,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let changed = with_tx!(&mut tx, conn => sqlx::query(
            "UPDATE catalog_services SET tenant_id = $2, name = $3, repo_url = $4, owner_team = $5, runtime = $6, \
             tier = $7, environments = $8, observability_enabled = $9, description = $10, links = $11, tags = $12, \
             updated_at = $13, display_name = $14 WHERE id = $1",
        )
        .bind(id)
        .bind(f.tenant_id)
        .bind(f.name)
        .bind(f.repo_url)
        .bind(f.owner_team)
        .bind(f.runtime)
        .bind(f.tier)
        .bind(json(f.environments))
        .bind(f.observability_enabled)
        .bind(f.description)
        .bind(json(f.links))
        .bind(json(f.tags))
        .bind(Utc::now())
        .bind(f.display_name)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        if changed == 0 {
            return Ok(false);
        }
        audit.record_in(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a service and its history; `false` when there was none.
    pub async fn delete(&self, id: i64, audit: &Audit, entry: &AuditEvent) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let gone = with_tx!(&mut tx, conn => sqlx::query("DELETE FROM catalog_services WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        if gone == 0 {
            return Ok(false);
        }
        audit.record_in(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }
}
