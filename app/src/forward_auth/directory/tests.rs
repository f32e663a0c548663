//! Tests of `directory.rs`.

use super::*;

fn labels(session: &str, user: Option<&str>) -> Option<Labels> {
    Some(Labels {
        session: session.into(),
        user: user.map(Into::into),
    })
}

#[test]
fn the_index_follows_puts_and_removes() {
    let mut index = Index::default();
    index.put("svc-a".into(), labels("s1", Some("alice")));
    assert_eq!(index.user("s1").as_deref(), Some("alice"));
    // Relabelled to another session: the old one is gone.
    index.put("svc-a".into(), labels("s2", Some("alice")));
    assert_eq!(index.user("s1"), None);
    assert_eq!(index.user("s2").as_deref(), Some("alice"));
    // The user label removed: the session is known but has no user.
    index.put("svc-a".into(), labels("s2", None));
    assert_eq!(index.user("s2"), None);
    // The session label removed (the watch's selector drops it).
    index.put("svc-a".into(), None);
    assert!(index.sessions.is_empty() && index.objects.is_empty());
    index.put("svc-a".into(), labels("s3", Some("alice")));
    index.remove("svc-a");
    assert_eq!(index.user("s3"), None);
    assert!(index.sessions.is_empty() && index.objects.is_empty());
}

#[test]
fn direct_reads_are_budgeted_per_second() {
    let start = Instant::now();
    let mut budget = (start, 0);
    let taken = (0..50)
        .filter(|_| take_from_budget(&mut budget, start, 20))
        .count();
    assert_eq!(taken, 20, "twenty in one second, then no more");
    assert!(!take_from_budget(
        &mut budget,
        start + Duration::from_millis(999),
        20
    ));
    assert!(
        take_from_budget(&mut budget, start + Duration::from_secs(1), 20),
        "a new second"
    );
}

#[test]
fn objects_that_disagree_on_the_user_give_none_and_empty_labels_are_no_user() {
    let mut index = Index::default();
    index.put("b".into(), labels("s", Some("bob")));
    index.put("a".into(), labels("s", None));
    assert_eq!(index.user("s").as_deref(), Some("bob"));
    index.put("a".into(), labels("s", Some("")));
    assert_eq!(
        index.user("s").as_deref(),
        Some("bob"),
        "an empty label hides nobody"
    );
    index.put("a".into(), labels("s", Some("  ")));
    assert_eq!(index.user("s").as_deref(), Some("bob"));
    index.put("a".into(), labels("s", Some("alice")));
    assert_eq!(index.user("s"), None, "alice and bob: refused");
    index.put("a".into(), labels("s", Some("bob")));
    assert_eq!(index.user("s").as_deref(), Some("bob"), "both say bob");
    index.remove("b");
    index.put("a".into(), labels("s", Some("")));
    assert_eq!(index.user("s"), None, "only an empty label: no user");
}

#[test]
fn a_service_and_a_pod_must_agree() {
    let owner = |services: &[&'static str], pods: &[&'static str]| {
        one_owner(services.iter().copied(), pods.iter().copied())
    };
    assert_eq!(
        owner(&["alice"], &["alice"]).map(|o| o.holder),
        Some(Holder::Service)
    );
    assert_eq!(owner(&[], &["alice"]).map(|o| o.holder), Some(Holder::Pod));
    assert_eq!(owner(&["alice"], &["mallory"]), None);
    assert_eq!(owner(&["alice", "mallory"], &[]), None);
    assert_eq!(owner(&[], &[]), None);
}
