//! Body extractors whose rejections are `AppError` JSON (422 naming what was wrong), not
//! axum's plain-text defaults.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(v)| Self(v))
            .map_err(|e| rejection(e.status(), e.body_text()))
    }
}

/// axum's rejection as an `AppError`: 413 for a body over the limit, else 422 naming the fault.
fn rejection(status: axum::http::StatusCode, text: String) -> AppError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::too_large(crate::rest::BODY_LIMIT as u64)
    } else {
        AppError::invalid("body", text)
    }
}

/// An `application/x-www-form-urlencoded` body.
pub struct FormBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| Self(v))
            .map_err(|e| rejection(e.status(), e.body_text()))
    }
}

/// A JSON body read after the caller was checked: a handler that takes the whole request and
/// reads its body here answers a signed-out caller 401 before saying anything about the body
/// (axum runs extractors first, so `JsonBody` would answer 422 to anyone).
pub async fn json_after_check<T: DeserializeOwned>(req: Request) -> Result<T, AppError> {
    JsonBody::<T>::from_request(req, &()).await.map(|JsonBody(v)| v)
}
