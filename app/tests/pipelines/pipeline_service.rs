//! The pipeline service's rules with real principals over a real database: who may see a
//! pipeline, who may decide its gates, notes on a rejection, the state machine's refusals.

use app::audit::{Audit, AuditFilter};
use app::db::testing::fresh_database;
use app::identity::store::{IdentityStore, NewUser};
use app::identity::{Actor, Principal, Role, Via};
use app::pipelines::{
    ArtifactRow, CreatePipeline, Decided, Decision, GateAction, PipelineError, PipelineService,
    PipelineSettings, PipelineStore,
};
use app::request::RequestMeta;

struct World {
    service: PipelineService,
    store: PipelineStore,
    audit: Audit,
    tenant: i64,
    requester: Principal,
    approver: Principal,
    viewer: Principal,
    outsider: Principal,
    admin: Principal,
}

async fn world() -> (World, app::db::testing::TestDatabase) {
    let t = fresh_database().await;
    let identity = IdentityStore::new(t.db.clone());
    let alpha = identity.insert_tenant("alpha", "Alpha").await.expect("tenant").id;
    let beta = identity.insert_tenant("beta", "Beta").await.expect("tenant").id;
    let person = |name: &'static str, role: Role, tenants: Vec<i64>| {
        let identity = identity.clone();
        async move {
            let row = identity
                .insert_user(&NewUser {
                    username: name.into(),
                    email: None,
                    display_name: name.into(),
                    password_hash: None,
                    role,
                })
                .await
                .expect("user");
            Principal {
                actor: Some(Actor {
                    id: Some(row.id),
                    username: name.into(),
                    role,
                }),
                tenant_ids: tenants,
                via: Via::Cookie { session_id: 1 },
                auth_enabled: true,
            }
        }
    };
    let requester = person("rita", Role::Developer, vec![alpha]).await;
    let approver = person("arno", Role::Developer, vec![alpha]).await;
    let viewer = person("vic", Role::Viewer, vec![alpha]).await;
    let outsider = person("otto", Role::Developer, vec![beta]).await;
    let admin = person("ada", Role::Admin, vec![]).await;
    let store = PipelineStore::new(t.db.clone());
    let audit = Audit::new(t.db.clone());
    let service = PipelineService::new(store.clone(), audit.clone(), PipelineSettings::default());
    (
        World {
            service,
            store,
            audit,
            tenant: alpha,
            requester,
            approver,
            viewer,
            outsider,
            admin,
        },
        t,
    )
}

/// Rita's pipeline `build → deploy`, gated at `deploy`, waiting there.
async fn at_gate(w: &World) -> String {
    let id = w
        .service
        .create(
            &w.requester,
            CreatePipeline {
                slug: "release-42".into(),
                intent: "ship".into(),
                tenant_id: Some(w.tenant),
                stages: Some(vec!["build".into(), "deploy".into()]),
                // Notes required: the rejection below must say why.
                gates: [(
                    "deploy".to_owned(),
                    app::pipelines::GateConfig {
                        notes_required: true,
                        ..Default::default()
                    },
                )]
                .into(),
                params: serde_json::json!({ "version": "42" }),
            },
        )
        .await
        .expect("create");
    // A worker (Rita's own automation) runs `build` and reports it.
    let running = w.service.claim(&w.requester, &id).await.expect("claim");
    assert_eq!(
        (running.status.as_str(), running.stage.as_str()),
        ("running", "build")
    );
    let built = ArtifactRow {
        stage: "build".into(),
        name: "image".into(),
        uri: "registry.example.com/app:42".into(),
        size_bytes: Some(1024),
        sha256: None,
        created_at: chrono::Utc::now(),
    };
    let waiting = w
        .service
        .report(&w.requester, &id, "build", true, &[built])
        .await
        .expect("report");
    assert_eq!(
        (waiting.status.as_str(), waiting.stage.as_str()),
        ("needs_approval", "deploy")
    );
    id
}

fn action(notes: Option<&str>) -> GateAction {
    GateAction {
        stage: "deploy".into(),
        notes: notes.map(str::to_owned),
        patch: None,
    }
}

fn meta() -> RequestMeta {
    RequestMeta {
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
        host: None,
    }
}

#[tokio::test]
async fn only_an_allowed_other_person_decides_and_only_once() {
    let (w, _t) = world().await;
    let id = at_gate(&w).await;
    let decide = |who: &Principal, decision: Decision, notes: Option<&'static str>| {
        let (service, who, id) = (w.service.clone(), who.clone(), id.clone());
        async move { service.decide(&who, &meta(), &id, decision, &action(notes)).await }
    };
    assert!(
        matches!(
            decide(&w.viewer, Decision::Approved, None).await,
            Err(PipelineError::Access(_))
        ),
        "viewers watch"
    );
    assert!(
        matches!(
            decide(&w.outsider, Decision::Approved, None).await,
            Err(PipelineError::NotFound(_))
        ),
        "another tenant's pipeline does not exist for them"
    );
    match decide(&w.requester, Decision::Approved, None).await {
        Err(PipelineError::Access(e)) => assert_eq!(
            e.to_string(),
            "you requested this pipeline: someone else approves it"
        ),
        other => panic!("self-approval: {other:?}"),
    }
    match decide(&w.approver, Decision::Rejected, Some("  ")).await {
        Err(PipelineError::Invalid(e)) => assert_eq!(e.field, "notes"),
        other => panic!("a rejection needs notes: {other:?}"),
    }
    assert_eq!(
        decide(&w.approver, Decision::Approved, None)
            .await
            .expect("decided"),
        Decided::Final
    );
    match decide(&w.admin, Decision::Rejected, Some("too late")).await {
        Err(PipelineError::Conflict(m)) => {
            assert!(m.starts_with("already decided by arno at "), "{m}");
            assert!(m.ends_with(": approved"), "{m}");
        }
        other => panic!("the second decision is refused, naming the first: {other:?}"),
    }
    let pipeline = w.service.get(&w.admin, &id).await.expect("admins see all");
    assert_eq!(pipeline.status, "running");
    let gate = w.store.gate(&id, "deploy").await.expect("read").expect("gate");
    assert_eq!(gate.decision().expect("decided").by, "arno");
    let audited = w
        .audit
        .list(&AuditFilter {
            action: "pipeline.gate.decided".into(),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].actor, "arno");
}

#[tokio::test]
async fn a_rejection_with_notes_pauses_resume_runs_and_an_ended_pipeline_stays_ended() {
    let (w, _t) = world().await;
    let id = at_gate(&w).await;
    let reject = GateAction {
        stage: "deploy".into(),
        notes: Some("wrong image tag".into()),
        patch: Some(serde_json::json!([{ "op": "replace", "path": "/version", "value": "43" }])),
    };
    w.service
        .decide(&w.approver, &meta(), &id, Decision::Rejected, &reject)
        .await
        .expect("reject");
    assert_eq!(
        w.service
            .get(&w.viewer, &id)
            .await
            .expect("members see it")
            .status,
        "paused"
    );
    let gate = w.store.gate(&id, "deploy").await.expect("read").expect("gate");
    assert_eq!(gate.notes.as_deref(), Some("wrong image tag"));
    assert!(gate.patch.as_deref().is_some_and(|p| p.contains("/version")));
    assert_eq!(
        w.service.resume(&w.approver, &id).await.expect("resume"),
        1,
        "one patch applied"
    );
    let resumed = w.service.get(&w.approver, &id).await.expect("get");
    assert_eq!(
        (resumed.status.as_str(), resumed.stage.as_str()),
        ("running", "deploy")
    );
    let params: serde_json::Value = serde_json::from_str(&resumed.params).expect("json");
    assert_eq!(
        params["version"], "43",
        "the rejection's patch was applied on resume"
    );
    match w.service.resume(&w.approver, &id).await {
        Err(PipelineError::Illegal(e)) => assert_eq!(
            e.to_string(),
            "cannot resume a pipeline that is running: only a paused pipeline resumes"
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.service.cancel(&w.viewer, &id).await,
        Err(PipelineError::Access(_))
    ));
    w.service.cancel(&w.requester, &id).await.expect("cancel");
    match w.service.cancel(&w.admin, &id).await {
        Err(PipelineError::Illegal(e)) => assert_eq!(e.reason, "it has ended"),
        other => panic!("{other:?}"),
    }
    let kinds: Vec<String> = w
        .store
        .events(&id, 0, 100)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "job_created",
            "stage_started",
            "gate_opened",
            "gate_rejected",
            "job_resumed",
            "job_canceled"
        ]
    );
}

#[tokio::test]
async fn creating_needs_a_tenant_of_ones_own_and_sensible_gates() {
    let (w, _t) = world().await;
    let request = |tenant: Option<i64>| CreatePipeline {
        slug: "x".into(),
        intent: String::new(),
        tenant_id: tenant,
        ..Default::default()
    };
    // No tenant named: the caller's only one.
    let defaulted = w
        .service
        .create(&w.requester, request(None))
        .await
        .expect("create");
    assert_eq!(
        w.service
            .get(&w.requester, &defaulted)
            .await
            .expect("get")
            .tenant_id,
        Some(w.tenant)
    );
    assert!(matches!(
        w.service.create(&w.outsider, request(Some(w.tenant))).await,
        Err(PipelineError::Access(_))
    ));
    assert!(matches!(
        w.service.create(&w.viewer, request(Some(w.tenant))).await,
        Err(PipelineError::Access(_))
    ));
    let unknown_gate = CreatePipeline {
        gates: [("nowhere".to_owned(), Default::default())].into(),
        ..request(Some(w.tenant))
    };
    match w.service.create(&w.requester, unknown_gate).await {
        Err(PipelineError::Invalid(e)) => assert_eq!(e.field, "gates"),
        other => panic!("{other:?}"),
    }
    // The seed's stages and gates by default.
    let id = w
        .service
        .create(&w.admin, request(Some(w.tenant)))
        .await
        .expect("admins create anywhere");
    let gates: Vec<String> = w
        .store
        .gates(&id)
        .await
        .expect("gates")
        .into_iter()
        .filter(|g| g.required)
        .map(|g| g.stage)
        .collect();
    assert_eq!(
        gates,
        ["assets", "audio", "script", "storyboard"],
        "the seed's required gates"
    );
    assert_eq!(w.service.get(&w.admin, &id).await.expect("get").stage, "outline");
}

#[tokio::test]
async fn a_worker_runs_the_stages_through_the_gate_to_completion() {
    let (w, _t) = world().await;
    let id = at_gate(&w).await;
    // Nothing runs past a closed gate.
    assert!(matches!(
        w.service.report(&w.requester, &id, "deploy", true, &[]).await,
        Err(PipelineError::Illegal(_))
    ));
    w.service
        .decide(&w.approver, &meta(), &id, Decision::Approved, &action(None))
        .await
        .expect("approve");
    let running = w.service.get(&w.requester, &id).await.expect("get");
    assert_eq!(
        (running.status.as_str(), running.stage.as_str()),
        ("running", "deploy")
    );
    // A report for a stage that is not the running one is refused.
    assert!(matches!(
        w.service.report(&w.requester, &id, "build", true, &[]).await,
        Err(PipelineError::Conflict(_))
    ));
    let done = w
        .service
        .report(&w.requester, &id, "deploy", true, &[])
        .await
        .expect("report");
    assert_eq!(done.status, "completed");
    let artifacts = w.store.artifacts(&id).await.expect("artifacts");
    assert_eq!(artifacts.len(), 1);
    assert_eq!(artifacts[0].uri, "registry.example.com/app:42");
    assert!(
        matches!(
            w.service.claim(&w.requester, &id).await,
            Err(PipelineError::Illegal(_))
        ),
        "it has ended"
    );
    // A failed stage ends a pipeline.
    let other = at_gate(&w).await;
    w.service
        .decide(&w.approver, &meta(), &other, Decision::Approved, &action(None))
        .await
        .expect("approve");
    assert_eq!(
        w.service
            .report(&w.requester, &other, "deploy", false, &[])
            .await
            .expect("report")
            .status,
        "failed"
    );
    let listed: Vec<String> = w
        .service
        .list(&w.viewer, None, 100)
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(
        w.service
            .list(&w.outsider, None, 100)
            .await
            .expect("list")
            .is_empty(),
        "another tenant sees none"
    );
}
