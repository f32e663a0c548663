//! The audit log: who did what to which object, when, from where. Any service holds an `Audit`
//! handle and records typed `AuditEvent`s through it; the admin pages read the log.
//!
//! Knows no other domain: actors are plain ids and names, so identity, admin and every other
//! domain depend on this module and never the other way round.

mod model;

pub use model::{AUDIT_PAGE_SIZE, AuditAction, AuditEntry, AuditFilter, Outcome};

// Server-only: one gate for everything that runs on the server.
ssr! {
    mod event;
    mod service;
    mod store;

    pub use event::AuditEvent;
    pub use service::Audit;
}
