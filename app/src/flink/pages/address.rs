//! The page's state in its address — filters, sort, view, page and the open job (replacing
//! the history entry, so the back button leaves the page) — and how jobs sort.

use super::*;

/// Sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SortKey {
    Name,
    Namespace,
    Status,
    Resources,
    Started,
}

impl SortKey {
    pub(super) fn parse(s: &str) -> Self {
        match s {
            "namespace" => Self::Namespace,
            "status" => Self::Status,
            "resources" => Self::Resources,
            "started" => Self::Started,
            _ => Self::Name,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Namespace => "namespace",
            Self::Status => "status",
            Self::Resources => "resources",
            Self::Started => "started",
        }
    }
}

/// Orders two jobs by `key`, ascending; a missing start time sorts last either way (the seed's
/// numeric sort was inverted and put missing values first on descending).
pub(super) fn compare(a: &FlinkJob, b: &FlinkJob, key: SortKey, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let flip = |o: Ordering| if descending { o.reverse() } else { o };
    let tie = || (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name));
    match key {
        SortKey::Name => flip(
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then_with(tie),
        ),
        SortKey::Namespace => flip(a.namespace.cmp(&b.namespace).then_with(tie)),
        SortKey::Status => flip(a.status.cmp(&b.status).then_with(tie)),
        SortKey::Resources => flip(
            a.resources
                .total_replicas()
                .cmp(&b.resources.total_replicas())
                .then_with(tie),
        ),
        SortKey::Started => match (a.start_time, b.start_time) {
            (Some(x), Some(y)) => flip(x.cmp(&y).then_with(tie)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => tie(),
        },
    }
}

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
