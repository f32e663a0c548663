//! `spawn_app()`: the real application on port 0 with a fresh database, and a client for it.

use std::net::SocketAddr;

use app::db::testing::{TempDbFile, fresh_database_url};
use heimdall::config::Config;
use heimdall::startup::{Application, BootstrapAdmin};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    pub state: app::state::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    pub handle: Option<JoinHandle<anyhow::Result<()>>>,
    _file: TempDbFile,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// Calls a server function the way the browser does (form-encoded POST).
    pub async fn server_fn(&self, name: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/_srv/{name}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .expect("request")
    }

    /// Asks the server to stop and waits for it.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.handle.take() {
            Some(handle) => handle.await.expect("server task"),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A configuration for tests: a fresh database, port 0, no cluster unless a test adds one.
pub async fn test_config() -> (Config, TempDbFile) {
    let (url, file) = fresh_database_url().await;
    let mut config = Config::default();
    config.database.url = url;
    config.server.port = 0;
    config.kubernetes.enabled = false;
    config.server.shutdown_timeout_secs = 5;
    (config, file)
}

pub async fn spawn_app() -> TestApp {
    let (config, file) = test_config().await;
    spawn_app_with(config, file).await
}

pub async fn spawn_app_with(config: Config, file: TempDbFile) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let mut app = Application::build_with_listener(&config, listener)
        .await
        .expect("application builds");
    let addr = app.local_addr().expect("local addr");
    let bootstrap_admin = app.bootstrap_admin.take();
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    TestApp {
        addr,
        client,

        bootstrap_admin,
        state,
        shutdown: Some(tx),
        handle: Some(handle),
        _file: file,
    }
}
