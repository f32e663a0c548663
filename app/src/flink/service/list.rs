//! The job list as `/jobs` and `/api/jobs` send it, serialized once per change burst and not
//! per request: at 10,000 FlinkDeployments the list is megabytes, and converting and encoding it
//! was the whole cost of a call. A change to the watches bumps a version (`translate_changes`);
//! the next request rebuilds the bytes, every other request until the next change gets the same
//! ones, with an `ETag` a client can send back (`If-None-Match` → 304).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;

use super::*;

/// The serialized list and its entity tag.
#[derive(Debug, Clone)]
pub struct JobListBytes {
    /// The JSON array (`Vec<FlinkJob>`).
    pub json: Bytes,
    /// `"<process>-<version>"`: unique to this list in this process, and never reused by a
    /// later process (a restart starts again at version 0).
    pub etag: String,
}

/// The cache: the version the watches are at, and the bytes built for some version.
pub(super) struct ListCache {
    version: AtomicU64,
    process: u64,
    built: tokio::sync::Mutex<Option<(u64, JobListBytes)>>,
}

impl Default for ListCache {
    fn default() -> Self {
        Self {
            version: AtomicU64::new(0),
            process: rand::random(),
            built: tokio::sync::Mutex::new(None),
        }
    }
}

impl ListCache {
    /// A change reached the stores: the next request rebuilds.
    pub(super) fn changed(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }
}

impl FlinkService {
    /// Every job, as the JSON array both Heimdall seeds answer, from the cache when nothing
    /// changed since it was built. Readers only.
    pub async fn jobs_json(&self, principal: &Principal) -> Result<JobListBytes> {
        principal.authorize(Permission::Read)?;
        self.list_bytes().await
    }

    /// The list's bytes for the current version: built here once, shared by `/jobs` and every
    /// feed's snapshot until the next change. Callers have checked the principal.
    pub(super) async fn list_bytes(&self) -> Result<JobListBytes> {
        let cache = &self.inner.list;
        // One build at a time: the others wait for it instead of building the same bytes.
        let mut built = cache.built.lock().await;
        // Read before the stores: a change that lands while building bumps the version after
        // its store write, so these bytes are never kept past it.
        let version = cache.version.load(Ordering::Acquire);
        if let Some((at, list)) = built.as_ref()
            && *at == version
        {
            return Ok(list.clone());
        }
        let list = JobListBytes {
            json: self.encoded_jobs()?,
            etag: format!("\"{:x}-{version}\"", cache.process),
        };
        *built = Some((version, list.clone()));
        Ok(list)
    }

    /// The current bytes without waiting, for a feed catching up after it fell behind; built
    /// afresh (and not kept) when a build is under way or the list changed since.
    pub(super) fn list_bytes_now(&self) -> Result<Bytes> {
        let cache = &self.inner.list;
        if let Ok(built) = cache.built.try_lock()
            && let Some((at, list)) = built.as_ref()
            && *at == cache.version.load(Ordering::Acquire)
        {
            return Ok(list.json.clone());
        }
        self.encoded_jobs()
    }

    fn encoded_jobs(&self) -> Result<Bytes> {
        let json = serde_json::to_vec(&self.all_jobs()).map_err(|e| {
            tracing::error!(error = %e, "cannot encode the job list");
            FlinkError::Unavailable("cannot encode the job list".into())
        })?;
        Ok(Bytes::from(json))
    }
}
