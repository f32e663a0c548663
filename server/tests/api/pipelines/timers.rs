//! Gate timers: a timer pending when the server dies fires once after the restart (found from
//! the database). Replicas racing for one timer: `replicas::`.

use app::db::testing::TempDbFile;

use super::support::{approvals, decided, relaxed_config, timed_gate};
use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_timer_pending_when_the_server_dies_fires_once_after_the_restart() {
    let (config, file) = relaxed_config().await;
    let mut first = spawn_app_with(config.clone(), file).await;
    let (id, rita_user, _) = timed_gate(&first, 2).await;
    // Killed: its timers stop, no graceful shutdown runs.
    first.state.pipelines.store().bus().close();
    let task = first.handle.take().expect("server task");
    task.abort();
    // Gone once its task is: its hold on a SQLite file with it.
    let _ = task.await;
    let second = spawn_app_with(config, TempDbFile::default()).await;
    let rita = second.client_for(&rita_user).await;
    let event = decided(&second, &rita, &id).await;
    assert_eq!(event["payload"]["by"], "timer");
    assert_eq!(event["payload"]["automatic"], true);
    let gate = second
        .state
        .pipelines
        .store()
        .gate(&id, "deploy")
        .await
        .expect("read")
        .expect("gate");
    let decision = gate.decision().expect("decided");
    assert!(decision.automatic && decision.by == "timer");
    let opened = gate.opened_at.expect("opened");
    assert!(
        decision.at >= opened + chrono::Duration::seconds(2),
        "not before it was due"
    );
    assert_eq!(approvals(&second, &id).await, 1);
    drop(first);
}
