//! OpenID Connect providers (Google, Keycloak) configured by issuer URL only: discovery, the
//! signing keys (JWKS), and ID-token validation — signature, issuer, audience, expiry, nonce.
//! Google's real endpoints and the test stand-in differ only in that URL.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

/// The parts of a provider's discovery document Heimdall uses.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
}

/// What a provider's token introspection (RFC 7662) says about a token. Keycloak adds
/// `realm_access.roles`, which map to Heimdall roles.
#[derive(Debug, Clone, Deserialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub realm_access: Option<RealmAccess>,
    /// The Keycloak session the token belongs to (`sid`; older Keycloaks: `session_state`).
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub session_state: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RealmAccess {
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The claims of a validated ID token.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenClaims {
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("fetching {url} failed: {message}")]
    Fetch { url: String, message: String },
    #[error("the provider at {expected} calls itself {found}")]
    IssuerMismatch { expected: String, found: String },
    #[error("invalid ID token: {0}")]
    InvalidToken(String),
}

/// Signature algorithms accepted for ID tokens: asymmetric only, so a public key can never be
/// used as an HMAC secret.
const ALLOWED_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Clock skew tolerated on `exp`/`nbf`/`iat`.
const LEEWAY_SECS: u64 = 60;

/// Talks to OpenID providers over one HTTP client.
#[derive(Clone, Default)]
pub struct OidcClient {
    http: reqwest::Client,
}

impl OidcClient {
    /// Reads `{issuer}/.well-known/openid-configuration` and checks it names the same issuer.
    pub async fn discover(&self, issuer: &str) -> Result<ProviderMetadata, OidcError> {
        let issuer = issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let metadata: ProviderMetadata = self.get_json(&url).await?;
        if metadata.issuer.trim_end_matches('/') != issuer {
            return Err(OidcError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: metadata.issuer,
            });
        }
        Ok(metadata)
    }

    /// The provider's current signing keys.
    pub async fn jwks(&self, metadata: &ProviderMetadata) -> Result<JwkSet, OidcError> {
        self.get_json(&metadata.jwks_uri).await
    }

    /// Asks the provider whether `token` is active, authenticating as the confidential client.
    /// Keycloak only answers for tokens whose audience includes that client.
    pub async fn introspect(
        &self,
        metadata: &ProviderMetadata,
        client_id: &str,
        client_secret: &str,
        token: &str,
    ) -> Result<Introspection, OidcError> {
        let url = metadata
            .introspection_endpoint
            .as_deref()
            .ok_or_else(|| OidcError::Fetch {
                url: metadata.issuer.clone(),
                message: "the provider has no introspection endpoint".into(),
            })?;
        let fail = |message: String| OidcError::Fetch {
            url: url.to_owned(),
            message,
        };
        let response = self
            .http
            .post(url)
            .basic_auth(client_id, Some(client_secret))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        response.json().await.map_err(|e| fail(e.to_string()))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let fail = |message: String| OidcError::Fetch {
            url: url.to_owned(),
            message,
        };
        let response = self.http.get(url).send().await.map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        response.json().await.map_err(|e| fail(e.to_string()))
    }
}

/// Validates an ID token against the provider's keys: signature, `iss`, `aud`, `exp`, and
/// that `nonce` is the one this login sent.
pub fn verify_id_token(
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<IdTokenClaims, OidcError> {
    let invalid = |message: String| OidcError::InvalidToken(message);
    let header = decode_header(token).map_err(|e| invalid(e.to_string()))?;
    if !ALLOWED_ALGORITHMS.contains(&header.alg) {
        return Err(invalid(format!("algorithm {:?} is not accepted", header.alg)));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("no key id (kid) in the header".into()))?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| invalid(format!("unknown signing key {kid:?}")))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer.trim_end_matches('/')]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECS;
    let claims = decode::<IdTokenClaims>(token, &key, &validation)
        .map_err(|e| invalid(e.to_string()))?
        .claims;
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(invalid("the nonce does not match this login".into()));
    }
    Ok(claims)
}
