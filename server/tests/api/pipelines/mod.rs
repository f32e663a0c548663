//! Pipelines over HTTP: the operator-console seed's `/api/v1/jobs` API with its shapes and its
//! static admin token, workers advancing a pipeline to a gate, people deciding, the errors.

mod pages;
mod rest;
mod seed_client;
pub(crate) mod support;
mod timers;
