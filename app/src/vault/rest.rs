//! The auth-manager seed's `/v1/*` routes, at its paths and in its envelope: `{"data": …}` on
//! success, `{"error", "code", "reason", "details"}` with the seed's statuses otherwise. Each
//! turns the request into a `VaultCaller` and one `VaultService` call.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

use super::{CALLBACK_PATH, ConsentCallback, VaultCaller, VaultError, VaultService};
use crate::request::RequestMeta;
use crate::vault::seed::{Ok as Envelope, ValidationResponse};

use crate::rest::doc::{Auth, Op, Param, param};

const ID: &[Param] = &[param("id", true, "the persistent token id (a UUID)")];
const ENVELOPE_ERRORS: &[(u16, &str)] = &[
    (401, "unauthorized / token_not_active"),
    (403, "forbidden: a read-only API token, or no Keycloak identity"),
    (404, "token_not_found (also someone else's token)"),
    (422, "validation_error, naming the field in details"),
    (502, "keycloak_error: Keycloak refused or is unreachable"),
    (503, "vault_disabled"),
];

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them). Every answer is the seed's envelope:
/// `{"data": …}` or `{"error", "code", "reason", "details"}`.
pub const DOC: &[Op] = &[
    Op::new(
        "POST",
        "/v1/access-token",
        "Mint an access token from a stored token {access_token, expires_in}",
        Auth::KeycloakOrHeimdall,
    )
    .query(ID)
    .responses(ENVELOPE_ERRORS),
    Op::new(
        "GET",
        "/v1/offline-token",
        "Start the offline-token consent: {consent_url, session_state_id, message}",
        Auth::KeycloakOrHeimdall,
    )
    .responses(ENVELOPE_ERRORS),
    Op::new(
        "GET",
        CALLBACK_PATH,
        "Keycloak's redirect after consent: stores the offline token {persistent_token_id, session_state_id}",
        Auth::Public,
    )
    .query(&[
        param("code", true, "authorization code"),
        param("state", true, "the signed, single-use state"),
        param("error", false, "Keycloak's error, if any"),
    ])
    .responses(&[
        (200, "stored"),
        (303, "back to the Vault page (a consent started there)"),
        (400, "invalid_ack_state"),
        (403, "another account consented"),
        (502, "keycloak_callback_error / keycloak_error"),
    ]),
    Op::new(
        "POST",
        "/v1/offline-token-id",
        "A new offline token from the caller's stored one {persistent_token_id, session_state_id}",
        Auth::KeycloakOrHeimdall,
    )
    .responses(ENVELOPE_ERRORS),
    Op::new(
        "DELETE",
        "/v1/offline-token-id",
        "Delete a stored token; ends its Keycloak offline session when no other token shares it",
        Auth::KeycloakOrHeimdall,
    )
    .query(ID)
    .responses(ENVELOPE_ERRORS),
    Op::new(
        "POST",
        "/v1/refresh-token",
        "Store the caller's refresh token (one per user) {persistent_token_id}",
        Auth::KeycloakOrHeimdall,
    )
    .body(r#"{"refresh_token": "eyJ…"}"#)
    .responses(ENVELOPE_ERRORS),
    Op::new(
        "POST",
        "/v1/refresh-token-id",
        "Refresh the stored refresh token in place {persistent_token_id}",
        Auth::KeycloakOrHeimdall,
    )
    .responses(ENVELOPE_ERRORS),
    Op::new(
        "GET",
        "/v1/validate-token",
        "Whether Keycloak calls the bearer token active {valid}",
        Auth::Public,
    )
    .responses(&[
        (200, "{\"data\": {\"valid\": true}}"),
        (401, "token_not_active / unauthorized"),
    ]),
];

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::identity::IdentityService: FromRef<S>,
    VaultService: FromRef<S>,
{
    Router::new()
        .route("/v1/access-token", post(access_token))
        .route("/v1/offline-token", get(offline_token_consent))
        .route(CALLBACK_PATH, get(offline_token_callback))
        .route(
            "/v1/offline-token-id",
            post(new_offline_token).delete(revoke_offline_token),
        )
        .route("/v1/refresh-token", post(store_refresh_token))
        .route("/v1/refresh-token-id", post(new_refresh_token_id))
        .route("/v1/validate-token", get(validate_token))
}

/// A vault answer: the seed's envelope either way.
struct Answer(Result<serde_json::Value, VaultError>);

impl<T: Serialize> From<Result<T, VaultError>> for Answer {
    fn from(result: Result<T, VaultError>) -> Self {
        Self(result.map(|data| serde_json::to_value(Envelope { data }).unwrap_or_default()))
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(body) => axum::Json(body).into_response(),
            Err(e) => error_response(&e),
        }
    }
}

fn error_response(e: &VaultError) -> Response {
    let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Always there, `{}` when empty, as the seed's envelope has it.
    let details = match (&e.field, &e.reason) {
        (Some(field), Some(reason)) => json!({ field: reason }),
        _ => json!({}),
    };
    let body = json!({ "error": e.error, "code": e.code.as_str(), "reason": e.reason, "details": details });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

async fn caller(vault: &VaultService, parts: &Parts) -> Result<(VaultCaller, RequestMeta), VaultError> {
    let meta = RequestMeta::from_parts(&parts.headers, &parts.extensions);
    let caller = vault.caller(&parts.headers, &meta).await?;
    Ok((caller, meta))
}

/// The `id` query parameter, which the seed requires.
fn id_param(query: &HashMap<String, String>) -> Result<&str, VaultError> {
    query
        .get("id")
        .map(String::as_str)
        .ok_or_else(|| VaultError::malformed("query.id", "Field required"))
}

async fn access_token(
    State(vault): State<VaultService>,
    parts: Parts,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    async {
        let (caller, _) = caller(&vault, &parts).await?;
        vault.access_token(&caller, id_param(&query)?).await
    }
    .await
    .into()
}

async fn offline_token_consent(State(vault): State<VaultService>, parts: Parts) -> Answer {
    async {
        let (caller, meta) = caller(&vault, &parts).await?;
        vault.start_consent(&caller, &meta, None).await
    }
    .await
    .into()
}

/// Keycloak sends the browser here. A consent started on the Vault page goes back there with
/// the outcome; one started through the API answers in the envelope.
async fn offline_token_callback(
    State(vault): State<VaultService>,
    parts: Parts,
    Query(query): Query<ConsentCallback>,
) -> Response {
    let meta = RequestMeta::from_parts(&parts.headers, &parts.extensions);
    let (result, return_to) = vault.finish_consent(&meta, &query).await;
    match return_to {
        Some(page) => {
            let outcome = match &result {
                Ok(done) => format!("stored={}", encode(&done.persistent_token_id)),
                Err(e) => format!("error={}", encode(&e.to_string())),
            };
            let location = format!("{page}{}{outcome}", if page.contains('?') { '&' } else { '?' });
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        None => Answer::from(result).into_response(),
    }
}

async fn new_offline_token(State(vault): State<VaultService>, parts: Parts) -> Answer {
    async {
        let (caller, meta) = caller(&vault, &parts).await?;
        vault.new_offline_token(&caller, &meta).await
    }
    .await
    .into()
}

async fn revoke_offline_token(
    State(vault): State<VaultService>,
    parts: Parts,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    async {
        let (caller, meta) = caller(&vault, &parts).await?;
        vault.revoke(&caller, &meta, id_param(&query)?).await
    }
    .await
    .into()
}

/// The seed's `RefreshTokenPayload`: `{"refresh_token": "…"}`; anything else is a 422 naming
/// the field.
fn refresh_token_body(headers: &HeaderMap, body: &Bytes) -> Result<SecretString, VaultError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(VaultError::malformed(
            "body",
            "expected a JSON body (Content-Type: application/json)",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| VaultError::malformed("body", format!("not valid JSON: {e}")))?;
    match value.get("refresh_token") {
        Some(serde_json::Value::String(token)) => Ok(SecretString::from(token.clone())),
        Some(_) => Err(VaultError::malformed(
            "body.refresh_token",
            "Input should be a valid string",
        )),
        None => Err(VaultError::malformed("body.refresh_token", "Field required")),
    }
}

async fn store_refresh_token(State(vault): State<VaultService>, parts: Parts, body: Bytes) -> Answer {
    async {
        let (caller, meta) = caller(&vault, &parts).await?;
        let token = refresh_token_body(&parts.headers, &body)?;
        vault.store_refresh(&caller, &meta, token).await
    }
    .await
    .into()
}

async fn new_refresh_token_id(State(vault): State<VaultService>, parts: Parts) -> Answer {
    async {
        let (caller, _) = caller(&vault, &parts).await?;
        vault.new_refresh_token_id(&caller).await
    }
    .await
    .into()
}

async fn validate_token(State(vault): State<VaultService>, headers: HeaderMap) -> Answer {
    vault
        .validate(&headers)
        .await
        .map(|()| ValidationResponse { valid: true })
        .into()
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
