//! `AppError`: the one client-safe error every server function and REST handler returns.
//!
//! Internal causes are logged on the server and never sent: the client sees a category and a
//! message written for it.

use serde::{Deserialize, Serialize};

/// What went wrong, in terms a client can act on. Serialized as `{"error": "<kind>", ...}`.
///
/// `Deserialize` is written out (through a flat struct) rather than derived: a derived
/// internally tagged enum buffers through serde's `Content` machinery, which every server
/// function would pull into the initial WASM bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// No usable credentials: none sent, or a token/password that did not check out.
    #[error("sign-in required: {message}")]
    Unauthenticated { message: String },
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    #[error("conflict: {message}")]
    Conflict { message: String },
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// The request body is over the size limit.
    #[error("{message}")]
    TooLarge { limit_bytes: u64, message: String },
    #[error("{message}")]
    RateLimited { retry_after_secs: u64, message: String },
    #[error("unavailable: {message}")]
    Unavailable { message: String },
    #[error("internal error (details are in the server log)")]
    Internal,
    /// The request never reached the server function (network, decoding): built on the client side.
    #[error("request failed: {message}")]
    Transport { message: String },
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated {
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            message: message.into(),
        }
    }

    /// A body over `limit_bytes`, with the limit in the message.
    pub fn too_large(limit_bytes: u64) -> Self {
        Self::TooLarge {
            limit_bytes,
            message: format!(
                "the request body is larger than the limit of {limit_bytes} bytes ({} KiB)",
                limit_bytes / 1024
            ),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
        }
    }

    /// Logs `cause` on the server and returns the opaque `Internal` error for the client.
    #[cfg(feature = "ssr")]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::Internal
    }

    /// FastAPI's `detail`, which the seeds' clients read (four of the five seeds are FastAPI
    /// services): the sentence alone for most errors ("Service not found"), and for a request
    /// body that did not parse, FastAPI's list of `{type, loc, msg}` naming the field.
    #[cfg(feature = "ssr")]
    pub fn detail(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Self::Invalid { field, message } if field == "body" => {
                json!([{ "type": "value_error", "loc": ["body"], "msg": message }])
            }
            Self::Invalid { field, message } => {
                let mut loc = vec![json!("body")];
                loc.extend(field.split('.').map(|part| json!(part)));
                json!([{ "type": "value_error", "loc": loc, "msg": message }])
            }
            Self::Unauthenticated { message }
            | Self::Forbidden { message }
            | Self::NotFound { message }
            | Self::Conflict { message }
            | Self::TooLarge { message, .. }
            | Self::RateLimited { message, .. }
            | Self::Unavailable { message }
            | Self::Transport { message } => json!(message),
            Self::Internal => json!("Internal Server Error"),
        }
    }

    /// The sentence a person reads (a toast, a form, a notice): the message without the kind
    /// in front ("conflict: …" is for logs and API clients), starting with a capital.
    pub fn for_people(&self) -> String {
        let text = match self {
            Self::Unauthenticated { message }
            | Self::Forbidden { message }
            | Self::NotFound { message }
            | Self::Conflict { message }
            | Self::Invalid { message, .. }
            | Self::TooLarge { message, .. }
            | Self::RateLimited { message, .. }
            | Self::Unavailable { message } => message.clone(),
            Self::Internal => "Something went wrong on the server; its log has the details.".to_owned(),
            Self::Transport { message } => format!("Couldn't reach Heimdall: {message}"),
        };
        let mut chars = text.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => text,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Unauthenticated { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::Invalid { .. } => 422,
            Self::TooLarge { .. } => 413,
            Self::RateLimited { .. } => 429,
            Self::Unavailable { .. } => 503,
            Self::Internal => 500,
            Self::Transport { .. } => 502,
        }
    }
}

/// The wire form of every `AppError`: the kind and whichever fields it has.
#[derive(Deserialize)]
struct AppErrorWire {
    error: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    retry_after_secs: u64,
    #[serde(default)]
    limit_bytes: u64,
}

impl<'de> Deserialize<'de> for AppError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const KINDS: &[&str] = &[
            "unauthenticated",
            "forbidden",
            "not_found",
            "conflict",
            "invalid",
            "too_large",
            "rate_limited",
            "unavailable",
            "internal",
            "transport",
        ];
        let AppErrorWire {
            error,
            message,
            field,
            retry_after_secs,
            limit_bytes,
        } = AppErrorWire::deserialize(deserializer)?;
        Ok(match error.as_str() {
            "unauthenticated" => Self::Unauthenticated { message },
            "forbidden" => Self::Forbidden { message },
            "not_found" => Self::NotFound { message },
            "conflict" => Self::Conflict { message },
            "invalid" => Self::Invalid { field, message },
            "too_large" => Self::TooLarge { limit_bytes, message },
            "rate_limited" => Self::RateLimited {
                retry_after_secs,
                message,
            },
            "unavailable" => Self::Unavailable { message },
            "internal" => Self::Internal,
            "transport" => Self::Transport { message },
            other => return Err(serde::de::Error::unknown_variant(other, KINDS)),
        })
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    /// On the server these are malformed calls (bad or missing arguments): the caller's fault,
    /// so a 4xx. On the client they are network or decoding failures.
    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => Self::invalid("arguments", m),
            E::UnsupportedRequestMethod(m) => Self::invalid("method", m),
            E::Registration(m) => Self::not_found(m),
            other => Self::Transport {
                message: other.to_string(),
            },
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status_code())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = serde_json::to_value(&self).unwrap_or_default();
        body["detail"] = self.detail();
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::RateLimited { retry_after_secs, .. } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}

/// A value a caller sent that is wrong, and why: the validation error every domain shares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(err: FieldError) -> Self {
        Self::invalid(err.field, err.message)
    }
}

/// The fallback for a repository error no domain translated: a missing row is a 404, a unique
/// violation a 409 in words (the constraint's name goes to the log only), the rest a 500.
#[cfg(feature = "ssr")]
impl From<crate::db::DbError> for AppError {
    fn from(err: crate::db::DbError) -> Self {
        match err {
            crate::db::DbError::NotFound => Self::not_found("no such record"),
            crate::db::DbError::Conflict { constraint } => {
                tracing::warn!(%constraint, "unique constraint violated");
                Self::conflict("a record with these values already exists")
            }
            other => Self::internal(other),
        }
    }
}

/// What a form or notice shows for the last result of an action: its error, said for people.
pub fn error_text<T>(result: Option<Result<T, AppError>>) -> Option<String> {
    result.and_then(Result::err).map(|e| e.for_people())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_reads_the_sentence_without_the_kind() {
        let own_role = AppError::conflict("you cannot change your own role or deactivate yourself");
        assert_eq!(
            own_role.to_string(),
            "conflict: you cannot change your own role or deactivate yourself"
        );
        assert_eq!(
            own_role.for_people(),
            "You cannot change your own role or deactivate yourself"
        );
        assert_eq!(AppError::not_found("no such user").for_people(), "No such user");
        assert_eq!(
            AppError::invalid("username", "must not be empty").for_people(),
            "Must not be empty"
        );
        assert_eq!(
            AppError::unavailable("the cluster is not configured").for_people(),
            "The cluster is not configured"
        );
        assert!(!AppError::Internal.for_people().contains("internal error"));
        assert_eq!(
            AppError::Transport {
                message: "offline".into()
            }
            .for_people(),
            "Couldn't reach Heimdall: offline"
        );
        assert_eq!(AppError::forbidden("").for_people(), "");
    }

    #[test]
    fn serializes_with_a_kind_tag_and_fields() {
        let json = serde_json_like(&AppError::invalid("server.port", "expected a number"));
        assert_eq!(
            json,
            r#"{"error":"invalid","field":"server.port","message":"expected a number"}"#
        );
    }

    #[test]
    fn every_kind_reads_back_as_it_was_written() {
        for err in [
            AppError::unauthenticated("sign in first"),
            AppError::forbidden("no"),
            AppError::not_found("gone"),
            AppError::conflict("taken"),
            AppError::invalid("slug", "bad"),
            AppError::too_large(2048),
            AppError::RateLimited {
                retry_after_secs: 30,
                message: "wait".into(),
            },
            AppError::unavailable("down"),
            AppError::Internal,
            AppError::Transport {
                message: "offline".into(),
            },
        ] {
            let json = serde_json_like(&err);
            let back: AppError = serde_json::from_str(&json).expect("reads back");
            assert_eq!(back, err, "{json}");
        }
        assert!(serde_json::from_str::<AppError>(r#"{"error":"nonsense"}"#).is_err());
    }

    #[test]
    fn internal_errors_carry_no_detail() {
        assert_eq!(serde_json_like(&AppError::Internal), r#"{"error":"internal"}"#);
        assert_eq!(AppError::Internal.status_code(), 500);
    }

    fn serde_json_like(err: &AppError) -> String {
        serde_json::to_string(err).expect("AppError serializes")
    }
}
