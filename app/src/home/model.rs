use serde::{Deserialize, Serialize};

use crate::cluster::ClusterStatus;
use crate::flink::JobCounts;

/// What was built: the version (overridable by `app_version`) and the git commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    pub version: String,
    pub git_commit: String,
}

/// The database behind Heimdall, as the overview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    /// `sqlite` or `postgresql`.
    pub backend: String,
    /// The engine's version, or `None` when it did not answer.
    pub server_version: Option<String>,
}

/// Everything the shell and the home page show about the installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub build: BuildInfo,
    pub database: DatabaseInfo,
    pub cluster: ClusterStatus,
    /// Flink jobs by state, from the watches' memory.
    pub jobs: JobCounts,
    /// How many pipelines wait at a gate the viewer may approve now, as text (empty when none):
    /// the nav's badge and the overview's card. Text, not a number, like `jobs.summary`: the
    /// initial bundle then decodes and renders no new type.
    pub approvals_waiting: String,
}

/// The result of an on-demand database round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseCheck {
    pub backend: String,
    pub server_version: String,
    pub users: i64,
    /// Microseconds, as an integer: the browser then needs no float parsing at all.
    pub round_trip_us: u64,
}

/// How a count looks: red when something is wrong, amber when it needs a look, blue when it
/// is under way, quiet when it is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HomeTone {
    Danger,
    Warning,
    Info,
    Quiet,
}

/// One count on the home page: what it counts, how many, and the filtered list it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tile {
    /// Stable, for tests and styling (`data-testid="tile-{key}"`).
    pub key: String,
    pub label: String,
    pub count: u32,
    pub tone: HomeTone,
    /// The list this count is: the same filter, one click away.
    pub href: String,
    /// The first of them in words (a failed job's reason, the newest action).
    pub detail: Option<String>,
}

/// A pipeline that moved lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentItem {
    pub label: String,
    pub status: String,
    pub href: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The home page for one person: what needs them, what is broken, what moved lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Home {
    pub needs_you: Vec<Tile>,
    pub broken: Vec<Tile>,
    pub recent: Vec<RecentItem>,
}
