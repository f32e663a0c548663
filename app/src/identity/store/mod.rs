//! Identity's repository: users and their provider links, sessions and pending OAuth logins,
//! personal API tokens, tenants and memberships, and the installation's bootstrap marker.
//! Row types live here; wire types are in `identity::model`.

mod sessions;
mod settings;
mod tenants;
mod tokens;
mod users;

use crate::db::Database;

pub use sessions::{NewSession, OAuthStateRow, SessionRow};
pub use settings::ADMIN_BOOTSTRAPPED_AT;
pub use tokens::ApiTokenRow;
pub use users::{NewUser, UserPatch, UserRow};

/// Identity's tables over the database seam. Cheap to clone.
#[derive(Clone, Debug)]
pub struct IdentityStore {
    db: Database,
}

impl IdentityStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The seam itself, to open a transaction that spans this store and the audit log.
    pub fn db(&self) -> &Database {
        &self.db
    }
}
