//! Gate decisions against the backend `HEIMDALL_TEST_DATABASE` selects (the test command runs
//! this on SQLite and on PostgreSQL): two people deciding at once resolve to exactly one
//! decision, a hundred times over; several-approver gates count distinct people; a decision
//! lands whole (gate, status, event, audit entry) or not at all.

use app::audit::{Audit, AuditAction, AuditEvent, AuditFilter};
use app::db::testing::fresh_database;
use app::identity::Role;
use app::identity::store::{IdentityStore, NewUser};
use app::pipelines::{
    Decide, DecideError, Decided, Decision, GateConfig, NewEvent, NewPipeline, PipelineStatus, PipelineStore,
};

fn event(kind: &'static str) -> NewEvent<'static> {
    NewEvent {
        kind,
        stage: Some("deploy"),
        status: None,
        message: "",
        payload: serde_json::json!({}),
    }
}

/// A pipeline `build → deploy` waiting at the `deploy` gate.
async fn waiting(store: &PipelineStore, id: &str, gate: GateConfig) {
    let stages = ["build".to_owned(), "deploy".to_owned()];
    store
        .create(&NewPipeline {
            id,
            slug: "release",
            intent: "ship",
            tenant_id: None,
            stages: &stages,
            params: &serde_json::json!({}),
            requested_by_id: None,
            requested_by: "ci",
            gates: &[("deploy".to_owned(), gate)],
        })
        .await
        .expect("create");
    use PipelineStatus as S;
    assert!(
        store
            .transition(id, S::Queued, S::Running, "build", &event("stage_started"))
            .await
            .expect("start")
    );
    assert!(
        store
            .transition(id, S::Running, S::NeedsApproval, "deploy", &event("gate_opened"))
            .await
            .expect("gate")
    );
}

fn decide<'a>(id: &'a str, by: &'a str, by_id: Option<i64>, decision: Decision, need: u32) -> Decide<'a> {
    Decide {
        pipeline_id: id,
        stage: "deploy",
        decision,
        by_id,
        by,
        notes: (decision == Decision::Rejected).then_some("not today"),
        patch: None,
        automatic: false,
        from: PipelineStatus::NeedsApproval,
        at_stage: "deploy",
        to: Some(if decision == Decision::Approved {
            PipelineStatus::Running
        } else {
            PipelineStatus::Paused
        }),
        approvals_needed: need,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_people_deciding_at_once_resolve_to_exactly_one_decision_a_hundred_times() {
    let t = fresh_database().await;
    let store = PipelineStore::new(t.db.clone());
    let audit = Audit::new(t.db.clone());
    for round in 0..100 {
        let id = format!("pipeline-{round}");
        waiting(&store, &id, GateConfig::default()).await;
        // Alice approves while Bob rejects (or approves too, every other round).
        let bob_says = if round % 2 == 0 {
            Decision::Rejected
        } else {
            Decision::Approved
        };
        let run = |who: &'static str, decision: Decision| {
            let (store, audit, id) = (store.clone(), audit.clone(), id.clone());
            tokio::spawn(async move {
                let entry = AuditEvent::success(AuditAction::PipelineGateDecided)
                    .by(None, who)
                    .target(&id);
                store
                    .decide(
                        &decide(&id, who, None, decision, 1),
                        &event("gate_decided"),
                        &audit,
                        &entry,
                    )
                    .await
            })
        };
        let (alice, bob) = tokio::join!(run("alice", Decision::Approved), run("bob", bob_says));
        let (alice, bob) = (alice.expect("task"), bob.expect("task"));
        let (winner, loser, won_with) = match (&alice, &bob) {
            (Ok(Decided::Final), Err(_)) => ("alice", bob, Decision::Approved),
            (Err(_), Ok(Decided::Final)) => ("bob", alice, bob_says),
            other => panic!("round {round}: expected exactly one decision, got {other:?}"),
        };
        match loser {
            Err(DecideError::AlreadyDecided { by, decision, .. }) => {
                assert_eq!((by.as_str(), decision), (winner, won_with), "round {round}");
            }
            other => panic!("round {round}: the loser hears who decided, got {other:?}"),
        }
        let gate = store.gate(&id, "deploy").await.expect("read").expect("gate");
        let done = gate.decision().expect("decided");
        assert_eq!((done.by.as_str(), done.decision), (winner, won_with));
        let pipeline = store.get(&id).await.expect("read").expect("pipeline");
        let expected = if won_with == Decision::Approved {
            "running"
        } else {
            "paused"
        };
        assert_eq!(pipeline.status, expected, "round {round}");
        let decided_events = store
            .events(&id, 0, 100)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| e.kind == "gate_decided")
            .count();
        assert_eq!(decided_events, 1, "round {round}: one event for one decision");
    }
    let audited = audit
        .list(&AuditFilter {
            action: "pipeline.gate.decided".into(),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(
        audited.len(),
        100,
        "one audit entry per decision, none for the losers"
    );
}

#[tokio::test]
async fn a_gate_that_wants_two_people_counts_distinct_people() {
    let t = fresh_database().await;
    let store = PipelineStore::new(t.db.clone());
    let audit = Audit::new(t.db.clone());
    let identity = IdentityStore::new(t.db.clone());
    let mut ids = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let user = identity
            .insert_user(&NewUser {
                username: name.into(),
                email: None,
                display_name: name.into(),
                password_hash: None,
                role: Role::Developer,
            })
            .await
            .expect("user");
        ids.push(user.id);
    }
    waiting(
        &store,
        "two-people",
        GateConfig {
            approvals_needed: 2,
            ..GateConfig::default()
        },
    )
    .await;
    let entry = AuditEvent::success(AuditAction::PipelineGateDecided);
    let approve = |name: &'static str, id: i64| {
        let (store, audit, entry) = (store.clone(), audit.clone(), entry.clone());
        async move {
            store
                .decide(
                    &decide("two-people", name, Some(id), Decision::Approved, 2),
                    &event("gate_decided"),
                    &audit,
                    &entry,
                )
                .await
        }
    };
    assert_eq!(
        approve("alice", ids[0]).await.expect("first"),
        Decided::Approval { have: 1, need: 2 }
    );
    assert!(
        matches!(approve("alice", ids[0]).await, Err(DecideError::AlreadyApproved)),
        "once per person"
    );
    let pipeline = store.get("two-people").await.expect("read").expect("pipeline");
    assert_eq!(
        pipeline.status, "needs_approval",
        "one approval of two does not move it"
    );
    assert_eq!(approve("bob", ids[1]).await.expect("second"), Decided::Final);
    match approve("carol", ids[2]).await {
        Err(DecideError::AlreadyDecided { by, .. }) => assert_eq!(by, "bob"),
        other => panic!("carol is too late: {other:?}"),
    }
    assert_eq!(
        store.approvals("two-people", "deploy").await.expect("read"),
        ["alice", "bob"]
    );
    assert_eq!(
        store.get("two-people").await.expect("read").expect("p").status,
        "running"
    );
}

#[tokio::test]
async fn a_decision_on_a_pipeline_that_is_not_waiting_changes_nothing() {
    let t = fresh_database().await;
    let store = PipelineStore::new(t.db.clone());
    let audit = Audit::new(t.db.clone());
    waiting(&store, "moved-on", GateConfig::default()).await;
    use PipelineStatus as S;
    assert!(
        store
            .transition(
                "moved-on",
                S::NeedsApproval,
                S::Canceled,
                "deploy",
                &event("job_canceled")
            )
            .await
            .expect("cancel")
    );
    let entry = AuditEvent::success(AuditAction::PipelineGateDecided);
    match store
        .decide(
            &decide("moved-on", "alice", None, Decision::Approved, 1),
            &event("gate_decided"),
            &audit,
            &entry,
        )
        .await
    {
        Err(DecideError::NotWaiting(status)) => assert_eq!(status, "canceled"),
        other => panic!("expected NotWaiting, got {other:?}"),
    }
    let gate = store
        .gate("moved-on", "deploy")
        .await
        .expect("read")
        .expect("gate");
    assert!(
        gate.decision().is_none(),
        "the gate's decision rolled back with the refused status change"
    );
    assert!(
        audit
            .list(&AuditFilter::default())
            .await
            .expect("audit")
            .is_empty(),
        "and its audit entry"
    );
    assert!(matches!(
        store
            .decide(
                &decide("nope", "alice", None, Decision::Approved, 1),
                &event("gate_decided"),
                &audit,
                &entry
            )
            .await,
        Err(DecideError::NotFound)
    ));
    // A status transition from a status the pipeline is not in is refused, not applied.
    assert!(
        !store
            .transition("moved-on", S::Running, S::Completed, "deploy", &event("x"))
            .await
            .expect("read")
    );
}

#[tokio::test]
async fn retention_keeps_the_newest_events_of_each_pipeline_and_drops_old_ones() {
    let t = fresh_database().await;
    let store = PipelineStore::new(t.db.clone());
    for id in ["a", "b"] {
        waiting(&store, id, GateConfig::default()).await;
    }
    // Each has three events: created, started, gate opened.
    let far_past = chrono::Utc::now() - chrono::Duration::days(365);
    assert_eq!(
        store.prune_events(far_past, 2).await.expect("prune"),
        2,
        "one beyond the newest two, each"
    );
    for id in ["a", "b"] {
        let kinds: Vec<String> = store
            .events(id, 0, 10)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["stage_started", "gate_opened"], "the newest kept");
    }
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    assert_eq!(
        store.prune_events(tomorrow, 1000).await.expect("prune"),
        4,
        "all older than the cut-off"
    );
}
