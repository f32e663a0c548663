//! `Audit`: the one small handle every service holds to append to the audit log (what it
//! appends is an `AuditEvent`, `event.rs`).

use super::event::AuditEvent;
use super::model::{AuditEntry, AuditFilter};
use super::store::AuditStore;
use crate::db::{Database, DbError, Tx};

/// Appends to and reads the audit log. Cheap to clone; one per application.
#[derive(Clone, Debug)]
pub struct Audit {
    store: AuditStore,
}

impl Audit {
    pub fn new(db: Database) -> Self {
        Self {
            store: AuditStore::new(db),
        }
    }

    /// Appends `event`. A failure to record is logged, not raised: the request's own outcome
    /// (often a refusal) stands.
    pub async fn record(&self, event: AuditEvent) {
        if let Err(err) = self.store.insert(&event).await {
            tracing::error!(error = %err, action = %event.action, "could not write the audit log");
        }
    }

    /// Appends `event` as part of a larger change: if it cannot be written, the change fails too.
    pub async fn record_in(&self, tx: &mut Tx, event: &AuditEvent) -> Result<(), DbError> {
        AuditStore::insert_in(tx, event).await
    }

    /// The newest entries matching `filter`. The caller checks who may read them.
    pub async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, DbError> {
        self.store.list(filter).await
    }
}
