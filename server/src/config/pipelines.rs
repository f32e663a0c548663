//! `pipelines.*`: the stages a pipeline has and the gates on them, unless its creator says
//! otherwise (the operator-console seed's `gates.<stage>: {required, auto_approve,
//! auto_approve_after_s}`, plus who may decide, how many must, self-approval and the timeout
//! action).

use std::collections::BTreeMap;

use app::pipelines::{GateConfig, PipelineSettings, RateLimits, Retention};
use app::request::Cors;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PipelinesConfig {
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
    pub cors: Option<Cors>,
}

impl Default for PipelinesConfig {
    fn default() -> Self {
        let settings = PipelineSettings::default();
        Self {
            stages: settings.stages,
            gates: settings.gates,
            rate_limit: settings.limits,
            retention: settings.retention,
            cors: None,
        }
    }
}

impl PipelinesConfig {
    /// The settings in force: the gates of the configured stages. (A file that sets its own
    /// stages still carries the seed's default gates underneath; those of stages it does not
    /// have fall away here.)
    pub fn settings(&self) -> PipelineSettings {
        PipelineSettings {
            stages: self.stages.clone(),
            gates: self
                .gates
                .iter()
                .filter(|(stage, _)| self.stages.contains(stage))
                .map(|(stage, gate)| (stage.clone(), gate.clone()))
                .collect(),
            limits: self.rate_limit,
            retention: self.retention,
            server_facts: serde_json::Value::Null,
        }
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
            problems.extend(cors_problems("pipelines.cors", cors));
        }
        problems
    }
}

/// What is wrong with a CORS setting at `key` (`server.cors`, `pipelines.cors`), one line each.
pub fn cors_problems(key: &str, cors: &Cors) -> Vec<String> {
    let mut problems = Vec::new();
    for origin in &cors.allow_origins {
        let valid = origin == "*"
            || url::Url::parse(origin).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.origin().ascii_serialization() == origin.trim_end_matches('/')
            });
        if !valid {
            problems.push(format!(
                "{key}.allow_origins: {origin:?} is not an origin (scheme://host[:port], or *)"
            ));
        }
    }
    for method in &cors.allow_methods {
        if axum::http::Method::from_bytes(method.as_bytes()).is_err() {
            problems.push(format!("{key}.allow_methods: {method:?} is not a method"));
        }
    }
    for header in &cors.allow_headers {
        if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
            problems.push(format!("{key}.allow_headers: {header:?} is not a header name"));
        }
    }
    if cors.enabled && cors.allow_origins.is_empty() {
        problems.push(format!("{key}.enabled with no allow_origins: name the origins"));
    }
    problems
}
