//! Pipelines against the backend `HEIMDALL_TEST_DATABASE` selects (the test command runs this on
//! SQLite and on PostgreSQL). One module per subject, so `scripts/heimdall test pipelines` finds
//! them by name.

mod gates;
mod pipeline_service;
