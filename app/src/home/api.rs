//! Server functions of the home page and the System page: read-only, open to anyone who may
//! read (anonymous callers too when auth is disabled); each domain filters what the caller sees.

use leptos::prelude::*;

use super::model::{DatabaseCheck, Home, Overview};
use crate::error::AppError;

/// The installation's version, database and cluster state.
#[server(prefix = "/_srv", endpoint = "get_overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use super::model::DatabaseInfo;
    use crate::identity::{Permission, RequestContext};
    use crate::request::service;
    let ctx = RequestContext::require(Permission::Read).await?;
    let db = service::<crate::db::Database>()?;
    let cluster = service::<crate::cluster::Cluster>()?;
    let jobs = service::<crate::flink::FlinkService>()?.counts(&ctx.principal)?;
    let waiting = service::<crate::pipelines::PipelineService>()?
        .waiting_count(&ctx.principal)
        .await?;
    let (server_version, cluster) = tokio::join!(db.server_version(), cluster.status());
    Ok(Overview {
        jobs,
        approvals_waiting: if waiting == 0 {
            String::new()
        } else {
            waiting.to_string()
        },
        build: service::<super::BuildInfo>()?,
        database: DatabaseInfo {
            backend: db.backend().name().to_owned(),
            server_version: server_version.ok(),
        },
        cluster,
    })
}

/// The caller's home page: what needs them, what is broken, what moved lately.
#[server(prefix = "/_srv", endpoint = "get_home")]
pub async fn get_home() -> Result<Home, AppError> {
    use crate::identity::{Permission, RequestContext};
    use crate::request::service;
    let ctx = RequestContext::require(Permission::Read).await?;
    let (pipelines, catalog, flink) = (
        service::<crate::pipelines::PipelineService>()?,
        service::<crate::catalog::CatalogService>()?,
        service::<crate::flink::FlinkService>()?,
    );
    super::Sources {
        pipelines: &pipelines,
        catalog: &catalog,
        flink: &flink,
    }
    .home(&ctx.principal)
    .await
}

/// A real round trip to the database: its version and the number of users, timed.
#[server(prefix = "/_srv", endpoint = "check_database")]
pub async fn check_database() -> Result<DatabaseCheck, AppError> {
    use crate::identity::{Permission, RequestContext};
    use crate::request::service;
    RequestContext::require(Permission::Read).await?;
    let db = service::<crate::db::Database>()?;
    let started = std::time::Instant::now();
    let server_version = db.server_version().await?;
    let users = service::<crate::identity::IdentityService>()?
        .count_users()
        .await?;
    Ok(DatabaseCheck {
        backend: db.backend().name().to_owned(),
        server_version,
        users,
        round_trip_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    })
}
