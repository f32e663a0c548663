//! The audit page names what its entries are about: the log keeps ids (a service's number, a
//! pipeline's UUID and stage, tenant ids in a membership change) because names change and ids
//! do not; an admin reading it wants the names, and a link to the thing. Pure: the caller
//! reads the names in one statement per kind, whatever the page's length.

use std::collections::HashMap;

use crate::audit::AuditEntry;

/// The names the page's entries may need.
#[derive(Default)]
pub struct Names {
    pub tenants: HashMap<i64, String>,
    pub services: HashMap<i64, String>,
    pub pipelines: HashMap<String, String>,
}

/// The pipeline ids `entries` mention (a gate decision's target is `{pipeline}/{stage}`).
pub fn pipeline_ids(entries: &[AuditEntry]) -> Vec<&str> {
    let mut ids: Vec<&str> = entries
        .iter()
        .filter(|e| e.action.starts_with("pipeline."))
        .filter_map(|e| e.target.split_once('/').map(|(id, _)| id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Fills in each entry's `target_label` and `target_href`, and writes tenant ids in a
/// membership change's detail as slugs.
pub fn name(entries: &mut [AuditEntry], names: &Names) {
    for e in entries {
        let (label, href) = describe(e, names);
        e.target_label = label;
        e.target_href = href;
        if e.action == "membership.changed"
            && let Some(ids) = e.detail.strip_prefix("tenants [").and_then(|d| d.strip_suffix(']'))
        {
                let slugs: Vec<String> = ids
                    .split(',')
                    .filter_map(|id| id.trim().parse::<i64>().ok())
                    .map(|id| names.tenants.get(&id).cloned().unwrap_or_else(|| format!("#{id}")))
                    .collect();
                e.detail = if slugs.is_empty() {
                    "tenants: none".to_owned()
                } else {
                    format!("tenants: {}", slugs.join(", "))
                };
        }
    }
}

fn describe(e: &AuditEntry, names: &Names) -> (Option<String>, Option<String>) {
    let action = e.action.as_str();
    if e.target.is_empty() {
        return (None, None);
    }
    if action.starts_with("user.") || action == "membership.changed" {
        return (None, Some("/admin/users".into()));
    }
    if action.starts_with("tenant.") {
        return (None, Some("/admin/tenants".into()));
    }
    if action.starts_with("flink.") {
        return (None, Some(format!("/flink?job={}", e.target)));
    }
    if action.starts_with("pipeline.") {
        return match e.target.split_once('/') {
            Some((id, stage)) => (
                Some(match names.pipelines.get(id) {
                    Some(slug) => format!("{slug} · {stage}"),
                    None => format!("pipeline {id} · {stage}"),
                }),
                names.pipelines.contains_key(id).then(|| format!("/pipelines/{id}")),
            ),
            None => (None, None),
        };
    }
    // A service's number (its creation, change, deletion and the actions asked for on it).
    if matches!(
        action,
        "catalog.service.created" | "catalog.service.updated" | "catalog.service.deleted" | "catalog.action.requested"
    ) && let Ok(id) = e.target.parse::<i64>()
    {
        return match names.services.get(&id) {
            Some(name) => (Some(name.clone()), Some(format!("/catalog/{id}"))),
            None => (Some(format!("service #{id} (deleted)")), None),
        };
    }
    if action == "catalog.action.reported" {
        return (Some(format!("action #{}", e.target)), None);
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, target: &str, detail: &str) -> AuditEntry {
        AuditEntry {
            id: 1,
            actor_id: None,
            actor: "admin".into(),
            action: action.into(),
            target: target.into(),
            target_label: None,
            target_href: None,
            outcome: crate::audit::Outcome::Success,
            ip: String::new(),
            detail: detail.into(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn ids_become_names_with_links_and_unknown_ones_say_so() {
        let names = Names {
            tenants: HashMap::from([(1, "alpha".to_owned()), (3, "beta".to_owned())]),
            services: HashMap::from([(7, "checkout".to_owned())]),
            pipelines: HashMap::from([("9f1c".to_owned(), "episode-3".to_owned())]),
        };
        let mut entries = vec![
            entry("membership.changed", "rita", "tenants [1, 3, 4]"),
            entry("membership.changed", "otto", "tenants []"),
            entry("catalog.service.updated", "7", "checkout"),
            entry("catalog.service.deleted", "8", "old"),
            entry("pipeline.gate.decided", "9f1c/script", "approved"),
            entry("pipeline.gate.decided", "0000/deploy", "approved"),
            entry("flink.job.suspended", "flink/orders", ""),
            entry("login.password", "rita", ""),
        ];
        name(&mut entries, &names);
        let got: Vec<(Option<&str>, Option<&str>, &str)> = entries
            .iter()
            .map(|e| (e.target_label.as_deref(), e.target_href.as_deref(), e.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (None, Some("/admin/users"), "tenants: alpha, beta, #4"),
                (None, Some("/admin/users"), "tenants: none"),
                (Some("checkout"), Some("/catalog/7"), "checkout"),
                (Some("service #8 (deleted)"), None, "old"),
                (Some("episode-3 · script"), Some("/pipelines/9f1c"), "approved"),
                (Some("pipeline 0000 · deploy"), None, "approved"),
                (None, Some("/flink?job=flink/orders"), ""),
                (None, None, ""),
            ]
        );
        assert_eq!(pipeline_ids(&entries), ["0000", "9f1c"]);
    }
}
