//! The pipelines' event bus: every event, once its transaction has committed, goes to every
//! live stream in this process (one broadcast; each stream keeps its pipeline's). A stream that
//! falls behind, or that starts from `Last-Event-ID`, reads the gap from `pipeline_events` —
//! the table is the truth, the bus only says "now". On PostgreSQL the bus carries every
//! replica's events (`PipelineStore::listen`); the catalog listens to it for approval decisions.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use super::store::rows::EventRow;

/// How many events a slow stream may fall behind before it re-reads from the table.
const CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<EventRow>>,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            tx: broadcast::Sender::new(CAPACITY),
            closing: Arc::new(watch::Sender::new(false)),
        }
    }
}

impl EventBus {
    /// Sends committed events to the live streams (none listening is fine).
    pub fn publish(&self, events: Vec<EventRow>) {
        for event in events {
            let _ = self.tx.send(Arc::new(event));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventRow>> {
        self.tx.subscribe()
    }

    /// Ends every live stream (graceful shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Completes when `close` was called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }
}
