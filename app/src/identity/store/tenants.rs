//! The `tenants` and `memberships` tables.

use chrono::Utc;

use super::IdentityStore;
use crate::db::{Result, Tx, with_pool, with_tx};
use crate::identity::{TenantInfo, TenantRef};

const TENANT_INFO: &str = "SELECT t.id, t.slug, t.name, t.created_at, \
     (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = t.id) AS members FROM tenants t";

impl IdentityStore {
    pub async fn insert_tenant(&self, slug: &str, name: &str) -> Result<TenantInfo> {
        let now = Utc::now();
        let id: i64 = with_pool!(&self.db, pool => sqlx::query_scalar(
            "INSERT INTO tenants (slug, name, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(slug)
        .bind(name)
        .bind(now)
        .fetch_one(pool)
        .await?);
        self.find_tenant(id).await
    }

    pub async fn find_tenant(&self, id: i64) -> Result<TenantInfo> {
        let sql = format!("{TENANT_INFO} WHERE t.id = $1");
        let row = with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?);
        Ok(row)
    }

    pub async fn find_tenant_by_slug(&self, slug: &str) -> Result<TenantInfo> {
        let sql = format!("{TENANT_INFO} WHERE t.slug = $1");
        let row = with_pool!(&self.db, pool => sqlx::query_as(&sql).bind(slug).fetch_one(pool).await?);
        Ok(row)
    }

    pub async fn list_tenants(&self) -> Result<Vec<TenantInfo>> {
        let sql = format!("{TENANT_INFO} ORDER BY t.slug");
        let rows = with_pool!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(rows)
    }

    /// The tenants `user_id` belongs to.
    pub async fn user_tenants(&self, user_id: i64) -> Result<Vec<TenantRef>> {
        let rows = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT t.id, t.slug, t.name FROM tenants t JOIN memberships m ON m.tenant_id = t.id \
             WHERE m.user_id = $1 ORDER BY t.slug",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }

    /// `(user_id, tenant)` for every membership, for the admin list in one query.
    pub async fn all_memberships(&self) -> Result<Vec<(i64, i64, String, String)>> {
        let rows = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT m.user_id, t.id, t.slug, t.name FROM memberships m JOIN tenants t ON t.id = m.tenant_id ORDER BY t.slug",
        )
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }

    /// Usernames of a tenant's members.
    pub async fn tenant_members(&self, tenant_id: i64) -> Result<Vec<String>> {
        let rows = with_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT u.username FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.tenant_id = $1 ORDER BY u.username",
        )
        .bind(tenant_id)
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }

    /// Replaces the user's memberships with `tenant_ids`, inside the caller's transaction.
    pub async fn set_memberships_in(&self, tx: &mut Tx, user_id: i64, tenant_ids: &[i64]) -> Result<()> {
        let now = Utc::now();
        with_tx!(tx, conn => {
            sqlx::query("DELETE FROM memberships WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
            for tenant_id in tenant_ids {
                sqlx::query(
                    "INSERT INTO memberships (user_id, tenant_id, created_at, updated_at) VALUES ($1, $2, $3, $3)",
                )
                .bind(user_id)
                .bind(tenant_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
        });
        self.access_changed(user_id);
        Ok(())
    }

    /// Replaces the user's memberships with `tenant_ids`, in one transaction.
    pub async fn set_memberships(&self, user_id: i64, tenant_ids: &[i64]) -> Result<()> {
        let mut tx = self.db.begin().await?;
        self.set_memberships_in(&mut tx, user_id, tenant_ids).await?;
        tx.commit().await
    }
}
