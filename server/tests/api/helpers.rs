//! `spawn_app()`: the real application on port 0 with a fresh database, and a client for it.

use std::net::SocketAddr;

use app::db::testing::{TempDbFile, fresh_database_url};
use app::identity::store::NewUser;
use app::identity::{Role, hash_password};
use heimdall::config::Config;
use heimdall::startup::{Application, BootstrapAdmin};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub addr: SocketAddr,
    /// The CARTA listener's address, when `forward_auth.carta.listen` is set.
    pub carta_addr: Option<SocketAddr>,
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
        call_server_fn(&self.client, &self.url(&format!("/_srv/{name}")), "").await
    }

    /// Signs this app's own client in as the bootstrap admin.
    pub async fn sign_in_as_admin(&self) {
        let admin = self
            .bootstrap_admin
            .as_ref()
            .expect("the bootstrap admin of this start");
        let response = sign_in(
            &self.client,
            &self.url("/auth/cookie/login"),
            &admin.username,
            admin.password.expose_secret(),
        )
        .await;
        assert_eq!(response.status(), 204, "admin sign-in");
    }

    /// A new browser session of the bootstrap admin, as the `name=value` of its cookie.
    pub async fn session_cookie(&self) -> String {
        let admin = self.bootstrap_admin.as_ref().expect("the bootstrap admin");
        let response = sign_in(
            &bare_client(),
            &self.url("/auth/cookie/login"),
            &admin.username,
            admin.password.expose_secret(),
        )
        .await;
        assert_eq!(response.status(), 204, "admin sign-in");
        let set_cookie = response.headers()["set-cookie"].to_str().expect("Set-Cookie");
        set_cookie.split(';').next().expect("name=value").to_owned()
    }

    /// Creates a user with a password straight in the database, optionally in a tenant.
    pub async fn create_user(&self, username: &str, role: Role, tenant: Option<&str>) -> TestUser {
        let password = format!("{username}-password-123");
        let hash = hash_password(SecretString::from(password.clone()))
            .await
            .expect("hash");
        let store = self.state.identity.store();
        let row = store
            .insert_user(&NewUser {
                username: username.to_owned(),
                email: Some(format!("{username}@example.test")),
                display_name: username.to_owned(),
                password_hash: Some(hash),
                role,
            })
            .await
            .expect("insert user");
        if let Some(slug) = tenant {
            let tenant = match store.find_tenant_by_slug(slug).await {
                Ok(t) => t,
                Err(_) => store.insert_tenant(slug, slug).await.expect("tenant"),
            };
            store
                .set_memberships(row.id, &[tenant.id])
                .await
                .expect("membership");
        }
        TestUser {
            id: row.id,
            username: username.to_owned(),
            password,
        }
    }

    /// The audit entries whose action starts with `action`, newest first.
    pub async fn audit_entries(&self, action: &str) -> Vec<app::audit::AuditEntry> {
        self.state
            .audit
            .list(&app::audit::AuditFilter {
                action: action.to_owned(),
                ..Default::default()
            })
            .await
            .expect("audit log")
    }

    /// A fresh client signed in (cookie session) as `user`.
    pub async fn client_for(&self, user: &TestUser) -> reqwest::Client {
        let client = new_client();
        let response = sign_in(
            &client,
            &self.url("/auth/cookie/login"),
            &user.username,
            &user.password,
        )
        .await;
        assert_eq!(response.status(), 204, "sign-in of {}", user.username);
        client
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

/// A user made by `TestApp::create_user`.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub password: String,
}

/// A client that keeps cookies and, like a browser on Heimdall's own pages, says its requests
/// are same-origin (`Sec-Fetch-Site`), which the CSRF guard wants on cookie-authenticated changes.
pub fn new_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .expect("client")
}

/// A client with no cookie jar and no browser headers: curl, a script, or a forged request.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A client that sends `Authorization: Bearer <token>` on every request (an API token, a JWT,
/// the admin token) and nothing else: no cookies, no browser headers.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a header value"),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

pub async fn call_server_fn(client: &reqwest::Client, url: &str, body: &str) -> reqwest::Response {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

pub async fn sign_in(
    client: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(url)
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .expect("request")
}

/// A configuration for tests: a fresh database, port 0, no cluster unless a test adds one.
pub async fn test_config() -> (Config, TempDbFile) {
    let (url, file) = fresh_database_url().await;
    let mut config = Config::default();
    config.database.url = url;
    config.server.port = 0;
    config.kubernetes.enabled = false;
    config.server.shutdown_timeout_secs = 5;
    install_tracing();
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
    let carta_addr = app.carta_addr();
    let bootstrap_admin = app.bootstrap_admin.take();
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let client = new_client();
    TestApp {
        addr,
        carta_addr,
        client,

        bootstrap_admin,
        state,
        shutdown: Some(tx),
        handle: Some(handle),
        _file: file,
    }
}

/// This test process's tracing, once: the statement counter (`statements.rs`) always, and —
/// under the test command — the logs at debug level in a file it greps for secrets.
fn install_tracing() {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let logs = std::env::var("HEIMDALL_TEST_LOG_DIR").ok().map(|dir| {
            let path = std::path::Path::new(&dir).join(format!("rust-tests-{}.log", std::process::id()));
            let Ok(file) = std::fs::File::create(&path) else {
                panic!("cannot write {}", path.display());
            };
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                // `cookie_store` is the test client's own cookie jar (Heimdall's HTTP client keeps
                // none); it logs the cookies it stores, which are the tests' to hold, not the server's.
                .with_filter(tracing_subscriber::EnvFilter::new(
                    "debug,hyper=info,h2=info,rustls=info,tower=info,cookie_store=off",
                ))
        });
        let _ = tracing_subscriber::registry()
            .with(logs)
            .with(crate::statements::StatementCounter)
            .try_init();
    });
}

/// Sends `body` (as JSON, when given) and returns the status and the JSON answer (`null` when
/// the answer is not JSON): what the REST tests of every seed's API do.
pub async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}
