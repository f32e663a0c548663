//! Display-name and endpoint patterns (the seeds' `patterns.display-name` and
//! `endpoint-path-patterns.*`): `$jobName`, `$namespace` and `$metadata.<label>` are replaced;
//! an endpoint whose pattern is empty gives no link.

use std::collections::BTreeMap;

use super::model::JobLink;

/// The four endpoints both seeds know, in the order the page shows them, with their titles.
const KNOWN_ENDPOINTS: [(&str, &str); 4] = [
    ("flink-ui", "Flink UI"),
    ("flink-api", "Flink API"),
    ("metrics", "Metrics"),
    ("logs", "Logs"),
];

/// The configured patterns, keys normalised (`FLINK_UI`, `flink_ui` and `flink-ui` are one key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns {
    pub display_name: String,
    /// `(key, pattern)`: the known endpoints first, then custom keys alphabetically.
    endpoints: Vec<(String, String)>,
}

impl Default for Patterns {
    fn default() -> Self {
        Self::new(&BTreeMap::new(), &BTreeMap::new())
    }
}

/// `FLINK_UI`, `flink_ui` → `flink-ui`.
pub fn normalise_key(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('_', "-")
}

impl Patterns {
    /// From the configuration's maps (any key spelling); the display name defaults to `$jobName`.
    pub fn new(patterns: &BTreeMap<String, String>, endpoints: &BTreeMap<String, String>) -> Self {
        let display_name = patterns
            .iter()
            .find(|(k, _)| normalise_key(k) == "display-name")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "$jobName".to_owned());
        let mut normalised: BTreeMap<String, String> = endpoints
            .iter()
            .map(|(k, v)| (normalise_key(k), v.trim().to_owned()))
            .collect();
        let mut ordered = Vec::new();
        for (key, _) in KNOWN_ENDPOINTS {
            if let Some(pattern) = normalised.remove(key) {
                ordered.push((key.to_owned(), pattern));
            }
        }
        ordered.extend(normalised);
        Self {
            display_name,
            endpoints: ordered,
        }
    }

    /// `{display-name: …}` as `/config` shows it.
    pub fn patterns_json(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("display-name".to_owned(), self.display_name.clone())])
    }

    /// `{flink-ui: …, …}` as `/config` shows it (empty patterns included: they say "hidden").
    pub fn endpoints_json(&self) -> BTreeMap<String, String> {
        self.endpoints.iter().cloned().collect()
    }

    pub fn display_name(&self, name: &str, namespace: &str, labels: &BTreeMap<String, String>) -> String {
        let text = substitute(&self.display_name, name, namespace, labels);
        let text = text.trim();
        if text.is_empty() {
            name.to_owned()
        } else {
            text.to_owned()
        }
    }

    pub fn links(&self, name: &str, namespace: &str, labels: &BTreeMap<String, String>) -> Vec<JobLink> {
        self.endpoints
            .iter()
            .filter(|(_, pattern)| !pattern.is_empty())
            .map(|(key, pattern)| JobLink {
                key: key.clone(),
                title: title_of(key),
                url: substitute(pattern, name, namespace, labels),
            })
            .collect()
    }
}

/// `flink-ui` → `Flink UI`; a custom `grafana-dashboard` → `Grafana Dashboard`.
fn title_of(key: &str) -> String {
    if let Some((_, title)) = KNOWN_ENDPOINTS.iter().find(|(k, _)| *k == key) {
        return (*title).to_owned();
    }
    key.split(['-', '.'])
        .filter(|w| !w.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Replaces the variables. A `$metadata.<label>` the job lacks becomes empty, so a pattern like
/// `$jobName ($metadata.team)` degrades to the name, not to a literal `$metadata.team`.
fn substitute(pattern: &str, name: &str, namespace: &str, labels: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(pattern.len() + name.len());
    let mut rest = pattern;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$jobName") {
            out.push_str(name);
            rest = after;
        } else if let Some(after) = tail.strip_prefix("$namespace") {
            out.push_str(namespace);
            rest = after;
        } else if let Some(after) = tail.strip_prefix("$metadata.") {
            // A label key: letters, digits, `-`, `_`, `.` and `/` (prefixed keys).
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
                .unwrap_or(after.len());
            let key = after[..end].trim_end_matches('.');
            if let Some(value) = labels.get(key) {
                out.push_str(value);
            }
            rest = &after[key.len()..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_display_name_defaults_to_the_job_name() {
        let p = Patterns::default();
        assert_eq!(p.display_name("orders", "flink", &map(&[])), "orders");
    }

    #[test]
    fn labels_fill_the_display_name_and_missing_ones_vanish() {
        let p = Patterns::new(&map(&[("DISPLAY_NAME", "$metadata.team / $jobName")]), &map(&[]));
        let labels = map(&[("team", "payments")]);
        assert_eq!(p.display_name("orders", "flink", &labels), "payments / orders");
        assert_eq!(p.display_name("orders", "flink", &map(&[])), "/ orders");
        // A label key with dots and a prefix.
        let p = Patterns::new(
            &map(&[("display-name", "$jobName ($metadata.app.kubernetes.io/part-of)")]),
            &map(&[]),
        );
        let labels = map(&[("app.kubernetes.io/part-of", "billing")]);
        assert_eq!(p.display_name("orders", "flink", &labels), "orders (billing)");
    }

    #[test]
    fn endpoint_links_follow_the_seeds_keys_and_hide_empty_patterns() {
        let p = Patterns::new(
            &map(&[]),
            &map(&[
                ("FLINK_UI", "https://flink.example.com/$namespace/$jobName/"),
                ("flink_api", ""),
                ("metrics", "https://grafana.example.com/d/flink?var-job=$jobName"),
                ("grafana-dashboard", "https://g.example.com/$metadata.team"),
            ]),
        );
        let links = p.links("orders", "prod", &map(&[("team", "payments")]));
        let shown: Vec<(&str, &str, &str)> = links
            .iter()
            .map(|l| (l.key.as_str(), l.title.as_str(), l.url.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("flink-ui", "Flink UI", "https://flink.example.com/prod/orders/"),
                (
                    "metrics",
                    "Metrics",
                    "https://grafana.example.com/d/flink?var-job=orders"
                ),
                (
                    "grafana-dashboard",
                    "Grafana Dashboard",
                    "https://g.example.com/payments"
                ),
            ]
        );
        // `/config` still lists the hidden one, empty, as the seeds do.
        assert_eq!(p.endpoints_json().get("flink-api").map(String::as_str), Some(""));
    }

    #[test]
    fn an_unknown_variable_is_left_as_written() {
        let p = Patterns::new(&map(&[("display-name", "$jobName costs $5")]), &map(&[]));
        assert_eq!(p.display_name("orders", "flink", &map(&[])), "orders costs $5");
    }
}
