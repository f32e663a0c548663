//! `RequestContext`: what a server function or REST handler starts with — the caller and the
//! request's metadata — and the one permission check it makes. The services themselves come
//! from the server's composition root (`crate::request::service` in a server function,
//! `State<…Service>` in a handler), never through this type.

use axum::extract::FromRef;
use leptos::prelude::use_context;

use super::IdentityService;
use super::principal::{AccessError, Permission, Principal};
use crate::audit::{Audit, AuditAction, AuditEvent};
use crate::error::AppError;
use crate::request::{RequestMeta, service};

pub struct RequestContext {
    pub principal: Principal,
    pub meta: RequestMeta,
    /// Where a refusal is recorded.
    audit: Audit,
}

impl RequestContext {
    /// Resolves the caller of the current server function.
    pub async fn load() -> Result<Self, AppError> {
        let identity = service::<IdentityService>()?;
        let parts = use_context::<axum::http::request::Parts>()
            .ok_or_else(|| AppError::internal("request parts are not in the Leptos context"))?;
        let meta = RequestMeta::from_parts(&parts.headers, &parts.extensions);
        let principal = identity.resolve(&parts.headers, &meta).await?;
        Ok(Self {
            principal,
            meta,
            audit: identity.audit().clone(),
        })
    }

    /// Loads the caller and checks `permission` in one step: how every guarded server
    /// function begins.
    pub async fn require(permission: Permission) -> Result<Self, AppError> {
        let ctx = Self::load().await?;
        ctx.check(permission).await?;
        Ok(ctx)
    }

    /// `Principal::authorize`, with an audit entry when a signed-in caller is refused.
    pub async fn check(&self, permission: Permission) -> Result<(), AppError> {
        let result = self.principal.authorize(permission);
        if let Err(refusal) = &result {
            self.record_refusal(refusal).await;
        }
        Ok(result?)
    }

    /// Audits a refusal (`access.denied`) the way `check` does, for a permission a service
    /// checked itself (say, membership of a tenant it had to look up first). Not signed in
    /// is not audited: only a signed-in caller can be refused.
    pub async fn record_refusal(&self, refusal: &AccessError) {
        let AccessError::Forbidden(message) = refusal else {
            return;
        };
        let path = use_context::<axum::http::request::Parts>()
            .map(|p| p.uri.path().to_owned())
            .unwrap_or_default();
        self.audit
            .record(
                AuditEvent::denied(AuditAction::AccessDenied)
                    .by(self.principal.actor_id(), &self.principal.display_name())
                    .target(&path)
                    .from(&self.meta)
                    .detail(message),
            )
            .await;
    }
}

/// REST handlers take the same context as an extractor; a bad bearer credential rejects the
/// request with the `AppError` JSON body.
impl<S> axum::extract::FromRequestParts<S> for RequestContext
where
    S: Send + Sync,
    IdentityService: axum::extract::FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, AppError> {
        let identity = IdentityService::from_ref(state);
        let meta = RequestMeta::from_parts(&parts.headers, &parts.extensions);
        let principal = identity.resolve(&parts.headers, &meta).await?;
        Ok(Self {
            principal,
            meta,
            audit: identity.audit().clone(),
        })
    }
}
