//! What every domain's REST routes share, and nothing of any domain: the OpenAPI entry type
//! (`doc`), body extractors whose rejections are JSON (`extract`), the seeds' FastAPI error
//! shapes (`fastapi`), the live-feed kit (`live`) and its subscriber gauge (`subscriber`).
//! Each domain's own routes live in `<domain>/rest.rs`; the server merges them.

pub mod doc;
pub mod extract;
pub mod fastapi;
pub mod live;
mod subscriber;

pub use subscriber::Subscriber;

/// Bodies larger than this are refused with 413 (axum's own limit is set to the same).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;
