//! Pipelines with human-in-the-loop gates (the operator-console seed's job).
//!
//! `state.rs` is the explicit state machine (pure, every status × transition tested);
//! `model.rs` gates, decisions and what the pages show; `settings.rs` the defaults in force; `store/` the tables, the exactly-once
//! decision (one transaction guarded by `decision IS NULL` and the expected status, with its
//! event and audit entry) and the event log. `service/` checks the caller of every operation
//! (tenant visibility, who may decide, self-approval, notes where a gate wants them), applies
//! the state machine, keeps decisions made ahead of the pipeline, takes workers' claims and
//! stage reports, and applies patches; `views.rs` builds the pages' views from it; `limits.rs`
//! the per-caller limits; `bus.rs` carries committed events to live streams (fed by `LISTEN` on
//! PostgreSQL, so every replica's) and `feed.rs` makes one pipeline's stream of them (replay,
//! then live, each once); `timers.rs` fires due gates from the database and prunes old events;
//! `seed.rs` the operator console's JSON shapes and `brief.rs` its brief compiler. `api.rs` and
//! `pages.rs` are the pages (`/pipelines`, `/pipelines/{id}`, lazy routes); the seed's REST API
//! is `server/src/http/pipelines_routes.rs`.
//! See `docs/pipelines.md`.

mod api;
#[cfg(feature = "ssr")]
mod approval;
mod pages;

#[cfg(feature = "ssr")]
pub mod brief;
#[cfg(feature = "ssr")]
mod bus;
#[cfg(feature = "ssr")]
mod error;
#[cfg(feature = "ssr")]
mod feed;
#[cfg(feature = "ssr")]
mod limits;
mod model;
#[cfg(feature = "ssr")]
pub mod rest;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
mod service;
#[cfg(feature = "ssr")]
mod settings;
mod state;
#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
mod timers;
#[cfg(feature = "ssr")]
mod views;

pub use api::*;
#[cfg(feature = "ssr")]
pub use bus::EventBus;
#[cfg(feature = "ssr")]
pub use error::PipelineError;
#[cfg(feature = "ssr")]
pub use limits::KeyedLimit;
pub use model::*;
pub use pages::{PipelinePage, PipelinesPage, PipelinesRoute};
#[cfg(feature = "ssr")]
pub use service::{
    CreatePipeline, GateAction, PipelineService, PipelineSettings, RateLimits, Retention, SEED_STAGES, Since,
    is_json_patch,
};
pub use state::{IllegalTransition, PipelineStatus, Transition, next};
#[cfg(feature = "ssr")]
pub use store::{
    ArtifactRow, Decide, DecideError, Decided, EventRow, GateRow, Move, NewEvent, NewPipeline, PipelineRow,
    PipelineStore, TimedGate,
};
#[cfg(feature = "ssr")]
pub use views::ListFilter;
