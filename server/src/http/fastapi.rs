//! The error body the seeds' FastAPI clients read: `detail` (a sentence), beside Heimdall's own
//! `error` and `message` — the same status either way. Shared by the operator-console and
//! IDP-portal routes.

use axum::response::{IntoResponse, Response};
use serde_json::Value;

use app::error::AppError;

pub struct SeedError(pub AppError);

impl From<AppError> for SeedError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl IntoResponse for SeedError {
    fn into_response(self) -> Response {
        let mut response = self.0.clone().into_response();
        let mut body = serde_json::to_value(&self.0).unwrap_or_default();
        body["detail"] = Value::String(self.0.to_string());
        *response.body_mut() = axum::body::Body::from(body.to_string());
        response
    }
}
