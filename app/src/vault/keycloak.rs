//! The vault's Keycloak: the token endpoint (refresh grant, code exchange), introspection, and
//! the admin API (sessions), all as the confidential client Heimdall signs in with. The admin
//! API is called with the client's service account (`client_credentials`), whose token is kept
//! until shortly before it expires.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::{Mutex, OnceCell};

use crate::identity::ProviderSettings;
use crate::identity::oidc::{Introspection, OidcClient, ProviderMetadata};

/// What a token endpoint answered. Tokens stay secret: `Debug` never shows them.
#[derive(Deserialize)]
pub struct TokenSet {
    pub access_token: SecretString,
    #[serde(default)]
    pub expires_in: i64,
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub session_state: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_in", &self.expires_in)
            .field("session_state", &self.session_state)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope
            .as_deref()
            .is_some_and(|s| s.split_whitespace().any(|x| x == scope))
    }
}

/// A user session as the admin API lists it (times in epoch milliseconds).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminSession {
    pub id: String,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub start: i64,
    #[serde(default)]
    pub last_access: i64,
    #[serde(default)]
    pub clients: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeycloakError {
    /// Keycloak could not be reached or answered something unreadable.
    #[error("Keycloak at {url} is unavailable: {message}")]
    Unavailable { url: String, message: String },
    /// Keycloak answered with an OAuth error (`invalid_grant` for a dead token, say).
    #[error("Keycloak refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        status: u16,
        error: String,
        description: Option<String>,
    },
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

pub struct KeycloakVault {
    settings: ProviderSettings,
    oidc: OidcClient,
    http: reqwest::Client,
    metadata: OnceCell<ProviderMetadata>,
    client_uuid: OnceCell<String>,
    admin_token: Mutex<Option<(SecretString, Instant)>>,
}

impl KeycloakVault {
    pub fn new(settings: ProviderSettings) -> Self {
        Self {
            settings,
            oidc: OidcClient::default(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap_or_default(),
            metadata: OnceCell::new(),
            client_uuid: OnceCell::new(),
            admin_token: Mutex::new(None),
        }
    }

    pub fn issuer(&self) -> &str {
        self.settings.issuer.trim_end_matches('/')
    }

    pub fn client_id(&self) -> &str {
        &self.settings.client_id
    }

    /// Discovery, once; a failure is not cached.
    pub async fn metadata(&self) -> Result<&ProviderMetadata, KeycloakError> {
        self.metadata
            .get_or_try_init(|| self.oidc.discover(&self.settings.issuer))
            .await
            .map_err(|e| KeycloakError::Unavailable {
                url: self.issuer().to_owned(),
                message: e.to_string(),
            })
    }

    pub async fn jwks(&self) -> Result<jsonwebtoken::jwk::JwkSet, KeycloakError> {
        let metadata = self.metadata().await?;
        self.oidc
            .jwks(metadata)
            .await
            .map_err(|e| KeycloakError::Unavailable {
                url: metadata.jwks_uri.clone(),
                message: e.to_string(),
            })
    }

    /// `<server>/admin/realms/<realm>`, from the issuer `<server>/realms/<realm>`.
    fn admin_base(&self) -> Result<String, KeycloakError> {
        let issuer = self.issuer();
        let at = issuer
            .rfind("/realms/")
            .ok_or_else(|| KeycloakError::Unavailable {
                url: issuer.to_owned(),
                message: "the issuer is not a Keycloak realm URL (…/realms/<realm>)".into(),
            })?;
        Ok(format!("{}/admin{}", &issuer[..at], &issuer[at..]))
    }

    /// The refresh grant: a fresh access token (and, usually, a rotated refresh token).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, KeycloakError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])
        .await
    }

    /// The authorization-code grant with the PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<TokenSet, KeycloakError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", redirect_uri),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, KeycloakError> {
        let url = self.metadata().await?.token_endpoint.clone();
        let response = self
            .http
            .post(&url)
            .basic_auth(
                &self.settings.client_id,
                Some(self.settings.client_secret.expose_secret()),
            )
            .form(form)
            .send()
            .await
            .map_err(|e| unavailable(&url, e))?;
        read_json(&url, response).await
    }

    /// Asks Keycloak about an access token, as the confidential client (identity's
    /// introspection, which also reads the token's Keycloak session).
    pub async fn introspect(&self, token: &str) -> Result<Introspection, KeycloakError> {
        let metadata = self.metadata().await?;
        self.oidc
            .introspect(
                metadata,
                &self.settings.client_id,
                self.settings.client_secret.expose_secret(),
                token,
            )
            .await
            .map_err(|e| KeycloakError::Unavailable {
                url: metadata.issuer.clone(),
                message: e.to_string(),
            })
    }

    /// The service account's token for the admin API, reused until 30 s before it expires.
    async fn admin_token(&self) -> Result<SecretString, KeycloakError> {
        let mut cached = self.admin_token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let set = self
            .token_request(&[("grant_type", "client_credentials")])
            .await?;
        let lifetime =
            Duration::from_secs(set.expires_in.max(0) as u64).saturating_sub(Duration::from_secs(30));
        *cached = Some((set.access_token.clone(), Instant::now() + lifetime));
        Ok(set.access_token)
    }

    /// One admin-API request as the service account.
    async fn admin_request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::Response, KeycloakError> {
        let token = self.admin_token().await?;
        self.http
            .request(method, url)
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(|e| unavailable(url, e))
    }

    async fn admin_get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, KeycloakError> {
        let url = format!("{}{path}", self.admin_base()?);
        let response = self.admin_request(reqwest::Method::GET, &url).await?;
        read_json(&url, response).await
    }

    /// This client's internal id (the admin API's offline-session listing wants it).
    async fn client_uuid(&self) -> Result<&str, KeycloakError> {
        self.client_uuid
            .get_or_try_init(|| async {
                #[derive(Deserialize)]
                struct Client {
                    id: String,
                }
                let path = format!("/clients?clientId={}", encode(&self.settings.client_id));
                let clients: Vec<Client> = self.admin_get(&path).await?;
                clients
                    .into_iter()
                    .next()
                    .map(|c| c.id)
                    .ok_or_else(|| KeycloakError::Unavailable {
                        url: self.issuer().to_owned(),
                        message: format!("no client {:?} in the realm", self.settings.client_id),
                    })
            })
            .await
            .map(String::as_str)
    }

    /// The user's online sessions.
    pub async fn user_sessions(&self, subject: &str) -> Result<Vec<AdminSession>, KeycloakError> {
        self.admin_get(&format!("/users/{}/sessions", encode(subject)))
            .await
    }

    /// The user's offline sessions with this client.
    pub async fn offline_sessions(&self, subject: &str) -> Result<Vec<AdminSession>, KeycloakError> {
        let client = self.client_uuid().await?.to_owned();
        self.admin_get(&format!(
            "/users/{}/offline-sessions/{}",
            encode(subject),
            encode(&client)
        ))
        .await
    }

    /// Ends a session; `Ok(false)` when Keycloak no longer knows it.
    pub async fn delete_session(&self, session_id: &str, offline: bool) -> Result<bool, KeycloakError> {
        let url = format!(
            "{}/sessions/{}?isOffline={offline}",
            self.admin_base()?,
            encode(session_id)
        );
        let response = self.admin_request(reqwest::Method::DELETE, &url).await?;
        match response.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(refused(response).await),
        }
    }
}

fn encode(part: &str) -> String {
    url::form_urlencoded::byte_serialize(part.as_bytes()).collect()
}

fn unavailable(url: &str, e: reqwest::Error) -> KeycloakError {
    KeycloakError::Unavailable {
        url: url.to_owned(),
        message: e.to_string(),
    }
}

async fn refused(response: reqwest::Response) -> KeycloakError {
    let status = response.status().as_u16();
    let body: OAuthErrorBody = response.json().await.unwrap_or(OAuthErrorBody {
        error: None,
        error_description: None,
    });
    KeycloakError::Refused {
        status,
        error: body.error.unwrap_or_else(|| format!("HTTP {status}")),
        description: body.error_description,
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    url: &str,
    response: reqwest::Response,
) -> Result<T, KeycloakError> {
    if !response.status().is_success() {
        return Err(refused(response).await);
    }
    response.json().await.map_err(|e| unavailable(url, e))
}
