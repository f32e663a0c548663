//! The pipelines' settings as the service holds them: the stages a pipeline has by default and
//! the gates on them (the operator console's `conf/operator.yaml`), the per-client limits, and
//! how long events are kept. `server/src/config/pipelines.rs` reads them from the configuration.

use std::collections::BTreeMap;

use super::model::GateConfig;

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

/// Defaults from the configuration: the stages a pipeline has and the gates on them.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    pub stages: Vec<String>,
    pub gates: BTreeMap<String, GateConfig>,
    pub limits: RateLimits,
    pub retention: Retention,
    /// What the operator console's `/api/v1/config/operator` shows of the server (its
    /// `server` section: host, port, log level…), set by the server at start-up.
    pub server_facts: serde_json::Value,
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
            limits: RateLimits::default(),
            retention: Retention::default(),
            server_facts: serde_json::Value::Null,
        }
    }
}
