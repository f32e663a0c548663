//! The service catalog over HTTP: the IDP-portal seed's `/services` API in its shapes, its role
//! rules, tenant isolation, actions and their status, and the executors' callbacks.

mod approvals;
mod kubernetes;
mod pages;
mod rest;
pub mod support;
