//! What the home page counts for one person, from each domain's own checked reads (never a
//! query of its own): what waits for them, what is broken, what moved lately. A bounded number
//! of reads whatever the size: two of pipelines, two of the catalog, the Flink list in memory.

use chrono::{Duration, Utc};

use super::model::{Home, HomeTone, RecentItem, Tile};
use crate::error::AppError;
use crate::identity::{Permission, Principal};
use crate::pipelines::PipelineStatus;

/// How far back "failed lately" looks.
const LATELY_DAYS: i64 = 7;
/// The newest pipelines the home page lists.
const RECENT: usize = 6;
/// The pipelines read to count from: the list page's own cap.
const PIPELINES_READ: i64 = 1000;

/// The domains the home page reads.
pub struct Sources<'a> {
    pub pipelines: &'a crate::pipelines::PipelineService,
    pub catalog: &'a crate::catalog::CatalogService,
    pub flink: &'a crate::flink::FlinkService,
}

fn tone(count: usize, when_some: HomeTone) -> HomeTone {
    if count == 0 { HomeTone::Quiet } else { when_some }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Sources<'_> {
    pub async fn home(&self, principal: &Principal) -> Result<Home, AppError> {
        principal.authorize(Permission::Read)?;
        let since = Utc::now() - Duration::days(LATELY_DAYS);
        let me = principal.actor_id();
        let (waiting, pipelines, actions) = tokio::join!(
            self.pipelines.waiting_count(principal),
            self.pipelines.list(principal, None, PIPELINES_READ),
            self.catalog.actions_of_requester(principal, since),
        );
        let (waiting, pipelines, actions) = (waiting?, pipelines?, actions?);

        let under_way = |s: Option<PipelineStatus>| {
            matches!(
                s,
                Some(PipelineStatus::Queued | PipelineStatus::Running | PipelineStatus::NeedsApproval | PipelineStatus::Paused)
            )
        };
        // All of the caller's, as the list it opens (`?mine=1`) shows them; how many are under way
        // colours it and says so.
        let mine: Vec<_> = pipelines
            .iter()
            .filter(|p| me.is_some() && p.requested_by_id == me)
            .collect();
        let mine_under_way = mine.iter().filter(|p| under_way(p.status())).count();
        let failed_lately = pipelines
            .iter()
            .filter(|p| p.status() == Some(PipelineStatus::Failed) && p.updated_at >= since)
            .count();
        let actions_open: Vec<_> = actions.iter().filter(|a| crate::catalog::action_is_open(&a.status)).collect();
        let actions_failed: Vec<_> = actions
            .iter()
            .filter(|a| matches!(a.status.as_str(), "failed" | "timed_out" | "rejected"))
            .collect();
        // One action leads to its service; several to the catalog.
        let action_href = |list: &[&crate::catalog::ActionRecord]| match list {
            [one] => format!("/catalog/{}", one.service_id),
            _ => "/catalog".to_owned(),
        };
        let action_detail = |list: &[&crate::catalog::ActionRecord]| {
            list.first().map(|a| {
                let place = a.environment.as_deref().map(|e| format!(" to {e}")).unwrap_or_default();
                format!("newest: {}{place} · {}", a.action.as_str(), a.status.replace('_', " "))
            })
        };

        let mut needs_you = vec![Tile {
            key: "approvals".into(),
            label: "Waiting for your approval".into(),
            count: count(waiting),
            tone: tone(waiting, HomeTone::Danger),
            href: "/pipelines?waiting=1".into(),
            detail: None,
        }];
        if me.is_some() {
            needs_you.push(Tile {
                key: "my-pipelines".into(),
                label: "Your pipelines".into(),
                count: count(mine.len()),
                tone: tone(mine_under_way, HomeTone::Info),
                href: "/pipelines?mine=1".into(),
                detail: (mine_under_way > 0).then(|| format!("{mine_under_way} under way")),
            });
            needs_you.push(Tile {
                key: "my-actions".into(),
                label: "Your catalog actions under way".into(),
                count: count(actions_open.len()),
                tone: tone(actions_open.len(), HomeTone::Info),
                href: action_href(&actions_open),
                detail: action_detail(&actions_open),
            });
            needs_you.push(Tile {
                key: "my-actions-failed".into(),
                label: format!("Your catalog actions that failed ({LATELY_DAYS} days)"),
                count: count(actions_failed.len()),
                tone: tone(actions_failed.len(), HomeTone::Danger),
                href: action_href(&actions_failed),
                detail: action_detail(&actions_failed),
            });
        }

        let mut broken = Vec::new();
        let feed = self.flink.feed_status();
        if !feed.off {
            let failed = self
                .flink
                .view_of(
                    principal,
                    &crate::flink::JobQuery {
                        status: "FAILED".into(),
                        ..Default::default()
                    },
                )
                .await?;
            broken.push(Tile {
                key: "flink-failed".into(),
                label: "Flink jobs failed".into(),
                count: count(failed.matched),
                tone: tone(failed.matched, HomeTone::Danger),
                href: "/flink?status=FAILED".into(),
                detail: failed.jobs.first().map(|j| match j.error.as_deref().and_then(|e| e.lines().next()) {
                    Some(why) => format!("{}: {}", j.display_name, cut(why, 120)),
                    None => j.display_name.clone(),
                }),
            });
            if let Some(problem) = feed.problem {
                broken.push(Tile {
                    key: "flink-sync".into(),
                    label: "Flink list not in sync with Kubernetes".into(),
                    count: 1,
                    tone: HomeTone::Warning,
                    href: "/flink".into(),
                    detail: Some(cut(&problem, 160)),
                });
            }
        }
        broken.push(Tile {
            key: "pipelines-failed".into(),
            label: format!("Pipelines failed ({LATELY_DAYS} days)"),
            count: count(failed_lately),
            tone: tone(failed_lately, HomeTone::Danger),
            href: "/pipelines?status=failed".into(),
            detail: None,
        });

        let mut newest = pipelines;
        newest.sort_by_key(|p| std::cmp::Reverse(p.updated_at));
        let recent = newest
            .into_iter()
            .take(RECENT)
            .map(|p| RecentItem {
                label: p.slug.clone(),
                status: p.status().map_or("unknown", PipelineStatus::as_str).replace('_', " "),
                href: format!("/pipelines/{}", p.id),
                at: p.updated_at,
            })
            .collect();
        Ok(Home {
            needs_you,
            broken,
            recent,
        })
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_reasons_are_cut_with_an_ellipsis() {
        assert_eq!(super::cut("short", 10), "short");
        assert_eq!(super::cut("abcdefghijkl", 5), "abcd…");
    }
}
