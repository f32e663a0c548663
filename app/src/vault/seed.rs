//! The auth-manager seed's response shapes, field for field (`app/models/response.py`), and its
//! `Ok{data}` envelope. Server-only: the Vault page uses `model.rs`.

use serde::Serialize;

/// `Ok[T]`: `{"data": …}`.
#[derive(Debug, Serialize)]
pub struct Ok<T> {
    pub data: T,
}

#[derive(Serialize)]
pub struct AccessTokenResult {
    pub access_token: String,
    pub expires_in: i64,
}

#[derive(Debug, Serialize)]
pub struct OfflineTokenResult {
    pub persistent_token_id: String,
    pub session_state_id: String,
}

#[derive(Debug, Serialize)]
pub struct RefreshTokenIdResult {
    pub persistent_token_id: String,
}

#[derive(Debug, Serialize)]
pub struct OfflineConsentResult {
    pub consent_url: String,
    pub session_state_id: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct ValidationResponse {
    pub valid: bool,
}

#[derive(Debug, Serialize)]
pub struct OfflineTokenRevocation {
    pub message: String,
    pub persistent_token_id: String,
    pub token_deleted: bool,
    pub session_revoked: bool,
    pub had_shared_session: bool,
}
