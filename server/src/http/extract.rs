//! Body extractors whose rejections are `AppError` JSON (422 naming what was wrong), not
//! axum's plain-text defaults.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use app::error::AppError;

/// A JSON body.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(v)| Self(v))
            .map_err(|e| AppError::invalid("body", e.body_text()))
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
            .map_err(|e| AppError::invalid("body", e.body_text()))
    }
}
