//! The audit log: who did what to which object, when, from where. Any service holds an `Audit`
//! handle and records typed `AuditEvent`s through it; the admin pages read the log.
//!
//! Knows no other domain: actors are plain ids and names, so identity, admin and every other
//! domain depend on this module and never the other way round.

#[cfg(feature = "ssr")]
mod event;
mod model;
#[cfg(feature = "ssr")]
mod service;
#[cfg(feature = "ssr")]
mod store;

#[cfg(feature = "ssr")]
pub use event::AuditEvent;
pub use model::{AuditAction, AuditEntry, AuditFilter, Outcome};
#[cfg(feature = "ssr")]
pub use service::Audit;
