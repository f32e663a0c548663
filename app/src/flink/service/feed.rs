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
    /// The list and whether it is live, as a feed's first message: the list's bytes are the
    /// ones `/jobs` sends, built once per change, not once per page that opens the feed.
    pub async fn snapshot(&self, principal: &Principal) -> Result<FeedMessage> {
        principal.authorize(Permission::Read)?;
        Ok(self.snapshot_of(&self.list_bytes().await?.json))
    }

    /// The same without waiting, for a feed that fell behind.
    pub fn snapshot_now(&self, principal: &Principal) -> Result<FeedMessage> {
        principal.authorize(Permission::Read)?;
        Ok(self.snapshot_of(&self.list_bytes_now()?))
    }

    /// One page of the list as `query` asks for it, with the counts around it, as a `view`
    /// message (`JobsView`): the jobs page's feed sends this on connect and after every change
    /// burst, so a page never holds more jobs than it shows. Cut from the converted list kept
    /// with the list's bytes: filtering and sorting 10,000 jobs in memory, no conversion.
    pub async fn view(&self, principal: &Principal, query: &JobQuery) -> Result<FeedMessage> {
        let view = self.view_of(principal, query).await?;
        let data = serde_json::to_string(&view).map_err(|e| {
            tracing::error!(error = %e, "cannot encode a job view");
            FlinkError::Unavailable("cannot encode the job list".into())
        })?;
        Ok(FeedMessage {
            event: "view",
            data: data.into(),
        })
    }

    /// The view itself: what the jobs page renders on the server before its feed opens.
    pub async fn view_of(&self, principal: &Principal, query: &JobQuery) -> Result<JobsView> {
        principal.authorize(Permission::Read)?;
        let list = self.list_bytes().await?;
        Ok(query.view(&list.jobs, self.feed_status()))
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
            // Built by the caller from the shared bytes (`translate_changes`).
            JobChange::Resynced => return None,
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

    /// The whole list (already encoded) and its status as a `snapshot` message
    /// (`JobsSnapshot`): a feed's first, and what every feed gets after a relist.
    fn snapshot_of(&self, jobs: &[u8]) -> FeedMessage {
        let status = serde_json::to_string(&self.feed_status())
            .unwrap_or_else(|_| "{\"live\":false,\"problem\":\"cannot encode the status\"}".to_owned());
        let jobs = std::str::from_utf8(jobs).unwrap_or("[]");
        FeedMessage {
            event: "snapshot",
            data: format!("{{\"jobs\":{jobs},\"status\":{status}}}").into(),
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
        let message = match change {
            JobChange::Resynced => service.list_bytes().await.ok().map(|list| service.snapshot_of(&list.json)),
            change => service.message_for(&change),
        };
        // Nobody listening is fine: `send` only fails when no page follows the feed.
        if let Some(message) = message {
            let _ = service.inner.feed.send(message);
        }
    }
}
