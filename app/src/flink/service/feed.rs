//! The Flink jobs' live feed: each watch change converted and serialized once for every page
//! that follows it, a snapshot first and after a relist, closed at shutdown.

use super::*;

/// One message of the live feed, converted and serialized once for every subscriber: an SSE
/// event name and its JSON.
#[derive(Debug, Clone)]
pub struct FeedMessage {
    pub event: &'static str,
    pub data: Arc<str>,
}

impl FlinkService {
    /// The list and whether it is live, as a feed's first message.
    pub fn snapshot(&self, principal: &Principal) -> Result<FeedMessage> {
        principal.authorize(Permission::Read)?;
        Ok(self.snapshot_message())
    }

    /// Changes as they happen, for a live feed.
    pub fn subscribe(&self, principal: &Principal) -> Result<broadcast::Receiver<FeedMessage>> {
        principal.authorize(Permission::Read)?;
        Ok(self.inner.feed.subscribe())
    }

    /// The feed message for one change: a job converted and serialized here, once, however
    /// many pages follow the feed (at 10,000 jobs a snapshot is megabytes).
    fn message_for(&self, change: &JobChange) -> Option<FeedMessage> {
        let (event, data) = match change {
            JobChange::Applied(fd) => ("upsert", serde_json::to_string(&self.job_of(fd))),
            JobChange::Deleted(key) => ("delete", serde_json::to_string(&json!({ "key": key }))),
            JobChange::State => ("status", serde_json::to_string(&self.feed_status())),
            JobChange::Resynced => return Some(self.snapshot_message()),
        };
        match data {
            Ok(data) => Some(FeedMessage {
                event,
                data: data.into(),
            }),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a live feed message");
                None
            }
        }
    }

    /// The whole list and its status as a `snapshot` message: a feed's first, and what every
    /// feed gets after a relist. Callers have checked the principal.
    fn snapshot_message(&self) -> FeedMessage {
        let snapshot = JobsSnapshot {
            jobs: self.all_jobs(),
            status: self.feed_status(),
        };
        let data = serde_json::to_string(&snapshot).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot encode a feed snapshot");
            "{\"jobs\":[],\"status\":{\"live\":false,\"problem\":\"cannot encode the list\"}}".to_owned()
        });
        FeedMessage {
            event: "snapshot",
            data: data.into(),
        }
    }
}

/// Turns the watches' changes into feed messages, once for every subscriber. Ends when the
/// service is gone. Falling behind (a burst of changes) costs one fresh snapshot.
pub(super) async fn translate_changes(mut raw: broadcast::Receiver<JobChange>, weak: std::sync::Weak<Inner>) {
    loop {
        let change = match raw.recv().await {
            Ok(change) => change,
            Err(broadcast::error::RecvError::Lagged(_)) => JobChange::Resynced,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(inner) = weak.upgrade() else { return };
        let service = FlinkService { inner };
        service.inner.list.changed();
        // Nobody listening is fine: `send` only fails when no page follows the feed.
        if let Some(message) = service.message_for(&change) {
            let _ = service.inner.feed.send(message);
        }
    }
}
