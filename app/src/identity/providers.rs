//! Signing in and linking through a provider (Google, Keycloak): start (the URL and the
//! binding cookie), finish (the code exchanged, the ID token checked, the state used once).

use super::error::{IdentityError, Result};
use super::oauth::{ProviderIdentity, StartedLogin};
use super::principal::{Permission, Principal, Via};
use super::service::IdentityService;
use crate::identity::LoginMethod;

impl IdentityService {
    /// Starts a sign-in with `method`: the provider URL to send the browser to and the value of
    /// the cookie binding the pending login to this browser.
    #[tracing::instrument(name = "identity.start_provider_login", skip_all, fields(provider = method.as_str()), err(level = "info"))]
    pub async fn start_provider_login(
        &self,
        method: LoginMethod,
        return_to: &str,
        base_url: &str,
    ) -> Result<StartedLogin> {
        let return_to = self.0.settings.return_hosts.check(return_to);
        self.provider(method)?
            .start(self.store(), &return_to, base_url, None)
            .await
    }

    /// Starts a sign-in with `method` that links the provider to the signed-in `principal`'s
    /// account (the person proves they hold it by being signed in), back to the account page.
    #[tracing::instrument(name = "identity.start_provider_link", skip_all, fields(provider = method.as_str()), err(level = "info"))]
    pub async fn start_provider_link(
        &self,
        principal: &Principal,
        method: LoginMethod,
        base_url: &str,
    ) -> Result<StartedLogin> {
        principal.authorize(Permission::OwnAccount)?;
        if !matches!(principal.via, Via::Cookie { .. }) {
            return Err(IdentityError::Refused(
                "link a provider from the account page, signed in with a browser session".into(),
            ));
        }
        let user = principal.user_id()?;
        self.provider(method)?
            .start(self.store(), "/account", base_url, Some(user))
            .await
    }

    /// Finishes a sign-in from the provider's callback: who the provider says signed in. The
    /// one-time state is consumed first, so a replay fails even if something later does.
    #[tracing::instrument(name = "identity.finish_provider_login", skip_all, fields(provider = method.as_str()), err(level = "info"))]
    pub async fn finish_provider_login(
        &self,
        method: LoginMethod,
        code: &str,
        state: &str,
        binding: Option<&str>,
        base_url: &str,
    ) -> Result<ProviderIdentity> {
        self.provider(method)?
            .finish(self.store(), code, state, binding, base_url)
            .await
    }
}
