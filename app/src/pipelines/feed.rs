//! One pipeline's live events, for a stream: every event after the client's cursor from the
//! table, then each new one as it commits (from the bus), each once and by id — ids may commit
//! out of order, so what was sent is remembered by id, not by the largest. A client that falls
//! behind the bus reads the gap from the table again.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::Stream;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::store::{EventRow, PipelineStore};

/// One stream's position.
struct Feed {
    store: PipelineStore,
    live: Receiver<Arc<EventRow>>,
    id: String,
    /// The client's cursor (`Last-Event-ID`): it has everything up to here.
    floor: i64,
    /// The largest id sent, and every id sent (one pipeline's events: retention bounds them).
    last: i64,
    sent: HashSet<i64>,
    pending: VecDeque<EventRow>,
    replayed: bool,
}

impl Feed {
    async fn next(&mut self) -> Option<EventRow> {
        loop {
            if let Some(row) = self.pending.pop_front() {
                if row.id > self.floor && self.sent.insert(row.id) {
                    self.last = self.last.max(row.id);
                    return Some(row);
                }
                continue;
            }
            if !self.replayed {
                self.replayed = true;
                self.refill().await?;
                continue;
            }
            match self.live.recv().await {
                Ok(row) if row.pipeline_id == self.id => self.pending.push_back((*row).clone()),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => self.refill().await?,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// What may be missing, from the table: after the client's cursor, reaching back a window
    /// below the largest id sent (repeats are skipped).
    async fn refill(&mut self) -> Option<()> {
        let after = self.floor.max(self.last - 1000);
        let rows = self.store.events(&self.id, after, 10_000).await.ok()?;
        self.pending.extend(rows);
        Some(())
    }
}

/// The events of pipeline `id` after event `after`, then live. Subscribed to the bus when
/// called, before the table is read: an event committed in between arrives twice (and is sent
/// once), never not at all. Ends when the bus closes (shutdown) or the table cannot be read.
pub fn live_events(
    store: &PipelineStore,
    id: &str,
    after: i64,
) -> impl Stream<Item = EventRow> + Send + use<> {
    let feed = Feed {
        live: store.bus().subscribe(),
        store: store.clone(),
        id: id.to_owned(),
        floor: after,
        last: after,
        sent: HashSet::new(),
        pending: VecDeque::new(),
        replayed: false,
    };
    futures::stream::unfold(feed, |mut feed| async move {
        let row = feed.next().await?;
        Some((row, feed))
    })
}
