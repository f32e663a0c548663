//! Shared set-up of the Flink tests: Heimdall watching namespaces as its ServiceAccount,
//! FlinkDeployments and their status, the TCP relay and the SSE reader (the cluster pieces all
//! tests share are in `cluster_support`).

use std::path::PathBuf;
use std::time::Duration;

use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::Value;

use app::flink::FlinkDeployment;

pub use crate::cluster_support::{
    admin_client, delete_namespaces, eventually, fresh_namespace, readyz_becomes, readyz_until,
    service_account_kubeconfig,
};
use crate::helpers::{TestApp, spawn_app_with, test_config};

/// Heimdall watching `namespaces` (comma list) as its ServiceAccount, with `tweak` applied.
pub async fn spawn_watching_with(
    kubeconfig: PathBuf,
    namespaces: &str,
    tweak: impl FnOnce(&mut heimdall::config::Config),
) -> TestApp {
    let (mut config, file) = test_config().await;
    config.kubernetes.enabled = true;
    config.kubernetes.kubeconfig = Some(kubeconfig);
    config.joblocator_k8s_operator.namespace_to_watch = namespaces.to_owned();
    tweak(&mut config);
    spawn_app_with(config, file).await
}

pub async fn spawn_watching(kubeconfig: PathBuf, namespaces: &str) -> TestApp {
    spawn_watching_with(kubeconfig, namespaces, |_| {}).await
}

pub fn deployments(admin: &Client, ns: &str) -> Api<FlinkDeployment> {
    Api::namespaced(admin.clone(), ns)
}

/// Creates a FlinkDeployment from JSON `spec` with `labels`, every field kept (untyped).
pub async fn create_deployment(admin: &Client, ns: &str, name: &str, labels: Value, spec: Value) {
    let object: kube::core::DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": spec,
    }))
    .expect("a FlinkDeployment");
    Api::<kube::core::DynamicObject>::namespaced_with(
        admin.clone(),
        ns,
        &app::flink::api_resource("v1beta1"),
    )
    .create(&PostParams::default(), &object)
    .await
    .expect("create FlinkDeployment");
}

/// An application deployment's spec, as the operator's examples write it.
pub fn application_spec(parallelism: i64) -> Value {
    serde_json::json!({
        "image": "registry.example.com/streaming/orders:1.4",
        "flinkVersion": "v1_17",
        "flinkConfiguration": { "taskmanager.numberOfTaskSlots": "2" },
        "serviceAccount": "flink",
        "jobManager": { "replicas": 1, "resource": { "cpu": 1, "memory": "2048m" } },
        "taskManager": { "replicas": 2, "resource": { "cpu": 2, "memory": "4096m" } },
        "job": { "jarURI": "local:///opt/flink/job.jar", "parallelism": parallelism, "state": "running", "upgradeMode": "savepoint" }
    })
}

/// Writes `status` through the status subresource, as the operator does.
pub async fn set_status(admin: &Client, ns: &str, name: &str, status: Value) {
    deployments(admin, ns)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "status": status })),
        )
        .await
        .expect("patch status");
}

/// `/api/jobs` (or `path`) as JSON.
pub async fn jobs_at(app: &TestApp, path: &str) -> Vec<Value> {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("a JSON array")
}

pub fn find<'a>(jobs: &'a [Value], ns: &str, name: &str) -> Option<&'a Value> {
    jobs.iter().find(|j| j["namespace"] == ns && j["name"] == name)
}

/// A TCP relay in front of the kube-apiserver: stopping it is, for Heimdall, the API server
/// going away (open connections cut, new ones refused); starting it again on the same port is
/// the API server coming back. The real API server keeps serving the other tests meanwhile.
pub struct Relay {
    pub port: u16,
    upstream: std::net::SocketAddr,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    pub async fn start(upstream: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        let relay = Self {
            port,
            upstream,
            tasks: std::sync::Arc::default(),
        };
        relay.serve(listener);
        relay
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (upstream, tasks) = (self.upstream, self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().expect("lock").push(conn);
            }
        });
        self.tasks.lock().expect("lock").push(accept);
    }

    /// Cuts every connection and stops listening.
    pub fn stop(&self) {
        for task in self.tasks.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn restart(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("rebind the relay's port");
        self.serve(listener);
    }

    /// A copy of `kubeconfig` whose server is this relay.
    pub fn kubeconfig(&self, kubeconfig: &std::path::Path, dir: &std::path::Path) -> PathBuf {
        let mut doc: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(kubeconfig).expect("read")).expect("yaml");
        doc["clusters"][0]["cluster"]["server"] =
            serde_yaml::Value::from(format!("https://127.0.0.1:{}", self.port));
        let path = dir.join("relay.kubeconfig");
        std::fs::write(&path, serde_yaml::to_string(&doc).expect("yaml")).expect("write");
        path
    }
}

/// The kube-apiserver's address, from the ServiceAccount kubeconfig.
pub fn api_server_addr() -> std::net::SocketAddr {
    let doc: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(service_account_kubeconfig()).expect("read kubeconfig"),
    )
    .expect("yaml");
    let server = doc["clusters"][0]["cluster"]["server"]
        .as_str()
        .expect("server")
        .to_owned();
    let url = url::Url::parse(&server).expect("server URL");
    let host = url.host_str().expect("host").to_owned();
    format!("{host}:{}", url.port_or_known_default().expect("port"))
        .parse()
        .expect("an IP address and port")
}

/// One Server-Sent Event.
#[derive(Debug)]
pub struct SseEvent {
    pub event: String,
    pub data: Value,
}

/// Reads `/api/jobs/events` as a browser's `EventSource` would.
pub struct SseReader {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl SseReader {
    pub async fn open(client: &reqwest::Client, url: &str) -> Self {
        let response = client
            .get(url)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("open the feed");
        assert_eq!(response.status(), 200, "the feed opens");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Self {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next named event (comments and keep-alives skipped), within 15 s.
    pub async fn next(&mut self) -> SseEvent {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !event.is_empty() {
                    return SseEvent {
                        event,
                        data: serde_json::from_str(&data).expect("JSON data"),
                    };
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .expect("an event within 15 s")
                .expect("the feed stays open")
                .expect("a chunk");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Whether the server ends the stream within `within` (events before the end are skipped).
    pub async fn ends_within(&mut self, within: Duration) -> bool {
        use futures::StreamExt;
        tokio::time::timeout(within, async {
            while let Some(Ok(_)) = self.body.next().await {}
        })
        .await
        .is_ok()
    }

    /// Skips events until one satisfies `wanted`.
    pub async fn until(&mut self, mut wanted: impl FnMut(&SseEvent) -> bool) -> SseEvent {
        loop {
            let event = self.next().await;
            if wanted(&event) {
                return event;
            }
        }
    }
}
