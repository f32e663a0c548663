//! `pipelines.*`, as read from the configuration and as the service holds it: the stages a
//! pipeline has unless its creator says otherwise and the gates on them (the operator-console
//! seed's `conf/operator.yaml`: `gates.<stage>: {required, auto_approve, auto_approve_after_s}`,
//! plus who may decide, how many must, self-approval and the timeout action), the per-client
//! limits, and how long events are kept.

use std::collections::BTreeMap;

use super::model::GateConfig;
use crate::request::Cors;

/// The seed's stages, in order (its `Stage` enum).
pub const SEED_STAGES: [&str; 9] = [
    "outline",
    "research",
    "script",
    "storyboard",
    "assets",
    "animatics",
    "audio",
    "assemble",
    "acceptance",
];

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PipelineSettings {
    /// In order; the seed's nine stages by default.
    pub stages: Vec<String>,
    /// By stage; every field may be left out (its default then applies).
    pub gates: BTreeMap<String, GateConfig>,
    /// Per-client limits on the pipelines API.
    pub rate_limit: RateLimits,
    /// How long events are kept.
    pub retention: Retention,
    /// The older name of `server.cors`, for the pipelines API alone: when set, it applies to
    /// every REST route (with a start-up warning to move it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    /// What the operator console's `/api/v1/config/operator` shows of the server (its
    /// `server` section: host, port, log level…), set by the server at start-up.
    #[serde(skip)]
    pub server_facts: serde_json::Value,
}

impl PipelineSettings {
    /// The settings in force: the gates of the configured stages. (A file that sets its own
    /// stages still carries the seed's default gates underneath; those of stages it does not
    /// have fall away here.)
    pub fn in_force(mut self) -> Self {
        let stages = self.stages.clone();
        self.gates.retain(|stage, _| stages.contains(stage));
        self
    }

    /// One line per problem.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.stages.is_empty() {
            problems.push("pipelines.stages is empty: a pipeline needs at least one stage".to_owned());
        }
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.trim().is_empty() || self.stages[..i].contains(stage) {
                problems.push(format!("pipelines.stages has {stage:?} empty or twice"));
            }
        }
        for (stage, gate) in &self.gates {
            let a_seed_default = PipelineSettings::default().gates.contains_key(stage);
            if !self.stages.contains(stage) && !a_seed_default {
                problems.push(format!("pipelines.gates.{stage}: not one of pipelines.stages"));
            }
            if gate.approvals_needed == 0 {
                problems.push(format!(
                    "pipelines.gates.{stage}.approvals_needed = 0: at least 1"
                ));
            }
        }
        let limits = &self.rate_limit;
        if limits.jobs_per_minute == 0 || limits.requests_per_minute == 0 || limits.burst == 0 {
            problems.push("pipelines.rate_limit: every limit is at least 1".to_owned());
        }
        if let Some(cors) = &self.cors {
            problems.extend(cors.problems("pipelines.cors"));
        }
        problems
    }
}

/// How long events are kept (the seed's storage retention: 30 days, 1,000 a pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Retention {
    pub days: u32,
    pub max_events_per_job: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            days: 30,
            max_events_per_job: 1000,
        }
    }
}

/// Per-client limits on the pipelines API (the seed declared them and never enforced them: its
/// clients were written against none, so the general limit's default leaves room for a busy
/// worker and a console polling beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Both limits on (the seed's `security.rate_limiting.enabled`).
    pub enabled: bool,
    /// Pipelines one client may create per minute.
    pub jobs_per_minute: u32,
    /// Requests one client may make per minute on `/api/v1/jobs…`, with `burst` at once.
    pub requests_per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimits {
    /// A worker driving pipelines through nine stages while the seed's console polls its events
    /// every 2 s makes about 150 requests a minute (`docs/pipelines.md`); 1,200 a minute with 120
    /// at once leaves it eight times that and still stops a runaway loop.
    fn default() -> Self {
        Self {
            enabled: true,
            jobs_per_minute: 5,
            requests_per_minute: 1200,
            burst: 120,
        }
    }
}

impl Default for PipelineSettings {
    /// The seed's stages and its `conf/operator.yaml` gates: required ones at script,
    /// storyboard, assets and audio; optional auto-approving ones (with the seed's timers) at
    /// the other five, which a pipeline passes unless someone rejected them in advance.
    fn default() -> Self {
        // Optional gates hold nothing up, so whoever requested the pipeline may approve them
        // too (the seed's one admin token creates and decides everything).
        let optional = |after_s: u64| GateConfig {
            required: false,
            auto_approve: true,
            auto_approve_after_s: Some(after_s),
            allow_self_approval: true,
            ..GateConfig::default()
        };
        let mut gates: BTreeMap<String, GateConfig> = ["script", "storyboard", "assets", "audio"]
            .into_iter()
            .map(|s| (s.to_owned(), GateConfig::default()))
            .collect();
        for (stage, after_s) in [
            ("outline", 1800),
            ("research", 2700),
            ("animatics", 5400),
            ("assemble", 7200),
            ("acceptance", 1800),
        ] {
            gates.insert(stage.to_owned(), optional(after_s));
        }
        Self {
            stages: SEED_STAGES.iter().map(|s| (*s).to_owned()).collect(),
            gates,
            rate_limit: RateLimits::default(),
            retention: Retention::default(),
            cors: None,
            server_facts: serde_json::Value::Null,
        }
    }
}
