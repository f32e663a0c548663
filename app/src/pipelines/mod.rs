//! Pipelines with human-in-the-loop gates (the operator-console seed's job).
//!
//! In progress. Landed so far: `state.rs`, the explicit state machine (pure, every status ×
//! transition tested); `model.rs`, gates and decisions; `store.rs`, the tables and the
//! exactly-once decision (one transaction guarded by `decision IS NULL` and the expected
//! status, with its event and audit entry), tested with concurrent deciders on both databases.
//! `service.rs` checks the caller of every operation (tenant visibility, who may decide,
//! self-approval, notes on a rejection), applies the state machine, and takes workers' claims
//! and stage reports; `bus.rs` carries committed events to live streams (fed by `LISTEN` on
//! PostgreSQL, so every replica's); `timers.rs` fires due gates from the database and prunes
//! old events. The seed's REST API is `server/src/http/pipelines_routes.rs`. Next: the pages.
//! See `docs/pipelines.md`.

#[cfg(feature = "ssr")]
mod bus;
#[cfg(feature = "ssr")]
mod error;
mod model;
#[cfg(feature = "ssr")]
mod service;
mod state;
#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
mod timers;

#[cfg(feature = "ssr")]
pub use bus::EventBus;
#[cfg(feature = "ssr")]
pub use error::PipelineError;
pub use model::*;
#[cfg(feature = "ssr")]
pub use service::{
    CreatePipeline, GateAction, PipelineService, PipelineSettings, RateLimits, Retention, SEED_STAGES,
    is_json_patch,
};
pub use state::{IllegalTransition, PipelineStatus, Transition, next};
#[cfg(feature = "ssr")]
pub use store::{
    ArtifactRow, Decide, DecideError, Decided, EventRow, GateRow, Move, NewEvent, NewPipeline, PipelineRow,
    PipelineStore, TimedGate,
};
