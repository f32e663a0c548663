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

    /// The state the pages show, filter and count by: `status`, except for a session cluster,
    /// which runs no job of its own and so has no job state (the seed's `UNKNOWN`): it shows
    /// its JobManager deployment's (`READY`, `DEPLOYING`, `ERROR` …), so a healthy one reads as
    /// healthy. The seeds' APIs keep `status` as they had it.
    pub fn shown_status(&self) -> &str {
        match (
            self.job_type,
            self.status.as_str(),
            self.job_manager_deployment_status.as_deref(),
        ) {
            (JobType::Session, "UNKNOWN", Some(jm)) if !jm.is_empty() => jm,
            _ => &self.status,
        }
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
    /// Discovery is off for as long as this process runs (no cluster, or switched off): the
    /// page says so once instead of offering filters over a list that cannot fill.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub off: bool,
}

/// The first message of the live feed, and what it sends again after a resync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsSnapshot {
    pub jobs: Vec<FlinkJob>,
    pub status: FeedStatus,
}

/// Sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Namespace,
    Status,
    Resources,
    Started,
}

impl SortKey {
    /// The column an address names; anything else sorts by name.
    pub fn parse(s: &str) -> Self {
        match s {
            "namespace" => Self::Namespace,
            "status" => Self::Status,
            "resources" => Self::Resources,
            "started" => Self::Started,
            _ => Self::Name,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Namespace => "namespace",
            Self::Status => "status",
            Self::Resources => "resources",
            Self::Started => "started",
        }
    }
}

/// Orders two jobs by `key`, ascending; a missing start time sorts last either way (the seed's
/// numeric sort was inverted and put missing values first on descending).
pub fn compare(a: &FlinkJob, b: &FlinkJob, key: SortKey, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let flip = |o: Ordering| if descending { o.reverse() } else { o };
    let tie = || (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name));
    match key {
        SortKey::Name => flip(
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then_with(tie),
        ),
        SortKey::Namespace => flip(a.namespace.cmp(&b.namespace).then_with(tie)),
        SortKey::Status => flip(a.shown_status().cmp(b.shown_status()).then_with(tie)),
        SortKey::Resources => flip(
            a.resources
                .total_replicas()
                .cmp(&b.resources.total_replicas())
                .then_with(tie),
        ),
        SortKey::Started => match (a.start_time, b.start_time) {
            (Some(x), Some(y)) => flip(x.cmp(&y).then_with(tie)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => tie(),
        },
    }
}

/// The page sizes the jobs page offers; `0` is all of them.
pub const PAGE_SIZES: [usize; 5] = [10, 20, 50, 100, 0];

/// What the jobs page shows: filters, sort, page and the open job, as its address holds them
/// and as it asks the live feed for them (`/api/jobs/events?size=…`). Anything unreadable is
/// the default: a feed is never refused over its view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobQuery {
    /// Part of the display name or the name, any case.
    #[serde(default)]
    pub q: String,
    /// One status, exactly.
    #[serde(default)]
    pub status: String,
    /// One namespace, exactly.
    #[serde(default)]
    pub ns: String,
    #[serde(default)]
    pub sort: String,
    /// `desc` for descending.
    #[serde(default)]
    pub dir: String,
    /// From 1; past the last page is the last page.
    #[serde(default)]
    pub page: String,
    /// One of `PAGE_SIZES`; else 20.
    #[serde(default)]
    pub size: String,
    /// `namespace/name` of the job open in the drawer, sent whatever page it is on.
    #[serde(default)]
    pub job: String,
}

/// One page of the job list and what the page around it needs: the answer to a `JobQuery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsView {
    /// The page's jobs, in order.
    pub jobs: Vec<FlinkJob>,
    /// Jobs the filters match.
    pub matched: usize,
    /// Jobs there are.
    pub total: usize,
    /// The page shown (the one asked for, within 1..=pages).
    pub page: usize,
    pub pages: usize,
    /// The page size applied (`0`: all).
    pub size: usize,
    /// Jobs by status over the whole list, most common first.
    pub statuses: Vec<(String, usize)>,
    /// Every namespace with a job, sorted.
    pub namespaces: Vec<String>,
    /// The job `JobQuery::job` names, if it exists.
    pub selected: Option<FlinkJob>,
    pub status: FeedStatus,
    /// The question this answers (a page can tell an answer to its last question).
    pub query: JobQuery,
}

impl JobQuery {
    pub fn page_size(&self) -> usize {
        self.size
            .parse()
            .ok()
            .filter(|s| PAGE_SIZES.contains(s))
            .unwrap_or(20)
    }

    fn matches(&self, job: &FlinkJob, q: &str) -> bool {
        (q.is_empty() || job.display_name.to_lowercase().contains(q) || job.name.to_lowercase().contains(q))
            && (self.status.is_empty() || job.shown_status() == self.status)
            && (self.ns.is_empty() || job.namespace == self.ns)
    }

    /// The view of `all` (every job) this query asks for.
    pub fn view(&self, all: &[FlinkJob], status: FeedStatus) -> JobsView {
        let q = self.q.to_lowercase();
        let mut matched: Vec<&FlinkJob> = all.iter().filter(|j| self.matches(j, &q)).collect();
        let matched_count = matched.len();
        let (key, descending) = (SortKey::parse(&self.sort), self.dir == "desc");
        let size = self.page_size();
        let pages = if size == 0 {
            1
        } else {
            matched.len().div_ceil(size).max(1)
        };
        let page = self.page.parse::<usize>().unwrap_or(1).clamp(1, pages);
        let jobs: Vec<FlinkJob> = if size == 0 {
            matched.sort_by(|a, b| compare(a, b, key, descending));
            matched.iter().map(|j| (*j).clone()).collect()
        } else {
            // Only the rows up to the end of this page need to be in order.
            let end = (page * size).min(matched.len());
            if end < matched.len() {
                matched.select_nth_unstable_by(end, |a, b| compare(a, b, key, descending));
                matched.truncate(end);
            }
            matched.sort_by(|a, b| compare(a, b, key, descending));
            matched[(page - 1) * size..]
                .iter()
                .map(|j| (*j).clone())
                .collect()
        };
        let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
        let mut namespaces: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for job in all {
            *by_status.entry(job.shown_status()).or_default() += 1;
            namespaces.insert(&job.namespace);
        }
        let mut statuses: Vec<(String, usize)> =
            by_status.into_iter().map(|(s, n)| (s.to_owned(), n)).collect();
        // Most common first; the map gave them in name order, which a stable sort keeps for ties.
        statuses.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        JobsView {
            matched: matched_count,
            jobs,
            total: all.len(),
            page,
            pages,
            size,
            statuses,
            namespaces: namespaces.into_iter().map(str::to_owned).collect(),
            selected: (!self.job.is_empty())
                .then(|| all.iter().find(|j| j.key() == self.job).cloned())
                .flatten(),
            status,
            query: self.clone(),
        }
    }
}

/// The colour family of a job status, as the Java seed colours them.
pub fn status_tone(status: &str) -> crate::ui::Tone {
    use crate::ui::Tone;
    match status {
        // A session cluster's JobManager deployment (`FlinkJob::shown_status`) too.
        "RUNNING" | "READY" => Tone::Success,
        "FAILED" | "ERROR" | "MISSING" => Tone::Danger,
        "FINISHED" | "UNKNOWN" => Tone::Neutral,
        _ => Tone::Warning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(ns: &str, name: &str, status: &str) -> FlinkJob {
        FlinkJob {
            id: format!("{ns}-{name}"),
            name: name.to_owned(),
            namespace: ns.to_owned(),
            status: status.to_owned(),
            job_type: JobType::Application,
            start_time: None,
            short_image: String::new(),
            flink_version: String::new(),
            parallelism: 1,
            resources: JobResources::default(),
            metadata: BTreeMap::new(),
            display_name: name.to_owned(),
            links: Vec::new(),
            lifecycle_state: None,
            job_manager_deployment_status: None,
            error: None,
            job_id: None,
            update_time: None,
            desired_state: None,
            last_savepoint: None,
            last_checkpoint: None,
            conditions: Vec::new(),
        }
    }

    fn live() -> FeedStatus {
        FeedStatus {
            live: true,
            problem: None,
            off: false,
        }
    }

    fn names(view: &JobsView) -> Vec<&str> {
        view.jobs.iter().map(|j| j.name.as_str()).collect()
    }

    #[test]
    fn a_session_cluster_shows_counts_and_filters_by_its_jobmanager_state() {
        let session = |name: &str, jm: Option<&str>| FlinkJob {
            job_type: JobType::Session,
            job_manager_deployment_status: jm.map(str::to_owned),
            ..job("flink", name, "UNKNOWN")
        };
        let jobs = vec![
            session("ready", Some("READY")),
            session("broken", Some("ERROR")),
            session("new", None),
            job("flink", "app", "UNKNOWN"),
        ];
        let shown: Vec<&str> = jobs.iter().map(FlinkJob::shown_status).collect();
        assert_eq!(shown, ["READY", "ERROR", "UNKNOWN", "UNKNOWN"]);
        assert_eq!(jobs[0].status, "UNKNOWN", "the seeds' field is unchanged");
        assert_eq!(status_tone("READY"), crate::ui::Tone::Success);
        assert_eq!(status_tone("ERROR"), crate::ui::Tone::Danger);
        let query = JobQuery {
            status: "READY".into(),
            ..Default::default()
        };
        let view = query.view(&jobs, live());
        assert_eq!(names(&view), ["ready"]);
        assert!(
            view.statuses.contains(&("UNKNOWN".to_owned(), 2)),
            "{:?}",
            view.statuses
        );
    }

    /// 25 jobs `job-00` … `job-24` in two namespaces, every fifth FAILED.
    fn many() -> Vec<FlinkJob> {
        (0..25)
            .map(|i| {
                let status = if i % 5 == 0 { "FAILED" } else { "RUNNING" };
                job(
                    if i % 2 == 0 { "even" } else { "odd" },
                    &format!("job-{i:02}"),
                    status,
                )
            })
            .collect()
    }

    #[test]
    fn a_view_is_one_sorted_page_of_the_matches_with_counts_over_all() {
        let all = many();
        let query = |page: &str, dir: &str| JobQuery {
            size: "10".into(),
            page: page.into(),
            dir: dir.into(),
            ..JobQuery::default()
        };
        let first = query("", "").view(&all, live());
        assert_eq!(first.jobs.len(), 10);
        assert_eq!(names(&first)[..2], ["job-00", "job-01"]);
        assert_eq!(
            (first.page, first.pages, first.matched, first.total),
            (1, 3, 25, 25)
        );
        assert_eq!(
            first.statuses,
            [("RUNNING".to_owned(), 20), ("FAILED".to_owned(), 5)]
        );
        assert_eq!(first.namespaces, ["even", "odd"]);
        let last = query("3", "").view(&all, live());
        assert_eq!(names(&last), ["job-20", "job-21", "job-22", "job-23", "job-24"]);
        assert_eq!(
            query("99", "").view(&all, live()).page,
            3,
            "past the end is the last page"
        );
        assert_eq!(
            query("x", "").view(&all, live()).page,
            1,
            "unreadable is the first"
        );
        let descending = query("2", "desc").view(&all, live());
        assert_eq!(names(&descending)[0], "job-14");
        // The same rows as sorting everything and cutting the page.
        let mut sorted = all;
        sorted.sort_by(|a, b| compare(a, b, SortKey::Name, true));
        assert_eq!(descending.jobs, sorted[10..20]);
    }

    #[test]
    fn filters_combine_and_the_open_job_comes_whatever_its_page() {
        let all = many();
        let view = JobQuery {
            q: "JOB-1".into(),
            status: "RUNNING".into(),
            ns: "odd".into(),
            size: "0".into(),
            job: "even/job-24".into(),
            ..JobQuery::default()
        }
        .view(&all, live());
        assert_eq!(names(&view), ["job-11", "job-13", "job-17", "job-19"]);
        assert_eq!(view.matched, 4);
        assert_eq!(view.selected.as_ref().map(|j| j.name.as_str()), Some("job-24"));
        assert_eq!(JobQuery::default().page_size(), 20, "no size: the default");
        assert_eq!(
            JobQuery {
                size: "7".into(),
                ..JobQuery::default()
            }
            .page_size(),
            20,
            "a size the page does not offer: the default"
        );
    }
}
