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
//! `seed.rs` the operator console's JSON shapes and `brief.rs` its brief compiler; `approval.rs`
//! who may approve a gate. `api.rs` and `pages/` are the pages (`/pipelines`, `/pipelines/{id}`,
//! lazy routes); the seed's REST API is `rest/` (with its request limit).
//! See `docs/pipelines.md`.

mod api;
mod model;
mod pages;
mod state;

pub use api::*;
pub use model::*;
pub use pages::{PipelinePage, PipelinesPage, PipelinesRoute};
pub use state::{IllegalTransition, PipelineStatus, Transition, next};

// Server-only: one gate for everything that runs on the server.
ssr! {
    mod approval;
    pub mod brief;
    mod bus;
    mod error;
    mod feed;
    mod limits;
    pub mod rest;
    pub mod seed;
    mod service;
    mod settings;
    mod store;
    mod timers;
    mod views;

    pub use bus::EventBus;
    pub use error::PipelineError;
    pub use limits::KeyedLimit;
    pub use service::{
        CreatePipeline, GateAction, PipelineService, PipelineSettings, RateLimits, Retention, SEED_STAGES, Since,
        is_json_patch,
    };
    pub use store::{
        ArtifactRow, Decide, DecideError, Decided, EventRow, GateRow, Move, NewEvent, NewPipeline, PipelineRow,
        PipelineStore, TimedGate,
    };
    pub use views::ListFilter;
}
