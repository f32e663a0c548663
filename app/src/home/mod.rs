//! The home page: what needs the viewer (approvals, their pipelines and catalog actions), what
//! is broken (failed Flink jobs, failed pipelines, a Flink list out of sync) and what moved
//! lately, each a count that opens its filtered list and follows changes live
//! (`/api/home/events`). The installation's own facts (version, database, Kubernetes) are on
//! the admin System page (`/admin/system`), from the same `get_overview` the shell reads.

mod api;
mod model;
mod pages;
mod system;

pub use api::{CheckDatabase, GetHome, GetOverview, check_database, get_home, get_overview};
pub use model::{BuildInfo, DatabaseCheck, DatabaseInfo, Home, HomeTone, Overview, RecentItem, Tile};
pub use pages::{HomePage, HomeRoute, OverviewResource};
pub use system::SystemPage;

ssr! {
    pub mod rest;
    mod summary;

    pub use summary::Sources;
}
