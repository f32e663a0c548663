//! Text that means nothing in a name, an id or a field — NUL above all, which PostgreSQL cannot
//! store — is refused at the edge with a 422 naming where it was, before a handler or either
//! database sees it: the path, a query parameter, or a field of a JSON or form body. Free text
//! (a brief, notes) may hold tabs and line breaks; nothing else below U+0020 passes, and in the
//! path and query not even those.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::error::AppError;

use super::guards::BODY_LIMIT;

/// Control characters no path, id or query means.
fn strict(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Control characters no field means (tabs and line breaks are text).
fn in_field(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

fn refused(field: &str) -> Response {
    AppError::invalid(
        field,
        "contains a control character (such as NUL), which no field here can hold",
    )
    .into_response()
}

pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy();
    if strict(&path) {
        return refused("path");
    }
    if let Some(query) = req.uri().query() {
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if strict(&name) || strict(&value) {
                return refused(&name);
            }
        }
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let (json, form) = match kind.as_deref() {
        Some("application/json") => (true, false),
        Some("application/x-www-form-urlencoded") => (false, true),
        _ => return next.run(req).await,
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return AppError::too_large(BODY_LIMIT as u64).into_response();
    };
    let field = if json {
        bad_json_field(&bytes)
    } else if form {
        bad_form_field(&bytes)
    } else {
        None
    };
    if let Some(field) = field {
        return refused(&field);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The first field of a form body holding a control character.
fn bad_form_field(bytes: &[u8]) -> Option<String> {
    // Only escapes can hide one in a well-formed form; skip the parse when there is none.
    let suspicious = bytes.iter().any(|b| *b < 0x20)
        || bytes
            .windows(3)
            .any(|w| w[0] == b'%' && matches!(w[1], b'0' | b'1' | b'7'));
    if !suspicious {
        return None;
    }
    url::form_urlencoded::parse(bytes)
        .find(|(name, value)| strict(name) || in_field(value))
        .map(|(name, _)| name.into_owned())
}

/// The first field (`a.b[2].c`) of a JSON body holding a control character. A body that is not
/// JSON is left to the handler, which says so.
fn bad_json_field(bytes: &[u8]) -> Option<String> {
    // Raw control bytes are not JSON at all; `\u00XX` and `\u007f` are how one is written.
    let suspicious = bytes.windows(4).any(|w| w.eq_ignore_ascii_case(b"\\u00"));
    if !suspicious {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    find_in(&value, "")
}

fn find_in(value: &serde_json::Value, at: &str) -> Option<String> {
    let name = |at: &str| {
        if at.is_empty() {
            "body".to_owned()
        } else {
            at.to_owned()
        }
    };
    match value {
        serde_json::Value::String(s) if in_field(s) => Some(name(at)),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_in(item, &format!("{}[{i}]", name(at)))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let here = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            if strict(key) {
                return Some(name(at));
            }
            find_in(item, &here)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_holding_a_control_character_is_named() {
        assert_eq!(
            bad_json_field(br#"{"username":"someone\u0000"}"#).as_deref(),
            Some("username")
        );
        assert_eq!(
            bad_json_field(br#"{"report":{"detail":"x","tags":["a","\u0001"]}}"#).as_deref(),
            Some("report.tags[1]")
        );
        assert_eq!(bad_json_field(br#"{"notes":"line one\nline two\ttab"}"#), None);
        assert_eq!(bad_json_field(br#"{"name":"caf\u00e9"}"#), None, "é is text");
        assert_eq!(bad_json_field(b"not json \\u0000"), None, "left to the handler");
        assert_eq!(
            bad_form_field(b"username=someone%00&password=x").as_deref(),
            Some("username")
        );
        assert_eq!(bad_form_field(b"notes=a%0Ab&x=%7F").as_deref(), Some("x"));
        assert_eq!(bad_form_field(b"name=caf%C3%A9&brief=line%0Aline"), None);
    }
}
