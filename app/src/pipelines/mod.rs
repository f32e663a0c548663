//! Pipelines with human-in-the-loop gates (the operator-console seed's job).
//!
//! In progress. Landed so far: `state.rs`, the explicit state machine (pure, every status ×
//! transition tested); `model.rs`, gates and decisions; `store.rs`, the tables and the
//! exactly-once decision (one transaction guarded by `decision IS NULL` and the expected
//! status, with its event and audit entry), tested with concurrent deciders on both databases.
//! Next: the service (who may decide, timers, workers), the seed's REST API and live events,
//! the pages.

mod model;
mod state;
#[cfg(feature = "ssr")]
mod store;

pub use model::*;
pub use state::{IllegalTransition, PipelineStatus, Transition, next};
#[cfg(feature = "ssr")]
pub use store::{
    Decide, DecideError, Decided, EventRow, GateRow, NewEvent, NewPipeline, PipelineRow, PipelineStore,
};
