//! Identity's repository: users and their provider links, sessions and pending OAuth logins,
//! personal API tokens, tenants and memberships, and the installation's bootstrap marker.
//! Row types live here; wire types are in `identity::model`.

mod failures;
mod sessions;
mod settings;
mod tenants;
mod tokens;
mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::Database;

pub use sessions::{NewSession, OAuthStateRow, SessionRow};
pub use settings::ADMIN_BOOTSTRAPPED_AT;
pub use tokens::ApiTokenRow;
pub use users::{NewUser, UserPatch, UserRow};

/// Identity's tables over the database seam. Cheap to clone; clones share the access
/// generation.
#[derive(Clone, Debug)]
pub struct IdentityStore {
    db: Database,
    /// Bumped by every write that can take access away (a revoked session or token, a changed
    /// role, state or membership, a deleted user), so answers cached in this process (ForwardAuth's
    /// session mode) know to ask again.
    access_generation: Arc<AtomicU64>,
    /// Told of every bump and whose access it was, for those who wait on one (live streams
    /// ending with their credential).
    access_changes: tokio::sync::watch::Sender<(u64, i64)>,
}

impl IdentityStore {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            access_generation: Arc::new(AtomicU64::new(0)),
            access_changes: tokio::sync::watch::Sender::new((0, 0)),
        }
    }

    /// Changes whenever access may have been taken away in this process.
    pub fn access_generation(&self) -> u64 {
        self.access_generation.load(Ordering::Acquire)
    }

    /// Access of `user` may have been taken away.
    fn access_changed(&self, user: i64) {
        let generation = self.access_generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.access_changes.send_replace((generation, user));
    }

    /// A receiver that wakes whenever access may have been taken away in this process, with
    /// the user whose access it was.
    pub fn access_changes(&self) -> tokio::sync::watch::Receiver<(u64, i64)> {
        self.access_changes.subscribe()
    }

    /// The seam itself, to open a transaction that spans this store and the audit log.
    pub fn db(&self) -> &Database {
        &self.db
    }
}
