//! The errors the seeds' FastAPI clients read. `AppError` itself answers with FastAPI's
//! `detail` beside Heimdall's `error` and `message` (see `AppError::detail`); `SeedError` is the
//! handlers' error type for routes at a seed's paths, and `unauthorized` gives each seed's 401
//! its own words and `WWW-Authenticate` header.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

pub struct SeedError(pub AppError);

impl From<AppError> for SeedError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl IntoResponse for SeedError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// What a seed says when a request is not signed: without credentials, and with ones that did
/// not check out.
#[derive(Clone, Copy)]
pub struct Unauthorized {
    pub missing: &'static str,
    pub invalid: &'static str,
    /// Whether the answer names the scheme (`WWW-Authenticate: Bearer`, as `HTTPBearer` does).
    pub bearer: bool,
}

/// The operator console (`HTTPBearer`, then its admin-token check).
pub const OPERATOR_CONSOLE: Unauthorized = Unauthorized {
    missing: "Not authenticated",
    invalid: "Invalid authentication token",
    bearer: true,
};

/// The IDP portal (`HTTPBearer`, then its JWT check).
pub const IDP_PORTAL: Unauthorized = Unauthorized {
    missing: "Not authenticated",
    invalid: "Invalid token",
    bearer: true,
};

/// The Python Heimdall (fastapi-users: the same word either way, no scheme named).
pub const PYTHON_HEIMDALL: Unauthorized = Unauthorized {
    missing: "Unauthorized",
    invalid: "Unauthorized",
    bearer: false,
};

/// A 401 from the routes below carries the seed's `detail` for the case (no credentials, or
/// ones that did not check out) and `WWW-Authenticate: Bearer`, as FastAPI's `HTTPBearer`
/// clients expect. Heimdall's own `error` and `message` stay.
pub async fn unauthorized(
    axum::extract::State(words): axum::extract::State<Unauthorized>,
    request: Request,
    next: Next,
) -> Response {
    let sent_credentials = request.headers().contains_key(header::AUTHORIZATION);
    let response = next.run(request).await;
    if response.status() != StatusCode::UNAUTHORIZED {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let mut json: serde_json::Value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| serde_json::json!({}));
    if !json.is_object() {
        json = serde_json::json!({});
    }
    json["detail"] = serde_json::Value::from(if sent_credentials {
        words.invalid
    } else {
        words.missing
    });
    if words.bearer {
        parts
            .headers
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, axum::body::Body::from(json.to_string()))
}
