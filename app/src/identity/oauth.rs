//! Sign-in through an OpenID Connect provider (Google, Keycloak): the authorization-code flow
//! with PKCE, a one-time `state` bound to the browser by a cookie, and the ID token checked
//! against the provider's keys (signature, issuer, audience, expiry, nonce).

use chrono::Utc;
use jsonwebtoken::{DecodingKey, Validation};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::error::{IdentityError, Result};
use super::oidc::{OidcClient, ProviderMetadata, verify_id_token};
use super::secrets::{hash_secret, random_secret, secrets_match};
use super::settings::ProviderSettings;
use super::store::{IdentityStore, OAuthStateRow};
use crate::identity::{LoginMethod, Role};

/// Name of the cookie that binds a pending login to the browser that started it.
pub const OAUTH_BINDING_COOKIE: &str = "heimdall_oauth";
/// How long a started login may take.
const STATE_TTL_MINUTES: i64 = 10;

/// The token endpoint's answer, with the OpenID Connect `id_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdTokenField {
    id_token: String,
}
impl ExtraTokenFields for IdTokenField {}

type OidcTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type CodeClient = oauth2::Client<
    BasicErrorResponse,
    OidcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct ProviderIdentity {
    pub method: LoginMethod,
    pub subject: String,
    pub email: String,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    /// The mapped Heimdall role; `None` when nothing maps and there is no default.
    pub role: Option<Role>,
    pub return_to: String,
    /// The signed-in user who started this sign-in to link the provider to their account.
    pub link_user: Option<i64>,
}

/// A login that has been started: where to send the browser and the binding cookie's value.
pub struct StartedLogin {
    pub authorization_url: String,
    pub binding: String,
}

/// Roles as Keycloak puts them in tokens.
#[derive(Debug, Default, Deserialize)]
struct RoleClaims {
    #[serde(default)]
    realm_access: Option<super::oidc::RealmAccess>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    azp: Option<String>,
}

impl RoleClaims {
    fn names(self) -> Vec<String> {
        let mut names = self.realm_access.map(|r| r.roles).unwrap_or_default();
        names.extend(
            self.groups
                .into_iter()
                .map(|g| g.trim_start_matches('/').to_owned()),
        );
        names
    }
}

pub struct OAuthProvider {
    method: LoginMethod,
    settings: ProviderSettings,
    oidc: OidcClient,
    metadata: tokio::sync::OnceCell<ProviderMetadata>,
    /// Never follows redirects: a token endpoint that redirects is not talked to further.
    http: reqwest::Client,
}

impl OAuthProvider {
    pub fn new(method: LoginMethod, settings: ProviderSettings) -> Self {
        Self {
            method,
            settings,
            oidc: OidcClient::default(),
            metadata: tokio::sync::OnceCell::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(15))
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn method(&self) -> LoginMethod {
        self.method
    }

    /// Discovery, once; a failure is not cached, so the next login tries again.
    async fn metadata(&self) -> Result<&ProviderMetadata> {
        self.metadata
            .get_or_try_init(|| self.oidc.discover(&self.settings.issuer))
            .await
            .map_err(|e| {
                tracing::warn!(provider = self.method.as_str(), error = %e, "provider discovery failed");
                IdentityError::ProviderUnavailable(format!(
                    "{} sign-in is unavailable: {e}",
                    self.method.as_str()
                ))
            })
    }

    fn redirect_uri(&self, base_url: &str) -> String {
        self.settings
            .redirect_url
            .clone()
            .unwrap_or_else(|| format!("{base_url}/auth/{}/callback", self.method.as_str()))
    }

    async fn client(&self, base_url: &str) -> Result<CodeClient> {
        let metadata = self.metadata().await?;
        let bad = |what: &str, e: oauth2::url::ParseError| {
            IdentityError::ProviderUnavailable(format!("the provider's {what} is not a URL: {e}"))
        };
        Ok(
            oauth2::Client::new(ClientId::new(self.settings.client_id.clone()))
                .set_client_secret(ClientSecret::new(
                    self.settings.client_secret.expose_secret().to_owned(),
                ))
                .set_auth_uri(
                    AuthUrl::new(metadata.authorization_endpoint.clone())
                        .map_err(|e| bad("authorization endpoint", e))?,
                )
                .set_token_uri(
                    TokenUrl::new(metadata.token_endpoint.clone()).map_err(|e| bad("token endpoint", e))?,
                )
                .set_redirect_uri(
                    RedirectUrl::new(self.redirect_uri(base_url)).map_err(|e| bad("redirect URL", e))?,
                ),
        )
    }

    /// Starts a login: stores the state (hashed), the PKCE verifier and the nonce, and returns
    /// the provider URL plus the value of the browser-binding cookie.
    pub(super) async fn start(
        &self,
        store: &IdentityStore,
        return_to: &str,
        base_url: &str,
        link_user: Option<i64>,
    ) -> Result<StartedLogin> {
        let client = self.client(base_url).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = random_secret("");
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_extra_param("nonce", &nonce)
            .set_pkce_challenge(challenge)
            .url();
        let binding = random_secret("");
        store
            .insert_oauth_state(
                &hash_secret(state.secret()),
                &OAuthStateRow {
                    provider: self.method.as_str().into(),
                    browser_hash: hash_secret(&binding),
                    pkce_verifier: verifier.secret().clone(),
                    nonce,
                    return_to: return_to.to_owned(),
                    expires_at: Utc::now() + chrono::Duration::minutes(STATE_TTL_MINUTES),
                    link_user_id: link_user,
                },
            )
            .await?;
        Ok(StartedLogin {
            authorization_url: url.to_string(),
            binding,
        })
    }

    /// Finishes a login from the callback's `code` and `state`. The state is consumed first,
    /// so a replay fails even if something later does.
    pub(super) async fn finish(
        &self,
        store: &IdentityStore,
        code: &str,
        state: &str,
        binding: Option<&str>,
        base_url: &str,
    ) -> Result<ProviderIdentity> {
        let pending = store
            .take_oauth_state(&hash_secret(state))
            .await?
            .filter(|row| row.provider == self.method.as_str() && row.expires_at > Utc::now())
            .ok_or(IdentityError::OAuthState(
                "this sign-in link was already used or has expired; start again",
            ))?;
        if !binding.is_some_and(|b| secrets_match(&hash_secret(b), &pending.browser_hash)) {
            return Err(IdentityError::OAuthState(
                "this sign-in was started in another browser; start again",
            ));
        }
        let client = self.client(base_url).await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(provider = self.method.as_str(), error = %e, "code exchange refused");
                IdentityError::OAuthCode {
                    provider: self.method.as_str(),
                }
            })?;
        let metadata = self.metadata().await?;
        let jwks = self
            .oidc
            .jwks(metadata)
            .await
            .map_err(|e| IdentityError::ProviderUnavailable(e.to_string()))?;
        let id_token = &response.extra_fields().id_token;
        let claims = verify_id_token(
            id_token,
            &jwks,
            &metadata.issuer,
            &self.settings.client_id,
            &pending.nonce,
        )
        .map_err(|e| IdentityError::BadCredentials(e.to_string()))?;
        let email = claims
            .email
            .clone()
            // Only an email the provider says it verified: an unverified one names nobody.
            .filter(|_| claims.email_verified == Some(true))
            .ok_or_else(|| {
                IdentityError::Refused("the provider did not return a verified email address".into())
            })?;
        let mut role_names = decode_roles(id_token, &jwks, &metadata.issuer, None);
        role_names.extend(decode_roles(
            response.access_token().secret(),
            &jwks,
            &metadata.issuer,
            Some(&self.settings.client_id),
        ));
        Ok(ProviderIdentity {
            method: self.method,
            subject: claims.sub,
            email,
            name: claims.name,
            preferred_username: claims.preferred_username,
            role: map_role(&role_names, &self.settings.role_map).or(self.settings.default_role),
            return_to: pending.return_to,
            link_user: pending.link_user_id,
        })
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }
}

/// Role and group names from a token signed by the provider. Access tokens are only trusted
/// when issued to this client (`azp`); anything that does not verify contributes nothing.
fn decode_roles(
    token: &str,
    jwks: &jsonwebtoken::jwk::JwkSet,
    issuer: &str,
    azp: Option<&str>,
) -> Vec<String> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Vec::new();
    };
    let Some(jwk) = header.kid.as_deref().and_then(|kid| jwks.find(kid)) else {
        return Vec::new();
    };
    let Ok(key) = DecodingKey::from_jwk(jwk) else {
        return Vec::new();
    };
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    match jsonwebtoken::decode::<RoleClaims>(token, &key, &validation) {
        Ok(data) if azp.is_none() || data.claims.azp.as_deref() == azp => data.claims.names(),
        _ => Vec::new(),
    }
}

/// The highest Heimdall role any of `names` maps to.
pub fn map_role(names: &[String], role_map: &[(String, Role)]) -> Option<Role> {
    role_map
        .iter()
        .filter(|(name, _)| names.iter().any(|n| n == name))
        .map(|(_, role)| *role)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_mapped_role_wins() {
        let map = vec![
            ("heimdall-viewer".to_owned(), Role::Viewer),
            ("heimdall-admin".to_owned(), Role::Admin),
            ("platform".to_owned(), Role::Developer),
        ];
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            map_role(&names(&["heimdall-viewer", "platform"]), &map),
            Some(Role::Developer)
        );
        assert_eq!(
            map_role(&names(&["heimdall-admin", "heimdall-viewer"]), &map),
            Some(Role::Admin)
        );
        assert_eq!(map_role(&names(&["offline_access"]), &map), None);
    }
}
