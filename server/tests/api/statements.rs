//! Counts the SQL statements one request runs: sqlx reports each statement it executes as a
//! `sqlx::query` event, inside the request's span (`request`, with its `x-request-id`). A test
//! names its request with a fresh id and reads the count afterwards — exact on both databases,
//! and untouched by the other tests running beside it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Statements seen, by request id.
fn counts() -> &'static Mutex<HashMap<String, u64>> {
    static COUNTS: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    COUNTS.get_or_init(Mutex::default)
}

/// How many statements the request with `request_id` ran (0 when it ran none).
pub fn statements_of(request_id: &str) -> u64 {
    counts()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(request_id)
        .copied()
        .unwrap_or(0)
}

/// The request id a `request` span was opened with, kept in the span's extensions.
struct RequestIdOf(String);

struct IdField(Option<String>);

/// The statement an `sqlx::query` event reports (`db.statement`, or its `summary`).
struct SqlField(Option<String>);

impl Visit for SqlField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if matches!(field.name(), "db.statement" | "summary") && self.0.is_none() {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "db.statement" | "summary") && self.0.is_none() {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

impl Visit for IdField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "id" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "id" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

/// The layer: remembers each request span's id and counts the statements run under it. It
/// takes no per-layer filter on purpose: a statement runs under the service's own span (one
/// `#[instrument]` below the request), often on sqlx's SQLite worker thread, and only an
/// unfiltered layer walks from there up through the parents to the request.
pub struct StatementCounter;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for StatementCounter {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "request" {
            return;
        }
        let mut field = IdField(None);
        attrs.record(&mut field);
        if let (Some(request_id), Some(span)) = (field.0, ctx.span(id)) {
            span.extensions_mut().insert(RequestIdOf(request_id));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        // A connection the pool opens mid-request configures itself first (SQLite: `PRAGMA`
        // journal mode, busy timeout …): the pool's work, not the request's, and only now and
        // then — under load, in both of a test's counted requests once (CI, 2026-12-07).
        let mut sql = SqlField(None);
        event.record(&mut sql);
        if sql
            .0
            .is_some_and(|s| s.trim_start().to_ascii_uppercase().starts_with("PRAGMA"))
        {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(RequestIdOf(request_id)) = span.extensions().get::<RequestIdOf>() {
                *counts()
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(request_id.clone())
                    .or_default() += 1;
                return;
            }
        }
    }
}
