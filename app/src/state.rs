//! `AppState`: everything a server function or handler needs, built once by the server
//! binary and handed to both Leptos (as context) and axum (as state).

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::cluster::Cluster;
use crate::db::Database;
use crate::error::AppError;
use crate::flink::FlinkWatch;
use crate::home::BuildInfo;
use crate::identity::Authenticator;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    pub cluster: Cluster,
    /// FlinkDeployment watches; empty when there is no cluster or discovery is off.
    pub flink: Vec<FlinkWatch>,
    pub build: BuildInfo,
    /// Sessions, tokens, logins and the permission check.
    pub auth: Authenticator,
}

impl AppState {
    /// The state inside a server function; the server provides it for every request.
    pub fn from_context() -> Result<Self, AppError> {
        leptos::prelude::use_context::<Self>()
            .ok_or_else(|| AppError::internal("AppState is not in the Leptos context"))
    }
}
