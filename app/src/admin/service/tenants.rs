//! Tenants (list, create, members) and the audit log, for admins.

use super::*;

impl AdminService {
    pub async fn list_tenants(&self, principal: &Principal) -> Result<Vec<TenantInfo>> {
        principal.authorize(Permission::Administer)?;
        Ok(self.store.list_tenants().await?)
    }

    #[tracing::instrument(name = "admin.create_tenant", skip_all, fields(slug), err(level = "info"))]
    pub async fn create_tenant(
        &self,
        principal: &Principal,
        slug: &str,
        name: &str,
        meta: &RequestMeta,
    ) -> Result<TenantInfo> {
        principal.authorize(Permission::Administer)?;
        let slug = slug.trim().to_lowercase();
        tracing::Span::current().record("slug", slug.as_str());
        let valid = !slug.is_empty()
            && slug.len() <= 63
            && slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !slug.starts_with('-')
            && !slug.ends_with('-');
        if !valid {
            return Err(FieldError::new(
                "slug",
                "use 1–63 lower-case letters, digits and dashes, not starting or ending with a dash",
            )
            .into());
        }
        let name = clean_name("name", name, false)?;
        let tenant = self
            .store
            .insert_tenant(&slug, &name)
            .await
            .map_err(AdminError::conflict_as("a tenant with this slug already exists"))?;
        self.audit
            .record(
                AuditEvent::success(AuditAction::TenantCreated)
                    .by(principal.actor_id(), &principal.display_name())
                    .target(&slug)
                    .from(meta),
            )
            .await;
        Ok(tenant)
    }

    async fn tenant_id(&self, slug: &str) -> Result<i64> {
        self.store
            .find_tenant_by_slug(slug)
            .await
            .map(|t| t.id)
            .map_err(|e| match e {
                DbError::NotFound => AdminError::NotFound(format!("no tenant {slug:?}")),
                other => other.into(),
            })
    }

    /// A tenant's member usernames: for its members and admins.
    pub async fn tenant_members(&self, principal: &Principal, slug: &str) -> Result<Vec<String>> {
        principal.authorize(Permission::Read)?;
        let tenant_id = self.tenant_id(slug).await?;
        principal.authorize(Permission::Tenant(tenant_id))?;
        Ok(self.store.tenant_members(tenant_id).await?)
    }

    /// The newest audit entries matching `filter`.
    pub async fn list_audit(&self, principal: &Principal, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        principal.authorize(Permission::Administer)?;
        Ok(self.audit.list(filter).await?)
    }
}
