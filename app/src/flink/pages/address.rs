//! The page's state in its address — filters, sort, view, page and the open job (replacing
//! the history entry, so the back button leaves the page). How jobs filter, sort and page is
//! the server's (`JobQuery::view`).

use super::*;

/// Reads and writes the page's URL query: every change replaces the history entry, so the
/// back button leaves the page instead of stepping through keystrokes.
#[derive(Clone, Copy)]
pub(super) struct UrlState {
    pub(super) query: Memo<leptos_router::params::ParamsMap>,
}

impl UrlState {
    pub(super) fn get(self, key: &'static str) -> String {
        self.query.with(|q| q.get(key).unwrap_or_default())
    }

    pub(super) fn set(self, changes: &[(&str, String)]) {
        let mut pairs: Vec<(String, String)> = self.query.with_untracked(|q| {
            q.into_iter()
                .map(|(k, v)| (k.to_string(), v.to_owned()))
                .collect()
        });
        for (key, value) in changes {
            pairs.retain(|(k, _)| k != key);
            if !value.is_empty() {
                pairs.push(((*key).to_owned(), value.clone()));
            }
        }
        let query: String = url_encode(&pairs);
        let navigate = use_navigate();
        let target = if query.is_empty() {
            "/flink".to_owned()
        } else {
            format!("/flink?{query}")
        };
        navigate(
            &target,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    }
}

pub(super) fn url_encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(super) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
