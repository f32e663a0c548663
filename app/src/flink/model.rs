//! The types of the Flink jobs section, shared by the server and the browser.
//!
//! `FlinkJob` serializes to the Java Heimdall's JSON (its fields first, same names and shapes)
//! with Heimdall's additions after them, so a seed client reading `/jobs` keeps working.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// APPLICATION (the deployment runs one job) or SESSION (a cluster without `spec.job`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobType {
    Application,
    Session,
}

/// Replicas and per-replica CPU and memory of the JobManager or the TaskManagers, as the
/// spec states them (`cpu` as text: `1.0`, `500m`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessResources {
    pub replicas: i64,
    pub cpu: String,
    pub mem: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResources {
    pub jm: ProcessResources,
    pub tm: ProcessResources,
}

impl JobResources {
    /// JobManager plus TaskManager replicas: what the resources column sorts by.
    pub fn total_replicas(&self) -> i64 {
        self.jm.replicas + self.tm.replicas
    }
}

/// A link built from an endpoint pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLink {
    /// The pattern's key (`flink-ui`, `grafana`).
    pub key: String,
    /// Shown to people: `Flink UI`, or the key in title case for a custom one.
    pub title: String,
    pub url: String,
}

/// The last savepoint or checkpoint the operator recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Epoch milliseconds.
    pub time: Option<i64>,
    pub location: Option<String>,
    pub trigger_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: Option<String>,
}

/// One Flink job, derived from one `FlinkDeployment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlinkJob {
    /// The object's uid.
    pub id: String,
    pub name: String,
    pub namespace: String,
    /// `status.jobStatus.state` (`RUNNING`, `FAILED` …) or `UNKNOWN`.
    pub status: String,
    #[serde(rename = "type")]
    pub job_type: JobType,
    /// Epoch milliseconds.
    pub start_time: Option<i64>,
    pub short_image: String,
    /// `1.17` for `v1_17`.
    pub flink_version: String,
    pub parallelism: i64,
    pub resources: JobResources,
    /// The object's labels (the Java seed calls them metadata).
    pub metadata: BTreeMap<String, String>,
    // Heimdall's additions.
    /// The display-name pattern applied.
    pub display_name: String,
    /// The endpoint patterns applied; an empty pattern gives no link.
    pub links: Vec<JobLink>,
    pub lifecycle_state: Option<String>,
    pub job_manager_deployment_status: Option<String>,
    pub error: Option<String>,
    pub job_id: Option<String>,
    /// Epoch milliseconds of the operator's last job status update.
    pub update_time: Option<i64>,
    /// `spec.job.state`: `running` or `suspended`, what the operator is asked for.
    pub desired_state: Option<String>,
    pub last_savepoint: Option<Snapshot>,
    pub last_checkpoint: Option<Snapshot>,
    pub conditions: Vec<JobCondition>,
}

impl FlinkJob {
    /// `namespace/name`: unique in a cluster, stable across re-creation (unlike the uid).
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What developers and admins may do to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobAction {
    /// `spec.job.state = suspended`.
    Suspend,
    /// `spec.job.state = running`.
    Resume,
    /// A new `spec.restartNonce`.
    Restart,
    /// A new `spec.job.savepointTriggerNonce`.
    Savepoint,
}

impl JobAction {
    pub const ALL: [Self; 4] = [Self::Suspend, Self::Resume, Self::Restart, Self::Savepoint];

    pub fn label(self) -> &'static str {
        match self {
            Self::Suspend => "Suspend",
            Self::Resume => "Resume",
            Self::Restart => "Restart",
            Self::Savepoint => "Trigger savepoint",
        }
    }

    /// What the confirmation says will happen.
    pub fn consequence(self) -> &'static str {
        match self {
            Self::Suspend => {
                "The operator stops the job (taking a savepoint first when its upgrade mode says so)."
            }
            Self::Resume => "The operator starts the job again, from its last savepoint when there is one.",
            Self::Restart => "The operator restarts the JobManager and TaskManagers.",
            Self::Savepoint => "The operator asks Flink for a savepoint now; the job keeps running.",
        }
    }

    /// Whether the action makes sense for `job` (session clusters have no job to suspend).
    pub fn applies_to(self, job: &FlinkJob) -> bool {
        let application = job.job_type == JobType::Application;
        let suspended = job.desired_state.as_deref() == Some("suspended");
        match self {
            Self::Suspend => application && !suspended,
            Self::Resume => application && suspended,
            Self::Savepoint => application && !suspended,
            Self::Restart => true,
        }
    }
}

/// Jobs by state, for the overview: one line the server writes (`13 jobs · RUNNING 12 ·
/// FAILED 1`, most common first, then why the list may be out of date), so the initial bundle
/// decodes one string instead of a list (measured: a list cost more than the overview's bundle
/// budget had left).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    pub summary: String,
}

/// The job list's connection to the live feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedStatus {
    /// Every watch is in sync with the API server.
    pub live: bool,
    /// Why not, in the API server's words.
    pub problem: Option<String>,
}

/// The first message of the live feed, and what it sends again after a resync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsSnapshot {
    pub jobs: Vec<FlinkJob>,
    pub status: FeedStatus,
}

/// The colour family of a job status, as the Java seed colours them.
pub fn status_tone(status: &str) -> crate::ui::Tone {
    use crate::ui::Tone;
    match status {
        "RUNNING" => Tone::Success,
        "FAILED" => Tone::Danger,
        "FINISHED" | "UNKNOWN" => Tone::Neutral,
        _ => Tone::Warning,
    }
}
