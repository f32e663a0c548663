//! The home page: true facts about this installation (version, database, Kubernetes).

mod api;
mod model;
mod pages;

pub use api::{CheckDatabase, GetOverview, check_database, get_overview};
pub use model::{BuildInfo, DatabaseCheck, DatabaseInfo, Overview};
pub use pages::{HomePage, OverviewResource};
