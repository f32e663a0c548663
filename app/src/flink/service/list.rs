//! The job list as `/jobs` and `/api/jobs` send it, serialized once per change burst and not
//! per request: at 10,000 FlinkDeployments the list is megabytes, and converting and encoding it
//! was the whole cost of a call. A change to the watches bumps a version (`translate_changes`);
//! the next request rebuilds the bytes, every other request until the next change gets the same
//! ones, with an `ETag` a client can send back (`If-None-Match` → 304). A gzip copy is made
//! beside the bytes the first time a client that accepts it asks, and kept as long as they are:
//! the list compresses about tenfold, and compressing it per request (what the compression
//! layer would do) cost more than building it.

use std::io::Write;
use std::sync::Arc;
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
    /// The gzip copy of `json`, made once on first demand (`gzip()`).
    gzip: Arc<tokio::sync::OnceCell<Bytes>>,
    /// The jobs `json` holds, converted once: the jobs page's views are cut from them.
    pub(super) jobs: Arc<Vec<FlinkJob>>,
}

impl JobListBytes {
    /// The list gzip-compressed, and its entity tag (`etag` with `-gzip` inside the quotes: a
    /// strong tag names one content coding). Compressed once per list, off the async threads;
    /// callers asking at once wait for the one compression.
    pub async fn gzip(&self) -> Result<(Bytes, String)> {
        let json = self.json.clone();
        let gzip = self
            .gzip
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || compress(&json))
                    .await
                    .map_err(|e| FlinkError::Unavailable(format!("cannot compress the job list: {e}")))?
            })
            .await?;
        Ok((gzip.clone(), gzip_etag(&self.etag)))
    }
}

/// The entity tag of the gzip copy of the list tagged `etag`.
pub fn gzip_etag(etag: &str) -> String {
    format!("{}-gzip\"", etag.trim_end_matches('"'))
}

/// gzip at its fastest level: JSON this repetitive still shrinks about tenfold, and the list is
/// compressed again after every change.
fn compress(json: &[u8]) -> Result<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 8), flate2::Compression::fast());
    encoder
        .write_all(json)
        .and_then(|()| encoder.finish())
        .map(Bytes::from)
        .map_err(|e| FlinkError::Unavailable(format!("cannot compress the job list: {e}")))
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
        let jobs = self.all_jobs();
        let list = JobListBytes {
            json: encode(&jobs)?,
            etag: format!("\"{:x}-{version}\"", cache.process),
            gzip: Arc::default(),
            jobs: Arc::new(jobs),
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
        encode(&self.all_jobs())
    }
}

fn encode(jobs: &[FlinkJob]) -> Result<Bytes> {
    let json = serde_json::to_vec(jobs).map_err(|e| {
        tracing::error!(error = %e, "cannot encode the job list");
        FlinkError::Unavailable("cannot encode the job list".into())
    })?;
    Ok(Bytes::from(json))
}
