//! Readiness follows PostgreSQL going away and coming back, without a restart. The test runs
//! its own private cluster (scripts/lib/postgres.sh) so stopping it disturbs no other test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use app::db::DatabaseUrl;
use heimdall::config::Config;
use heimdall::startup::Application;

struct PrivateCluster {
    dir: tempfile::TempDir,
    port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/postgres.sh")
}

impl PrivateCluster {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = Self { dir, port };
        cluster.run("start");
        cluster
    }

    fn run(&self, action: &str) {
        let mut cmd = Command::new("bash");
        cmd.arg(script()).arg(action).arg(self.dir.path());
        if action == "start" {
            cmd.arg(self.port.to_string());
        }
        let out = cmd.output().expect("run postgres.sh");
        assert!(
            out.status.success(),
            "postgres.sh {action} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.run("stop");
    }
}

async fn readyz(client: &reqwest::Client, base: &str) -> (u16, serde_json::Value) {
    let response = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

/// Readiness is re-checked on every call; give the pool a few tries to reconnect.
async fn eventually(client: &reqwest::Client, base: &str, want: u16) -> (u16, serde_json::Value) {
    let mut last = readyz(client, base).await;
    for _ in 0..40 {
        if last.0 == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        last = readyz(client, base).await;
    }
    last
}

#[tokio::test]
async fn readyz_turns_503_while_postgres_is_down_and_200_when_it_returns() {
    let cluster = PrivateCluster::start();
    let mut config = Config::default();
    config.database.url = DatabaseUrl::parse(&cluster.url()).expect("url");
    config.database.acquire_timeout_secs = 2;
    config.kubernetes.enabled = false;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let app = Application::build_with_listener(&config, listener)
        .await
        .expect("build");
    let base = format!("http://{}", app.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();

    assert_eq!(readyz(&client, &base).await.0, 200);

    cluster.run("stop");
    let (status, body) = eventually(&client, &base, 503).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("database (postgresql) unreachable")),
        "{body}"
    );

    cluster.run("start");
    let (status, body) = eventually(&client, &base, 200).await;
    assert_eq!(status, 200, "{body}");

    let _ = tx.send(());
    server.await.expect("join").expect("clean stop");
}
